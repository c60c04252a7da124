// The Router, cost helpers and callbacks of the built package against the local mock upstream,
// with fault injection: 429 + Retry-After, 500s, slow responses, cut streams, context-window
// and content-policy errors. Each deployment gets its own path on the mock, so the recorded
// request paths say which deployment was called.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { rawWasm, sdk } from "./helpers.mjs";
import * as api from "../../pkg/api.js";
import { backend } from "../../pkg/backend.js";
import { CHAT, CHAT_STREAM } from "../../pkg/convert.js";

// The wasm-bindgen module (Router is its export); setCallbacks is pkg/api.js's over it, the
// cost helpers are the package's (they share one wasm export, `lookup`).
const wasm = await rawWasm();
backend.wasm = wasm;
const { BudgetManager } = wasm;
// The wasm Router's chat is two kinds of its `modality` export (as pkg/router.js calls them).
class Router extends wasm.Router {
  completion(params) {
    return this.modality(CHAT, params);
  }
  completionStream(params) {
    return this.modality(CHAT_STREAM, params);
  }
}
const { setCallbacks } = api;
const { completionCost, costPerToken, getModelInfo, registerModel } = sdk;

const messages = [{ role: "user", content: "Hello" }];
const okBody = (content = "Hi!") => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-4o-2024-08-06",
  choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
  usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
});
const errBody = (message, code, type = "invalid_request_error") => ({
  error: { message, type, code, param: null },
});
const chunk = (content, finish = null) =>
  `data: ${JSON.stringify({
    id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-4o",
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`;
const usageChunk = `data: ${JSON.stringify({
  id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
})}\n\n`;
const sseBody = chunk("Hel") + chunk("lo", "stop") + usageChunk + "data: [DONE]\n\n";
const sse = { headers: { "content-type": "text/event-stream" }, stream: sseBody };

const routes = {
  "POST /ok/v1/chat/completions": { body: okBody("from ok") },
  "POST /ok2/v1/chat/completions": { body: okBody("from ok2") },
  "POST /limited/v1/chat/completions": {
    status: 429,
    headers: { "retry-after": "1" },
    body: errBody("Rate limit reached", "rate_limit_exceeded", "requests"),
  },
  "POST /down/v1/chat/completions": { status: 500, body: errBody("boom", "server_error", "server_error") },
  "POST /slow/v1/chat/completions": { delayMs: 1500, body: okBody("too late") },
  "POST /cw/v1/chat/completions": {
    status: 400,
    body: errBody("maximum context length is 8192 tokens", "context_length_exceeded"),
  },
  "POST /policy/v1/chat/completions": {
    status: 400,
    body: errBody("flagged by the safety system", "content_policy_violation"),
  },
  "POST /stream/v1/chat/completions": sse,
  // The stream dies after its first event (mid-stream) or before any event.
  "POST /cutlate/v1/chat/completions": { ...sse, cutAfter: chunk("Hel").length },
  "POST /cutearly/v1/chat/completions": { ...sse, cutAfter: 5 },
};

let mock;
before(async () => {
  mock = await startMockServer({ routes });
});
after(async () => {
  await mock.close();
});
beforeEach(() => {
  mock.reset();
  setCallbacks({});
});

/** A deployment of `group` served by the mock under `/<path>/v1`. */
const dep = (group, path, extra = {}) => ({
  model_name: group,
  litellm_params: { model: "openai/gpt-4o", api_key: "sk-test-router", api_base: `${mock.url}/${path}/v1`, ...extra },
  model_info: { id: path },
});
const paths = () => mock.requests.map((r) => r.path.split("/")[1]);
const chat = (model, extra = {}) => ({ model, messages, ...extra });

/** Reads a router stream handle to the end: chunks and the error it ended with. */
async function drain(handle) {
  const chunks = [];
  try {
    for (;;) {
      const batch = await handle.next();
      if (batch === undefined) return { chunks };
      chunks.push(...JSON.parse(batch));
    }
  } catch (error) {
    return { chunks, error };
  }
}

describe("Router retries", () => {
  test("num_retries: N sends exactly N+1 requests", async () => {
    for (const n of [0, 2]) {
      mock.reset();
      const router = new Router({ model_list: [dep("g", "down")], num_retries: n, retry_after: 0 });
      await assert.rejects(router.completion(chat("g")), (e) => e.name === "InternalServerError" && e.status === 500);
      assert.equal(mock.requests.length, n + 1, `num_retries ${n}`);
    }
  });

  test("429 with Retry-After waits that long, then retries", async () => {
    const router = new Router({ model_list: [dep("g", "limited")], num_retries: 1 });
    const t0 = Date.now();
    await assert.rejects(router.completion(chat("g")), (e) => e.name === "RateLimitError" && e.retryAfterMs === 1000);
    const elapsed = Date.now() - t0;
    assert.equal(mock.requests.length, 2);
    assert.ok(elapsed >= 950, `waited only ${elapsed} ms`);
    assert.ok(elapsed < 5000, `waited ${elapsed} ms`);
  });

  test("a failing deployment is retried on another one at once", async () => {
    const router = new Router({ model_list: [dep("g", "down"), dep("g", "ok")], num_retries: 1 });
    for (let i = 0; i < 4; i++) {
      const r = await router.completion(chat("g"));
      assert.equal(r.choices[0].message.content, "from ok");
    }
    // "down" may be picked first at most once per call; every call ends on "ok".
    assert.ok(paths().filter((p) => p === "ok").length === 4);
  });

  test("a slow response times out with APITimeoutError, and the retry goes elsewhere", async () => {
    const router = new Router({
      model_list: [dep("g", "slow", { order: 1 }), dep("g", "ok", { order: 2 })],
      num_retries: 1,
      timeout: 0.3,
      allowed_fails: 0,
    });
    const r = await router.completion(chat("g"));
    assert.equal(r.choices[0].message.content, "from ok");
    assert.deepEqual(paths(), ["slow", "ok"]);
    const single = new Router({ model_list: [dep("g", "slow")], num_retries: 0, timeout: 0.3 });
    await assert.rejects(single.completion(chat("g")), (e) => e.name === "APITimeoutError");
  });
});

describe("Router fallbacks and cooldowns", () => {
  test("fallbacks walk the chain", async () => {
    const router = new Router({
      model_list: [dep("a", "down"), dep("b", "limited"), dep("c", "ok")],
      num_retries: 0,
      fallbacks: [{ a: ["b", "c"] }],
    });
    const r = await router.completion(chat("a"));
    assert.equal(r.choices[0].message.content, "from ok");
    assert.deepEqual(paths(), ["down", "limited", "ok"]);
    assert.equal(r._hidden_params.model_group, "c");
    assert.equal(r._hidden_params.model_id, "ok");
    assert.equal(r._hidden_params.additional_headers["x-litellm-attempted-fallbacks"], 1);
  });

  test("context-window and content-policy errors use their own chains, without retries", async () => {
    const router = new Router({
      model_list: [dep("small", "cw"), dep("strict", "policy"), dep("big", "ok"), dep("lenient", "ok2"), dep("other", "down")],
      num_retries: 3,
      fallbacks: [{ small: ["other"] }, { strict: ["other"] }],
      context_window_fallbacks: [{ small: ["big"] }],
      content_policy_fallbacks: [{ strict: ["lenient"] }],
    });
    assert.equal((await router.completion(chat("small"))).choices[0].message.content, "from ok");
    assert.equal((await router.completion(chat("strict"))).choices[0].message.content, "from ok2");
    assert.deepEqual(paths(), ["cw", "ok", "policy", "ok2"]);
  });

  test("a cooled-down group answers 429 'No deployments available' without calling upstream", async () => {
    const router = new Router({ model_list: [dep("g", "down")], num_retries: 0, allowed_fails: 0, cooldown_time: 30 });
    await assert.rejects(router.completion(chat("g")), (e) => e.status === 500);
    const cooling = router.info(1); // the package Router's cooldowns()
    assert.equal(cooling.length, 1);
    assert.equal(cooling[0][0], "down");
    await assert.rejects(router.completion(chat("g")), (e) => {
      assert.equal(e.name, "RateLimitError");
      assert.equal(e.status, 429);
      assert.match(e.message, /^No deployments available/);
      return true;
    });
    assert.equal(mock.requests.length, 1);
  });

  test("unknown groups are a BadRequestError", async () => {
    const router = new Router({ model_list: [dep("g", "ok")] });
    await assert.rejects(router.completion(chat("nope")), (e) => e.name === "BadRequestError");
    assert.throws(() => new Router({ model_list: [dep("g", "ok")], routing_strategy: "fastest" }));
  });
});

describe("Router streams", () => {
  test("a stream cut before its first chunk falls back; the fallback's chunks arrive", async () => {
    const router = new Router({
      model_list: [dep("a", "cutearly"), dep("b", "stream")],
      num_retries: 0,
      fallbacks: [{ a: ["b"] }],
    });
    const handle = await router.completionStream(chat("a"));
    assert.equal(JSON.parse(handle.meta(false)).model_group, "b");
    const { chunks, error } = await drain(handle);
    assert.equal(error, undefined);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), "Hello");
    assert.deepEqual(paths(), ["cutearly", "stream"]);
  });

  test("a stream cut after its first chunk ends with an error and no fallback", async () => {
    const router = new Router({
      model_list: [dep("a", "cutlate"), dep("b", "stream")],
      num_retries: 2,
      fallbacks: [{ a: ["b"] }],
    });
    const handle = await router.completionStream(chat("a"));
    const { chunks, error } = await drain(handle);
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0].choices[0].delta.content, "Hel");
    assert.ok(error, "the cut must surface as an error");
    assert.deepEqual(paths(), ["cutlate"]);
  });
});

describe("callbacks", () => {
  test("success callbacks get kwargs with response_cost; a throwing one does not break the call", async () => {
    const seen = [];
    setCallbacks({ success_callback: [(kwargs) => seen.push(["global", kwargs.response_cost])] });
    const router = new Router({ model_list: [dep("g", "ok")] });
    const r = await router.completion(chat("g", {
      metadata: { user: "u1" },
      success_callback: [
        () => { throw new Error("callback bug"); },
        async () => { throw new Error("async callback bug"); },
        (kwargs, response, start, end) => seen.push(["call", kwargs, response, start, end]),
      ],
    }));
    assert.equal(r.choices[0].message.content, "from ok");
    // gpt-4o: $2.50 / $10 per 1M tokens; 10 prompt + 5 completion tokens.
    const expected = (10 * 2.5 + 5 * 10) / 1e6;
    assert.ok(Math.abs(r._hidden_params.response_cost - expected) < 1e-15);
    const call = seen.find((s) => s[0] === "call");
    const [, kwargs, response, start, end] = call;
    assert.ok(Math.abs(kwargs.response_cost - expected) < 1e-15);
    assert.equal(kwargs.standard_logging_object.status, "success");
    assert.equal(kwargs.standard_logging_object.model_group, "g");
    assert.equal(kwargs.standard_logging_object.metadata.user, "u1");
    assert.equal(kwargs.standard_logging_object.cache_hit, false);
    assert.equal(response.choices[0].message.content, "from ok");
    assert.ok(start instanceof Date && end instanceof Date && end >= start);
    assert.ok(seen.some((s) => s[0] === "global"));
  });

  test("failure callbacks get the error; stream callbacks fire once the stream ended", async () => {
    const failures = [];
    const router = new Router({ model_list: [dep("g", "down"), dep("s", "stream")], num_retries: 0 });
    await assert.rejects(router.completion(chat("g", {
      failure_callback: [(kwargs, err) => failures.push([kwargs, err])],
    })));
    assert.equal(failures.length, 1);
    assert.equal(failures[0][0].standard_logging_object.status, "failure");
    assert.equal(failures[0][0].standard_logging_object.error_information.error_class, "InternalServerError");
    assert.equal(failures[0][1].name, "InternalServerError");

    const done = [];
    const handle = await router.completionStream(chat("s", {
      success_callback: [(kwargs, response) => done.push([kwargs, response])],
    }));
    assert.equal(done.length, 0, "not before the stream ended");
    await drain(handle);
    assert.equal(done.length, 1);
    const [kwargs, response] = done[0];
    assert.equal(response.choices[0].message.content, "Hello");
    assert.equal(kwargs.standard_logging_object.total_tokens, 10);
    assert.ok(Math.abs(kwargs.response_cost - (7 * 2.5 + 3 * 10) / 1e6) < 1e-15);
  });
});

describe("cost helpers", () => {
  test("completionCost, costPerToken, getModelInfo, registerModel", () => {
    const usage = { prompt_tokens: 1000, completion_tokens: 500, total_tokens: 1500 };
    assert.ok(Math.abs(completionCost({ model: "gpt-4o-mini", usage }) - (1000 * 0.15 + 500 * 0.6) / 1e6) < 1e-15);
    const resp = { ...okBody(), usage, _hidden_params: { custom_llm_provider: "anthropic", model: "claude-3-5-haiku-20241022" } };
    assert.ok(Math.abs(completionCost({ completion_response: resp }) - (1000 * 0.8 + 500 * 4) / 1e6) < 1e-15);
    assert.ok(Math.abs(completionCost({ model: "my-model", custom_llm_provider: "openai_like", usage,
      input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 }) - 0.002) < 1e-15);
    const [p, c] = costPerToken("groq/llama-3.1-8b-instant", 1e6, 1e6);
    assert.ok(Math.abs(p - 0.05) < 1e-12 && Math.abs(c - 0.08) < 1e-12);
    const info = getModelInfo("claude-3-5-sonnet-20241022", "anthropic");
    assert.equal(info.litellm_provider, "anthropic");
    assert.equal(info.max_input_tokens, 200000);
    assert.throws(() => getModelInfo("no-such-model-xyz"), (e) => e.name === "NotFoundError");
    assert.deepEqual(registerModel({ "acme-chat": { litellm_provider: "openai_like", input_cost_per_token: 3e-6, output_cost_per_token: 4e-6, mode: "chat" } }),
      ["openai_like/acme-chat"]);
    assert.ok(Math.abs(completionCost({ model: "acme-chat", custom_llm_provider: "openai_like", usage }) - 0.005) < 1e-15);
    assert.throws(() => registerModel({ x: { input_cost_per_token: -1 } }), (e) => e.name === "BadRequestError");
  });

  test("BudgetManager reserves the worst case, settles the actual cost, refuses over budget", async () => {
    // The package's class: its methods share one wasm export (BudgetManager.op).
    const bm = new sdk.BudgetManager();
    bm.createBudget(0.001, "alice", "daily");
    assert.ok(bm.isValidUser("alice"));
    assert.deepEqual(bm.getUsers(), ["alice"]);
    // gpt-4o-mini output is $0.60 per 1M: 1000 max_tokens → at most $0.0006 plus the prompt.
    const req = { model: "gpt-4o-mini", messages, max_tokens: 1000 };
    const reserved = bm.reserve("alice", req);
    assert.ok(reserved > 0.0006 && reserved < 0.0007, `${reserved}`);
    // A second call with the same worst case no longer fits while the first is in flight.
    assert.throws(() => bm.reserve("alice", req), (e) => e instanceof sdk.BudgetExceededError && e.status === 402);
    bm.settle("alice", reserved, 0.0001, "gpt-4o-mini");
    assert.ok(Math.abs(bm.getCurrentCost("alice") - 0.0001) < 1e-15);
    assert.ok(Math.abs(bm.getModelCost("alice")["gpt-4o-mini"] - 0.0001) < 1e-15);
    // update_cost from a routed response (priced from _hidden_params.response_cost).
    const router = new Router({ model_list: [dep("g", "ok")] });
    const r = await router.completion(chat("g"));
    const added = bm.updateCost("alice", r);
    assert.equal(added, r._hidden_params.response_cost);
    assert.ok(bm.projectedCost(req, "alice") > bm.getCurrentCost("alice"));
    bm.resetCost("alice");
    assert.equal(bm.getCurrentCost("alice"), 0);
    assert.equal(bm.getTotalBudget("alice"), 0.001);
    assert.throws(() => bm.createBudget(1, "bob", "fortnightly"), sdk.BadRequestError);
    assert.throws(() => bm.createBudget(Number.NaN, "bob"), sdk.BadRequestError);
    assert.throws(() => bm.settle("alice", -1, 0), sdk.BadRequestError);
    assert.equal(bm.isValidUser("bob"), false);
    assert.deepEqual(bm.getModelCost("bob"), {});
  });

  test("the package Router's modelNames, cooldowns and warnings (one wasm export, info)", () => {
    const router = new sdk.Router({ model_list: [dep("g", "ok"), dep("h", "ok2")], redis_host: "localhost" });
    assert.deepEqual(router.modelNames(), ["g", "h"]);
    assert.deepEqual(router.cooldowns(), []);
    assert.ok(router.warnings().some((w) => /redis_host/.test(w)), `${router.warnings()}`);
    const raw = new Router({ model_list: [dep("g", "ok")] });
    assert.throws(() => raw.info(3), (e) => e.name === "BadRequestError" && /unknown op/.test(e.message));
  });

  test("the wasm lookup export refuses an unknown op", () => {
    assert.throws(() => wasm.lookup(99, ""), (e) => e.name === "BadRequestError" && /unknown op/.test(e.message));
    assert.equal(wasm.lookup(5, ""), sdk.version());
  });

  test("BudgetManager's one wasm export refuses an unknown op", () => {
    const raw = new BudgetManager();
    assert.throws(() => raw.op(11, "alice"), (e) => e.name === "BadRequestError" && /unknown op/.test(e.message));
    assert.equal(raw.op(8, "alice"), false);
  });

  test("the package entry point still loads", () => {
    assert.equal(typeof sdk.completion, "function");
  });
});
