// Paired A/B: both Worker builds on the SUT core AT THE SAME TIME, each under its own wrk
// (c=8), so both see the same contention from other processes; CPU per request from each
// workerd's process-tree CPU time.  node bench/prototypes/pair-ab.mjs DIR_A DIR_B [rounds] [seconds] [json|sse|trickle]
// (`sse`: the 100-chunk stream, CPU per stream; default `json`, CPU per non-stream request;
// `trickle`: the same stream written one event per write, 1 ms apart (bench/lib/drip-server.mjs),
// at c=16, so each stream is ~100 upstream reads).
import { startUpstream } from "../lib/upstream.mjs";
import { startDrip } from "../lib/drip.mjs";
import { startAltWorker, MASTER_KEY } from "../lib/gateways.mjs";
import { chatRequest } from "../lib/bodies.mjs";
import { runWrk } from "../lib/wrk.mjs";
import { cleanupOnExit, treeCpuMs } from "../lib/common.mjs";
const [a, b, rounds = "6", seconds = "3", mode = "json"] = process.argv.slice(2);
if (!["json", "sse", "trickle"].includes(mode)) throw new Error(`pair-ab: mode is json, sse or trickle, not ${mode}`);
const children = [];
cleanupOnExit(children);
const up = mode === "trickle" ? await startDrip({ intervalMs: 1, lifetimeS: 2 * +rounds * +seconds + 120 }) : await startUpstream();
children.push(up.child);
const ts = [];
for (const d of [a, b]) { const t = await startAltWorker(up.url, d); children.push(t.child); ts.push(t); }
const body = chatRequest(mode === "json" ? "bench-json" : "bench-sse", mode !== "json");
const headers = { Authorization: `Bearer ${MASTER_KEY}` };
const load = (t, s) => runWrk({ url: `${t.url}/v1/chat/completions`, body, headers, connections: mode === "trickle" ? 16 : 8, seconds: s });
await Promise.all(ts.map((t) => load(t, 4)));
const ratios = [];
for (let r = 0; r < +rounds; r++) {
  const c0 = ts.map((t) => treeCpuMs(t.child.pid));
  const w = await Promise.all(ts.map((t) => load(t, +seconds)));
  const c1 = ts.map((t) => treeCpuMs(t.child.pid));
  const per = ts.map((_, i) => (c1[i] - c0[i]) / w[i].requests);
  ratios.push(per[1] / per[0]);
  console.log(`r${r + 1} A ${(per[0] * 1000).toFixed(1)} us/req (${w[0].rps.toFixed(0)} rps, err ${w[0].errors})  B ${(per[1] * 1000).toFixed(1)} us/req (${w[1].rps.toFixed(0)} rps, err ${w[1].errors})  B/A ${ratios[r].toFixed(3)}`);
}
const s = [...ratios].sort((p, q) => p - q);
console.log("median B/A", (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2).toFixed(3), "all", ratios.map((x) => x.toFixed(3)).join(" "));
process.exit(0);
