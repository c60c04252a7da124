// /openapi.json on the running Worker: served as a static asset without a key, the committed
// document (worker/assets/openapi.json, checked against the Rust types by
// `cargo test -p edgellm-worker --test openapi`), and every operation it lists is answered by
// the Worker with a documented status and content type.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ASSETS, MASTER_KEY, SPEC, operations, startDocsGateway } from "./docs-helpers.mjs";

let gw;
before(async () => {
  gw = await startDocsGateway();
});
after(() => gw?.close());

test("GET /openapi.json serves the committed OpenAPI 3.1 document without a key", async () => {
  const r = await fetch(`${gw.url}/openapi.json`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^application\/json/);
  const text = await r.text();
  assert.equal(text, fs.readFileSync(path.join(ASSETS, "openapi.json"), "utf8"));
  const doc = JSON.parse(text);
  assert.equal(doc.openapi, "3.1.0");
  for (const p of ["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/health/readiness", "/key/generate", "/spend/logs", "/user/new", "/team/new"]) {
    assert.ok(doc.paths[p], `${p} is documented`);
  }
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ["api-key", "bearer", "x-api-key"]);
});

function documentedResponse(op, status) {
  const r = op.responses[String(status)] ?? op.responses.default;
  if (!r) return null;
  if (r.$ref) return SPEC.components.responses[r.$ref.split("/").pop()];
  return r;
}

test("every documented operation is answered with a documented status and content type", async () => {
  const ops = operations();
  assert.ok(ops.length >= 45, `only ${ops.length} operations`);
  for (const { method, path: p, op } of ops) {
    const url = gw.url + p.replace("{model}", "edgellm-demo");
    const body = op.requestBody ? "{}" : undefined;
    const headers = { authorization: `Bearer ${MASTER_KEY}` };
    if (body) headers["content-type"] = "application/json";
    const r = await fetch(url, { method, headers, body }).catch((e) => {
      throw new Error(`${method} ${p}: ${e.cause ?? e}`);
    });
    const text = await r.text();
    const what = `${method} ${p} → ${r.status} ${text.slice(0, 200)}`;
    assert.ok(r.status < 500, what);
    assert.notEqual(r.status, 405, what);
    if (r.status === 404) assert.doesNotMatch(text, /Invalid URL/, what);
    const doc = documentedResponse(op, r.status);
    assert.ok(doc, `${what}: status not documented`);
    const type = (r.headers.get("content-type") ?? "").split(";")[0].trim();
    assert.ok(Object.keys(doc.content ?? {}).includes(type), `${what}: content-type ${type} not documented`);
    if (type === "application/json") JSON.parse(text);
    if (!op.security || op.security.length) {
      // Operations that need a key refuse a request without one (sent without a body: the
      // refusal does not read it, and workerd then closes the connection).
      const anon = await fetch(url, { method });
      await anon.arrayBuffer();
      assert.equal(anon.status, 401, `${method} ${p} without a key`);
    }
    assert.ok(r.headers.get("x-request-id"), `${what}: no x-request-id`);
  }
});

test("a documented request is answered with the documented shape", async () => {
  const r = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "edgellm-demo", messages: [{ role: "user", content: "Hi" }] }),
  });
  assert.equal(r.status, 200);
  const j = await r.json();
  const schema = SPEC.components.schemas.ChatResponse;
  for (const field of schema.required) assert.ok(field in j, `ChatResponse.${field}`);
  assert.equal(j.choices[0].message.content, "Hello from the docs test");
});
