// Reference Workers for the gateway benchmark, run in the same workerd as ours: they show what
// the runtime itself costs, so the rest of the added latency is ours.
//   MODE=passthrough  parse the JSON body, pick the upstream for the model alias, fetch, and
//                     return the upstream body as is (the floor for any Worker gateway)
//   MODE=per-event    the same, but a stream is re-framed in JS: split into SSE events, each
//                     JSON.parse'd, re-serialized and enqueued separately (what a gateway that
//                     transforms every chunk and writes each one on its own pays)
//   MODE=batched      the same JSON work per event, but one enqueue per upstream read (all the
//                     events that read completed, concatenated)
//   MODE=pump         a stream is pumped in JS with no work on its bytes: a BYOB read, a copy
//                     of what it gave written to an IdentityTransformStream, the next read once
//                     the write is taken (the shape of our Worker's stream driver,
//                     worker/src/stream_body.rs, without the wasm): the floor for a Worker that
//                     touches every upstream read
export default {
  async fetch(request, env) {
    const body = await request.text();
    const req = JSON.parse(body);
    const bases = JSON.parse(env.BASES);
    const base = bases[req.model];
    if (!base) return new Response(JSON.stringify({ error: { message: `unknown model ${req.model}` } }), { status: 404 });
    const upstream = await fetch(`${base}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: request.headers.get("authorization") ?? "" },
      body,
    });
    if (env.MODE === "passthrough" || !req.stream) {
      return new Response(upstream.body, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") } });
    }
    if (env.MODE === "pump") {
      const { readable, writable } = new IdentityTransformStream();
      const writer = writable.getWriter();
      const reader = upstream.body.getReader({ mode: "byob" });
      let buf = new ArrayBuffer(65536);
      const fail = (e) => writer.abort(e).catch(() => {});
      const next = () => reader.read(new Uint8Array(buf)).then(got, fail);
      const got = (r) => {
        if (r.done) return writer.close().catch(() => {});
        buf = r.value.buffer;
        writer.write(r.value.slice()).then(next, fail);
      };
      next();
      return new Response(readable, { status: upstream.status, headers: { "content-type": "text/event-stream" } });
    }
    const enc = new TextEncoder();
    let buf = "";
    const out = upstream.body.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TransformStream({
        transform(piece, controller) {
          buf += piece;
          let i;
          let batch = "";
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let out;
            if (ev === "data: [DONE]") out = "data: [DONE]\n\n";
            else if (ev.startsWith("data: ")) out = `data: ${JSON.stringify(JSON.parse(ev.slice(6)))}\n\n`;
            else continue;
            if (env.MODE === "batched") batch += out;
            else controller.enqueue(enc.encode(out));
          }
          if (batch) controller.enqueue(enc.encode(batch));
        },
      }),
    );
    return new Response(out, { status: upstream.status, headers: { "content-type": "text/event-stream" } });
  },
};
