// The endpoints beyond chat in the npm package — embedding, imageGeneration, textCompletion
// (and its stream), moderation, rerank — against a local mock upstream: the exact upstream
// request, the normalised response with `_hidden_params`, the error classes, retries,
// mock_response, and success / failure callbacks with LiteLLM's `call_type`.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { collect, sdk } from "./helpers.mjs";

const {
  embedding, imageGeneration, textCompletion, moderation, rerank, completion, setCallbacks,
  APIError, AuthenticationError, BadRequestError, RateLimitError, NotFoundError, InternalServerError,
  UnsupportedParamsError, APITimeoutError,
} = sdk;

let mock;
before(async () => {
  mock = await startMockServer();
});
after(async () => {
  setCallbacks({});
  await mock.close();
});
beforeEach(() => {
  mock.reset();
  setCallbacks({});
});

const opts = (extra = {}) => ({ api_key: "sk-test-1", api_base: `${mock.url}/v1`, ...extra });
const err = (status, message, code = null, type = "invalid_request_error") => ({
  status,
  body: { error: { message, type, param: null, code } },
});
const close = (a, b) => Math.abs(a - b) < 1e-12;

const embeddingBody = {
  object: "list",
  data: [
    { object: "embedding", index: 0, embedding: [0.25, -0.5, 1] },
    { object: "embedding", index: 1, embedding: [0.5, 0, -1] },
  ],
  model: "text-embedding-3-small",
  usage: { prompt_tokens: 8, total_tokens: 8 },
};

/** An SSE body of native `text_completion` chunks, the last one carrying usage. */
function textSse(pieces, usage = { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 }) {
  const base = { id: "cmpl-1", object: "text_completion", created: 1700000000, model: "gpt-3.5-turbo-instruct" };
  const events = pieces.map((text, i) => ({
    ...base,
    choices: [{ text, index: 0, logprobs: null, finish_reason: i === pieces.length - 1 ? "stop" : null }],
  }));
  events.push({ ...base, choices: [], usage });
  return events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + "data: [DONE]\n\n";
}
const sse = (stream, extra = {}) => ({ headers: { "content-type": "text/event-stream" }, stream, ...extra });

describe("embedding", () => {
  test("sends OpenAI's request and returns the list with _hidden_params and cost", async () => {
    mock.reply({ body: embeddingBody });
    const r = await embedding(opts({
      model: "openai/text-embedding-3-small", input: ["a", "b"], dimensions: 3, user: "u1",
      timeout: 30, num_retries: 0, metadata: { k: "v" },
    }));
    assert.equal(mock.requests.length, 1);
    const req = mock.requests[0];
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/v1/embeddings");
    assert.equal(req.headers.authorization, "Bearer sk-test-1");
    assert.deepEqual(req.json, { model: "text-embedding-3-small", input: ["a", "b"], dimensions: 3, user: "u1" });
    const { _hidden_params: hidden, ...body } = r;
    // The usage in LiteLLM's shape (OpenAI's embeddings usage has no completion tokens).
    assert.deepEqual(body, { ...embeddingBody, usage: { prompt_tokens: 8, completion_tokens: 0, total_tokens: 8 } });
    assert.deepEqual(hidden, {
      custom_llm_provider: "openai",
      model: "text-embedding-3-small",
      api_base: `${mock.url}/v1`,
      // $0.02 per 1M tokens.
      response_cost: (8 * 0.02) / 1e6,
      attempts: 1,
    });
  });

  test("encoding_format: base64 from a provider that returns floats (Ollama)", async () => {
    mock.reply({ body: { model: "nomic-embed-text", embeddings: [[0.5, -1]], prompt_eval_count: 2 } });
    const r = await embedding({ model: "ollama/nomic-embed-text", input: "hi", encoding_format: "base64", api_base: mock.url });
    assert.equal(mock.requests[0].path, "/api/embed");
    assert.deepEqual(mock.requests[0].json, { model: "nomic-embed-text", input: "hi" });
    // 0.5 and -1.0 as little-endian float32.
    assert.equal(r.data[0].embedding, "AAAAPwAAgL8=");
    assert.equal(r.usage.prompt_tokens, 2);
    assert.equal(r._hidden_params.custom_llm_provider, "ollama");
  });

  test("errors have the completion() classes; a bad request sends nothing", async () => {
    mock.reply(err(401, "Incorrect API key provided", "invalid_api_key"));
    await assert.rejects(embedding(opts({ model: "openai/text-embedding-3-small", input: "hi" })), (e) => {
      assert.ok(e instanceof AuthenticationError && e instanceof APIError);
      assert.equal(e.status, 401);
      assert.equal(e.code, "invalid_api_key");
      assert.equal(e.llm_provider, "openai");
      return true;
    });
    await assert.rejects(embedding(opts({ model: "openai/text-embedding-3-small", input: [] })), (e) => {
      assert.ok(e instanceof BadRequestError);
      assert.equal(e.param, "input");
      return true;
    });
    await assert.rejects(embedding("text-embedding-3-small"), BadRequestError);
    await assert.rejects(embedding(opts({ model: "anthropic/claude-3-5-haiku-20241022", input: "hi" })), BadRequestError);
    assert.equal(mock.requests.length, 1);
  });

  test("num_retries: 1 retries a 429 once (2 requests), honouring retry-after-ms", async () => {
    mock.reply({ ...err(429, "Rate limit reached", "rate_limit_exceeded", "requests"), headers: { "retry-after-ms": "20" } });
    mock.reply({ body: embeddingBody });
    const r = await embedding(opts({ model: "openai/text-embedding-3-small", input: ["a", "b"], num_retries: 1 }));
    assert.equal(r.data.length, 2);
    assert.equal(r._hidden_params.attempts, 2);
    assert.equal(mock.requests.length, 2);
    mock.reset();
    mock.reply(err(429, "Rate limit reached", "rate_limit_exceeded", "requests"));
    await assert.rejects(embedding(opts({ model: "openai/text-embedding-3-small", input: "a", num_retries: 0 })), RateLimitError);
    assert.equal(mock.requests.length, 1);
  });

  test("mock_response: an object is the response, an error name raises it", async () => {
    const r = await embedding({ model: "openai/text-embedding-3-small", input: "x", mock_response: embeddingBody });
    assert.deepEqual(r.data, embeddingBody.data);
    assert.equal(r._hidden_params.custom_llm_provider, "mock");
    await assert.rejects(embedding({ model: "m", input: "x", mock_response: "litellm.RateLimitError" }), RateLimitError);
    assert.equal(mock.requests.length, 0);
  });
});

describe("imageGeneration", () => {
  test("sends OpenAI's request; priced per image by size and quality", async () => {
    const body = { created: 1589478378, data: [{ url: "https://img.example/1.png", revised_prompt: "a red fox" }] };
    mock.reply({ body });
    const r = await imageGeneration(opts({ model: "openai/dall-e-3", prompt: "a fox", size: "1024x1024", quality: "hd", n: 1 }));
    assert.equal(mock.requests[0].path, "/v1/images/generations");
    assert.deepEqual(mock.requests[0].json, { model: "dall-e-3", prompt: "a fox", size: "1024x1024", quality: "hd", n: 1 });
    const { _hidden_params: hidden, ...rest } = r;
    assert.deepEqual(rest, body);
    assert.equal(hidden.custom_llm_provider, "openai");
    // dall-e-3 hd 1024x1024: $0.08 per image.
    assert.ok(close(hidden.response_cost, 0.08), `${hidden.response_cost}`);
  });

  test("without a model OpenAI's default is used; a content-policy refusal has its class", async () => {
    mock.reply(err(400, "Your request was rejected by our safety system", "content_policy_violation"));
    await assert.rejects(imageGeneration(opts({ prompt: "something" })), (e) => {
      assert.equal(e.name, "ContentPolicyViolationError");
      assert.ok(e instanceof BadRequestError);
      return true;
    });
    assert.equal(mock.requests[0].json.model, "dall-e-2");
    await assert.rejects(imageGeneration(opts({ model: "openai/dall-e-3" })), (e) => e instanceof BadRequestError && e.param === "prompt");
    assert.equal(mock.requests.length, 1);
  });
});

describe("textCompletion", () => {
  test("native completions endpoint for instruct models", async () => {
    const body = {
      id: "cmpl-1", object: "text_completion", created: 1700000000, model: "gpt-3.5-turbo-instruct",
      choices: [{ text: "This is a test.", index: 0, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    };
    mock.reply({ body });
    const r = await textCompletion(opts({ model: "openai/gpt-3.5-turbo-instruct", prompt: "Say this is a test", max_tokens: 7, temperature: 0 }));
    assert.equal(mock.requests[0].path, "/v1/completions");
    assert.deepEqual(mock.requests[0].json, { model: "gpt-3.5-turbo-instruct", prompt: "Say this is a test", max_tokens: 7, temperature: 0 });
    const { _hidden_params: hidden, ...rest } = r;
    assert.deepEqual(rest, body);
    // gpt-3.5-turbo-instruct: $1.50 / $2 per 1M tokens.
    assert.ok(close(hidden.response_cost, (5 * 1.5 + 5 * 2) / 1e6), `${hidden.response_cost}`);
  });

  test("chat models go through chat; the answer comes back as a text_completion", async () => {
    mock.reply({
      body: {
        id: "chatcmpl-1", object: "chat.completion", created: 1700000000, model: "gpt-4o-mini",
        choices: [{ index: 0, message: { role: "assistant", content: "Hi!" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
      },
    });
    const r = await textCompletion(opts({ model: "openai/gpt-4o-mini", prompt: "Say hi", max_tokens: 5 }));
    assert.equal(mock.requests[0].path, "/v1/chat/completions");
    assert.deepEqual(mock.requests[0].json, { model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hi" }], max_tokens: 5 });
    assert.equal(r.object, "text_completion");
    assert.deepEqual(r.choices, [{ text: "Hi!", index: 0, logprobs: null, finish_reason: "stop" }]);
    assert.deepEqual(r.usage, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    await assert.rejects(textCompletion(opts({ model: "openai/gpt-4o-mini", prompt: "x", echo: true })), UnsupportedParamsError);
    assert.equal(mock.requests.length, 1);
  });

  test("stream: true resolves to an async-iterable ReadableStream of text_completion chunks", async () => {
    mock.reply(sse(textSse(["Hel", "lo"])));
    const s = await textCompletion(opts({ model: "openai/gpt-3.5-turbo-instruct", prompt: "Say hello", stream: true }));
    assert.ok(s instanceof ReadableStream);
    assert.equal(s._hidden_params.response_cost, null, "unknown before the end");
    assert.deepEqual(mock.requests[0].json, {
      model: "gpt-3.5-turbo-instruct", prompt: "Say hello", stream: true, stream_options: { include_usage: true },
    });
    const { chunks, error } = await collect(s);
    assert.equal(error, undefined);
    assert.ok(chunks.every((c) => c.object === "text_completion"));
    assert.equal(chunks.map((c) => c.choices[0].text).join(""), "Hello");
    assert.equal(chunks.at(-1).choices[0].finish_reason, "stop");
    // The usage chunk was asked for the cost only: hidden, but priced.
    assert.ok(chunks.every((c) => c.usage === undefined));
    assert.ok(close(s._hidden_params.response_cost, (4 * 1.5 + 2 * 2) / 1e6), `${s._hidden_params.response_cost}`);
  });

  test("a stream through chat, an upstream error before the stream, a cut stream", async () => {
    const chat = (content, finish = null) =>
      `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini",
        choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
    mock.reply(sse(chat("Hi") + chat(" there", "stop") + "data: [DONE]\n\n"));
    const s = await textCompletion(opts({ model: "openai/gpt-4o-mini", prompt: "Hello", stream: true }));
    assert.equal(mock.requests[0].path, "/v1/chat/completions");
    const { chunks } = await collect(s);
    assert.equal(chunks.map((c) => c.choices[0]?.text ?? "").join(""), "Hi there");
    assert.ok(chunks.every((c) => c.object === "text_completion"));

    mock.reply(err(404, "The model `gpt-9` does not exist", "model_not_found"));
    await assert.rejects(textCompletion(opts({ model: "openai/gpt-9-instruct", prompt: "x", stream: true })), NotFoundError);

    const body = textSse(["Hel", "lo", " world"]);
    mock.reply(sse(body, { cutAfter: body.indexOf("data:", 10) + 3 }));
    const cut = await textCompletion(opts({ model: "openai/gpt-3.5-turbo-instruct", prompt: "x", stream: true }));
    const r = await collect(cut);
    assert.equal(r.chunks.map((c) => c.choices[0].text).join(""), "Hel");
    assert.ok(r.error instanceof APIError, `${r.error}`);
  });

  test("leaving the loop early aborts the request", async () => {
    mock.reply(sse(textSse(["a", "b", "c"]), { holdOpen: true }));
    const s = await textCompletion(opts({ model: "openai/gpt-3.5-turbo-instruct", prompt: "x", stream: true }));
    for await (const c of s) {
      assert.equal(c.choices[0].text, "a");
      break;
    }
    assert.equal(await mock.requests[0].closed, true);
  });

  test("timeout raises APITimeoutError", async () => {
    await assert.rejects(
      textCompletion({ model: "openai/gpt-3.5-turbo-instruct", prompt: "x", api_key: "sk-test-1", api_base: `${mock.url}/__fault/hang/v1`, timeout: 0.2 }),
      APITimeoutError,
    );
  });
});

describe("moderation", () => {
  test("defaults to omni-moderation-latest; $0", async () => {
    const body = {
      id: "modr-1", model: "omni-moderation-2024-09-26",
      results: [{ flagged: true, categories: { violence: true }, category_scores: { violence: 0.9 } }],
    };
    mock.reply({ body });
    const r = await moderation(opts({ input: "I want to hurt them." }));
    assert.equal(mock.requests[0].path, "/v1/moderations");
    assert.deepEqual(mock.requests[0].json, { input: "I want to hurt them.", model: "omni-moderation-latest" });
    const { _hidden_params: hidden, ...rest } = r;
    assert.deepEqual(rest, body);
    assert.equal(hidden.response_cost, 0);
    mock.reply(err(500, "boom", null, "server_error"));
    await assert.rejects(moderation(opts({ input: "x", num_retries: 0 })), InternalServerError);
  });
});

describe("rerank", () => {
  test("Cohere v2: request, results with the documents filled in, error class", async () => {
    mock.reply({
      body: {
        id: "r-1",
        results: [{ index: 1, relevance_score: 0.9 }, { index: 0, relevance_score: 0.1 }],
        meta: { billed_units: { search_units: 1 } },
      },
    });
    const r = await rerank({
      model: "cohere/rerank-v3.5", query: "capital of France", documents: ["a cat", "Paris"], top_n: 2,
      return_documents: true, api_key: "sk-test-co", api_base: mock.url,
    });
    assert.equal(mock.requests[0].path, "/v2/rerank");
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-test-co");
    assert.deepEqual(mock.requests[0].json, { model: "rerank-v3.5", query: "capital of France", documents: ["a cat", "Paris"], top_n: 2 });
    assert.equal(r.id, "r-1");
    assert.deepEqual(r.results, [
      { index: 1, relevance_score: 0.9, document: { text: "Paris" } },
      { index: 0, relevance_score: 0.1, document: { text: "a cat" } },
    ]);
    assert.equal(r._hidden_params.custom_llm_provider, "cohere");
    assert.equal(r._hidden_params.response_cost, null);
    mock.reply({ ...err(429, "too many requests"), headers: { "retry-after": "3" } });
    await assert.rejects(rerank({ model: "cohere/rerank-v3.5", query: "q", documents: ["a"], api_key: "k", api_base: mock.url }), (e) => {
      assert.ok(e instanceof RateLimitError);
      assert.equal(e.retryAfterMs, 3000);
      return true;
    });
  });
});

describe("callbacks", () => {
  test("success callbacks get LiteLLM's call_type, the input as messages, the cost and the response", async () => {
    const seen = [];
    setCallbacks({ success_callback: [(kwargs) => seen.push(["global", kwargs.call_type])] });
    mock.reply({ body: embeddingBody });
    await embedding(opts({
      model: "openai/text-embedding-3-small", input: ["a", "b"], metadata: { user: "u1" },
      success_callback: [(kwargs, response, start, end) => seen.push(["call", kwargs, response, start, end])],
    }));
    const [, kwargs, response, start, end] = seen.find((s) => s[0] === "call");
    assert.equal(kwargs.call_type, "embedding");
    assert.equal(kwargs.model, "openai/text-embedding-3-small");
    assert.deepEqual(kwargs.messages, ["a", "b"]);
    assert.deepEqual(kwargs.input, ["a", "b"]);
    assert.equal(kwargs.optional_params.input, undefined, "the input is not a parameter");
    assert.ok(close(kwargs.response_cost, (8 * 0.02) / 1e6));
    const slo = kwargs.standard_logging_object;
    assert.equal(slo.call_type, "embedding");
    assert.equal(slo.status, "success");
    assert.equal(slo.prompt_tokens, 8);
    assert.equal(slo.metadata.user, "u1");
    assert.equal(slo.custom_llm_provider, "openai");
    assert.deepEqual(slo.response.data, embeddingBody.data);
    assert.deepEqual(response.data, embeddingBody.data);
    assert.ok(start instanceof Date && end instanceof Date && end >= start);
    assert.deepEqual(seen.filter((s) => s[0] === "global"), [["global", "embedding"]]);
  });

  test("each endpoint reports its call_type; failures go to failure callbacks", async () => {
    const types = [];
    const failures = [];
    setCallbacks({
      success_callback: [(kwargs) => types.push(kwargs.call_type)],
      failure_callback: [(kwargs, e) => failures.push([kwargs.call_type, kwargs.standard_logging_object.error_information.error_class, e.name])],
    });
    await imageGeneration({ model: "openai/dall-e-3", prompt: "p", mock_response: { created: 1, data: [{ url: "u" }] } });
    await textCompletion({ model: "openai/gpt-4o", prompt: "p", mock_response: "Hi" });
    await moderation({ input: "x", mock_response: { id: "m", model: "omni-moderation-latest", results: [] } });
    await rerank({ model: "cohere/rerank-v3.5", query: "q", documents: ["a"], mock_response: { id: "r", results: [] } });
    await completion({ model: "openai/gpt-4o", messages: [{ role: "user", content: "x" }], mock_response: "Hi" });
    assert.deepEqual(types, ["image_generation", "text_completion", "moderation", "rerank", "completion"]);
    await assert.rejects(embedding({ model: "m", input: "x", mock_response: "litellm.RateLimitError" }), RateLimitError);
    await assert.rejects(rerank({ model: "m", query: "q" }), BadRequestError);
    assert.deepEqual(failures, [
      ["embedding", "RateLimitError", "RateLimitError"],
      ["rerank", "BadRequestError", "BadRequestError"],
    ]);
  });

  test("a text stream's callback fires once it ended, with the joined text and the usage", async () => {
    const done = [];
    mock.reply(sse(textSse(["Hel", "lo"])));
    const s = await textCompletion(opts({
      model: "openai/gpt-3.5-turbo-instruct", prompt: "Say hello", stream: true,
      success_callback: [(kwargs, response) => done.push([kwargs, response])],
    }));
    assert.equal(done.length, 0, "not before the end");
    await collect(s);
    assert.equal(done.length, 1);
    const [kwargs, response] = done[0];
    assert.equal(kwargs.call_type, "text_completion");
    assert.equal(kwargs.stream, true);
    assert.equal(kwargs.messages, "Say hello");
    assert.deepEqual(response.choices, [{ text: "Hello", index: 0, logprobs: null, finish_reason: "stop" }]);
    assert.equal(kwargs.standard_logging_object.total_tokens, 6);
    assert.ok(close(kwargs.response_cost, (4 * 1.5 + 2 * 2) / 1e6));
  });
});
