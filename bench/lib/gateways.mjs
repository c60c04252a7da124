// Starts each gateway under test on the system-under-test core, pointed at the nginx upstream:
//   edgellm-workerd    our Worker in workerd, run directly (bench/lib/workerd-config.mjs): what
//                      production runs, with no dev proxy in the path
//   edgellm-miniflare  the same Worker through Miniflare (what worker/test uses)
//   edgellm-wrangler   the same Worker under `wrangler dev --local` (scripts/gateway.sh)
//   portkey            @portkey-ai/gateway on Node (its start-server.js, headless)
//   litellm            LiteLLM proxy (uvicorn, one worker) from bench/.venv
// Every target exposes the same two aliases, `bench-json` and `bench-sse`, mapped to the
// upstream's /json/v1 and /sse/v1 base URLs; Portkey has no aliases, so it gets the base URL in
// x-portkey-custom-host per request instead.
import fs from "node:fs";
import path from "node:path";
import { BENCH_DIR, OUT_DIR, ROOT, SUT_CORE, freePort, spawnPinned, waitForPort, sleep } from "./common.mjs";
import { gatewayModules, workerdConfig, wranglerCompatFlags } from "./workerd-config.mjs";

export const API_KEY = "sk-bench-not-a-real-key";
/** The gateways' own key (LiteLLM refuses to start without one; edgellm checks it the same way). */
export const MASTER_KEY = "sk-bench-master-0123456789abcdef0123456789abcdef";

/** The LiteLLM-style config (as JSON, which both edgellm and LiteLLM read). */
export function gatewayConfig(upstreamUrl) {
  const dep = (name, prefix) => ({
    model_name: name,
    litellm_params: { model: "openai/gpt-4o-mini", api_base: `${upstreamUrl}/${prefix}/v1`, api_key: API_KEY },
  });
  return { model_list: [dep("bench-json", "json"), dep("bench-sse", "sse")], general_settings: { master_key: MASTER_KEY } };
}

/** Copies the built Worker (worker/js + worker/build) so a rebuild by someone else mid-run cannot change it. */
export function snapshotWorker() {
  const src = path.join(ROOT, "worker");
  const dst = path.join(OUT_DIR, "worker-snapshot");
  if (!fs.existsSync(path.join(src, "build", "edgellm_worker_bg.wasm"))) {
    throw new Error("worker/build is missing: run `bash scripts/build-worker.sh` first");
  }
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  fs.cpSync(path.join(src, "js"), path.join(dst, "js"), { recursive: true });
  fs.cpSync(path.join(src, "build"), path.join(dst, "build"), { recursive: true });
  return dst;
}

function aliasTarget(name, url, child, extra = {}) {
  return {
    name,
    url,
    child,
    request: (mode) => ({ path: "/v1/chat/completions", model: mode === "sse" ? "bench-sse" : "bench-json", headers: { Authorization: `Bearer ${MASTER_KEY}` } }),
    stop: () => child.stop(),
    ...extra,
  };
}

/**
 * Our Worker in workerd, no Miniflare or wrangler in between. Diagnostics (memory.mjs,
 * bench/prototypes) may ask for `v8Flags`, other `compatibilityFlags`, and the `inspector`: a
 * DevTools port (`target.inspector`), open before this returns.
 */
export async function startWorkerd(upstreamUrl, snapshot, config = gatewayConfig(upstreamUrl), { v8Flags = [], compatibilityFlags = wranglerCompatFlags(), inspector = false } = {}) {
  const port = await freePort();
  const dir = path.join(OUT_DIR, "workerd");
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(snapshot, "bench.capnp");
  fs.writeFileSync(conf, workerdConfig({ modules: gatewayModules(snapshot), port, bindings: { EDGELLM_CONFIG: JSON.stringify(config) }, compatibilityFlags, v8Flags }));
  const bin = path.join(ROOT, "node_modules/.bin/workerd");
  const debug = inspector ? await freePort() : null;
  const child = spawnPinned(SUT_CORE, bin, ["serve", conf, ...inspectorArgs(debug)], { log: path.join(dir, "workerd.log"), cwd: snapshot });
  await waitForPort(port, 20_000, child);
  if (debug) await waitForPort(debug, 20_000, child);
  return aliasTarget("edgellm-workerd", `http://127.0.0.1:${port}`, child, { rssPids: () => [child.pid], inspector: debug });
}

/** `workerd serve`'s arguments for a DevTools inspector on `port` (none for null). */
function inspectorArgs(port) {
  return port ? [`--inspector-addr=127.0.0.1:${port}`] : [];
}

/**
 * A reference JS Worker (bench/lib/js-worker/worker.mjs) in the same workerd: `passthrough`
 * (the floor for any Worker gateway), `per-event` (re-frames each SSE event in JS), `batched`, or
 * `pump` (reads and writes a stream in JS without touching its bytes).
 */
export async function startJsWorker(mode, upstreamUrl, extraBases = {}, { v8Flags = [], inspector = false } = {}) {
  const port = await freePort();
  const dir = path.join(BENCH_DIR, "lib", "js-worker");
  const conf = path.join(OUT_DIR, `js-worker-${mode}.capnp`);
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const bases = { "bench-json": `${upstreamUrl}/json/v1`, "bench-sse": `${upstreamUrl}/sse/v1`, ...extraBases };
  // embed paths are relative to the config file: point at the worker source from bench/out.
  const text = workerdConfig({ modules: ["worker.mjs"], port, bindings: { BASES: JSON.stringify(bases), MODE: mode }, v8Flags })
    .replace('embed "worker.mjs"', `embed ${JSON.stringify(path.relative(OUT_DIR, path.join(dir, "worker.mjs")))}`);
  fs.writeFileSync(conf, text);
  const bin = path.join(ROOT, "node_modules/.bin/workerd");
  const debug = inspector ? await freePort() : null;
  const child = spawnPinned(SUT_CORE, bin, ["serve", conf, ...inspectorArgs(debug)], { log: path.join(OUT_DIR, `js-worker-${mode}.log`), cwd: OUT_DIR });
  await waitForPort(port, 20_000, child);
  if (debug) await waitForPort(debug, 20_000, child);
  return aliasTarget(`workerd-js-${mode}`, `http://127.0.0.1:${port}`, child, { inspector: debug });
}

/** Our Worker through Miniflare (a Node host process plus its workerd child, both pinned). */
export async function startMiniflare(upstreamUrl, snapshot) {
  const port = await freePort();
  const log = path.join(OUT_DIR, "miniflare.log");
  const child = spawnPinned(SUT_CORE, process.execPath, [path.join(BENCH_DIR, "lib", "miniflare-serve.mjs")], {
    log,
    env: {
      BENCH_ENTRY: path.join(snapshot, "js", "entry.mjs"),
      BENCH_PORT: String(port),
      BENCH_CONFIG: JSON.stringify(gatewayConfig(upstreamUrl)),
    },
  });
  await waitForPort(port, 30_000, child);
  return aliasTarget("edgellm-miniflare", `http://127.0.0.1:${port}`, child);
}

/** Our Worker under `wrangler dev --local`: its proxy worker sits in front of the user worker. */
export async function startWranglerDev(upstreamUrl, snapshot) {
  const port = await freePort();
  const inspector = await freePort();
  const toml = path.join(snapshot, "wrangler.toml");
  // No [build]: the snapshot is already built. The config arrives as a var (it wins over the bundled one).
  fs.writeFileSync(
    toml,
    [
      'name = "edgellm-bench"',
      'main = "js/entry.mjs"',
      'compatibility_date = "2025-09-01"',
      `compatibility_flags = ${JSON.stringify(wranglerCompatFlags())}`,
      "[vars]",
      `EDGELLM_CONFIG = ${JSON.stringify(JSON.stringify(gatewayConfig(upstreamUrl)))}`,
      "",
    ].join("\n"),
  );
  const child = spawnPinned(
    SUT_CORE,
    path.join(ROOT, "node_modules/.bin/wrangler"),
    ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
      "--show-interactive-dev-session=false", "--log-level", "warn", "-c", toml],
    {
      log: path.join(OUT_DIR, "wrangler.log"),
      cwd: snapshot,
      env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
    },
  );
  await waitForPort(port, 60_000, child);
  await sleep(500);
  return aliasTarget("edgellm-wrangler", `http://127.0.0.1:${port}`, child);
}

/** Portkey's gateway on Node (its published start-server.js). */
export async function startPortkey(upstreamUrl) {
  const port = await freePort();
  const script = path.join(BENCH_DIR, "node_modules/@portkey-ai/gateway/build/start-server.js");
  if (!fs.existsSync(script)) throw new Error("@portkey-ai/gateway is not installed (bash bench/setup.sh)");
  const child = spawnPinned(SUT_CORE, process.execPath, [script, `--port=${port}`, "--headless"], {
    log: path.join(OUT_DIR, "portkey.log"),
    env: { NODE_ENV: "production" },
  });
  await waitForPort(port, 30_000, child);
  return {
    name: "portkey",
    url: `http://127.0.0.1:${port}`,
    child,
    request: (mode) => ({
      path: "/v1/chat/completions",
      model: "gpt-4o-mini",
      headers: {
        Authorization: `Bearer ${API_KEY}`,
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": `${upstreamUrl}/${mode === "sse" ? "sse" : "json"}/v1`,
      },
    }),
    stop: () => child.stop(),
  };
}

/** LiteLLM proxy, one uvicorn worker, no database, no callbacks; local cost map (no network). */
export async function startLitellm(upstreamUrl) {
  const port = await freePort();
  const bin = path.join(BENCH_DIR, ".venv/bin/litellm");
  if (!fs.existsSync(bin)) throw new Error("LiteLLM is not installed (bash bench/setup.sh)");
  const conf = path.join(OUT_DIR, "litellm-config.json");
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const cfg = gatewayConfig(upstreamUrl);
  cfg.litellm_settings = { telemetry: false, drop_params: true };
  fs.writeFileSync(conf, JSON.stringify(cfg, null, 2));
  // LiteLLM reads a .yaml path; JSON is valid YAML.
  const yaml = conf.replace(/\.json$/, ".yaml");
  fs.copyFileSync(conf, yaml);
  const child = spawnPinned(
    SUT_CORE,
    bin,
    ["--config", yaml, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1", "--telemetry", "False"],
    {
      log: path.join(OUT_DIR, "litellm.log"),
      env: {
        LITELLM_LOCAL_MODEL_COST_MAP: "True",
        LITELLM_LOG: "ERROR",
        LITELLM_TELEMETRY: "False",
        DISABLE_ADMIN_UI: "True",
        NO_DOCS: "True",
        PYTHONDONTWRITEBYTECODE: "1",
      },
    },
  );
  await waitForPort(port, 120_000, child);
  return aliasTarget("litellm", `http://127.0.0.1:${port}`, child);
}

/** The upstream itself, for the direct-to-upstream baseline. */
export function directTarget(upstreamUrl) {
  return {
    name: "direct",
    url: upstreamUrl,
    request: (mode) => ({ path: `/${mode === "sse" ? "sse" : "json"}/v1/chat/completions`, model: "gpt-4o-mini", headers: { Authorization: `Bearer ${API_KEY}` } }),
    stop: async () => {},
  };
}

/**
 * Another build of the Worker, for A/B runs (target `alt:<dir>` in gateway.mjs --targets): `dir`
 * is laid out like the snapshot (js/entry.mjs + build/ from build-worker.sh's wasm-bindgen step),
 * e.g. a patched copy of worker/ built aside.
 */
export async function startAltWorker(upstreamUrl, dir) {
  if (!dir || !fs.existsSync(path.join(dir, "build", "edgellm_worker_bg.wasm"))) {
    throw new Error(`alt:${dir}: not a directory with js/entry.mjs and build/edgellm_worker_bg.wasm`);
  }
  const t = await startWorkerd(upstreamUrl, path.resolve(dir));
  return { ...t, name: `alt:${path.basename(dir)}` };
}

/**
 * Every target by name: `(upstreamUrl, snapshot, options)`; the workerd ones take
 * startWorkerd's diagnostic options (`v8Flags`, `inspector`).
 */
export const STARTERS = {
  "workerd-js-passthrough": (u, _s, o) => startJsWorker("passthrough", u, {}, o),
  "workerd-js-per-event": (u, _s, o) => startJsWorker("per-event", u, {}, o),
  "workerd-js-batched": (u, _s, o) => startJsWorker("batched", u, {}, o),
  "workerd-js-pump": (u, _s, o) => startJsWorker("pump", u, {}, o),
  "edgellm-workerd": (u, s, o) => startWorkerd(u, s, undefined, o),
  "edgellm-miniflare": startMiniflare,
  "edgellm-wrangler": startWranglerDev,
  portkey: startPortkey,
  litellm: startLitellm,
};
