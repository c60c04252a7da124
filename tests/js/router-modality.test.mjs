// The Router's endpoints beyond chat through the npm package (`router.embedding`,
// `imageGeneration`, `textCompletion` and its stream, `moderation`, `rerank`) against the local
// mock upstream: retries, fallbacks and cooldowns as for chat, routed `_hidden_params`, error
// classes and callbacks. Each deployment has its own path on the mock, so the recorded request
// paths say which deployment was called.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { collect, sdk } from "./helpers.mjs";

const { Router, setCallbacks, RateLimitError, InternalServerError, AuthenticationError, BadRequestError } = sdk;

const embeddingBody = (value = 0.5) => ({
  object: "list",
  data: [{ object: "embedding", index: 0, embedding: [value] }],
  model: "text-embedding-3-small",
  usage: { prompt_tokens: 4, total_tokens: 4 },
});
const errBody = (message, code, type = "server_error") => ({ error: { message, type, code, param: null } });
const textChunk = (text, finish = null) =>
  `data: ${JSON.stringify({ id: "cmpl-1", object: "text_completion", created: 1, model: "gpt-3.5-turbo-instruct",
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] })}\n\n`;
const textSse = textChunk("Hel") + textChunk("lo", "stop") +
  `data: ${JSON.stringify({ id: "cmpl-1", object: "text_completion", created: 1, model: "gpt-3.5-turbo-instruct", choices: [],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } })}\n\n` + "data: [DONE]\n\n";
const sse = { headers: { "content-type": "text/event-stream" }, stream: textSse };

// A deployment answering 500 on its first request only.
let flakyCalls = 0;
const routes = {
  "POST /ok/v1/embeddings": { body: embeddingBody(0.5) },
  "POST /ok2/v1/embeddings": { body: embeddingBody(0.75) },
  "POST /down/v1/embeddings": { status: 500, body: errBody("boom", "server_error") },
  "POST /limited/v1/embeddings": {
    status: 429,
    headers: { "retry-after": "0" },
    body: errBody("Rate limit reached", "rate_limit_exceeded", "requests"),
  },
  "POST /badkey/v1/embeddings": { status: 401, body: errBody("Incorrect API key", "invalid_api_key", "invalid_request_error") },
  "POST /flaky/v1/embeddings": () =>
    flakyCalls++ === 0 ? { status: 500, body: errBody("boom", "server_error") } : { body: embeddingBody(0.25) },
  "POST /img/v1/images/generations": { body: { created: 1700000000, data: [{ url: "https://img.example/1.png" }] } },
  "POST /imgdown/v1/images/generations": { status: 503, body: errBody("overloaded", "server_error") },
  "POST /text/v1/completions": sse,
  "POST /textcut/v1/completions": { ...sse, cutAfter: 5 },
  "POST /textjson/v1/completions": {
    body: {
      id: "cmpl-2", object: "text_completion", created: 1, model: "gpt-3.5-turbo-instruct",
      choices: [{ text: "Hi", index: 0, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
    },
  },
  "POST /mod/v1/moderations": { body: { id: "modr-1", model: "omni-moderation-latest", results: [{ flagged: false, categories: {}, category_scores: {} }] } },
  "POST /rr/v1/rerank": { body: { id: "r-1", results: [{ index: 0, relevance_score: 0.5 }] } },
};

let mock;
before(async () => {
  mock = await startMockServer({ routes });
});
after(async () => {
  setCallbacks({});
  await mock.close();
});
beforeEach(() => {
  mock.reset();
  flakyCalls = 0;
  setCallbacks({});
});

/** A deployment of `group` served by the mock under `/<path>/v1`. */
const dep = (group, path, model = "openai/text-embedding-3-small", extra = {}) => ({
  model_name: group,
  litellm_params: { model, api_key: "sk-test-router", api_base: `${mock.url}/${path}/v1`, ...extra },
  model_info: { id: path },
});
const paths = () => mock.requests.map((r) => r.path.split("/")[1]);
const embed = (model, extra = {}) => ({ model, input: "hello", ...extra });

describe("router.embedding", () => {
  test("sends the deployment's model and returns the routed response with cost", async () => {
    const router = new Router({ model_list: [dep("e", "ok")] });
    const r = await router.embedding(embed("e", { dimensions: 1 }));
    assert.deepEqual(mock.requests[0].json, { model: "text-embedding-3-small", input: "hello", dimensions: 1 });
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-test-router");
    assert.deepEqual(r.data, embeddingBody(0.5).data);
    const h = r._hidden_params;
    assert.equal(h.model_group, "e");
    assert.equal(h.model_id, "ok");
    assert.equal(h.custom_llm_provider, "openai");
    assert.equal(h.attempts, 1);
    // $0.02 per 1M tokens, 4 tokens.
    assert.ok(Math.abs(h.response_cost - (4 * 0.02) / 1e6) < 1e-15, `${h.response_cost}`);
    assert.equal(h.additional_headers["x-litellm-response-cost"], h.response_cost);
  });

  test("num_retries: N sends exactly N+1 requests, then the error class", async () => {
    for (const n of [0, 2]) {
      mock.reset();
      const router = new Router({ model_list: [dep("e", "down")], num_retries: n, retry_after: 0 });
      await assert.rejects(router.embedding(embed("e")), (e) => e instanceof InternalServerError && e.status === 500);
      assert.equal(mock.requests.length, n + 1, `num_retries ${n}`);
    }
  });

  test("a retry succeeds on the same deployment; a 401 is not retried", async () => {
    const router = new Router({ model_list: [dep("e", "flaky"), dep("k", "badkey")], num_retries: 2, retry_after: 0 });
    const r = await router.embedding(embed("e"));
    assert.equal(r.data[0].embedding[0], 0.25);
    assert.deepEqual(paths(), ["flaky", "flaky"]);
    assert.equal(r._hidden_params.additional_headers["x-litellm-attempted-retries"], 1);
    mock.reset();
    await assert.rejects(router.embedding(embed("k")), AuthenticationError);
    assert.deepEqual(paths(), ["badkey"]);
  });

  test("fallbacks walk the chain", async () => {
    const router = new Router({
      model_list: [dep("a", "down"), dep("b", "limited"), dep("c", "ok2")],
      num_retries: 0,
      fallbacks: [{ a: ["b", "c"] }],
    });
    const r = await router.embedding(embed("a"));
    assert.equal(r.data[0].embedding[0], 0.75);
    assert.deepEqual(paths(), ["down", "limited", "ok2"]);
    assert.equal(r._hidden_params.model_group, "c");
    assert.equal(r._hidden_params.additional_headers["x-litellm-attempted-fallbacks"], 1);
  });

  test("a failing deployment cools down; the group then answers 429 without calling upstream", async () => {
    const router = new Router({ model_list: [dep("e", "down")], num_retries: 0, allowed_fails: 0, cooldown_time: 30 });
    await assert.rejects(router.embedding(embed("e")), InternalServerError);
    assert.equal(router.cooldowns()[0][0], "down");
    await assert.rejects(router.embedding(embed("e")), (e) => e instanceof RateLimitError && /^No deployments available/.test(e.message));
    assert.equal(mock.requests.length, 1);
    // Chat and embeddings share the deployment's health.
    await assert.rejects(router.completion({ model: "e", messages: [{ role: "user", content: "x" }] }), RateLimitError);
    assert.equal(mock.requests.length, 1);
  });

  test("load is spread over the group's deployments", async () => {
    const router = new Router({ model_list: [dep("e", "ok"), dep("e", "ok2")], routing_strategy: "simple-shuffle" });
    for (let i = 0; i < 20; i++) await router.embedding(embed("e"));
    const counts = paths().reduce((m, p) => ({ ...m, [p]: (m[p] ?? 0) + 1 }), {});
    assert.ok(counts.ok > 0 && counts.ok2 > 0, JSON.stringify(counts));
  });

  test("callbacks get call_type embedding and the routing facts", async () => {
    const seen = [];
    const router = new Router({ model_list: [dep("a", "down"), dep("b", "ok")], num_retries: 0, fallbacks: [{ a: ["b"] }] });
    await router.embedding(embed("a", {
      metadata: { team: "t1" },
      success_callback: [(kwargs, response) => seen.push([kwargs, response])],
    }));
    assert.equal(seen.length, 1);
    const [kwargs, response] = seen[0];
    assert.equal(kwargs.call_type, "embedding");
    assert.equal(kwargs.messages, "hello");
    const slo = kwargs.standard_logging_object;
    assert.equal(slo.model_group, "b");
    assert.equal(slo.model_id, "ok");
    assert.equal(slo.hidden_params.attempted_fallbacks, 1);
    assert.equal(slo.metadata.team, "t1");
    assert.equal(response.data[0].embedding[0], 0.5);
  });
});

describe("router: images, text completion, moderation, rerank", () => {
  test("imageGeneration falls back; an unknown group is a BadRequestError", async () => {
    const router = new Router({
      model_list: [dep("img", "imgdown", "openai/dall-e-3"), dep("img2", "img", "openai/dall-e-3")],
      num_retries: 0,
      fallbacks: [{ img: ["img2"] }],
    });
    const r = await router.imageGeneration({ model: "img", prompt: "a fox", size: "1024x1024", quality: "standard" });
    assert.deepEqual(paths(), ["imgdown", "img"]);
    assert.deepEqual(mock.requests[1].json, { model: "dall-e-3", prompt: "a fox", size: "1024x1024", quality: "standard" });
    assert.equal(r.data[0].url, "https://img.example/1.png");
    assert.equal(r._hidden_params.model_group, "img2");
    // dall-e-3 standard 1024x1024: $0.04.
    assert.ok(Math.abs(r._hidden_params.response_cost - 0.04) < 1e-12);
    await assert.rejects(router.imageGeneration({ model: "nope", prompt: "x" }), BadRequestError);
  });

  test("textCompletion, and its stream falling back before the first chunk", async () => {
    const router = new Router({
      model_list: [
        dep("t", "textjson", "openai/gpt-3.5-turbo-instruct"),
        dep("s", "textcut", "openai/gpt-3.5-turbo-instruct"),
        dep("s2", "text", "openai/gpt-3.5-turbo-instruct"),
      ],
      num_retries: 0,
      fallbacks: [{ s: ["s2"] }],
    });
    const r = await router.textCompletion({ model: "t", prompt: "Say hi", max_tokens: 3 });
    assert.deepEqual(mock.requests[0].json, { model: "gpt-3.5-turbo-instruct", prompt: "Say hi", max_tokens: 3 });
    assert.equal(r.choices[0].text, "Hi");
    assert.equal(r._hidden_params.model_id, "textjson");

    mock.reset();
    const done = [];
    const s = await router.textCompletion({
      model: "s", prompt: "Say hello", stream: true,
      success_callback: [(kwargs, response) => done.push([kwargs, response])],
    });
    assert.ok(s instanceof ReadableStream);
    assert.equal(s._hidden_params.model_group, "s2");
    const { chunks, error } = await collect(s);
    assert.equal(error, undefined);
    assert.equal(chunks.map((c) => c.choices[0].text).join(""), "Hello");
    assert.deepEqual(paths(), ["textcut", "text"]);
    // gpt-3.5-turbo-instruct: $1.50 / $2 per 1M tokens.
    assert.ok(Math.abs(s._hidden_params.response_cost - (3 * 1.5 + 2 * 2) / 1e6) < 1e-15, `${s._hidden_params.response_cost}`);
    assert.equal(done.length, 1);
    assert.equal(done[0][0].call_type, "text_completion");
    assert.equal(done[0][0].standard_logging_object.model_group, "s2");
    assert.equal(done[0][1].choices[0].text, "Hello");
  });

  test("moderation and rerank", async () => {
    const router = new Router({
      model_list: [dep("mod", "mod", "openai/omni-moderation-latest"), dep("rr", "rr", "cohere/rerank-v3.5")],
    });
    const m = await router.moderation({ model: "mod", input: "x" });
    assert.deepEqual(mock.requests[0].json, { model: "omni-moderation-latest", input: "x" });
    assert.equal(m.results[0].flagged, false);
    assert.equal(m._hidden_params.response_cost, 0);
    const r = await router.rerank({ model: "rr", query: "q", documents: ["a"], return_documents: true });
    assert.equal(mock.requests[1].path, "/rr/v1/rerank");
    assert.deepEqual(r.results, [{ index: 0, relevance_score: 0.5, document: { text: "a" } }]);
    assert.equal(r._hidden_params.model_id, "rr");
  });
});
