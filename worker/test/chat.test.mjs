// Chat through the gateway with the official openai client: non-streaming and streaming,
// OpenAI-compatible and Anthropic upstreams, routing headers, SSE pass-through timing, and
// client disconnects aborting the upstream request.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGateway, startMockServer, completionBody, sseBody, user, MASTER_KEY, UPSTREAM_KEY } from "./helpers.mjs";

let mock, gw;

before(async () => {
  mock = await startMockServer({
    routes: {
      "POST /v1/chat/completions": (r) =>
        r.json?.stream
          ? { headers: { "content-type": "text/event-stream" }, stream: sseBody(["Hel", "lo", " there"]), chunkSize: 40 }
          : { body: completionBody(`echo: ${r.json?.messages?.at(-1)?.content}`) },
      // One SSE event every 150 ms: the gateway must pass each on as it arrives.
      "POST /slow/v1/chat/completions": () => {
        const events = sseBody(["a", "b", "c", "d", "e"]).split(/(?<=\n\n)/);
        const size = Math.max(...events.map((e) => e.length));
        return {
          headers: { "content-type": "text/event-stream" },
          stream: events.map((e) => e.padEnd(size, "\n")).join(""),
          chunkSize: size,
          chunkDelayMs: 150,
        };
      },
      // The first chunk, then nothing, never finishing: for client disconnects.
      "POST /endless/v1/chat/completions": () => ({
        headers: { "content-type": "text/event-stream" },
        stream: sseBody(["first"]).split(/(?<=\n\n)/).slice(0, 2).join(""),
        holdOpen: true,
      }),
    },
  });
  const config = `
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_base: ${mock.url}/v1
      api_key: os.environ/UPSTREAM_KEY
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
    model_info: {id: gpt-primary}
  - model_name: slow
    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/slow/v1", api_key: sk-x}
  - model_name: endless
    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/endless/v1", api_key: sk-x}
  - model_name: claude
    litellm_params:
      model: anthropic/claude-3-5-sonnet-20241022
      api_base: ${mock.url}
      api_key: sk-ant-test
general_settings:
  master_key: os.environ/MASTER
`;
  gw = await startGateway({ config, vars: { UPSTREAM_KEY, MASTER: MASTER_KEY } });
});

after(async () => {
  await gw?.close();
  await mock?.close();
});

test("non-streaming chat: OpenAI response, upstream key, LiteLLM headers", async () => {
  mock.reset();
  const { data, response } = await gw
    .client()
    .chat.completions.create({ model: "gpt", messages: user("ping") })
    .withResponse();
  assert.equal(data.object, "chat.completion");
  assert.equal(data.choices[0].message.content, "echo: ping");
  assert.deepEqual(data.usage, { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
  const up = mock.requests[0];
  assert.equal(up.path, "/v1/chat/completions");
  assert.equal(up.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  assert.equal(up.json.model, "gpt-4o");
  assert.ok(!JSON.stringify(up.headers).includes(MASTER_KEY), "the gateway key is not forwarded");
  const h = response.headers;
  assert.match(h.get("x-request-id"), /^[0-9a-f-]{36}$/);
  assert.equal(h.get("x-litellm-model-id"), "gpt-primary");
  assert.equal(h.get("x-litellm-model-group"), "gpt");
  assert.equal(h.get("x-litellm-model-api-base"), `${mock.url}/v1`);
  assert.equal(h.get("x-litellm-attempted-retries"), "0");
  assert.equal(h.get("x-litellm-attempted-fallbacks"), "0");
  assert.equal(Number(h.get("x-litellm-response-cost")), 9 * 0.000001 + 3 * 0.000002);
});

test("streaming chat: chunks, [DONE], no provider key in the stream", async () => {
  mock.reset();
  const stream = await gw.client().chat.completions.create({
    model: "gpt",
    messages: user("hi"),
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let usage;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    text += chunk.choices[0]?.delta?.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "Hello there");
  assert.equal(usage.completion_tokens, 3);
  assert.equal(mock.requests[0].json.stream, true);

  const raw = await fetch(`${gw.url}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt", messages: user("hi"), stream: true }),
  });
  assert.equal(raw.headers.get("content-type"), "text/event-stream");
  const body = await raw.text();
  assert.ok(body.endsWith("data: [DONE]\n\n"), body);
  assert.ok(!body.includes(UPSTREAM_KEY));
});

test("SSE is passed through as it arrives, not buffered", async () => {
  const stream = await gw.client().chat.completions.create({ model: "slow", messages: user("x"), stream: true });
  const seen = [];
  const t0 = Date.now();
  for await (const chunk of stream) {
    const c = chunk.choices[0]?.delta?.content;
    if (c) seen.push([c, Date.now() - t0]);
  }
  assert.deepEqual(seen.map(([c]) => c), ["a", "b", "c", "d", "e"]);
  const firstAt = seen[0][1];
  const lastAt = seen.at(-1)[1];
  assert.ok(lastAt - firstAt >= 300, `chunks arrived together (${JSON.stringify(seen)})`);
});

test("a client disconnect aborts the upstream request", async () => {
  mock.reset();
  const ctrl = new AbortController();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "endless", messages: user("x"), stream: true }),
    signal: ctrl.signal,
  });
  const reader = res.body.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /^data: /);
  const [upstream] = await mock.waitForRequests(1);
  ctrl.abort();
  const closed = await Promise.race([
    upstream.closed,
    new Promise((r) => setTimeout(() => r("timeout"), 5000)),
  ]);
  assert.equal(closed, true, "the upstream connection was closed before the response completed");
});

test("Anthropic upstream: translated by the core, OpenAI shape out (fixtures)", async () => {
  mock.reset();
  mock.replyFixture("anthropic", "chat_basic");
  const r = await gw.client().chat.completions.create({ model: "claude", messages: user("Hello"), max_tokens: 100 });
  assert.equal(mock.requests[0].path, "/v1/messages");
  assert.equal(mock.requests[0].headers["x-api-key"], "sk-ant-test");
  assert.equal(r.object, "chat.completion");
  assert.equal(typeof r.choices[0].message.content, "string");
  assert.ok(r.choices[0].message.content.length > 0);

  mock.replyFixture("anthropic", "stream_basic");
  const stream = await gw.client().chat.completions.create({ model: "claude", messages: user("Hello"), max_tokens: 100, stream: true });
  let text = "";
  let finish;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? "";
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.ok(text.length > 0);
  assert.equal(finish, "stop");
});

test("Azure-style path with the AzureOpenAI client", async () => {
  mock.reset();
  const { AzureOpenAI } = await import("openai");
  const azure = new AzureOpenAI({ endpoint: gw.url, apiKey: MASTER_KEY, apiVersion: "2024-10-21", deployment: "gpt", maxRetries: 0 });
  const r = await azure.chat.completions.create({ model: "ignored-by-azure-path", messages: user("az") });
  assert.equal(r.choices[0].message.content, "echo: az");
  assert.equal(mock.requests[0].json.model, "gpt-4o");
});

test("a stream cut by the upstream ends with an error event the client raises", async () => {
  mock.reset();
  const body = sseBody(["one", "two", "three"]);
  mock.reply({ headers: { "content-type": "text/event-stream" }, stream: body, cutAfter: body.indexOf("two") + 20, chunkSize: 64 });
  const stream = await gw.client().chat.completions.create({ model: "gpt", messages: user("x"), stream: true });
  let text = "";
  await assert.rejects(async () => {
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
  }, (e) => e instanceof Error && /stream|ended|cut|connection|incomplete/i.test(e.message));
  assert.ok(text.startsWith("one"), text);
});
