// Streamed chat answers whose body JS pumps (worker/src/stream_body.rs): the upstream's events
// forwarded byte for byte whatever the read boundaries, the idle timeout between chunks, an
// upstream error event, a cut upstream, a mocked stream (no upstream body to take over), and
// client disconnects after some chunks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startGateway, startMockServer, sseBody, user, MASTER_KEY } from "./helpers.mjs";

let mock, gw, flood;

/**
 * An upstream that sends content events as fast as its socket takes them, up to `FLOOD_MAX`
 * bytes, counting what it could write: it stalls once nobody reads it.
 */
const FLOOD_MAX = 64 << 20;
function startFlood() {
  const event = sseBody(["x".repeat(200)]).split(/(?<=\n\n)/);
  const batch = Buffer.from(event[1].repeat(256));
  const state = { written: 0, url: "", server: null };
  state.server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(event[0]);
    const pump = () => {
      while (state.written < FLOOD_MAX) {
        state.written += batch.length;
        if (!res.write(batch)) return res.once("drain", pump);
      }
      res.end(event.slice(2).join(""));
    };
    res.on("close", () => res.removeAllListeners("drain"));
    pump();
  });
  return new Promise((resolve) =>
    state.server.listen(0, "127.0.0.1", () => {
      state.url = `http://127.0.0.1:${state.server.address().port}`;
      resolve(state);
    }),
  );
}

const PIECES = Array.from({ length: 60 }, (_, i) => `w${i} é “${i}” `);
const UPSTREAM = sseBody(PIECES);
const EVENTS = UPSTREAM.split(/(?<=\n\n)/);
// Bigger than a BYOB read's 64 KiB buffer, sent in pieces bigger than it too (one read fills
// the buffer, the next ones reuse it while the rest is still buffered).
const BIG_PIECES = Array.from({ length: 500 }, (_, i) => `${i} ${"é“x”".repeat(100)} `);
const BIG = sseBody(BIG_PIECES);

before(async () => {
  mock = await startMockServer({
    routes: {
      // The whole stream in pieces of `size` bytes (read boundaries anywhere, mid-character too).
      "POST /pieces/v1/chat/completions": (r) => ({
        headers: { "content-type": "text/event-stream" },
        stream: UPSTREAM,
        chunkSize: Number(r.headers["x-piece-size"] ?? 4096),
        chunkDelayMs: 1,
      }),
      "POST /big/v1/chat/completions": () => ({
        headers: { "content-type": "text/event-stream" },
        stream: BIG,
        chunkSize: 150000,
        chunkDelayMs: 1,
      }),
      // Three events, then silence with the connection open.
      "POST /stall/v1/chat/completions": () => ({
        headers: { "content-type": "text/event-stream" },
        stream: EVENTS.slice(0, 3).join(""),
        holdOpen: true,
      }),
      // A few events, then an error event as OpenAI sends one mid-stream.
      "POST /error/v1/chat/completions": () => ({
        headers: { "content-type": "text/event-stream" },
        stream:
          EVENTS.slice(0, 4).join("") +
          `data: ${JSON.stringify({ error: { message: "The server is overloaded", type: "server_error", param: null, code: "overloaded" } })}\n\n`,
        chunkSize: 64,
      }),
      // The same in one piece, the connection then held open: the stream ends with the error
      // event, not with the upstream's end.
      "POST /error-open/v1/chat/completions": () => ({
        headers: { "content-type": "text/event-stream" },
        stream:
          EVENTS.slice(0, 4).join("") +
          `data: ${JSON.stringify({ error: { message: "The server is overloaded", type: "server_error", param: null, code: "overloaded" } })}\n\n`,
        holdOpen: true,
      }),
      // Many events, slowly, never finishing: for disconnects after some chunks.
      "POST /drip/v1/chat/completions": () => ({
        headers: { "content-type": "text/event-stream" },
        stream: EVENTS.slice(0, 30).join(""),
        chunkSize: 200,
        chunkDelayMs: 20,
        holdOpen: true,
      }),
    },
  });
  flood = await startFlood();
  const row = (name, path, extra = "", base = mock.url) =>
    `  - model_name: ${name}\n    litellm_params: {model: openai/gpt-4o, api_base: "${base}/${path}/v1", api_key: sk-x${extra}}\n`;
  const config =
    "model_list:\n" +
    row("pieces", "pieces") +
    row("big", "big") +
    row("stall", "stall", ", timeout: 0.5") +
    row("error", "error") +
    row("error-open", "error-open") +
    row("drip", "drip") +
    row("flood", "flood", "", flood.url) +
    `  - model_name: mocked\n    litellm_params: {model: openai/gpt-4o, mock_response: "Hello from the mock"}\n` +
    "general_settings:\n  master_key: os.environ/MASTER\n";
  gw = await startGateway({ config, vars: { MASTER: MASTER_KEY } });
});

after(async () => {
  await gw?.close();
  await mock?.close();
  flood?.server.closeAllConnections();
  flood?.server.close();
});

function post(model, extra = {}, headers = {}, signal) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${MASTER_KEY}`, ...headers },
    body: JSON.stringify({ model, messages: user("x"), stream: true, ...extra }),
    signal,
  });
}

/** The `data:` payloads of an SSE text. */
const payloads = (text) =>
  text
    .split(/(?<=\n\n)/)
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6, -2));

for (const size of [1, 7, 100, 4096]) {
  test(`upstream read in ${size}-byte pieces: its events come out as sent, then [DONE]`, async () => {
    mock.reset();
    const res = await post("pieces", { stream_options: { include_usage: true } }, { "x-piece-size": String(size) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const text = await res.text();
    const out = text.split(/(?<=\n\n)/);
    // The first event and the last chunk (finish_reason) are decoded and written again; the
    // content events in between are the upstream's own bytes.
    const middle = EVENTS.slice(1, 1 + PIECES.length);
    assert.deepEqual(out.slice(1, 1 + PIECES.length), middle);
    const chunks = payloads(text).slice(0, -1).map((p) => JSON.parse(p));
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), PIECES.join(""));
    assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 5, completion_tokens: PIECES.length, total_tokens: 5 + PIECES.length });
    assert.equal(out.at(-1), "data: [DONE]\n\n");
  });
}

test("a stream bigger than a read's buffer, arriving faster than it is read, comes out as sent", async () => {
  for (let i = 0; i < 2; i++) {
    const res = await post("big");
    assert.equal(res.status, 200);
    const text = await res.text();
    const out = text.split(/(?<=\n\n)/);
    const big = BIG.split(/(?<=\n\n)/);
    assert.deepEqual(out.slice(1, 1 + BIG_PIECES.length), big.slice(1, 1 + BIG_PIECES.length));
    const chunks = payloads(text).slice(0, -1).map((p) => JSON.parse(p));
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), BIG_PIECES.join(""));
    assert.equal(out.at(-1), "data: [DONE]\n\n");
  }
});

test("streams after bigger ones, whose read buffers they reuse, come out exactly as sent", async () => {
  // A finished stream's read buffer goes to the next stream (wasm/feed.rs `spare_read_buffer`),
  // still holding the earlier bytes past what a read fills: none of them may show.
  const small = async () => {
    const text = await (await post("pieces", {}, { "x-piece-size": "4096" })).text();
    const out = text.split(/(?<=\n\n)/);
    assert.deepEqual(out.slice(1, 1 + PIECES.length), EVENTS.slice(1, 1 + PIECES.length));
    assert.equal(out.length, PIECES.length + 3, text.slice(-400));
    assert.equal(out.at(-1), "data: [DONE]\n\n");
  };
  const big = async () => {
    const text = await (await post("big")).text();
    const out = text.split(/(?<=\n\n)/);
    assert.deepEqual(out.slice(1, 1 + BIG_PIECES.length), BIG.split(/(?<=\n\n)/).slice(1, 1 + BIG_PIECES.length));
    assert.equal(out.at(-1), "data: [DONE]\n\n");
  };
  for (let i = 0; i < 3; i++) {
    await big();
    await small();
  }
  await Promise.all([big(), small(), big(), small(), small(), small()]);
  await small();
});

test("without include_usage the usage chunk is not sent, the rest is", async () => {
  mock.reset();
  const text = await (await post("pieces", {}, { "x-piece-size": "333" })).text();
  const chunks = payloads(text).slice(0, -1).map((p) => JSON.parse(p));
  assert.equal(chunks.length, PIECES.length + 2);
  assert.ok(chunks.every((c) => c.usage == null && c.choices.length === 1), text.slice(-400));
  assert.ok(text.endsWith("data: [DONE]\n\n"));
});

test("an upstream silent for longer than the timeout ends the stream with a timeout error event", async () => {
  mock.reset();
  const t0 = Date.now();
  const text = await (await post("stall")).text();
  const ms = Date.now() - t0;
  assert.ok(ms >= 400 && ms < 5000, `${ms} ms`);
  const p = payloads(text);
  assert.ok(p.length >= 3, text);
  const last = JSON.parse(p.at(-1));
  assert.equal(last.error?.type, "timeout_error", text);
  assert.ok(!text.includes("[DONE]"), text);
  const [upstream] = await mock.waitForRequests(1);
  assert.equal(await upstream.closed, true, "the upstream request was aborted");
});

test("an error event from the upstream becomes the stream's last event, without [DONE]", async () => {
  mock.reset();
  const text = await (await post("error")).text();
  const p = payloads(text);
  assert.equal(p.length, 5, text);
  const last = JSON.parse(p.at(-1));
  assert.match(last.error?.message ?? "", /overloaded/, text);
  assert.ok(!text.includes("[DONE]"), text);
});

test("an error event in the first read ends the answer there, though the upstream stays open", async () => {
  // The error comes out of the first pump, before JS reads the upstream: the answer must end
  // then, not wait for an upstream end that never comes.
  mock.reset();
  const text = await (await post("error-open", {}, {}, AbortSignal.timeout(5000))).text();
  const p = payloads(text);
  assert.equal(p.length, 5, text);
  assert.match(JSON.parse(p.at(-1)).error?.message ?? "", /overloaded/, text);
  assert.ok(!text.includes("[DONE]"), text);
});

test("a mocked stream (no upstream body) still streams its chunks and [DONE]", async () => {
  const text = await (await post("mocked")).text();
  const chunks = payloads(text).slice(0, -1).map((p) => JSON.parse(p));
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), "Hello from the mock");
  assert.ok(text.endsWith("data: [DONE]\n\n"));
});

test("a client that goes away after some chunks aborts the upstream request; later streams work", async () => {
  for (let round = 0; round < 3; round++) {
    mock.reset();
    const ac = new AbortController();
    const res = await post("drip", {}, {}, ac.signal);
    const reader = res.body.getReader();
    let got = "";
    while ((got.match(/\n\n/g) ?? []).length < 8) {
      const { value, done } = await reader.read();
      assert.equal(done, false);
      got += new TextDecoder().decode(value);
    }
    ac.abort();
    await reader.cancel().catch(() => {});
    const [upstream] = await mock.waitForRequests(1);
    const closed = await Promise.race([upstream.closed, new Promise((r) => setTimeout(() => r("timeout"), 5000))]);
    assert.equal(closed, true, "the upstream connection was closed before its end");
  }
  mock.reset();
  const text = await (await post("pieces")).text();
  assert.ok(text.endsWith("data: [DONE]\n\n"));
});

test("a client that stops reading stops the upstream reads: the gateway reads only a bounded way ahead", async () => {
  const ac = new AbortController();
  const res = await post("flood", {}, {}, ac.signal);
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  assert.equal((await reader.read()).done, false);
  // Socket buffers fill, then the upstream waits: what it wrote stops growing, well short of
  // everything (a gateway reading ahead without bound would take all FLOOD_MAX bytes).
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let before = -1;
  for (let i = 0; i < 40 && flood.written !== before; i++) {
    before = flood.written;
    await sleep(250);
  }
  assert.equal(flood.written, before, "the upstream still writes");
  assert.ok(flood.written < FLOOD_MAX / 2, `${flood.written} bytes written with nobody reading`);
  // Reading again lets it go on.
  const t0 = Date.now();
  while (flood.written === before && Date.now() - t0 < 10_000) assert.equal((await reader.read()).done, false);
  assert.ok(flood.written > before, "the upstream did not go on once the client read");
  ac.abort();
  await reader.cancel().catch(() => {});
});
