// The gateway Worker's main module: loads the wasm-bindgen output of scripts/build-worker.sh,
// hands the Rust code the bundled config, and keeps one panic from poisoning the isolate.
//
// Panic recovery (what worker-build's shim does, without worker-build): a Rust panic aborts the
// wasm instance (panic = "abort"). workers-rs' panic hook sets
// `globalThis.__worker_init_state.criticalError`, and wasm-bindgen's abort handler
// (--force-enable-abort-handler) schedules a reset. Before the next request we call
// `__wbg_reset_state()`, which instantiates the module afresh. A panic inside an async task
// never settles the request's promise, so the flag is also watched: requests in flight when it
// flips get an OpenAI-style 500 at once instead of hanging until the runtime cancels them.
import * as gateway from "../build/edgellm_worker.js";
import bundledConfig from "../build/config.js";

// The virtual-key counters (Durable Object class; bound as EDGELLM_COUNTERS in wrangler.toml).
export { SpendCounter } from "./counter.mjs";

globalThis.__EDGELLM_CONFIG__ = bundledConfig;

const waiting = new Set();
const state = globalThis.__worker_init_state;
if (state) {
  let critical = Boolean(state.criticalError);
  Object.defineProperty(state, "criticalError", {
    configurable: true,
    enumerable: true,
    get: () => critical,
    set: (value) => {
      critical = Boolean(value);
      if (critical) {
        for (const wake of waiting) wake();
        waiting.clear();
      }
    },
  });
}

function markCritical(error) {
  if (error instanceof WebAssembly.RuntimeError && state) state.criticalError = true;
}

function recoverIfNeeded() {
  if (state && state.criticalError) {
    console.warn("edgellm: re-creating the wasm instance after a panic");
    gateway.__wbg_reset_state();
    state.criticalError = false;
  }
}

if (typeof addEventListener === "function") {
  addEventListener("error", (event) => markCritical(event.error));
}

function internalError(requestId) {
  const body = {
    error: {
      message: "internal error in the gateway; it has recovered, retry the request",
      type: "api_error",
      param: null,
      code: "internal_server_error",
    },
  };
  return new Response(JSON.stringify(body), {
    status: 500,
    headers: { "content-type": "application/json", "x-request-id": requestId },
  });
}

export default {
  async fetch(request, env, ctx) {
    recoverIfNeeded();
    // Only the recovery answers need an id here (the gateway makes its own): made on demand.
    const requestId = () => request.headers.get("x-request-id") || crypto.randomUUID();
    let wake;
    const crashed = new Promise((resolve) => {
      wake = resolve;
      waiting.add(resolve);
    });
    try {
      return await Promise.race([
        gateway.fetch(request, env, ctx),
        crashed.then(() => internalError(requestId())),
      ]);
    } catch (error) {
      markCritical(error);
      console.error("edgellm: request failed inside the gateway:", error);
      return internalError(requestId());
    } finally {
      waiting.delete(wake);
    }
  },
};
