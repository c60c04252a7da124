// Answers given before the request body is read (401 for a missing or wrong key, 404, 405, the
// virtual-key layer's management refusals) leave a keep-alive connection usable. workerd closes
// a connection whose request body was left unread, without a `connection: close`, so a client
// that sends its next request on it (fetch's keep-alive pool, the OpenAI SDKs) gets a reset.
// The gateway reads and drops such a body before answering, with the bounds of the 413 case
// (worker/src/edge.rs `drain`): at most 4 MiB, each piece within 50 ms. A client that stops
// sending still gets its answer, and so does one whose body is past that bound.
//
// The entry (worker/js/entry.mjs) reads bodies up to 1 MiB with a content-length itself, so
// the bodies here are chunked (200 KB) or declare 1.5 MB.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startGateway, startMockServer, completionBody, user, MASTER_KEY, UPSTREAM_KEY } from "./helpers.mjs";
import { startKeysGateway } from "./keys-helpers.mjs";

const CHUNKED = JSON.stringify({ model: "ok", messages: user("x".repeat(200_000)) });
const DECLARED = JSON.stringify({ model: "ok", messages: user("x".repeat(1_500_000)) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let mock, gw, keys, virtualKey;

before(async () => {
  mock = await startMockServer({
    routes: { "POST /v1/chat/completions": { body: completionBody("fine") } },
  });
  const config =
    "model_list:\n" +
    `  - model_name: ok\n    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/v1", api_key: os.environ/UPSTREAM_KEY}\n` +
    "router_settings: {num_retries: 0}\n" +
    "general_settings: {master_key: os.environ/MASTER}\n";
  gw = await startGateway({ config, vars: { UPSTREAM_KEY, MASTER: MASTER_KEY } });
  keys = await startKeysGateway();
  virtualKey = await keys.generate({});
});

after(async () => {
  await gw?.close();
  await keys?.close();
  await mock?.close();
});

/**
 * Sends one request on `agent`; resolves with its status (or the socket error's code) and
 * whether it went on a reused socket. A chunked body goes in 64 KiB pieces, so most of it is
 * still unsent when the gateway has the head.
 */
function send(agent, base, { method = "POST", path = "/v1/chat/completions", key = MASTER_KEY, body, chunked = false }) {
  return new Promise((resolve) => {
    const headers = key ? { authorization: `Bearer ${key}` } : {};
    if (body !== undefined && !chunked) headers["content-length"] = Buffer.byteLength(body);
    const req = http.request(`${base}${path}`, { method, agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, reused: req.reusedSocket }));
    });
    req.on("error", (e) => resolve({ status: e.code, reused: req.reusedSocket }));
    if (body !== undefined && chunked) for (let at = 0; at < body.length; at += 65536) req.write(body.slice(at, at + 65536));
    req.end(body !== undefined && !chunked ? body : undefined);
  });
}

/**
 * On a keep-alive agent with one socket: a good request, then `early` (expected to answer
 * `status`), then a good request again, which must go on the same socket and answer 200.
 */
async function keepsConnection(base, early, status, good = { body: JSON.stringify({ model: "ok", messages: user("x") }) }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.deepEqual(await send(agent, base, good), { status: 200, reused: false });
    assert.deepEqual(await send(agent, base, early), { status, reused: true });
    // Give a close time to arrive, as a client's idle pool would.
    await sleep(50);
    assert.deepEqual(await send(agent, base, good), { status: 200, reused: true }, "the request after the early answer");
  } finally {
    agent.destroy();
  }
}

test("401 (no key) to a 200 KB chunked body keeps the connection", async () => {
  await keepsConnection(gw.url, { key: null, body: CHUNKED, chunked: true }, 401);
});

test("401 (wrong key) to a 1.5 MB declared-length body keeps the connection", async () => {
  await keepsConnection(gw.url, { key: "sk-wrong", body: DECLARED }, 401);
});

test("404 (unknown route) with a body keeps the connection", async () => {
  await keepsConnection(gw.url, { path: "/v1/nope", body: CHUNKED, chunked: true }, 404);
  await keepsConnection(gw.url, { path: "/v1/nope", body: DECLARED }, 404);
});

test("405 (wrong method) with a body keeps the connection", async () => {
  await keepsConnection(gw.url, { path: "/v1/models", body: CHUNKED, chunked: true }, 405);
  await keepsConnection(gw.url, { method: "PUT", body: DECLARED }, 405);
});

test("virtual keys: early answers of the key layer and of the gateway behind it keep the connection", async () => {
  const good = { key: virtualKey, body: JSON.stringify({ model: "gpt", messages: user("x") }) };
  // A management route called with a key that is not the master key: refused from the head.
  await keepsConnection(keys.url, { path: "/key/generate", key: virtualKey, body: CHUNKED, chunked: true }, 401, good);
  await keepsConnection(keys.url, { path: "/key/generate", key: null, body: DECLARED }, 401, good);
  // A management route with the wrong method (the master key): 405 before any body is read.
  await keepsConnection(keys.url, { method: "PUT", path: "/key/generate", body: CHUNKED, chunked: true }, 405, good);
  // A virtual key on an unknown route or with the wrong method.
  await keepsConnection(keys.url, { path: "/v1/nope", key: virtualKey, body: DECLARED }, 404, good);
  await keepsConnection(keys.url, { path: "/v1/models", key: virtualKey, body: CHUNKED, chunked: true }, 405, good);
  // Neither the master key nor a virtual key the layer knows: the gateway's own 401.
  await keepsConnection(keys.url, { key: null, body: CHUNKED, chunked: true }, 401, good);
});

test("a client that stops sending still gets its early answer after the bounded wait", async () => {
  const answered = await new Promise((resolve, reject) => {
    const started = Date.now();
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-length": String(DECLARED.length) },
    });
    req.on("response", (res) => {
      res.resume();
      resolve({ status: res.statusCode, ms: Date.now() - started });
      req.destroy();
    });
    req.on("error", reject);
    // A tenth of the declared body, then nothing.
    req.write(DECLARED.slice(0, 150_000));
    setTimeout(() => reject(new Error("no answer within 5 s")), 5_000).unref();
  });
  assert.equal(answered.status, 401);
  assert.ok(answered.ms < 3_000, `answered after ${answered.ms} ms`);
});

test("a body past the drain bound still gets its early answer", async () => {
  // Declared past 4 MiB: not read at all, answered at once (the connection may close then).
  const huge = "x".repeat(6 << 20);
  const declared = await new Promise((resolve, reject) => {
    const req = http.request(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-length": String(huge.length) },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode);
      req.destroy();
    });
    req.on("error", reject);
    // The head alone: bytes sent and never read would make the close a reset, which may
    // overtake the answer on the client's side.
    req.flushHeaders();
    setTimeout(() => reject(new Error("no answer within 5 s")), 5_000).unref();
  });
  assert.equal(declared, 401);
  // Chunked and still coming past 4 MiB: the drain gives up there and answers.
  const chunked = await new Promise((resolve, reject) => {
    const req = http.request(`${gw.url}/v1/chat/completions`, { method: "POST" });
    let done = false;
    req.on("response", (res) => {
      done = true;
      res.resume();
      resolve(res.statusCode);
      req.destroy();
    });
    // Writes after the answer may fail once the server closes: that is allowed.
    req.on("error", (e) => (done ? undefined : reject(e)));
    const more = (at) => {
      if (done || at >= huge.length) return;
      req.write(huge.slice(at, at + 65536), () => more(at + 65536));
    };
    more(0);
    setTimeout(() => reject(new Error("no answer within 10 s")), 10_000).unref();
  });
  assert.equal(chunked, 401);
});
