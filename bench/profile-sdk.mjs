// CPU profiles of edgellm's `completion` in Node (node --cpu-prof on bench/sdk/client.mjs,
// pinned to the SUT core, against nginx): the stream decode and the non-stream call. The package
// is rebuilt from the cargo output into bench/out/pkg-prof/ WITHOUT --remove-name-section (and
// wasm-opt -Oz -g), so the profile names the Rust functions; the code is otherwise what ships.
// Writes bench/out/sdk-<scenario>.cpuprofile and bench/out/sdk-<scenario>-profile.json.
//   node bench/profile-sdk.mjs [call|stream ...]   (default: both)
// Besides self time it prints the inclusive time of the heaviest wasm functions (a Rust
// function's callees are mostly other wasm functions, so self time alone scatters it).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BENCH_DIR, OUT_DIR, ROOT, SUT_CORE, cleanupOnExit, writeResult } from "./lib/common.mjs";
import { startUpstream } from "./lib/upstream.mjs";
import { summarize } from "./lib/cpuprofile.mjs";

/** Inclusive time per function name (each sample counted once per name on its stack), % of busy. */
function inclusive(profile, filter) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const totals = new Map();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    let id = profile.samples[i];
    if (byId.get(id).callFrame.functionName === "(idle)") continue;
    busy += dt;
    const seen = new Set();
    for (; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id).callFrame;
      if (!filter(f) || seen.has(f.functionName)) continue;
      seen.add(f.functionName);
      totals.set(f.functionName, (totals.get(f.functionName) ?? 0) + dt);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, pct: (100 * us) / busy }));
}

function buildNamedPkg() {
  const dir = path.join(OUT_DIR, "pkg-prof");
  // build-pkg.sh's cargo output (its own target dir: npm features and flags), i.e. what ships.
  const wasm = path.join(ROOT, "target/pkg-build/wasm32-unknown-unknown/release/edgellm.wasm");
  if (!fs.existsSync(wasm)) throw new Error(`${wasm} is missing: run bash scripts/build-pkg.sh`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, "pkg"))) {
    if (/\.(m?js|json)$/.test(f)) fs.copyFileSync(path.join(ROOT, "pkg", f), path.join(dir, f));
  }
  // pkg/node.js loads the web build's glue and .wasm (initSync), so that is what is rebuilt.
  // As build-pkg.sh: multivalue cleared first, so the export shims are the ones that ship.
  const out = path.join(dir, "web");
  const input = path.join(dir, "edgellm.wasm");
  execFileSync(process.execPath, [path.join(ROOT, "scripts/wasm-no-multivalue.mjs"), wasm, input]);
  execFileSync("wasm-bindgen", ["--target", "web", "--out-name", "edgellm", "--out-dir", out, input]);
  const opt = path.join(ROOT, "node_modules/.bin/wasm-opt");
  const bg = path.join(out, "edgellm_bg.wasm");
  if (fs.existsSync(opt)) {
    execFileSync(opt, ["-Oz", "-g", "--enable-mutable-globals", "--enable-sign-ext", "--enable-nontrapping-float-to-int",
      "--enable-bulk-memory", "--enable-reference-types", "-o", `${bg}.opt`, bg]);
    fs.renameSync(`${bg}.opt`, bg);
  }
  // The unbundled entry: pkg/node.js is a bundle with the shipped glue inlined, whose import
  // names scripts/wasm-short-imports.mjs shortened, so it cannot load this wasm's long names.
  return path.join(dir, "node-entry.js");
}

const named = buildNamedPkg();
const children = [];
cleanupOnExit(children);
const upstream = await startUpstream();
children.push(upstream.child);
const scenarios = process.argv.slice(2).length ? process.argv.slice(2) : ["stream", "call"];
for (const scenario of scenarios) {
  const dir = path.join(OUT_DIR, `sdk-prof-${scenario}`);
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync("taskset", ["-c", SUT_CORE, process.execPath, "--cpu-prof", `--cpu-prof-dir=${dir}`, "--cpu-prof-interval", "100",
    path.join(BENCH_DIR, "sdk/client.mjs"), "edgellm", scenario, upstream.url], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, BENCH_CALL_SECONDS: "3", BENCH_STREAM_REPS: "5", BENCH_PKG: named },
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
  console.log("inclusive, wasm functions:");
  const isWasm = (f) => f.url.startsWith("wasm://") || /^\$|^wasm-function/.test(f.functionName);
  for (const row of inclusive(profile, isWasm).slice(0, 40)) console.log(`${row.pct.toFixed(1).padStart(5)}%  ${row.name.slice(0, 150)}`);
}
await upstream.stop();
