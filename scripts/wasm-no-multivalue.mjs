// Marks the `multivalue` feature as not used in a wasm module's `target_features` section, so
// that wasm-bindgen gives its export shims the return-pointer ABI (results written to the shadow
// stack) instead of multi-value returns. Nothing else changes: rustc's own code does not return
// multiple values (Rust's wasm32 ABI returns through memory), only wasm-bindgen's shims would.
//
// Why: V8 11.x (Node 20) compiles at `new WebAssembly.Module` a TurboFan JS-to-wasm wrapper for
// every exported signature its generic wrapper does not cover, and that is every signature with
// more than one result. edgellm's exports had 17 such signatures: ≈ 3 ms of CPU per process
// start, about a sixth of a cold start (import + first call). With return pointers no export
// returns more than one value and no wrapper is compiled up front.
//
//   node scripts/wasm-no-multivalue.mjs in.wasm out.wasm
import { readFileSync, writeFileSync } from "node:fs";
import { leb, sections } from "./lib/wasm-binary.mjs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node scripts/wasm-no-multivalue.mjs in.wasm out.wasm");
  process.exit(2);
}
const bytes = Buffer.from(readFileSync(input));

// The section is a vector of (prefix byte, name): `+` used, `-` not used, `=` required. Only the
// prefix byte is rewritten, so every size and offset stays as it was.
let found = false;
for (const { id, payload } of sections(bytes)) {
  if (id !== 0) continue;
  const [nameLen, namePos] = leb(bytes, payload);
  if (bytes.toString("utf8", namePos, namePos + nameLen) !== "target_features") continue;
  let [count, p] = leb(bytes, namePos + nameLen);
  for (let i = 0; i < count; i++) {
    const prefix = p;
    const [len, name] = leb(bytes, p + 1);
    if (bytes.toString("utf8", name, name + len) === "multivalue") {
      bytes[prefix] = 0x2d; // '-'
      found = true;
    }
    p = name + len;
  }
}
// rustc without the feature (or a module without the section) needs no rewrite: wasm-bindgen
// then uses return pointers already.
if (!found) console.error(`wasm-no-multivalue: ${input} does not list multivalue; copied as it is`);
writeFileSync(output, bytes);
