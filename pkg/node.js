// Entry point for Node (≥ 20), Bun and Deno: the wasm is read from disk and instantiated
// synchronously when this module is imported.
import * as wasm from "./node/edgellm.js";
import { backend } from "./backend.js";

backend.wasm = wasm;

export * from "./api.js";
export * from "./router.js";
export * from "./errors.js";
