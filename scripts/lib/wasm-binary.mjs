// Reading (and LEB128-writing) the wasm binary format, for the build scripts and tests that look
// inside a module (scripts/wasm-order.mjs, scripts/wasm-no-multivalue.mjs,
// scripts/wasm-drop-closure-shims.mjs, tests/js/coldstart.test.mjs).
// https://webassembly.github.io/spec/core/binary/modules.html

/** An unsigned LEB128 at `pos`: `[value, position after it]`. */
export function leb(buf, pos) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, pos];
  }
}

/** `n` as an unsigned LEB128. */
export function uleb(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
}

/** The module's sections in order, as `{ id, start, payload, end }` (byte offsets). */
export function sections(bytes) {
  const out = [];
  for (let pos = 8; pos < bytes.length; ) {
    const id = bytes[pos];
    const [size, payload] = leb(bytes, pos + 1);
    out.push({ id, start: pos, payload, end: payload + size });
    pos = payload + size;
  }
  return out;
}

/** Skips one value type (a reference type may carry a heap type index). */
export function valtype(buf, pos) {
  const t = buf[pos++];
  if (t === 0x63 || t === 0x64) [, pos] = leb(buf, pos);
  return pos;
}

/** Skips limits (flags, min, and max when flag bit 0 is set). */
function limits(buf, pos) {
  let flags;
  [flags, pos] = leb(buf, pos);
  [, pos] = leb(buf, pos);
  if (flags & 1) [, pos] = leb(buf, pos);
  return pos;
}

/**
 * The import section's entries from `payload` (its start), as `{ kind, type }`: `kind` 0 is a
 * function, whose `type` is its type index (the others carry no `type`). Imported functions come
 * first in the function index space.
 */
export function imports(bytes, payload) {
  const out = [];
  let [count, p] = leb(bytes, payload);
  for (let i = 0; i < count; i++) {
    let len;
    [len, p] = leb(bytes, p); // module name
    p += len;
    [len, p] = leb(bytes, p); // field name
    p += len;
    const kind = bytes[p++];
    if (kind === 0) {
      let type;
      [type, p] = leb(bytes, p);
      out.push({ kind, type });
      continue;
    }
    if (kind === 1) p = limits(bytes, valtype(bytes, p)); // table
    else if (kind === 2) p = limits(bytes, p); // memory
    else if (kind === 3) p = valtype(bytes, p) + 1; // global: type, mutability
    else [, p] = leb(bytes, p + 1); // tag: attribute, type index
    out.push({ kind });
  }
  return out;
}
