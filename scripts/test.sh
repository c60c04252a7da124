#!/usr/bin/env bash
# Every test, on a fresh machine: installs the toolchain (idempotent), builds once, runs all suites.
#   bash scripts/test.sh            # everything
#   QUICK=1 bash scripts/test.sh    # skip installs and lints (for local iteration)
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS
step() { printf '\n==> %s (%ds)\n' "$*" "$((SECONDS - T0))"; }

if [ "${QUICK:-0}" != 1 ]; then
  step "toolchain"
  WITH_WORKER_BUILD=0 bash tools/install.sh
  step "npm ci"
  npm ci --no-audit --no-fund
fi
# shellcheck source=tools/env.sh
source tools/env.sh

if [ "${QUICK:-0}" != 1 ]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check
  step "cargo clippy (native)"
  cargo clippy --workspace --all-targets -- -D warnings
  step "cargo clippy (wasm32: SDK and worker)"
  wasm_cargo clippy --workspace --all-targets -- -D warnings
fi

step "cargo test (native: transforms, decoders, router, cost, fixtures, gateway app)"
# Doc tests run on their own: in a workspace build the worker's dev-dependencies (schemars for
# the OpenAPI generator) unify serde_json's features differently, and rustdoc then sees two
# serde_json artifacts.
cargo test --workspace --all-targets
cargo test --doc

step "wasm tests in Node (FetchHost: fetch, abort, timeouts, JS errors)"
wasm_cargo test --test wasm

step "build pkg/ (wasm-bindgen, one web build for every runtime) and check its size"
bash scripts/build-pkg.sh
# The goal is 200 KiB (scripts/size-budget.sh's default); the package is ~296 KB gzip today
# (bench/report.md), so CI holds the line at 300 KiB until code-level work brings it under the
# goal: a change that grows the package past this fails here.
SIZE_BUDGET_BYTES=${SIZE_BUDGET_BYTES:-307200} bash scripts/size-budget.sh

if [ -f scripts/build-worker.sh ]; then
  step "build worker"
  bash scripts/build-worker.sh
fi

step "node tests (pkg against local mocks, browser, worker in workerd)"
shopt -s nullglob
files=(tests/js/*.test.mjs worker/test/*.test.mjs)
node --test --test-concurrency=1 "${files[@]}"

step "done"
