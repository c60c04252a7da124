#!/usr/bin/env node
// Copies Swagger UI from the swagger-ui-dist npm package (a pinned devDependency) into
// worker/assets/swagger-ui/, where the Worker serves it as static assets next to
// worker/assets/docs.html (/docs) and worker/assets/openapi.json (/openapi.json). The copy is
// not committed (see .gitignore); run this before `wrangler dev` or `wrangler deploy`.
// The gateway CLI (cli/), the docs tests and scripts/schemathesis.sh call it themselves.
//
//   node scripts/docs-assets.mjs
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE"];

/** Copies the files that are missing or differ; returns the target directory. */
export function ensureDocsAssets(root = ROOT) {
  const src = path.join(root, "node_modules", "swagger-ui-dist");
  const dst = path.join(root, "worker", "assets", "swagger-ui");
  if (!fs.existsSync(path.join(src, "package.json"))) {
    throw new Error("node_modules/swagger-ui-dist is missing: run `npm ci` at the repository root");
  }
  fs.mkdirSync(dst, { recursive: true });
  for (const name of FILES) {
    const from = path.join(src, name);
    const to = path.join(dst, name);
    const same = fs.existsSync(to) && fs.readFileSync(to).equals(fs.readFileSync(from));
    if (!same) fs.copyFileSync(from, to);
  }
  return dst;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dst = ensureDocsAssets();
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules/swagger-ui-dist/package.json"), "utf8"));
  console.log(`docs-assets: swagger-ui-dist ${version} → ${path.relative(ROOT, dst)}/`);
}
