// Memory and streaming test of the gateway Worker in workerd (run directly, pinned to the SUT
// core):
//  1. ROUNDS rounds of 200 concurrent 100-chunk streams from a slow upstream (a chunk every
//     50 ms, ≈5 s per stream: 4,000 chunks/s in all, within one core's budget). Per round: workerd RSS before, peak (sampled every 50 ms) and
//     after; every stream's time to first chunk and to the end, and whether it was complete.
//     A gateway that buffered a whole stream could not deliver the first chunk before the
//     upstream's last one (≈5 s); growth of the after-round RSS across rounds is a leak.
//     The same streams straight from the upstream (no gateway) are the baseline.
//  2. BIG_ROUNDS rounds of 20 concurrent 5 MB streams (the SDK decode stream, 20,000 chunks) from nginx: if the
//     Worker held whole bodies, its RSS would rise by ≥ 100 MB.
//
//   node bench/memory.mjs [--rounds 8] [--streams 200]
// Writes bench/out/memory.json.
import { spawn } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { LOAD_CORE, OUT_DIR, cleanupOnExit, median, percentile, rssKiB, sleep, writeResult } from "./lib/common.mjs";
import { startUpstream, SDK_STREAM_CHUNKS } from "./lib/upstream.mjs";
import { API_KEY, MASTER_KEY, gatewayConfig, snapshotWorker, startJsWorker, startWorkerd } from "./lib/gateways.mjs";
import { chatRequest } from "./lib/bodies.mjs";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: process.env.BENCH_MEMORY_ROUNDS ?? "8" },
    streams: { type: "string", default: "200" },
  },
});
const ROUNDS = Number(values.rounds);
const STREAMS = Number(values.streams);
const BIG_STREAMS = 20;
const BIG_ROUNDS = Number(process.env.BENCH_MEMORY_BIG_ROUNDS ?? 4);
const DRIP_INTERVAL_MS = Number(process.env.BENCH_DRIP_INTERVAL_MS ?? 50);

const children = [];
cleanupOnExit(children);

async function startDrip() {
  const child = spawn("taskset", ["-c", LOAD_CORE, process.execPath, path.join(path.dirname(new URL(import.meta.url).pathname), "lib/drip-server.mjs")], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
    env: { ...process.env, DRIP_LIFETIME_S: "900", DRIP_INTERVAL_MS: String(DRIP_INTERVAL_MS) },
  });
  children.push(child);
  const port = await new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(JSON.parse(d.toString()).port));
    child.once("exit", (c) => reject(new Error(`drip server exited ${c}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => process.kill(-child.pid, "SIGTERM") };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1000 });

/** One streaming request; resolves with its timings and whether it was complete. */
function stream(url, model) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let first = null;
    let bytes = 0;
    let tail = "";
    let events = 0;
    const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", authorization: `Bearer ${MASTER_KEY}` } }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (d) => {
        if (first === null && d.includes("data: ")) first = performance.now() - t0;
        bytes += Buffer.byteLength(d);
        events += (d.match(/\n\n/g) ?? []).length;
        tail = (tail + d).slice(-32);
      });
      res.on("end", () =>
        resolve({ status: res.statusCode, first_ms: first, total_ms: performance.now() - t0, bytes, events, complete: res.statusCode === 200 && tail.endsWith("data: [DONE]\n\n") }),
      );
      res.on("error", (e) => resolve({ error: e.message }));
    });
    req.on("error", (e) => resolve({ error: e.message }));
    req.setTimeout(60_000, () => req.destroy(new Error("timeout")));
    req.end(chatRequest(model, true));
  });
}

/** Runs `fn` while sampling `pid`'s RSS every 50 ms; returns [result, peak KiB]. */
async function withPeak(pid, fn) {
  let peak = rssKiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 50);
  try {
    const r = await fn();
    return [r, Math.max(peak, rssKiB(pid))];
  } finally {
    clearInterval(timer);
  }
}

const upstream = await startUpstream();
children.push(upstream.child);
const drip = await startDrip();
const snapshot = snapshotWorker();
const config = gatewayConfig(upstream.url);
config.model_list.push(
  { model_name: "bench-drip", litellm_params: { model: "openai/gpt-4o-mini", api_base: `${drip.url}/v1`, api_key: API_KEY } },
  { model_name: "bench-big", litellm_params: { model: "openai/gpt-4o-mini", api_base: `${upstream.url}/sdk-sse/v1`, api_key: API_KEY } },
);
const gw = await startWorkerd(upstream.url, snapshot, config);
children.push(gw.child);
const pid = gw.child.pid;
const url = `${gw.url}/v1/chat/completions`;
const mib = (k) => Number((k / 1024).toFixed(1));

// Warm-up: a few streams so the first round does not carry one-time costs alone.
await Promise.all(Array.from({ length: 10 }, () => stream(url, "bench-drip")));
const idle = rssKiB(pid);
console.log(`workerd pid ${pid}: RSS after warm-up ${mib(idle)} MiB`);

const rounds = [];
for (let r = 1; r <= ROUNDS; r++) {
  const before = rssKiB(pid);
  const [results, peak] = await withPeak(pid, () => Promise.all(Array.from({ length: STREAMS }, () => stream(url, "bench-drip"))));
  await sleep(1000);
  const after = rssKiB(pid);
  const ok = results.filter((x) => x.complete);
  const firsts = ok.map((x) => x.first_ms);
  const totals = ok.map((x) => x.total_ms);
  const row = {
    round: r,
    rss_before_mib: mib(before),
    rss_peak_mib: mib(peak),
    rss_after_mib: mib(after),
    complete: ok.length,
    failed: results.length - ok.length,
    first_chunk_ms: { p50: median(firsts), p99: percentile(firsts, 99), max: Math.max(...firsts) },
    total_ms: { p50: median(totals), p99: percentile(totals, 99) },
    // First chunk to last byte, per stream: ≈ the upstream's own span when streamed, ≈ 0 if buffered.
    span_ms: { p50: median(ok.map((x) => x.total_ms - x.first_ms)), min: Math.min(...ok.map((x) => x.total_ms - x.first_ms)) },
    failures: results.filter((x) => !x.complete).slice(0, 3),
  };
  rounds.push(row);
  console.log(
    `  round ${r}: RSS ${row.rss_before_mib} → peak ${row.rss_peak_mib} → after ${row.rss_after_mib} MiB; ` +
      `${ok.length}/${STREAMS} complete; first chunk p50 ${row.first_chunk_ms.p50.toFixed(1)} ms p99 ${row.first_chunk_ms.p99.toFixed(1)} ms; end p50 ${row.total_ms.p50.toFixed(0)} ms`,
  );
}

// The same load straight from the drip upstream: what the client and upstream do alone.
const direct = await Promise.all(Array.from({ length: STREAMS }, () => stream(`${drip.url}/v1/chat/completions`, "x")));
const directOk = direct.filter((x) => x.complete);
const directRow = {
  complete: directOk.length,
  first_chunk_ms: { p50: median(directOk.map((x) => x.first_ms)), p99: percentile(directOk.map((x) => x.first_ms), 99) },
  total_ms: { p50: median(directOk.map((x) => x.total_ms)), p99: percentile(directOk.map((x) => x.total_ms), 99) },
};
console.log(`  direct (no gateway): ${directOk.length}/${STREAMS} complete; first chunk p50 ${directRow.first_chunk_ms.p50.toFixed(1)} ms; end p50 ${directRow.total_ms.p50.toFixed(0)} ms`);

/** BIG_ROUNDS rounds of BIG_STREAMS concurrent large streams through `target` (pid for RSS). */
async function bigRounds(label, pid, url, rounds) {
  const rows = [];
  for (let r = 1; r <= rounds; r++) {
    const before = rssKiB(pid);
    const [res, peak] = await withPeak(pid, () => Promise.all(Array.from({ length: BIG_STREAMS }, () => stream(url, "bench-big"))));
    await sleep(1000);
    const ok = res.filter((x) => x.complete);
    const row = {
      round: r,
      complete: ok.length,
      bytes_each: ok[0]?.bytes ?? null,
      total_mib: mib(ok.reduce((a, x) => a + x.bytes, 0) / 1024),
      rss_before_mib: mib(before),
      rss_peak_mib: mib(peak),
      rss_after_mib: mib(rssKiB(pid)),
      first_chunk_ms_p50: median(ok.map((x) => x.first_ms)),
      total_ms_p50: median(ok.map((x) => x.total_ms)),
    };
    rows.push(row);
    console.log(`  ${label} big round ${r}: ${ok.length}/${BIG_STREAMS} × ${row.bytes_each} bytes (${row.total_mib} MiB); RSS ${row.rss_before_mib} → peak ${row.rss_peak_mib} → ${row.rss_after_mib} MiB; first chunk p50 ${row.first_chunk_ms_p50.toFixed(1)} ms, end p50 ${row.total_ms_p50.toFixed(0)} ms`);
  }
  return rows;
}

// Large streams: does RSS grow with the body size, and keep growing across rounds?
const big = await bigRounds("edgellm", pid, url, BIG_ROUNDS);
await gw.stop();

// The same large streams through a minimal JS Worker (per-event re-framing, TransformStream) in
// the same workerd: what the runtime holds on its own.
const js = await startJsWorker("per-event", upstream.url, { "bench-big": `${upstream.url}/sdk-sse/v1` });
children.push(js.child);
await stream(`${js.url}/v1/chat/completions`, "bench-big");
const jsBig = await bigRounds("js-worker", js.child.pid, `${js.url}/v1/chat/completions`, 2);
const jsIdle = mib(rssKiB(js.child.pid));
await js.stop();
drip.stop();
await upstream.stop();
agent.destroy();
const afters = rounds.map((r) => r.rss_after_mib);
const file = writeResult("memory", {
  streams_per_round: STREAMS,
  drip: { chunks: 100, interval_ms: DRIP_INTERVAL_MS },
  direct: directRow,
  rss_idle_mib: mib(idle),
  rounds,
  // Growth after the first round: the later rounds' after-RSS minus round 2's.
  growth_mib_after_round2: afters.length > 2 ? Number((Math.max(...afters.slice(2)) - afters[1]).toFixed(1)) : null,
  big: { streams: BIG_STREAMS, chunks_each: SDK_STREAM_CHUNKS, rounds: big, js_worker_rounds: jsBig, js_worker_rss_after_mib: jsIdle },
});
console.log(`wrote ${file}`);
