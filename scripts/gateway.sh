#!/usr/bin/env bash
# Runs the edgellm gateway locally: an OpenAI-compatible endpoint on http://127.0.0.1:4000
# (LiteLLM's port), configured by a LiteLLM config.yaml. Builds the Worker if needed, then serves
# it with `wrangler dev --local`: no Cloudflare account, no network.
#
#   bash scripts/gateway.sh                        # built-in config: model `edgellm-demo` (a mock,
#                                                  # answers without any provider key)
#   bash scripts/gateway.sh --config config.yaml   # your config (see examples/config.yaml)
#   bash scripts/gateway.sh --port 8080            # or PORT=8080
#   bash scripts/gateway.sh --env-file .env        # provider keys from a file
#
# Provider keys and `os.environ/NAME` values come from your shell environment: the variables
# the config names, the usual provider ones (*_API_KEY, *_API_BASE, AWS_*, …) and LITELLM_*
# are handed to the Worker through a private temporary env file (never on the command line).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

port=${PORT:-4000}
config=${EDGELLM_CONFIG_FILE:-worker/config.default.yaml}
env_files=()
while [ $# -gt 0 ]; do
  case $1 in
    --config) config=$2; shift 2 ;;
    --config=*) config=${1#--config=}; shift ;;
    --port) port=$2; shift 2 ;;
    --port=*) port=${1#--port=}; shift ;;
    --env-file) env_files+=(--env-file "$2"); shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "gateway.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ -f "$config" ] || { echo "gateway.sh: no config file at $config" >&2; exit 2; }
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
export EDGELLM_CONFIG_FILE=$config

# First run on a fresh machine: install the toolchain (rust wasm32 target, wasm-bindgen CLI; no
# browser) and the pinned npm tools. Both steps are no-ops once done.
if ! command -v wasm-bindgen >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen" ] \
   || ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  WITH_BROWSER=0 WITH_WORKER_BUILD=0 bash tools/install.sh
fi
if [ ! -x node_modules/.bin/wrangler ]; then
  npm ci --no-audit --no-fund
fi

# Build (a no-op when up to date).
bash scripts/build-worker.sh

# Hand the relevant shell variables to the Worker without putting values in argv.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
wanted=$(grep -o 'os\.environ/[A-Za-z0-9_]*' "$config" | sed 's|os\.environ/||' | sort -u || true)
{
  env | cut -d= -f1 | grep -E '^(LITELLM_|AWS_|AZURE_|VERTEX|GOOGLE_|GEMINI_)|_(API_KEY|API_BASE|BASE_URL|API_VERSION|ACCOUNT_ID)$' || true
  printf '%s\n' $wanted
} | sort -u | while read -r name; do
  [ -n "$name" ] && [ -n "${!name:-}" ] || continue
  # dotenv quoting: JSON string escaping is a subset that wrangler's parser reads back.
  printf '%s=%s\n' "$name" "$(node -e 'process.stdout.write(JSON.stringify(process.env[process.argv[1]]))' "$name")"
done >"$tmp/shell.env"

if [ "${EDGELLM_CONFIG:-}" != "" ]; then
  echo "gateway.sh: note: EDGELLM_CONFIG is set in your shell and overrides $config" >&2
  printf 'EDGELLM_CONFIG=%s\n' "$(node -e 'process.stdout.write(JSON.stringify(process.env.EDGELLM_CONFIG))')" >>"$tmp/shell.env"
fi

auth=""
if grep -qE '^\s*master_key:' "$config" || [ -n "${LITELLM_MASTER_KEY:-}" ]; then
  auth=" -H \"Authorization: Bearer \$LITELLM_MASTER_KEY\""
fi
model=$(grep -m1 -oE 'model_name:\s*["'\'']?[^"'\'' #]+' "$config" | sed -E 's/model_name:\s*["'\'']?//' || true)
cat <<EOF

edgellm gateway (config: $config)
  URL:    http://127.0.0.1:$port   (OpenAI base_url: http://127.0.0.1:$port/v1)
  try:    curl http://127.0.0.1:$port/v1/chat/completions -H 'content-type: application/json'$auth \\
            -d '{"model": "${model:-edgellm-demo}", "messages": [{"role": "user", "content": "Hello"}]}'
  models: curl http://127.0.0.1:$port/v1/models$auth
  stop:   Ctrl-C

EOF

export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
inspector=${INSPECTOR_PORT:-$((port + 5229))}
cd "$ROOT/worker"
# Not `exec`: the EXIT trap must remove the env file when wrangler stops.
"$ROOT/node_modules/.bin/wrangler" dev --local --ip 127.0.0.1 --port "$port" \
  --inspector-port "$inspector" --show-interactive-dev-session=false \
  --var "EDGELLM_ACCESS_LOG:${EDGELLM_ACCESS_LOG:-1}" \
  --env-file "$tmp/shell.env" "${env_files[@]}"
