// The counter Durable Object class (`SpendCounter`, one object per virtual key, user, team and
// one for the whole gateway; worker/src/keys_edge.rs). A fresh Rust object is made for every
// event: the counters live in the object's storage, not in the wasm instance, so an instance
// re-created after a panic (see entry.mjs) never meets a stale Rust object.
import * as gateway from "../build/edgellm_worker.js";

export class SpendCounter {
  constructor(state, env) {
    this.state = state;
    this.env = env;
  }

  async fetch(request) {
    const init = globalThis.__worker_init_state;
    if (init && init.criticalError) {
      gateway.__wbg_reset_state();
      init.criticalError = false;
    }
    const inner = new gateway.SpendCounter(this.state, this.env);
    try {
      return await inner.fetch(request);
    } finally {
      inner.free();
    }
  }
}
