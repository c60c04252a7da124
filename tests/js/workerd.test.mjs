// The package in Cloudflare Workers: a worker that does `import { completion } from "edgellm"`
// is bundled by wrangler (which picks the `workerd` export condition and turns the .wasm
// import into a WebAssembly.Module), then run in workerd through Miniflare against the mock
// upstream. Keys come from the Worker's env via setEnv(env).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { startMockServer } from "../mock/server.mjs";
import { bundleInWorkerd } from "./workerd-bundle.mjs";

const WORKER = `
import { completion, setEnv, version, APIError } from "edgellm";
export default {
  async fetch(request, env) {
    setEnv(env);
    const params = await request.json();
    try {
      const r = await completion(params);
      if (!params.stream) return Response.json({ version: version(), response: r });
      const enc = new TextEncoder();
      return new Response(r.pipeThrough(new TransformStream({
        transform(chunk, out) { out.enqueue(enc.encode(JSON.stringify(chunk) + "\\n")); },
      })), { headers: { "content-type": "application/x-ndjson" } });
    } catch (e) {
      return Response.json({ name: e.name, isAPIError: e instanceof APIError, status: e.status, message: e.message }, { status: 500 });
    }
  },
};
`;

let dir;
let mock;
let mf;
let dispose;
before(async () => {
  mock = await startMockServer();
  ({ mf, dir, dispose } = await bundleInWorkerd(WORKER, "edgellm-pkg-test", { OPENAI_API_KEY: "sk-test-worker", OPENAI_API_BASE: `${mock.url}/v1` }));
});
after(async () => {
  await dispose?.();
  await mock?.close();
});

const call = (params) =>
  mf.dispatchFetch("http://worker/", { method: "POST", body: JSON.stringify(params) });

test("the bundle used the workerd entry (wasm imported as a module)", () => {
  const files = fs.readdirSync(path.join(dir, "dist"));
  assert.ok(files.some((f) => f.endsWith(".wasm")), files.join(","));
  const js = fs.readFileSync(path.join(dir, "dist", "index.js"), "utf8");
  assert.match(js, /initSync\(\{ module/);
});

test("completion with keys from the Worker env", async () => {
  mock.reset();
  mock.replyFixture("openai", "chat_basic");
  const res = await call({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hello!" }] });
  const out = await res.json();
  assert.equal(res.status, 200, JSON.stringify(out));
  assert.equal(out.response.choices[0].message.content, "Hello! How can I assist you today?");
  assert.equal(mock.requests[0].headers.authorization, "Bearer sk-test-worker");
  assert.equal(mock.requests[0].path, "/v1/chat/completions");
});

test("streaming inside workerd", async () => {
  mock.reset();
  mock.replyFixture("openai", "stream_basic");
  const res = await call({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hello!" }], stream: true });
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.map((c) => c.choices[0]?.delta?.content ?? "").join(""), "Hello! How can I help?");
});

test("error classes inside workerd", async () => {
  mock.reset();
  mock.reply({ status: 429, body: { error: { message: "slow down", type: "rate_limit_error" } } });
  const res = await call({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hello!" }] });
  assert.deepEqual(await res.json(), { name: "RateLimitError", isAPIError: true, status: 429, message: "slow down" });
});
