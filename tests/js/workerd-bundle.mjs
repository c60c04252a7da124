// A Worker that imports "edgellm", bundled by wrangler as a user's would be (wrangler picks the
// package's `workerd` export condition and turns the .wasm import into a WebAssembly.Module), and
// run in workerd through Miniflare. Used by the tests that exercise the package inside workerd.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { Miniflare } from "miniflare";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Bundles `source` (the Worker's main module) and starts it with `bindings` as its env.
 * Returns `{ mf, dir, dispose }`: `dir` holds the bundle (`dist/`), `dispose` stops workerd and
 * deletes it.
 */
export async function bundleInWorkerd(source, name, bindings) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  fs.mkdirSync(path.join(dir, "src"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(path.join(root, "pkg"), path.join(dir, "node_modules", "edgellm"), "dir");
  fs.writeFileSync(path.join(dir, "src", "index.js"), source);
  fs.writeFileSync(path.join(dir, "wrangler.toml"), `name = "${name}"\nmain = "src/index.js"\ncompatibility_date = "2025-09-01"\n`);
  await run(process.execPath, [path.join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "dist"], {
    cwd: dir,
    timeout: 60000,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
  });
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(dir, "dist", "index.js"),
    modulesRoot: path.join(dir, "dist"),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-09-01",
    bindings,
    cf: false,
  });
  const dispose = async () => {
    await mf.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { mf, dir, dispose };
}
