// The README's main command: `scripts/gateway.sh` starts wrangler dev on 127.0.0.1 with the
// built-in config, which answers without any provider key. Also the bundled default config
// under Miniflare (what `wrangler deploy` ships when no config is given).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { startGateway } from "./helpers.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("the bundled default config answers edgellm-demo without any key", async () => {
  const gw = await startGateway();
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "anything", maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "edgellm-demo", messages: [{ role: "user", content: "Hi" }] });
    assert.match(r.choices[0].message.content, /Hello from edgellm/);
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id), ["edgellm-demo"]);
  } finally {
    await gw.close();
  }
});

test("config problems: errors answer 500 config_error (alive, not ready); unknown keys are warnings", async () => {
  // master_key names a secret that is not set: fail closed rather than run an open gateway.
  const broken = await startGateway({
    config: "model_list: []\ngeneral_settings: {master_key: os.environ/NOT_SET_ANYWHERE}\n",
  });
  try {
    const r = await fetch(`${broken.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    assert.equal(r.status, 500);
    const body = await r.json();
    assert.equal(body.error.code, "config_error");
    assert.match(body.error.message, /master_key/);
    assert.equal((await fetch(`${broken.url}/health/liveliness`)).status, 200);
    assert.equal((await fetch(`${broken.url}/health/readiness`)).status, 503);
  } finally {
    await broken.close();
  }
  const warned = await startGateway({
    config:
      "model_list:\n  - model_name: m\n    litellm_params: {model: openai/x, mock_response: hi, max_budget: 5}\n" +
      "litellm_settings: {cache: true}\nsomething_else: 1\n",
  });
  try {
    const ready = await (await fetch(`${warned.url}/health/readiness`)).json();
    assert.equal(ready.status, "healthy");
    assert.equal(ready.config_warnings, 3);
    const text = ready.config_warning_messages.join("\n");
    for (const key of ["max_budget", "cache", "something_else"]) assert.match(text, new RegExp(key));
    const r = await warned.client().chat.completions.create({ model: "m", messages: [{ role: "user", content: "x" }] });
    assert.equal(r.choices[0].message.content, "hi", "warnings do not stop the gateway");
  } finally {
    await warned.close();
  }
});

test("scripts/gateway.sh serves the demo model with wrangler dev", { timeout: 600_000 }, async () => {
  const port = await freePort();
  const inspector = await freePort();
  const child = spawn("bash", ["scripts/gateway.sh", "--port", String(port)], {
    cwd: ROOT,
    detached: true, // its own process group, so that wrangler and workerd stop with it
    env: { ...process.env, INSPECTOR_PORT: String(inspector), EDGELLM_CONFIG: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    // A rebuild can take minutes on a busy machine; wrangler itself answers in a few seconds.
    const deadline = Date.now() + 540_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const r = await fetch(`${base}/health/liveliness`);
        if (r.ok) {
          up = true;
          break;
        }
      } catch {
        // not listening yet
      }
      await sleep(500);
    }
    assert.ok(up, `gateway.sh did not come up:\n${log.slice(-3000)}`);
    assert.match(log, new RegExp(`curl http://127\\.0\\.0\\.1:${port}/v1/chat/completions`), "prints a curl line");
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "edgellm-demo", messages: [{ role: "user", content: "Hello" }] });
    assert.match(r.choices[0].message.content, /Hello from edgellm/);
    const stream = await client.chat.completions.create({ model: "edgellm-demo", messages: [{ role: "user", content: "Hello" }], stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
    assert.equal(text, r.choices[0].message.content);
  } finally {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    const exited = await Promise.race([new Promise((r) => child.once("exit", () => r(true))), sleep(10_000).then(() => false)]);
    if (!exited) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});
