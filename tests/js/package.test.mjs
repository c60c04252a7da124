// The package as users install it: a project with node_modules/edgellm → pkg/ resolves the
// `exports` map (the `node` condition), runs examples/node/basic.mjs against the mock upstream,
// type-checks examples/node/typed.ts against index.d.ts, and measures Node cold start.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { startMockServer } from "../mock/server.mjs";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));
const pkgDir = path.join(root, "pkg");

let project;
let mock;
before(async () => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), "edgellm-pkg-"));
  fs.mkdirSync(path.join(project, "node_modules"));
  fs.symlinkSync(pkgDir, path.join(project, "node_modules", "edgellm"), "dir");
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ type: "module", private: true }));
  mock = await startMockServer();
});
after(async () => {
  await mock.close();
  fs.rmSync(project, { recursive: true, force: true });
});

/** Runs `node <file>` in the project with only the given provider variables set. */
function node(file, env = {}, args = []) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_API_KEY$|_API_BASE$|_BASE_URL$/.test(k)));
  return run(process.execPath, [...args, file], { cwd: project, env: { ...clean, ...env }, timeout: 20000 });
}

test("`import 'edgellm'` resolves to the node entry and works", async (t) => {
  fs.writeFileSync(
    path.join(project, "resolve.mjs"),
    `const t0 = performance.now();
     const m = await import("edgellm");
     const t1 = performance.now();
     const r = await m.completion({ model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }], mock_response: "pong" });
     const t2 = performance.now();
     console.log(JSON.stringify({
       resolved: import.meta.resolve("edgellm"),
       content: r.choices[0].message.content,
       classes: typeof m.RateLimitError === "function" && new m.RateLimitError("x") instanceof m.APIError,
       importMs: t1 - t0, firstCallMs: t2 - t1, sinceStartMs: t2,
     }));`,
  );
  const { stdout } = await node("resolve.mjs");
  const out = JSON.parse(stdout);
  assert.equal(fileURLToPath(out.resolved), fs.realpathSync(path.join(pkgDir, "node.js")));
  assert.equal(out.content, "pong");
  assert.equal(out.classes, true);
  t.diagnostic(`cold start: import ${out.importMs.toFixed(1)} ms, first mocked call ${out.firstCallMs.toFixed(1)} ms, ` +
    `process start → first result ${out.sinceStartMs.toFixed(1)} ms`);
});

test("the packed tarball installs offline and every entry it ships loads", async () => {
  // What `npm publish` would ship: `files` must carry what the bundled entries load (the .wasm),
  // and every file an unbundled entry imports.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgellm-tgz-"));
  try {
    const { stdout: packed } = await run("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: pkgDir, timeout: 60000 });
    const tgz = path.join(dir, packed.trim().split("\n").pop());
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
    await run("npm", ["install", "--offline", "--no-audit", "--no-fund", tgz], { cwd: dir, timeout: 60000 });
    const installed = path.join(dir, "node_modules", "edgellm");
    for (const entry of ["node.js", "index.js", "workerd.js"]) {
      const text = fs.readFileSync(path.join(installed, entry), "utf8");
      for (const [, rel] of text.matchAll(/from ?"(\.\/[^"]+)"/g)) {
        assert.ok(fs.existsSync(path.join(installed, rel)), `${entry} imports ${rel}, which the tarball lacks`);
      }
    }
    const { stdout } = await run(
      process.execPath,
      ["--input-type=module", "-e", `const m = await import("edgellm");
        const r = await m.completion({ model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }], mock_response: "pong" });
        let status; try { await m.completion({ model: "openai/gpt-4o" }); } catch (e) { status = [e.name, e.status]; }
        console.log(JSON.stringify({ content: r.choices[0].message.content, status, router: m.Router.name }));`],
      { cwd: dir, timeout: 20000 },
    );
    assert.deepEqual(JSON.parse(stdout), { content: "pong", status: ["BadRequestError", 400], router: "Router" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("examples/node/basic.mjs runs against a provider redirected by env vars", async () => {
  fs.copyFileSync(path.join(root, "examples/node/basic.mjs"), path.join(project, "basic.mjs"));
  mock.replyFixture("openai", "chat_basic").replyFixture("openai", "stream_basic");
  const { stdout } = await node("basic.mjs", { OPENAI_API_KEY: "sk-test-example", OPENAI_API_BASE: `${mock.url}/v1` });
  assert.match(stdout, /Hello! How can I assist you today\?/);
  assert.match(stdout, /\(29 tokens via openai\)/);
  assert.match(stdout, /streamed: Hello! How can I help\?/);
  assert.equal(mock.requests.length, 2);
  assert.equal(mock.requests[0].headers.authorization, "Bearer sk-test-example");
  assert.equal(mock.requests[1].json.stream, true);
});

test("examples/node/basic.mjs reports an APIError and exits 1", async () => {
  fs.copyFileSync(path.join(root, "examples/node/basic.mjs"), path.join(project, "basic.mjs"));
  mock.reply({ status: 429, headers: { "retry-after": "2" }, body: { error: { message: "slow down", type: "rate_limit_error" } } });
  const err = await node("basic.mjs", { OPENAI_API_KEY: "sk-test-example", OPENAI_API_BASE: `${mock.url}/v1` }).catch((e) => e);
  assert.equal(err.code, 1);
  assert.match(err.stderr, /rate limited, retry in 2000 ms/);
});

test("index.d.ts type-checks examples/node/typed.ts (tsc --strict)", async () => {
  fs.copyFileSync(path.join(root, "examples/node/typed.ts"), path.join(project, "typed.ts"));
  fs.copyFileSync(path.join(root, "examples/node/tsconfig.json"), path.join(project, "tsconfig.json"));
  const tsc = path.join(root, "node_modules/typescript/bin/tsc");
  const r = await run(process.execPath, [tsc, "-p", project], { cwd: project, timeout: 60000 }).catch((e) => e);
  assert.equal(r.code ?? 0, 0, `${r.stdout}${r.stderr}`);
});

test("tsc rejects a wrong use (the types are not `any`)", async () => {
  fs.writeFileSync(
    path.join(project, "typed.ts"),
    `import { completion } from "edgellm";
     const r = await completion({ model: "m", messages: [] });
     const n: number = r.choices[0].message.content;
     export {};`,
  );
  const tsc = path.join(root, "node_modules/typescript/bin/tsc");
  const r = await run(process.execPath, [tsc, "-p", project], { cwd: project, timeout: 60000 }).catch((e) => e);
  assert.notEqual(r.code ?? 0, 0);
  assert.match(r.stdout, /Type 'string \| null' is not assignable to type 'number'/);
});
