// The quick start's decisions, as plain functions (tested without starting anything):
// command-line arguments, the one-model config `--model` makes, which environment variables
// go to the Worker, and which provider keys are missing (from providers.json, generated from
// the provider registry by worker/tests/cli_providers.rs).
import fs from "node:fs";

const PROVIDERS = JSON.parse(fs.readFileSync(new URL("./providers.json", import.meta.url), "utf8"));

export const USAGE = `Usage: edgellm-gateway [--model MODEL ... | --config FILE] [--port 4000] [--host 127.0.0.1] [--env-file FILE ...]

Starts the edgellm gateway (an OpenAI-compatible endpoint on a local Cloudflare Workers
runtime, wrangler dev) and prints its URL and a curl line.

  --model MODEL    serve MODEL as the only model group, e.g. anthropic/claude-3-5-sonnet-20241022,
                   openai/gpt-4o-mini, groq/llama-3.1-8b-instant (repeat for several)
  --config FILE    a LiteLLM config.yaml (or JSON) instead
                   (neither: the built-in demo model \`edgellm-demo\`, no key needed)
  --port N         port (default 4000, LiteLLM's)
  --host ADDR      address to listen on (default 127.0.0.1)
  --env-file FILE  provider keys as NAME=value lines (besides your shell's variables)
  -h, --help       this text

Provider keys come from your environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...); set
LITELLM_MASTER_KEY to require a key from clients. API docs: http://HOST:PORT/docs.`;

/** Parses argv (without node and the script); throws an Error with a message on misuse. */
export function parseArgs(argv) {
  const out = { models: [], config: null, port: 4000, host: "127.0.0.1", envFiles: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== null) return value;
      if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case "--model":
        out.models.push(next());
        break;
      case "--config":
        out.config = next();
        break;
      case "--port": {
        const v = next();
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, not ${v}`);
        out.port = port;
        break;
      }
      case "--host":
        out.host = next();
        break;
      case "--env-file":
        out.envFiles.push(next());
        break;
      case "-h":
      case "--help":
        out.help = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (out.models.length && out.config) throw new Error("use --model or --config, not both");
  if (out.models.some((m) => !m.trim())) throw new Error("--model needs a model name");
  return out;
}

/** The config `--model` makes: each model is its own model group, under its own name. */
export function modelConfig(models) {
  return JSON.stringify({
    model_list: models.map((m) => ({ model_name: m, litellm_params: { model: m } })),
  });
}

/** `NAME=value` lines (dotenv: comments, `export`, single or double quotes). */
export function parseEnvFile(text) {
  const out = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim().replace(/^export\s+/, "");
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) v = v.slice(1, -1);
    out[line.slice(0, eq).trim()] = v;
  }
  return out;
}

/** The provider id of a LiteLLM model string, or null when the registry would not know it. */
export function providerOf(model) {
  const slash = model.indexOf("/");
  if (slash > 0 && PROVIDERS.providers[model.slice(0, slash)]) return model.slice(0, slash);
  const prefixes = Object.keys(PROVIDERS.bare).filter((p) => model.startsWith(p));
  prefixes.sort((a, b) => b.length - a.length);
  return prefixes.length ? PROVIDERS.bare[prefixes[0]] : null;
}

/**
 * What `model` lacks in `env`: null when nothing (or when it cannot be told), else
 * `{ provider, name, sets }` where `sets` are the alternatives (each a list of variables).
 */
export function missingKeys(model, env) {
  const provider = providerOf(model);
  const row = provider && PROVIDERS.providers[provider];
  if (!row || !row.credentials || row.credentials.length === 0) return null;
  const ok = row.credentials.some((set) => set.every((name) => env[name]));
  return ok ? null : { provider, name: row.name, sets: row.credentials };
}

/** A one-line explanation of `missing` for `model`. */
export function describeMissing(model, missing) {
  const alternatives = missing.sets.map((s) => s.join(" and ")).join(", or ");
  return `${model} (${missing.name}) needs ${alternatives}, which is not set: set it in your shell or an --env-file. Until then its requests fail with 401.`;
}

/**
 * The deployments of a LiteLLM config text, as far as the key check needs them:
 * `{ model, apiKey, mock }` per `litellm_params` (JSON configs exactly; YAML by a line scan of
 * `model:`, `api_key:` and `mock_response:` inside each `- model_name:` entry).
 */
export function deploymentsOf(text) {
  if (text.trim().startsWith("{")) {
    const cfg = JSON.parse(text);
    return (cfg.model_list ?? []).map((d) => {
      const p = d?.litellm_params ?? {};
      return { model: p.model, apiKey: p.api_key, mock: p.mock_response !== undefined };
    });
  }
  const out = [];
  let cur = null;
  for (const line of text.split(/\r?\n/)) {
    if (/^\S/.test(line) && !/^model_list\s*:/.test(line)) cur = null;
    if (/^\s*-\s+model_name\s*:/.test(line)) {
      cur = { model: undefined, apiKey: undefined, mock: false };
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const flow = /litellm_params\s*:\s*\{(.*)\}/.exec(line);
    if (flow) {
      // `litellm_params: {model: x, api_key: y}` on one line.
      for (const [, k, v] of flow[1].matchAll(/(?:^|,)\s*(model|api_key|mock_response)\s*:\s*("[^"]*"|'[^']*'|[^,]*)/g)) {
        const clean = v.trim().replace(/^["']|["']$/g, "");
        if (k === "model") cur.model = clean;
        else if (k === "api_key") cur.apiKey = clean;
        else cur.mock = true;
      }
      continue;
    }
    const m = /^\s+(model|api_key|mock_response)\s*:\s*(.*?)\s*(#.*)?$/.exec(line);
    if (m) {
      const v = m[2].replace(/^["']|["']$/g, "");
      if (m[1] === "model") cur.model = v;
      else if (m[1] === "api_key") cur.apiKey = v;
      else cur.mock = true;
    }
  }
  return out;
}

/** The `os.environ/NAME` names a config uses (YAML comments skipped). */
export function environRefs(text) {
  const code = text
    .split(/\r?\n/)
    .map((l) => l.replace(/(^|\s)#.*$/, ""))
    .join("\n");
  return [...new Set([...code.matchAll(/os\.environ\/([A-Za-z0-9_]+)/g)].map((m) => m[1]))];
}

/**
 * Warnings for a config: deployments whose provider key is missing (unless the deployment
 * sets `api_key`) and `os.environ/NAME` references that are not set.
 */
export function configWarnings(text, env) {
  const warnings = [];
  for (const name of environRefs(text)) {
    if (!env[name]) warnings.push(`the config refers to os.environ/${name}, which is not set.`);
  }
  for (const d of deploymentsOf(text)) {
    if (!d.model || d.apiKey || d.mock) continue;
    const missing = missingKeys(d.model, env);
    if (missing) warnings.push(describeMissing(d.model, missing));
  }
  return [...new Set(warnings)];
}

/** The variables handed to the Worker: the ones the config names and the usual provider ones. */
export function workerEnv(configText, env) {
  const wanted = new Set(environRefs(configText));
  const out = {};
  for (const [k, v] of Object.entries(env)) {
    if (!v) continue;
    const usual =
      /^(LITELLM_|AWS_|AZURE_|VERTEX|GOOGLE_|GEMINI_)/.test(k) ||
      /_(API_KEY|API_BASE|BASE_URL|API_VERSION|ACCOUNT_ID|TOKEN|SECRET_KEY)$/.test(k);
    if (usual || wanted.has(k)) out[k] = v;
  }
  return out;
}

/**
 * `NAME=value` for wrangler's env file (dotenv): quoted with a quote character the value does
 * not contain, since dotenv keeps backslashes inside quotes (and expands `\n` in double ones).
 */
export function dotenvLine(name, value) {
  const q = ["'", "`", '"'].find((c) => !value.includes(c));
  if (!q || (q === '"' && value.includes("\\n"))) {
    throw new Error(`${name} holds every quote character (' \` "); wrangler's env file cannot carry it`);
  }
  return `${name}=${q}${value}${q}`;
}
