// Entry point for browsers and bundlers: fetches and compiles the wasm next to this file
// (bundlers see the `new URL(..., import.meta.url)` and ship it as an asset).
// This is the source: scripts/build-pkg.sh bundles it into pkg/index.js (minified, one file).
import init, * as wasm from "./web/edgellm.js";
import { backend } from "./backend.js";

await init({ module_or_path: new URL("./web/edgellm_bg.wasm", import.meta.url) });
backend.wasm = wasm;

export * from "./api.js";
export * from "./router.js";
export * from "./errors.js";
