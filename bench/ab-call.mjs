// A/B of SDK per-call CPU between two builds of the package (BENCH_PKG paths), with the openai
// client and raw fetch in the same run; interleaved rounds, each cell a fresh pinned process.
//   node bench/ab-call.mjs <pkgA/node.js> <pkgB/node.js> [rounds] [call|stream|anthropic-stream]
// `stream`: CPU ms per 20,000-chunk stream decode (median of the reps) instead of µs per call.
import { execFile } from "node:child_process";
import path from "node:path";
import { BENCH_DIR, SUT_CORE, cleanupOnExit } from "./lib/common.mjs";
import { startUpstream } from "./lib/upstream.mjs";

const [a, b, rounds = "4", scenario = "call"] = process.argv.slice(2);
const metric = scenario.endsWith("stream") ? "cpu_ms_median" : "cpu_us_per_call";
const run = (lib, env = {}) =>
  new Promise((resolve) =>
    execFile("taskset", ["-c", SUT_CORE, process.execPath, path.join(BENCH_DIR, "sdk/client.mjs"), lib, scenario, upstream.url],
      { env: { ...process.env, ...env }, timeout: 120_000 }, (err, out) => {
        const line = out.trim().split("\n").filter((l) => l.startsWith("{")).pop();
        resolve(err || !line ? null : JSON.parse(line));
      }));
const children = [];
cleanupOnExit(children);
const upstream = await startUpstream();
children.push(upstream.child);
const cells = { fetch: [], A: [], B: [], openai: [] };
for (let r = 0; r < Number(rounds); r++) {
  cells.fetch.push((await run("fetch"))?.[metric]);
  cells.A.push((await run("edgellm", { BENCH_PKG: path.resolve(a) }))?.[metric]);
  cells.B.push((await run("edgellm", { BENCH_PKG: path.resolve(b) }))?.[metric]);
  cells.openai.push((await run("openai"))?.[metric]);
}
for (const [k, v] of Object.entries(cells)) console.log(k.padEnd(7), v.map((x) => x?.toFixed(1)).join(" "), " best", Math.min(...v).toFixed(1));
upstream.child.kill();
process.exit(0);
