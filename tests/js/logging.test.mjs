// Logging integrations from the SDK in Node. The npm package is built without the cargo feature
// `integrations` (scripts/build-pkg.sh: the service-specific loggers would add ~19 KB gzip to
// every download): of the string callbacks only "webhook" (LiteLLM's generic_api) delivers, here
// a success, a failure and a streamed call to a local mock (tests/mock/ingest.mjs checks the
// request shape), after the call returned; a dead or broken logger never delays or fails the
// call, and is reported by flushLogging(). The other names ("langfuse", "lunary", "mlflow",
// "helicone", "promptlayer", "traceloop", "slack") are reported as not in this build, naming
// the feature and the gateway, and send nothing. Their request shapes are tested natively
// (src/integrations/*) and end to end through the gateway Worker (worker/test/logging.test.mjs).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { startIngestServer, ingestEnv, assertDelivered, SERVICES, CALLBACK } from "../mock/ingest.mjs";
import { rawWasm } from "./helpers.mjs";
import * as api from "../../pkg/api.js";
import { backend } from "../../pkg/backend.js";
import { CHAT, CHAT_STREAM } from "../../pkg/convert.js";

// The wasm-bindgen module (Router is its export); callbacks and logging are pkg/api.js's
// functions over it (they share one wasm export).
const wasm = await rawWasm();
backend.wasm = wasm;
// The wasm Router's chat is two kinds of its `modality` export (as pkg/router.js calls them).
class Router extends wasm.Router {
  completion(params) {
    return this.modality(CHAT, params);
  }
  completionStream(params) {
    return this.modality(CHAT_STREAM, params);
  }
}
const { setCallbacks, setEnv, setLoggingSettings, flushLogging } = api;

const okBody = {
  id: "chatcmpl-log-1",
  object: "chat.completion",
  created: 1700000000,
  model: "gpt-4o-2024-08-06",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello from upstream" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
};
const chunk = (delta, finish = null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "gpt-4o",
    choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const sse =
  chunk({ role: "assistant", content: "Str" }) + chunk({ content: "eamed" }) + chunk({}, "stop") +
  `data: ${JSON.stringify({ id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "gpt-4o", choices: [],
    usage: { prompt_tokens: 6, completion_tokens: 2, total_tokens: 8 } })}\n\n` + "data: [DONE]\n\n";

let upstream, ingest, router;

before(async () => {
  upstream = await startMockServer({
    routes: {
      "POST /ok/v1/chat/completions": { body: okBody },
      "POST /limited/v1/chat/completions": {
        status: 429,
        body: { error: { message: "Rate limit reached for gpt-4o", type: "requests", code: "rate_limit_exceeded", param: null } },
      },
      "POST /stream/v1/chat/completions": { headers: { "content-type": "text/event-stream" }, stream: sse },
    },
  });
  ingest = await startIngestServer();
  setEnv(ingestEnv(ingest.url));
  const dep = (name, path) => ({
    model_name: name,
    litellm_params: {
      model: "openai/gpt-4o",
      api_key: "sk-test-logging",
      api_base: `${upstream.url}/${path}/v1`,
      input_cost_per_token: 0.000001,
      output_cost_per_token: 0.000002,
    },
    model_info: { id: path },
  });
  router = new Router({ model_list: [dep("ok", "ok"), dep("limited", "limited"), dep("stream", "stream")], num_retries: 0, allowed_fails: 1000 });
});

after(async () => {
  setCallbacks({});
  setLoggingSettings({});
  setEnv(Object.fromEntries(Object.keys(ingestEnv("")).map((k) => [k, null])));
  await upstream.close();
  await ingest.close();
});

beforeEach(async () => {
  await flushLogging();
  ingest.reset();
  setCallbacks({});
  setLoggingSettings({});
});

const messages = [{ role: "user", content: "Say hello" }];

async function drain(handle) {
  const chunks = [];
  for (;;) {
    const batch = await handle.next();
    if (batch === undefined) return chunks;
    chunks.push(...JSON.parse(batch));
  }
}

/** Runs one call of `kind` with `name` as its string callback; returns the flush report. */
async function call(kind, name) {
  const params = (model) => ({ model, messages, success_callback: [name], failure_callback: [name], metadata: { tags: ["t1"] } });
  if (kind === "success") {
    const r = await router.completion(params("ok"));
    assert.equal(r.choices[0].message.content, "Hello from upstream");
  } else if (kind === "failure") {
    await assert.rejects(router.completion(params("limited")), (e) => e.name === "RateLimitError");
  } else {
    const chunks = await drain(await router.completionStream(params("stream")));
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), "Streamed");
  }
  return flushLogging();
}

/** The report of a logger the npm build leaves out (src/integrations/dispatch.rs UNAVAILABLE). */
function assertUnavailable(r, name) {
  assert.equal(r.logger, name);
  assert.equal(r.ok, false);
  assert.match(r.error, /not in this build/);
  assert.match(r.error, /cargo feature `integrations`/);
  assert.match(r.error, /gateway/);
}

const WANT = {
  success: { model: "gpt-4o", userText: "Say hello", output: "Hello from upstream", promptTokens: 11, completionTokens: 4 },
  // The error names the deployment's model.
  failure: { model: "gpt-4o", userText: "Say hello", error: "Rate limit reached" },
  stream: { model: "gpt-4o", userText: "Say hello", output: "Streamed", promptTokens: 6, completionTokens: 2 },
};

describe("the webhook receives success, failure and streamed calls", () => {
  for (const kind of ["success", "failure", "stream"]) {
    test(`webhook: ${kind}`, async () => {
      const report = await call(kind, "webhook");
      assert.equal(report.length, 1, JSON.stringify(report));
      assert.ok(report[0].ok, JSON.stringify(report[0]));
      await assertDelivered(assert, ingest, "webhook", kind, WANT[kind]);
    });
  }
});

describe("service-specific loggers are not in the npm build", () => {
  for (const service of SERVICES.filter((x) => x !== "webhook")) {
    const name = CALLBACK[service] ?? service;
    test(`${name}: the call is unaffected, the flush says why nothing was sent`, async () => {
      const report = await call("success", name);
      assert.equal(report.length, 1, JSON.stringify(report));
      // Slack only takes failures; it is still named, so it is still reported.
      assertUnavailable(report[0], service === "otel" ? "traceloop" : service);
      assert.equal(ingest.records.length, 0);
    });
  }
});

describe("completion() without a Router", () => {
  const direct = (path, extra = {}) => ({
    model: "openai/gpt-4o",
    api_base: `${upstream.url}/${path}/v1`,
    api_key: "sk-test-logging",
    messages,
    ...extra,
  });

  test("success, failure and stream reach the string callbacks", async () => {
    const names = { success_callback: ["webhook"], failure_callback: ["webhook"] };
    const r = await wasm.completion(direct("ok", names));
    assert.equal(r.choices[0].message.content, "Hello from upstream");
    await assert.rejects(wasm.completion(direct("limited", names)), (e) => e.name === "RateLimitError");
    const handle = await wasm.completionStream(direct("stream", { ...names, stream: true }));
    const chunks = await drain(handle);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), "Streamed");
    const report = await flushLogging();
    assert.ok(report.every((x) => x.ok), JSON.stringify(report));
    const events = ingest.of("webhook").flatMap((x) => x.json);
    assert.deepEqual(events.map((p) => [p.status, p.stream]).sort(), [["failure", false], ["success", false], ["success", true]]);
    const streamed = events.find((p) => p.stream);
    assert.equal(streamed.response.choices[0].message.content, "Streamed");
    assert.equal(streamed.completion_tokens, 2);
  });
});

describe("configuration", () => {
  test("module-wide names (setCallbacks) and per-logger settings (setLoggingSettings)", async () => {
    setCallbacks({ success_callback: ["webhook", "langfuse"] });
    setLoggingSettings({
      callback_settings: {
        webhook: { message_logging: false },
        langfuse: { langfuse_public_key: "pk-explicit", langfuse_secret_key: "sk-explicit" },
      },
    });
    await router.completion({ model: "ok", messages });
    const report = await flushLogging();
    assert.deepEqual(report.map((r) => [r.logger, r.ok]).sort(), [["langfuse", false], ["webhook", true]]);
    assertUnavailable(report.find((r) => r.logger === "langfuse"), "langfuse");
    const [wh] = ingest.of("webhook");
    assert.equal(wh.json[0].messages[0].content, "redacted-by-litellm");
    assert.equal(wh.json[0].response.choices[0].message.content, "redacted-by-litellm");
    assert.equal(wh.json[0].total_tokens, 15);
    assert.equal(ingest.of("langfuse").length, 0);
  });

  test("turn_off_message_logging redacts for every logger", async () => {
    setLoggingSettings({ turn_off_message_logging: true });
    await router.completion({ model: "ok", messages, success_callback: ["webhook"] });
    await flushLogging();
    for (const r of ingest.records) {
      assert.ok(!r.body.includes("Say hello") && !r.body.includes("Hello from upstream"), r.body.slice(0, 300));
      assert.ok(r.body.includes("redacted-by-litellm"));
    }
    assert.equal(ingest.of("webhook").length, 1);
  });

  test("calls that end together share one batch", async () => {
    await Promise.all([1, 2, 3].map(() => router.completion({ model: "ok", messages, success_callback: ["webhook"] })));
    const report = await flushLogging();
    // The webhook's default log_format (json_array): one request, a JSON array of the payloads.
    assert.deepEqual(ingest.of("webhook").map((r) => r.json.length), [3]);
    assert.deepEqual(report.map((r) => r.events), [3]);
  });

  test("an unknown or unconfigured logger is reported, not thrown", async () => {
    setEnv({ GENERIC_LOGGER_ENDPOINT: null });
    try {
      const r = await router.completion({ model: "ok", messages, success_callback: ["prometheus", "webhook", () => {}] });
      assert.equal(r.choices[0].message.content, "Hello from upstream");
      const report = await flushLogging();
      const byName = Object.fromEntries(report.map((x) => [x.logger, x]));
      assert.equal(byName.prometheus.ok, false);
      assert.equal(byName.webhook.ok, false);
      assert.match(byName.webhook.error, /GENERIC_LOGGER_ENDPOINT/);
      assert.equal(ingest.records.length, 0);
    } finally {
      setEnv(ingestEnv(ingest.url));
    }
  });
});

describe("a logger never slows or breaks a call", () => {
  const timed = async (fn) => {
    const t0 = performance.now();
    const v = await fn();
    return [v, performance.now() - t0];
  };

  test("a hung logger endpoint: the call returns at once, the flush reports a timeout", async () => {
    // Baseline without logging.
    const [, base] = await timed(() => router.completion({ model: "ok", messages }));
    setLoggingSettings({
      logging_timeout: 0.6,
      callback_settings: { webhook: { endpoint: `${ingest.url}/dead/logs` } },
    });
    const [r, took] = await timed(() => router.completion({ model: "ok", messages, success_callback: ["webhook"] }));
    assert.equal(r.choices[0].message.content, "Hello from upstream");
    assert.ok(took < base + 150, `call took ${took.toFixed(0)} ms with a dead logger vs ${base.toFixed(0)} ms without`);
    await ingest.waitFor((recs) => recs.filter((x) => x.service === "dead").length === 1);
    const [report, flushTook] = await timed(() => flushLogging());
    assert.equal(report.length, 1);
    for (const x of report) {
      assert.equal(x.ok, false);
      assert.match(x.error, /timed out|no time left|Timeout|timeout/i);
    }
    assert.ok(flushTook < 3000, `flush took ${flushTook} ms`);
  });

  test("a refused connection and a 500 are retried a bounded number of times, then reported", async () => {
    const logTo = async (endpoint) => {
      setLoggingSettings({ logging_max_retries: 2, callback_settings: { webhook: { endpoint } } });
      const r = await router.completion({ model: "ok", messages, success_callback: ["webhook"] });
      assert.equal(r.id, "chatcmpl-log-1");
      const report = await flushLogging();
      assert.equal(report.length, 1);
      return report[0];
    };
    const refused = await logTo("http://127.0.0.1:9/nothing-listens");
    assert.equal(refused.ok, false);
    assert.equal(refused.requests, 3);
    const broken = await logTo(`${ingest.url}/broken/logs`);
    assert.equal(broken.ok, false);
    assert.equal(broken.requests, 3);
    assert.equal(broken.status, 500);
    assert.equal(ingest.of("broken").length, 3);
  });

  test("a throwing JS callback next to a string callback changes nothing", async () => {
    const r = await router.completion({
      model: "ok",
      messages,
      success_callback: [() => { throw new Error("boom"); }, "webhook"],
    });
    assert.equal(r.object, "chat.completion");
    const report = await flushLogging();
    assert.equal(report.length, 1);
    assert.ok(report[0].ok);
  });
});
