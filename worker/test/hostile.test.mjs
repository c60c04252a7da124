// The hostile-input corpus (tests/hostile/corpus.jsonl, made by tests/hostile/generate.mjs)
// replayed against the built Worker in workerd (Miniflare, a real socket on 127.0.0.1) with
// virtual keys on (KV + Durable Objects), in front of the local mock upstream.
//
// Every case is sent with the master key, without a key, and with a key that is neither the
// master key nor a virtual key (cases about headers carry their own). Each answer must be the
// expected 4xx (never a 5xx) in OpenAI's error shape, `{"error": {"message", "type", "param",
// "code"}}` with `content-type: application/json`, and no request may reach the upstream. Raw
// HTTP cases (what fetch refuses to send) and slow bodies (slowloris) go over plain sockets,
// each bounded in time. After the corpus, normal requests still succeed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { Miniflare } from "miniflare";
import OpenAI from "openai";
import { ENTRY, MASTER_KEY, startMockServer, completionBody, user } from "./helpers.mjs";
import { CORPUS_FILE, LIMIT, render } from "../../tests/hostile/generate.mjs";

const corpus = fs.readFileSync(CORPUS_FILE, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const WRONG_KEY = "sk-neither-master-nor-virtual-0000";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let mock, logger, mf, url, port, virtualKey;
/** The Worker's console output (edge.rs logs `METHOD PATH STATUS MSms group=… id=…` per request). */
let workerLog = "";

before(async () => {
  mock = await startMockServer({
    routes: { "POST /v1/chat/completions": { body: completionBody("still serving") } },
  });
  // The generic webhook logger (success and failure callbacks) gets every call's payload, so
  // the logging path sees the hostile requests too.
  logger = await startMockServer({ routes: { "POST /log": { body: { ok: true } } } });
  const dep = (name, model, base = `${mock.url}/v1`) =>
    `  - model_name: ${name}\n    litellm_params: {model: ${model}, api_base: "${base}", api_key: sk-upstream-test}\n`;
  const config =
    "model_list:\n" +
    dep("ok", "openai/gpt-4o") +
    dep("emb", "openai/text-embedding-3-small") +
    dep("img", "openai/dall-e-3") +
    dep("mod", "openai/omni-moderation-latest") +
    dep("rr", "cohere/rerank-v3.5", mock.url) +
    "router_settings: {num_retries: 0}\n" +
    "litellm_settings: {success_callback: [webhook], failure_callback: [webhook]}\n" +
    "general_settings: {master_key: os.environ/MASTER, max_request_size_mb: 1}\n";
  mf = new Miniflare({
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
    // EDGELLM_ACCESS_LOG: the per-request console line this test reads is opt-in.
    bindings: { EDGELLM_CONFIG: config, MASTER: MASTER_KEY, GENERIC_LOGGER_ENDPOINT: `${logger.url}/log`, EDGELLM_ACCESS_LOG: "1" },
    cf: false,
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio(stdout, stderr) {
      for (const s of [stdout, stderr]) s.on("data", (d) => (workerLog += d.toString()));
    },
  });
  url = (await mf.ready).href.replace(/\/$/, "");
  port = Number(new URL(url).port);
  // A valid virtual key with a budget: hostile requests must neither spend nor leave money
  // reserved on it.
  const r = await fetch(`${url}/key/generate`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ max_budget: 1, key_alias: "hostile" }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  virtualKey = (await r.json()).key;
});

after(async () => {
  await mf?.dispose();
  await mock?.close();
  await logger?.close();
});

// ---- building requests -------------------------------------------------------------------------
const subst = (s) =>
  s.replaceAll("$MASTER_PREFIX", MASTER_KEY.slice(0, -2)).replaceAll("$MASTER", MASTER_KEY);

/** A body spec (list of parts) as bytes. */
function bytesOf(parts = []) {
  return Buffer.concat(
    parts.map((p) => {
      if (p.text !== undefined) return Buffer.from(subst(p.text), "utf8");
      if (p.b64 !== undefined) return Buffer.from(p.b64, "base64");
      if (p.repeat !== undefined) return Buffer.from(p.repeat.repeat(p.times), "utf8");
      throw new Error(`unknown body part ${JSON.stringify(p)}`);
    }),
  );
}

/** Header values as fetch takes them: `$MASTER` substituted, Latin-1 kept as bytes. */
function headersFor(c, mode) {
  const h = {};
  for (const [k, v] of Object.entries(c.headers ?? {})) if (!k.startsWith("$")) h[k] = subst(v);
  if (mode === "master") h.authorization = `Bearer ${MASTER_KEY}`;
  if (mode === "wrong") h.authorization = `Bearer ${WRONG_KEY}`;
  if (mode === "virtual") h.authorization = `Bearer ${virtualKey}`;
  if (c.body && !Object.keys(h).some((k) => k.toLowerCase() === "content-type")) h["content-type"] = "application/json";
  return h;
}

let rawIds = 0;
/** Requests whose answer the local runtime lost on the wire (status taken from the log). */
const lost = [];

/** The status the Worker logged for request `id`, waiting up to 2 s for the line. */
async function loggedStatus(id) {
  const re = new RegExp(` (\\d{3}) \\d+ms group=\\S* id=${id}\\b`);
  for (let i = 0; i < 40; i++) {
    const m = re.exec(workerLog);
    if (m) return Number(m[1]);
    await sleep(50);
  }
  return undefined;
}

/**
 * Large and chunked bodies go over a plain socket: the gateway answers 401/413 without reading
 * them to the end and closes, which fetch reports as a failed write instead of the answer.
 */
async function sendRaw(c, mode, body) {
  const chunk = Number(c.headers?.$chunked ?? 0);
  const h = headersFor(c, mode);
  const id = `hostile-raw-${++rawIds}`;
  if (!Object.keys(h).some((k) => k.toLowerCase() === "x-request-id")) h["x-request-id"] = id;
  const lines = [`${c.method} ${c.path} HTTP/1.1`, "Host: 127.0.0.1", "Connection: close"];
  for (const [k, v] of Object.entries(h)) lines.push(`${k}: ${v}`);
  lines.push(chunk ? "Transfer-Encoding: chunked" : `Content-Length: ${body.length}`);
  // Written in pieces with a pause after each, stopping once an answer arrives: workerd closes
  // the connection right after answering without reading the rest (no lingering close), and a
  // client whose bytes are still unread then gets a reset that can discard the answer (fetch
  // reports "write ECONNRESET"). That is the local runtime's transport, not the gateway's
  // answer, so a reset without any answer is retried with longer pauses.
  let res;
  for (const pauseMs of [2, 25, 100]) {
    res = await exchangeOnce(pauseMs);
    if (!(res.closed && !res.got)) break;
  }
  if (res.closed && !res.got && h["x-request-id"] === id) {
    // Every try lost the answer on the wire: take the status the gateway logged for it.
    const status = await loggedStatus(id);
    if (status !== undefined) {
      lost.push(`${c.name} [${mode}]`);
      return { status, lost: true, headers: new Headers(), text: "" };
    }
  }
  assert.ok(!res.timedOut && !res.closed, `${c.name} [${mode}]: no answer: ${JSON.stringify(res)}`);
  return res;

  function exchangeOnce(pauseMs) {
    return rawExchange(async (sock, answered) => {
      sock.write(Buffer.from(lines.join("\r\n") + "\r\n\r\n", "latin1"));
      const step = chunk || 65536;
      for (let at = 0; at < body.length && !sock.destroyed; at += step) {
        await sleep(pauseMs);
        if (answered() || sock.destroyed) return;
        // A chunked body past the limit: stop and wait; the gateway must answer while reading,
        // without waiting for the end of the body.
        if (chunk && at > LIMIT) return;
        const piece = body.subarray(at, at + step);
        let ok = true;
        if (chunk) ok = sock.write(`${piece.length.toString(16)}\r\n`) && ok;
        ok = sock.write(piece) && ok;
        if (chunk) ok = sock.write("\r\n") && ok;
        if (!ok) await new Promise((r) => (sock.once("drain", r), sock.once("close", r)));
      }
      if (chunk && !sock.destroyed) sock.write("0\r\n\r\n");
    }, 20_000);
  }
}

async function send(c, mode) {
  const body = c.body ? bytesOf(c.body) : undefined;
  if (body && (c.headers?.$chunked || body.length > 16 * 1024)) return sendRaw(c, mode, body);
  const init = { method: c.method, headers: headersFor(c, mode), signal: AbortSignal.timeout(20_000) };
  if (body !== undefined && !["GET", "HEAD"].includes(c.method)) init.body = body;
  const res = await fetch(url + c.path, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

// ---- checking answers ----------------------------------------------------------------------------
/** The OpenAI error shape: every field present, message and type strings. */
function assertOpenAiError(text, what) {
  let j;
  assert.doesNotThrow(() => (j = JSON.parse(text)), `${what}: body is not JSON: ${text.slice(0, 300)}`);
  assert.equal(typeof j?.error, "object", `${what}: no error object: ${text.slice(0, 300)}`);
  assert.equal(typeof j.error.message, "string", `${what}: error.message`);
  assert.ok(j.error.message.length > 0, `${what}: empty error.message`);
  assert.equal(typeof j.error.type, "string", `${what}: error.type`);
  assert.ok("code" in j.error && "param" in j.error, `${what}: error.code/param missing: ${text.slice(0, 300)}`);
  assert.ok(j.error.code === null || typeof j.error.code === "string", `${what}: error.code type`);
  assert.ok(j.error.param === null || typeof j.error.param === "string", `${what}: error.param type`);
  return j.error;
}

function check(res, expect, what, sent = {}) {
  const head = `${what} → ${res.status} ${res.text.slice(0, 400)}`;
  if (expect.runtime && res.status === expect.runtime.status) {
    // The runtime's own HTTP parser answered (see the case's `why`); a 5xx from there must not
    // come from the gateway, which stamps every answer with x-request-id.
    if (res.status >= 500) assert.equal(res.headers.get("x-request-id"), null, `${head}: a 5xx from the gateway`);
    return;
  }
  assert.ok(res.status < 500, `5xx: ${head}`);
  if (expect.status4xx) assert.ok(res.status >= 400 && res.status < 500, head);
  else assert.equal(res.status, expect.status, head);
  // The answer was lost by the local runtime's transport (see sendRaw); its status is known.
  if (res.lost) return;
  if (expect.noHeader) assert.equal(res.headers.get(expect.noHeader), null, `${what}: ${expect.noHeader} echoed`);
  if (expect.headOnly || (expect.status4xx && !expect.json)) return;
  assert.match(res.headers.get("content-type") ?? "", /^application\/json\b/, `${what}: content-type`);
  assert.ok(res.headers.get("x-request-id"), `${what}: x-request-id`);
  const e = assertOpenAiError(res.text, what);
  if (expect.code) assert.equal(e.code, expect.code, head);
  if (expect.param) assert.equal(e.param, expect.param, head);
  if (expect.type) assert.equal(e.type, expect.type, head);
  if (expect.message) assert.ok(e.message.toLowerCase().includes(expect.message.toLowerCase()), `${head}: message should mention ${expect.message}`);
  if (expect.allow) assert.equal(res.headers.get("allow"), expect.allow, head);
  if (expect.freshRequestId) {
    const id = res.headers.get("x-request-id");
    assert.match(id, UUID, `${what}: a fresh UUID, not the caller's id`);
    assert.notEqual(id, sent["x-request-id"]);
  }
}

/** Runs `fn` and asserts the upstream saw no request meanwhile. */
async function noUpstream(what, fn) {
  const before = mock.requests.length;
  const out = await fn();
  assert.equal(mock.requests.length, before, `${what}: invalid input reached the upstream: ${JSON.stringify(mock.requests.at(-1)?.json)?.slice(0, 200)}`);
  return out;
}

// ---- raw sockets ---------------------------------------------------------------------------------
/** Parses the first HTTP/1.1 response in `buf` (null if none yet). */
function parseResponse(buf) {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return { status: 0, headers: new Headers(), text: buf.toString("latin1") };
  const headers = new Headers();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    if (i > 0) headers.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  let body = buf.subarray(end + 4);
  const len = headers.get("content-length");
  if (len !== null) {
    if (body.length < Number(len)) return null;
    body = body.subarray(0, Number(len));
  } else if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const out = [];
    let rest = body;
    for (;;) {
      const nl = rest.indexOf("\r\n");
      if (nl < 0) return null;
      const size = parseInt(rest.subarray(0, nl).toString(), 16);
      if (size === 0) break;
      if (rest.length < nl + 2 + size + 2) return null;
      out.push(rest.subarray(nl + 2, nl + 2 + size));
      rest = rest.subarray(nl + 2 + size + 2);
    }
    body = Buffer.concat(out);
  }
  return { status: Number(m[1]), headers, text: body.toString("utf8") };
}

/**
 * Opens a socket, runs `write(socket)` and collects the first response; resolves with it, or with
 * `{closed: true}` if the server closed without one, or `{timedOut: true}` after `timeoutMs`.
 */
function rawExchange(write, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish({ timedOut: true }), timeoutMs);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseResponse(buf);
      if (r) finish(r);
    });
    sock.on("error", (e) => (["ECONNRESET", "EPIPE"].includes(e.code) ? finish(parseResponse(buf) ?? { closed: true, got: buf.toString("latin1").slice(0, 300) }) : reject(e)));
    sock.on("close", () => finish(parseResponse(buf) ?? { closed: true, got: buf.toString("latin1").slice(0, 300) }));
    sock.on("connect", () => write(sock, () => done || buf.length > 0).catch((e) => (done ? undefined : reject(e))));
  });
}

const writeAll = (bytes) => async (sock) => {
  sock.write(bytes);
};

/** A quick request that must be answered promptly while a slow one is in progress. */
async function promptlyServed(what) {
  const t0 = Date.now();
  const r = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` }, signal: AbortSignal.timeout(5_000) });
  assert.equal(r.status, 200, `${what}: /v1/models during a slow request`);
  await r.arrayBuffer();
  const ms = Date.now() - t0;
  assert.ok(ms < 2_000, `${what}: /v1/models took ${ms} ms during a slow request`);
}

async function runRaw(c) {
  const res = await noUpstream(c.name, async () => {
    const r = await rawExchange(writeAll(bytesOf(c.request)), 8_000);
    // Bytes after a request on the same connection may form another request: let it finish.
    await sleep(150);
    return r;
  });
  assert.ok(!res.timedOut, `${c.name}: no answer within 8 s`);
  if (res.closed) {
    // The runtime may drop a connection whose request line it cannot parse at all.
    assert.ok(c.expect.closedOk, `${c.name}: connection closed without a response`);
    return;
  }
  check(res, c.expect, c.name);
  if (c.expect.json) assertOpenAiError(res.text, c.name);
  await promptlyServed(`${c.name} (next request)`);
}

function slowHead(c, extra) {
  return [`POST ${c.path} HTTP/1.1`, "Host: x", `Authorization: Bearer ${MASTER_KEY}`, "Content-Type: application/json", ...extra, "Connection: close", "", ""].join("\r\n");
}

async function runSlow(c) {
  const body = bytesOf(c.body);
  if (c.mode === "trickle") {
    const size = Math.ceil(body.length / c.pieces);
    const t0 = Date.now();
    const pending = rawExchange(async (sock) => {
      sock.write(slowHead(c, [`Content-Length: ${body.length}`]));
      for (let i = 0; i < c.pieces; i++) {
        await sleep(c.delayMs);
        sock.write(body.subarray(i * size, (i + 1) * size));
      }
    }, 15_000);
    await sleep(c.delayMs * 3);
    await promptlyServed(c.name);
    const res = await pending;
    assert.ok(!res.timedOut && !res.closed, `${c.name}: ${JSON.stringify(res)}`);
    assert.ok(Date.now() - t0 >= c.pieces * c.delayMs * 0.8, `${c.name}: answered before the body was complete`);
    check(res, c.expect, c.name);
  } else if (c.mode === "stall") {
    let answered = false;
    const sock = net.connect(port, "127.0.0.1");
    sock.on("data", () => (answered = true));
    sock.on("error", () => {});
    await new Promise((r) => sock.on("connect", r));
    sock.write(slowHead(c, [`Content-Length: ${body.length}`]));
    sock.write(body.subarray(0, body.length >> 1));
    await sleep(200);
    await promptlyServed(c.name);
    await sleep(c.stallMs - 200);
    // The gateway waits for the promised bytes; it must not answer from half a body.
    assert.equal(answered, false, `${c.name}: answered before the body was complete`);
    sock.destroy();
    await sleep(100);
    await promptlyServed(`${c.name} (after the client went away)`);
  } else if (c.mode === "headers") {
    const bytes = Buffer.from(`GET ${c.path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${MASTER_KEY}\r\nConnection: close\r\n\r\n`);
    const pending = rawExchange(async (sock) => {
      for (const b of bytes) {
        sock.write(Buffer.from([b]));
        await sleep(c.delayMs);
      }
    }, 20_000);
    await sleep(300);
    await promptlyServed(c.name);
    const res = await pending;
    assert.ok(!res.timedOut && !res.closed, `${c.name}: ${JSON.stringify(res)}`);
    check(res, c.expect, c.name);
  } else if (c.mode === "trickle-oversized") {
    let sent = 0;
    const res = await rawExchange(async (sock) => {
      sock.write(slowHead(c, ["Transfer-Encoding: chunked"]));
      const piece = Buffer.alloc(c.pieceBytes, 0x61);
      for (let i = 0; i < c.pieces && !sock.destroyed; i++) {
        await sleep(c.delayMs);
        if (sock.destroyed) break;
        sock.write(`${piece.length.toString(16)}\r\n`);
        sock.write(piece);
        sock.write("\r\n");
        sent += piece.length;
      }
      if (!sock.destroyed) sock.write("0\r\n\r\n");
    }, 15_000);
    assert.ok(!res.timedOut && !res.closed, `${c.name}: ${JSON.stringify(res)} after ${sent} bytes`);
    check(res, c.expect, c.name);
  } else {
    throw new Error(`unknown slow mode ${c.mode}`);
  }
}

// ---- the tests -----------------------------------------------------------------------------------
test("the corpus file is what tests/hostile/generate.mjs makes, with at least 200 cases", () => {
  assert.equal(fs.readFileSync(CORPUS_FILE, "utf8"), render(), "run: node tests/hostile/generate.mjs");
  assert.ok(corpus.length >= 200, `${corpus.length} cases`);
});

const MODES = ["master", "none", "wrong", "virtual"];

for (const group of ["body", "field", "mgmt", "mutation", "routing", "headers"]) {
  test(`hostile ${group} cases: the expected OpenAI-style 4xx, nothing sent upstream`, async (t) => {
    const cases = corpus.filter((c) => !c.transport && c.name.startsWith(group));
    assert.ok(cases.length > 0);
    for (const c of cases) {
      await t.test(c.name, async () => {
        const modes = c.auth === "custom" ? ["custom"] : MODES;
        for (const mode of modes) {
          const expect = { master: c.expect, custom: c.expect, none: c.noauth, wrong: c.wrongkey, virtual: c.virtual }[mode];
          // `virtual: null`: a valid request with a virtual key (see the generator).
          if (expect === null) continue;
          assert.ok(expect, `${c.name}: no expectation for ${mode}`);
          const res = await noUpstream(`${c.name} [${mode}]`, () => send(c, mode));
          check(res, expect, `${c.name} [${mode}]`, headersFor(c, mode));
        }
      });
    }
  });
}

test("hostile raw HTTP cases: refused with a 4xx (never a 5xx), nothing sent upstream", async (t) => {
  for (const c of corpus.filter((c) => c.transport === "raw")) {
    await t.test(c.name, () => runRaw(c));
  }
});

test("hostile slow bodies (slowloris): bounded, answered by the normal rules, others keep being served", async (t) => {
  for (const c of corpus.filter((c) => c.transport === "slow")) {
    await t.test(c.name, () => noUpstream(c.name, () => runSlow(c)));
  }
});

test("after the whole corpus the gateway still serves normal requests", async (t) => {
  t.diagnostic(`${corpus.length} cases; ${lost.length} answers lost on the wire by workerd and read from the Worker's log`);
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: MASTER_KEY, maxRetries: 0, timeout: 20_000 });
  const before = mock.requests.length;
  for (let i = 0; i < 3; i++) {
    const r = await client.chat.completions.create({ model: "ok", messages: user("hello") });
    assert.equal(r.choices[0].message.content, "still serving");
  }
  assert.equal(mock.requests.length, before + 3);
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id).sort(), ["emb", "img", "mod", "ok", "rr"]);
  // The virtual key the corpus used: nothing spent, nothing left reserved, still usable.
  const info = async () => {
    const res = await fetch(`${url}/key/info?key=${encodeURIComponent(virtualKey)}`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    assert.equal(res.status, 200);
    return (await res.json()).info;
  };
  const used = await info();
  assert.match(used.spend_exact, /^0\.0+$/, `spend after the corpus: ${used.spend_exact}`);
  assert.match(used.reserved_exact, /^0\.0+$/, `reserved after the corpus: ${used.reserved_exact}`);
  const virtual = new OpenAI({ baseURL: `${url}/v1`, apiKey: virtualKey, maxRetries: 0, timeout: 20_000 });
  const r = await virtual.chat.completions.create({ model: "ok", messages: user("hello") });
  assert.equal(r.choices[0].message.content, "still serving");
  assert.ok(logger.requests.length > 0, "the webhook logger was called during the corpus");
});
