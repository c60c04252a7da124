// The public functions, shared by every runtime's entry point. Thin: each adapts a wasm export
// (see convert.js) and does no LLM work itself.
import { backend } from "./backend.js";
import {
  chunkStream, converting, fromWasmError, rethrowConverted,
  EMBEDDING, IMAGE_GENERATION, MODERATION, RERANK, TEXT_COMPLETION, TEXT_COMPLETION_STREAM,
} from "./convert.js";

/**
 * A chat completion in OpenAI's format, for any supported provider.
 * Resolves to a `chat.completion` object, or with `stream: true` to a `ReadableStream` of
 * `chat.completion.chunk` objects that is also async-iterable. Rejects with an `APIError`
 * subclass.
 * @param {object} params OpenAI body plus LiteLLM options (api_key, api_base, timeout, ...)
 */
export function completion(params) {
  // Not async: the promise is wasm's own, with no other wrapped around it; a throw still rejects.
  try {
    const [cb, text] = asJson(params);
    if (params != null && params.stream === true) return completionStream(cb, text);
    // `converting` without a closure per call: the one promise wasm returns, plus its catch.
    return backend.wasm.completion(cb, text).then(undefined, rethrowConverted);
  } catch (e) {
    return Promise.reject(fromWasmError(e));
  }
}

async function completionStream(cb, text) {
  return chunkStream(await converting(() => backend.wasm.completionStream(cb, text)));
}

// [params for wasm, JSON text]: the text crosses as one string; wasm reads the object only for
// per-call callbacks, or stringifies it itself (and makes the error) when this could not.
function asJson(params) {
  if (typeof params !== "object" || params === null) return [params, undefined];
  let text;
  try {
    text = JSON.stringify(params);
  } catch {
    return [params, undefined];
  }
  if (text === undefined || params.success_callback !== undefined || params.failure_callback !== undefined) return [params, text];
  return [undefined, text];
}

/**
 * Embeddings in OpenAI's format for any provider that has them (LiteLLM's `embedding`).
 * Resolves to OpenAI's `list` of embeddings plus `_hidden_params`.
 * @param {object} params `{ model, input, dimensions?, encoding_format?, ... }` plus LiteLLM options
 */
export function embedding(params) {
  return lookup(MODALITY + EMBEDDING, "", params);
}

/**
 * Image generation (LiteLLM's `image_generation`). Resolves to `{ created, data: [...] }` plus
 * `_hidden_params`.
 * @param {object} params `{ model, prompt, n?, size?, quality?, response_format?, ... }` plus options
 */
export function imageGeneration(params) {
  return lookup(MODALITY + IMAGE_GENERATION, "", params);
}

/**
 * A legacy text completion (LiteLLM's `text_completion`): natively where the provider has a
 * completions endpoint for the model, else through chat. Resolves to a `text_completion`
 * object, or with `stream: true` to the same async-iterable `ReadableStream` as `completion`,
 * of `text_completion` chunks (`choices[i].text`).
 * @param {object} params `{ model, prompt, max_tokens?, ... }` plus LiteLLM options
 */
export async function textCompletion(params) {
  if (params != null && params.stream === true) {
    return chunkStream(await lookup(MODALITY + TEXT_COMPLETION_STREAM, "", params));
  }
  return lookup(MODALITY + TEXT_COMPLETION, "", params);
}

/**
 * Moderation (LiteLLM's `moderation`); the model defaults to `omni-moderation-latest`.
 * @param {object} params `{ input, model? }` plus LiteLLM options
 */
export function moderation(params) {
  return lookup(MODALITY + MODERATION, "", params);
}

/**
 * Rerank in Cohere's format (LiteLLM's `rerank`).
 * @param {object} params `{ model, query, documents, top_n?, return_documents?, ... }` plus options
 */
export function rerank(params) {
  return lookup(MODALITY + RERANK, "", params);
}

/**
 * Registers environment variables (API keys, bases) for runtimes without `process.env`:
 * browsers and Workers. Merges with earlier calls; `null`/`undefined`/"" removes a name.
 * @param {Record<string, string | null | undefined>} vars
 */
export function setEnv(vars) {
  backend.wasm.lookup(6, "", vars);
}

/**
 * The OpenAI parameters the provider of `model` accepts, or `null` for an unknown provider.
 * @param {string} model e.g. "anthropic/claude-3-5-sonnet-20241022"
 * @param {string} [customLlmProvider]
 * @returns {string[] | null}
 */
export function getSupportedOpenAIParams(model, customLlmProvider) {
  return backend.wasm.lookup(4, model, null, 0, 0, customLlmProvider) ?? null;
}

/**
 * LiteLLM's `stream_chunk_builder`: the `chat.completion` rebuilt from every chunk of one
 * stream, in order. Usage is the stream's own (`stream_options: { include_usage: true }`).
 * @param {object[]} chunks
 */
export function streamChunkBuilder(chunks) {
  return lookup(11, "", chunks);
}

/**
 * LiteLLM's `completion_cost`: USD for a response.
 * @param {{ completion_response: object, model?: string, custom_llm_provider?: string,
 *           usage?: object, input_cost_per_token?: number, output_cost_per_token?: number }} params
 */
export function completionCost(params) {
  return lookup(0, "", params);
}

/**
 * LiteLLM's `cost_per_token`: `[prompt_cost_usd, completion_cost_usd]`.
 * @returns {[number, number]}
 */
export function costPerToken(model, promptTokens, completionTokens, customLlmProvider) {
  return lookup(1, model, null, promptTokens, completionTokens, customLlmProvider);
}

/** LiteLLM's `get_model_info`: prices and limits of a model. Throws `NotFoundError` when unknown. */
export function getModelInfo(model, customLlmProvider) {
  return lookup(2, model, null, 0, 0, customLlmProvider);
}

/** LiteLLM's `register_model`: adds or updates prices; returns the keys registered. */
export function registerModel(models) {
  return lookup(3, "", models);
}

// The functions here other than chat are one wasm export (one export each cost glue in the
// wasm and here): `op` numbered as src/js/cost.rs's consts; its slots: op, model, a JS value,
// two numbers and an optional provider. From MODALITY on, the ops are the endpoints beyond chat
// (`kind` of src/js/modality.rs, numbered in convert.js).
const MODALITY = 16;
function lookup(op, model, value, a, b, provider) {
  return converting(() => backend.wasm.lookup(op, model, value, a, b, provider));
}

/** Module-wide callbacks (LiteLLM's `success_callback` / `failure_callback`). */
export function setCallbacks(config) {
  return lookup(7, "", config);
}

/** Module-wide logging settings (logger credentials, timeouts, batching). */
export function setLoggingSettings(settings) {
  return lookup(8, "", settings);
}

/** Resolves when every call logged so far was delivered to its loggers, to the delivery reports. */
export function flushLogging() {
  return backend.wasm.lookup(9, "");
}

/** The logger names `success_callback` / `failure_callback` accept. */
export function loggingIntegrations() {
  return backend.wasm.lookup(10, "");
}

/** The edgellm version. */
export function version() {
  return backend.wasm.lookup(5, "");
}
