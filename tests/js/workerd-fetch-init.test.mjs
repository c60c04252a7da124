// What `fetch` gets from the package in workerd (src/wasm/fetch.rs). workerd's own `fetch` is
// given one `Headers` kept per (URL, headers) pair and a view of wasm memory as the body (it
// copies both when called). A wrapper around `fetch` must not see either: it gets a fresh plain
// object and its own copy of the body each request, so a wrapper that changes the headers it was
// given, or reads the body later, affects no other request. Bundled with wrangler and run in
// workerd through Miniflare, as tests/js/workerd.test.mjs does.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { bundleInWorkerd } from "./workerd-bundle.mjs";

// `?wrap=1` wraps `fetch` for the call: the wrapper records what it was given, adds a header to
// the init's headers object, and reads the body only after the call returned and the wasm side
// ran other work (a second completion).
const WORKER = `
import { completion, setEnv } from "edgellm";
const native = globalThis.fetch;
export default {
  async fetch(request, env) {
    setEnv(env);
    const wrap = new URL(request.url).searchParams.get("wrap") === "1";
    const params = await request.json();
    const seen = [];
    const later = [];
    if (wrap) {
      globalThis.fetch = (url, init) => {
        seen.push({ plain: !(init.headers instanceof Headers), proto: Object.getPrototypeOf(init.headers) });
        init.headers["x-added-by-wrapper"] = "1";
        const body = init.body;
        later.push(() => new TextDecoder().decode(body));
        return native(url, init);
      };
    }
    try {
      const first = await completion(params);
      const second = await completion({ ...params, messages: [{ role: "user", content: "another, longer message that reuses the memory" }] });
      return Response.json({
        first: first.choices[0].message.content,
        second: second.choices[0].message.content,
        seen: seen.map((s) => ({ plain: s.plain, nullProto: s.proto === null })),
        bodies: later.map((f) => f()),
      });
    } finally {
      globalThis.fetch = native;
    }
  },
};
`;

let mock;
let mf;
let dispose;
before(async () => {
  mock = await startMockServer();
  ({ mf, dispose } = await bundleInWorkerd(WORKER, "edgellm-pkg-init-test", { OPENAI_API_KEY: "sk-test-worker", OPENAI_API_BASE: `${mock.url}/v1` }));
});
after(async () => {
  await dispose?.();
  await mock?.close();
});

const params = { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hello!" }] };

async function call(wrap) {
  mock.reset();
  mock.replyFixture("openai", "chat_basic");
  mock.replyFixture("openai", "chat_basic");
  const res = await mf.dispatchFetch(`http://worker/${wrap ? "?wrap=1" : ""}`, { method: "POST", body: JSON.stringify(params) });
  const out = await res.json();
  assert.equal(res.status, 200, JSON.stringify(out));
  assert.equal(out.first, "Hello! How can I assist you today?");
  assert.equal(mock.requests.length, 2);
  return out;
}

test("workerd's own fetch: the requests carry the key and the body, twice", async () => {
  for (let i = 0; i < 2; i++) {
    const out = await call(false);
    assert.deepEqual(out.seen, []);
    for (const r of mock.requests) {
      assert.equal(r.headers.authorization, "Bearer sk-test-worker");
      assert.equal(r.headers["content-type"], "application/json");
      assert.equal(r.headers["x-added-by-wrapper"], undefined);
    }
    assert.deepEqual(mock.requests[0].json.messages, params.messages);
  }
});

test("a wrapper gets a fresh plain object and its own body copy each request", async () => {
  const out = await call(true);
  assert.deepEqual(out.seen, [{ plain: true, nullProto: true }, { plain: true, nullProto: true }]);
  // What the wrapper added went with its own request only (it adds to each one).
  assert.equal(mock.requests[0].headers["x-added-by-wrapper"], "1");
  assert.equal(mock.requests[0].headers.authorization, "Bearer sk-test-worker");
  // Read after both calls: each still holds what its request sent.
  assert.equal(out.bodies.length, 2);
  assert.deepEqual(out.bodies.map((b) => JSON.parse(b).messages[0].content), [
    "Hello!",
    "another, longer message that reuses the memory",
  ]);
  for (const [i, body] of out.bodies.entries()) assert.deepEqual(JSON.parse(body), mock.requests[i].json);
  // The next unwrapped call does not carry the header the wrapper added to its objects.
  await call(false);
  for (const r of mock.requests) assert.equal(r.headers["x-added-by-wrapper"], undefined);
});
