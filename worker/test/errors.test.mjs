// Errors through the gateway: upstream failures become the right HTTP status and OpenAI error
// JSON (so the openai client raises the right class), bad input is a clear 4xx, auth is
// enforced, keys never leak, and the gateway keeps serving, even after a Rust panic.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startGateway, startMockServer, completionBody, user, postChunked, MASTER_KEY, UPSTREAM_KEY } from "./helpers.mjs";

let mock, gw;

before(async () => {
  mock = await startMockServer({
    routes: { "POST /v1/chat/completions": { body: completionBody("fine") } },
  });
  const fault = (status, q = "") => `${mock.url}/__fault/status/${status}/v1${q}`;
  const deployment = (name, base, extra = "") =>
    `  - model_name: ${name}\n    litellm_params: {model: openai/gpt-4o, api_base: "${base}", api_key: os.environ/UPSTREAM_KEY${extra}}\n`;
  const config =
    "model_list:\n" +
    deployment("ok", `${mock.url}/v1`) +
    deployment("e400", fault(400)) +
    deployment("e401", `${mock.url}/__fault/status/401/v1?message=Incorrect%20API%20key%20provided%3A%20${UPSTREAM_KEY}`) +
    deployment("e403", fault(403)) +
    deployment("e404", fault(404)) +
    deployment("e429", fault(429)) +
    deployment("e500", fault(500)) +
    deployment("e503", fault(503)) +
    deployment("ctx", `${mock.url}/__fault/status/400/v1?code=context_length_exceeded&message=too%20long`) +
    deployment("hang", `${mock.url}/__fault/hang/v1`, ", timeout: 0.5") +
    deployment("refused", "http://127.0.0.1:9/v1") +
    "router_settings: {num_retries: 0}\n" +
    "general_settings: {master_key: os.environ/MASTER, max_request_size_mb: 1}\n";
  gw = await startGateway({ config, vars: { UPSTREAM_KEY, MASTER: MASTER_KEY, EDGELLM_DEBUG_PANIC_ROUTE: "1" } });
});

after(async () => {
  await gw?.close();
  await mock?.close();
});

async function chatError(model, client = gw.client()) {
  try {
    await client.chat.completions.create({ model, messages: user("x") });
  } catch (e) {
    return e;
  }
  assert.fail(`${model}: expected an error`);
}

test("upstream errors map to the openai client's exception classes", async () => {
  const cases = [
    ["e400", OpenAI.BadRequestError, 400],
    ["e401", OpenAI.AuthenticationError, 401],
    ["e403", OpenAI.PermissionDeniedError, 403],
    ["e404", OpenAI.NotFoundError, 404],
    ["e429", OpenAI.RateLimitError, 429],
    ["e500", OpenAI.InternalServerError, 500],
    ["e503", OpenAI.InternalServerError, 503],
  ];
  for (const [model, cls, status] of cases) {
    const e = await chatError(model);
    assert.ok(e instanceof cls, `${model}: ${e.constructor.name} ${e.message}`);
    assert.equal(e.status, status, model);
    assert.equal(typeof e.error?.message, "string", model);
    assert.equal(typeof e.error?.type, "string", model);
    assert.match(e.headers.get("x-request-id") ?? "", /.+/, model);
  }
  const ctx = await chatError("ctx");
  assert.ok(ctx instanceof OpenAI.BadRequestError);
  assert.equal(ctx.code, "context_length_exceeded");
});

test("provider keys never reach the client", async () => {
  const e = await chatError("e401");
  assert.ok(!JSON.stringify(e.error).includes(UPSTREAM_KEY), JSON.stringify(e.error));
  assert.ok(!e.message.includes(UPSTREAM_KEY));
});

test("timeouts and refused connections", async () => {
  const t0 = Date.now();
  const timeout = await chatError("hang");
  assert.equal(timeout.status, 408, timeout.message);
  assert.ok(Date.now() - t0 < 5000, "the deployment's 0.5 s timeout applies");
  const refused = await chatError("refused");
  assert.equal(refused.status, 500, refused.message);
  assert.equal(refused.error.type, "api_connection_error");
});

test("auth: missing or wrong key is a 401 AuthenticationError; x-api-key works", async () => {
  for (const apiKey of ["sk-wrong", "x"]) {
    const e = await chatError("ok", gw.client({ apiKey }));
    assert.ok(e instanceof OpenAI.AuthenticationError, e.constructor.name);
    assert.ok(!JSON.stringify(e.error).includes(MASTER_KEY));
  }
  const none = await fetch(`${gw.url}/v1/models`);
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error.type, "authentication_error");
  const viaHeader = await fetch(`${gw.url}/v1/models`, { headers: { "x-api-key": MASTER_KEY } });
  assert.equal(viaHeader.status, 200);
  const live = await fetch(`${gw.url}/health/liveliness`);
  assert.equal(live.status, 200, "health probes are public");
});

async function post(path, body, headers = {}) {
  const r = await fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json", ...headers },
    body,
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text, headers: r.headers };
}

test("bad input is a clear 4xx in OpenAI's error shape", async () => {
  const cases = [
    ["/v1/chat/completions", "{oops", 400, /invalid JSON/],
    ["/v1/chat/completions", "", 400, /empty/],
    ["/v1/chat/completions", "[]", 400, /JSON object/],
    ["/v1/chat/completions", JSON.stringify({ messages: user("x") }), 400, /model/],
    ["/v1/chat/completions", JSON.stringify({ model: 42, messages: user("x") }), 400, /model/],
    ["/v1/chat/completions", JSON.stringify({ model: "nope", messages: user("x") }), 400, /Invalid model name/],
    ["/v1/chat/completions", JSON.stringify({ model: "ok", messages: "hi" }), 400, /messages/],
    ["/v1/chat/completions", JSON.stringify({ model: "ok", messages: [] }), 400, /messages/],
    ["/v1/chat/completions", JSON.stringify({ model: "ok", messages: user("x"), temperature: "hot" }), 400, /temperature|invalid/],
    ["/v1/chat/completions", JSON.stringify({ model: "ok", messages: user("x"), api_base: "http://evil.example" }), 400, /api_base/],
    ["/v1/nothing-here", "{}", 404, /Invalid URL/],
  ];
  for (const [path, body, status, re] of cases) {
    const r = await post(path, body);
    assert.equal(r.status, status, `${path} ${body} -> ${r.text}`);
    assert.match(r.json?.error?.message ?? "", re, r.text);
    assert.equal(typeof r.json.error.type, "string");
  }
  const wrongMethod = await fetch(`${gw.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "POST, OPTIONS");
  assert.equal((await wrongMethod.json()).error.code, "method_not_allowed");
});

test("bodies over max_request_size_mb are refused with 413", async () => {
  const big = JSON.stringify({ model: "ok", messages: user("x".repeat(1_200_000)) });
  const r = await post("/v1/chat/completions", big);
  assert.equal(r.status, 413, r.text);
  assert.equal(r.json.error.code, "request_too_large");
  // Chunked upload without content-length is cut off while reading.
  const chunked = await postChunked(`${gw.url}/v1/chat/completions`, Array(12).fill("x".repeat(100_000)));
  assert.equal(chunked.status, 413);
});

test("the gateway keeps serving after errors and after a Rust panic", async () => {
  const panic = await fetch(`${gw.url}/__edgellm/panic`);
  assert.equal(panic.status, 500);
  assert.equal((await panic.json()).error.type, "api_error");
  for (let i = 0; i < 3; i++) {
    const r = await gw.client().chat.completions.create({ model: "ok", messages: user("again") });
    assert.equal(r.choices[0].message.content, "fine");
  }
});

test("CORS: preflight and exposed headers (LiteLLM defaults: any origin)", async () => {
  const pre = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "OPTIONS",
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  assert.equal(pre.headers.get("access-control-allow-headers"), "authorization, content-type");
  const r = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}`, origin: "https://app.example" } });
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  assert.match(r.headers.get("access-control-expose-headers"), /x-request-id/);
});
