// Entry point for Cloudflare Workers (the `workerd` export condition). Workers cannot compile
// wasm from bytes at runtime, so the module is imported: wrangler/esbuild turn a `.wasm`
// import into a `WebAssembly.Module`.
// This is the source: scripts/build-pkg.sh bundles it into pkg/workerd.js (minified, one file).
import * as wasm from "./web/edgellm.js";
import module from "./web/edgellm_bg.wasm";
import { backend } from "./backend.js";

backend.wasm = wasm;
// Called as a property, so the minified bundle still says `initSync({ module })` where
// wrangler bundles it (tests/js/workerd.test.mjs looks for it).
backend.wasm.initSync({ module });

export * from "./api.js";
export * from "./router.js";
export * from "./errors.js";
