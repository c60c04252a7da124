// What one non-stream `completion()` hands to `fetch` and does per call (bench/FINDINGS.md, "SDK
// per-call overhead"): no AbortController without a timeout (cancelling a body aborts its fetch),
// headers as a plain object (a `Headers` only when one would refuse them, for its error),
// `process.env` read on every call, and `_hidden_params` as before (written as text now). In
// Node, `redirect: "error"` (undici then neither copies the request nor tees its body), with a
// redirect still followed by a second send.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { chatMessages as messages, okChatBody as okBody, openaiParams, sdk, withEnv } from "./helpers.mjs";

const { completion, BadRequestError } = sdk;


let mock;
before(async () => {
  mock = await startMockServer();
});
after(async () => {
  await mock.close();
});
beforeEach(() => mock.reset());

const openai = (extra = {}) => openaiParams(mock.url, extra);

/** Runs `fn` with `fetch` wrapped so that each call's `init` is recorded; returns them. */
async function recordingInits(fn) {
  const original = globalThis.fetch;
  const inits = [];
  globalThis.fetch = (input, init) => {
    // A copy: the init may be changed afterwards (and sent again, for a redirect).
    inits.push({ ...init });
    return original(input, init);
  };
  try {
    await fn();
  } finally {
    globalThis.fetch = original;
  }
  return inits;
}

describe("what fetch gets", () => {
  test("without a timeout: no signal, headers as a plain object", async () => {
    mock.reply({ body: okBody });
    const inits = await recordingInits(() => completion(openai({ extra_headers: { "x-trace": "a \"b\" \\ c\td" } })));
    assert.equal(inits.length, 1);
    assert.equal(inits[0].signal, undefined);
    // A plain object (null-prototype, so a header named `__proto__` stays a header), not a `Headers`.
    assert.ok(!(inits[0].headers instanceof Headers));
    assert.deepEqual({ ...inits[0].headers }, {
      "content-type": "application/json",
      authorization: "Bearer sk-test-1",
      "x-trace": "a \"b\" \\ c\td",
    });
    // What the upstream saw.
    assert.equal(mock.requests[0].headers["x-trace"], "a \"b\" \\ c\td");
    assert.equal(mock.requests[0].headers.authorization, "Bearer sk-test-1");
  });

  test("with a timeout: an AbortSignal", async () => {
    mock.reply({ body: okBody });
    const inits = await recordingInits(() => completion(openai({ timeout: 30 })));
    assert.ok(inits[0].signal instanceof AbortSignal);
    assert.equal(inits[0].signal.aborted, false);
  });

  test("a header fetch refuses is still a BadRequestError naming it, and nothing is sent", async () => {
    await assert.rejects(
      completion(openai({ api_key: "sk-bad\nkey" })),
      (e) => e instanceof BadRequestError && /header/i.test(e.message),
    );
    assert.equal(mock.requests.length, 0);
  });
  // A stream without a timeout still aborts its request when the loop is left: stream.test.mjs.

  test("in Node, redirect: \"error\" (undici then skips copying the request and tee-ing its body)", async () => {
    mock.reply({ body: okBody });
    const inits = await recordingInits(() => completion(openai()));
    assert.equal(inits.length, 1);
    assert.equal(inits[0].redirect, "error");
  });

  // Before redirect: "error", a 307/308 failed in Node 20 ("detached ArrayBuffer": undici cannot
  // send a Uint8Array body twice); the second send's body is a Blob, which it can.
  test("a 307 is followed: sent again without redirect: \"error\", the method and body kept", async () => {
    const location = `${mock.url}/moved/v1/chat/completions`;
    // The original URL answers 307 twice (the refused redirect, then the one fetch follows).
    mock.reply({ status: 307, headers: { location } }, { status: 307, headers: { location } }, { body: okBody });
    let r;
    const inits = await recordingInits(async () => {
      r = await completion(openai({ max_tokens: 7 }));
    });
    assert.equal(r.choices[0].message.content, "Hi!");
    assert.deepEqual(inits.map((i) => i.redirect), ["error", undefined]);
    assert.deepEqual(mock.requests.slice(0, 3).map((q) => q.path), ["/v1/chat/completions", "/v1/chat/completions", "/moved/v1/chat/completions"]);
    // A 307 keeps the method and body.
    assert.equal(mock.requests[2].method, "POST");
    assert.equal(mock.requests[2].json.max_tokens, 7);
    assert.equal(mock.requests[2].headers.authorization, "Bearer sk-test-1");
  });

  test("a redirect answer without a location is the status's error, as without redirect: \"error\"", async () => {
    mock.reply({ status: 302, body: "moved" }, { status: 302, body: "moved" });
    const e = await completion(openai()).catch((err) => err);
    assert.equal(e.status, 302, `${e.name}: ${e.message}`);
    assert.equal(mock.requests.length, 2);
  });
});

describe("per call", () => {
  test("process.env is read on every call, also after it was replaced", async () => {
    const ask = () => completion({ model: "openai/gpt-4o", messages, api_base: `${mock.url}/v1` });
    await withEnv({ OPENAI_API_KEY: "sk-env-1" }, async () => {
      mock.reply({ body: okBody });
      await ask();
      process.env.OPENAI_API_KEY = "sk-env-2";
      mock.reply({ body: okBody });
      await ask();
      const saved = process.env;
      process.env = { ...saved, OPENAI_API_KEY: "sk-env-3" };
      try {
        mock.reply({ body: okBody });
        await ask();
      } finally {
        process.env = saved;
      }
    });
    assert.deepEqual(
      mock.requests.map((r) => r.headers.authorization),
      ["Bearer sk-env-1", "Bearer sk-env-2", "Bearer sk-env-3"],
    );
  });

  test("_hidden_params: the same keys, in sorted order, and values", async () => {
    mock.reply({ body: okBody });
    const r = await completion(openai());
    assert.deepEqual(Object.keys(r._hidden_params), ["api_base", "attempts", "custom_llm_provider", "model", "response_cost"]);
    assert.equal(r._hidden_params.api_base, `${mock.url}/v1`);
    assert.equal(r._hidden_params.attempts, 1);
    assert.equal(r._hidden_params.custom_llm_provider, "openai");
    assert.equal(r._hidden_params.model, "gpt-4o");
    assert.ok(r._hidden_params.response_cost > 0);
    // A model without a price: null, not absent.
    mock.reply({ body: { ...okBody, model: "no-such-model-xyz" } });
    const unpriced = await completion(openai({ model: "openai/no-such-model-xyz" }));
    assert.equal(unpriced._hidden_params.response_cost, null);
    assert.ok("response_cost" in unpriced._hidden_params);
  });

  test("per-call callbacks are still read (and only then is the params object handed to wasm)", async () => {
    mock.reply({ body: okBody });
    const seen = [];
    const r = await completion(openai({ success_callback: [(kwargs, resp) => seen.push([kwargs.call_type, resp.id])] }));
    assert.equal(r.id, "chatcmpl-1");
    assert.deepEqual(seen, [["completion", "chatcmpl-1"]]);
    // Not stringifiable (a cycle): the same error as before, and failure callbacks still fire.
    const failures = [];
    const cyclic = openai({ failure_callback: [(kwargs, err) => failures.push(err.name)] });
    cyclic.self = cyclic;
    await assert.rejects(completion(cyclic), BadRequestError);
    assert.deepEqual(failures, ["BadRequestError"]);
    await assert.rejects(completion(null), BadRequestError);
    await assert.rejects(completion("gpt-4o"), BadRequestError);
  });
});
