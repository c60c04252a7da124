// The mock upstream itself (tests/mock/server.mjs), which other suites rely on: queued replies,
// fixture replay, the composable fault paths, origin recording, static files, CORS, and the
// detection of requests the client abandoned.
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { fileURLToPath } from "node:url";

import { loadFixture, redirectFetch, startMockServer } from "../mock/server.mjs";

let mock;
before(async () => {
  mock = await startMockServer({
    routes: { "POST /v1/echo": (r) => ({ body: { got: r.json } }), "/v1/static": { status: 201, body: "plain" } },
    static: { "/files/": fileURLToPath(new URL("../mock/", import.meta.url)) },
  });
});
after(() => mock.close());
beforeEach(() => mock.reset());

const post = (path, body = {}, headers = {}) =>
  fetch(`${mock.url}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });

test("routes, request records, and a 404 in OpenAI's format", async () => {
  const r = await post("/v1/echo?x=1", { a: 1 }, { "x-key": "v" });
  assert.deepEqual(await r.json(), { got: { a: 1 } });
  assert.equal((await fetch(`${mock.url}/v1/static`)).status, 201);
  const miss = await post("/nope");
  assert.equal(miss.status, 404);
  assert.equal((await miss.json()).error.type, "invalid_request_error");
  const [first] = mock.requests;
  assert.equal(first.method, "POST");
  assert.equal(first.path, "/v1/echo?x=1");
  assert.equal(first.url, `${mock.url}/v1/echo?x=1`);
  assert.equal(first.headers["x-key"], "v");
  assert.equal(first.body, '{"a":1}');
  assert.equal(await first.closed, false);
});

test("queued replies come first, in order; fixtures replay status, headers and body", async () => {
  mock.reply({ status: 418, body: { first: true } }).replyFixture("openai", "chat_basic");
  assert.equal((await post("/v1/echo")).status, 418);
  const r = await post("/v1/echo");
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.deepEqual(await r.json(), loadFixture("openai", "chat_basic").upstreamResponse.body);
  assert.deepEqual(await (await post("/v1/echo", { b: 2 })).json(), { got: { b: 2 } });
});

test("a stream is written in several pieces", async () => {
  const fx = loadFixture("openai", "stream_basic");
  mock.replyFixture("openai", "stream_basic", { chunkSize: 100, chunkDelayMs: 5 });
  const r = await post("/v1/chat/completions");
  assert.equal(r.headers.get("content-type"), "text/event-stream");
  let pieces = 0;
  let text = "";
  for await (const b of r.body) {
    pieces++;
    text += Buffer.from(b).toString();
  }
  assert.equal(text, fx.stream.toString());
  assert.ok(pieces > 3, `${pieces} pieces`);
});

test("/__fault/status with Retry-After, also when the query sits in an api_base", async () => {
  const r = await post("/__fault/status/429/v1?retry_after=2&code=rate_limit_exceeded/chat/completions");
  assert.equal(r.status, 429);
  assert.equal(r.headers.get("retry-after"), "2");
  assert.equal((await r.json()).error.code, "rate_limit_exceeded");
  assert.equal(mock.requests[0].upstreamPath, "/v1/chat/completions");
  const m = await post("/__fault/status/503/x?message=down%20now&retry_after_ms=20");
  assert.equal(m.headers.get("retry-after-ms"), "20");
  assert.equal((await m.json()).error.message, "down now");
});

test("/__fixture serves a fixture under any path; /__fault/slow and /__fault/cut compose with it", async () => {
  const fx = loadFixture("openai", "chat_basic");
  const r = await post("/__fixture/openai/chat_basic/v1/chat/completions");
  assert.deepEqual(await r.json(), fx.upstreamResponse.body);
  assert.equal(mock.requests[0].upstreamPath, "/v1/chat/completions");

  const t0 = Date.now();
  await (await post("/__fault/slow/150/__fixture/openai/chat_basic/v1/chat/completions")).json();
  assert.ok(Date.now() - t0 >= 140);

  const cut = await post("/__fault/cut/40/__fixture/openai/stream_basic/v1/chat/completions");
  await assert.rejects(cut.text());
});

test("/__fault/hang never answers; the record sees the client give up", async () => {
  const ac = new AbortController();
  const q = fetch(`${mock.url}/__fault/hang/v1`, { method: "POST", signal: ac.signal }).catch((e) => e);
  await mock.waitForRequests(1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(mock.requests[0].aborted, false);
  ac.abort();
  assert.equal((await q).name, "AbortError");
  assert.equal(await mock.requests[0].closed, true);
  assert.equal(mock.requests[0].aborted, true);
});

test("redirectFetch records the original URL", async () => {
  const restore = redirectFetch(mock);
  try {
    mock.reply({ body: { ok: 1 } });
    const r = await fetch("https://api.example.test/v1/chat/completions?x=1", { method: "POST", body: "{}" });
    assert.deepEqual(await r.json(), { ok: 1 });
  } finally {
    restore();
  }
  assert.equal(mock.requests[0].url, "https://api.example.test/v1/chat/completions?x=1");
  assert.equal(mock.requests[0].upstreamPath, "/v1/chat/completions?x=1");
  assert.equal(mock.originBase("https://api.anthropic.com"), `${mock.url}/__origin/https/api.anthropic.com`);
});

test("static files and CORS preflight are served and not recorded", async () => {
  const f = await fetch(`${mock.url}/files/server.mjs`);
  assert.equal(f.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(await f.text(), /startMockServer/);
  assert.equal((await fetch(`${mock.url}/files/..%2F..%2F..%2FCargo.toml`)).status, 404, "no escape from the static dir");
  const pre = await fetch(`${mock.url}/v1/chat/completions`, {
    method: "OPTIONS",
    headers: { origin: "http://x", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-headers"), "authorization");
  assert.equal(mock.requests.length, 0);
});
