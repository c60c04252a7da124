// Where the bytes of a .wasm go: section sizes, and code size per crate / per function from the
// name section (the cargo output keeps names; the shipped, name-stripped file does not, so run
// this on the cargo output, target/pkg-build/wasm32-unknown-unknown/release/edgellm.wasm). Sizes are before wasm-opt, so read them
// as shares, not as shipped bytes.
//
//   node bench/wasm-size.mjs [file.wasm] [--top 30]
// Prints a table; with --json, one JSON object (bench/report.mjs uses it).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/common.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "30" }, json: { type: "boolean", default: false } },
});
const file = positionals[0] ?? path.join(ROOT, "target/pkg-build/wasm32-unknown-unknown/release/edgellm.wasm");
const buf = fs.readFileSync(file);

function leb(pos) {
  let result = 0;
  let shift = 0;
  let b;
  do {
    b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [result, pos];
}
const SECTION = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"];

const sections = [];
let importedFuncs = 0;
const bodies = []; // [size, gzip-ish proxy later]
const names = new Map();
let pos = 8;
while (pos < buf.length) {
  const id = buf[pos++];
  let size;
  [size, pos] = leb(pos);
  const start = pos;
  let name = SECTION[id] ?? `id${id}`;
  if (id === 0) {
    let n;
    [n, pos] = leb(pos);
    name = `custom:${buf.subarray(pos, pos + n).toString()}`;
    if (name === "custom:name") {
      let p = pos + n;
      while (p < start + size) {
        const sub = buf[p++];
        let len;
        [len, p] = leb(p);
        if (sub === 1) {
          let q = p;
          let count;
          [count, q] = leb(q);
          for (let i = 0; i < count; i++) {
            let idx;
            let nl;
            [idx, q] = leb(q);
            [nl, q] = leb(q);
            names.set(idx, buf.subarray(q, q + nl).toString());
            q += nl;
          }
        }
        p += len;
      }
    }
  } else if (id === 2) {
    let p = pos;
    let count;
    [count, p] = leb(p);
    for (let i = 0; i < count; i++) {
      let l;
      [l, p] = leb(p);
      p += l;
      [l, p] = leb(p);
      p += l;
      const kind = buf[p++];
      if (kind === 0) {
        [, p] = leb(p);
        importedFuncs++;
      } else if (kind === 1) {
        p += 1;
        const flags = buf[p++];
        [, p] = leb(p);
        if (flags & 1) [, p] = leb(p);
      } else if (kind === 2) {
        const flags = buf[p++];
        [, p] = leb(p);
        if (flags & 1) [, p] = leb(p);
      } else if (kind === 3) p += 2;
      else if (kind === 4) p += 2;
    }
  } else if (id === 10) {
    let p = pos;
    let count;
    [count, p] = leb(p);
    for (let i = 0; i < count; i++) {
      let s;
      [s, p] = leb(p);
      bodies.push({ index: importedFuncs + i, size: s, start: p });
      p += s;
    }
  }
  sections.push({ name, size });
  pos = start + size;
}

/** Demangles a legacy Rust symbol (_ZN...E) well enough to read; others pass through. */
function demangle(n) {
  const m = /^_?ZN(.*)E$/.exec(n);
  if (!m) return n;
  const parts = [];
  let s = m[1];
  while (s.length) {
    const d = /^(\d+)/.exec(s);
    if (!d) break;
    const len = Number(d[1]);
    parts.push(s.slice(d[1].length, d[1].length + len));
    s = s.slice(d[1].length + len);
  }
  if (parts.length && /^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
  const unescape = (x) =>
    x.replace(/\$LT\$/g, "<").replace(/\$GT\$/g, ">").replace(/\$RF\$/g, "&").replace(/\$BP\$/g, "*")
      .replace(/\$C\$/g, ",").replace(/\$u20\$/g, " ").replace(/\$u27\$/g, "'").replace(/\$u5b\$/g, "[")
      .replace(/\$u5d\$/g, "]").replace(/\$u7b\$/g, "{").replace(/\$u7d\$/g, "}").replace(/\$u3b\$/g, ";")
      .replace(/\$u2b\$/g, "+").replace(/\$u22\$/g, '"').replace(/\.\./g, "::").replace(/^_\$/, "$");
  return parts.map(unescape).join("::");
}

/** The crate a Rust function name belongs to. */
function crateOf(n) {
  if (!n) return "(no name)";
  if (n.startsWith("_R")) {
    const v0 = /C(?:s[0-9A-Za-z]*_)?(\d+)([A-Za-z_][A-Za-z0-9_]*)/.exec(n);
    return v0 ? v0[2].slice(0, Number(v0[1])) : "(v0 symbol)";
  }
  let s = demangle(n);
  s = s.replace(/^_?<+/, "").replace(/^(&mut |&|dyn |\*const |\*mut )+/, "").replace(/^\(/, "");
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/.exec(s);
  if (m) return m[1];
  if (/^(__|wasm_bindgen|__wbindgen)/.test(s)) return "wasm-bindgen";
  if (/^(dlmalloc|memcpy|memset|memmove|memcmp)/.test(s)) return "libc/alloc";
  return `(other: ${s.slice(0, 30)})`;
}

/** For the project's own crate, the module two levels down (edgellm::provider::anthropic). */
function moduleOf(n) {
  if (!n || n.startsWith("_R")) return null;
  const s = demangle(n).replace(/^_?<+/, "").replace(/^(&mut |&|dyn )+/, "");
  const parts = s.split(/::|[ <>]/);
  if (parts[0] !== "edgellm" && parts[0] !== "edgellm_worker") return null;
  return parts.slice(0, parts[1] === "provider" || parts[1] === "integrations" || parts[1] === "app" ? 3 : 2).join("::");
}

const byModule = new Map();
const byCrate = new Map();
const byFn = [];
for (const b of bodies) {
  const n = names.get(b.index);
  const c = crateOf(n);
  byCrate.set(c, (byCrate.get(c) ?? 0) + b.size);
  const mod = moduleOf(n);
  if (mod) byModule.set(mod, (byModule.get(mod) ?? 0) + b.size);
  byFn.push({ name: n ? demangle(n) : `func[${b.index}]`, size: b.size });
}
const codeTotal = bodies.reduce((a, b) => a + b.size, 0);
const top = Number(values.top);
const result = {
  file: path.relative(ROOT, file),
  bytes: buf.length,
  gzip: zlib.gzipSync(buf, { level: 9 }).length,
  has_names: names.size > 0,
  functions: bodies.length,
  sections: sections.sort((a, b) => b.size - a.size),
  code_bytes: codeTotal,
  crates: [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, top).map(([crate, size]) => ({ crate, size, pct: Number(((100 * size) / codeTotal).toFixed(1)) })),
  modules: [...byModule].sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, size]) => ({ module, size, pct: Number(((100 * size) / codeTotal).toFixed(1)) })),
  largest_functions: byFn.sort((a, b) => b.size - a.size).slice(0, top),
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`${result.file}: ${result.bytes} bytes (${result.gzip} gzip -9), ${result.functions} functions, names: ${result.has_names}`);
  console.log("sections:", result.sections.map((s) => `${s.name} ${s.size}`).join(", "));
  console.log("code by crate:");
  for (const c of result.crates) console.log(`  ${String(c.size).padStart(9)}  ${c.pct.toFixed(1).padStart(5)}%  ${c.crate}`);
  console.log("code by module of the project's crate:");
  for (const c of result.modules) console.log(`  ${String(c.size).padStart(9)}  ${c.pct.toFixed(1).padStart(5)}%  ${c.module}`);
  console.log("largest functions:");
  for (const f of result.largest_functions) console.log(`  ${String(f.size).padStart(9)}  ${f.name.slice(0, 150)}`);
}
