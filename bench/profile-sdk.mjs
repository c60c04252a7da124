// CPU profiles of edgellm's `completion` in Node (node --cpu-prof on bench/sdk/client.mjs,
// pinned to the SUT core, against nginx): the stream decode and the non-stream call.
// Writes bench/out/sdk-<scenario>.cpuprofile and bench/out/sdk-<scenario>-profile.json.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BENCH_DIR, OUT_DIR, SUT_CORE, cleanupOnExit, writeResult } from "./lib/common.mjs";
import { startUpstream } from "./lib/upstream.mjs";
import { summarize } from "./lib/cpuprofile.mjs";

const children = [];
cleanupOnExit(children);
const upstream = await startUpstream();
children.push(upstream.child);
for (const scenario of ["stream", "call"]) {
  const dir = path.join(OUT_DIR, `sdk-prof-${scenario}`);
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync("taskset", ["-c", SUT_CORE, process.execPath, "--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval", "100",
    path.join(BENCH_DIR, "sdk/client.mjs"), "edgellm", scenario, upstream.url], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, BENCH_CALL_SECONDS: "3", BENCH_STREAM_REPS: "5" },
    timeout: 120_000,
  });
  const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  const profile = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  fs.renameSync(path.join(dir, file), path.join(OUT_DIR, `sdk-${scenario}.cpuprofile`));
  fs.rmSync(dir, { recursive: true, force: true });
  const summary = summarize(profile, 25);
  writeResult(`sdk-${scenario}-profile`, summary);
  console.log(`${scenario}: ${JSON.stringify(summary.categories)}`);
  for (const row of summary.top.slice(0, 12)) console.log(`${row.self_pct.toFixed(1).padStart(5)}%  ${row.name.slice(0, 150)}`);
}
await upstream.stop();
