// Classes over the wasm Router and BudgetManager: same methods, error classes, and streams as
// async-iterable ReadableStreams.
import { backend } from "./backend.js";
import {
  chunkStream, converting,
  EMBEDDING, IMAGE_GENERATION, MODERATION, RERANK, TEXT_COMPLETION, TEXT_COMPLETION_STREAM,
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
      return chunkStream(await converting(() => this.#inner.completionStream(params)));
    }
    return converting(() => this.#inner.completion(params));
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
  modelNames() {
    return this.#inner.modelNames();
  }

  /** Deployments currently cooling down. */
  cooldowns() {
    return this.#inner.cooldowns();
  }

  /** Settings that were read but have no effect here. */
  warnings() {
    return this.#inner.warnings();
  }
}

/** LiteLLM's BudgetManager: per-user budgets (USD) over completion costs. */
export class BudgetManager {
  #inner;

  constructor() {
    this.#inner = new backend.wasm.BudgetManager();
  }

  #call(f) {
    return converting(() => f(this.#inner));
  }

  createBudget(totalBudget, user, duration) {
    return this.#call((b) => b.createBudget(totalBudget, user, duration));
  }
  projectedCost(params, user) {
    return this.#call((b) => b.projectedCost(params, user));
  }
  reserve(user, params) {
    return this.#call((b) => b.reserve(user, params));
  }
  settle(user, reservedUsd, actualUsd, model) {
    return this.#call((b) => b.settle(user, reservedUsd, actualUsd, model));
  }
  updateCost(user, completionObj) {
    return this.#call((b) => b.updateCost(user, completionObj));
  }
  getCurrentCost(user) {
    return this.#call((b) => b.getCurrentCost(user));
  }
  getTotalBudget(user) {
    return this.#call((b) => b.getTotalBudget(user));
  }
  getModelCost(user) {
    return this.#call((b) => b.getModelCost(user));
  }
  isValidUser(user) {
    return this.#call((b) => b.isValidUser(user));
  }
  getUsers() {
    return this.#call((b) => b.getUsers());
  }
  resetCost(user) {
    return this.#call((b) => b.resetCost(user));
  }
}

// The bundles are minified (scripts/build-pkg.sh): the classes keep their names.
for (const [name, cls] of Object.entries({ Router, BudgetManager })) Object.defineProperty(cls, "name", { value: name });
