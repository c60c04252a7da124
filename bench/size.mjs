// Size figures for the report: scripts/size-budget.sh --json (the npm package), the Worker
// bundle in worker/build, and the wasm breakdown from bench/wasm-size.mjs.
// Writes bench/out/size.json and bench/out/wasm-size.json.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { ROOT, BENCH_DIR, writeResult } from "./lib/common.mjs";

const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;
const budgetRun = spawnSync("bash", [path.join(ROOT, "scripts/size-budget.sh"), "--json"], { encoding: "utf8" });
const line = budgetRun.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
const budget = line ? JSON.parse(line) : { error: budgetRun.stderr.trim() };

let worker = null;
const build = path.join(ROOT, "worker/build");
if (fs.existsSync(path.join(build, "edgellm_worker_bg.wasm"))) {
  const files = ["edgellm_worker_bg.wasm", "edgellm_worker.js", "config.js"]
    .map((n) => path.join(build, n))
    .concat([path.join(ROOT, "worker/js/entry.mjs")])
    .filter((p) => fs.existsSync(p))
    .map((p) => ({ name: path.relative(ROOT, p), raw: fs.statSync(p).size, gzip: gz(p) }));
  worker = { files, raw: files.reduce((a, x) => a + x.raw, 0), gzip: files.reduce((a, x) => a + x.gzip, 0) };
}
// scripts/build-pkg.sh builds into its own target dir (std rebuilt from source).
const cargoWasm = path.join(ROOT, "target/pkg-build/wasm32-unknown-unknown/release/edgellm.wasm");
if (fs.existsSync(cargoWasm)) {
  const ws = execFileSync(process.execPath, [path.join(BENCH_DIR, "wasm-size.mjs"), cargoWasm, "--json", "--top", "30"], { encoding: "utf8", maxBuffer: 1 << 24 });
  writeResult("wasm-size", JSON.parse(ws));
}
console.log(`wrote ${writeResult("size", { measured_at: new Date().toISOString(), budget, worker })}`);
if (budget.largest) console.log(`package: ${budget.largest} bytes gzip (${budget.largest_entry}), budget ${budget.budget}: ${budget.ok ? "OK" : "EXCEEDED"}`);
