// Gives the glue's fallible imports the parameter count wasm calls them with. wasm-bindgen writes
// each import that may throw as `function() { return handleError(function (arg0, …) {…},
// arguments); }`: `length` 0, so Node 20's V8 compiles an arity-adapting wasm-to-JS wrapper for
// each such signature when the module is instantiated, beside the one it already has for
// functions whose arity matches (18 imports, 10 of 37 TurboFan wrappers; instantiation ≈ 1.1 →
// 0.55 ms, and ≈ 0.8 ms of CPU off a ≈ 17.7 ms cold start, 2026-11-26). Only the outer function's parameter list
// changes: it still hands `arguments` to `handleError`, so every call does what it did.
//
//   node scripts/glue-import-arity.mjs pkg/web/edgellm.js
import { readFileSync, writeFileSync } from "node:fs";

const [jsPath] = process.argv.slice(2);
if (!jsPath) {
  console.error("usage: node scripts/glue-import-arity.mjs glue.js");
  process.exit(2);
}
const js = readFileSync(jsPath, "utf8");
const out = js.replace(
  /function\(\) \{ return handleError\(function \(([^)]*)\)/g,
  (_, params) => `function(${params}) { return handleError(function (${params})`,
);
writeFileSync(jsPath, out);
