// Where a Worker's latency tail comes from: one keep-alive connection, requests back to back,
// every request over a threshold listed with its index and time, and (with --trace-gc) V8's
// own GC log for the same run, so stalls can be set against scavenges and mark-compacts.
//
//   taskset -c 0 node bench/prototypes/stall-probe.mjs [--target passthrough|DIR] [--seconds 4]
//       [--rounds 3] [--threshold-ms 8] [--trace-gc] [--gap-ms 0]
//
// --gap-ms N waits N ms after each response before the next request: the tail of a Worker at
// low load (each request on an idle core), as the paced points of bench/gateway.mjs see it.
//
// DIR is a Worker snapshot (build/ + js/, as bench/gateway.mjs's alt: targets); the default
// target is bench/lib/js-worker in passthrough mode, the floor for any Worker. Run the probe
// itself on the load core (taskset above): workerd is pinned to the SUT core.
//
// --trace-gc sets workerd's `v8Flags = ["--trace-gc"]`. V8 prints through C stdio, which is
// block-buffered into a pipe or file and lost when workerd is stopped, so workerd runs under
// `script` (a pseudo-terminal: line-buffered) and its output is read back from script's log.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { chatRequest } from "../lib/bodies.mjs";
import { OUT_DIR, ROOT, SUT_CORE, freePort, waitForPort } from "../lib/common.mjs";
import { MASTER_KEY, gatewayConfig } from "../lib/gateways.mjs";
import { startUpstream } from "../lib/upstream.mjs";
import { gatewayModules, workerdConfig, wranglerCompatFlags } from "../lib/workerd-config.mjs";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "passthrough" },
    seconds: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    "threshold-ms": { type: "string", default: "8" },
    "trace-gc": { type: "boolean", default: false },
    "gap-ms": { type: "string", default: "0" },
  },
});

const up = await startUpstream();
const port = await freePort();
const passthrough = values.target === "passthrough";
const dir = passthrough ? path.join(OUT_DIR, "stall-probe-js") : path.resolve(values.target);
const v8Flags = values["trace-gc"] ? ["--trace-gc"] : [];
let conf;
if (passthrough) {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(ROOT, "bench/lib/js-worker/worker.mjs"), path.join(dir, "worker.mjs"));
  const bases = { "bench-json": `${up.url}/json/v1` };
  conf = workerdConfig({ modules: ["worker.mjs"], port, bindings: { BASES: JSON.stringify(bases), MODE: "passthrough" }, v8Flags });
} else {
  conf = workerdConfig({
    modules: gatewayModules(dir),
    port,
    bindings: { EDGELLM_CONFIG: JSON.stringify(gatewayConfig(up.url)) },
    compatibilityFlags: wranglerCompatFlags(),
    v8Flags,
  });
}
const confFile = path.join(dir, "stall-probe.capnp");
fs.writeFileSync(confFile, conf);
const log = path.join(OUT_DIR, "stall-probe-workerd.log");
const workerd = `taskset -c ${SUT_CORE} ${path.join(ROOT, "node_modules/.bin/workerd")} serve ${path.basename(confFile)}`;
const child = spawn("script", ["-qfc", workerd, log], { cwd: dir, stdio: "ignore", detached: true });
await waitForPort(port, 20_000);

const body = chatRequest("bench-json", false);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const headers = { "content-type": "application/json", authorization: `Bearer ${MASTER_KEY}`, "content-length": Buffer.byteLength(body) };
const one = () =>
  new Promise((resolve, reject) => {
    const req = http.request(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });

for (let i = 0; i < 2000; i++) await one(); // warm-up (JIT tiers, wasm tier-up)
const gapMs = Number(values["gap-ms"]);
const gcBefore = fs.readFileSync(log, "utf8").length;
let total = 0;
for (let r = 1; r <= Number(values.rounds); r++) {
  const t0 = performance.now();
  const end = t0 + 1000 * Number(values.seconds);
  const lat = [];
  const slow = [];
  while (performance.now() < end) {
    const s = performance.now();
    const status = await one();
    const d = performance.now() - s;
    if (status !== 200) throw new Error(`HTTP ${status}`);
    lat.push(d);
    if (d > Number(values["threshold-ms"])) slow.push({ i: lat.length, at: s - t0, d });
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  total += lat.length;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(3);
  // The ten longest, in time order: request index @ ms into the round : latency.
  const worst = slow.sort((a, b) => b.d - a.d).slice(0, 10).sort((a, b) => a.i - b.i);
  const list = worst.map((x) => `#${x.i}@${x.at.toFixed(0)}:${x.d.toFixed(1)}`).join(" ");
  console.log(`round ${r}: ${lat.length} requests, p50 ${q(0.5)} p99 ${q(0.99)} p999 ${q(0.999)} max ${lat.at(-1).toFixed(1)} ms; ${slow.length} over ${values["threshold-ms"]} ms, longest: ${list || "none"}`);
}
if (values["trace-gc"]) {
  const text = fs.readFileSync(log, "utf8").slice(gcBefore);
  const kinds = {};
  for (const m of text.matchAll(/ (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)[^,]*?, pooled: [\d.]+ MB, ([\d.]+) \/ [\d.]+ ms/g)) {
    const k = (kinds[m[1]] ??= { count: 0, total_ms: 0, max_ms: 0 });
    k.count++;
    k.total_ms += Number(m[2]);
    k.max_ms = Math.max(k.max_ms, Number(m[2]));
  }
  for (const [kind, k] of Object.entries(kinds)) {
    console.log(`${kind}: ${k.count} (${((1000 * k.count) / total).toFixed(2)} per 1000 requests), pause total ${k.total_ms.toFixed(1)} ms, max ${k.max_ms.toFixed(2)} ms`);
  }
  console.log(`V8's GC log: ${log}`);
}
process.kill(-child.pid, "SIGTERM");
await up.stop();
process.exit(0);
