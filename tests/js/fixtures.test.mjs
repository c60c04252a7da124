// Replays the shared fixture corpus (tests/fixtures/<provider>/<scenario>/) through the built
// npm package: the real wasm, the real global fetch (undici) and a local HTTP mock upstream.
// Each scenario checks the exact upstream request (URL, listed headers, JSON body) and the
// user-visible result: the response object, every streamed chunk, or the error class.
//
// Providers: every fixture by default; EDGELLM_FIXTURES=openai,anthropic (a comma list) narrows it.
import assert from "node:assert/strict";
import fs from "node:fs";
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
          if (fx.expectedChunks) assert.deepEqual(outcome.chunks, fx.expectedChunks, `${label}: chunks`);
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
          assert.deepEqual(response, fx.expected, `${label}: response`);
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
