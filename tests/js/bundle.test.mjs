// What scripts/build-pkg.sh ships for size (scripts/size-budget.sh measures it): each runtime's
// entry is one minified module, and the .wasm's imports and internal exports have short names,
// in the .wasm and in its glue alike (scripts/wasm-short-imports.mjs). Minifying must not show
// in the API: classes keep their names.
import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";

import { sdk } from "./helpers.mjs";

const pkg = new URL("../../pkg/", import.meta.url);
const read = (name) => fs.readFileSync(new URL(name, pkg), "utf8");

test("each entry is one module: it imports no sibling JS module", () => {
  for (const entry of ["node.js", "index.js", "workerd.js"]) {
    const js = read(entry);
    assert.doesNotMatch(js, /from ?"\.\/[^"]*\.js"/, `${entry} imports a sibling module`);
    assert.doesNotMatch(js, /\n\s*\/\/ /, `${entry} is not minified (it has comments)`);
  }
  // Workers import the .wasm as a module (wrangler makes it a WebAssembly.Module).
  assert.match(read("workerd.js"), /from ?"\.\/web\/edgellm_bg\.wasm"/);
});

test("the .wasm's imports have short names, each one a key of the glue's import object", () => {
  const module = new WebAssembly.Module(fs.readFileSync(new URL("web/edgellm_bg.wasm", pkg)));
  const own = WebAssembly.Module.imports(module).filter((i) => i.module === "./edgellm_bg.js");
  assert.ok(own.length > 50, `${own.length} imports`);
  const glue = read("web/edgellm.js");
  for (const { name } of own) {
    assert.ok(name.length <= 2, `import ${name} kept its long name`);
    assert.match(glue, new RegExp(`^\\s+${name}:`, "m"), `no glue key ${name}`);
  }
  assert.doesNotMatch(glue, /__wbg_\w+_[0-9a-f]{16}\b/, "hashed import names left in the glue");
  // The API's exports keep their names (tests/js/router.test.mjs calls them on the raw module).
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  for (const name of ["completion", "completionStream", "lookup", "router_modality", "router_info", "budgetmanager_op"]) {
    assert.ok(exports.includes(name), `export ${name}`);
  }
  assert.ok(!exports.some((n) => /^__wbindgen_malloc$|_invoke__h[0-9a-f]{16}$/.test(n)), "internal exports kept long names");
});

test("classes keep their names in the minified bundle", () => {
  assert.equal(sdk.Router.name, "Router");
  assert.equal(sdk.BudgetManager.name, "BudgetManager");
  for (const [name, cls] of Object.entries(sdk.ERROR_CLASSES)) {
    assert.equal(cls.name, name);
    const e = new cls("x");
    assert.equal(e.name, name);
    assert.equal(e.constructor.name, name);
  }
  assert.equal(sdk.Timeout.name, "APITimeoutError");
});
