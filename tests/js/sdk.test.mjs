// The JS API of the npm package against a local mock upstream: results, the exact upstream
// request, error classes and their fields, keys from process.env / setEnv, mock_response,
// retries, timeouts.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, beforeEach, describe, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { chatMessages as messages, okChatBody as okBody, openaiParams, sdk, withEnv } from "./helpers.mjs";

const {
  completion, setEnv, getSupportedOpenAIParams, version,
  APIError, BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError,
  ContextWindowExceededError, ContentPolicyViolationError, UnprocessableEntityError,
  RateLimitError, InternalServerError, BadGatewayError, ServiceUnavailableError,
  APIConnectionError, APITimeoutError, Timeout,
} = sdk;


let mock;
before(async () => {
  mock = await startMockServer();
});
after(async () => {
  await mock.close();
});
beforeEach(() => mock.reset());

const openai = (extra = {}) => openaiParams(mock.url, extra);

/** A port nothing listens on. */
async function closedPort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

describe("completion", () => {
  test("returns the OpenAI response with _hidden_params and sends the exact request", async () => {
    mock.reply({ body: okBody });
    const r = await completion(openai({ temperature: 0.5, max_tokens: 20, timeout: 30, num_retries: 0 }));
    assert.equal(r.choices[0].message.content, "Hi!");
    assert.deepEqual(r.usage, okBody.usage);
    assert.deepEqual(r._hidden_params, {
      custom_llm_provider: "openai",
      model: "gpt-4o",
      api_base: `${mock.url}/v1`,
      // gpt-4o: $2.50 / $10 per 1M tokens; 5 prompt + 2 completion tokens.
      response_cost: (5 * 2_500_000 + 2 * 10_000_000) / 1e12,
      attempts: 1,
    });
    assert.equal(mock.requests.length, 1);
    const req = mock.requests[0];
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/v1/chat/completions");
    assert.equal(req.headers.authorization, "Bearer sk-test-1");
    assert.equal(req.headers["content-type"], "application/json");
    // LiteLLM options never reach the provider.
    assert.deepEqual(req.json, { model: "gpt-4o", messages, temperature: 0.5, max_tokens: 20 });
  });

  test("response_cost is null for a model without a price", async () => {
    mock.reply({ body: { ...okBody, model: "my-finetune" } });
    const r = await completion(openai({ model: "openai/my-finetune-xyz" }));
    assert.equal(r._hidden_params.response_cost, null);
  });

  test("extra headers are sent", async () => {
    mock.reply({ body: okBody });
    await completion(openai({ extra_headers: { "x-trace": "abc" } }));
    assert.equal(mock.requests[0].headers["x-trace"], "abc");
  });

  test("mock_response answers without any network", async () => {
    const realFetch = globalThis.fetch;
    globalThis.fetch = () => {
      throw new Error("network used");
    };
    try {
      const r = await completion({ model: "anthropic/claude-3-5-sonnet-20241022", messages, mock_response: "Hi there" });
      assert.equal(r.object, "chat.completion");
      assert.equal(r.choices[0].message.content, "Hi there");
      assert.equal(r.choices[0].finish_reason, "stop");
      const s = await completion({ model: "openai/gpt-4o", messages, mock_response: "one two three", stream: true });
      let text = "";
      for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
      assert.equal(text, "one two three");
      await assert.rejects(
        completion({ model: "openai/gpt-4o", messages, mock_response: "litellm.RateLimitError" }),
        RateLimitError,
      );
    } finally {
      globalThis.fetch = realFetch;
    }
    assert.equal(mock.requests.length, 0);
  });

  test("invalid params are BadRequestError with param", async () => {
    await assert.rejects(completion({ messages }), (e) => e instanceof BadRequestError && e.param === "model");
    await assert.rejects(completion({ model: "openai/gpt-4o" }), (e) => e instanceof BadRequestError && e.param === "messages");
    await assert.rejects(completion(undefined), BadRequestError);
    await assert.rejects(completion(openai({ timeout: -1 })), (e) => e instanceof BadRequestError && e.param === "timeout");
    await assert.rejects(completion(openai({ model: "nosuchprovider-model" })), BadRequestError);
    assert.equal(mock.requests.length, 0);
  });

  test("retries retryable errors: num_retries N → at most N+1 requests", async () => {
    const fail = { status: 500, headers: { "retry-after-ms": "0" }, body: { error: { message: "boom", type: "server_error" } } };
    mock.reply(fail, fail, { body: okBody });
    const r = await completion(openai({ num_retries: 2 }));
    assert.equal(r.choices[0].message.content, "Hi!");
    assert.equal(r._hidden_params.attempts, 3);
    assert.equal(mock.requests.length, 3);

    mock.reset();
    mock.reply(fail, fail, fail, fail);
    await assert.rejects(completion(openai({ num_retries: 1 })), InternalServerError);
    assert.equal(mock.requests.length, 2);
  });
});

describe("errors", () => {
  const cases = [
    [400, {}, BadRequestError],
    [400, { code: "context_length_exceeded" }, ContextWindowExceededError],
    [400, { code: "content_policy_violation" }, ContentPolicyViolationError],
    [401, {}, AuthenticationError],
    [403, {}, PermissionDeniedError],
    [404, {}, NotFoundError],
    [422, {}, UnprocessableEntityError],
    [429, {}, RateLimitError],
    [500, {}, InternalServerError],
    [502, {}, BadGatewayError],
    [503, {}, ServiceUnavailableError],
  ];
  for (const [status, extra, cls] of cases) {
    test(`HTTP ${status}${extra.code ? ` (${extra.code})` : ""} → ${cls.name}`, async () => {
      mock.reply({
        status,
        body: { error: { message: `upstream says ${status}`, type: "invalid_request_error", param: null, code: extra.code ?? null } },
      });
      const err = await completion(openai()).catch((e) => e);
      assert.ok(err instanceof cls, `${err?.name}: ${err?.message}`);
      assert.ok(err instanceof APIError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, cls.name);
      assert.equal(err.status, status);
      assert.equal(err.message, `upstream says ${status}`);
      assert.equal(err.llm_provider, "openai");
      assert.equal(err.model, "gpt-4o");
      assert.equal(typeof err.type, "string");
      assert.equal(typeof err.code, "string");
      if (extra.code) assert.equal(err.code, extra.code);
      assert.deepEqual(err.error, { message: err.message, type: err.type, param: err.param, code: err.code });
      assert.match(err.stack, new RegExp(`^${cls.name}: `));
    });
  }

  test("5xx classes extend InternalServerError, timeouts extend APIConnectionError", () => {
    assert.ok(new ServiceUnavailableError("x") instanceof InternalServerError);
    assert.ok(new BadGatewayError("x") instanceof InternalServerError);
    assert.ok(new APITimeoutError("x") instanceof APIConnectionError);
    assert.equal(Timeout, APITimeoutError);
    assert.ok(new ContextWindowExceededError("x") instanceof BadRequestError);
  });

  test("429 carries Retry-After as retryAfterMs", async () => {
    mock.reply({ status: 429, headers: { "retry-after": "7" }, body: { error: { message: "slow down", type: "rate_limit_error" } } });
    const err = await completion(openai()).catch((e) => e);
    assert.ok(err instanceof RateLimitError);
    assert.equal(err.retryAfterMs, 7000);
    assert.equal(err.status, 429);
  });

  test("connection refused → APIConnectionError", async () => {
    const port = await closedPort();
    const err = await completion(openai({ api_base: `http://127.0.0.1:${port}/v1` })).catch((e) => e);
    assert.ok(err instanceof APIConnectionError, `${err?.name}: ${err?.message}`);
    assert.ok(!(err instanceof APITimeoutError));
    assert.match(err.message, /ECONNREFUSED|fetch failed/);
  });

  test("no response within `timeout` → APITimeoutError, and the request is aborted", async () => {
    mock.reply({ hang: true });
    const t0 = Date.now();
    const err = await completion(openai({ timeout: 0.3 })).catch((e) => e);
    const took = Date.now() - t0;
    assert.ok(err instanceof APITimeoutError, `${err?.name}: ${err?.message}`);
    assert.ok(err instanceof APIConnectionError);
    assert.equal(err.status, 408);
    assert.ok(took >= 250 && took < 3000, `took ${took} ms`);
    assert.equal(await mock.requests[0].closed, true, "the mock saw the connection closed");
  });

  test("a slow but in-time response is not a timeout", async () => {
    mock.reply({ body: okBody, delayMs: 100 });
    const r = await completion(openai({ timeout: 2 }));
    assert.equal(r.choices[0].message.content, "Hi!");
  });

  test("missing key → AuthenticationError naming the variable, before any request", async () => {
    await withEnv({}, async () => {
      const err = await completion({ model: "openai/gpt-4o", messages, api_base: `${mock.url}/v1` }).catch((e) => e);
      assert.ok(err instanceof AuthenticationError);
      assert.match(err.message, /OPENAI_API_KEY/);
    });
    assert.equal(mock.requests.length, 0);
  });
});

describe("keys from the environment", () => {
  test("process.env is read per call", async () => {
    await withEnv({ OPENAI_API_KEY: "sk-env-1" }, async () => {
      mock.reply({ body: okBody }, { body: okBody });
      await completion({ model: "openai/gpt-4o", messages, api_base: `${mock.url}/v1` });
      process.env.OPENAI_API_KEY = "sk-env-2";
      await completion({ model: "openai/gpt-4o", messages, api_base: `${mock.url}/v1` });
    });
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-env-1");
    assert.equal(mock.requests[1].headers.authorization, "Bearer sk-env-2");
  });

  test("the base URL variable is read too", async () => {
    await withEnv({ OPENAI_API_KEY: "sk-env", OPENAI_API_BASE: `${mock.url}/from-env` }, async () => {
      mock.reply({ body: okBody });
      const r = await completion({ model: "openai/gpt-4o", messages });
      assert.equal(r._hidden_params.api_base, `${mock.url}/from-env`);
    });
    assert.equal(mock.requests[0].path, "/from-env/chat/completions");
  });

  test("setEnv wins over process.env, api_key wins over both; null removes", async () => {
    try {
      await withEnv({ OPENAI_API_KEY: "sk-process" }, async () => {
        setEnv({ OPENAI_API_KEY: "sk-setenv", SOME_BINDING: { kv: true } });
        mock.reply({ body: okBody }, { body: okBody }, { body: okBody });
        await completion({ model: "openai/gpt-4o", messages, api_base: `${mock.url}/v1` });
        await completion({ model: "openai/gpt-4o", messages, api_base: `${mock.url}/v1`, api_key: "sk-param" });
        setEnv({ OPENAI_API_KEY: null });
        await completion({ model: "openai/gpt-4o", messages, api_base: `${mock.url}/v1` });
      });
    } finally {
      setEnv({ OPENAI_API_KEY: null });
    }
    assert.deepEqual(
      mock.requests.map((r) => r.headers.authorization),
      ["Bearer sk-setenv", "Bearer sk-param", "Bearer sk-process"],
    );
    assert.throws(() => setEnv("OPENAI_API_KEY=x"), TypeError);
  });
});

describe("misc exports", () => {
  test("version", () => {
    assert.match(version(), /^\d+\.\d+\.\d+/);
  });

  test("getSupportedOpenAIParams", () => {
    const p = getSupportedOpenAIParams("openai/gpt-4o");
    assert.ok(Array.isArray(p));
    assert.ok(p.includes("temperature") && p.includes("tools"), p.join(","));
    assert.ok(Array.isArray(getSupportedOpenAIParams("gpt-4o")));
    assert.equal(getSupportedOpenAIParams("nosuchprovider/x"), null);
  });
});

describe("Router and cost through the package", () => {
  const router = () =>
    new sdk.Router({
      model_list: [
        { model_name: "chat", litellm_params: { model: "openai/gpt-4o", api_key: "sk-router", api_base: `${mock.url}/a/v1` } },
      ],
    });

  test("Router.completion returns the response; errors are classes", async () => {
    mock.reply({ body: okBody });
    const r = await router().completion({ model: "chat", messages });
    assert.equal(r.choices[0].message.content, "Hi!");
    assert.equal(mock.requests[0].path, "/a/v1/chat/completions");
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-router");
    mock.reply({ status: 401, body: { error: { message: "bad key", type: "invalid_request_error", code: "invalid_api_key" } } });
    await assert.rejects(router().completion({ model: "chat", messages }), AuthenticationError);
    assert.throws(() => new sdk.Router({ model_list: "nope" }), APIError);
  });

  test("Router.completion stream is an async-iterable ReadableStream that aborts on break", async () => {
    const chunk = (t) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })}\n\n`;
    mock.reply({ headers: { "content-type": "text/event-stream" }, stream: chunk("a") + chunk("b"), holdOpen: true });
    const stream = await router().completion({ model: "chat", messages, stream: true });
    assert.ok(stream instanceof ReadableStream);
    for await (const c of stream) {
      assert.equal(c.choices[0].delta.content, "a");
      break;
    }
    const closed = await Promise.race([mock.requests[0].closed, new Promise((r) => setTimeout(() => r("open"), 3000))]);
    assert.equal(closed, true);
  });

  test("cost helpers", () => {
    assert.deepEqual(sdk.costPerToken("gpt-4o", 1_000_000, 1_000_000), [2.5, 10]);
    assert.equal(sdk.getModelInfo("gpt-4o").litellm_provider, "openai");
    assert.throws(() => sdk.getModelInfo("nosuch/model-xyz"), NotFoundError);
    const resp = { ...okBody, model: "gpt-4o" };
    assert.equal(sdk.completionCost({ completion_response: resp }), (5 * 2_500_000 + 2 * 10_000_000) / 1e12);
    const budget = new sdk.BudgetManager();
    budget.createBudget(1, "alice");
    assert.equal(budget.getTotalBudget("alice"), 1);
    assert.deepEqual(budget.getUsers(), ["alice"]);
  });
});
