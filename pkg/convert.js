// Adapters from the wasm-bindgen exports to idiomatic JS, shared by api.js and router.js:
// error classes instead of plain errors, and a ReadableStream over the wasm chunk streams.
import { APIError, ERROR_CLASSES } from "./errors.js";
import { ensureAsyncIterable } from "./async-iter.js";

// `kind` of wasm's `modality` export and the wasm Router's: the endpoints beyond chat share one
// export each (src/js/modality.rs numbers them).
export const EMBEDDING = 0, IMAGE_GENERATION = 1, TEXT_COMPLETION = 2, TEXT_COMPLETION_STREAM = 3, MODERATION = 4, RERANK = 5,
  CHAT = 6, CHAT_STREAM = 7;

/**
 * An error from the wasm module is an `Error` whose `name` is the class name and that carries
 * `edgellmKind`; it becomes an instance of that class. Anything else passes unchanged.
 */
export function fromWasmError(e) {
  if (!(e instanceof Error) || typeof e.edgellmKind !== "string") return e;
  const cls = Object.hasOwn(ERROR_CLASSES, e.name) ? ERROR_CLASSES[e.name] : APIError;
  return new cls(e.message, e);
}

/** A rejection handler that rethrows a wasm error as its class (one function for every call). */
export function rethrowConverted(e) {
  throw fromWasmError(e);
}

/** Calls `f`, converting a thrown wasm error (or a rejected promise's) into its class. */
export function converting(f) {
  let r;
  try {
    r = f();
  } catch (e) {
    throw fromWasmError(e);
  }
  if (r instanceof Promise) {
    return r.then(undefined, rethrowConverted);
  }
  return r;
}

/**
 * The wasm chunk stream (`ChunkStream`, of chat or text-completion chunks, direct or routed)
 * hands over JSON text of chunk batches (one per network read); this turns one into a
 * ReadableStream of chunk objects.
 * Cancelling the ReadableStream (including a `break` out of `for await`) cancels the wasm
 * stream, which aborts the HTTP request.
 */
export function chunkStream(inner) {
  const hidden = JSON.parse(inner.meta(false));
  let closed = false;
  const release = () => {
    if (!closed) {
      closed = true;
      inner.free();
    }
  };
  const stream = new ReadableStream({
    async pull(controller) {
      let batch;
      try {
        batch = await inner.next();
      } catch (e) {
        if (closed) return;
        release();
        controller.error(fromWasmError(e));
        return;
      }
      if (closed) return;
      if (batch === undefined) {
        // Known once the stream ended with the provider's usage.
        hidden.response_cost = inner.meta(true) ?? null;
        if (hidden.additional_headers) hidden.additional_headers["x-litellm-response-cost"] = hidden.response_cost;
        release();
        controller.close();
        return;
      }
      for (const chunk of JSON.parse(batch)) controller.enqueue(chunk);
    },
    cancel() {
      if (closed) return;
      inner.cancel();
      release();
    },
  });
  Object.defineProperty(stream, "_hidden_params", { value: hidden, enumerable: true });
  return ensureAsyncIterable(stream);
}
