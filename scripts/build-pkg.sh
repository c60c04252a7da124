#!/usr/bin/env bash
# Builds the npm package's generated part from the Rust crate:
#   pkg/web/   wasm-bindgen --target web: the one .wasm every runtime loads (browsers via init();
#              Workers via initSync with an imported Module; Node via initSync with the file's
#              bytes, see pkg/node.js). One copy, so the tarball carries the module once.
# The hand-written modules (pkg/*-entry.js, api.js, errors.js, index.d.ts) use it; pkg/index.js,
# node.js and workerd.js are bundles of the entries (see the end of this script).
#   bash scripts/build-pkg.sh            # release build, size-optimized with wasm-opt when binaryen is installed
#   NO_OPT=1 bash scripts/build-pkg.sh   # skip wasm-opt (faster iteration)
#   PKG_BUILD_STD=0 bash scripts/build-pkg.sh   # the prebuilt std (no rust-src needed; ~4-7 % larger gzip)
#
# What goes in (measured by gzip -9 of the shipped wasm, 2026-11-25):
# - cargo features `js` only: not the default `integrations` (service-specific loggers and the
#   gateway's request logging, -19 KB gzip); see Cargo.toml [features].
# - std rebuilt from source with size flags (-17..-26 KB gzip): panics abort at once, with no
#   message formatting (-Cpanic=immediate-abort) and no file/line strings (-Zlocation-detail=none).
#   A panic is a wasm trap either way (panic = "abort" ran std's default hook, which prints
#   nothing on wasm32-unknown-unknown): JS sees a WebAssembly.RuntimeError, as before.
#   -Csymbol-mangling-version=legacy: RUSTC_BOOTSTRAP makes rustc mangle as nightly does (v0);
#   legacy names lay out better in wasm-order.mjs (-2.4 KB gzip) and bench/wasm-size.mjs groups
#   by them. These are unstable flags, enabled with RUSTC_BOOTSTRAP=1 on the same stable
#   toolchain as everything else (no nightly), as tools/env.sh's Debian mode already does for
#   -Zbuild-std. Needs rust-src (tools/install.sh adds it); without it this falls back to the
#   prebuilt std with a warning. std's `optimize_for_size` feature picks core/alloc's smaller
#   algorithm variants (sort, fmt): -2.9 KB gzip. -Zfmt-debug=none is NOT used: it would empty `{:?}` output the
#   API returns (err.edgellmKind) for 0.4 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/env.sh
source tools/env.sh

# Its own target dir: the flags below differ from every other wasm build (tests, clippy, the
# worker), and sharing target/ would rebuild everything on each switch.
PKG_TARGET_DIR=target/pkg-build
WASM=$PKG_TARGET_DIR/wasm32-unknown-unknown/release/edgellm.wasm
FEATURES=(--no-default-features --features js)
SIZE_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Csymbol-mangling-version=legacy"
OPT=node_modules/.bin/wasm-opt
# The wasm features wasm-bindgen 0.2.130 output uses (worker-build's list, less multivalue: the
# export shims use return pointers, see wasm-no-multivalue.mjs below).
OPT_FEATURES=(--enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-reference-types)
# What ships is compressed, so these are chosen by gzip size (measured 2026-11-25, H14): -Os with
# binaryen's inlining off (inlining shrinks the raw wasm but grows the gzipped one: -Oz made it 4 %
# larger than no wasm-opt at all, this 1.7 % smaller), then functions laid out in the order
# scripts/wasm-order.mjs gives their names (another 3.7 %), then the names stripped.
# --code-folding (identical code tails merged) and --converge (the passes rerun until nothing
# changes) take another 0.2 %, and the target_features section (read by no runtime) goes:
# -694 bytes gzip together (H4, 2026-11-25; ~20 s more build time).
SHRINK=(-O2 -s 1 --always-inline-max-function-size 0 --one-caller-inline-max-function-size 0
  --flexible-inline-max-function-size 0 --code-folding --converge --reorder-functions-by-name
  --strip-debug --strip-producers --strip-target-features)
use_opt=0
[ "${NO_OPT:-0}" != 1 ] && [ -x "$OPT" ] && use_opt=1
# wasm-order.mjs needs rustc's function names; wasm-opt strips them afterwards.
name_section=(--remove-name-section)
[ "$use_opt" = 1 ] && name_section=()

# One build at a time (parallel test runs share this checkout), and pkg/web is
# replaced only when complete, so a test reading it never sees a half-written package.
mkdir -p target
exec 9>target/.build-pkg.lock
flock 9

build_std=0
if [ "${PKG_BUILD_STD:-1}" = 1 ]; then
  if [ "$WASM_TOOLCHAIN" = debian ] ||
    [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
    build_std=1
  else
    echo "build-pkg.sh: WARNING: no rust-src for $(rustc --version): building with the prebuilt std" \
      "(larger package; run tools/install.sh or rustup component add rust-src)" >&2
  fi
fi
if [ "$build_std" = 1 ]; then
  RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$SIZE_RUSTFLAGS" CARGO_TARGET_DIR=$PKG_TARGET_DIR \
    wasm_cargo build --release --lib "${FEATURES[@]}" -Zbuild-std-features=optimize_for_size
else
  CARGO_TARGET_DIR=$PKG_TARGET_DIR wasm_cargo build --release --lib "${FEATURES[@]}"
fi
stage=target/pkg-stage
rm -rf "$stage"
mkdir -p "$stage"
out="$stage/web"
# Export shims with return pointers, not multi-value returns: Node 20's V8 compiles a wrapper
# for each multi-result export signature when the module is created (≈ 3 ms of a cold start;
# scripts/wasm-no-multivalue.mjs says why).
node scripts/wasm-no-multivalue.mjs "$WASM" "$stage/edgellm.wasm"
wasm-bindgen --target web "${name_section[@]}" --out-name edgellm --out-dir "$out" "$stage/edgellm.wasm"
rm "$stage/edgellm.wasm"
# The package's own files are the public surface; these are internal.
rm -f "$out/.gitignore" "$out/README.md"

gz() { gzip -9c "$1" | wc -c; }
# shrink IN OUT: the size pipeline; OUT is left unchanged if wasm-opt fails.
# wasm-drop-closure-shims.mjs frees the closure shims no closure uses for wasm-opt to remove
# (-668 B of the gzipped package, 2026-11-26; it says why they are there).
shrink() {
  node scripts/wasm-drop-closure-shims.mjs "$1" "$1.shims" &&
    node scripts/wasm-order.mjs "$1.shims" "$1.ordered" &&
    "$OPT" "${SHRINK[@]}" "${OPT_FEATURES[@]}" -o "$2" "$1.ordered"
  local rc=$?
  rm -f "$1.shims" "$1.ordered"
  return $rc
}
if [ "$use_opt" = 1 ]; then
  web="$stage/web/edgellm_bg.wasm"
  shrink "$web" "$web.opt"
  # Keep wasm-opt's output only if it is smaller gzipped than the plain (name-stripped) module.
  "$OPT" --strip-debug --strip-producers "${OPT_FEATURES[@]}" -o "$web.plain" "$web"
  before=$(gz "$web.plain")
  after=$(gz "$web.opt")
  if [ "$after" -lt "$before" ]; then
    mv "$web.opt" "$web"
    rm "$web.plain"
    echo "wasm-opt: gzip $before -> $after bytes (kept)"
  else
    mv "$web.plain" "$web"
    rm "$web.opt"
    echo "wasm-opt: gzip $before -> $after bytes (not smaller compressed: kept the wasm-bindgen output)"
  fi
fi

# Short names for the imports and wasm-bindgen's internal exports, in the .wasm and the glue at
# once: their hashed names do not compress (-3 KB gzip; scripts/wasm-short-imports.mjs).
node scripts/wasm-short-imports.mjs "$stage/web/edgellm_bg.wasm" "$stage/web/edgellm.js"
# Fallible imports declare the parameters wasm passes: fewer wasm-to-JS wrappers for V8 to
# compile at instantiation (scripts/glue-import-arity.mjs).
node scripts/glue-import-arity.mjs "$stage/web/edgellm.js"

# pkg/node/ was a second, byte-identical copy (the experimental-nodejs-module glue): gone.
for target in web node; do
  rm -rf "pkg/$target.old"
  [ -d "pkg/$target" ] && mv "pkg/$target" "pkg/$target.old"
  [ -d "$stage/$target" ] && mv "$stage/$target" "pkg/$target"
  rm -rf "pkg/$target.old"
done

# Each runtime's entry as one minified module, built from pkg/<entry>-entry.js: Node spends
# ≈ 0.5 ms per ES module it loads (pkg/node-entry.js says why), and one minified file is what
# every runtime downloads: the three entries, the shared modules and the wasm-bindgen glue
# (pkg/web/edgellm.js, kept as generated for tests/js/helpers.mjs) went from 18.5 to ≈ 9 KB
# gzip (2026-11-26). Error and class names survive minifying (pkg/errors.js, pkg/router.js).
# Without esbuild (no `npm ci`), each entry is copied as it is, which works the same, only
# larger and slower to load.
ESBUILD=node_modules/.bin/esbuild
for entry in node index workerd; do
  if [ -x "$ESBUILD" ]; then
    platform=(--platform=browser --target=es2022)
    [ "$entry" = node ] && platform=(--platform=node --target=node20)
    # workerd.js keeps its `.wasm` import: wrangler turns it into a WebAssembly.Module.
    "$ESBUILD" "pkg/$entry-entry.js" --bundle --minify --format=esm "${platform[@]}" \
      --external:./web/edgellm_bg.wasm --log-level=warning --outfile="pkg/$entry.js.tmp"
  else
    echo "build-pkg.sh: esbuild not installed (npm ci): pkg/$entry.js is the unbundled entry" >&2
    cp "pkg/$entry-entry.js" "pkg/$entry.js.tmp"
  fi
  mv "pkg/$entry.js.tmp" "pkg/$entry.js"
done

br=$(node -e 'const z=require("zlib");process.stdout.write(String(z.brotliCompressSync(require("fs").readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))' pkg/web/edgellm_bg.wasm)
printf 'pkg/web/edgellm_bg.wasm: %d bytes raw, %d gzip -9, %d brotli -11 (std from source: %s; cargo output %s)\n' \
  "$(wc -c <pkg/web/edgellm_bg.wasm)" "$(gz pkg/web/edgellm_bg.wasm)" "$br" "$([ "$build_std" = 1 ] && echo yes || echo no)" "$WASM"
