// Renames the wasm-bindgen imports of a built module, and the exports only its JS glue calls, to
// short names, in the .wasm and in the glue at once. wasm-bindgen names each import
// `__wbg_<method>_<16 hex digits of hash>` and writes the name twice (the .wasm's import section
// and the glue's import object): the hash digits do not compress. Imports −2.5 KB gzip, internal
// exports (`__wbindgen_malloc`, `__wbg_router_free`, closure shims with hashes) −0.45 KB
// (2026-11-26). Only names change; what each import or export does and their order stay.
// Exports the API has (`completion`, `router_completion`, …) keep their names, as do exports
// the glue does not call. wasm-bindgen's `__abort_handler` / `__instance_terminated` statics are
// dropped when the glue never names them (−35 B gzip, 2026-11-26).
//
//   node scripts/wasm-short-imports.mjs pkg/web/edgellm_bg.wasm pkg/web/edgellm.js
//
// Both files are rewritten in place, or neither: if an import's name is not exactly one key of
// the glue's import object, nothing is written and the script fails.
import { readFileSync, writeFileSync } from "node:fs";
import { leb, sections } from "./lib/wasm-binary.mjs";

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) {
  console.error("usage: node scripts/wasm-short-imports.mjs module.wasm glue.js");
  process.exit(2);
}
// The module wasm-bindgen gives its own imports (snippets' imports have their own modules).
const MODULE = "./edgellm_bg.js";
const bytes = readFileSync(wasmPath);
let js = readFileSync(jsPath, "utf8");

function encodeLeb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
const str = (s) => Buffer.concat([encodeLeb(Buffer.byteLength(s)), Buffer.from(s)]);

/** The end of an import's descriptor (after its kind byte at `p`). */
function descriptorEnd(p) {
  const kind = bytes[p++];
  const limits = (q) => {
    const [flags, a] = leb(bytes, q);
    let [, b] = leb(bytes, a);
    if (flags & 1) [, b] = leb(bytes, b);
    return b;
  };
  const valtype = (q) => {
    const t = bytes[q++];
    return t === 0x63 || t === 0x64 ? leb(bytes, q)[1] : q;
  };
  if (kind === 0) return leb(bytes, p)[1];
  if (kind === 1) return limits(valtype(p));
  if (kind === 2) return limits(p);
  if (kind === 3) return valtype(p) + 1;
  if (kind === 4) return leb(bytes, p + 1)[1];
  throw new Error(`unknown import kind ${kind}`);
}

/** `a`, `b`, …, `Z`, `aa`, `ab`, …: names no glue key has (the glue's keys are `__wbg_…`). */
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
function shortName(i) {
  let s = "";
  do {
    s = ALPHABET[i % ALPHABET.length] + s;
    i = Math.floor(i / ALPHABET.length) - 1;
  } while (i >= 0);
  return s;
}

const section = sections(bytes).find((s) => s.id === 2);
if (!section) throw new Error("no import section");
let [count, p] = leb(bytes, section.payload);
const entries = [encodeLeb(count)];
let renamed = 0;
for (let i = 0; i < count; i++) {
  let len;
  [len, p] = leb(bytes, p);
  const module = bytes.toString("utf8", p, p + len);
  p += len;
  [len, p] = leb(bytes, p);
  let field = bytes.toString("utf8", p, p + len);
  p += len;
  const end = descriptorEnd(p);
  if (module === MODULE) {
    const short = shortName(renamed++);
    // The glue's import object: `        <name>: function(` (or `: <value>`), one key per line.
    const key = new RegExp(`^(\\s+)${field}:`, "gm");
    const hits = js.match(key)?.length ?? 0;
    if (hits !== 1 || js.split(field).length !== 2) {
      throw new Error(`import ${field}: ${hits} keys in ${jsPath}, expected exactly one use`);
    }
    js = js.replace(key, `$1${short}:`);
    field = short;
  }
  entries.push(str(module), str(field), bytes.subarray(p, end));
  p = end;
}
/** `section` with its payload replaced. */
function replaced(buf, section, payload) {
  return Buffer.concat([
    buf.subarray(0, section.start),
    Buffer.from([section.id]),
    encodeLeb(payload.length),
    payload,
    buf.subarray(section.end),
  ]);
}
const withImports = replaced(bytes, section, Buffer.concat(entries));

// Exports: wasm-bindgen's own (`__wbindgen_…`, `__wbg_…_free`, `__externref_…`) and the closure
// shims (`wasm_bindgen__convert__closures_____invoke__h<hash>`), which the glue calls as
// `wasm.<name>`. `$0`, `$1`, …: no export or glue name starts with `$`.
const DROPPABLE = new Set(["__abort_handler", "__instance_terminated"]);
const exportSection = sections(withImports).find((s) => s.id === 7);
[count, p] = leb(withImports, exportSection.payload);
const exportEntries = [];
let exportsRenamed = 0;
let exportsDropped = 0;
for (let i = 0; i < count; i++) {
  let len;
  [len, p] = leb(withImports, p);
  let name = withImports.toString("utf8", p, p + len);
  p += len;
  const end = leb(withImports, p + 1)[1]; // kind byte, index
  // wasm-bindgen's `#[no_mangle]` statics for its abort/reinit machinery (panic=unwind builds,
  // `--force-enable-abort-handler`, `schedule_reinit`): exported by every module, read only by
  // glue that has that machinery. A glue that never names them never reads them.
  if (DROPPABLE.has(name) && !js.includes(name)) {
    exportsDropped++;
    p = end;
    continue;
  }
  const use = new RegExp(`\\bwasm\\.${name}\\b`, "g");
  if (/^(__|wasm_bindgen__)\w+$/.test(name) && use.test(js)) {
    const short = `$${exportsRenamed++}`;
    js = js.replace(use, () => `wasm.${short}`); // a function: `$1` in a string would be a group
    name = short;
  }
  exportEntries.push(str(name), withImports.subarray(p, end));
  p = end;
}
const out = replaced(
  withImports,
  exportSection,
  Buffer.concat([encodeLeb(count - exportsDropped), ...exportEntries]),
);
// Checks the module still parses before anything is written.
new WebAssembly.Module(out);
writeFileSync(wasmPath, out);
writeFileSync(jsPath, js);
console.log(
  `wasm-short-imports: ${renamed} imports and ${exportsRenamed} exports renamed, ${exportsDropped} dropped`,
);
