#!/usr/bin/env bash
# Fails if the npm package's download size passes the budget. Reads pkg/ as
# scripts/build-pkg.sh left it (run that first; a wasm-opt'ed release build is what ships).
#
# What is measured: for each runtime entry point (node.js, index.js, workerd.js; all three load
# the one build in pkg/web/), the gzip -9 size of what that runtime loads: the entry, the shared
# JS modules (every other pkg/*.js), the wasm-bindgen glue and the .wasm. Every provider is
# compiled into the one .wasm, so this is the size "with every provider included". The largest
# of these must be within the budget. The npm tarball (the build, typings, package.json) is
# printed too.
#
#   bash scripts/size-budget.sh                 # budget 200 KiB (204800 bytes)
#   SIZE_BUDGET_BYTES=250000 bash scripts/size-budget.sh
#   bash scripts/size-budget.sh --json          # one JSON object on stdout (for bench/)
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${SIZE_BUDGET_BYTES:-204800}
json=0
[ "${1:-}" = "--json" ] && json=1

gz() { gzip -9 -n -c "$1" | wc -c; }
say() { [ "$json" = 1 ] || printf '%s\n' "$*"; }

if [ ! -f "pkg/web/edgellm_bg.wasm" ] || [ ! -f "pkg/web/edgellm.js" ]; then
  echo "size-budget.sh: pkg/web is not built; run bash scripts/build-pkg.sh first" >&2
  exit 2
fi

entries=(node.js index.js workerd.js)
shared=()
for f in pkg/*.js; do
  name=$(basename "$f")
  # <entry>-entry.js is the source of a bundled entry: no runtime loads it.
  case " ${entries[*]} " in *" $name "* | *" ${name%-entry.js}.js "*) continue ;; esac
  shared+=("$f")
done

worst=0
worst_name=""
runtime_json=""
for entry in "${entries[@]}"; do
  [ -f "pkg/$entry" ] || continue
  files=("pkg/$entry" "${shared[@]}" "pkg/web/edgellm.js" "pkg/web/edgellm_bg.wasm")
  # A bundled entry imports no sibling JS module (workerd.js still imports the .wasm): it loads
  # only itself and the .wasm.
  grep -Eq 'from ?"\./[^"]*\.js"' "pkg/$entry" || files=("pkg/$entry" "pkg/web/edgellm_bg.wasm")
  raw=0
  total=0
  for f in "${files[@]}"; do
    raw=$((raw + $(wc -c <"$f")))
    total=$((total + $(gz "$f")))
  done
  wasm_gz=$(gz "pkg/web/edgellm_bg.wasm")
  js_gz=$((total - wasm_gz))
  say "$(printf '%-11s %8d bytes gzip -9 (wasm %d + JS %d; %d raw) in %d files' "$entry" "$total" "$wasm_gz" "$js_gz" "$raw" "${#files[@]}")"
  runtime_json+="${runtime_json:+,}\"$entry\":{\"gzip\":$total,\"wasm_gzip\":$wasm_gz,\"js_gzip\":$js_gz,\"raw\":$raw,\"files\":${#files[@]}}"
  if [ "$total" -gt "$worst" ]; then
    worst=$total
    worst_name=$entry
  fi
done

tarball=""
if command -v npm >/dev/null; then
  tarball=$(cd pkg && npm pack --dry-run --json 2>/dev/null | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"))[0];
    process.stdout.write(`${j.size} ${j.unpackedSize} ${j.entryCount}`);' 2>/dev/null || true)
fi
if [ -n "$tarball" ]; then
  read -r tar_size tar_unpacked tar_files <<<"$tarball"
  say "$(printf 'npm tarball %8d bytes (.tgz; %d unpacked, %d files: one build + typings)' "$tar_size" "$tar_unpacked" "$tar_files")"
fi

ok=true
[ "$worst" -le "$budget" ] || ok=false
if [ "$json" = 1 ]; then
  printf '{"budget":%d,"largest":%d,"largest_entry":"%s","ok":%s,"runtimes":{%s}%s}\n' \
    "$budget" "$worst" "$worst_name" "$ok" "$runtime_json" \
    "${tar_size:+,\"tarball\":{\"size\":$tar_size,\"unpacked\":$tar_unpacked,\"files\":$tar_files\}}"
fi
if [ "$ok" = true ]; then
  say "size budget OK: $worst_name loads $worst bytes gzip ≤ $budget"
else
  echo "size budget EXCEEDED: $worst_name loads $worst bytes gzip > $budget (over by $((worst - budget)))" >&2
  exit 1
fi
