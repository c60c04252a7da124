#!/usr/bin/env bash
# Installs what the benchmark needs and the project does not: wrk and nginx (apt), the peer
# clients and Portkey's gateway (bench/package.json → bench/node_modules) and LiteLLM's proxy
# (PyPI → bench/.venv). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")"

LITELLM_VERSION=1.108.7

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  echo "setup: installing wrk and nginx-light from apt"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
# The machine's nginx service is not used (bench/lib/upstream.mjs runs its own nginx).

if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install in bench/"
  npm install --no-audit --no-fund --loglevel=error
fi

if [ ! -x .venv/bin/litellm ] || ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$LITELLM_VERSION')" 2>/dev/null; then
  echo "setup: LiteLLM proxy $LITELLM_VERSION into bench/.venv"
  python3 -m venv .venv
  .venv/bin/pip install -q "litellm[proxy]==$LITELLM_VERSION"
fi
echo "setup: ok (wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(nginx -v 2>&1), LiteLLM $(.venv/bin/python -c "import importlib.metadata as m; print(m.version('litellm'))"))"
