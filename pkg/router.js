// Classes over the wasm Router and BudgetManager: same methods, error classes, and streams as
// async-iterable ReadableStreams.
import { backend } from "./backend.js";
import {
  chunkStream, converting,
  CHAT, CHAT_STREAM, EMBEDDING, IMAGE_GENERATION, MODERATION, RERANK, TEXT_COMPLETION, TEXT_COMPLETION_STREAM,
} from "./convert.js";

/**
 * LiteLLM's Router: load balancing, retries, fallbacks and cooldowns across deployments.
 * `new Router({ model_list: [...], routing_strategy, num_retries, fallbacks, ... })`.
 */
export class Router {
  #inner;

  constructor(config) {
    this.#inner = converting(() => new backend.wasm.Router(config));
  }

  /** Like `completion()`, routed: `model` is a model group name. */
  async completion(params) {
    if (params != null && params.stream === true) {
      return chunkStream(await converting(() => this.#inner.modality(CHAT_STREAM, params)));
    }
    return converting(() => this.#inner.modality(CHAT, params));
  }

  /** Like `embedding()`, routed (LiteLLM's `router.embedding` / `aembedding`). */
  embedding(params) {
    return converting(() => this.#inner.modality(EMBEDDING, params));
  }

  /** Like `imageGeneration()`, routed (LiteLLM's `router.image_generation`). */
  imageGeneration(params) {
    return converting(() => this.#inner.modality(IMAGE_GENERATION, params));
  }

  /** Like `textCompletion()`, routed (LiteLLM's `router.text_completion`); with `stream: true`
   *  retries and fallbacks happen before the first chunk. */
  async textCompletion(params) {
    if (params != null && params.stream === true) {
      return chunkStream(await converting(() => this.#inner.modality(TEXT_COMPLETION_STREAM, params)));
    }
    return converting(() => this.#inner.modality(TEXT_COMPLETION, params));
  }

  /** Like `moderation()`, routed (LiteLLM's `router.amoderation`). */
  moderation(params) {
    return converting(() => this.#inner.modality(MODERATION, params));
  }

  /** Like `rerank()`, routed (LiteLLM's `router.arerank`). */
  rerank(params) {
    return converting(() => this.#inner.modality(RERANK, params));
  }

  /** The public model names (model groups). */
  // These three are one wasm export, `info(op)` (op numbered as src/js/router.rs's consts).
  modelNames() {
    return this.#inner.info(0);
  }

  /** Deployments currently cooling down. */
  cooldowns() {
    return this.#inner.info(1);
  }

  /** Settings that were read but have no effect here. */
  warnings() {
    return this.#inner.info(2);
  }
}

/** LiteLLM's BudgetManager: per-user budgets (USD) over completion costs. */
export class BudgetManager {
  #inner;

  constructor() {
    this.#inner = new backend.wasm.BudgetManager();
  }

  // Every method is one wasm export, `op` (one export each cost glue in the wasm and here),
  // numbered as src/js/cost.rs's consts; its slots: op, user, a JS value, two numbers and an
  // optional string.
  #call(op, user, value, a, b, s) {
    return converting(() => this.#inner.op(op, user, value, a, b, s));
  }

  createBudget(totalBudget, user, duration) {
    return this.#call(0, user, null, totalBudget, 0, duration);
  }
  projectedCost(params, user) {
    return this.#call(1, user, params);
  }
  reserve(user, params) {
    return this.#call(2, user, params);
  }
  settle(user, reservedUsd, actualUsd, model) {
    return this.#call(3, user, null, reservedUsd, actualUsd, model);
  }
  updateCost(user, completionObj) {
    return this.#call(4, user, completionObj);
  }
  getCurrentCost(user) {
    return this.#call(5, user);
  }
  getTotalBudget(user) {
    return this.#call(6, user);
  }
  getModelCost(user) {
    return this.#call(7, user);
  }
  isValidUser(user) {
    return this.#call(8, user);
  }
  getUsers() {
    return this.#call(9, "");
  }
  resetCost(user) {
    return this.#call(10, user);
  }
}

// The bundles are minified (scripts/build-pkg.sh): the classes keep their names.
for (const [name, cls] of Object.entries({ Router, BudgetManager })) Object.defineProperty(cls, "name", { value: name });
