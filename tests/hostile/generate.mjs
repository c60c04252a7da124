// The hostile-input corpus for the gateway: malformed and hostile requests, each with the answer
// the gateway must give. Deterministic (the random mutations come from a seeded PRNG), so the
// corpus file is reproducible:
//
//   node tests/hostile/generate.mjs          # rewrites tests/hostile/corpus.jsonl
//   node tests/hostile/generate.mjs --check  # exits 1 if corpus.jsonl is not what this generates
//
// worker/test/hostile.test.mjs replays every case against the built Worker (workerd through
// Miniflare) and checks that the file is up to date. The case format is in README.md here.
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export const CORPUS_FILE = fileURLToPath(new URL("corpus.jsonl", import.meta.url));
export const SEED = 0x5eed_1515;

/** The body cap of the gateway config the replay uses (`general_settings.max_request_size_mb: 1`). */
export const LIMIT = 1024 * 1024;

// ---- body parts ------------------------------------------------------------------------------
const text = (t) => ({ text: t });
const b64 = (bytes) => ({ b64: Buffer.from(bytes).toString("base64") });
const rep = (unit, times) => ({ repeat: unit, times });
const json = (v) => [text(JSON.stringify(v))];

/** mulberry32: small, seeded, the same on every machine. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- routes ----------------------------------------------------------------------------------
const msgs = [{ role: "user", content: "hi" }];

/** OpenAI routes: a body that is valid except for what a case changes. */
const OPENAI = [
  { id: "chat", path: "/v1/chat/completions", valid: { model: "ok", messages: msgs } },
  { id: "chat-no-v1", path: "/chat/completions", valid: { model: "ok", messages: msgs } },
  { id: "azure-chat", path: "/openai/deployments/ok/chat/completions", valid: { messages: msgs } },
  { id: "completions", path: "/v1/completions", valid: { model: "ok", prompt: "hi" } },
  { id: "embeddings", path: "/v1/embeddings", valid: { model: "emb", input: "hi" } },
  { id: "engines-embeddings", path: "/engines/emb/embeddings", valid: { input: "hi" } },
  { id: "images", path: "/v1/images/generations", valid: { model: "img", prompt: "a fox" } },
  { id: "moderations", path: "/v1/moderations", valid: { model: "mod", input: "hi" } },
  { id: "rerank", path: "/v1/rerank", valid: { model: "rr", query: "q", documents: ["a", "b"] } },
];

/** Management routes that take a JSON body (virtual keys on: KV and Durable Objects bound). */
const MGMT_POST = ["/key/generate", "/key/update", "/key/delete", "/key/block", "/key/unblock", "/user/new", "/team/new"];

// Without a key every protected route answers 401 before it reads the body.
const NOAUTH = { status: 401, type: "authentication_error" };
const NOAUTH_MGMT = { status: 401 };
// A key that is neither the master key nor a virtual key (`keys/gate.rs` looks it up in KV).
const WRONGKEY = { status: 401 };
// A valid virtual key (no model restrictions): OpenAI routes answer as with the master key;
// management routes are the master key's only (LiteLLM's 401).
const VIRTUAL_MGMT = { status: 401 };

// ---- malformed bodies that fail on every POST route ------------------------------------------
const u8 = (...xs) => Uint8Array.from(xs);
const utf16le = (s) => Buffer.from("\ufeff" + s, "utf16le");

/** [id, what it checks, body parts, extra headers, openai expectation, management expectation]. */
function malformedBodies() {
  const bad = { status: 400, code: "invalid_json" };
  const notObject = { status: 400, message: "JSON object" };
  const mBad = { status: 400, message: "JSON object" };
  const tooLarge = { status: 413, code: "request_too_large" };
  const deepArr = (n) => [text('{"model":"ok","messages":'), rep("[", n), rep("]", n), text("}")];
  return [
    ["not-json", "text that is not JSON", [text("{oops")], {}, bad, mBad],
    ["truncated", "JSON cut off mid-object", [text('{"model": "ok", "messages": [{"role": "user", "cont')], {}, bad, mBad],
    ["trailing-garbage", "a JSON object followed by garbage", [text('{"model": "ok"} trailing')], {}, bad, mBad],
    ["two-objects", "two concatenated JSON objects", [text("{}{}")], {}, bad, mBad],
    ["single-quotes", "JSON5/Python-style single quotes", [text("{'model': 'ok'}")], {}, bad, mBad],
    ["comment", "a /* comment */ inside JSON", [text('{/* c */ "model": "ok"}')], {}, bad, mBad],
    ["nan", "NaN, which JSON does not have", [text('{"model": "ok", "temperature": NaN}')], {}, bad, mBad],
    ["infinity-number", "a number too large for a double (1e999999)", [text('{"model": "ok", "temperature": 1e999999}')], {}, bad, mBad],
    ["huge-integer", "a 400-digit integer", [text('{"model": "ok", "n": 1'), rep("0", 400), text("}")], {}, bad, mBad],
    ["top-array", "a JSON array instead of an object", [text('[{"model": "ok"}]')], {}, notObject, mBad],
    ["top-string", "a JSON string instead of an object", [text('"hello"')], {}, notObject, mBad],
    ["top-number", "a JSON number instead of an object", [text("42")], {}, notObject, mBad],
    ["top-null", "JSON null instead of an object", [text("null")], {}, notObject, mBad],
    ["top-true", "JSON true instead of an object", [text("true")], {}, notObject, mBad],
    ["utf8-invalid-in-string", "a 0xFF byte inside a JSON string (invalid UTF-8)", [text('{"model": "ok'), b64(u8(0xff)), text('"}')], {}, bad, mBad],
    ["utf8-overlong", "an overlong UTF-8 encoding of '/' (C0 AF)", [text('{"model": "'), b64(u8(0xc0, 0xaf)), text('"}')], {}, bad, mBad],
    ["utf8-truncated-sequence", "a UTF-8 sequence cut short (E2 82) before the closing quote", [text('{"model": "'), b64(u8(0xe2, 0x82)), text('"}')], {}, bad, mBad],
    ["utf8-encoded-surrogate", "a surrogate encoded as UTF-8 (ED A0 80), which is invalid", [text('{"model": "'), b64(u8(0xed, 0xa0, 0x80)), text('"}')], {}, bad, mBad],
    ["binary-garbage", "binary bytes before the JSON", [b64(u8(0xff, 0xfe, 0x00, 0x01)), text('{"model": "ok"}')], {}, bad, mBad],
    ["utf16-body", "a UTF-16LE body with a BOM", [b64(utf16le('{"model": "ok"}'))], { "content-type": "application/json; charset=utf-16" }, bad, mBad],
    ["utf8-bom", "a UTF-8 byte-order mark before the JSON", [b64(u8(0xef, 0xbb, 0xbf)), text('{"model": "ok"}')], {}, bad, mBad],
    ["lone-surrogate-escape", "a lone \\ud800 escape in a string", [text('{"model": "ok\\ud800"}')], {}, bad, mBad],
    ["raw-nul-in-string", "a raw NUL byte inside a string", [text('{"model": "o'), b64(u8(0)), text('k"}')], {}, bad, mBad],
    ["raw-newline-in-string", "a raw newline inside a string", [text('{"model": "o\nk"}')], {}, bad, mBad],
    ["deep-array-nesting", "100 000 nested arrays in a field (serde_json's depth limit)", deepArr(100_000), {}, bad, mBad],
    ["deep-object-nesting", "20 000 nested objects at the top", [rep('{"a":', 20_000), text("1"), rep("}", 20_000)], {}, bad, mBad],
    ["deep-open-only", "300 000 '[' and nothing else", [rep("[", 300_000)], {}, bad, mBad],
    ["form-urlencoded", "a form-encoded body (curl -d without a JSON content type)", [text("model=ok&messages=hi")], { "content-type": "application/x-www-form-urlencoded" }, bad, mBad],
    ["xml", "an XML body", [text('<?xml version="1.0"?><model>ok</model>')], { "content-type": "application/xml" }, bad, mBad],
    ["multipart", "a multipart/form-data body", [text('--x\r\ncontent-disposition: form-data; name="model"\r\n\r\nok\r\n--x--\r\n')], { "content-type": "multipart/form-data; boundary=x" }, bad, mBad],
    ["gzip-garbage", "content-encoding: gzip on a body that is not gzip", [text('{"model": "ok"')], { "content-encoding": "gzip" }, bad, mBad],
    ["oversized", `a ${LIMIT + 200_000}-byte body with content-length (over max_request_size_mb)`, [text('{"model": "ok", "x": "'), rep("x", LIMIT + 200_000), text('"}')], {}, tooLarge, tooLarge],
    ["oversized-chunked", "a chunked body over the limit, without content-length", [text('{"model": "ok", "x": "'), rep("y", LIMIT + 200_000), text('"}')], { "$chunked": "65536" }, tooLarge, tooLarge],
  ];
}

// ---- per-route field errors (the JSON is fine, a field is wrong) -----------------------------
/** [id, what, body (merged over the route's valid body; null deletes), expectation]. */
const E = (param, extra = {}) => ({ status: 400, param, ...extra });
const BR = (extra = {}) => ({ status: 400, ...extra });

const SPECIFIC = {
  chat: [
    ["model-missing", "no model", { model: null, $delete: ["model"] }, E("model")],
    ["model-null", "model: null", { model: null }, BR({ message: "model" })],
    ["model-number", "model: 42", { model: 42 }, E("model")],
    ["model-empty", "model: ''", { model: "" }, E("model")],
    ["model-blank", "model of spaces", { model: "   " }, E("model")],
    ["model-array", "model: ['ok']", { model: ["ok"] }, E("model")],
    ["model-object", "model: {}", { model: {} }, E("model")],
    ["model-unknown", "a model name the config does not have", { model: "nope" }, BR({ message: "Invalid model name" })],
    ["model-crlf-injection", "a model name carrying CRLF and a header line", { model: "ok\r\nx-injected: 1" }, BR({ message: "Invalid model name", noHeader: "x-injected" })],
    ["model-huge", "a 300 000-character model name", { $parts: [text('{"model": "'), rep("m", 300_000), text('", "messages": [{"role": "user", "content": "hi"}]}')] }, BR({ message: "Invalid model name" })],
    ["model-path-traversal", "a model name with ../", { model: "../../etc/passwd" }, BR({ message: "Invalid model name" })],
    ["model-nul", "a model name with an escaped NUL", { model: "ok\u0000" }, BR({ message: "Invalid model name" })],
    ["model-provider-prefix", "a provider/model string not in the config (no client-chosen upstreams)", { model: "openai/gpt-4o" }, BR({ message: "Invalid model name" })],
    ["messages-missing", "no messages", { $delete: ["messages"] }, E("messages")],
    ["messages-string", "messages: 'hi'", { messages: "hi" }, E("messages")],
    ["messages-object", "messages: {}", { messages: {} }, E("messages")],
    ["messages-empty", "messages: []", { messages: [] }, E("messages")],
    ["messages-null-item", "messages: [null]", { messages: [null] }, BR()],
    ["messages-number-item", "messages: [1]", { messages: [1] }, BR()],
    ["role-unknown", "an unknown role ('hacker')", { messages: [{ role: "hacker", content: "x" }] }, BR({ message: "hacker" })],
    ["role-uppercase", "role 'USER' (roles are lowercase)", { messages: [{ role: "USER", content: "x" }] }, BR()],
    ["role-missing", "a message without a role", { messages: [{ content: "x" }] }, BR({ message: "role" })],
    ["role-number", "role: 7", { messages: [{ role: 7, content: "x" }] }, BR()],
    ["content-number", "content: 42", { messages: [{ role: "user", content: 42 }] }, BR()],
    ["content-object", "content: {}", { messages: [{ role: "user", content: {} }] }, BR()],
    ["content-part-not-object", "a content part that is a number", { messages: [{ role: "user", content: [5] }] }, BR()],
    ["temperature-string", "temperature: 'hot'", { temperature: "hot" }, BR()],
    ["temperature-array", "temperature: []", { temperature: [] }, BR()],
    ["n-negative", "n: -1", { n: -1 }, BR()],
    ["n-fraction", "n: 1.5", { n: 1.5 }, BR()],
    ["n-too-big", "n: 1e10 (over u32)", { n: 1e10 }, BR()],
    ["max-tokens-negative", "max_tokens: -5", { max_tokens: -5 }, BR()],
    ["max-tokens-string", "max_tokens: '10'", { max_tokens: "10" }, BR()],
    ["stream-string", "stream: 'yes'", { stream: "yes" }, BR()],
    ["stream-number", "stream: 1", { stream: 1 }, BR()],
    ["stream-options-string", "stream_options: 'x'", { stream_options: "x" }, BR()],
    ["stop-number", "stop: 42", { stop: 42 }, BR()],
    ["stop-number-list", "stop: [1, 2]", { stop: [1, 2] }, BR()],
    ["tools-string", "tools: 'x'", { tools: "x" }, BR()],
    ["tools-empty-object", "tools: [{}]", { tools: [{}] }, BR()],
    ["tool-choice-number", "tool_choice: 42", { tool_choice: 42 }, BR()],
    ["response-format-string", "response_format: 'json'", { response_format: "json" }, BR()],
    ["logit-bias-array", "logit_bias: []", { logit_bias: [] }, BR()],
    ["seed-string", "seed: 'x'", { seed: "x" }, BR()],
    ["top-p-string", "top_p: 'x'", { top_p: "x" }, BR()],
    ["user-number", "user: 42", { user: 42 }, BR()],
    ["logprobs-string", "logprobs: 'true'", { logprobs: "true" }, BR()],
    ["duplicate-model-key", "a duplicate model key whose last value is a number", { $raw: '{"model": "ok", "messages": [{"role": "user", "content": "hi"}], "model": 42}' }, E("model")],
    ["api-base-injection", "api_base in the body (SSRF: the gateway's key sent to the client's server)", { api_base: "http://127.0.0.1:1/v1" }, E("api_base")],
    ["base-url-injection", "base_url in the body", { base_url: "http://127.0.0.1:1/v1" }, E("base_url")],
    ["user-config-injection", "user_config in the body", { user_config: { model_list: [] } }, E("user_config")],
    ["timeout-string", "the LiteLLM option timeout: 'soon'", { timeout: "soon" }, BR()],
    ["num-retries-negative", "the LiteLLM option num_retries: -1", { num_retries: -1 }, BR()],
    ["extra-headers-crlf", "extra_headers with a CRLF in a value (header injection upstream)", { extra_headers: { "x-evil": "a\r\nx-injected: 1" } }, BR({ message: "header" })],
    ["extra-headers-bad-name", "extra_headers with a space in a header name", { extra_headers: { "bad name": "x" } }, BR({ message: "header" })],
    ["extra-headers-non-latin1", "extra_headers with an emoji value (not a byte string)", { extra_headers: { "x-e": "\u{1F600}" } }, BR({ message: "header" })],
    ["extra-headers-nul", "extra_headers with a NUL in a value", { extra_headers: { "x-n": "a\u0000b" } }, BR({ message: "header" })],
    ["headers-crlf", "the LiteLLM option headers with a CRLF in a value", { headers: { "x-evil": "a\r\nb" } }, BR({ message: "header" })],
    ["extra-headers-string", "extra_headers: 'x' (must be an object)", { extra_headers: "x" }, BR()],
    // Pricing is the config's: a client-set price would make its calls free for spend tracking.
    ["price-input-zero", "input_cost_per_token: 0 (a client pricing its own call)", { input_cost_per_token: 0 }, E("input_cost_per_token")],
    ["price-output-negative", "output_cost_per_token: -1", { output_cost_per_token: -1 }, E("output_cost_per_token")],
    ["price-per-second", "input_cost_per_second: 0", { input_cost_per_second: 0 }, E("input_cost_per_second")],
    ["price-base-model", "base_model: a cheaper model's price-table row", { base_model: "gpt-4o-mini" }, E("base_model")],
    // Another provider's wire format for the deployment's credentials, and mocked errors: both
    // fail the deployment and would cool it down for every user.
    ["custom-llm-provider", "custom_llm_provider: anthropic for an OpenAI deployment", { custom_llm_provider: "anthropic" }, E("custom_llm_provider")],
    ["mock-error-rate-limit", "mock_response: 'litellm.RateLimitError' (a client-raised deployment failure)", { mock_response: "litellm.RateLimitError" }, E("mock_response")],
    ["mock-error-internal", "mock_response: 'InternalServerError'", { mock_response: "InternalServerError" }, E("mock_response")],
    ["mock-response-number", "mock_response: 42", { mock_response: 42 }, E("mock_response")],
    ["timeout-negative", "the LiteLLM option timeout: -1", { timeout: -1 }, BR()],
    ["stream-role-unknown", "stream: true with an unknown role: a 400 JSON error, not a 200 event stream", { stream: true, messages: [{ role: "hacker", content: "x" }] }, BR({ message: "hacker" })],
    ["stream-temperature-string", "stream: true with temperature: 'hot'", { stream: true, temperature: "hot" }, BR()],
    ["stream-model-unknown", "stream: true with an unknown model", { stream: true, model: "nope" }, BR({ message: "Invalid model name" })],
    ["stream-options-without-stream", "stream_options: {include_usage: 'yes'}", { stream: true, stream_options: { include_usage: "yes" } }, BR()],
  ],
  completions: [
    ["model-missing", "no model", { $delete: ["model"] }, E("model")],
    ["model-number", "model: 42", { model: 42 }, E("model")],
    ["model-unknown", "a model name the config does not have", { model: "nope" }, BR({ message: "Invalid model name" })],
    ["prompt-missing", "no prompt", { $delete: ["prompt"] }, E("prompt")],
    ["prompt-number", "prompt: 42", { prompt: 42 }, E("prompt")],
    ["prompt-empty-array", "prompt: []", { prompt: [] }, E("prompt")],
    ["prompt-mixed-array", "prompt: ['a', 1]", { prompt: ["a", 1] }, E("prompt")],
    ["prompt-float-tokens", "prompt: [1.5]", { prompt: [1.5] }, E("prompt")],
    ["prompt-object", "prompt: {}", { prompt: {} }, E("prompt")],
    ["n-zero", "n: 0", { n: 0 }, E("n")],
    // With a budgeted virtual key the worst-case cost of 1000 choices is refused first (400).
    ["n-huge", "n: 1000", { n: 1000, $virtual: { status: 400, message: "budget" } }, E("n")],
    ["logprobs-too-many", "logprobs: 10", { logprobs: 10 }, E("logprobs")],
    ["max-tokens-string", "max_tokens: 'x'", { max_tokens: "x" }, BR()],
    ["api-base-injection", "api_base in the body", { api_base: "http://127.0.0.1:1" }, E("api_base")],
    ["stream-prompt-missing", "stream: true without a prompt: a 400 JSON error, not a 200 event stream", { stream: true, $delete: ["prompt"] }, E("prompt")],
    ["stream-n-zero", "stream: true with n: 0", { stream: true, n: 0 }, E("n")],
  ],
  embeddings: [
    ["model-missing", "no model", { $delete: ["model"] }, E("model")],
    ["model-unknown", "a model name the config does not have", { model: "nope" }, BR({ message: "Invalid model name" })],
    ["input-missing", "no input", { $delete: ["input"] }, E("input")],
    ["input-empty-string", "input: ''", { input: "" }, E("input")],
    ["input-empty-array", "input: []", { input: [] }, E("input")],
    ["input-number", "input: 42", { input: 42 }, E("input")],
    ["input-null-items", "input: [null]", { input: [null] }, E("input")],
    ["input-nested-mixed", "input: [[1, 'a']]", { input: [[1, "a"]] }, E("input")],
    ["input-negative-token", "input: [-1]", { input: [-1] }, E("input")],
    ["encoding-format-unknown", "encoding_format: 'hex'", { encoding_format: "hex" }, E("encoding_format")],
    ["dimensions-zero", "dimensions: 0", { dimensions: 0 }, E("dimensions")],
    ["dimensions-huge", "dimensions: 1e9", { dimensions: 1e9 }, E("dimensions")],
    ["dimensions-string", "dimensions: 'x'", { dimensions: "x" }, E("dimensions")],
    ["price-input-zero", "input_cost_per_token: 0 (a client pricing its own call)", { input_cost_per_token: 0 }, E("input_cost_per_token")],
  ],
  images: [
    ["model-default-unconfigured", "no model: OpenAI's default dall-e-2, which the config does not have", { $delete: ["model"] }, BR({ message: "Invalid model name" })],
    ["model-number", "model: 42", { model: 42 }, E("model")],
    ["prompt-missing", "no prompt", { $delete: ["prompt"] }, E("prompt")],
    ["prompt-empty", "prompt: ''", { prompt: "" }, E("prompt")],
    ["prompt-number", "prompt: 42", { prompt: 42 }, E("prompt")],
    ["n-zero", "n: 0", { n: 0 }, E("n")],
    ["n-too-many", "n: 11", { n: 11 }, E("n")],
    ["response-format-unknown", "response_format: 'gif'", { response_format: "gif" }, E("response_format")],
    ["size-number", "size: 1024", { size: 1024 }, E("size")],
  ],
  moderations: [
    ["model-unknown", "a model name the config does not have", { model: "nope" }, BR({ message: "Invalid model name" })],
    ["input-missing", "no input", { $delete: ["input"] }, E("input")],
    ["input-empty-string", "input: ''", { input: "" }, E("input")],
    ["input-empty-array", "input: []", { input: [] }, E("input")],
    ["input-number", "input: 42", { input: 42 }, E("input")],
    ["model-number", "model: 42", { model: 42 }, E("model")],
  ],
  rerank: [
    ["model-missing", "no model", { $delete: ["model"] }, E("model")],
    ["model-unknown", "a model name the config does not have", { model: "nope" }, BR({ message: "Invalid model name" })],
    ["query-missing", "no query", { $delete: ["query"] }, E("query")],
    ["query-empty", "query: ''", { query: "" }, E("query")],
    ["documents-missing", "no documents", { $delete: ["documents"] }, E("documents")],
    ["documents-empty", "documents: []", { documents: [] }, E("documents")],
    ["documents-numbers", "documents: [1, 2]", { documents: [1, 2] }, E("documents")],
    ["documents-string", "documents: 'a'", { documents: "a" }, E("documents")],
    ["top-n-zero", "top_n: 0", { top_n: 0 }, E("top_n")],
    ["top-n-string", "top_n: 'x'", { top_n: "x" }, E("top_n")],
  ],
  "azure-chat": [
    ["path-model-unknown", "a deployment name in the path the config does not have", { $path: "/openai/deployments/nope/chat/completions" }, BR({ message: "Invalid model name" })],
    ["path-model-crlf", "a %0D%0A header line in the path's deployment name", { $path: "/openai/deployments/ok%0D%0Ax-injected:%201/chat/completions" }, BR({ message: "Invalid model name", noHeader: "x-injected" })],
    ["path-model-invalid-utf8", "%FF%FE as the deployment name", { $path: "/openai/deployments/%FF%FE/chat/completions" }, BR({ message: "Invalid model name" })],
    ["path-model-wins", "the path's (unknown) deployment wins over the body's valid model", { $path: "/openai/deployments/nope/chat/completions", model: "ok" }, BR({ message: "Invalid model name" })],
    ["messages-missing", "no messages", { $delete: ["messages"] }, E("messages")],
  ],
};

// ---- requests decided by method, path and headers --------------------------------------------
function routingCases() {
  const c = [];
  // A key that is neither the master key nor a virtual key: unknown paths and wrong methods
  // answer as without a key, everything else is a 401.
  const add = (id, what, method, path, expect, noauth = expect, extra = {}) =>
    c.push({
      name: `routing/${id}: ${what}`, method, path, expect, noauth,
      wrongkey: { status: noauth.status, headOnly: noauth.headOnly },
      virtual: noauth === NOAUTH_MGMT ? VIRTUAL_MGMT : expect,
      ...extra,
    });
  const notFound = { status: 404, code: "invalid_url" };
  const notAllowed = (allow) => ({ status: 405, code: "method_not_allowed", allow });
  add("get-chat", "GET on a POST route → 405 with Allow", "GET", "/v1/chat/completions", notAllowed("POST, OPTIONS"));
  add("put-embeddings", "PUT on a POST route → 405", "PUT", "/v1/embeddings", notAllowed("POST, OPTIONS"));
  add("delete-models", "DELETE on a GET route → 405", "DELETE", "/v1/models", notAllowed("GET, OPTIONS"));
  add("patch-completions", "PATCH on a POST route → 405", "PATCH", "/v1/completions", notAllowed("POST, OPTIONS"));
  add("head-chat", "HEAD on a POST route → 405 (no body)", "HEAD", "/v1/chat/completions", { status: 405, headOnly: true });
  add("post-models", "POST on a GET route → 405", "POST", "/v1/models", notAllowed("GET, OPTIONS"), undefined, { body: json({ model: "ok" }) });
  add("post-model-info", "POST on /v1/model/info → 405", "POST", "/v1/model/info", notAllowed("GET, OPTIONS"));
  add("v2-path", "an unknown API version → 404", "POST", "/v2/chat/completions", notFound);
  add("path-suffix", "a valid path with a suffix → 404", "POST", "/v1/chat/completions/extra", notFound);
  add("path-prefix", "a valid path under an unknown prefix → 404", "POST", "/api/v1/chat/completions", notFound);
  add("double-slash", "a double slash inside the path → 404", "POST", "/v1//chat/completions", notFound);
  add("case", "an upper-case path → 404 (paths are case-sensitive)", "POST", "/V1/CHAT/COMPLETIONS", notFound);
  add("encoded-slash", "chat%2Fcompletions (an encoded slash is not a separator) → 404", "POST", "/v1/chat%2Fcompletions", notFound);
  add("nul-in-path", "%00 in the path → 404", "POST", "/v1/chat/completions%00", notFound);
  add("long-path", "a 6000-character path → 404", "GET", "/" + "a".repeat(6000), notFound);
  add("traversal", "an encoded ../ in the path → 404", "GET", "/v1/%2e%2e/%2e%2e/etc/passwd", notFound);
  add("azure-no-op", "an Azure path without an operation → 404", "POST", "/openai/deployments/ok", notFound);
  add("azure-empty-model", "an Azure path with an empty deployment → 404", "POST", "/openai/deployments//chat/completions", notFound);
  add("azure-get-models", "an Azure path to a GET operation → 404", "POST", "/openai/deployments/ok/models", notFound);
  add("unknown-model-get", "GET /v1/models/{unknown} → 404", "GET", "/v1/models/nope", { status: 404, param: "model" }, NOAUTH);
  add("huge-model-get", "GET /v1/models/{5000 chars} → 404", "GET", "/v1/models/" + "m".repeat(5000), { status: 404, param: "model" }, NOAUTH);
  add("model-get-bad-utf8", "GET /v1/models/%FF → 404", "GET", "/v1/models/%FF%FE%00", { status: 404, param: "model" }, NOAUTH);
  // Management routes: without the master key every one is a 401 before anything else.
  const mNotFound = { status: 404 };
  const mNotAllowed = (allow) => ({ status: 405, allow });
  add("mgmt-get-generate", "GET /key/generate → 405", "GET", "/key/generate", mNotAllowed("POST"), NOAUTH_MGMT);
  add("mgmt-post-info", "POST /key/info → 405", "POST", "/key/info", mNotAllowed("GET"), NOAUTH_MGMT);
  add("mgmt-delete-list", "DELETE /key/list → 405", "DELETE", "/key/list", mNotAllowed("GET"), NOAUTH_MGMT);
  add("mgmt-unknown-key-route", "an unknown /key/ route → 404", "POST", "/key/nope", mNotFound, NOAUTH_MGMT, { body: json({}) });
  add("mgmt-unknown-global-route", "an unknown /global/ route → 404", "GET", "/global/spend/nope", mNotFound, NOAUTH_MGMT);
  // With a virtual key, /key/info without ?key is about that key: a valid request (200).
  add("mgmt-key-info-no-key", "GET /key/info without ?key → 400", "GET", "/key/info", { status: 400, param: "key" }, NOAUTH_MGMT, { virtual: null });
  // A non-master key may ask /key/info only about itself: about another key it gets a 403.
  const other = { wrongkey: { status: 403, param: "key" }, virtual: { status: 403, param: "key" } };
  add("mgmt-key-info-unknown", "GET /key/info for a key that does not exist → 404", "GET", "/key/info?key=sk-nope", { status: 404 }, NOAUTH_MGMT, other);
  add("mgmt-key-info-huge", "GET /key/info with a 6000-character key → 404", "GET", "/key/info?key=" + "k".repeat(6000), { status: 404 }, NOAUTH_MGMT, other);
  add("mgmt-key-info-bad-escape", "GET /key/info?key=%FF%ZZ → 404", "GET", "/key/info?key=%FF%ZZ%", { status: 404 }, NOAUTH_MGMT, other);
  add("mgmt-user-info-unknown", "GET /user/info for an unknown user → 404", "GET", "/user/info?user_id=nobody", { status: 404 }, NOAUTH_MGMT);
  add("mgmt-team-info-unknown", "GET /team/info for an unknown team → 404", "GET", "/team/info?team_id=nobody", { status: 404 }, NOAUTH_MGMT);
  add("mgmt-user-info-huge", "GET /user/info for a 600-byte user_id (longer than a KV name) → 404", "GET", "/user/info?user_id=" + "u".repeat(600), { status: 404 }, NOAUTH_MGMT);
  add("mgmt-team-info-huge", "GET /team/info for a 600-byte team_id → 404", "GET", "/team/info?team_id=" + "t".repeat(600), { status: 404 }, NOAUTH_MGMT);
  add("mgmt-spend-logs-bad-limit", "GET /spend/logs?limit=abc → 400", "GET", "/spend/logs?limit=abc", { status: 400 }, NOAUTH_MGMT);
  add("mgmt-key-list-bad-page", "GET /key/list?page=-1 → 400", "GET", "/key/list?page=-1", { status: 400 }, NOAUTH_MGMT);
  add("mgmt-key-list-huge-size", "GET /key/list?size=1e99 → 400", "GET", "/key/list?size=1e99", { status: 400 }, NOAUTH_MGMT);
  return c;
}

function headerCases() {
  const c = [];
  const chat = JSON.stringify({ model: "nope", messages: msgs });
  const add = (id, what, headers, expect, extra = {}) =>
    c.push({ name: `headers/${id}: ${what}`, method: "POST", path: "/v1/chat/completions", headers, body: [text(chat)], auth: "custom", expect, ...extra });
  // No key at all: the gateway's own 401. A key that is not the master key is looked up as a
  // virtual key, and refused with LiteLLM's 401 (`type: auth_error`).
  const noKey = { status: 401, type: "authentication_error" };
  const unauth = { status: 401 };
  add("bearer-only", "Authorization: 'Bearer' without a key → 401", { authorization: "Bearer" }, noKey);
  add("bearer-spaces", "Authorization: 'Bearer    ' → 401", { authorization: "Bearer    " }, noKey);
  add("basic-auth", "HTTP Basic credentials instead of a bearer key → 401", { authorization: "Basic dXNlcjpwYXNz" }, unauth);
  add("bearer-huge", "a 12 000-character bearer key → 401", { authorization: "Bearer " + "k".repeat(12_000) }, unauth);
  add("master-plus-suffix", "the master key followed by more characters → 401", { authorization: "Bearer $MASTER extra" }, unauth);
  add("master-prefix", "a prefix of the master key → 401", { authorization: "Bearer $MASTER_PREFIX" }, unauth);
  add("master-latin1", "the master key with a Latin-1 byte appended → 401", { authorization: "Bearer $MASTER\u00e9" }, unauth);
  add("x-api-key-empty", "an empty x-api-key → 401", { "x-api-key": "" }, noKey);
  add("x-api-key-wrong", "a wrong x-api-key → 401", { "x-api-key": "sk-wrong" }, unauth);
  add("api-key-wrong", "a wrong Azure api-key → 401", { "api-key": "sk-wrong" }, unauth);
  add("two-keys-wrong-first", "a wrong Authorization beside a right x-api-key: Authorization decides → 401", { authorization: "Bearer sk-wrong", "x-api-key": "$MASTER" }, unauth);
  const idCheck = { status: 400, message: "Invalid model name", freshRequestId: true };
  add("request-id-html", "an x-request-id with HTML is replaced, not echoed", { authorization: "Bearer $MASTER", "x-request-id": "<script>alert(1)</script>" }, idCheck);
  add("request-id-encoded-crlf", "an x-request-id with %0d%0a is replaced", { authorization: "Bearer $MASTER", "x-request-id": "abc%0d%0aset-cookie:%20x=1" }, { ...idCheck, noHeader: "set-cookie" });
  add("request-id-huge", "a 4000-character x-request-id is replaced", { authorization: "Bearer $MASTER", "x-request-id": "r".repeat(4000) }, idCheck);
  add("request-id-spaces", "an x-request-id with spaces is replaced", { authorization: "Bearer $MASTER", "x-request-id": "a b c" }, idCheck);
  add("content-type-text", "text/plain with a JSON body is still read as JSON (then refused for its model)", { authorization: "Bearer $MASTER", "content-type": "text/plain" }, { status: 400, message: "Invalid model name" });
  add("many-headers", "200 extra headers", { authorization: "Bearer $MASTER", ...Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h-${i}`, "v"])) }, { status: 400, message: "Invalid model name" });
  add("origin-evil", "an odd Origin gets the default CORS answer and the same 400", { authorization: "Bearer $MASTER", origin: "https://evil.example" }, { status: 400, message: "Invalid model name" });
  return c;
}

/** Raw HTTP/1.1 bytes: what an HTTP client library refuses to send. */
function rawCases() {
  const c = [];
  const add = (id, what, request, expect) => c.push({ name: `raw/${id}: ${what}`, transport: "raw", request, expect });
  const body = '{"model":"nope","messages":[{"role":"user","content":"hi"}]}';
  const h = (lines, b = "") => [text(lines.join("\r\n") + "\r\n\r\n" + b)];
  const auth = "Authorization: Bearer $MASTER";
  const len = (b) => `Content-Length: ${Buffer.byteLength(b)}`;
  // Reached the Worker: OpenAI JSON.
  add("header-injection-request-id", "x-request-id with a raw bare CR inside is refused or replaced, never echoed as a header line",
    h(["POST /v1/chat/completions HTTP/1.1", "Host: x", auth, "X-Request-Id: abc\rX-Injected: 1", "Content-Type: application/json", len(body), "Connection: close"], body),
    { status4xx: true, noHeader: "x-injected" });
  add("header-obs-fold", "an obsolete folded header line (obs-fold) → 4xx",
    h(["POST /v1/chat/completions HTTP/1.1", "Host: x", auth, "X-Folded: a", " b", "Content-Type: application/json", len(body), "Connection: close"], body),
    { status4xx: true });
  add("header-lf-only", "bare-LF line ends → 4xx, no injected header",
    [text(`POST /v1/chat/completions HTTP/1.1\nHost: x\nAuthorization: Bearer $MASTER\nX-Injected: 1\n${len(body)}\nConnection: close\n\n${body}`)],
    { status4xx: true });
  add("header-nul", "a NUL byte in a header value → 4xx",
    [text("GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Nul: a"), b64(u8(0)), text("b\r\n" + auth + "\r\nConnection: close\r\n\r\n")],
    { status4xx: true });
  add("header-latin1-key", "a key with raw 0xFF bytes → 401",
    [text("GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "), b64(u8(0xff, 0xfe)), text("\r\nConnection: close\r\n\r\n")],
    { status: 401, json: true });
  // workerd's HTTP parser (kj-http) drops the space and reads the header; RFC 9112 §5.1 says to
  // refuse. The Worker cannot tell (it gets a normal header); Cloudflare's edge parses requests
  // before a deployed Worker. Recorded as the runtime's answer.
  add("header-space-before-colon", "a space before a header colon (a smuggling trick): the runtime reads the header; no 5xx",
    h(["GET /v1/models HTTP/1.1", "Host: x", "Authorization : Bearer $MASTER", "Connection: close"]),
    { status4xx: true, runtime: { status: 200, why: "kj-http accepts whitespace before the colon" } });
  add("header-huge", "a 200 000-byte header → 4xx (runtime limit)",
    [text(`GET /v1/models HTTP/1.1\r\nHost: x\r\n${auth}\r\nX-Big: `), rep("b", 200_000), text("\r\nConnection: close\r\n\r\n")],
    { status4xx: true });
  // workerd throws inside its HTTP server on these, before any Worker code runs ("Uncaught
  // exception: kj/compat/http.c++: invalid Content-Length header value") and answers a plain 500.
  const badCl = { status4xx: true, runtime: { status: 500, why: "kj-http: invalid Content-Length header value" } };
  add("content-length-invalid", "content-length: abc → refused before the Worker runs",
    h(["POST /v1/chat/completions HTTP/1.1", "Host: x", auth, "Content-Length: abc", "Connection: close"], body), badCl);
  add("content-length-negative", "content-length: -1 → refused before the Worker runs",
    h(["POST /v1/chat/completions HTTP/1.1", "Host: x", auth, "Content-Length: -1", "Connection: close"], body), badCl);
  add("content-length-conflict", "two different content-lengths → refused before the Worker runs",
    h(["POST /v1/chat/completions HTTP/1.1", "Host: x", auth, "Content-Length: 5", len(body), "Connection: close"], body), badCl);
  // Transfer-Encoding wins over Content-Length (RFC 9112 §6.3): the body is the empty chunked
  // one, never the bytes after it, which at most form a separate request of the same client.
  add("smuggling-cl-te", "Content-Length and Transfer-Encoding: chunked together (CL.TE): the chunked body wins, so the body is empty → 400",
    [text(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\nGET /v1/models/nope HTTP/1.1\r\nHost: x\r\n\r\n`)],
    { status: 400, json: true, message: "empty" });
  add("te-unknown", "Transfer-Encoding: gzip, chunked with a plain body → refused before the Worker runs",
    h(["POST /v1/chat/completions HTTP/1.1", "Host: x", auth, "Transfer-Encoding: gzip, chunked", "Connection: close"], body),
    { status4xx: true, runtime: { status: 500, why: "kj-http: unsupported transfer coding (RFC 9112 §6.1 suggests 501)" } });
  add("chunk-size-invalid", "a chunked body with an invalid chunk size → 4xx",
    h(["POST /v1/chat/completions HTTP/1.1", "Host: x", auth, "Transfer-Encoding: chunked", "Connection: close"], "zz\r\nabc\r\n0\r\n\r\n"),
    { status4xx: true });
  // RFC 9110 §9.1: an unrecognized method gets 501 from the origin; workerd's parser answers it
  // before any Worker code runs.
  const badMethod = { status4xx: true, runtime: { status: 501, why: "kj-http: Unrecognized request method (RFC 9110 §9.1)" } };
  add("request-line-garbage", "a request line that is not HTTP → refused before the Worker runs",
    [text("HELLO THERE\r\n\r\n")], badMethod);
  add("request-line-http09", "an HTTP/0.9-style request line → 4xx or closed",
    [text("GET /v1/models\r\n\r\n")], { status4xx: true, closedOk: true });
  add("method-unknown", "an unknown method (BREW) → refused before the Worker runs",
    h(["BREW /v1/chat/completions HTTP/1.1", "Host: x", auth, "Connection: close"]), badMethod);
  // workerd (as Miniflare runs it) fails on absolute-form request targets before the Worker runs.
  add("absolute-uri-other-host", "an absolute URI to another host is never proxied there",
    h(["GET http://169.254.169.254/v1/models/nope HTTP/1.1", "Host: x", auth, "Connection: close"]),
    { status4xx: true, runtime: { status: 500, why: "kj-http: invalid URL for an absolute-form target" } });
  add("pipelined-garbage", "a valid request followed by garbage on the same connection: the first is answered",
    [text(`GET /v1/models/nope HTTP/1.1\r\nHost: x\r\n${auth}\r\n\r\nGARBAGE\r\n\r\n`)],
    { status: 404, json: true });
  return c;
}

/** Bodies that arrive slowly or never finish (slowloris). */
function slowCases() {
  const body = JSON.stringify({ model: "nope", messages: msgs });
  return [
    {
      name: "slow/trickled-body: a body sent in 25 pieces 120 ms apart is read to the end and answered (400 for its model); other requests are served meanwhile",
      transport: "slow",
      mode: "trickle",
      path: "/v1/chat/completions",
      pieces: 25,
      delayMs: 120,
      body: [text(body)],
      expect: { status: 400, message: "Invalid model name" },
    },
    {
      name: "slow/stalled-body: a body that stops halfway (content-length promises more) leaves the gateway serving others; the client gives up after 1.5 s",
      transport: "slow",
      mode: "stall",
      path: "/v1/chat/completions",
      stallMs: 1500,
      body: [text(body)],
      expect: { noResponseBeforeAbort: true },
    },
    {
      name: "slow/trickled-headers: headers sent one byte every 20 ms (classic slowloris) do not block other requests, and the request is answered once complete",
      transport: "slow",
      mode: "headers",
      path: "/v1/models/nope",
      delayMs: 20,
      expect: { status: 404 },
    },
    {
      name: "slow/stalled-oversized: a chunked body that passes the limit slowly is cut off with 413 as soon as it does",
      transport: "slow",
      mode: "trickle-oversized",
      path: "/v1/chat/completions",
      pieces: 6,
      pieceBytes: 256 * 1024,
      delayMs: 100,
      expect: { status: 413, code: "request_too_large" },
    },
  ];
}

/** Seeded mutations of valid bodies that are always invalid JSON. */
function mutationCases(rand) {
  const c = [];
  // Bytes that are invalid anywhere in JSON: control characters other than JSON whitespace
  // (invalid raw inside strings and as tokens), and bytes ≥ 0x80 next to ASCII (invalid UTF-8).
  const poison = [...Array(32).keys()].filter((b) => ![9, 10, 13].includes(b)).concat([0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xf0, 0xf8, 0xfe, 0xff]);
  const routes = OPENAI.filter((r) => ["chat", "completions", "embeddings", "rerank"].includes(r.id));
  for (let i = 0; i < 24; i++) {
    const r = routes[i % routes.length];
    const src = Buffer.from(JSON.stringify({ ...r.valid, temperature: 0.5, user: "u-1" }));
    // A strict prefix of an object's JSON text is never valid JSON.
    const cut = 1 + Math.floor(rand() * (src.length - 2));
    c.push({
      name: `mutation/${r.id}-truncate-${i}: the valid ${r.id} body cut after ${cut} of ${src.length} bytes → 400 invalid_json`,
      method: "POST", path: r.path, body: [b64(src.subarray(0, cut))],
      expect: { status: 400, code: "invalid_json" }, noauth: NOAUTH, wrongkey: WRONGKEY, virtual: { status: 400, code: "invalid_json" },
    });
  }
  for (let i = 0; i < 24; i++) {
    const r = routes[i % routes.length];
    const src = Buffer.from(JSON.stringify({ ...r.valid, temperature: 0.5, user: "u-1" }));
    const at = Math.floor(rand() * (src.length + 1));
    const byte = poison[Math.floor(rand() * poison.length)];
    const out = Buffer.concat([src.subarray(0, at), Buffer.from([byte]), src.subarray(at)]);
    c.push({
      name: `mutation/${r.id}-poison-${i}: byte 0x${byte.toString(16).padStart(2, "0")} inserted at ${at} of the valid ${r.id} body → 400 invalid_json`,
      method: "POST", path: r.path, body: [b64(out)],
      expect: { status: 400, code: "invalid_json" }, noauth: NOAUTH, wrongkey: WRONGKEY, virtual: { status: 400, code: "invalid_json" },
    });
  }
  return c;
}

/** Management bodies whose fields have the wrong type or value. */
function managementFieldCases() {
  const c = [];
  const add = (path, id, what, body, expect) =>
    c.push({ name: `mgmt${path}/${id}: ${what}`, method: "POST", path, body: json(body), expect, noauth: NOAUTH_MGMT, wrongkey: WRONGKEY, virtual: VIRTUAL_MGMT });
  const bad = { status: 400 };
  add("/key/generate", "max-budget-string", "max_budget: 'lots'", { max_budget: "lots" }, bad);
  add("/key/generate", "max-budget-negative", "max_budget: -1", { max_budget: -1 }, bad);
  add("/key/generate", "models-string", "models: 'ok' (must be a list)", { models: "ok" }, bad);
  add("/key/generate", "models-numbers", "models: [1, 2]", { models: [1, 2] }, bad);
  add("/key/generate", "duration-garbage", "duration: 'forever'", { duration: "forever" }, bad);
  add("/key/generate", "rpm-negative", "rpm_limit: -5", { rpm_limit: -5 }, bad);
  add("/key/generate", "tpm-fraction", "tpm_limit: 1.5", { tpm_limit: 1.5 }, bad);
  add("/key/generate", "alias-number", "key_alias: 42", { key_alias: 42 }, bad);
  add("/key/generate", "metadata-string", "metadata: 'x'", { metadata: "x" }, bad);
  add("/key/generate", "key-too-short", "a client-chosen key that is not an sk- key", { key: "x" }, bad);
  add("/key/update", "no-key", "no key to update", {}, { status: 400, param: "key" });
  add("/key/update", "unknown-key", "a key that does not exist", { key: "sk-does-not-exist" }, { status: 404 });
  add("/key/update", "key-number", "key: 42", { key: 42 }, bad);
  add("/key/delete", "keys-string", "keys: 'x' (must be a list)", { keys: "x" }, bad);
  add("/key/delete", "nothing", "neither keys nor key_aliases", {}, bad);
  add("/key/delete", "unknown", "keys that do not exist", { keys: ["sk-nope"] }, { status: 404 });
  add("/key/block", "no-key", "no key to block", {}, { status: 400, param: "key" });
  add("/key/block", "unknown", "a key that does not exist", { key: "sk-nope" }, { status: 404 });
  add("/key/unblock", "key-object", "key: {}", { key: {} }, bad);
  add("/user/new", "budget-array", "max_budget: []", { max_budget: [] }, bad);
  add("/user/new", "user-id-number", "user_id: 42", { user_id: 42 }, bad);
  add("/team/new", "team-id-number", "team_id: 42", { team_id: 42 }, bad);
  add("/team/new", "members-string", "members_with_roles: 'x' (must be a list)", { members_with_roles: "x" }, { status: 400, param: "members_with_roles" });
  add("/team/new", "budget-string", "max_budget: 'x'", { max_budget: "x" }, bad);
  // Ids become Workers KV names (≤ 512 bytes) and the alias KV metadata (≤ 1024 bytes): over
  // those limits the store fails, which must be the client's 400, not a 500.
  add("/user/new", "user-id-huge", "a 600-byte user_id", { user_id: "u".repeat(600) }, { status: 400, param: "user_id" });
  add("/team/new", "team-id-huge", "a 600-byte team_id", { team_id: "t".repeat(600) }, { status: 400, param: "team_id" });
  add("/key/generate", "user-id-huge", "a key for a 600-byte user_id", { user_id: "u".repeat(600) }, { status: 400, param: "user_id" });
  add("/key/generate", "alias-huge", "a 1000-byte key_alias", { key_alias: "a".repeat(1000) }, { status: 400, param: "key_alias" });
  add("/key/generate", "alias-control-chars", "a key_alias of control characters (each escapes to 6 bytes)", { key_alias: "\u0001".repeat(200) }, { status: 400, param: "key_alias" });
  add("/user/new", "user-id-crlf", "a user_id with CR/LF and NUL", { user_id: "u\u0000\r\nx" }, { status: 400, param: "user_id" });
  return c;
}

/** Every case, in a stable order. */
export function generate() {
  const rand = prng(SEED);
  const cases = [];
  for (const [id, what, body, headers, openaiExpect, mgmtExpect] of malformedBodies()) {
    for (const r of OPENAI) {
      // A virtual-key request's body is read (up to the limit) before the key is looked up.
      const wrongkey = openaiExpect.status === 413 ? openaiExpect : WRONGKEY;
      cases.push({ name: `body/${id}@${r.id}: ${what} → ${openaiExpect.status}`, method: "POST", path: r.path, headers, body, expect: openaiExpect, noauth: NOAUTH, wrongkey, virtual: openaiExpect });
    }
    for (const p of MGMT_POST) {
      cases.push({ name: `body/${id}@${p}: ${what} → ${mgmtExpect.status}`, method: "POST", path: p, headers, body, expect: mgmtExpect, noauth: NOAUTH_MGMT, wrongkey: WRONGKEY, virtual: VIRTUAL_MGMT });
    }
  }
  for (const [id, what] of [["empty", "an empty body"], ["whitespace", "a body of whitespace"]]) {
    for (const r of OPENAI) {
      cases.push({ name: `body/${id}@${r.id}: ${what} → 400`, method: "POST", path: r.path, body: [text(id === "empty" ? "" : " \n\t ")], expect: { status: 400, message: "empty" }, noauth: NOAUTH, wrongkey: WRONGKEY, virtual: { status: 400, message: "empty" } });
    }
  }
  for (const r of OPENAI) {
    for (const [id, what, patch, expect] of SPECIFIC[r.id] ?? []) {
      let body;
      if (patch.$raw) body = [text(patch.$raw)];
      else if (patch.$parts) body = patch.$parts;
      else {
        const v = { ...r.valid };
        for (const [k, val] of Object.entries(patch)) if (!k.startsWith("$")) v[k] = val;
        for (const k of patch.$delete ?? []) delete v[k];
        body = json(v);
      }
      cases.push({ name: `field/${r.id}/${id}: ${what} → ${expect.status}`, method: "POST", path: patch.$path ?? r.path, body, expect, noauth: NOAUTH, wrongkey: WRONGKEY, virtual: patch.$virtual ?? expect });
    }
  }
  cases.push(...managementFieldCases(), ...routingCases(), ...headerCases(), ...mutationCases(rand), ...rawCases(), ...slowCases());
  const names = new Set();
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    names.add(c.name);
  }
  return cases;
}

/** The corpus as JSON lines. */
export function render() {
  return generate().map((c) => JSON.stringify(c)).join("\n") + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = render();
  if (process.argv.includes("--check")) {
    const ok = fs.existsSync(CORPUS_FILE) && fs.readFileSync(CORPUS_FILE, "utf8") === out;
    console.log(ok ? "corpus.jsonl is up to date" : "corpus.jsonl is stale: run node tests/hostile/generate.mjs");
    process.exit(ok ? 0 : 1);
  }
  fs.writeFileSync(CORPUS_FILE, out);
  console.log(`wrote ${out.split("\n").length - 1} cases to ${CORPUS_FILE}`);
}
