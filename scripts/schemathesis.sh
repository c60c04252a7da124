#!/usr/bin/env bash
# Schema-driven fuzzing of the gateway: schemathesis (PyPI) reads /openapi.json from the running
# gateway, generates requests for every operation (valid and invalid bodies, parameters and
# headers) and checks every answer: no 5xx, documented status codes, content types, headers and
# bodies that match the response schemas, auth enforced where the document says so, 405 with
# `Allow` for other methods.
#
#   bash scripts/schemathesis.sh                    # bounded: 25 examples per operation, 300 s
#   MAX_EXAMPLES=100 MAX_TIME=900 bash scripts/schemathesis.sh
#   SEED=1234 bash scripts/schemathesis.sh          # reproduce a run
#
# tests/fuzz_gateway/hooks.py points half of the model calls at the demo model, so that they get
# past the model check. Creates .venv-schemathesis/ (gitignored) with the pinned schemathesis, starts the gateway on
# 127.0.0.1 (a free port) with the built-in demo config and a random master key (virtual keys
# on: local KV and Durable Objects), runs the checks, and stops everything. Reports (JUnit) go to
# target/schemathesis/. Nothing leaves 127.0.0.1 except pip's download of schemathesis: the demo
# model is a mock and no provider key is handed to the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
MAX_TIME=${MAX_TIME:-300}
SEED=${SEED:-$RANDOM$RANDOM}
CHECKS=${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth,unsupported_method,allow_header_conformance}
VENV=$ROOT/.venv-schemathesis
OUT=$ROOT/target/schemathesis

if ! "$VENV/bin/st" --version 2>/dev/null | grep -qF "version $VERSION"; then
  echo "schemathesis.sh: installing schemathesis $VERSION into .venv-schemathesis/"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="sk-schemathesis-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
base="http://127.0.0.1:$port"
mkdir -p "$OUT"
log=$OUT/gateway.log

# The gateway sees only what it needs: no provider keys from this shell.
setsid env -i PATH="$PATH" HOME="$HOME" LITELLM_MASTER_KEY="$key" \
  node cli/edgellm-gateway.mjs --port "$port" >"$log" 2>&1 &
gateway=$!
stop() {
  kill -TERM -- "-$gateway" 2>/dev/null || true
  wait "$gateway" 2>/dev/null || true
}
trap stop EXIT

T0=$SECONDS
until curl -sf "$base/health/liveliness" >/dev/null; do
  if ! kill -0 "$gateway" 2>/dev/null || [ $((SECONDS - T0)) -gt 600 ]; then
    echo "schemathesis.sh: the gateway did not start; its log:" >&2
    tail -50 "$log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "schemathesis.sh: gateway on $base after $((SECONDS - T0)) s; seed $SEED, $MAX_EXAMPLES examples per operation, at most $MAX_TIME s"

T1=$SECONDS
status=0
# From target/schemathesis: schemathesis keeps a `.schemathesis/` cache in its working directory.
(cd "$OUT" && SCHEMATHESIS_HOOKS=$ROOT/tests/fuzz_gateway/hooks.py timeout $((MAX_TIME + 120)) "$VENV/bin/st" run "$base/openapi.json" \
  --checks "$CHECKS" \
  --max-examples "$MAX_EXAMPLES" \
  --max-time "$MAX_TIME" \
  --seed "$SEED" \
  --header "Authorization: Bearer $key" \
  --workers 2 \
  --request-timeout 30 \
  --generation-database none \
  --report junit --report-dir "$OUT" \
  --no-color) || status=$?
echo "schemathesis.sh: schemathesis finished in $((SECONDS - T1)) s with status $status (JUnit report: target/schemathesis/)"
if [ "$status" != 0 ]; then
  echo "schemathesis.sh: gateway log (last lines):" >&2
  grep -E ' (5[0-9][0-9]) |panic|error' "$log" | tail -20 >&2 || true
fi
exit "$status"
