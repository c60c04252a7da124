#!/usr/bin/env bash
# Builds the npm package's generated parts from the Rust crate:
#   pkg/node/  wasm-bindgen --target experimental-nodejs-module (ESM, loads the wasm synchronously)
#   pkg/web/   wasm-bindgen --target web (browsers via init(); Workers via initSync with an imported Module)
# The hand-written entry points (pkg/index.js, node.js, workerd.js, api.js, errors.js, index.d.ts) use them.
#   bash scripts/build-pkg.sh            # release build, wasm-opt -Oz when binaryen is installed
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
  wasm-bindgen --target "$bindgen_target" --remove-name-section --out-name edgellm --out-dir "$out" "$WASM"
  # The package's own files are the public surface; these are internal.
  rm -f "$out/.gitignore" "$out/README.md"
done

gz() { gzip -9c "$1" | wc -c; }
if [ "${NO_OPT:-0}" != 1 ] && [ -x "$OPT" ]; then
  "$OPT" -Oz "${OPT_FEATURES[@]}" -o "$stage/web/edgellm_bg.wasm.opt" "$stage/web/edgellm_bg.wasm"
  # What ships is compressed: keep wasm-opt's output only if it is smaller gzipped. (On this
  # crate -Oz cut the raw size ~9% but grew the gzip size ~10% when measured on 2026-11-25.)
  before=$(gz "$stage/web/edgellm_bg.wasm")
  after=$(gz "$stage/web/edgellm_bg.wasm.opt")
  if [ "$after" -lt "$before" ]; then
    # Both targets emit the same wasm (only the JS glue differs): optimize once when that holds.
    if cmp -s "$stage/web/edgellm_bg.wasm" "$stage/node/edgellm_bg.wasm"; then
      cp "$stage/web/edgellm_bg.wasm.opt" "$stage/node/edgellm_bg.wasm"
    else
      "$OPT" -Oz "${OPT_FEATURES[@]}" -o "$stage/node/edgellm_bg.wasm" "$stage/node/edgellm_bg.wasm"
    fi
    mv "$stage/web/edgellm_bg.wasm.opt" "$stage/web/edgellm_bg.wasm"
    echo "wasm-opt -Oz: gzip $before -> $after bytes (kept)"
  else
    rm "$stage/web/edgellm_bg.wasm.opt"
    echo "wasm-opt -Oz: gzip $before -> $after bytes (not smaller compressed: kept the wasm-bindgen output)"
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
