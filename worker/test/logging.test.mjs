// The gateway's logging in workerd: a config's `litellm_settings.success_callback` /
// `failure_callback` (LiteLLM's keys) with credentials from Worker secrets deliver each chat
// call — success, failure, and a stream once it ended — to local mocks of every service's
// ingestion API (tests/mock/ingest.mjs checks the request shapes), through ctx.waitUntil after
// the response; a dead logger endpoint neither delays nor fails the call.
import { test, before, after, beforeEach, describe } from "node:test";
import assert from "node:assert/strict";
import { startGateway, startMockServer, completionBody, sseBody, user, MASTER_KEY } from "./helpers.mjs";
import { startIngestServer, ingestEnv, assertDelivered, SERVICES, CALLBACK } from "../../tests/mock/ingest.mjs";

let upstream, ingest, gw;

const NAMES = SERVICES.filter((s) => s !== "slack").map((s) => CALLBACK[s] ?? s);

function config(upstreamUrl, extra = "") {
  return `
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstreamUrl}/v1
      api_key: sk-upstream
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: limited
    litellm_params: {model: openai/gpt-4o, api_base: "${upstreamUrl}/limited/v1", api_key: sk-upstream}
litellm_settings:
  num_retries: 0
  success_callback: ${JSON.stringify(NAMES)}
  failure_callback: ${JSON.stringify(NAMES)}
general_settings:
  master_key: os.environ/MASTER
  alerting: ["slack"]
${extra}`;
}

before(async () => {
  upstream = await startMockServer({
    routes: {
      "POST /v1/chat/completions": (r) =>
        r.json?.stream
          ? { headers: { "content-type": "text/event-stream" }, stream: sseBody(["Str", "eamed"]), chunkSize: 60 }
          : { body: completionBody("Hello from upstream", "gpt-4o-2024-08-06", [11, 4]) },
      "POST /limited/v1/chat/completions": {
        status: 429,
        body: { error: { message: "Rate limit reached for gpt-4o", type: "requests", code: "rate_limit_exceeded", param: null } },
      },
    },
  });
  ingest = await startIngestServer();
  gw = await startGateway({ config: config(upstream.url), vars: { MASTER: MASTER_KEY, ...ingestEnv(ingest.url) } });
});

after(async () => {
  await gw?.close();
  await upstream?.close();
  await ingest?.close();
});

beforeEach(() => ingest.reset());

// Records per call: MLflow makes two requests (trace, then spans); Slack hears of failures only.
const expectedRecords = (kind) => NAMES.length + 1 + (kind === "failure" ? 1 : 0);

const WANT = {
  success: { model: "gpt-4o", userText: "Say hello", output: "Hello from upstream", promptTokens: 11, completionTokens: 4 },
  // The error names the deployment's model.
  failure: { model: "gpt-4o", userText: "Say hello", error: "Rate limit reached" },
  stream: { model: "gpt-4o", userText: "Say hello", output: "Streamed", promptTokens: 5, completionTokens: 2 },
};

describe("the gateway delivers each call to every configured logger", () => {
  for (const kind of ["success", "failure", "stream"]) {
    test(kind, async () => {
      const client = gw.client();
      if (kind === "success") {
        const r = await client.chat.completions.create({ model: "gpt", messages: user("Say hello"), user: "end-user-1" });
        assert.equal(r.choices[0].message.content, "Hello from upstream");
      } else if (kind === "failure") {
        await assert.rejects(client.chat.completions.create({ model: "limited", messages: user("Say hello") }), (e) => e.status === 429);
      } else {
        const s = await client.chat.completions.create({ model: "gpt", messages: user("Say hello"), stream: true, stream_options: { include_usage: true } });
        let text = "";
        for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
        assert.equal(text, "Streamed");
      }
      await ingest.waitFor((recs) => recs.length >= expectedRecords(kind), 10_000);
      // Nothing more arrives (e.g. a second delivery of the same call).
      await ingest.sleep(200);
      assert.equal(ingest.records.length, expectedRecords(kind));
      for (const service of SERVICES) await assertDelivered(assert, ingest, service, kind, WANT[kind]);
      // The gateway adds the caller's key hash (never the key) to the metadata.
      const [wh] = ingest.of("webhook");
      assert.match(wh.json[0].metadata.user_api_key_hash, /^[0-9a-f]{64}$/);
      assert.ok(!wh.body.includes(MASTER_KEY));
      assert.equal(wh.json[0].call_type, "acompletion");
    });
  }
});

test("a stream without include_usage is logged with the provider's usage and cost", async () => {
  const s = await gw.client().chat.completions.create({ model: "gpt", messages: user("Say hello"), stream: true });
  let text = "";
  let shown = false;
  for await (const c of s) {
    text += c.choices[0]?.delta?.content ?? "";
    shown ||= Boolean(c.usage);
  }
  assert.equal(text, "Streamed");
  assert.equal(shown, false, "the client did not ask for the usage chunk");
  await ingest.waitFor((recs) => recs.length >= expectedRecords("stream"), 10_000);
  for (const service of SERVICES) await assertDelivered(assert, ingest, service, "stream", WANT.stream);
  const [p] = ingest.of("webhook")[0].json;
  assert.equal(p.stream, true);
  assert.deepEqual([p.prompt_tokens, p.completion_tokens, p.total_tokens], [5, 2, 7]);
  assert.equal(p.response.usage.total_tokens, 7);
  assert.ok(Math.abs(p.response_cost - (5 * 0.000001 + 2 * 0.000002)) < 1e-12, String(p.response_cost));
});

describe("a dead logger", () => {
  let dead;
  before(async () => {
    const extra = `
callback_settings:
  webhook: {endpoint: "${ingest.url}/dead/logs"}
  langfuse: {langfuse_host: "${ingest.url}/dead"}
`;
    dead = await startGateway({
      config: config(upstream.url, extra).replace(/success_callback: .*/, 'success_callback: ["webhook", "langfuse"]'),
      vars: { MASTER: MASTER_KEY, ...ingestEnv(ingest.url) },
    });
  });
  after(async () => dead?.close());

  test("does not delay or fail the call", async () => {
    const timed = async (client) => {
      const t0 = performance.now();
      const r = await client.chat.completions.create({ model: "gpt", messages: user("Say hello") });
      assert.equal(r.choices[0].message.content, "Hello from upstream");
      return performance.now() - t0;
    };
    // Warm both isolates, then compare.
    await timed(gw.client());
    await timed(dead.client());
    ingest.reset();
    const base = await timed(gw.client());
    const withDead = await timed(dead.client());
    assert.ok(withDead < base + 250, `with a dead logger: ${withDead.toFixed(0)} ms, without: ${base.toFixed(0)} ms`);
    // The deliveries did start (after the response) and hang at the dead endpoint.
    await ingest.waitFor((recs) => recs.filter((r) => r.service === "dead").length >= 2, 5000);
    // A stream is unaffected too.
    const s = await dead.client().chat.completions.create({ model: "gpt", messages: user("Say hello"), stream: true });
    let text = "";
    for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Streamed");
  });
});
