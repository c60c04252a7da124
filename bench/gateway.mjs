// Gateway benchmark: added latency (p50/p90/p99 over direct-to-upstream) and max requests/s for
// non-stream and 100-chunk stream chat completions at concurrency 1, 16 and 64, for every
// gateway in bench/lib/gateways.mjs, each pinned to the SUT core with wrk and nginx on the other.
// The direct baseline is measured first and again last, in the same run; the report uses the
// better (lower-latency) of the two per point and shows the drift.
//
//   node bench/gateway.mjs [--targets a,b] [--seconds 8] [--concurrency 1,16,64]
// Writes bench/out/gateway.json.
import fs from "node:fs";
import { parseArgs } from "node:util";
import { cleanupOnExit, SUT_CORE, LOAD_CORE, writeResult, sleep } from "./lib/common.mjs";
import { startUpstream, GATEWAY_STREAM_CHUNKS } from "./lib/upstream.mjs";
import { chatRequest, openaiJson, openaiSse } from "./lib/bodies.mjs";
import { runWrk } from "./lib/wrk.mjs";
import { STARTERS, directTarget, snapshotWorker } from "./lib/gateways.mjs";

const { values } = parseArgs({
  options: {
    targets: { type: "string", default: "edgellm-workerd,edgellm-miniflare,edgellm-wrangler,portkey,litellm" },
    seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "8" },
    concurrency: { type: "string", default: "1,16,64" },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = values.concurrency.split(",").map(Number);
const TARGETS = values.targets.split(",").filter(Boolean);
// LiteLLM needs longer windows: at ~8 streams/s, 64 connections complete few requests in 8 s.
const secondsFor = (name) => (name === "litellm" ? Math.max(SECONDS, 15) : SECONDS);

const children = [];
cleanupOnExit(children);

/** Busy fraction of each CPU between two /proc/stat samples. */
function cpuTimes() {
  const out = {};
  for (const line of fs.readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(/\s+/).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    out[m[1]] = { idle, total: v.reduce((a, b) => a + b, 0) };
  }
  return out;
}
function busy(a, b) {
  const r = {};
  for (const k of Object.keys(b)) {
    const dt = b[k].total - a[k].total;
    r[`cpu${k}`] = dt > 0 ? Number((1 - (b[k].idle - a[k].idle) / dt).toFixed(3)) : null;
  }
  return r;
}

const EXPECTED_TEXT = JSON.parse(openaiJson()).choices[0].message.content;
const EXPECTED_STREAM_TEXT = openaiSse(GATEWAY_STREAM_CHUNKS)
  .split("\n")
  .filter((l) => l.startsWith("data: {"))
  .map((l) => JSON.parse(l.slice(6)).choices[0]?.delta?.content ?? "")
  .join("");

/** One request per mode through the target, checked for the right content; returns problems. */
async function validate(target, mode) {
  const r = target.request(mode);
  try {
    const res = await fetch(target.url + r.path, {
      method: "POST",
      headers: { "content-type": "application/json", ...r.headers },
      body: chatRequest(r.model, mode === "sse"),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}: ${text.slice(0, 300)}`;
    if (mode === "json") {
      const content = JSON.parse(text).choices?.[0]?.message?.content;
      return content === EXPECTED_TEXT ? null : `wrong content: ${JSON.stringify(content)?.slice(0, 200)}`;
    }
    const ctype = res.headers.get("content-type") ?? "";
    if (!ctype.startsWith("text/event-stream")) return `content-type ${ctype}: ${text.slice(0, 300)}`;
    const data = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim());
    if (data.at(-1) !== "[DONE]") return `stream does not end with [DONE]: …${text.slice(-200)}`;
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    const bad = chunks.find((c) => c.object !== "chat.completion.chunk");
    if (bad) return `not a chat.completion.chunk: ${JSON.stringify(bad).slice(0, 300)}`;
    const got = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
    if (got !== EXPECTED_STREAM_TEXT) return `stream text differs (${got.length} vs ${EXPECTED_STREAM_TEXT.length} chars): ${JSON.stringify(got.slice(0, 120))}`;
    return null;
  } catch (e) {
    return `request failed: ${e.message}`;
  }
}

async function measure(target, seconds) {
  const result = { name: target.name, modes: {} };
  for (const mode of ["json", "sse"]) {
    const problem = await validate(target, mode);
    const entry = { valid: problem === null, problem, points: {} };
    result.modes[mode] = entry;
    if (problem) {
      console.log(`  ${target.name} ${mode}: INVALID: ${problem}`);
      continue;
    }
    const r = target.request(mode);
    const base = { url: target.url + r.path, body: chatRequest(r.model, mode === "sse"), headers: r.headers };
    // Warm-up: JIT, connection pools, caches.
    await runWrk({ ...base, connections: 16, seconds: 2 });
    for (const c of CONCURRENCY) {
      const before = cpuTimes();
      const w = await runWrk({ ...base, connections: c, seconds });
      w.cpu_busy = busy(before, cpuTimes());
      entry.points[c] = w;
      console.log(
        `  ${target.name.padEnd(18)} ${mode} c=${String(c).padEnd(3)} ${w.rps.toFixed(0).padStart(6)} rps  ` +
          `p50 ${w.latency_ms.p50.toFixed(2)} p90 ${w.latency_ms.p90.toFixed(2)} p99 ${w.latency_ms.p99.toFixed(2)} ms` +
          `  errors ${w.errors}  cpu ${JSON.stringify(w.cpu_busy)}`,
      );
      await sleep(300);
    }
  }
  return result;
}

const upstream = await startUpstream();
children.push(upstream.child);
console.log(`upstream nginx at ${upstream.url} on cpu ${LOAD_CORE}; gateways on cpu ${SUT_CORE}`);
const snapshot = TARGETS.some((t) => t.startsWith("edgellm")) ? snapshotWorker() : null;

const out = {
  stream_chunks: GATEWAY_STREAM_CHUNKS,
  body_bytes: { json: upstream.sizes["json/v1/chat/completions"], sse: upstream.sizes["sse/v1/chat/completions"] },
  seconds: SECONDS,
  concurrency: CONCURRENCY,
  sut_core: SUT_CORE,
  load_core: LOAD_CORE,
  runs: [],
};

out.runs.push({ ...(await measure(directTarget(upstream.url), SECONDS)), name: "direct", phase: "first" });
for (const name of TARGETS) {
  const start = STARTERS[name];
  if (!start) throw new Error(`unknown target ${name}`);
  let target;
  const t0 = Date.now();
  try {
    target = await start(upstream.url, snapshot);
  } catch (e) {
    console.log(`  ${name}: could not start: ${e.message}`);
    out.runs.push({ name, error: `could not start: ${e.message}` });
    continue;
  }
  children.push(target.child);
  const startup_ms = Date.now() - t0;
  console.log(`${name}: up in ${startup_ms} ms`);
  try {
    out.runs.push({ ...(await measure(target, secondsFor(name))), startup_ms });
  } finally {
    await target.stop();
  }
}
out.runs.push({ ...(await measure(directTarget(upstream.url), SECONDS)), name: "direct", phase: "last" });
await upstream.stop();
console.log(`wrote ${writeResult("gateway", out)}`);
