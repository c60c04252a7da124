#!/usr/bin/env bash
# The whole benchmark suite, one command: writes bench/report.md (machine description, every
# figure and the targets met / not met) from the results in bench/out/.
#
#   bash bench/run.sh                   # setup + build pkg/ and worker/ + every part (~25 min)
#   BENCH_NO_BUILD=1 bash bench/run.sh  # measure pkg/ and worker/build as they are
#   BENCH_PARTS="gateway sdk" bash bench/run.sh   # only some parts (then the report)
#   BENCH_SECONDS=8                     # wrk seconds per gateway point
#   BENCH_WARMUP_SECONDS=10             # warm-up per gateway and mode before the first point
#
# Placement: the system under test on CPU 1, load generator and upstream on CPU 0
# (BENCH_SUT_CORE / BENCH_LOAD_CORE). Loopback only; every part is bounded in time and count
# and stops the servers it started.
set -uo pipefail
# Everything below is inside main(), which bash parses whole before running it: editing this file
# while a run is in progress cannot make bash resume at a shifted offset.
main() {
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=bench/out
mkdir -p "$OUT"
LOAD=${BENCH_LOAD_CORE:-0}
parts=${BENCH_PARTS:-"size gateway profile-worker sdk profile-sdk memory"}
start=$SECONDS
: >"$OUT/steps.log"

step() { # step NAME TIMEOUT_SECONDS CMD...
  local name=$1 limit=$2
  shift 2
  echo "=== $name ($(date +%T))"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@"
  local rc=$?
  printf '%s rc=%d %ds\n' "$name" "$rc" "$((SECONDS - t0))" | tee -a "$OUT/steps.log"
  return 0
}
want() { [[ " $parts " == *" $1 "* ]]; }

bash bench/setup.sh || { echo "run.sh: setup failed" >&2; exit 1; }
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  # Release builds with each script's defaults, i.e. what ships (build-pkg.sh runs wasm-opt -Oz;
  # build-worker.sh only with OPT=1). FORCE redoes the Worker's wasm-bindgen step even if up to date.
  step build-pkg 1200 bash scripts/build-pkg.sh
  step build-worker 1200 env FORCE=1 bash scripts/build-worker.sh
fi
node bench/machine.mjs >/dev/null

want size && step size 300 taskset -c "$LOAD" node bench/size.mjs
want gateway && step gateway 2400 taskset -c "$LOAD" node bench/gateway.mjs
# Streams that trickle in (~100 upstream reads per stream): ≈ 1.5 min.
want gateway && step trickle 300 taskset -c "$LOAD" node bench/trickle.mjs
if want profile-worker; then
  step profile-worker-json 300 taskset -c "$LOAD" node --experimental-websocket --no-warnings bench/profile-worker.mjs --mode json
  step profile-worker-sse 300 taskset -c "$LOAD" node --experimental-websocket --no-warnings bench/profile-worker.mjs --mode sse
fi
want sdk && step sdk 1200 taskset -c "$LOAD" node bench/sdk.mjs
want profile-sdk && step profile-sdk 300 taskset -c "$LOAD" node bench/profile-sdk.mjs
want memory && step memory 900 taskset -c "$LOAD" node bench/memory.mjs
# The same with a quarter of the clients hanging up after their first chunk (a leak there is
# per disconnect: worker/src/disconnect.rs); results in bench/out/memory-disconnect.json.
want memory && step memory-disconnect 600 taskset -c "$LOAD" node bench/memory.mjs --rounds 8 --cut-every 4 --big-rounds 0 --out memory-disconnect

node -e '
const fs = require("fs"), os = require("os");
fs.writeFileSync(process.argv[1], JSON.stringify({ seconds: Number(process.argv[2]), load_after: os.loadavg().map((x) => x.toFixed(2)).join(" "), steps: fs.readFileSync(process.argv[3], "utf8").trim().split("\n") }, null, 2));
' "$OUT/run.json" "$((SECONDS - start))" "$OUT/steps.log"
node bench/report.mjs
cat "$OUT/steps.log"
}
main "$@"
exit
