// A local mock upstream for Node tests: replays fixture scenarios, records every request it
// receives, and injects faults (error statuses, Retry-After, hangs, slow or cut streams).
//
//   import { startMockServer, redirectFetch } from "../mock/server.mjs";
//   const mock = await startMockServer();                  // 127.0.0.1, random port
//   mock.replyFixture("openai", "chat_basic");             // next request gets this fixture's response
//   const restore = redirectFetch(mock);                   // https://api.openai.com/... → the mock
//   ... call the SDK ...
//   mock.requests[0].url       // "https://api.openai.com/v1/chat/completions" (the original URL)
//   mock.requests[0].headers   // lowercase names; mock.requests[0].json is the parsed body
//   restore(); await mock.close();
//
// How a request is answered, first match wins:
//   1. queued replies (`mock.reply(spec, ...)`, `mock.replyFixture(...)`), one per request, FIFO;
//   2. path prefixes, which compose (strip the prefix, route the rest):
//        /__origin/<http|https>/<host>/...  records the original URL (used by redirectFetch)
//        /__fault/status/<code>/...         an OpenAI-style error (?retry_after=S&retry_after_ms=MS&code=&type=&message=;
//                                           the query may sit in an api_base: `<mock>/__fault/status/429/v1?retry_after=1`)
//        /__fault/hang/...                  never answers (until the client goes away)
//        /__fault/slow/<ms>/...             waits <ms> before answering with what the rest routes to
//        /__fault/cut/<bytes>/...           answers with what the rest routes to, then drops the
//                                           connection after <bytes> bytes of body
//        /__fixture/<provider>/<scenario>/... the fixture's recorded response (any path below)
//   3. `routes`: { "POST /v1/chat/completions": spec | (record) => spec, "/path": ... };
//   4. `static`: { "/prefix/": "/dir" } serves files (for browser pages and pkg/web);
//   5. otherwise a 404 in OpenAI's error format.
//
// A response spec: { status = 200, headers = {}, body (object → JSON, string, Buffer),
//   stream (string | Buffer, written in several pieces with small delays), chunkSize,
//   chunkDelayMs, delayMs (before the headers), hang, cutAfter (bytes), holdOpen (never end) }.
// A fixture's `body: "..."` string is sent as raw text, an object as JSON.
//
// Every request record: { method, path, upstreamPath, url, headers, body, json, aborted,
//   closed } where `closed` is a promise that resolves to true if the client closed the
//   connection before the response was complete (a cancelled stream) and false otherwise.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The shared fixture corpus (tests/fixtures). */
export const FIXTURES_DIR = fileURLToPath(new URL("../fixtures/", import.meta.url));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readJson(file) {
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
}

/**
 * Loads one scenario of the fixture corpus.
 * @returns {{ name, dir, input, upstreamRequest, upstreamResponse, stream?: Buffer,
 *             expected?, expectedChunks?: object[] }}
 */
export function loadFixture(provider, scenario, root = FIXTURES_DIR) {
  const dir = path.join(root, provider, scenario);
  if (!fs.existsSync(path.join(dir, "input.json"))) {
    throw new Error(`no fixture ${provider}/${scenario} in ${root}`);
  }
  const streamFile = path.join(dir, "upstream.stream");
  const chunksFile = path.join(dir, "expected_chunks.jsonl");
  return {
    name: `${provider}/${scenario}`,
    provider,
    scenario,
    dir,
    input: readJson(path.join(dir, "input.json")),
    upstreamRequest: readJson(path.join(dir, "upstream_request.json")),
    upstreamResponse: readJson(path.join(dir, "upstream_response.json")),
    stream: fs.existsSync(streamFile) ? fs.readFileSync(streamFile) : undefined,
    expected: readJson(path.join(dir, "expected.json")),
    expectedChunks: fs.existsSync(chunksFile)
      ? fs.readFileSync(chunksFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l))
      : undefined,
  };
}

/** The scenario names of a provider (directories holding an input.json), sorted. */
export function listFixtures(provider, root = FIXTURES_DIR) {
  const dir = path.join(root, provider);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((s) => fs.existsSync(path.join(dir, s, "input.json")))
    .sort();
}

/**
 * The response specs that replay a fixture's upstream response(s): `upstream_response.json` may
 * be an array (retry scenarios); the raw `upstream.stream` belongs to the last one.
 */
export function fixtureSpecs(fixture, overrides = {}) {
  const list = [].concat(fixture.upstreamResponse ?? []);
  return list.map((r, i) => {
    const spec = { status: r.status ?? 200, headers: { ...(r.headers ?? {}) } };
    if (fixture.stream !== undefined && i === list.length - 1) spec.stream = fixture.stream;
    else if (r.body !== undefined && r.body !== null) spec.body = r.body;
    return { ...spec, ...overrides };
  });
}

function openaiError(status, { message, type, code } = {}) {
  return {
    error: {
      message: message ?? `mock error ${status}`,
      type: type ?? (status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error"),
      param: null,
      code: code ?? null,
    },
  };
}

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".map": "application/json",
};

/**
 * Starts the mock server on 127.0.0.1 (random port).
 * @param {{ routes?: object, static?: Record<string, string>, fixtures?: string,
 *           chunkSize?: number, chunkDelayMs?: number }} [options]
 */
export async function startMockServer(options = {}) {
  const routes = options.routes ?? {};
  const statics = options.static ?? {};
  const fixturesRoot = options.fixtures ?? FIXTURES_DIR;
  const queue = [];
  const requests = [];
  const waiters = [];

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify(openaiError(500, { message: `mock server bug: ${e.stack}` })));
      } else res.destroy();
    });
  });

  async function handle(req, res) {
    cors(req, res);
    if (req.method === "OPTIONS") {
      res.writeHead(204);
      res.end();
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString("utf8");
    let json;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }

    // Static files are not upstream calls: not recorded.
    const pathname = req.url.split("?")[0];
    for (const [prefix, dir] of Object.entries(statics)) {
      if (pathname.startsWith(prefix)) {
        return serveFile(res, dir, decodeURIComponent(pathname.slice(prefix.length)));
      }
    }

    let closedResolve;
    const record = {
      method: req.method,
      path: req.url,
      upstreamPath: req.url,
      url: undefined,
      headers: { ...req.headers },
      body,
      json,
      aborted: false,
      closed: new Promise((r) => (closedResolve = r)),
    };
    res.on("close", () => {
      record.aborted = !res.writableFinished;
      closedResolve(record.aborted);
    });

    const spec = await route(record, req.url, {});
    record.url ??= `${baseUrl}${record.upstreamPath}`;
    requests.push(record);
    for (const w of waiters.splice(0)) w();
    await send(res, spec);
  }

  // Resolves a path to a response spec, peeling the composable prefixes off.
  async function route(record, url, mods) {
    if (queue.length > 0 && !url.startsWith("/__origin/")) {
      return { ...queue.shift(), ...mods };
    }
    let [pathname, query = ""] = url.split(/\?(.*)/s);
    // An api_base with a query (`.../__fault/status/429/v1?retry_after=1`) gets the provider's
    // path appended after the query (`?retry_after=1/chat/completions`): move it back.
    if (pathname.startsWith("/__fault/") && query.includes("/")) {
      pathname += query.slice(query.indexOf("/"));
      query = query.slice(0, query.indexOf("/"));
    }
    const parts = pathname.split("/");
    const rest = (n) => "/" + parts.slice(n).join("/") + (query ? `?${query}` : "");
    if (parts[1] === "__origin") {
      record.upstreamPath = rest(4);
      record.url = `${parts[2]}://${parts[3]}${record.upstreamPath}`;
      if (queue.length > 0) return { ...queue.shift(), ...mods };
      return route(record, record.upstreamPath, mods);
    }
    if (parts[1] === "__fault") {
      const params = new URLSearchParams(query);
      if (parts[2] === "status") {
        const status = Number(parts[3]);
        // The query configured the fault; it is not part of the upstream request.
        record.upstreamPath = "/" + parts.slice(4).join("/");
        const headers = { "content-type": "application/json" };
        if (params.has("retry_after")) headers["retry-after"] = params.get("retry_after");
        if (params.has("retry_after_ms")) headers["retry-after-ms"] = params.get("retry_after_ms");
        const err = {
          message: params.get("message") ?? undefined,
          type: params.get("type") ?? undefined,
          code: params.get("code") ?? undefined,
        };
        return { status, headers, body: openaiError(status, err), ...mods };
      }
      if (parts[2] === "hang") {
        record.upstreamPath = rest(3);
        return { hang: true };
      }
      if (parts[2] === "slow") {
        record.upstreamPath = rest(4);
        return route(record, record.upstreamPath, { ...mods, delayMs: Number(parts[3]) });
      }
      if (parts[2] === "cut") {
        record.upstreamPath = rest(4);
        return route(record, record.upstreamPath, { ...mods, cutAfter: Number(parts[3]) });
      }
    }
    if (parts[1] === "__fixture") {
      record.upstreamPath = rest(4);
      // A fixture's last response (the one that succeeds after any retries).
      const specs = fixtureSpecs(loadFixture(parts[2], parts[3], fixturesRoot));
      return { ...specs[specs.length - 1], ...mods };
    }
    const r = routes[`${record.method} ${pathname}`] ?? routes[pathname];
    if (r !== undefined) {
      const spec = typeof r === "function" ? await r(record) : r;
      return { ...spec, ...mods };
    }
    return {
      status: 404,
      headers: { "content-type": "application/json" },
      body: openaiError(404, { message: `mock: no route for ${record.method} ${pathname}` }),
    };
  }

  async function send(res, spec) {
    if (spec.hang) return; // the record's `closed` resolves when the client gives up
    if (spec.delayMs) await sleep(spec.delayMs);
    if (res.destroyed) return;
    const headers = {};
    for (const [k, v] of Object.entries(spec.headers ?? {})) {
      const name = k.toLowerCase();
      // The mock frames the body itself.
      if (name !== "content-length" && name !== "transfer-encoding" && name !== "content-encoding") {
        headers[name] = v;
      }
    }
    let payload;
    if (spec.stream !== undefined) {
      payload = Buffer.from(spec.stream);
    } else if (spec.body !== undefined) {
      const isRaw = typeof spec.body === "string" || Buffer.isBuffer(spec.body);
      payload = Buffer.from(isRaw ? spec.body : JSON.stringify(spec.body));
      headers["content-type"] ??= isRaw ? "text/plain" : "application/json";
      if (spec.cutAfter === undefined) headers["content-length"] = String(payload.length);
    } else {
      payload = Buffer.alloc(0);
    }
    res.writeHead(spec.status ?? 200, headers);
    res.flushHeaders();
    const limit = spec.cutAfter ?? payload.length;
    const size = spec.chunkSize ?? (spec.stream !== undefined
      ? options.chunkSize ?? Math.max(1, Math.ceil(payload.length / 8))
      : payload.length || 1);
    const delay = spec.chunkDelayMs ?? options.chunkDelayMs ?? (spec.stream !== undefined ? 2 : 0);
    for (let at = 0; at < Math.min(limit, payload.length); at += size) {
      if (res.destroyed) return;
      if (at > 0 && delay) await sleep(delay);
      res.write(payload.subarray(at, Math.min(at + size, limit)));
    }
    if (spec.cutAfter !== undefined) {
      await sleep(delay);
      res.socket?.destroy();
      res.destroy();
      return;
    }
    if (spec.holdOpen) return;
    res.end();
  }

  function cors(req, res) {
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
    res.setHeader("access-control-allow-headers", req.headers["access-control-request-headers"] ?? "*");
    res.setHeader("access-control-expose-headers", "*");
  }

  function serveFile(res, dir, rel) {
    const file = path.resolve(dir, "." + path.posix.normalize("/" + rel));
    if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    const type = CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream";
    res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
    res.end(fs.readFileSync(file));
  }

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${server.address().port}`;

  return {
    url: baseUrl,
    requests,
    /** Queues one-shot responses: the next requests get them in order. */
    reply(...specs) {
      queue.push(...specs);
      return this;
    },
    /** Queues a fixture's recorded response(s) (overrides: chunkSize, cutAfter, delayMs, ...). */
    replyFixture(provider, scenario, overrides = {}) {
      queue.push(...fixtureSpecs(loadFixture(provider, scenario, fixturesRoot), overrides));
      return this;
    },
    /** An api_base that reaches the mock while recording `originBase` as the upstream URL. */
    originBase(upstreamBase) {
      const u = new URL(upstreamBase);
      return `${baseUrl}/__origin/${u.protocol.slice(0, -1)}/${u.host}${u.pathname.replace(/\/$/, "")}`;
    },
    /** Resolves once `n` requests were received (rejects after `timeoutMs`). */
    async waitForRequests(n, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > until) throw new Error(`mock: ${requests.length} of ${n} requests after ${timeoutMs} ms`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return requests;
    },
    /** Forgets recorded requests and queued replies. */
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    /** Stops the server and drops open connections (hung responses included). */
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Points the global `fetch` at the mock for every origin but the mock's own: a request to
 * `https://api.openai.com/v1/x` goes to `<mock>/__origin/https/api.openai.com/v1/x`, so the
 * recorded `url` is the original one. Returns a function that restores the real `fetch`.
 */
export function redirectFetch(mock) {
  const original = globalThis.fetch;
  const mockOrigin = new URL(mock.url).origin;
  globalThis.fetch = function fetchViaMock(input, init) {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const u = new URL(href);
    if (u.origin === mockOrigin) return original(input, init);
    const target = `${mock.url}/__origin/${u.protocol.slice(0, -1)}/${u.host}${u.pathname}${u.search}`;
    if (typeof input === "string" || input instanceof URL) return original(target, init);
    return original(new Request(target, input), init);
  };
  return () => {
    globalThis.fetch = original;
  };
}
