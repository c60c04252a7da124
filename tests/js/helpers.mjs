// Shared helpers for the Node tests of the npm package.
import assert from "node:assert/strict";

/** The package, loaded through its Node entry point (what `import "edgellm"` resolves to in Node). */
export const sdk = await import("../../pkg/node.js");

/**
 * The wasm-bindgen module itself (pkg/web/edgellm.js), instantiated: its raw exports (Router,
 * callbacks, logging, cost helpers) under the package's JS layer. pkg/node.js is a bundle with
 * its own copy of this glue, so this is a second, independent instance: state set here (env,
 * callbacks) does not reach `sdk`.
 */
export async function rawWasm() {
  const wasm = await import("../../pkg/web/edgellm.js");
  const { readFileSync } = await import("node:fs");
  wasm.initSync({ module: readFileSync(new URL("../../pkg/web/edgellm_bg.wasm", import.meta.url)) });
  return wasm;
}

/** Environment variable names a provider might read; cleared around each test. */
const PROVIDER_VAR = /(_API_KEY|_KEY|_TOKEN|_API_BASE|_BASE_URL|_BASE|_API_VERSION|_ENDPOINT|_REGION|_REGION_NAME|_PROJECT|_LOCATION|_CREDENTIALS)$|^(AWS|VERTEX|GOOGLE|AZURE)_/;

/**
 * Runs `fn` with `process.env` holding only `vars` among provider variables, and with
 * `Date.now()` frozen at `nowMs` if given; restores both afterwards.
 */
export async function withEnv(vars, fn, { nowMs } = {}) {
  const saved = { ...process.env };
  const realNow = Date.now;
  for (const k of Object.keys(process.env)) if (PROVIDER_VAR.test(k)) delete process.env[k];
  Object.assign(process.env, vars ?? {});
  if (nowMs !== undefined) Date.now = () => nowMs;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** Reads a stream to the end with `for await`; returns the chunks and the error it ended with. */
export async function collect(stream) {
  const chunks = [];
  try {
    for await (const c of stream) chunks.push(c);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}

/** Without `_hidden_params` (which the fixtures do not hold). */
export function withoutHidden(resp) {
  const { _hidden_params, ...rest } = resp;
  return rest;
}

/**
 * Asserts a recorded mock request against a fixture's `upstream_request.json`: method, URL,
 * every listed header exactly, and the body as JSON (or text).
 */
export function assertUpstreamRequest(record, want, label = "") {
  assert.ok(record, `${label}: no upstream request was received`);
  if (want.method) assert.equal(record.method, want.method, `${label}: method`);
  assert.equal(record.url, want.url, `${label}: url`);
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    assert.equal(record.headers[name.toLowerCase()], value, `${label}: header ${name}`);
  }
  if (want.body === undefined) return;
  if (typeof want.body === "string" && record.json === undefined) {
    assert.equal(record.body, want.body, `${label}: body`);
  } else {
    assert.deepEqual(record.json, want.body, `${label}: body`);
  }
}

/** Asserts an error against a fixture's `expected.json` `error` object. */
export function assertError(error, want, label = "") {
  assert.ok(error, `${label}: expected ${want.class ?? want.kind}, but the call succeeded`);
  assert.ok(error instanceof sdk.APIError, `${label}: not an APIError: ${error?.stack ?? error}`);
  for (const [k, v] of Object.entries(want)) {
    switch (k) {
      case "class":
        assert.equal(error.name, v, `${label}: class`);
        assert.ok(error instanceof sdk.ERROR_CLASSES[v], `${label}: instanceof ${v}`);
        break;
      case "status":
        assert.equal(error.status, v, `${label}: status`);
        break;
      case "code":
        assert.equal(error.code, v, `${label}: code`);
        break;
      case "param":
        assert.equal(error.param, v, `${label}: param`);
        break;
      case "retry_after_ms":
        assert.equal(error.retryAfterMs, v, `${label}: retryAfterMs`);
        break;
      case "provider":
        assert.equal(error.llm_provider, v, `${label}: llm_provider`);
        break;
      case "message_contains":
        assert.ok(error.message.includes(v), `${label}: message ${JSON.stringify(error.message)} lacks ${JSON.stringify(v)}`);
        break;
      case "kind":
        // The Rust kind maps to `class`, which is checked above when present.
        break;
      default:
        assert.fail(`${label}: unknown key ${k} in expected error`);
    }
  }
}

/** The one-message chat the SDK tests send. */
export const chatMessages = [{ role: "user", content: "Hello" }];

/** A plain OpenAI `chat.completion` answer for the mock upstream to return. */
export const okChatBody = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-4o-2024-08-06",
  choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
};

/** `completion()` params for `openai/gpt-4o` at the mock upstream `url`, plus `extra`. */
export function openaiParams(url, extra = {}) {
  return {
    model: "openai/gpt-4o",
    messages: chatMessages,
    api_key: "sk-test-1",
    api_base: `${url}/v1`,
    ...extra,
  };
}
