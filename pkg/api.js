// The public API, shared by every runtime's entry point. Thin: it adapts the wasm exports to
// idiomatic JS (error classes, an async-iterable ReadableStream) and does no LLM work itself.
import { backend } from "./backend.js";
import { APIError, ERROR_CLASSES } from "./errors.js";
import { ensureAsyncIterable } from "./async-iter.js";

/**
 * A chat completion in OpenAI's format, for any supported provider.
 * Resolves to a `chat.completion` object, or with `stream: true` to a `ReadableStream` of
 * `chat.completion.chunk` objects that is also async-iterable. Rejects with an `APIError`
 * subclass.
 * @param {object} params OpenAI body plus LiteLLM options (api_key, api_base, timeout, ...)
 */
export async function completion(params) {
  const wasm = backend.wasm;
  try {
    if (params != null && params.stream === true) {
      return chunkStream(await wasm.completionStream(params));
    }
    return await wasm.completion(params);
  } catch (e) {
    throw fromWasmError(e);
  }
}

/**
 * Registers environment variables (API keys, bases) for runtimes without `process.env`:
 * browsers and Workers. Merges with earlier calls; `null`/`undefined`/"" removes a name.
 * @param {Record<string, string | null | undefined>} vars
 */
export function setEnv(vars) {
  backend.wasm.setEnv(vars);
}

/**
 * The OpenAI parameters the provider of `model` accepts, or `null` for an unknown provider.
 * @param {string} model e.g. "anthropic/claude-3-5-sonnet-20241022"
 * @param {string} [customLlmProvider]
 * @returns {string[] | null}
 */
export function getSupportedOpenAIParams(model, customLlmProvider) {
  return backend.wasm.getSupportedOpenAIParams(model, customLlmProvider) ?? null;
}

/**
 * LiteLLM's `stream_chunk_builder`: the `chat.completion` rebuilt from every chunk of one
 * stream, in order. Usage is the stream's own (`stream_options: { include_usage: true }`).
 * @param {object[]} chunks
 */
export function streamChunkBuilder(chunks) {
  try {
    return backend.wasm.streamChunkBuilder(chunks);
  } catch (e) {
    throw fromWasmError(e);
  }
}

/** The edgellm version. */
export function version() {
  return backend.wasm.version();
}

// The wasm ChunkStream hands over JSON text of chunk batches (one per network read); this
// turns it into a ReadableStream of chunk objects. Cancelling the ReadableStream (including a
// `break` out of `for await`) cancels the wasm stream, which aborts the HTTP request.
function chunkStream(inner) {
  const hidden = JSON.parse(inner.hiddenParams);
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
        hidden.response_cost = inner.responseCost ?? null;
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

// An error from the wasm module is an `Error` whose `name` is the class name and that carries
// `edgellmKind`; it becomes an instance of that class. Anything else passes unchanged.
function fromWasmError(e) {
  if (!(e instanceof Error) || typeof e.edgellmKind !== "string") return e;
  const cls = Object.hasOwn(ERROR_CLASSES, e.name) ? ERROR_CLASSES[e.name] : APIError;
  return new cls(e.message, e);
}
