// Streaming through the npm package: chunk objects from a ReadableStream that is also
// async-iterable, cancellation that aborts the HTTP request (the mock sees the connection
// closed), mid-stream failures and idle timeouts as error classes.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { loadFixture, startMockServer } from "../mock/server.mjs";
import { ensureAsyncIterable } from "../../pkg/async-iter.js";
import { collect, sdk, withEnv } from "./helpers.mjs";

const { completion, APIConnectionError, APITimeoutError, RateLimitError, ServiceUnavailableError } = sdk;

const messages = [{ role: "user", content: "Hello" }];
const fixture = loadFixture("openai", "stream_basic");
// What the SDK yields for an OpenAI upstream: each chunk as the server sent it (as the official
// client does, `"logprobs": null` and all), without the usage-only chunk nobody asked for.
const sentChunks = fixture.stream
  .toString()
  .split("\n")
  .filter((l) => l.startsWith("data: {"))
  .map((l) => JSON.parse(l.slice(6)))
  .filter((c) => c.choices.length > 0);

let mock;
before(async () => {
  mock = await startMockServer();
});
after(async () => {
  await mock.close();
});
beforeEach(() => mock.reset());

const params = (extra = {}) => ({
  model: "openai/gpt-4o-mini",
  messages,
  stream: true,
  api_key: "sk-test-stream",
  api_base: `${mock.url}/v1`,
  ...extra,
});

/** Resolves to whether the client closed the request early, or "still open" after `ms`. */
function closedWithin(record, ms = 3000) {
  return Promise.race([record.closed, new Promise((r) => setTimeout(() => r("still open"), ms))]);
}

// An SSE stream that sends `n` chunks and then stays open (never sends [DONE]).
function endless(n = 3) {
  let text = "";
  for (let i = 0; i < n; i++) {
    const chunk = { id: "c1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: `w${i} ` }, finish_reason: null }] };
    text += `data: ${JSON.stringify(chunk)}\n\n`;
  }
  return { headers: { "content-type": "text/event-stream" }, stream: text, chunkSize: 64, holdOpen: true };
}

describe("stream", () => {
  test("yields the provider's chunks as objects; ReadableStream + for await", async () => {
    mock.replyFixture("openai", "stream_basic", { chunkSize: 17 });
    const stream = await completion(params());
    assert.ok(stream instanceof ReadableStream);
    assert.equal(typeof stream[Symbol.asyncIterator], "function");
    assert.equal(stream._hidden_params.custom_llm_provider, "openai");
    const { chunks, error } = await collect(stream);
    assert.equal(error, undefined);
    assert.deepEqual(chunks, sentChunks);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join(""), "Hello! How can I help?");
    assert.equal(await closedWithin(mock.requests[0]), false, "completed normally");
    assert.deepEqual(mock.requests[0].json.stream_options, { include_usage: true });
  });

  test("include_usage shows the usage chunk", async () => {
    mock.replyFixture("openai", "stream_basic");
    const { chunks } = await collect(await completion(params({ stream_options: { include_usage: true } })));
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.total_tokens, 16);
  });

  test("_hidden_params.response_cost is set when the stream ends", async () => {
    mock.replyFixture("openai", "stream_basic");
    const stream = await completion(params());
    assert.equal(stream._hidden_params.response_cost, null, "unknown before the end");
    await collect(stream);
    // gpt-4o-mini: $0.15 / $0.60 per 1M tokens; the stream's usage: 9 prompt + 7 completion.
    assert.equal(stream._hidden_params.response_cost, (9 * 150_000 + 7 * 600_000) / 1e12);
  });

  test("streamChunkBuilder rebuilds the response from the chunks", async () => {
    mock.replyFixture("openai", "stream_basic");
    const { chunks } = await collect(await completion(params({ stream_options: { include_usage: true } })));
    const built = sdk.streamChunkBuilder(chunks);
    assert.equal(built.object, "chat.completion");
    assert.equal(built.choices[0].message.content, "Hello! How can I help?");
    assert.equal(built.choices[0].finish_reason, "stop");
    assert.equal(built.usage.total_tokens, 16);
    assert.throws(() => sdk.streamChunkBuilder("nope"), sdk.BadRequestError);
    assert.throws(() => sdk.streamChunkBuilder([{ choices: "x" }]), sdk.BadRequestError);
  });

  test("reading with getReader() works as well", async () => {
    mock.replyFixture("openai", "stream_basic", { chunkSize: 5, chunkDelayMs: 0 });
    const reader = (await completion(params())).getReader();
    const got = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got.push(value);
    }
    assert.deepEqual(got, sentChunks);
  });

  test("break out of for await aborts the HTTP request", async () => {
    mock.reply(endless());
    const stream = await completion(params());
    let first;
    for await (const c of stream) {
      first = c;
      break;
    }
    assert.equal(first.choices[0].delta.content, "w0 ");
    assert.equal(await closedWithin(mock.requests[0]), true, "the mock saw the connection closed");
  });

  test("stream.cancel() aborts the HTTP request", async () => {
    mock.reply(endless());
    const stream = await completion(params());
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(await closedWithin(mock.requests[0]), true);
  });

  test("cancel while a read is waiting for the network", async () => {
    mock.reply({ ...endless(0) });
    const stream = await completion(params());
    const reader = stream.getReader();
    const pending = reader.read();
    await new Promise((r) => setTimeout(r, 50));
    await reader.cancel();
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.equal(await closedWithin(mock.requests[0]), true);
  });

  test("without a native async iterator (Safari) the added one also aborts on break", async () => {
    mock.reply(endless());
    const stream = await completion(params());
    // What Safari's ReadableStream looks like: no Symbol.asyncIterator.
    Object.defineProperty(stream, Symbol.asyncIterator, { value: undefined, configurable: true, writable: true });
    assert.equal(ensureAsyncIterable(stream), stream);
    assert.equal(typeof stream[Symbol.asyncIterator], "function", "the SDK added an iterator");
    const seen = [];
    for await (const c of stream) {
      seen.push(c.choices[0].delta.content);
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ["w0 ", "w1 "]);
    assert.equal(await closedWithin(mock.requests[0]), true);
  });

  test("an error status before the stream rejects completion() with the class", async () => {
    mock.reply({ status: 429, headers: { "retry-after": "3" }, body: { error: { message: "slow", type: "rate_limit_error" } } });
    const err = await completion(params()).catch((e) => e);
    assert.ok(err instanceof RateLimitError);
    assert.equal(err.retryAfterMs, 3000);
  });

  test("a connection cut mid-stream delivers the chunks so far, then APIConnectionError", async () => {
    const cutAt = fixture.stream.indexOf("data:", 300);
    mock.replyFixture("openai", "stream_basic", { cutAfter: cutAt, chunkSize: 40 });
    const { chunks, error } = await collect(await completion(params()));
    assert.ok(chunks.length >= 1 && chunks.length < sentChunks.length, `${chunks.length} chunks`);
    assert.deepEqual(chunks, sentChunks.slice(0, chunks.length));
    assert.ok(error instanceof APIConnectionError, `${error?.name}: ${error?.message}`);
  });

  test("an in-stream error event is thrown after the chunks before it", async () => {
    const f = loadFixture("anthropic", "stream_error_overloaded");
    mock.replyFixture("anthropic", "stream_error_overloaded");
    const { chunks, error } = await withEnv({}, async () => {
      return collect(await completion({ ...f.input.request, api_key: "sk-ant-test", api_base: mock.url }));
    }, { nowMs: 1_700_000_000_000 });
    assert.deepEqual(chunks, f.expectedChunks ?? []);
    assert.ok(error instanceof ServiceUnavailableError, `${error?.name}`);
  });

  test("no chunk within `timeout` mid-stream → APITimeoutError and the request is aborted", async () => {
    mock.reply(endless(2));
    const stream = await completion(params({ timeout: 0.3 }));
    const t0 = Date.now();
    const { chunks, error } = await collect(stream);
    assert.equal(chunks.length, 2);
    assert.ok(error instanceof APITimeoutError, `${error?.name}: ${error?.message}`);
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(await closedWithin(mock.requests[0]), true);
  });

  test("a slow consumer does not trip the idle timeout", async () => {
    mock.replyFixture("openai", "stream_basic", { chunkDelayMs: 0 });
    const stream = await completion(params({ timeout: 0.2 }));
    const got = [];
    for await (const c of stream) {
      got.push(c);
      await new Promise((r) => setTimeout(r, 120));
    }
    assert.deepEqual(got, sentChunks);
  });

  test("no headers within `timeout` → completion() rejects with APITimeoutError", async () => {
    mock.reply({ hang: true });
    const err = await completion(params({ timeout: 0.2 })).catch((e) => e);
    assert.ok(err instanceof APITimeoutError);
    assert.equal(await closedWithin(mock.requests[0]), true);
  });
});
