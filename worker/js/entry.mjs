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

// What the crash watch passes to the callbacks in `waiting` (a gateway failure passes its error).
const CRASH = Symbol("crash");
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
        for (const wake of waiting) wake(CRASH);
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

// Bodies up to this size with a content-length are read here, before the call into wasm, so the
// request's Rust task need not wait on a promise of its own for them (each such wait costs two
// callbacks, a queueMicrotask and a poll of the whole task). With the virtual-key layer on
// (EDGELLM_KV and EDGELLM_COUNTERS bound) that layer takes the read body when it reads one. The
// gateway's own size limit still applies: it checks the declared length first, as when it reads
// the body.
const PREREAD_MAX_BYTES = 1 << 20;
// A build without the `fetch_read` export (older wasm beside a newer entry) reads bodies itself.
const CAN_PREREAD = typeof gateway.fetch_read === "function";
// `fetch_driven` answers through the two callbacks, its task polled by the gateway's own driver
// (worker/src/drive.rs) rather than through a promise of its own; older builds lack it.
const DRIVEN = typeof gateway.fetch_driven === "function";
// Made once: a regex literal in a function is a new object each time it runs.
const LENGTH = /^[0-9]{1,7}$/;

// `request.body` is not looked at (its getter makes a stream object): a request without a body
// reads as empty, as it does in the gateway.
function preread(request, env) {
  if (!CAN_PREREAD) return null;
  // A build older than `fetch_driven` had its virtual-key layer read bodies itself.
  if (!DRIVEN && env && env.EDGELLM_KV !== undefined && env.EDGELLM_COUNTERS !== undefined) return null;
  const len = request.headers.get("content-length");
  if (len === null || !LENGTH.test(len) || Number(len) > PREREAD_MAX_BYTES) return null;
  try {
    return request.arrayBuffer();
  } catch {
    // The gateway reads it and answers the failure as it would any unreadable body.
    return null;
  }
}

// Only the recovery answers need an id here (the gateway makes its own): made on demand.
function internalError(request) {
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
    headers: { "content-type": "application/json", "x-request-id": request.headers.get("x-request-id") || crypto.randomUUID() },
  });
}

// Calls into the gateway; `read` is undefined (body not read here), true (`body` is the read
// body) or false (`body` is why reading it failed).
function start(request, env, ctx, body, read, answered, failed) {
  let answer;
  try {
    if (DRIVEN) {
      gateway.fetch_driven(request, env, ctx, body, read === undefined ? 0 : read ? 1 : 2, answered, failed);
      return;
    }
    answer = read === undefined ? gateway.fetch(request, env, ctx) : gateway.fetch_read(request, env, ctx, body, read);
  } catch (error) {
    failed(error);
    return;
  }
  answer.then(answered, failed);
}

export default {
  fetch(request, env, ctx) {
    recoverIfNeeded();
    const body = preread(request, env);
    // One promise settled by whichever comes first, the gateway's answer or a crash: cheaper per
    // request than `async` + `Promise.race` over a second promise (fewer promise reactions).
    // Closures are made only for what the gateway and the crash watch call back, one for both
    // failures: each closure is V8 heap per request.
    return new Promise((resolve) => {
      let crashed = false;
      const failed = (error) => {
        if (error === CRASH) crashed = true;
        else {
          waiting.delete(failed);
          markCritical(error);
          console.error("edgellm: request failed inside the gateway:", error);
        }
        resolve(internalError(request));
      };
      const answered = (response) => {
        waiting.delete(failed);
        resolve(response);
      };
      waiting.add(failed);
      if (body === null) {
        start(request, env, ctx, undefined, undefined, answered, failed);
        return;
      }
      // A panic while the body was read: this request has its answer; the next one recovers.
      body.then(
        (b) => crashed || start(request, env, ctx, b, true, answered, failed),
        (e) => crashed || start(request, env, ctx, e, false, answered, failed),
      );
    });
  },
};
