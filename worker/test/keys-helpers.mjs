// Shared set-up for the virtual-key tests: the built Worker in workerd through Miniflare with
// Workers KV (EDGELLM_KV) and the counter Durable Objects (EDGELLM_COUNTERS → SpendCounter),
// in front of a local upstream whose usage is chosen per request, so that every request's
// exact cost is known to the test.
import { Miniflare } from "miniflare";
import OpenAI from "openai";
import { ENTRY, MASTER_KEY, startMockServer } from "./helpers.mjs";

export { MASTER_KEY };

/** Test prices in pico-dollars per token: $0.000001 in, $0.000002 out. */
export const PRICE_IN = 1_000_000n;
export const PRICE_OUT = 2_000_000n;

/** The exact cost of a call with this usage, in pico-dollars. */
export const pico = (p, c) => BigInt(p) * PRICE_IN + BigInt(c) * PRICE_OUT;

/** Pico-dollars from an exact decimal string such as "0.000012000000". */
export function picoOf(exact) {
  const [int, frac = ""] = exact.split(".");
  return BigInt(int) * 10n ** 12n + BigInt((frac + "000000000000").slice(0, 12));
}

/** A prompt that makes the upstream report `p` prompt and `c` completion tokens. */
export const usagePrompt = (p, c) => [{ role: "user", content: `usage ${p} ${c}` }];

function usageOf(json) {
  const text = json?.messages?.at(-1)?.content ?? "";
  const m = /usage (\d+) (\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : [5, 5];
}

function completion([p, c]) {
  return {
    id: "chatcmpl-up",
    object: "chat.completion",
    created: 1700000000,
    model: "gpt-4o-2024-08-06",
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c },
  };
}

function stream([p, c]) {
  const chunk = (delta, finish = null) =>
    `data: ${JSON.stringify({ id: "s", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o",
      choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return (
    chunk({ role: "assistant", content: "" }) +
    ["str", "eam", "ed"].map((t) => chunk({ content: t })).join("") +
    chunk({}, "stop") +
    `data: ${JSON.stringify({ id: "s", object: "chat.completion.chunk", created: 1700000000, model: "gpt-4o", choices: [],
      usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } })}\n\n` +
    "data: [DONE]\n\n"
  );
}

/**
 * Starts the upstream mock and the gateway with virtual keys on.
 * Models: `gpt` and `other` (priced at PRICE_IN/PRICE_OUT), `slow` (answers after 300 ms).
 * `generalSettings` adds entries to `general_settings` (YAML flow text, e.g. `alerting: [slack]`),
 * `extraConfig` adds top-level YAML, `vars` adds Worker vars/secrets.
 */
export async function startKeysGateway({ generalSettings = "", extraConfig = "", vars = {} } = {}) {
  const answer = (r) =>
    r.json?.stream
      ? { headers: { "content-type": "text/event-stream" }, stream: stream(usageOf(r.json)), chunkSize: 64 }
      : { body: completion(usageOf(r.json)) };
  const mock = await startMockServer({
    routes: {
      "POST /v1/chat/completions": answer,
      "POST /slow/v1/chat/completions": (r) => ({ ...answer(r), delayMs: 300 }),
    },
  });
  const deployment = (name, model, base) =>
    `  - model_name: ${name}\n    litellm_params: {model: ${model}, api_base: "${base}", api_key: sk-upstream-test,` +
    ` input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}\n`;
  const config =
    "model_list:\n" +
    deployment("gpt", "openai/gpt-4o", `${mock.url}/v1`) +
    deployment("other", "openai/gpt-4o-mini", `${mock.url}/v1`) +
    deployment("slow", "openai/gpt-4o", `${mock.url}/slow/v1`) +
    "router_settings: {num_retries: 0}\n" +
    `general_settings: {master_key: os.environ/MASTER${generalSettings ? `, ${generalSettings}` : ""}}\n` +
    extraConfig;
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
    durableObjects: { EDGELLM_COUNTERS: "SpendCounter" },
    bindings: { ...vars, EDGELLM_CONFIG: config, MASTER: MASTER_KEY },
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).href.replace(/\/$/, "");

  /** Calls a management route with the master key; returns [status, json]. */
  async function admin(method, path, body, key = MASTER_KEY) {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return [res.status, await res.json()];
  }

  return {
    mf,
    mock,
    url,
    admin,
    /** A new key; returns the plaintext key. */
    async generate(body = {}) {
      const [status, j] = await admin("POST", "/key/generate", body);
      if (status !== 200) throw new Error(`generate: ${status} ${JSON.stringify(j)}`);
      return j.key;
    },
    /** `/key/info`'s `info` for a key. */
    async info(key) {
      const [status, j] = await admin("GET", `/key/info?key=${encodeURIComponent(key)}`);
      if (status !== 200) throw new Error(`info: ${status} ${JSON.stringify(j)}`);
      return j.info;
    },
    /** The official OpenAI client with `key` (no client-side retries). */
    client: (key, opts = {}) => new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0, timeout: 30_000, ...opts }),
    close: async () => {
      await mf.dispose();
      await mock.close();
    },
  };
}
