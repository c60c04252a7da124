// Streams that trickle in: the same 100-chunk OpenAI stream as the gateway bench, but written by
// the upstream one SSE event per write, `--interval-ms` apart (bench/lib/drip-server.mjs), so
// the Worker gets it in ~100 reads instead of nginx's one. Every read pays the Worker's
// read → transform → write cycle, which the nginx-served stream never exercises. For our Worker
// (workerd) and the JS passthrough, pump and per-event Workers (bench/lib/js-worker) in the same run: CPU per stream (the
// workerd process tree's CPU time ÷ streams completed, as gateway.mjs derives CPU per request)
// and the time to the first and to the last chunk, added over the same client reading the drip
// upstream directly. Rounds are interleaved over the targets, each measured with the others
// stopped (SIGSTOP, as in gateway.mjs); CPU pooled over rounds, latencies pooled.
//
//   node bench/trickle.mjs [--targets …] [--connections 8] [--seconds 6] [--rounds 2] [--interval-ms 2]
//   A/B of two Worker builds: --targets alt:DIR_A,alt:DIR_B
// Writes bench/out/trickle.json.
import http from "node:http";
import { parseArgs } from "node:util";
import { shieldCore } from "./lib/shield.mjs";
import { cleanupOnExit, focuser, percentile, treeCpuMs, writeResult, SUT_CORE, LOAD_CORE } from "./lib/common.mjs";
import { chatRequest, openaiSse } from "./lib/bodies.mjs";
import { startDrip } from "./lib/drip.mjs";
import { STARTERS, snapshotWorker, startAltWorker } from "./lib/gateways.mjs";

const { values } = parseArgs({
  options: {
    targets: { type: "string", default: "workerd-js-passthrough,workerd-js-pump,workerd-js-per-event,edgellm-workerd" },
    connections: { type: "string", default: "8" },
    seconds: { type: "string", default: process.env.BENCH_TRICKLE_SECONDS ?? "6" },
    rounds: { type: "string", default: "2" },
    "interval-ms": { type: "string", default: "2" },
    warmup: { type: "string", default: "3" },
  },
});
const C = Number(values.connections);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const INTERVAL = Number(values["interval-ms"]);
const CHUNKS = 100;
const EVENTS = openaiSse(CHUNKS).split(/(?<=\n\n)/).length;

const children = [];
cleanupOnExit(children);
// Nothing else on the SUT core while the targets are measured (bench/lib/shield.mjs).
const shield = shieldCore(SUT_CORE);
process.on("exit", shield.restore);
console.log(`${shield.moved} other tasks moved off cpu ${SUT_CORE} for the run`);
const drip = await startDrip({ intervalMs: INTERVAL, chunks: CHUNKS, lifetimeS: 600 });
children.push(drip.child);
console.log(`drip upstream at ${drip.url} (${EVENTS} writes, ${INTERVAL} ms apart) on cpu ${LOAD_CORE}; gateways on cpu ${SUT_CORE}`);

const snapshot = values.targets.split(",").some((t) => t.startsWith("edgellm")) ? snapshotWorker() : null;
const targets = [{ name: "direct", url: drip.url, path: "/v1/chat/completions", model: "x", headers: {} }];
for (const name of values.targets.split(",").filter(Boolean)) {
  const start = name.startsWith("alt:") ? (u) => startAltWorker(u, name.slice(4)) : STARTERS[name];
  if (!start) throw new Error(`unknown target ${name}`);
  const t = await start(drip.url, snapshot);
  children.push(t.child);
  const r = t.request("sse");
  targets.push({ name: t.name, url: t.url, path: r.path, model: r.model, headers: r.headers, child: t.child, stop: t.stop });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: C });
/** One stream: ms to the response's first body bytes and to its end; the body for checking. */
function stream(t, keep) {
  const body = chatRequest(t.model, true);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = null;
    const parts = [];
    const req = http.request(`${t.url}${t.path}`, {
      method: "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...t.headers },
    }, (res) => {
      res.on("data", (d) => {
        first ??= performance.now() - t0;
        if (keep) parts.push(d);
      });
      res.on("end", () => resolve({ status: res.statusCode, first, last: performance.now() - t0, text: keep ? Buffer.concat(parts).toString() : "" }));
      res.on("error", reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

/** Streams of the direct answer's events (the content every target must pass through). */
const contentOf = (text) => text.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)).choices?.[0]?.delta?.content ?? "").join("");
const want = contentOf(openaiSse(CHUNKS));
async function check(t) {
  const r = await stream(t, true);
  if (r.status !== 200) throw new Error(`${t.name}: HTTP ${r.status}: ${r.text.slice(0, 200)}`);
  if (contentOf(r.text) !== want || !r.text.trimEnd().endsWith("data: [DONE]")) throw new Error(`${t.name}: wrong stream: ${r.text.slice(0, 200)}`);
}

/** `C` connections streaming back to back for `seconds`. */
async function load(t, seconds) {
  const until = performance.now() + seconds * 1000;
  const got = [];
  let errors = 0;
  await Promise.all(Array.from({ length: C }, async () => {
    while (performance.now() < until) {
      try {
        const r = await stream(t, false);
        if (r.status === 200) got.push(r);
        else errors++;
      } catch {
        errors++;
      }
    }
  }));
  return { got, errors };
}

const focus = focuser(targets, 500);

for (const t of targets) {
  await focus(t);
  await check(t);
  await load(t, Number(values.warmup));
}
const acc = Object.fromEntries(targets.map((t) => [t.name, { first: [], last: [], cpu_ms: 0, streams: 0, errors: 0, rounds: [] }]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const t of targets) {
    await focus(t);
    const cpu0 = t.child ? treeCpuMs(t.child.pid) : null;
    const { got, errors } = await load(t, SECONDS);
    const cpu = t.child ? treeCpuMs(t.child.pid) - cpu0 : null;
    const a = acc[t.name];
    for (const r of got) {
      a.first.push(r.first);
      a.last.push(r.last);
    }
    a.streams += got.length;
    a.errors += errors;
    if (cpu !== null) a.cpu_ms += cpu;
    const per = cpu === null || !got.length ? null : cpu / got.length;
    a.rounds.push({ streams: got.length, errors, cpu_ms_per_stream: per });
    console.log(`  r${round} ${t.name.padEnd(24)} ${got.length} streams  errors ${errors}  first p50 ${percentile(got.map((r) => r.first), 50).toFixed(2)}  last p50 ${percentile(got.map((r) => r.last), 50).toFixed(2)} ms` + (per === null ? "" : `  cpu/stream ${per.toFixed(3)} ms`));
  }
}
await focus(null);
agent.destroy();
const pcts = (v) => ({ p50: percentile(v, 50), p90: percentile(v, 90), p99: percentile(v, 99) });
const results = targets.map((t) => {
  const a = acc[t.name];
  return {
    name: t.name,
    streams: a.streams,
    errors: a.errors,
    cpu_ms_per_stream: t.child && a.streams ? a.cpu_ms / a.streams : null,
    first_ms: pcts(a.first),
    last_ms: pcts(a.last),
    rounds: a.rounds,
  };
});
const direct = results[0];
for (const r of results.slice(1)) {
  r.added_first_ms = Object.fromEntries(Object.entries(r.first_ms).map(([k, v]) => [k, v - direct.first_ms[k]]));
  r.added_last_ms = Object.fromEntries(Object.entries(r.last_ms).map(([k, v]) => [k, v - direct.last_ms[k]]));
  console.log(`${r.name.padEnd(24)} cpu/stream ${r.cpu_ms_per_stream?.toFixed(3)} ms  added first p50 ${r.added_first_ms.p50.toFixed(2)} p99 ${r.added_first_ms.p99.toFixed(2)}  added last p50 ${r.added_last_ms.p50.toFixed(2)} p99 ${r.added_last_ms.p99.toFixed(2)} ms  (${r.streams} streams, errors ${r.errors})`);
}
for (const t of targets) if (t.stop) await t.stop();
await drip.stop();
console.log(`wrote ${writeResult("trickle", { chunks: CHUNKS, writes: EVENTS, interval_ms: INTERVAL, connections: C, seconds: SECONDS, rounds: ROUNDS, sut_core: SUT_CORE, load_core: LOAD_CORE, results })}`);
process.exit(0);
