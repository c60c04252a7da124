// What the built package does for Node's cold start (bench/sdk/coldstart.mjs measures it): no
// export of the .wasm returns more than one value, because Node 20's V8 compiles a TurboFan
// wrapper for each such export signature when the module is created (≈ 3 ms of a ≈ 20 ms cold
// start; scripts/wasm-no-multivalue.mjs, run by scripts/build-pkg.sh, keeps them out), and
// every JS import takes as many parameters as wasm passes it, because it compiles another
// wrapper per signature for imports whose `length` differs (scripts/glue-import-arity.mjs).
import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import { imports, leb, sections as sectionsOf, valtype } from "../../scripts/lib/wasm-binary.mjs";

const wasmPath = new URL("../../pkg/web/edgellm_bg.wasm", import.meta.url);

/** The module's non-custom sections, by id: the offset of each one's payload. */
function sectionMap(bytes) {
  const sections = new Map();
  for (const { id, payload } of sectionsOf(bytes)) if (id !== 0) sections.set(id, payload);
  return sections;
}

/** [parameter count, result count] of each function type of the type section. */
function typeArities(bytes, sections) {
  const out = [];
  let [count, p] = leb(bytes, sections.get(1));
  for (let i = 0; i < count; i++) {
    assert.equal(bytes[p++], 0x60, "only function types are expected");
    let params, results;
    [params, p] = leb(bytes, p);
    for (let k = 0; k < params; k++) p = valtype(bytes, p);
    [results, p] = leb(bytes, p);
    for (let k = 0; k < results; k++) p = valtype(bytes, p);
    out.push([params, results]);
  }
  return out;
}

/** [export name, result count] of every exported function. */
function exportedResults(bytes) {
  const sections = sectionMap(bytes);
  const results = typeArities(bytes, sections).map(([, n]) => n);
  let count, p;
  // Function index space: imported functions first, then the function section.
  const funcType = [];
  if (sections.has(2)) {
    for (const i of imports(bytes, sections.get(2))) if (i.kind === 0) funcType.push(i.type);
  }
  [count, p] = leb(bytes, sections.get(3));
  for (let i = 0; i < count; i++) {
    let t;
    [t, p] = leb(bytes, p);
    funcType.push(t);
  }
  const out = [];
  [count, p] = leb(bytes, sections.get(7));
  for (let i = 0; i < count; i++) {
    let len;
    [len, p] = leb(bytes, p);
    const name = bytes.toString("utf8", p, p + len);
    p += len;
    const kind = bytes[p++];
    let index;
    [index, p] = leb(bytes, p);
    if (kind === 0) out.push([name, results[funcType[index]]]);
  }
  return out;
}

test("no wasm export returns more than one value (no wrapper compiled at module creation)", () => {
  const exports = exportedResults(fs.readFileSync(wasmPath));
  // The module really was read: the public functions are there.
  assert.ok(exports.some(([name]) => name === "completion"), "completion is exported");
  const multi = exports.filter(([, n]) => n > 1).map(([name, n]) => `${name} (${n} results)`);
  assert.deepEqual(multi, [], "exports with multi-value results (build-pkg.sh runs wasm-no-multivalue.mjs before wasm-bindgen)");
});

test("the module compiles and the export check sees multi-value results when there are some", () => {
  // A hand-made module exporting one function of type () -> (i32, i32): the check must flag it.
  const bytes = Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x00, 0x02, 0x7f, 0x7f, // type 0: [] -> [i32 i32]
    0x03, 0x02, 0x01, 0x00, // func 0: type 0
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f" = func 0
    0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x01, 0x41, 0x02, 0x0b, // (i32.const 1) (i32.const 2)
  ]);
  assert.ok(WebAssembly.validate(bytes));
  assert.deepEqual(exportedResults(bytes), [["f", 2]]);
});

test("every imported function takes the parameters wasm passes (no arity-adapting wrappers)", async () => {
  const bytes = fs.readFileSync(wasmPath);
  const sections = sectionMap(bytes);
  const arities = typeArities(bytes, sections);
  const module = new WebAssembly.Module(bytes);
  // The import object is the glue's own (initSync makes it): seen by wrapping the constructor.
  const { Instance } = WebAssembly;
  let importObject;
  WebAssembly.Instance = function (m, imports) {
    importObject = imports;
    return new Instance(m, imports);
  };
  try {
    (await import("../../pkg/web/edgellm.js")).initSync({ module });
  } finally {
    WebAssembly.Instance = Instance;
  }
  // Module.imports lists the imports in the order of the import section.
  const types = imports(bytes, sections.get(2));
  const mismatched = [];
  let functions = 0;
  WebAssembly.Module.imports(module).forEach(({ module: from, name, kind }, i) => {
    if (kind !== "function") return;
    functions++;
    const want = arities[types[i].type][0];
    const got = importObject[from][name].length;
    if (got !== want) mismatched.push(`${from} ${name}: length ${got}, wasm passes ${want}`);
  });
  assert.ok(functions > 50, `the imports were read (${functions})`);
  assert.deepEqual(mismatched, [], "imports whose length differs (build-pkg.sh runs glue-import-arity.mjs)");
});
