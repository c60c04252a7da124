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
