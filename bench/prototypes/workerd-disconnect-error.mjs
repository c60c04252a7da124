// Repro (h42, fifth round): workerd keeps one `Error: Network connection lost.` per client that
// hangs up mid-stream, held by a v8::Global in workerd's C++ (heap-snapshot retainer
// "(Global handles)"), when the hang-up is seen through a failed write into the response's
// IdentityTransformStream instead of through request.signal's abort. No wasm here: a plain JS
// pump like worker/src/stream_body.rs's. Returning `up.body` as is (MODE = "direct") keeps none.
//
// Run: copy a Worker build dir (build/ from scripts/build-worker.sh, for its config.js), put this
// file in its js/ as entry.mjs, then
//   node bench/memory.mjs --rounds 3 --cut-every 4 --big-rounds 0 --out repro --worker-dir DIR
// and diff the heap snapshots: +1 Error per cut client per round (logged as "h42 write-rej").
const MODE = "pump"; // or "direct"
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/v1/chat/completions") return new Response("ok");
    const cfg = JSON.parse(env.EDGELLM_CONFIG);
    const body = await request.text();
    const model = JSON.parse(body).model;
    const dep = cfg.model_list.find((m) => m.model_name === model);
    const up = await fetch(dep.litellm_params.api_base + "/chat/completions", { method: "POST", headers: { "content-type": "application/json", authorization: "Bearer sk-test" }, body });
    const headers = { "content-type": "text/event-stream" };
    if (MODE === "direct") return new Response(up.body, { headers });
    const { readable, writable } = new IdentityTransformStream();
    const writer = writable.getWriter();
    const reader = up.body.getReader();
    const signal = request.signal;
    const ignore = () => {};
    let live = true; let writing = false; const H=(...a)=>console.log("h42",...a); writer.closed.then(()=>H("closed-ok"),(e)=>H("closed-rej",e&&e.message));
    const onAbort = () => {
      if (!live) return;
      H("abort", "writing="+writing);
      live = false;
      reader.cancel().catch(ignore);
    };
    if (signal) signal.addEventListener("abort", onAbort);
    const next = () => {
      if (!live) return;
      reader.read().then((r) => {
        if (!live) return;
        if (r.done) {
          live = false;
          if (signal) signal.removeEventListener("abort", onAbort);
          writer.close().catch(ignore);
          return;
        }
        writing=true; writer.write(r.value).then(()=>{writing=false; next();}, (e)=>{writing=false; H("write-rej", e&&e.message);});
      }, ignore);
    };
    next();
    return new Response(readable, { headers });
  },
};
