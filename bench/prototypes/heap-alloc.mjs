// What a Worker allocates on the V8 heap per request, and where: V8's sampling heap profiler
// (over workerd's inspector) during a load run, objects that GC already freed included. The
// young generation fills at the rate a Worker allocates, so this rate decides how often
// scavenges and, after them, major GCs (with workerd's sweep of dead Headers, Requests and
// Responses) land inside requests (bench/prototypes/phase-trace.mjs shows those stalls).
//
//   taskset -c 0 node --experimental-websocket bench/prototypes/heap-alloc.mjs
//       [--target edgellm|passthrough|pump] [--stream] [--seconds 5] [--top 20]
//
// Prints bytes allocated per request (sampled every 64 bytes: an estimate) and the top
// allocating functions, JS and wasm (wasm by index: the shipped build has no names).
// Loopback only, bounded: a 2 s warm-up and one run of --seconds at 16 connections.
import { parseArgs } from "node:util";
import { chatRequest } from "../lib/bodies.mjs";
import { Cdp, sendNudged } from "../lib/cdp.mjs";
import { sleep } from "../lib/common.mjs";
import { STARTERS, snapshotWorker } from "../lib/gateways.mjs";
import { startUpstream } from "../lib/upstream.mjs";
import { runWrk } from "../lib/wrk.mjs";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "edgellm" },
    stream: { type: "boolean", default: false },
    seconds: { type: "string", default: "5" },
    top: { type: "string", default: "20" },
  },
});
if (typeof WebSocket === "undefined") {
  console.error("run with node --experimental-websocket (Node 20) or Node ≥ 22");
  process.exit(2);
}

const up = await startUpstream();
const name = values.target === "edgellm" ? "edgellm-workerd" : `workerd-js-${values.target}`;
if (!STARTERS[name]) throw new Error(`unknown --target ${values.target}`);
const target = await STARTERS[name](up.url, name === "edgellm-workerd" ? snapshotWorker() : null, { inspector: true });
const r = target.request(values.stream ? "sse" : "json");
let nudges = 0;
const request = () => (nudges++, fetch(target.url + r.path, { method: "POST", headers: r.headers, body: chatRequest(r.model, values.stream) }).then((x) => x.arrayBuffer()));
const load = (seconds) => runWrk({ url: target.url + r.path, body: chatRequest(r.model, values.stream), headers: r.headers, connections: 16, seconds });
await load(2);

const cdp = await Cdp.connect(target.inspector);
await cdp.send("HeapProfiler.enable");
await cdp.send("HeapProfiler.startSampling", { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const w = await load(Number(values.seconds));
// The profile is read inside the isolate: requests let workerd run the inspector's task.
const { profile } = await sendNudged(cdp, "HeapProfiler.getSamplingProfile", {}, request);
await cdp.send("HeapProfiler.stopSampling");
cdp.ws.close();

// Self bytes per function (a frame: name, script, line), and the total.
const self = new Map();
let total = 0;
(function walk(node) {
  const f = node.callFrame;
  const key = `${f.functionName || "(anonymous)"} ${(f.url || "").split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
  const bytes = node.selfSize;
  total += bytes;
  if (bytes) self.set(key, (self.get(key) ?? 0) + bytes);
  for (const c of node.children) walk(c);
})(profile.head);
// wrk's requests, and the ones that let the profile be read out.
const requests = w.requests + nudges;
console.log(`${values.target}${values.stream ? " (stream)" : ""}: ${w.requests} requests at ${w.rps.toFixed(0)}/s; V8 heap allocated ≈ ${(total / requests).toFixed(0)} bytes per request`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`  ${(v / requests).toFixed(0).padStart(6)} B/req  ${k}`);
}
await sleep(100);
await target.child.stop();
await up.child.stop();
process.exit(0);
