// The quick start (cli/edgellm-gateway.mjs, `npx edgellm-gateway`): its argument and key
// checks, and one real start with `--model` under wrangler dev.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import {
  configWarnings,
  deploymentsOf,
  dotenvLine,
  missingKeys,
  modelConfig,
  parseArgs,
  parseEnvFile,
  providerOf,
} from "../../cli/config.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

test("arguments", () => {
  assert.deepEqual(parseArgs([]), { models: [], config: null, port: 4000, host: "127.0.0.1", envFiles: [], help: false });
  const a = parseArgs(["--model", "groq/llama-3.1-8b-instant", "--model=openai/gpt-4o", "--port", "8080", "--host=0.0.0.0", "--env-file", ".env"]);
  assert.deepEqual(a.models, ["groq/llama-3.1-8b-instant", "openai/gpt-4o"]);
  assert.equal(a.port, 8080);
  assert.equal(a.host, "0.0.0.0");
  assert.deepEqual(a.envFiles, [".env"]);
  assert.throws(() => parseArgs(["--model", "x", "--config", "c.yaml"]), /not both/);
  assert.throws(() => parseArgs(["--port", "http"]), /port number/);
  assert.throws(() => parseArgs(["--model"]), /needs a value/);
  assert.throws(() => parseArgs(["--bogus"]), /unknown argument/);
  assert.equal(parseArgs(["-h"]).help, true);
  assert.deepEqual(JSON.parse(modelConfig(["anthropic/claude-3-5-haiku-20241022"])), {
    model_list: [{ model_name: "anthropic/claude-3-5-haiku-20241022", litellm_params: { model: "anthropic/claude-3-5-haiku-20241022" } }],
  });
});

test("missing provider keys are named, from the registry's own request builders", () => {
  assert.equal(providerOf("anthropic/claude-3-5-sonnet-20241022"), "anthropic");
  assert.equal(providerOf("gpt-4o-mini"), "openai");
  assert.equal(providerOf("claude-3-5-haiku-latest"), "anthropic");
  assert.equal(providerOf("nobody/knows"), null);
  const m = missingKeys("anthropic/claude-3-5-sonnet-20241022", {});
  assert.deepEqual(m.sets, [["ANTHROPIC_API_KEY"]]);
  assert.equal(missingKeys("anthropic/claude-3-5-sonnet-20241022", { ANTHROPIC_API_KEY: "sk-ant-x" }), null);
  assert.equal(missingKeys("ollama/llama3", {}), null, "ollama needs no key");
  const bedrock = missingKeys("bedrock/anthropic.claude-3-haiku-20240307-v1:0", { AWS_ACCESS_KEY_ID: "AKIA" });
  assert.ok(bedrock.sets.some((s) => s.includes("AWS_SECRET_ACCESS_KEY")));
  assert.equal(missingKeys("bedrock/x", { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" }), null);
});

test("config files: deployments, mocks, os.environ references", () => {
  const yaml = `# a comment naming os.environ/IN_A_COMMENT
model_list:
  - model_name: a
    litellm_params:
      model: anthropic/claude-3-5-haiku-20241022
  - model_name: b
    litellm_params: {model: groq/llama-3.1-8b-instant, api_key: os.environ/MY_GROQ}
  - model_name: c
    litellm_params:
      model: openai/gpt-4o
      mock_response: "hi"
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
`;
  assert.deepEqual(deploymentsOf(yaml).map((d) => [d.model, d.apiKey ?? null, d.mock]), [
    ["anthropic/claude-3-5-haiku-20241022", null, false],
    ["groq/llama-3.1-8b-instant", "os.environ/MY_GROQ", false],
    ["openai/gpt-4o", null, true],
  ]);
  const w = configWarnings(yaml, { LITELLM_MASTER_KEY: "sk-m" });
  assert.equal(w.length, 2, w.join("\n"));
  assert.match(w.join("\n"), /os\.environ\/MY_GROQ/);
  assert.match(w.join("\n"), /ANTHROPIC_API_KEY/);
  assert.deepEqual(configWarnings(yaml, { LITELLM_MASTER_KEY: "k", MY_GROQ: "g", ANTHROPIC_API_KEY: "a" }), []);
  assert.deepEqual(parseEnvFile("# c\nexport A=1\nB='two words'\nC=\"x\"\n"), { A: "1", B: "two words", C: "x" });
  assert.equal(dotenvLine("X", 'say "hi"'), `X='say "hi"'`);
  assert.equal(dotenvLine("X", "it's \"x\""), "X=`it's \"x\"`");
  assert.throws(() => dotenvLine("X", "' ` \""), /quote/);
});

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

test("--model starts the gateway, prints the URL and a curl line, and names the missing key", { timeout: 600_000 }, async () => {
  const port = await freePort();
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(ANTHROPIC_|LITELLM_|EDGELLM_)/.test(k)) delete env[k];
  const child = spawn(process.execPath, ["cli/edgellm-gateway.mjs", "--model", "anthropic/claude-3-5-sonnet-20241022", "--port", String(port)], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 540_000;
    while (!log.includes("edgellm gateway is up") && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(log, /edgellm gateway is up/, log.slice(-3000));
    assert.match(log, /warning: anthropic\/claude-3-5-sonnet-20241022 \(Anthropic\) needs ANTHROPIC_API_KEY/);
    assert.ok(log.indexOf("needs ANTHROPIC_API_KEY") < log.indexOf("Ready on"), "named before the gateway starts");
    assert.ok(log.includes(`URL:     ${base}`), log);
    assert.ok(log.includes(`curl ${base}/v1/chat/completions`), log);
    assert.ok(log.includes(`${base}/docs`), log);
    const models = await (await fetch(`${base}/v1/models`)).json();
    assert.deepEqual(models.data.map((m) => m.id), ["anthropic/claude-3-5-sonnet-20241022"]);
    const r = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "anthropic/claude-3-5-sonnet-20241022", messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(r.status, 401);
    assert.match((await r.json()).error.message, /ANTHROPIC_API_KEY/);
    const docs = await fetch(`${base}/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
  } finally {
    process.kill(-child.pid, "SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
  }
  await assert.rejects(fetch(`${base}/health/liveliness`), "stopped with the command");
});
