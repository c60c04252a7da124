// CPU profile of the gateway Worker in workerd under load, with wasm function names.
//
// Rebuilds the wasm-bindgen output from the cargo artifact WITHOUT --remove-name-section (the
// same code as scripts/build-worker.sh ships, which runs no wasm-opt, with names) into bench/out/worker-prof/,
// serves it with workerd --inspector-addr, drives wrk at it (json or sse), records a V8 CPU
// profile over the DevTools protocol and prints the top functions by self time.
//
//   node --experimental-websocket bench/profile-worker.mjs [--mode json|sse|trickle] [--seconds 6] [--connections 16] [--delay-ms 160]
// `trickle`: the 100-chunk stream from bench/lib/drip-server.mjs, one event per write 2 ms apart
// (BENCH_DRIP_INTERVAL_MS), so the Worker reads it in ~100 pieces (bench/trickle.mjs).
// Writes bench/out/worker-<mode>.cpuprofile (open in Chrome DevTools → Performance) and
// bench/out/worker-<mode>-profile.json (the summary bench/report.mjs uses).
// PROFILE_WASM=<path to edgellm_worker.wasm> profiles another cargo target dir's artifact, and
// PROFILE_TAG=<name> writes worker-prof-<name>/ and worker-<mode>-<name>.* instead, so two people
// can profile side by side.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { OUT_DIR, ROOT, cleanupOnExit, sleep, writeResult } from "./lib/common.mjs";
import { startUpstream } from "./lib/upstream.mjs";
import { MASTER_KEY, startWorkerd } from "./lib/gateways.mjs";
import { Cdp } from "./lib/cdp.mjs";
import { chatRequest } from "./lib/bodies.mjs";
import { runWrk } from "./lib/wrk.mjs";
import { startDrip } from "./lib/drip.mjs";
import { summarize } from "./lib/cpuprofile.mjs";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "sse" },
    seconds: { type: "string", default: "6" },
    connections: { type: "string", default: "16" },
    // Paced load: each connection waits this long before each request (wrk's delay), to see
    // what a request costs on an otherwise idle core rather than at saturation.
    "delay-ms": { type: "string", default: "0" },
  },
});
if (typeof WebSocket === "undefined") {
  console.error("run with node --experimental-websocket (Node 20) or Node ≥ 22");
  process.exit(2);
}

const TAG = process.env.PROFILE_TAG ? `-${process.env.PROFILE_TAG}` : "";

/** The wasm-bindgen output with names, built beside the shipped one. */
function buildNamed() {
  const dir = path.join(OUT_DIR, `worker-prof${TAG}`);
  const wasm = process.env.PROFILE_WASM || path.join(ROOT, "target/wasm32-unknown-unknown/worker/edgellm_worker.wasm");
  if (!fs.existsSync(wasm)) throw new Error(`${wasm} is missing: run bash scripts/build-worker.sh`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "js"), { recursive: true });
  const build = path.join(dir, "build");
  execFileSync("wasm-bindgen", [
    "--target", "module", "--out-name", "edgellm_worker", "--no-typescript",
    "--experimental-reset-state-function", "--force-enable-abort-handler", "--out-dir", build, wasm,
  ]);
  const js = path.join(build, "edgellm_worker.js");
  fs.writeFileSync(js, fs.readFileSync(js, "utf8").replace(/^import source (.*\.wasm");$/m, "import $1;"));
  fs.cpSync(path.join(ROOT, "worker/js"), path.join(dir, "js"), { recursive: true });
  fs.writeFileSync(path.join(build, "config.js"), 'export default "model_list: []";\n');
  return dir;
}

const children = [];
cleanupOnExit(children);
const upstream = values.mode === "trickle" ? await startDrip({ intervalMs: Number(process.env.BENCH_DRIP_INTERVAL_MS ?? 2), lifetimeS: 300 }) : await startUpstream();
children.push(upstream.child);
const dir = buildNamed();
const gw = await startWorkerd(upstream.url, dir, undefined, { inspector: true });
children.push(gw.child);

const mode = values.mode;
const body = chatRequest(mode === "json" ? "bench-json" : "bench-sse", mode !== "json");
const url = `${gw.url}/v1/chat/completions`;
const headers = { Authorization: `Bearer ${MASTER_KEY}` };
// Warm up before profiling (JIT tiers, first-request config parse).
await runWrk({ url, body, headers, connections: 16, seconds: 2 });

const cdp = await Cdp.connect(gw.inspector);
await cdp.send("Profiler.enable");
await cdp.send("Profiler.setSamplingInterval", { interval: 100 });
await cdp.send("Profiler.start");
const delayMs = Number(values["delay-ms"]);
const load = await runWrk({ url, body, headers, connections: Number(values.connections), seconds: Number(values.seconds), ...(delayMs > 0 ? { delayMs } : {}) });
const { profile } = await cdp.send("Profiler.stop");
cdp.ws.close();
fs.writeFileSync(path.join(OUT_DIR, `worker-${mode}${TAG}.cpuprofile`), JSON.stringify(profile));
const summary = summarize(profile, 25);
writeResult(`worker-${mode}${TAG}-profile`, { mode, connections: Number(values.connections), rps_while_profiling: load.rps, ...summary });
console.log(`${mode}: ${load.rps.toFixed(0)} rps while profiling (profiler overhead included)`);
for (const row of summary.top) console.log(`${row.self_pct.toFixed(1).padStart(5)}%  ${row.name}`);
console.log("by category:", JSON.stringify(summary.categories));
await sleep(100);
await gw.stop();
await upstream.stop();
