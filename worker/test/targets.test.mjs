// What crosses from wasm into JS once and is named by an id afterwards: the upstream URL with the
// init's headers (src/wasm/fetch.rs `target_id`) and the answer's per-deployment headers
// (worker/src/edge.rs `template_id`). Past 64 of either the ids start over. 70 deployments, each
// with its own URL, key and routing headers, called in turns that pass the wrap and come back to
// ids defined before it: every upstream request must carry its own deployment's URL and key, and
// every answer its own deployment's headers and body.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGateway, startMockServer, completionBody, user, MASTER_KEY } from "./helpers.mjs";

const N = 70;
let mock, gw;

before(async () => {
  const routes = {};
  for (let i = 0; i < N; i++) routes[`POST /d${i}/v1/chat/completions`] = { body: completionBody(`from ${i}`, "gpt-4o") };
  mock = await startMockServer({ routes });
  const deployments = [];
  for (let i = 0; i < N; i++) {
    deployments.push(`  - model_name: m${i}
    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/d${i}/v1", api_key: sk-k${i}}
    model_info: {id: dep-${i}}`);
  }
  const config = `model_list:
${deployments.join("\n")}
general_settings:
  master_key: ${MASTER_KEY}
`;
  gw = await startGateway({ config });
});

after(async () => {
  await gw?.close();
  await mock?.close();
});

async function call(i) {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: `m${i}`, messages: user("hi") }),
  });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  const sent = mock.requests[mock.requests.length - 1];
  assert.equal(sent.method, "POST", `m${i}`);
  assert.equal(sent.path, `/d${i}/v1/chat/completions`, `m${i}`);
  assert.equal(sent.headers.authorization, `Bearer sk-k${i}`, `m${i}`);
  assert.equal(sent.headers["content-type"], "application/json", `m${i}`);
  assert.equal(sent.json.model, "gpt-4o", `m${i}`);
  assert.equal(JSON.parse(text).choices[0].message.content, `from ${i}`);
  const h = Object.fromEntries(r.headers);
  assert.equal(h["content-type"], "application/json", `m${i}`);
  assert.equal(h["x-litellm-model-id"], `dep-${i}`);
  assert.equal(h["x-litellm-model-group"], `m${i}`);
  assert.equal(h["x-litellm-model-api-base"], `${mock.url}/d${i}/v1`);
  assert.equal(h["x-litellm-model-name"], "openai/gpt-4o");
  // One value per header: nothing appended twice from a kept set.
  for (const [k, v] of Object.entries(h)) assert.ok(!v.includes(", "), `${k}: ${v}`);
}

test("70 deployments past the 64 kept ids: each request and answer is its own deployment's", async () => {
  for (let i = 0; i < N; i++) await call(i);
  // After the wrap: ids redefined since (64..69 took 0..5), and ones from before it.
  for (const i of [0, 69, 3, 64, 65, 1, 63, 0, 0, 69]) await call(i);
  assert.equal(mock.requests.length, N + 10);
});
