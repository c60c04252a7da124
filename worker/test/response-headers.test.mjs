// The gateway's response headers when requests to different deployments interleave: the
// routing headers are copied from a `Headers` kept per distinct set (worker/src/edge.rs
// STABLE_HEADERS), so each answer must still carry its own deployment's, retries and cost. And
// the upstream's headers, read from wasm only when something asks (src/wasm/fetch.rs), are
// still seen where read: an upstream 429's `retry-after` reaches the client.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGateway, startMockServer, completionBody, user, MASTER_KEY } from "./helpers.mjs";

let mock, gw;
const flaky = { failuresLeft: 0 };

before(async () => {
  mock = await startMockServer({
    routes: {
      "POST /a/v1/chat/completions": { body: completionBody("from a", "gpt-4o", [10, 2]) },
      "POST /b/v1/chat/completions": { body: completionBody("from b", "gpt-4o-mini", [20, 4]) },
      "POST /flaky/v1/chat/completions": () => {
        if (flaky.failuresLeft > 0) {
          flaky.failuresLeft -= 1;
          return { status: 500, headers: { "retry-after-ms": "10" }, body: { error: { message: "transient", type: "server_error" } } };
        }
        return { body: completionBody("recovered") };
      },
      "POST /limited/v1/chat/completions": {
        status: 429,
        headers: { "retry-after": "7", "x-ratelimit-remaining-requests": "0" },
        body: { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } },
      },
    },
  });
  const m = mock.url;
  const config = `
model_list:
  - model_name: one
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/a/v1", api_key: sk-a}
    model_info: {id: dep-one}
  - model_name: two
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${m}/b/v1", api_key: sk-b}
    model_info: {id: dep-two}
  - model_name: flaky
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/flaky/v1", api_key: sk-f}
    model_info: {id: dep-flaky}
  - model_name: limited
    litellm_params: {model: openai/gpt-4o, api_base: "${m}/limited/v1", api_key: sk-l}
    model_info: {id: dep-limited}
router_settings:
  num_retries: 1
  cooldown_time: 0
  allowed_fails: 100
general_settings:
  master_key: ${MASTER_KEY}
`;
  gw = await startGateway({ config });
});

after(async () => {
  await gw?.close();
  await mock?.close();
});

async function chat(model, retries) {
  const body = { model, messages: user("hi") };
  if (retries !== undefined) body.num_retries = retries;
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: Object.fromEntries(r.headers), text };
}

test("interleaved deployments each answer with their own routing headers", async () => {
  const want = {
    one: { id: "dep-one", name: "openai/gpt-4o", base: `${mock.url}/a/v1`, content: "from a" },
    two: { id: "dep-two", name: "openai/gpt-4o-mini", base: `${mock.url}/b/v1`, content: "from b" },
  };
  const ids = new Set();
  for (const model of ["one", "two", "one", "one", "two", "one"]) {
    const r = await chat(model);
    assert.equal(r.status, 200, r.text);
    const w = want[model];
    const h = r.headers;
    assert.equal(JSON.parse(r.text).choices[0].message.content, w.content);
    assert.equal(h["content-type"], "application/json");
    assert.equal(h["x-litellm-model-id"], w.id);
    assert.equal(h["x-litellm-model-group"], model);
    assert.equal(h["x-litellm-model-name"], w.name);
    assert.equal(h["x-litellm-model-api-base"], w.base);
    assert.equal(h["x-litellm-attempted-retries"], "0");
    assert.equal(h["x-litellm-attempted-fallbacks"], "0");
    assert.match(h["x-litellm-response-cost"], /^0\.\d+$/);
    assert.match(h["x-litellm-version"], /^\d+\.\d+\.\d+/);
    assert.equal(h["x-litellm-call-id"], h["x-request-id"]);
    assert.ok(!ids.has(h["x-request-id"]), "a fresh request id per answer");
    ids.add(h["x-request-id"]);
    // One value per header: nothing appended twice from a kept set.
    for (const [k, v] of Object.entries(h)) assert.ok(!v.includes(", "), `${k}: ${v}`);
  }
});

test("a retried call says so, and the next one on the same deployment does not", async () => {
  flaky.failuresLeft = 1;
  const retried = await chat("flaky");
  assert.equal(retried.status, 200, retried.text);
  assert.equal(retried.headers["x-litellm-attempted-retries"], "1");
  assert.equal(retried.headers["x-litellm-model-id"], "dep-flaky");
  const clean = await chat("flaky");
  assert.equal(clean.headers["x-litellm-attempted-retries"], "0");
  assert.equal(clean.headers["x-litellm-model-id"], "dep-flaky");
});

test("an upstream 429's retry-after reaches the client", async () => {
  const r = await chat("limited", 0);
  assert.equal(r.status, 429, r.text);
  assert.equal(r.headers["retry-after"], "7");
  assert.equal(r.headers["retry-after-ms"], "7000");
  assert.equal(JSON.parse(r.text).error.code, "rate_limit_exceeded");
});
