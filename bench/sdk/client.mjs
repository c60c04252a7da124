// One SDK client in its own Node process, pinned to the SUT core.
//
//   node bench/sdk/client.mjs <lib> <scenario> <upstream-url>            one timed run, one JSON line
//   node bench/sdk/client.mjs <lib> <scenario> <upstream-url> --serve    turn-taking (bench/sdk/turns.mjs)
// --serve needs an IPC channel: after warming up the process sends {ready}, then answers each
// {n} with one batch (n calls, or n streams) and its CPU time, until {stop} or the parent goes.
// bench/sdk.mjs and bench/ab-call.mjs use --serve; bench/profile-sdk.mjs the one timed run.
// lib:      fetch (raw fetch + res.json / body read: the transport floor), js-sse (fetch + a
//           minimal hand-written SSE split + JSON.parse: what plain JS decoding costs),
//           edgellm (our package, pkg/node.js), openai (official client), ai-sdk (Vercel `ai`
//           with @ai-sdk/openai or @ai-sdk/anthropic)
// scenario: call (sequential non-stream calls), stream (an OpenAI SSE stream of many chunks),
//           anthropic-stream (the same text from an Anthropic Messages SSE stream, translated
//           to OpenAI chunks by clients that translate), anthropic-call
// Prints one JSON line.
import { performance } from "node:perf_hooks";
import { MODEL, CLAUDE } from "../lib/bodies.mjs";

const [lib, scenario, upstream] = process.argv.slice(2);
const KEY = "sk-bench-not-a-real-key";
const messages = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "Say something about foxes and dogs." },
];
const CALL_SECONDS = Number(process.env.BENCH_CALL_SECONDS ?? 4);
const STREAM_REPS = Number(process.env.BENCH_STREAM_REPS ?? 6);

const anthropic = scenario.startsWith("anthropic");
const streaming = scenario.endsWith("stream");
const base = `${upstream}/${anthropic ? (streaming ? "anthropic-sse" : "anthropic-json") : streaming ? "sdk-sse" : "json"}/v1`;

/** Returns an async function that does one call and returns the text it produced. */
async function makeCall() {
  switch (lib) {
    case "fetch": {
      const url = `${base}/${anthropic ? "messages" : "chat/completions"}`;
      const body = JSON.stringify({ model: anthropic ? CLAUDE : MODEL, messages, max_tokens: 64, stream: streaming || undefined });
      const headers = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
      if (!streaming) {
        return async () => {
          const j = await (await fetch(url, { method: "POST", headers, body })).json();
          return anthropic ? j.content[0].text : j.choices[0].message.content;
        };
      }
      // Streams: only read the bytes (the transport ceiling); text is not decoded.
      return async () => {
        const res = await fetch(url, { method: "POST", headers, body });
        let n = 0;
        for await (const b of res.body) n += b.byteLength;
        return n;
      };
    }
    case "js-sse": {
      if (!streaming || anthropic) throw new Error("js-sse only does OpenAI streams");
      const url = `${base}/chat/completions`;
      const body = JSON.stringify({ model: MODEL, messages, max_tokens: 64, stream: true });
      const headers = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
      return async () => {
        const res = await fetch(url, { method: "POST", headers, body });
        let text = "";
        let buf = "";
        for await (const piece of res.body.pipeThrough(new TextDecoderStream())) {
          buf += piece;
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!ev.startsWith("data: ") || ev === "data: [DONE]") continue;
            text += JSON.parse(ev.slice(6)).choices[0]?.delta?.content ?? "";
          }
        }
        return text;
      };
    }
    case "edgellm": {
      // BENCH_PKG: another build of the package (bench/profile-sdk.mjs uses one with wasm names).
      const { completion } = await import(process.env.BENCH_PKG ?? "../../pkg/node.js");
      // LiteLLM's Anthropic api_base is the host part; `/v1/messages` is appended.
      const apiBase = anthropic ? base.replace(/\/v1$/, "") : base;
      const params = { model: anthropic ? `anthropic/${CLAUDE}` : "openai/gpt-4o-mini", messages, max_tokens: 64, api_base: apiBase, api_key: KEY };
      if (!streaming) return async () => (await completion(params)).choices[0].message.content;
      return async () => {
        let text = "";
        for await (const c of await completion({ ...params, stream: true })) text += c.choices[0]?.delta?.content ?? "";
        return text;
      };
    }
    case "openai": {
      if (anthropic) throw new Error("the openai client does not speak Anthropic");
      const { default: OpenAI } = await import("openai");
      const client = new OpenAI({ baseURL: base, apiKey: KEY, maxRetries: 0 });
      const params = { model: "gpt-4o-mini", messages, max_tokens: 64 };
      if (!streaming) return async () => (await client.chat.completions.create(params)).choices[0].message.content;
      return async () => {
        let text = "";
        for await (const c of await client.chat.completions.create({ ...params, stream: true })) text += c.choices[0]?.delta?.content ?? "";
        return text;
      };
    }
    case "ai-sdk": {
      const { generateText, streamText } = await import("ai");
      let model;
      if (anthropic) {
        const { createAnthropic } = await import("@ai-sdk/anthropic");
        model = createAnthropic({ baseURL: base, apiKey: KEY })(CLAUDE);
      } else {
        const { createOpenAI } = await import("@ai-sdk/openai");
        // .chat(): the Chat Completions API (the default model factory uses the Responses API).
        model = createOpenAI({ baseURL: base, apiKey: KEY }).chat("gpt-4o-mini");
      }
      // The system prompt as `system` (the AI SDK warns on system messages inside `messages`).
      const opts = { model, system: messages[0].content, messages: messages.slice(1), maxOutputTokens: 64, maxRetries: 0 };
      if (!streaming) return async () => (await generateText(opts)).text;
      return async () => {
        let text = "";
        const r = streamText({ ...opts, onError: ({ error }) => { throw error; } });
        for await (const t of r.textStream) text += t;
        return text;
      };
    }
    default:
      throw new Error(`unknown lib ${lib}`);
  }
}

if (process.argv[5] === "--serve") await serve();
else await timedRun(await makeCall());

/** Turn-taking: warm up, then one batch per {n} message, timed by CPU and wall clock. */
async function serve() {
  if (!process.send) throw new Error("--serve needs an IPC channel (spawn with stdio 'ipc')");
  // The coordinator going away ends this process (no orphans pinned to the SUT core).
  process.on("disconnect", () => process.exit(0));
  let call;
  try {
    call = await makeCall();
    // Warm-up (JIT, connection pool); the coordinator also discards its first rounds. Streams:
    // edgellm's OpenAI pass-through hands JS one text per read (~100 per stream), so its JS only
    // reaches steady state after a few streams (CPU per stream fell ~25 % over the first ones).
    for (let i = 0; i < (streaming ? 3 : 300); i++) await call();
  } catch (e) {
    process.send({ error: String(e?.stack ?? e) }, () => process.exit(1));
    return;
  }
  process.on("message", async (m) => {
    if (m.stop) {
      process.disconnect();
      return;
    }
    try {
      const wall_ms = new Array(m.n);
      let out;
      // CPU time of this process (all threads; pinned to one core) over the whole batch: the
      // other tenants of the core barely change it, unlike wall time.
      const c0 = process.cpuUsage();
      for (let i = 0; i < m.n; i++) {
        const t0 = performance.now();
        out = await call();
        wall_ms[i] = performance.now() - t0;
      }
      const c = process.cpuUsage(c0);
      process.send({
        n: m.n,
        cpu_us: c.user + c.system,
        wall_ms,
        text_chars: typeof out === "string" ? out.length : null,
        bytes_read: typeof out === "number" ? out : null,
        rss_mib: process.memoryUsage().rss / 2 ** 20,
      });
    } catch (e) {
      process.send({ error: String(e?.stack ?? e) }, () => process.exit(1));
    }
  });
  process.send({ ready: true });
}

/** One fresh-process measurement: calls for BENCH_CALL_SECONDS, or BENCH_STREAM_REPS streams. */
async function timedRun(call) {
  const result = { lib, scenario };
  if (!streaming) {
    // Warm-up, then as many sequential calls as fit in CALL_SECONDS.
    for (let i = 0; i < 300; i++) await call();
    const times = [];
    let text;
    const end = performance.now() + CALL_SECONDS * 1000;
    // CPU time of this process (all threads; it is pinned to one core) per call: unlike wall
    // time, other tenants of the machine barely change it.
    const cpu0 = process.cpuUsage();
    while (performance.now() < end) {
      const t0 = performance.now();
      text = await call();
      times.push(performance.now() - t0);
    }
    const cpu = process.cpuUsage(cpu0);
    times.sort((a, b) => a - b);
    const pick = (p) => times[Math.min(times.length - 1, Math.ceil((p / 100) * times.length) - 1)];
    Object.assign(result, {
      calls: times.length,
      mean_us: (1000 * times.reduce((a, b) => a + b, 0)) / times.length,
      p50_us: 1000 * pick(50),
      p90_us: 1000 * pick(90),
      p99_us: 1000 * pick(99),
      cpu_us_per_call: (cpu.user + cpu.system) / times.length,
      text_chars: typeof text === "string" ? text.length : text,
    });
  } else {
    await call(); // warm-up
    const times = [];
    const cpus = [];
    let out;
    for (let i = 0; i < STREAM_REPS; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      out = await call();
      const c = process.cpuUsage(c0);
      times.push(performance.now() - t0);
      cpus.push((c.user + c.system) / 1000);
    }
    times.sort((a, b) => a - b);
    cpus.sort((a, b) => a - b);
    Object.assign(result, {
      reps: times.length,
      median_ms: times[Math.floor(times.length / 2)],
      best_ms: times[0],
      cpu_ms_median: cpus[Math.floor(cpus.length / 2)],
      cpu_ms_best: cpus[0],
      text_chars: typeof out === "string" ? out.length : null,
      bytes_read: typeof out === "number" ? out : null,
    });
  }
  result.rss_mib = process.memoryUsage().rss / 2 ** 20;
  console.log(JSON.stringify(result));
}
