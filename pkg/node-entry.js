// Entry point for Node (≥ 20), Bun and Deno: the wasm is read from disk and instantiated
// synchronously when this module is imported (no top-level await, so `require(esm)` works).
//
// This is the source: scripts/build-pkg.sh bundles it with every module it imports into
// pkg/node.js (what package.json points Node at), because Node spends ≈ 0.5 ms per ES module
// it loads: one module instead of nine took a cold start (import + first call) from ≈ 22 to
// ≈ 20 ms of CPU (bench/). Paths stay valid in the bundle: it sits next to this file.
//
// It uses the web build's glue with `initSync`, not a Node-specific one: that glue imports
// nothing, and `node:fs` is taken through `require`, because an ESM `import ... from "node:fs"`
// builds fs's ESM facade, whose lazy getters (ReadStream, promises, …) load Node's whole streams
// stack: ≈ 2–3 ms of CPU, about a tenth of a cold start (import + first call). One .wasm file
// then serves every runtime. `process.getBuiltinModule` (Node ≥ 20.16) hands over the same fs
// without making a `require` for this file (`createRequire`: ≈ 0.5 ms of CPU of a ≈ 17 ms cold
// start, 2026-11-26); runtimes without it still take that path.
import { createRequire } from "node:module";
import { initSync } from "./web/edgellm.js";
import * as wasm from "./web/edgellm.js";
import { backend } from "./backend.js";

const { readFileSync } =
  globalThis.process?.getBuiltinModule?.("node:fs") ?? createRequire(import.meta.url)("node:fs");
initSync({ module: readFileSync(new URL("./web/edgellm_bg.wasm", import.meta.url)) });
backend.wasm = wasm;

export * from "./api.js";
export * from "./router.js";
export * from "./errors.js";
