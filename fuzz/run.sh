#!/usr/bin/env bash
# Runs the fuzz targets one after another (never two at once: the machine is shared), niced,
# each until it has executed RUNS inputs (default 10 million) or MAX_TIME seconds passed.
# Appends one line per target to fuzz/target/logs/summary.tsv and keeps libFuzzer's log in
# fuzz/target/logs/<target>.log (git-ignored); a crash input lands in fuzz/artifacts/<target>/.
#
#   fuzz/seed.sh && fuzz/run.sh                      # all targets, 10M executions each
#   TARGETS="sse config" RUNS=1000000 fuzz/run.sh    # a subset, shorter
#   NO_BUILD=1 fuzz/run.sh                           # use the binaries already built
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
TARGETS=${TARGETS:-"request_json ndjson stream_decoder sse eventstream config"}
RUNS=${RUNS:-10000000}
MAX_TIME=${MAX_TIME:-7200}
mkdir -p target/logs
[ -f target/logs/summary.tsv ] ||
  printf 'target\texecutions\texec_per_s\tseconds\tmax_len\tcorpus\tpeak_rss_mb\tresult\n' >target/logs/summary.tsv

# Longest input per target: enough for several events/messages or a whole small config, short
# enough that one execution stays cheap (every SSE/NDJSON/AWS input is deframed four ways).
max_len() {
  case $1 in
    request_json | config) echo 2048 ;;
    *) echo 1024 ;;
  esac
}

# No sanitizer: the code under test is safe Rust (unsafe_code is forbidden in the worker crate
# and unused in the decoders), so AddressSanitizer finds nothing and halves the speed; -O keeps
# debug assertions and overflow checks on.
# Built once up front, then the binaries run directly: other engineers edit the crate meanwhile,
# and `cargo fuzz run` would rebuild in the middle of the series.
if [ "${NO_BUILD:-0}" != 1 ]; then
  nice -n 19 cargo +nightly fuzz build -O -s none >target/logs/build.log 2>&1 ||
    { echo "fuzz build failed: fuzz/target/logs/build.log" >&2; exit 1; }
fi
bin=target/x86_64-unknown-linux-gnu/release

for t in $TARGETS; do
  len=$(max_len "$t")
  mkdir -p "corpus/$t" "artifacts/$t"
  start=$(date +%s)
  nice -n 19 "$bin/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" \
    -max_len="$len" -runs="$RUNS" -max_total_time="$MAX_TIME" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 >"target/logs/$t.log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  stat() { grep -m1 "^stat::$1:" "target/logs/$t.log" | awk '{print $2}'; }
  execs=$(stat number_of_executed_units)
  rate=$(stat average_exec_per_sec)
  rss=$(stat peak_rss_mb)
  corpus=$(ls "corpus/$t" | wc -l)
  if [ "$rc" = 0 ]; then result="ok, no crash"; else result="exit $rc: see target/logs/$t.log and artifacts/$t/"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${execs:-?}" "${rate:-?}" "$secs" "$len" "$corpus" "${rss:-?}" "$result" |
    tee -a target/logs/summary.tsv
done
