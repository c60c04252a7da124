// The gateway keeps what it learns from the bindings (the loaded config, the virtual-key switch,
// vars it read) per `env` object, and reuses it while the runtime passes the same object
// (workerd passes one `env` for an isolate's life). Here one isolate gets several `env` objects
// through a wrapper around the real entry, chosen per request by an `x-env` header: each must
// answer with its own config, master key and virtual-key layer, in any interleaving, and a
// fresh `env` object per request must work too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Miniflare } from "miniflare";
import { ENTRY, startMockServer, completionBody, user, UPSTREAM_KEY } from "./helpers.mjs";

let mock, mf, url;

const KEY_A = "sk-master-env-a-1111";
const KEY_B = "sk-master-env-b-2222";

// Resolved against `scriptPath`, which sits beside the entry. `b` and `nokeys` are stable
// objects (as the runtime's own `env` is); `fresh` is a new object on every request.
const WRAPPER = `
import entry from "./entry.mjs";
export { SpendCounter } from "./entry.mjs";
let envB, envNoKeys;
export default {
  fetch(request, env, ctx) {
    const which = request.headers.get("x-env");
    if (which === "b") {
      envB ??= { ...env, EDGELLM_CONFIG: env.CONFIG_B, MASTER: env.MASTER_B };
      return entry.fetch(request, envB, ctx);
    }
    if (which === "nokeys") {
      if (!envNoKeys) {
        envNoKeys = { ...env };
        delete envNoKeys.EDGELLM_KV;
        delete envNoKeys.EDGELLM_COUNTERS;
      }
      return entry.fetch(request, envNoKeys, ctx);
    }
    if (which === "fresh") return entry.fetch(request, { ...env, EDGELLM_CONFIG: env.CONFIG_B, MASTER: env.MASTER_B }, ctx);
    return entry.fetch(request, env, ctx);
  },
};
`;

before(async () => {
  mock = await startMockServer({
    routes: {
      "POST /a/v1/chat/completions": { body: completionBody("from a") },
      "POST /b/v1/chat/completions": { body: completionBody("from b") },
    },
  });
  const config = (name, prefix) =>
    `model_list:\n  - model_name: ${name}\n    litellm_params: {model: openai/gpt-4o, api_base: "${mock.url}/${prefix}/v1", api_key: os.environ/UPSTREAM_KEY}\n` +
    "general_settings: {master_key: os.environ/MASTER}\n";
  mf = new Miniflare({
    modules: true,
    script: WRAPPER,
    scriptPath: path.join(path.dirname(ENTRY), "env-cache-test-wrapper.mjs"),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    compatibilityFlags: ["enable_request_signal"],
    kvNamespaces: ["EDGELLM_KV"],
    durableObjects: { EDGELLM_COUNTERS: "SpendCounter" },
    bindings: {
      EDGELLM_CONFIG: config("model-a", "a"),
      CONFIG_B: config("model-b", "b"),
      UPSTREAM_KEY,
      MASTER: KEY_A,
      MASTER_B: KEY_B,
    },
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  url = (await mf.ready).href.replace(/\/$/, "");
});

after(async () => {
  await mf?.dispose();
  await mock?.close();
});

async function chat(which, model, key) {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-env": which },
    body: JSON.stringify({ model, messages: user("hi") }),
  });
  return { status: r.status, text: await r.text() };
}

async function models(which, key) {
  const r = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${key}`, "x-env": which } });
  assert.equal(r.status, 200);
  return (await r.json()).data.map((m) => m.id);
}

test("each env object answers with its own config and master key, in any order", async () => {
  for (const which of ["a", "b", "a", "b", "b", "a", "fresh", "a", "fresh", "b"]) {
    const b = which !== "a";
    assert.deepEqual(await models(which, b ? KEY_B : KEY_A), [b ? "model-b" : "model-a"], which);
    const ok = await chat(which, b ? "model-b" : "model-a", b ? KEY_B : KEY_A);
    assert.equal(ok.status, 200, `${which}: ${ok.text}`);
    assert.equal(JSON.parse(ok.text).choices[0].message.content, b ? "from b" : "from a");
    // The other env's master key and model are unknown here.
    const wrongKey = await chat(which, b ? "model-b" : "model-a", b ? KEY_A : KEY_B);
    assert.equal(wrongKey.status, 401, `${which}: ${wrongKey.text}`);
    const wrongModel = await chat(which, b ? "model-a" : "model-b", b ? KEY_B : KEY_A);
    assert.equal(wrongModel.status, 400, `${which}: ${wrongModel.text}`);
  }
});

test("the virtual-key layer follows the env object's bindings", async () => {
  // With EDGELLM_KV and EDGELLM_COUNTERS bound, a non-master key is looked up as a virtual key
  // (unknown here: 401 from that layer); without them only the master key exists (401 too), but
  // key management answers only where the layer is on.
  const generate = (which) =>
    fetch(`${url}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY_A}`, "content-type": "application/json", "x-env": which },
      body: "{}",
    });
  for (const which of ["a", "nokeys", "a", "nokeys"]) {
    const r = await generate(which);
    const text = await r.text();
    if (which === "a") assert.equal(r.status, 200, text);
    else assert.equal(r.status, 404, text);
  }
});
