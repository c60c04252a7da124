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

wasm_cargo build --release --lib

for target in node web; do
  out="pkg/$target"
  rm -rf "$out"
  case $target in
    node) bindgen_target=experimental-nodejs-module ;;
    web) bindgen_target=web ;;
  esac
  wasm-bindgen --target "$bindgen_target" --remove-name-section --out-name edgellm --out-dir "$out" "$WASM"
  # The package's own files are the public surface; these are internal.
  rm -f "$out/.gitignore" "$out/README.md"
done

if [ "${NO_OPT:-0}" != 1 ] && [ -x "$OPT" ]; then
  "$OPT" -Oz "${OPT_FEATURES[@]}" -o pkg/web/edgellm_bg.wasm.opt pkg/web/edgellm_bg.wasm
  # Both targets emit the same wasm (only the JS glue differs): optimize once when that holds.
  if cmp -s pkg/web/edgellm_bg.wasm pkg/node/edgellm_bg.wasm; then
    cp pkg/web/edgellm_bg.wasm.opt pkg/node/edgellm_bg.wasm
  else
    "$OPT" -Oz "${OPT_FEATURES[@]}" -o pkg/node/edgellm_bg.wasm pkg/node/edgellm_bg.wasm
  fi
  mv pkg/web/edgellm_bg.wasm.opt pkg/web/edgellm_bg.wasm
fi

raw=$(wc -c <pkg/web/edgellm_bg.wasm)
gz=$(gzip -9c pkg/web/edgellm_bg.wasm | wc -c)
printf 'pkg/web/edgellm_bg.wasm: %d bytes raw, %d bytes gzip -9\n' "$raw" "$gz"
printf 'pkg/node/edgellm_bg.wasm: %d bytes raw\n' "$(wc -c <pkg/node/edgellm_bg.wasm)"
