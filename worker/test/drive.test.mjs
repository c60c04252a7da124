// The entry hands each request to `fetch_driven` (worker/src/drive.rs): the request's task is
// polled inside the entry's call and again inside the upstream promise's reaction, with no
// `queueMicrotask` hop of wasm_bindgen_futures' queue (two per non-stream request before). The
// Worker here is the real entry behind a wrapper that counts `queueMicrotask` calls. Retries
// (a timer wake, which still goes through a microtask), streams and errors answer as before.
// With the virtual-key layer on (EDGELLM_KV and EDGELLM_COUNTERS bound, as in wrangler.toml) the
// entry reads bodies too, and whichever reads the body, that layer or the gateway, takes them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Miniflare } from "miniflare";
import { ENTRY, startMockServer, completionBody, sseBody, user, MASTER_KEY, UPSTREAM_KEY } from "./helpers.mjs";

let mock, mf, url, keysMf, keysUrl;
let flaky = 0;

// Resolved against `scriptPath`, which sits beside the entry.
const WRAPPER = `
import entry from "./entry.mjs";
export { SpendCounter } from "./entry.mjs";
let hops = 0;
const queue = globalThis.queueMicrotask;
globalThis.queueMicrotask = (f) => {
  hops++;
  return queue(f);
};
export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__hops") return new Response(String(hops));
    return entry.fetch(request, env, ctx);
  },
};
`;

before(async () => {
  mock = await startMockServer({
    routes: {
      "POST /ok/v1/chat/completions": { body: completionBody("fine") },
      // Every other request is refused with a 429: a first attempt fails, its retry answers.
      "POST /flaky/v1/chat/completions": () =>
        ++flaky % 2 === 1
          ? { status: 429, body: { error: { message: "slow down", type: "rate_limit_error", param: null, code: null } } }
          : { body: completionBody("second try") },
      "POST /sse/v1/chat/completions": {
        headers: { "content-type": "text/event-stream" },
        stream: sseBody(["a", "b", "c"]),
      },
    },
  });
  const dep = (name, prefix) =>
    `  - model_name: ${name}\n    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/${prefix}/v1", api_key: os.environ/UPSTREAM_KEY}\n`;
  const config =
    "model_list:\n" +
    dep("ok", "ok") +
    dep("flaky", "flaky") +
    dep("down", "__fault/status/500") +
    dep("sse", "sse") +
    "router_settings: {num_retries: 2, retry_after: 0}\n" +
    "general_settings: {master_key: os.environ/MASTER}\n";
  const options = (extra) => ({
    modules: true,
    script: WRAPPER,
    scriptPath: path.join(path.dirname(ENTRY), "drive-test-wrapper.mjs"),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    compatibilityFlags: ["enable_request_signal"],
    cf: false,
    host: "127.0.0.1",
    port: 0,
    ...extra,
  });
  mf = new Miniflare(options({ bindings: { EDGELLM_CONFIG: config, UPSTREAM_KEY, MASTER: MASTER_KEY } }));
  url = (await mf.ready).href.replace(/\/$/, "");
  const keysConfig =
    "model_list:\n" +
    dep("ok", "ok") +
    "general_settings: {master_key: os.environ/MASTER, max_request_size_mb: 0.001}\n";
  keysMf = new Miniflare(
    options({
      kvNamespaces: ["EDGELLM_KV"],
      durableObjects: { EDGELLM_COUNTERS: "SpendCounter" },
      bindings: { EDGELLM_CONFIG: keysConfig, UPSTREAM_KEY, MASTER: MASTER_KEY },
    }),
  );
  keysUrl = (await keysMf.ready).href.replace(/\/$/, "");
});

after(async () => {
  await mf?.dispose();
  await keysMf?.dispose();
  await mock?.close();
});

async function chat(model, extra = {}, { base = url, key = MASTER_KEY } = {}) {
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: user("hi"), ...extra }),
  });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

const hops = async (base = url) => Number(await (await fetch(`${base}/__hops`)).text());

test("non-stream requests are answered without a microtask hop", async () => {
  await chat("ok"); // the first request also loads the config
  const before = await hops();
  for (let i = 0; i < 5; i++) {
    const r = await chat("ok");
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).choices[0].message.content, "fine");
    assert.equal(r.headers.get("x-litellm-model-group"), "ok");
  }
  assert.equal((await hops()) - before, 0);
});

test("a retried request still makes num_retries + 1 attempts at most and answers", async () => {
  mock.reset();
  const r = await chat("flaky");
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).choices[0].message.content, "second try");
  assert.equal(r.headers.get("x-litellm-attempted-retries"), "1");
  assert.equal(mock.requests.length, 2);
  mock.reset();
  const down = await chat("down");
  assert.equal(down.status, 500, down.text);
  assert.equal(JSON.parse(down.text).error.type, "api_error");
  assert.equal(mock.requests.length, 3);
});

test("streams and gateway errors answer through the driven task", async () => {
  const s = await chat("sse", { stream: true });
  assert.equal(s.status, 200, s.text);
  assert.match(s.headers.get("content-type"), /text\/event-stream/);
  assert.ok(s.text.endsWith("data: [DONE]\n\n"), s.text);
  assert.equal(
    s.text
      .split("\n\n")
      .filter((e) => e.startsWith("data: {"))
      .map((e) => JSON.parse(e.slice(6)).choices[0]?.delta?.content ?? "")
      .join(""),
    "abc",
  );
  const unknown = await chat("nope");
  assert.equal(unknown.status, 400, unknown.text);
  const noKey = await fetch(`${url}/v1/chat/completions`, { method: "POST", body: "{}" });
  assert.equal(noKey.status, 401);
});

test("with virtual keys on, the entry's read body is taken by whichever layer reads it", async () => {
  const master = { base: keysUrl };
  await chat("ok", {}, master);
  // A master-key call: the gateway takes the body the entry read (before, with virtual keys on,
  // the gateway read it itself: a wait on a promise, one microtask hop).
  const before = await hops(keysUrl);
  const r = await chat("ok", {}, master);
  assert.equal(r.status, 200, r.text);
  assert.equal(JSON.parse(r.text).choices[0].message.content, "fine");
  assert.equal((await hops(keysUrl)) - before, 0);
  // A management route reads its body in the virtual-key layer.
  const gen = await fetch(`${keysUrl}/key/generate`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ models: ["ok"], key_alias: "driven" }),
  });
  const made = await gen.json();
  assert.equal(gen.status, 200, JSON.stringify(made));
  assert.equal(made.key_alias, "driven");
  // A virtual key's call: that layer reads the body, then the call goes upstream.
  mock.reset();
  const v = await chat("ok", {}, { base: keysUrl, key: made.key });
  assert.equal(v.status, 200, v.text);
  assert.equal(mock.requests.length, 1);
  assert.deepEqual(mock.requests[0].json.messages, user("hi"));
  // The size limit holds on both layers' reads, and a bad body is still refused.
  const big = { messages: user("x".repeat(2_000)) };
  for (const key of [MASTER_KEY, made.key]) {
    const tooBig = await chat("ok", big, { base: keysUrl, key });
    assert.equal(tooBig.status, 413, tooBig.text);
    const bad = await fetch(`${keysUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: "{not json",
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_json");
  }
});
