// Set-up for the API-docs tests: the built Worker in workerd through Miniflare with its static
// assets (worker/assets: /openapi.json, /docs and the Swagger UI copied from swagger-ui-dist),
// virtual keys on (KV + the counter Durable Objects) and a master key, as wrangler.toml runs it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { ensureDocsAssets } from "../../scripts/docs-assets.mjs";
import { ENTRY, MASTER_KEY } from "./helpers.mjs";

export { MASTER_KEY };

export const ASSETS = fileURLToPath(new URL("../assets", import.meta.url));

/** The committed OpenAPI document. */
export const SPEC = JSON.parse(fs.readFileSync(path.join(ASSETS, "openapi.json"), "utf8"));

const CONFIG = `
model_list:
  - model_name: edgellm-demo
    litellm_params:
      model: openai/edgellm-demo
      mock_response: "Hello from the docs test"
general_settings:
  master_key: os.environ/MASTER
`;

/** Starts the gateway with its assets; `close()` stops it. */
export async function startDocsGateway() {
  ensureDocsAssets();
  const mf = new Miniflare({
    modules: true,
    scriptPath: ENTRY,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    compatibilityFlags: ["enable_request_signal"], // as worker/wrangler.toml
    kvNamespaces: ["EDGELLM_KV"],
    durableObjects: { EDGELLM_COUNTERS: "SpendCounter" },
    assets: { directory: ASSETS, routerConfig: { has_user_worker: true } },
    bindings: { EDGELLM_CONFIG: CONFIG, MASTER: MASTER_KEY },
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  return { mf, url, close: () => mf.dispose() };
}

/** Every documented operation as `{ method, path, op }`. */
export function operations(spec = SPEC) {
  const out = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) out.push({ method: method.toUpperCase(), path: p, op });
  }
  return out;
}
