#!/usr/bin/env bash
# Builds the npm package's generated parts from the Rust crate:
#   pkg/node/  wasm-bindgen --target experimental-nodejs-module (ESM, loads the wasm synchronously)
#   pkg/web/   wasm-bindgen --target web (browsers via init(); Workers via initSync with an imported Module)
# The hand-written entry points (pkg/index.js, node.js, workerd.js, api.js, errors.js, index.d.ts) use them.
#   bash scripts/build-pkg.sh            # release build, size-optimized with wasm-opt when binaryen is installed
#   NO_OPT=1 bash scripts/build-pkg.sh   # skip wasm-opt (faster iteration)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/env.sh
source tools/env.sh

WASM=target/wasm32-unknown-unknown/release/edgellm.wasm
OPT=node_modules/.bin/wasm-opt
# The wasm features wasm-bindgen 0.2.130 output uses (the same list worker-build passes).
OPT_FEATURES=(--enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-multivalue --enable-reference-types)
# What ships is compressed, so these are chosen by gzip size (measured 2026-11-25, H14): -Os with
# binaryen's inlining off (inlining shrinks the raw wasm but grows the gzipped one: -Oz made it 4 %
# larger than no wasm-opt at all, this 1.7 % smaller), then functions laid out in the order
# scripts/wasm-order.mjs gives their names (another 3.7 %), then the names stripped.
SHRINK=(-O2 -s 1 --always-inline-max-function-size 0 --one-caller-inline-max-function-size 0
  --flexible-inline-max-function-size 0 --reorder-functions-by-name --strip-debug --strip-producers)
use_opt=0
[ "${NO_OPT:-0}" != 1 ] && [ -x "$OPT" ] && use_opt=1
# wasm-order.mjs needs rustc's function names; wasm-opt strips them afterwards.
name_section=(--remove-name-section)
[ "$use_opt" = 1 ] && name_section=()

# One build at a time (parallel test runs share this checkout), and pkg/node, pkg/web are
# replaced only when complete, so a test reading them never sees a half-written package.
mkdir -p target
exec 9>target/.build-pkg.lock
flock 9

wasm_cargo build --release --lib
stage=target/pkg-stage
rm -rf "$stage"
mkdir -p "$stage"

for target in node web; do
  out="$stage/$target"
  case $target in
    node) bindgen_target=experimental-nodejs-module ;;
    web) bindgen_target=web ;;
  esac
  wasm-bindgen --target "$bindgen_target" "${name_section[@]}" --out-name edgellm --out-dir "$out" "$WASM"
  # The package's own files are the public surface; these are internal.
  rm -f "$out/.gitignore" "$out/README.md"
done

gz() { gzip -9c "$1" | wc -c; }
# shrink IN OUT: the size pipeline; OUT is left unchanged if wasm-opt fails.
shrink() {
  node scripts/wasm-order.mjs "$1" "$1.ordered" &&
    "$OPT" "${SHRINK[@]}" "${OPT_FEATURES[@]}" -o "$2" "$1.ordered"
  local rc=$?
  rm -f "$1.ordered"
  return $rc
}
if [ "$use_opt" = 1 ]; then
  web="$stage/web/edgellm_bg.wasm"
  node="$stage/node/edgellm_bg.wasm"
  # Both targets emit the same wasm (only the JS glue differs): optimize once when that holds.
  same=0
  cmp -s "$web" "$node" && same=1
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
  if [ "$same" = 1 ]; then
    cp "$web" "$node"
  elif [ "$after" -lt "$before" ]; then
    shrink "$node" "$node.opt" && mv "$node.opt" "$node"
  else
    "$OPT" --strip-debug --strip-producers "${OPT_FEATURES[@]}" -o "$node.plain" "$node" && mv "$node.plain" "$node"
  fi
fi

for target in node web; do
  rm -rf "pkg/$target.old"
  [ -d "pkg/$target" ] && mv "pkg/$target" "pkg/$target.old"
  mv "$stage/$target" "pkg/$target"
  rm -rf "pkg/$target.old"
done

br=$(node -e 'const z=require("zlib");process.stdout.write(String(z.brotliCompressSync(require("fs").readFileSync(process.argv[1]),{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))' pkg/web/edgellm_bg.wasm)
printf 'pkg/web/edgellm_bg.wasm: %d bytes raw, %d gzip -9, %d brotli -11 (pkg/node: same wasm, %d bytes)\n' \
  "$(wc -c <pkg/web/edgellm_bg.wasm)" "$(gz pkg/web/edgellm_bg.wasm)" "$br" "$(wc -c <pkg/node/edgellm_bg.wasm)"
