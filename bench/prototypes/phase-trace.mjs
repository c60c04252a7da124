// Where a Worker's paced latency goes, request by request, seen from the kernel: workerd's
// socket syscalls and the SUT core's scheduler events recorded with `perf` during one paced wrk
// run (the load of bench/gateway.mjs's paced points), then each request split into phases:
//
//   in     the request's bytes read from the client socket → its upstream request written
//   up     upstream request written → the first read of the upstream's answer
//   out    that read → the answer written to the client socket
//
// and, for the slowest requests, what else the SUT core ran inside them (other threads and
// processes, and workerd's own threads: V8's GC and compiler helpers run there too).
//
//   taskset -c 0 node bench/prototypes/phase-trace.mjs [--target edgellm|passthrough|pump|per-event|batched|DIR]
//       [--stream] [--seconds 10] [--rate 100] [--top 15] [--dump N] [--profile]
//       [--v8-flags=--perf-basic-prof]
//
// --stream      100-chunk streams instead of non-stream answers (use --rate 20, as gateway.mjs)
// --dump N      every event inside the N slowest requests
// --profile     also 250 µs CPU samples: CPU per request on the SUT core by kind of code
//               (wasm per tier, JS, V8, workerd's kj, tcmalloc, kernel), and the top symbols
//               inside the 3 slowest requests. Sampling slows every request ~1.5×.
// --v8-flags=F  workerd with V8 flags F (space-separated; not for a DIR target),
//               e.g. --perf-basic-prof, so samples in wasm and JS code are named (wasm with
//               its tier)
//
// Run it on the load core (taskset above). Needs root (or perf_event_paranoid ≤ -1) for the
// tracepoints. Loopback only, bounded: a 3 s warm-up and one paced run of --seconds.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { chatRequest } from "../lib/bodies.mjs";
import { LOAD_CORE, OUT_DIR, SUT_CORE, sleep } from "../lib/common.mjs";
import { STARTERS, snapshotWorker, startAltWorker } from "../lib/gateways.mjs";
import { startUpstream } from "../lib/upstream.mjs";
import { runWrk } from "../lib/wrk.mjs";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "edgellm" },
    seconds: { type: "string", default: "10" },
    rate: { type: "string", default: "100" },
    top: { type: "string", default: "15" },
    dump: { type: "string", default: "0" },
    profile: { type: "boolean", default: false },
    "v8-flags": { type: "string", default: "" },
    stream: { type: "boolean", default: false },
  },
});
const C = 16;
const SECONDS = Number(values.seconds);
const PROFILE = values.profile;

const up = await startUpstream();
const v8Flags = values["v8-flags"] ? values["v8-flags"].split(" ") : [];
const name = values.target === "edgellm" ? "edgellm-workerd" : `workerd-js-${values.target}`;
const target = STARTERS[name]
  ? await STARTERS[name](up.url, name === "edgellm-workerd" ? snapshotWorker() : null, { v8Flags })
  : await startAltWorker(up.url, values.target);
const children = [up.child, target.child];
const stopAll = async () => {
  for (const c of children) await c.stop?.().catch(() => {});
};
const r = target.request(values.stream ? "sse" : "json");
const body = chatRequest(r.model, values.stream);
await runWrk({ url: target.url + r.path, body, headers: r.headers, connections: C, seconds: 3 });

const data = path.join(OUT_DIR, `phase-trace-${values.target.replace(/\W/g, "_")}.data`);
const perf = spawn("taskset", ["-c", LOAD_CORE, "perf", "record", "-q", "-o", data, "-C", SUT_CORE,
  "-e", "raw_syscalls:sys_enter", "-e", "raw_syscalls:sys_exit", "-e", "sched:sched_switch", "-e", "sched:sched_wakeup",
  ...(PROFILE ? ["-e", "cpu-clock", "-c", "250000"] : [])], { stdio: "inherit" });
await sleep(1000);
const wrkRun = runWrk({ url: target.url + r.path, body, headers: r.headers, connections: C, seconds: SECONDS, delayMs: Math.round((C / Number(values.rate)) * 1000), hist: true });
await sleep(SECONDS * 500);
// Which fd of workerd is which socket: the client side listens on the target's port.
const port = new URL(target.url).port;
const ss = execFileSync("ss", ["-tnpH"]).toString();
const w = await wrkRun;
perf.kill("SIGINT");
await new Promise((res) => perf.on("exit", res));
await stopAll();

const clientFds = new Set();
const upstreamFds = new Set();
const upPort = new URL(up.url).port;
for (const line of ss.split("\n")) {
  const m = /\S+\s+\S+\s+\S+\s+(\S+):(\d+)\s+(\S+):(\d+)\s+users:\(\("workerd",pid=(\d+),fd=(\d+)/.exec(line);
  if (!m) continue;
  if (m[2] === port) clientFds.add(Number(m[6]));
  else if (m[4] === upPort) upstreamFds.add(Number(m[6]));
}

const script = execFileSync("perf", ["script", "-i", data, "-F", "comm,tid,cpu,time,event,trace,ip,sym"], { maxBuffer: 1 << 30 }).toString();
// x86_64 syscall numbers for reads and writes on sockets.
const READS = new Set([0, 19, 45, 47]);
const WRITES = new Set([1, 20, 44, 46]);
const events = [];
const pending = new Map();
for (const line of script.split("\n")) {
  const m = /^\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$/.exec(line);
  if (!m) continue;
  const [, comm, tid, , t, ev, rest] = m;
  const time = Number(t) * 1000;
  if (ev === "sched:sched_wakeup") {
    events.push({ time, kind: "wakeup", what: rest.replace(/\s+/g, " ").slice(0, 60) });
  } else if (ev === "raw_syscalls:sys_enter") {
    const s = /NR (\d+) \(([0-9a-f]+)/.exec(rest);
    if (!s) continue;
    const nr = Number(s[1]);
    if (READS.has(nr) || WRITES.has(nr)) pending.set(tid, { time, tid: Number(tid), comm, kind: READS.has(nr) ? "r" : "w", fd: parseInt(s[2], 16), nr });
  } else if (ev === "raw_syscalls:sys_exit") {
    // Only transfers count: a read that found nothing (EAGAIN) opens no request.
    const s = /NR (\d+) = (-?\d+)/.exec(rest);
    const e = pending.get(tid);
    pending.delete(tid);
    if (s && e && Number(s[1]) === e.nr && Number(s[2]) > 0) events.push(e);
  } else if (ev === "cpu-clock") {
    events.push({ time, kind: "sample", comm, sym: rest.trim().replace(/^[0-9a-f]+\s+/, "").slice(0, 110) });
  } else if (ev === "sched:sched_switch") {
    const s = /prev_comm=(.*?) prev_pid=(\d+).*next_comm=(.*?) next_pid=(\d+)/.exec(rest);
    if (s) events.push({ time, kind: "switch", prev: `${s[1]}/${s[2]}`, next: `${s[3]}/${s[4]}`, nextPid: Number(s[4]) });
  }
}

// Requests per client fd: a read on the client fd opens one (reads that follow before its
// answer is written are the same request), the first write on the client fd closes it.
const open = new Map();
const done = [];
for (const e of events) {
  if (e.kind === "r" && clientFds.has(e.fd)) {
    if (!open.has(e.fd)) open.set(e.fd, { fd: e.fd, start: e.time });
  } else if (e.kind === "w" && upstreamFds.has(e.fd)) {
    for (const q of open.values()) if (q.upWrite === undefined) { q.upWrite = e.time; break; }
  } else if (e.kind === "r" && upstreamFds.has(e.fd)) {
    for (const q of open.values()) if (q.upWrite !== undefined && q.upRead === undefined) { q.upRead = e.time; break; }
  } else if (e.kind === "w" && clientFds.has(e.fd)) {
    const q = open.get(e.fd);
    if (!q) continue;
    q.end = e.time;
    open.delete(e.fd);
    done.push(q);
  }
}
const complete = done.filter((q) => q.upWrite !== undefined && q.upRead !== undefined);
const pct = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const phases = { total: (q) => q.end - q.start, in: (q) => q.upWrite - q.start, up: (q) => q.upRead - q.upWrite, out: (q) => q.end - q.upRead };
console.log(`${values.target}: wrk ${w.requests} requests, p50 ${w.latency_ms.p50.toFixed(2)} p90 ${w.latency_ms.p90.toFixed(2)} p99 ${w.latency_ms.p99.toFixed(2)} ms; traced ${done.length} (${complete.length} with both upstream ends); client fds ${clientFds.size}, upstream fds ${upstreamFds.size}`);
for (const [k, f] of Object.entries(phases)) {
  const v = complete.map(f);
  console.log(`  ${k.padEnd(5)} p50 ${pct(v, 50).toFixed(3)}  p90 ${pct(v, 90).toFixed(3)}  p99 ${pct(v, 99).toFixed(3)}  max ${pct(v, 100).toFixed(3)} ms`);
}

if (PROFILE) {
  // CPU per request on the SUT core by kind of code, from 250 µs samples. Samples in JIT code
  // have names only with --v8-flags=--perf-basic-prof (V8 writes /tmp/perf-PID.map).
  const kind = (e) => {
    if (e.comm !== "workerd") return `other: ${e.comm}`;
    if (e.sym.includes("-liftoff") || e.sym.includes("WasmLiftoffFrameSetup")) return "wasm, Liftoff (baseline tier)";
    if (e.sym.includes("-turbofan")) return "wasm, TurboFan";
    if (e.sym.startsWith("JS:") || e.sym.includes("[unknown]")) return "JS and other JIT code";
    if (/\[k\]|kallsyms/.test(e.sym) || /^[a-z_0-9.]+$/.test(e.sym)) return "kernel";
    if (/tcmalloc|TCMalloc/.test(e.sym)) return "tcmalloc";
    if (e.sym.includes("Builtins_")) return "V8 builtins";
    if (e.sym.includes("v8::")) return "V8 runtime";
    if (e.sym.includes("kj::")) return "kj (I/O, promises)";
    if (e.sym.includes("workerd::")) return "workerd";
    return "other native";
  };
  const by = new Map();
  for (const e of events) if (e.kind === "sample") by.set(kind(e), (by.get(kind(e)) ?? 0) + 1);
  const perReq = (n) => ((n * 0.25) / w.requests) * 1000;
  console.log(`CPU on the SUT core per request (µs, ${w.requests} requests): ${[...by].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${perReq(n).toFixed(1)}`).join("; ")}`);
}

// For the slowest requests: who ran on the SUT core inside them, and for how long.
const switches = events.filter((e) => e.kind === "switch");
// The kernel here records no switch out of the idle task, so a span that follows a switch to
// idle is the idle time plus the run of the task the next switch takes off the core: it is
// counted as "TASK+idle" (at most that much of TASK).
function occupancy(a, b) {
  const by = new Map();
  const add = (k, v) => by.set(k, (by.get(k) ?? 0) + v);
  let owner = null;
  let since = a;
  for (const s of switches) {
    if (s.time < a) {
      owner = s.next;
      continue;
    }
    if (s.time > b) break;
    add(owner === null || owner.startsWith("swapper/") ? `${s.prev}+idle` : owner, s.time - since);
    owner = s.next;
    since = s.time;
  }
  add(owner === null || owner.startsWith("swapper/") ? "idle+?" : owner, b - since);
  return [...by].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
}
const helperWakes = events.filter((e) => e.kind === "wakeup" && e.what.includes("V8 DefaultWorke")).length;
console.log(`V8 helper threads (GC, compilers) woken on the SUT core: ${helperWakes}×`);
const slow = [...complete].sort((a, b) => phases.total(b) - phases.total(a)).slice(0, Number(values.top));
console.log(`slowest ${slow.length}: total / in / up / out ms, then the SUT core's occupants (ms) in the request`);
for (const q of slow) {
  console.log(`  ${phases.total(q).toFixed(2)} / ${phases.in(q).toFixed(2)} / ${phases.up(q).toFixed(2)} / ${phases.out(q).toFixed(2)}  ${occupancy(q.start, q.end)}`);
}
for (const q of PROFILE ? slow.slice(0, 3) : []) {
  const by = new Map();
  for (const e of events) if (e.kind === "sample" && e.time >= q.start && e.time <= q.end) by.set(`${e.comm} ${e.sym}`, (by.get(`${e.comm} ${e.sym}`) ?? 0) + 1);
  console.log(`samples in the ${phases.total(q).toFixed(2)} ms request: ${[...by].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${n}× ${k}`).join("; ")}`);
}
for (const q of slow.slice(0, Number(values.dump))) {
  console.log(`events of the ${phases.total(q).toFixed(2)} ms request (fd ${q.fd}):`);
  for (const e of events) {
    if (e.time < q.start - 0.05 || e.time > q.end + 0.05) continue;
    const what = e.kind === "switch" ? `switch ${e.prev} -> ${e.next}` : e.kind === "wakeup" ? `wakeup ${e.what}` : `${e.comm}/${e.tid} ${e.kind} fd ${e.fd}`;
    console.log(`  +${(e.time - q.start).toFixed(3)} ${what}`);
  }
}
fs.rmSync(data, { force: true });
process.exit(0);
