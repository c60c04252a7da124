// Request bodies the JS entry reads before calling into wasm (worker/js/entry.mjs `preread`:
// a declared length up to 1 MiB, virtual keys off) answer exactly as bodies the gateway reads
// itself: size limit, auth, empty and invalid bodies, chunked uploads. And an upstream body read
// whole with the response (src/wasm/fetch.rs `edgellm_fetch`) that fails while it is read still
// counts as one attempt toward `num_retries`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startGateway, startMockServer, completionBody, user, postChunked, MASTER_KEY, UPSTREAM_KEY } from "./helpers.mjs";

let mock, gw, cutServer;
let cutRequests = 0;

before(async () => {
  // Declares a length, sends part of the body, drops the connection: a body that fails while
  // it is read whole (the mock server frames a cut body as chunked).
  cutServer = http.createServer((req, res) => {
    cutRequests++;
    req.resume();
    req.on("end", () => {
      const body = JSON.stringify(completionBody("never complete"));
      res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      res.write(body.slice(0, 40));
      setTimeout(() => res.socket?.destroy(), 5);
    });
  });
  await new Promise((resolve) => cutServer.listen(0, "127.0.0.1", resolve));
  const cutBase = `http://127.0.0.1:${cutServer.address().port}/v1`;
  mock = await startMockServer({
    routes: { "POST /v1/chat/completions": { body: completionBody("fine") } },
  });
  const config =
    "model_list:\n" +
    `  - model_name: ok\n    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/v1", api_key: os.environ/UPSTREAM_KEY}\n` +
    `  - model_name: cut\n    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/__fault/cut/40/v1", api_key: os.environ/UPSTREAM_KEY}\n` +
    `  - model_name: cutlen\n    litellm_params: {model: openai/gpt-4o, api_base: "${cutBase}", api_key: os.environ/UPSTREAM_KEY}\n` +
    "router_settings: {num_retries: 2, retry_after: 0}\n" +
    // 1,048 bytes: small enough that the entry reads every body of these tests itself.
    "general_settings: {master_key: os.environ/MASTER, max_request_size_mb: 0.001}\n";
  gw = await startGateway({ config, vars: { UPSTREAM_KEY, MASTER: MASTER_KEY } });
});

after(async () => {
  await gw?.close();
  await mock?.close();
  await new Promise((resolve) => (cutServer ? cutServer.close(resolve) : resolve()));
});

async function post(body, headers = { authorization: `Bearer ${MASTER_KEY}` }) {
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers, body });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, text, json };
}

test("a body read by the entry reaches the upstream unchanged and answers", async () => {
  mock.reset();
  const body = JSON.stringify({ model: "ok", messages: user("héllo ✓"), temperature: 0.5 });
  const r = await post(body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.choices[0].message.content, "fine");
  assert.equal(mock.requests.length, 1);
  assert.deepEqual(mock.requests[0].json.messages, user("héllo ✓"));
  assert.equal(mock.requests[0].json.temperature, 0.5);
});

test("the declared length is checked against max_request_size_mb before the body is used", async () => {
  const big = JSON.stringify({ model: "ok", messages: user("x".repeat(2_000)) });
  const r = await post(big);
  assert.equal(r.status, 413, r.text);
  assert.equal(r.json.error.code, "request_too_large");
  // The same body sent chunked (no content-length) is read and cut off by the gateway.
  const chunked = await postChunked(`${gw.url}/v1/chat/completions`, [big]);
  assert.equal(chunked.status, 413);
  assert.equal((await chunked.json()).error.code, "request_too_large");
});

// workerd closes a connection whose request body was left unread, without saying so; a client
// that sends its next request on it (as fetch's keep-alive pool does) gets a reset.
test("a body refused with 413 leaves the connection usable for the next request", async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (body, chunked) =>
    new Promise((resolve) => {
      const headers = { authorization: `Bearer ${MASTER_KEY}` };
      if (!chunked) headers["content-length"] = Buffer.byteLength(body);
      const req = http.request(`${gw.url}/v1/chat/completions`, { method: "POST", agent, headers }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode, reused: req.reusedSocket }));
      });
      req.on("error", (e) => resolve({ status: e.code, reused: req.reusedSocket }));
      // A chunked body goes in several pieces, so some of it is still unread at the 413.
      if (chunked) for (let at = 0; at < body.length; at += 65536) req.write(body.slice(at, at + 65536));
      req.end(chunked ? undefined : body);
    });
  const small = JSON.stringify({ model: "ok", messages: user("x") });
  const big = JSON.stringify({ model: "ok", messages: user("x".repeat(200_000)) });
  try {
    assert.deepEqual(await send(small), { status: 200, reused: false });
    assert.deepEqual(await send(big, true), { status: 413, reused: true });
    // Give a close time to arrive, as a client's idle pool would.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await send(small), { status: 200, reused: true });
    // A declared length past what the entry reads itself (1 MiB): the gateway reads none of it
    // for the answer, and drops the rest before answering.
    const huge = JSON.stringify({ model: "ok", messages: user("x".repeat(1_500_000)) });
    assert.deepEqual(await send(huge), { status: 413, reused: true });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await send(small), { status: 200, reused: true });
  } finally {
    agent.destroy();
  }
});

test("auth, empty and invalid bodies answer as before", async () => {
  const body = JSON.stringify({ model: "ok", messages: user("x") });
  const noKey = await post(body, {});
  assert.equal(noKey.status, 401, noKey.text);
  const wrongKey = await post(body, { authorization: "Bearer sk-wrong" });
  assert.equal(wrongKey.status, 401, wrongKey.text);
  const empty = await post("");
  assert.equal(empty.status, 400, empty.text);
  assert.match(empty.json.error.message, /empty/);
  const invalid = await post("{not json");
  assert.equal(invalid.status, 400, invalid.text);
  assert.equal(invalid.json.error.code, "invalid_json");
  const models = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  assert.equal(models.status, 200);
  assert.deepEqual((await models.json()).data.map((m) => m.id).sort(), ["cut", "cutlen", "ok"]);
});

test("an upstream body cut while it is read counts toward num_retries (at most N+1 requests)", async () => {
  mock.reset();
  const r = await post(JSON.stringify({ model: "cut", messages: user("x") }));
  assert.equal(r.status >= 500, true, r.text);
  assert.equal(mock.requests.length, 3, "num_retries: 2 → 3 upstream requests");
  // The same with a declared length (read in one arrayBuffer() with the response).
  cutRequests = 0;
  const len = await post(JSON.stringify({ model: "cutlen", messages: user("x") }));
  assert.equal(len.status >= 500, true, len.text);
  assert.equal(cutRequests, 3, "num_retries: 2 → 3 upstream requests");
  const again = await post(JSON.stringify({ model: "ok", messages: user("x") }));
  assert.equal(again.status, 200, again.text);
});
