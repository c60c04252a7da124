// Per-request latency in time order through one gateway at low load, to tell periodic stalls
// (GC, timers) from random ones. One keep-alive connection, requests spaced by --gap ms.
//   node bench/prototypes/paced-trace.mjs [--target edgellm-workerd|workerd-js-passthrough|alt:DIR] [--n 2000] [--gap 5]
import http from "node:http";
import { parseArgs } from "node:util";
import { cleanupOnExit, sleep } from "../lib/common.mjs";
import { startUpstream } from "../lib/upstream.mjs";
import { chatRequest } from "../lib/bodies.mjs";
import { STARTERS, snapshotWorker, startAltWorker } from "../lib/gateways.mjs";

const { values } = parseArgs({ options: { target: { type: "string", default: "edgellm-workerd" }, n: { type: "string", default: "2000" }, gap: { type: "string", default: "5" } } });
const children = [];
cleanupOnExit(children);
const upstream = await startUpstream();
children.push(upstream.child);
const name = values.target;
const target = name.startsWith("alt:") ? await startAltWorker(upstream.url, name.slice(4)) : await STARTERS[name](upstream.url, name.startsWith("edgellm") ? snapshotWorker() : null);
children.push(target.child);
const r = target.request("json");
const body = chatRequest(r.model, false);
const url = new URL(target.url + r.path);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function once() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...r.headers } }, (res) => {
      res.resume();
      res.on("end", () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
    });
    req.on("error", reject);
    req.end(body);
  });
}
for (let i = 0; i < 300; i++) await once();
const lat = [];
for (let i = 0; i < Number(values.n); i++) {
  lat.push(await once());
  await sleep(Number(values.gap));
}
const sorted = [...lat].sort((a, b) => a - b);
const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
console.log(`${name}: p50 ${p(0.5).toFixed(3)} p90 ${p(0.9).toFixed(3)} p99 ${p(0.99).toFixed(3)} max ${sorted.at(-1).toFixed(3)} ms`);
const slow = lat.map((v, i) => [i, v]).filter(([, v]) => v > p(0.5) * 2);
console.log(`${slow.length} requests over 2× p50, at indices: ${slow.map(([i, v]) => `${i}:${v.toFixed(1)}`).join(" ")}`);
await target.stop();
await upstream.stop();
