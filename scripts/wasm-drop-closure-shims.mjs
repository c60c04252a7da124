// Drops the closure invoke shims no closure uses. wasm-bindgen's descriptor of every closure
// type takes its invoke shim's address, which puts the shim in the function table; the
// descriptors of every import that survives linking (all of js-sys's, whether called or not) do
// so, and wasm-bindgen removes the descriptors but not their table entries. JS calls a shim only
// through the export wasm-bindgen makes for each closure type actually created, never through
// the table, so the table entries of the unexported shims are dead: this points them at an
// exported shim, and wasm-opt then removes the shims and what only they call.
//
//   node scripts/wasm-drop-closure-shims.mjs in.wasm out.wasm   (needs the name section)
import { readFileSync, writeFileSync } from "node:fs";
import { imports, leb, sections as sectionsOf, uleb } from "./lib/wasm-binary.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/wasm-drop-closure-shims.mjs in.wasm out.wasm");
  process.exit(2);
}
const bytes = readFileSync(input);
const utf8 = new TextDecoder();
const sections = sectionsOf(bytes);

function str(p) {
  const [len, at] = leb(bytes, p);
  return [utf8.decode(bytes.subarray(at, at + len)), at + len];
}

let imported = 0;
for (const s of sections.filter((s) => s.id === 2)) {
  imported += imports(bytes, s.payload).filter((i) => i.kind === 0).length;
}
const exported = new Set();
for (const s of sections.filter((s) => s.id === 7)) {
  let [count, p] = leb(bytes, s.payload);
  for (let i = 0; i < count; i++) {
    [, p] = str(p);
    const kind = bytes[p++];
    let index;
    [index, p] = leb(bytes, p);
    if (kind === 0) exported.add(index);
  }
}
const shims = new Set();
for (const s of sections.filter((s) => s.id === 0)) {
  let [name, p] = str(s.payload);
  if (name !== "name") continue;
  while (p < s.end) {
    const kind = bytes[p];
    const [size, body] = leb(bytes, p + 1);
    if (kind === 1) {
      let [count, q] = leb(bytes, body);
      for (let i = 0; i < count; i++) {
        let index;
        [index, q] = leb(bytes, q);
        [name, q] = str(q);
        if (/^wasm_bindgen::convert::closures::.*::invoke::h[0-9a-f]{16}$/.test(name)) shims.add(index);
      }
    }
    p = body + size;
  }
}
if (!shims.size) {
  console.error(`wasm-drop-closure-shims: ${input} names no closure shims (no name section?)`);
  process.exit(1);
}
const live = [...shims].find((i) => exported.has(i));
if (live === undefined) {
  console.error("wasm-drop-closure-shims: no exported closure shim to point the dead entries at");
  process.exit(1);
}

const parts = [bytes.subarray(0, 8)];
let dropped = 0;
for (const s of sections) {
  if (s.id !== 9) {
    parts.push(bytes.subarray(s.start, s.end));
    continue;
  }
  let [count, p] = leb(bytes, s.payload);
  const out = [uleb(count)];
  for (let i = 0; i < count; i++) {
    const flags = bytes[p];
    if (flags !== 0) {
      console.error(`wasm-drop-closure-shims: element segment kind ${flags} not handled`);
      process.exit(1);
    }
    // Active segment of function indices: flags, offset expression (ends with 0x0b), vector.
    const head = p;
    p += 1;
    while (bytes[p] !== 0x0b) p++;
    p++;
    out.push(bytes.subarray(head, p));
    let n;
    [n, p] = leb(bytes, p);
    out.push(uleb(n));
    for (let j = 0; j < n; j++) {
      let f;
      [f, p] = leb(bytes, p);
      if (shims.has(f) && !exported.has(f)) {
        f = live;
        dropped++;
      }
      out.push(uleb(f));
    }
  }
  const payload = Buffer.concat(out);
  parts.push(Buffer.concat([Buffer.from([9]), uleb(payload.length), payload]));
}
writeFileSync(output, Buffer.concat(parts));
console.log(`wasm-drop-closure-shims: ${dropped} of ${shims.size} closure shims unreferenced`);
