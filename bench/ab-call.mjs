// A/B of SDK CPU cost between two builds of the package (BENCH_PKG paths), with the openai client
// and raw fetch in the same run. Each client is its own pinned Node process and they take turns
// in short batches (bench/sdk/turns.mjs), so load from other tenants hits A and B alike; ratios
// are taken per round and summarised by their median and quartiles.
//   node bench/ab-call.mjs <pkgA/node.js> <pkgB/node.js> [seconds] [call|stream|anthropic-stream]
// call: CPU µs per call (batches of 25), overhead = client − fetch in the same round.
// stream: CPU ms per 20,000-chunk stream decode (one stream per batch).
// anthropic-stream: the same for the Anthropic → OpenAI translation, plus each build's OpenAI
//   pass-through stream, for the translation ratio (Anthropic ÷ OpenAI) per build.
// At least 300 rounds of calls / 20 of streams are kept even if `seconds` (default 30) is short.
import path from "node:path";
import { cleanupOnExit } from "./lib/common.mjs";
import { startUpstream } from "./lib/upstream.mjs";
import { startClient, takeTurns, quartiles, perRound, cpuPerCall, cpuMsPerStream } from "./sdk/turns.mjs";

const [a, b, seconds = "30", scenario = "call"] = process.argv.slice(2);
if (!a || !b || !["call", "stream", "anthropic-stream"].includes(scenario)) {
  console.error("usage: node bench/ab-call.mjs <pkgA/node.js> <pkgB/node.js> [seconds] [call|stream|anthropic-stream]");
  process.exit(2);
}
const isCall = scenario === "call";
const metric = isCall ? cpuPerCall : cpuMsPerStream;
const children = [];
cleanupOnExit(children);
const upstream = await startUpstream();
children.push(upstream.child);

const spec = (key, lib, scen, pkg) => ({ key, lib, scenario: scen, upstream: upstream.url, env: pkg ? { BENCH_PKG: path.resolve(pkg) } : {} });
const specs = [spec("fetch", "fetch", scenario), spec("A", "edgellm", scenario, a), spec("B", "edgellm", scenario, b)];
if (scenario === "anthropic-stream") specs.push(spec("A openai-stream", "edgellm", "stream", a), spec("B openai-stream", "edgellm", "stream", b));
else specs.push(spec("openai", "openai", scenario));
const clients = specs.map(startClient);
children.push(...clients.map((c) => c.child));
const { rounds, results } = await takeTurns(clients, {
  n: isCall ? 25 : 1,
  seconds: Number(seconds),
  minRounds: isCall ? 300 : 20,
  maxSeconds: Math.max(2 * Number(seconds), 90),
  warmSeconds: isCall ? 3 : 0,
});
await Promise.all(clients.map((c) => c.stop()));

const fmt = (q, d = 1) => `median ${q.median?.toFixed(d)}  q1 ${q.q1?.toFixed(d)}  q3 ${q.q3?.toFixed(d)}  (n ${q.n})`;
console.log(`${scenario}: ${rounds} rounds; CPU ${isCall ? "µs per call" : "ms per stream"}`);
for (const c of clients) {
  if (c.error) console.log(c.key.padEnd(16), "ERROR", c.error.split("\n")[0]);
  console.log(c.key.padEnd(16), fmt(quartiles(perRound(results, c.key, null, metric))));
}
const ratio = (label, x, y, f) => console.log(label.padEnd(34), fmt(quartiles(perRound(results, x, y, f)), 3));
const byMetric = (p, q) => metric(p) / metric(q);
if (isCall) {
  const fetchOf = (r) => results.get("fetch")[r];
  // Overheads over fetch per round, then B's ÷ A's and each ÷ openai's, per round.
  const over = (key) => results.get(key).map((m, r) => (m && fetchOf(r) ? metric(m) - metric(fetchOf(r)) : undefined));
  const ov = Object.fromEntries(["A", "B", "openai"].map((k) => [k, over(k)]));
  for (const k of ["A", "B", "openai"]) console.log(`${k} − fetch`.padEnd(16), fmt(quartiles(ov[k])));
  const per = (x, y) => quartiles(ov[x].map((v, r) => (v !== undefined && ov[y][r] !== undefined ? v / ov[y][r] : undefined)));
  console.log("overhead B ÷ A".padEnd(34), fmt(per("B", "A"), 3));
  console.log("overhead A ÷ openai".padEnd(34), fmt(per("A", "openai"), 3));
  console.log("overhead B ÷ openai".padEnd(34), fmt(per("B", "openai"), 3));
} else {
  ratio("B ÷ A", "B", "A", byMetric);
  if (scenario === "stream") ratio("openai ÷ B (decode speed-up)", "openai", "B", byMetric);
  else {
    ratio("translation A (Anthropic ÷ OpenAI)", "A", "A openai-stream", byMetric);
    ratio("translation B (Anthropic ÷ OpenAI)", "B", "B openai-stream", byMetric);
  }
}
await upstream.stop();
process.exit(0);
