// Replays the shared fixture corpus (tests/fixtures/<provider>/<scenario>/) through the built
// npm package: the real wasm, the real global fetch (undici) and a local HTTP mock upstream.
// Each scenario checks the exact upstream request (URL, listed headers, JSON body) and the
// user-visible result: the response object, every streamed chunk, or the error class.
//
// Providers: every fixture by default; EDGELLM_FIXTURES=openai,anthropic (a comma list) narrows it.
import assert from "node:assert/strict";
import fs from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { after, before, describe, test } from "node:test";

import { FIXTURES_DIR, listFixtures, loadFixture, redirectFetch, startMockServer } from "../mock/server.mjs";
import { assertError, assertUpstreamRequest, collect, sdk, withEnv, withoutHidden } from "./helpers.mjs";

// The MockHost clock of the native harness starts here; fixtures without `now_ms` assume it.
const MOCK_START_MS = 1_700_000_000_000;

const wanted = process.env.EDGELLM_FIXTURES ?? "all";
const providers =
  wanted === "all"
    ? fs.readdirSync(FIXTURES_DIR).filter((p) => fs.statSync(`${FIXTURES_DIR}/${p}`).isDirectory()).sort()
    : wanted.split(",").map((s) => s.trim()).filter(Boolean);

let mock;
let restoreFetch;
before(async () => {
  mock = await startMockServer();
  restoreFetch = redirectFetch(mock);
});
after(async () => {
  restoreFetch();
  await mock.close();
});

// input.json `call` → the package function that serves it. A call without a JS export yet is
// skipped (visibly), and runs as soon as the export exists.
const CALLS = {
  chat: "completion",
  text_completion: "textCompletion",
  embedding: "embedding",
  image_generation: "imageGeneration",
  moderation: "moderation",
  rerank: "rerank",
};

/**
 * The JSON objects of an SSE body's `data:` events, in order (multi-line `data:` joined with
 * "\n" as SSE does); `[DONE]` and anything else that is not a JSON object is left out. A body
 * that is not SSE (NDJSON, AWS event stream) yields what it yields: chunks decoded from those
 * are serialized by the SDK, so they have no upstream keys to excuse.
 */
function upstreamEvents(body) {
  if (body === undefined) return [];
  const events = [];
  for (const block of body.toString("utf8").replace(/\r\n?/g, "\n").split(/\n\n+/)) {
    const data = block
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, ""));
    if (data.length === 0) continue;
    try {
      const v = JSON.parse(data.join("\n"));
      if (v !== null && typeof v === "object" && !Array.isArray(v)) events.push(v);
    } catch {
      // not JSON: `[DONE]`, a keep-alive
    }
  }
  return events;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * `actual` without the keys `expected` lacks, recursively (objects by key, arrays of equal length
 * by position); each removed key goes to `extras` as `{ path, value }` (`path`: the keys and
 * indexes from the chunk's root).
 */
function withoutExtras(actual, expected, path, extras) {
  if (isObject(actual) && isObject(expected)) {
    const out = {};
    for (const [k, v] of Object.entries(actual)) {
      if (hasOwn(expected, k)) out[k] = withoutExtras(v, expected[k], [...path, k], extras);
      else extras.push({ path: [...path, k], value: v });
    }
    return out;
  }
  if (Array.isArray(actual) && Array.isArray(expected) && actual.length === expected.length) {
    return actual.map((v, i) => withoutExtras(v, expected[i], [...path, i], extras));
  }
  return actual;
}

const showPath = (path) => "$" + path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");

/**
 * Streamed chunks against `expected_chunks.jsonl`: the same number, each equal to its expected
 * chunk once the keys the expected chunk lacks are removed. The SDK hands over an OpenAI-format
 * upstream's chunk as the text it arrived as (what the official OpenAI client yields), so such a
 * chunk carries what the upstream sent (`"logprobs": null`, provider fields) beyond the typed
 * chunk the fixtures hold. A chunk with removed keys must therefore BE an upstream event: equal
 * to the first JSON `data:` event that is, after the event the previous such chunk was (events
 * in order, each used once; a decoder may drop events, as Azure's `prompt_filter_results` one,
 * but never reorders them). So every removed key was sent, with that value at that path, by
 * the chunk's own event, and nothing else may differ.
 */
function assertChunks(actual, expected, upstream, label) {
  assert.equal(actual.length, expected.length, `${label}: number of chunks`);
  let next = 0;
  actual.forEach((chunk, i) => {
    const at = `${label}: chunk ${i}`;
    const extras = [];
    assert.deepEqual(withoutExtras(chunk, expected[i], [], extras), expected[i], at);
    if (extras.length === 0) return;
    const j = upstream.findIndex((event, j) => j >= next && isDeepStrictEqual(event, chunk));
    if (j < 0) {
      const shown = extras.map((x) => `${showPath(x.path)} = ${JSON.stringify(x.value)}`).join(", ");
      assert.fail(`${at}: has ${shown}, not expected, and is no upstream event from #${next} on`);
    }
    next = j + 1;
  });
}

// The comparison itself must be able to fail: only what the upstream sent may be extra.
describe("chunk comparison", () => {
  const sse = (...events) =>
    Buffer.from(events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join(""));
  const typed = (content) => ({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: null }] });
  const wire = (content, extra = {}) => ({ ...typed(content), choices: [{ ...typed(content).choices[0], logprobs: null }], ...extra });
  // A dropped first event (Azure's prompt filter results), a provider field, and a multi-line event.
  const body = sse(
    { id: "", choices: [], prompt_filter_results: [] },
    wire("Hel", { provider: "x" }),
    "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\ndata: \"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"logprobs\":null,\"finish_reason\":null}]}",
    "[DONE]",
  );
  const expected = [typed("Hel"), typed("lo")];
  const check = (actual) => assertChunks(actual, expected, upstreamEvents(body), "unit");

  test("parses the upstream's JSON data events", () => {
    assert.equal(upstreamEvents(body).length, 3);
    assert.deepEqual(upstreamEvents(body)[2], wire("lo"));
  });
  test("accepts keys the upstream sent at the same path with the same value", () => {
    check([wire("Hel", { provider: "x" }), wire("lo")]);
    check(expected);
  });
  test("fails on a wrong value", () => {
    assert.throws(() => check([wire("Hel", { provider: "x" }), wire("LO")]), /chunk 1/);
    assert.throws(() => check([typed("Hel"), { ...typed("lo"), id: "c2" }]), /chunk 1/);
  });
  test("fails on an extra key the upstream did not send", () => {
    assert.throws(() => check([wire("Hel", { provider: "x", service_tier: "default" }), wire("lo")]), /service_tier/);
    assert.throws(() => check([typed("Hel"), wire("lo", { provider: "x" })]), /provider/);
  });
  test("fails on an extra key the upstream sent with another value or elsewhere", () => {
    assert.throws(() => check([wire("Hel", { provider: "y" }), wire("lo")]), /provider/);
    const moved = typed("Hel");
    moved.choices[0].provider = "x";
    assert.throws(() => check([moved, typed("lo")]), /provider/);
  });
  test("fails on a missing key or chunk", () => {
    const { id, ...noId } = typed("Hel");
    assert.throws(() => check([noId, typed("lo")]), /chunk 0/);
    assert.throws(() => check([typed("Hel")]), /number of chunks/);
  });
  test("pairs each upstream event with one chunk, in order", () => {
    const once = sse({ id: "", choices: [] }, wire("Hel", { provider: "x" }), wire("lo"));
    const twice = [typed("Hel"), typed("Hel")];
    assertChunks([wire("Hel", { provider: "x" }), typed("Hel")], twice, upstreamEvents(once), "unit");
    assert.throws(
      () => assertChunks([wire("Hel", { provider: "x" }), wire("Hel", { provider: "x" })], twice, upstreamEvents(once), "unit"),
      /chunk 1: has .*provider/,
    );
    // In reverse order: the second chunk's event came before the first one's.
    assert.throws(
      () => assertChunks([wire("lo"), wire("Hel", { provider: "x" })], [typed("lo"), typed("Hel")], upstreamEvents(once), "unit"),
      /chunk 1/,
    );
  });
});

/**
 * A non-stream response against `expected.json`: equal once the keys the expected response lacks
 * are removed. The SDK hands over an OpenAI-format upstream's body as it came (what the official
 * OpenAI client returns), so it carries what the upstream sent (`"refusal": null`,
 * `"logprobs": null`, provider fields) beyond the typed response the fixtures hold. A response
 * with removed keys must therefore BE one of the upstream bodies, and nothing else may differ.
 */
function assertResponse(actual, expected, upstream, label) {
  const extras = [];
  assert.deepEqual(withoutExtras(actual, expected, [], extras), expected, `${label}: response`);
  if (extras.length === 0) return;
  if (upstream.some((body) => isDeepStrictEqual(body, actual))) return;
  const shown = extras.map((x) => `${showPath(x.path)} = ${JSON.stringify(x.value)}`).join(", ");
  assert.fail(`${label}: response has ${shown}, not expected, and is no upstream body`);
}

// The comparison itself must be able to fail: only what the upstream sent may be extra.
describe("response comparison", () => {
  const typed = { id: "r1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "Hi" }, finish_reason: "stop" }] };
  const wire = { ...typed, choices: [{ ...typed.choices[0], message: { ...typed.choices[0].message, refusal: null }, logprobs: null }] };
  const check = (actual) => assertResponse(actual, typed, [wire], "unit");

  test("accepts the upstream's own body", () => check(wire));
  test("accepts the typed response", () => check(typed));
  test("fails on an extra key the upstream did not send", () => {
    assert.throws(() => check({ ...wire, provider: "x" }), /\$\.provider = "x", not expected/);
    assert.throws(() => check({ ...typed, system_fingerprint: null }), /system_fingerprint/);
  });
  test("fails on an extra key the upstream sent elsewhere or with another value", () => {
    const moved = { ...typed, logprobs: null };
    assert.throws(() => check(moved), /\$\.logprobs/);
    const other = { ...wire, choices: [{ ...wire.choices[0], logprobs: { content: [] } }] };
    assert.throws(() => check(other), /logprobs/);
  });
  test("fails on a missing or different key", () => {
    const { id: _, ...noId } = wire;
    assert.throws(() => check(noId), /response/);
    assert.throws(() => check({ ...wire, id: "r2" }), /response/);
  });
});

/** The JSON bodies of a fixture's upstream response(s). */
const upstreamBodies = (fx) => [].concat(fx.upstreamResponse ?? []).map((r) => r.body);

for (const provider of providers) {
  describe(`fixtures/${provider}`, () => {
    const scenarios = listFixtures(provider);
    test("has scenarios", () => assert.ok(scenarios.length > 0, `no fixtures for ${provider}`));
    for (const scenario of scenarios) {
      const fx = loadFixture(provider, scenario);
      const call = fx.input.call ?? "chat";
      const fn = sdk[CALLS[call]];
      const skip = typeof fn === "function" ? false : `no JS export for \`${call}\` yet (${CALLS[call] ?? "unknown call"})`;
      test(scenario, { skip }, async () => {
        mock.reset();
        mock.replyFixture(provider, scenario);
        const params = structuredClone(fx.input.request);
        const expectedError = fx.expected?.error;
        const nowMs = fx.input.now_ms ?? MOCK_START_MS;

        const outcome = await withEnv(fx.input.env, async () => {
          try {
            const result = await fn(params);
            if (params.stream === true) return { stream: result, ...(await collect(result)) };
            return { response: result };
          } catch (error) {
            return { error, chunks: [] };
          }
        }, { nowMs });

        // -- upstream request(s)
        const label = `${provider}/${scenario}`;
        if (fx.upstreamRequest) {
          assert.ok(mock.requests.length > 0, `${label}: no upstream request (error: ${outcome.error})`);
          if (Array.isArray(fx.upstreamRequest)) {
            // One expected request per upstream call, in order.
            assert.equal(mock.requests.length, fx.upstreamRequest.length, `${label}: number of requests`);
            fx.upstreamRequest.forEach((want, i) => assertUpstreamRequest(mock.requests[i], want, `${label} #${i + 1}`));
          } else {
            // Every attempt (retries included) sends the same request.
            for (const r of mock.requests) assertUpstreamRequest(r, fx.upstreamRequest, label);
          }
        } else {
          assert.equal(mock.requests.length, 0, `${label}: sent a request though the fixture expects none`);
        }

        // -- result
        if (params.stream === true) {
          if (fx.expectedChunks) assertChunks(outcome.chunks, fx.expectedChunks, upstreamEvents(fx.stream), label);
          else assert.equal(outcome.chunks.length, 0, `${label}: chunks before the error`);
          if (expectedError) assertError(outcome.error, expectedError, label);
          else assert.equal(outcome.error, undefined, `${label}: stream error ${outcome.error?.stack}`);
          if (outcome.stream && call === "chat") {
            assert.equal(outcome.stream._hidden_params.custom_llm_provider, provider);
            assert.equal(outcome.stream._hidden_params.attempts, mock.requests.length);
          }
        } else if (expectedError) {
          assertError(outcome.error, expectedError, label);
        } else {
          assert.equal(outcome.error, undefined, `${label}: ${outcome.error?.stack}`);
          const response = withoutHidden(outcome.response);
          if (call === "rerank" && !upstreamBodies(fx).some((b) => b?.id)) {
            // The provider sent no id: one is made from the host's randomness (seeded in the
            // native harness, Math.random here), so only its shape can be checked.
            assert.match(response.id, /^rerank-[0-9a-f]{16}$/, `${label}: generated id`);
            response.id = fx.expected.id;
          }
          if (call === "chat") assertResponse(response, fx.expected, upstreamBodies(fx), label);
          else assert.deepEqual(response, fx.expected, `${label}: response`);
          if (label === "openai/chat_basic") {
            // An OpenAI upstream's answer needing no rewriting is its own JSON (`"refusal": null`).
            assert.deepEqual(response, upstreamBodies(fx)[0], `${label}: the upstream's own body`);
          }
          if (call === "chat") {
            const hidden = outcome.response._hidden_params;
            assert.equal(hidden.custom_llm_provider, provider);
            assert.equal(hidden.attempts, mock.requests.length);
          }
        }
      });
    }
  });
}
