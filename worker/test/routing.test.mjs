// The config and the core's Router behind the gateway: `os.environ/` resolution, retries
// (`num_retries: N` → at most N+1 upstream requests), fallbacks, load balancing across two
// deployments, models and model info, and the other OpenAI endpoints.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startGateway, startMockServer, completionBody, user, MASTER_KEY, UPSTREAM_KEY } from "./helpers.mjs";

let mock, gw;
const flaky = { failuresLeft: 0 };

before(async () => {
  mock = await startMockServer({
    routes: {
      "POST /a/v1/chat/completions": { body: completionBody("from a") },
      "POST /b/v1/chat/completions": { body: completionBody("from b") },
      "POST /backup/v1/chat/completions": { body: completionBody("from backup", "gpt-4o-mini") },
      "POST /flaky/v1/chat/completions": () => {
        if (flaky.failuresLeft > 0) {
          flaky.failuresLeft -= 1;
          return { status: 500, headers: { "retry-after-ms": "20" }, body: { error: { message: "transient", type: "server_error" } } };
        }
        return { body: completionBody("recovered") };
      },
      "POST /v1/embeddings": {
        body: { object: "list", model: "text-embedding-3-small", data: [{ object: "embedding", index: 0, embedding: [0.25, -0.5] }], usage: { prompt_tokens: 2, total_tokens: 2 } },
      },
      "POST /v1/completions": (r) => {
        const chunk = (text, finish_reason = null) => ({ id: "cmpl-1", object: "text_completion", created: 1700000000, model: "gpt-3.5-turbo-instruct", choices: [{ index: 0, text, finish_reason, logprobs: null }] });
        if (r.json?.stream) {
          const events = [chunk(" wor"), chunk("ld"), chunk("", "stop")].map((c) => `data: ${JSON.stringify(c)}\n\n`);
          return { headers: { "content-type": "text/event-stream" }, stream: events.join("") + "data: [DONE]\n\n" };
        }
        return { body: { ...chunk(" world", "stop"), usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } };
      },
      "POST /v1/images/generations": { body: { created: 1700000000, data: [{ url: "https://img.example/1.png" }] } },
    },
  });
  const m = mock.url;
  const config = `
model_list:
  - model_name: lb
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/a/v1", api_key: os.environ/UPSTREAM_KEY}
    model_info: {id: dep-a}
  - model_name: lb
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/b/v1", api_key: os.environ/UPSTREAM_KEY}
    model_info: {id: dep-b}
  - model_name: primary
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/__fault/status/500/v1", api_key: sk-p}
  - model_name: backup
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${m}/backup/v1", api_key: sk-b}
  - model_name: always-500
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/__fault/status/500/v1?retry_after_ms=20", api_key: sk-x}
  - model_name: flaky
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/flaky/v1", api_key: sk-x}
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${m}/v1", api_key: sk-e}
  - model_name: instruct
    litellm_params: {model: openai/gpt-3.5-turbo-instruct, api_base: "${m}/v1", api_key: sk-i}
  - model_name: dall-e-3
    litellm_params: {model: openai/dall-e-3, api_base: "${m}/v1", api_key: sk-d}
router_settings:
  routing_strategy: simple-shuffle
  num_retries: 2
  fallbacks: [{primary: [backup]}]
  cooldown_time: 0
  allowed_fails: 100
litellm_settings:
  drop_params: true
general_settings:
  master_key: os.environ/MASTER
`;
  gw = await startGateway({ config, vars: { UPSTREAM_KEY, MASTER: MASTER_KEY } });
});

after(async () => {
  await gw?.close();
  await mock?.close();
});

test("os.environ/ in the config resolves from Worker vars and secrets", async () => {
  mock.reset();
  await gw.client().chat.completions.create({ model: "lb", messages: user("k") });
  assert.equal(mock.requests[0].headers.authorization, `Bearer ${UPSTREAM_KEY}`);
});

test("load balancing: two deployments of one model group both serve", async () => {
  mock.reset();
  const seen = { "from a": 0, "from b": 0 };
  const ids = new Set();
  for (let i = 0; i < 24; i++) {
    const { data, response } = await gw.client().chat.completions.create({ model: "lb", messages: user(`${i}`) }).withResponse();
    seen[data.choices[0].message.content] += 1;
    ids.add(response.headers.get("x-litellm-model-id"));
  }
  assert.ok(seen["from a"] > 0 && seen["from b"] > 0, JSON.stringify(seen));
  assert.deepEqual([...ids].sort(), ["dep-a", "dep-b"]);
});

test("fallbacks: a failing group falls back to the next one", async () => {
  mock.reset();
  const { data, response } = await gw.client().chat.completions.create({ model: "primary", messages: user("f") }).withResponse();
  assert.equal(data.choices[0].message.content, "from backup");
  assert.equal(response.headers.get("x-litellm-model-group"), "backup");
  assert.equal(response.headers.get("x-litellm-attempted-fallbacks"), "1");
  const primaryCalls = mock.requests.filter((r) => r.upstreamPath.includes("/v1/chat/completions") && r.path.startsWith("/__fault")).length;
  assert.equal(primaryCalls, 3, "num_retries: 2 on the primary group before falling back");
  // A client can turn fallbacks off per request (LiteLLM's disable_fallbacks).
  const e = await gw
    .client()
    .chat.completions.create({ model: "primary", messages: user("f"), disable_fallbacks: true })
    .catch((x) => x);
  assert.ok(e instanceof OpenAI.InternalServerError, String(e));
});

test("retries: num_retries: N means at most N+1 upstream requests", async () => {
  mock.reset();
  const e = await gw.client().chat.completions.create({ model: "always-500", messages: user("r") }).catch((x) => x);
  assert.ok(e instanceof OpenAI.InternalServerError, String(e));
  assert.equal(mock.requests.length, 3);

  mock.reset();
  flaky.failuresLeft = 2;
  const { data, response } = await gw.client().chat.completions.create({ model: "flaky", messages: user("r") }).withResponse();
  assert.equal(data.choices[0].message.content, "recovered");
  assert.equal(mock.requests.length, 3);
  assert.equal(response.headers.get("x-litellm-attempted-retries"), "2");

  mock.reset();
  flaky.failuresLeft = 5;
  const one = await gw.client().chat.completions.create({ model: "flaky", messages: user("r"), num_retries: 0 }).catch((x) => x);
  assert.ok(one instanceof OpenAI.InternalServerError);
  assert.equal(mock.requests.length, 1, "a per-request num_retries: 0 wins");
  flaky.failuresLeft = 0;
});

test("models and model info", async () => {
  const list = await gw.client().models.list();
  const ids = list.data.map((m) => m.id);
  assert.deepEqual(ids, ["lb", "primary", "backup", "always-500", "flaky", "embed", "instruct", "dall-e-3"]);
  const one = await gw.client().models.retrieve("backup");
  assert.equal(one.id, "backup");
  const info = await (await fetch(`${gw.url}/model/info`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).json();
  assert.equal(info.data.length, 9);
  const text = JSON.stringify(info);
  assert.ok(!text.includes(UPSTREAM_KEY) && !text.includes("sk-p"), "no credentials in model info");
  assert.equal(info.data[0].model_info.id, "dep-a");
});

test("embeddings, legacy completions (streamed too) and image generation", async () => {
  mock.reset();
  const emb = await gw.client().embeddings.create({ model: "embed", input: "hello", encoding_format: "float" });
  assert.deepEqual(emb.data[0].embedding, [0.25, -0.5]);
  assert.equal(mock.requests[0].upstreamPath, "/v1/embeddings");
  const cmpl = await gw.client().completions.create({ model: "instruct", prompt: "hello" });
  assert.equal(cmpl.choices[0].text, " world");
  let streamed = "";
  for await (const c of await gw.client().completions.create({ model: "instruct", prompt: "hello", stream: true })) {
    assert.equal(c.object, "text_completion");
    streamed += c.choices[0]?.text ?? "";
  }
  assert.equal(streamed, " world");
  const img = await gw.client().images.generate({ model: "dall-e-3", prompt: "a fox" });
  assert.equal(img.data[0].url, "https://img.example/1.png");
});
