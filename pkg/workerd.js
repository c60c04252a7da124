// Entry point for Cloudflare Workers (the `workerd` export condition). Workers cannot compile
// wasm from bytes at runtime, so the module is imported: wrangler/esbuild turn a `.wasm`
// import into a `WebAssembly.Module`.
import { initSync } from "./web/edgellm.js";
import * as wasm from "./web/edgellm.js";
import module from "./web/edgellm_bg.wasm";
import { backend } from "./backend.js";

initSync({ module });
backend.wasm = wasm;

export * from "./api.js";
export * from "./router.js";
export * from "./errors.js";
