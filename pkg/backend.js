// The loaded wasm-bindgen module. Each entry point (node.js, index.js, workerd.js) loads the
// build for its runtime and stores it here before user code can call the API.
export const backend = { wasm: undefined };
