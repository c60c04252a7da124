#!/usr/bin/env node
// The gateway quick start, LiteLLM's `litellm --model …` for edgellm:
//
//   npx edgellm-gateway --model anthropic/claude-3-5-sonnet-20241022
//   npx edgellm-gateway --config config.yaml --port 8080
//
// Builds the Worker when worker/build is missing, then serves it with `wrangler dev` (local
// workerd, no Cloudflare account, no network but the providers'), the config handed over as the
// EDGELLM_CONFIG var through a private temporary env file, and prints the URL, a curl line and
// the API docs page once the gateway answers. Missing provider keys are named before it starts.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDocsAssets } from "../scripts/docs-assets.mjs";
import {
  USAGE,
  configWarnings,
  describeMissing,
  dotenvLine,
  missingKeys,
  modelConfig,
  parseArgs,
  parseEnvFile,
  providerOf,
  workerEnv,
} from "./config.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const say = (msg) => console.log(`edgellm-gateway: ${msg}`);
const fail = (msg, code = 1) => {
  console.error(`edgellm-gateway: ${msg}`);
  process.exit(code);
};

function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The config, a description of where it came from, and the model to show in the curl line. */
function loadConfig(args) {
  if (args.models.length) return { text: modelConfig(args.models), source: `--model ${args.models.join(" ")}`, model: args.models[0] };
  const file = args.config ? path.resolve(args.config) : path.join(ROOT, "worker", "config.default.yaml");
  if (!fs.existsSync(file)) fail(`no config file at ${file}`, 2);
  const text = fs.readFileSync(file, "utf8");
  const first = /model_name["']?\s*:\s*["']?([^"',}\s#]+)/.exec(text);
  const source = args.config ? file : "the built-in demo config";
  return { text, source, model: first ? first[1] : "edgellm-demo" };
}

function warningsFor(args, config, env) {
  if (!args.models.length) return configWarnings(config.text, env);
  const out = [];
  for (const m of args.models) {
    if (!providerOf(m)) {
      out.push(`${m}: no known provider; write it as provider/model (docs/providers.md lists the providers).`);
      continue;
    }
    const missing = missingKeys(m, env);
    if (missing) out.push(describeMissing(m, missing));
  }
  return out;
}

/**
 * The config text as the env file can carry it: YAML comment lines are dropped when they hold
 * the only instance of a quote character (dotenv has no escapes; see `dotenvLine`).
 */
function carriable(text) {
  const quotes = ["'", "`", '"'];
  if (quotes.some((q) => !text.includes(q))) return text;
  return text
    .split(/\r?\n/)
    .filter((l) => !/^\s*#/.test(l))
    .join("\n");
}

function ensureBuilt() {
  if (fs.existsSync(path.join(ROOT, "worker", "build", "edgellm_worker_bg.wasm"))) return;
  say("worker/build is missing: building the Worker (bash scripts/build-worker.sh, a few minutes the first time)");
  const r = spawnSync("bash", ["scripts/build-worker.sh"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) fail("the Worker build failed; see above");
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    fail(`${e.message}\n\n${USAGE}`, 2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");
  if (!fs.existsSync(wrangler)) fail("node_modules is missing: run `npm ci` in the repository first");

  const env = { ...process.env };
  for (const f of args.envFiles) {
    if (!fs.existsSync(f)) fail(`no env file at ${f}`, 2);
    Object.assign(env, parseEnvFile(fs.readFileSync(f, "utf8")));
  }
  const config = loadConfig(args);
  const warnings = warningsFor(args, config, env);
  const keyed = Boolean(env.LITELLM_MASTER_KEY) || /^\s*master_key\s*:/m.test(config.text) || /"master_key"/.test(config.text);
  if (!keyed && !["127.0.0.1", "localhost", "::1"].includes(args.host)) {
    warnings.push(`listening on ${args.host} without a master key: anyone who can reach it can spend your provider keys (set LITELLM_MASTER_KEY).`);
  }
  for (const w of warnings) console.error(`edgellm-gateway: warning: ${w}`);

  ensureBuilt();
  ensureDocsAssets(ROOT);
  const port = args.port || (await freePort(args.host));
  const inspector = await freePort("127.0.0.1");

  // Keys and the config go through a private file, never the command line.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edgellm-gateway-"));
  const envFile = path.join(tmp, "worker.env");
  const vars = { ...workerEnv(config.text, env), EDGELLM_CONFIG: carriable(config.text) };
  let lines;
  try {
    lines = Object.entries(vars).map(([k, v]) => dotenvLine(k, String(v)));
  } catch (e) {
    fail(e.message);
  }
  fs.writeFileSync(envFile, lines.join("\n") + "\n", { mode: 0o600 });
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });

  const child = spawn(
    wrangler,
    ["dev", "--local", "--ip", args.host, "--port", String(port), "--inspector-port", String(inspector),
      "--show-interactive-dev-session=false", "--env-file", envFile],
    {
      cwd: path.join(ROOT, "worker"),
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
      stdio: ["ignore", "inherit", "inherit"],
      detached: true, // its own process group: wrangler and workerd stop together
    },
  );
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  child.on("exit", (code, signal) => {
    cleanup();
    process.exit(stopping ? 0 : code ?? (signal ? 1 : 0));
  });

  const shown = ["0.0.0.0", "::", "[::]"].includes(args.host) ? "127.0.0.1" : args.host;
  const base = `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}`;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const r = await fetch(`${base}/health/liveliness`);
      await r.arrayBuffer();
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  if (child.exitCode !== null) return;
  const auth = keyed ? ` -H "Authorization: Bearer $LITELLM_MASTER_KEY"` : "";
  const body = JSON.stringify({ model: config.model, messages: [{ role: "user", content: "Hello" }] });
  console.log(`
edgellm gateway is up (config: ${config.source})
  URL:     ${base}   (OpenAI base_url: ${base}/v1)
  docs:    ${base}/docs   (OpenAPI: ${base}/openapi.json)
  try:     curl ${base}/v1/chat/completions -H 'content-type: application/json'${auth} \\
             -d '${body.replace(/'/g, "'\\''")}'
  stop:    Ctrl-C
`);
  for (const w of warnings) console.log(`  warning: ${w}`);
}

main().catch((e) => fail(e.stack ?? String(e)));
