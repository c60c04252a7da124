// Shared set-up for the gateway's node:test files: the built Worker (scripts/build-worker.sh)
// in workerd through Miniflare, on a real socket on 127.0.0.1, configured per test file with the
// EDGELLM_CONFIG var, in front of the local provider mock (tests/mock/server.mjs).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import OpenAI from "openai";

export { startMockServer } from "../../tests/mock/server.mjs";

const WORKER_DIR = fileURLToPath(new URL("..", import.meta.url));
export const ENTRY = path.join(WORKER_DIR, "js", "entry.mjs");
export const MASTER_KEY = "sk-master-test-1234";
export const UPSTREAM_KEY = "sk-upstream-secret-5678";

if (!fs.existsSync(path.join(WORKER_DIR, "build", "edgellm_worker_bg.wasm"))) {
  throw new Error("worker/build is missing: run `bash scripts/build-worker.sh` first");
}

/**
 * Starts the gateway. `config` is YAML/JSON text for EDGELLM_CONFIG (omit it to use the
 * bundled default config); `vars` become Worker vars/secrets.
 * @returns {Promise<{ mf: Miniflare, url: string, client: (opts?) => OpenAI, close: () => Promise<void> }>}
 */
export async function startGateway({ config, vars = {} } = {}) {
  const bindings = { ...vars };
  if (config !== undefined) bindings.EDGELLM_CONFIG = config;
  const mf = new Miniflare({
    modules: true,
    scriptPath: ENTRY,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    compatibilityFlags: ["enable_request_signal"], // as worker/wrangler.toml
    kvNamespaces: ["EDGELLM_KV"],
    bindings,
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  return {
    mf,
    url,
    /** An official OpenAI client pointed at the gateway (no client-side retries). */
    client: (opts = {}) =>
      new OpenAI({ baseURL: `${url}/v1`, apiKey: MASTER_KEY, maxRetries: 0, timeout: 20_000, ...opts }),
    close: () => mf.dispose(),
  };
}

/** A chat.completion body as an OpenAI-compatible upstream returns it. */
export function completionBody(content, model = "gpt-4o-2024-08-06", usage = [9, 3]) {
  return {
    id: "chatcmpl-upstream-1",
    object: "chat.completion",
    created: 1700000000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: usage[0], completion_tokens: usage[1], total_tokens: usage[0] + usage[1] },
  };
}

/** An OpenAI SSE stream of `pieces` (text deltas), with usage and [DONE]. */
export function sseBody(pieces, model = "gpt-4o-2024-08-06") {
  const chunk = (delta, finish = null) =>
    `data: ${JSON.stringify({
      id: "chatcmpl-s1",
      object: "chat.completion.chunk",
      created: 1700000000,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  return (
    chunk({ role: "assistant", content: "" }) +
    pieces.map((p) => chunk({ content: p })).join("") +
    chunk({}, "stop") +
    `data: ${JSON.stringify({ id: "chatcmpl-s1", object: "chat.completion.chunk", created: 1700000000, model, choices: [], usage: { prompt_tokens: 5, completion_tokens: pieces.length, total_tokens: 5 + pieces.length } })}\n\n` +
    "data: [DONE]\n\n"
  );
}

export const user = (content) => [{ role: "user", content }];

/**
 * POSTs `pieces` (strings) to `url` as a streamed body, so the request has no content-length and
 * the gateway must read it to learn its size. Authorized with the master key.
 */
export function postChunked(url, pieces) {
  return fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}` },
    body: new ReadableStream({
      start(c) {
        for (const p of pieces) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    }),
    duplex: "half",
  });
}
