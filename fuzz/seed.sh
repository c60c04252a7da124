#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the shared fixtures (tests/fixtures/*/*/) plus a few
# hand-written edge cases. Idempotent: files are named by content hash, so re-running only adds.
# Usage: fuzz/seed.sh   (from anywhere; needs jq for the request seeds)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fixtures="$here/../tests/fixtures"
corpus="$here/corpus"
mkdir -p "$corpus"/{sse,ndjson,eventstream,request_json,stream_decoder,config}

# add <target> <file>: copies a seed under its content hash.
add() {
  local sum
  sum="$(sha1sum "$2" | cut -c1-16)"
  cp "$2" "$corpus/$1/$sum"
}

# addtext <target> <printf-format>: a hand-written seed.
addtext() {
  local tmp
  tmp="$(mktemp)"
  printf "$2" >"$tmp"
  add "$1" "$tmp"
  rm -f "$tmp"
}

shopt -s nullglob
for stream in "$fixtures"/*/*/upstream.stream; do
  dir="$(dirname "$stream")"
  ctype="$(jq -r '(if type == "array" then last else . end) | .headers // {} | to_entries[]
                  | select(.key | ascii_downcase == "content-type") | .value' \
           "$dir/upstream_response.json" 2>/dev/null || true)"
  case "$ctype" in
    *ndjson*|*jsonl*) add ndjson "$stream" ;;
    *amazon.eventstream*) add eventstream "$stream" ;;
    *) add sse "$stream"; add stream_decoder "$stream" ;;
  esac
done

for input in "$fixtures"/*/*/input.json; do
  tmp="$(mktemp)"
  if jq -c '.request' "$input" >"$tmp" 2>/dev/null && [ -s "$tmp" ]; then
    add request_json "$tmp"
  fi
  rm -f "$tmp"
done

# The gateway's hostile-input corpus: every body made of text parts only (no huge repeats).
node -e '
const fs = require("fs"), crypto = require("crypto");
const [src, dir] = process.argv.slice(1);
if (!fs.existsSync(src)) process.exit(0);
for (const line of fs.readFileSync(src, "utf8").split("\n").filter(Boolean)) {
  const c = JSON.parse(line);
  if (!c.body || !c.body.every((p) => p.text !== undefined)) continue;
  const body = c.body.map((p) => p.text).join("");
  if (body.length > 4096) continue;
  fs.writeFileSync(`${dir}/${crypto.createHash("sha1").update(body).digest("hex").slice(0, 16)}`, body);
}' "$here/../tests/hostile/corpus.jsonl" "$corpus/request_json"

# Gateway configs: the shipped ones, the config-file tests' YAML, and LiteLLM-style snippets.
for cfg in "$here/../worker/config.default.yaml" "$here/../examples/config.yaml" \
           "$here"/../bench/out/litellm-config.yaml; do
  [ -f "$cfg" ] && add config "$cfg"
done
addtext config 'model_list:\n  - model_name: gpt\n    litellm_params: &p {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY, rpm: 10}\n  - model_name: gpt\n    litellm_params: {<<: *p, weight: 2}\nrouter_settings: {num_retries: 2, fallbacks: [{gpt: [other]}], model_group_alias: {g: gpt}}\ngeneral_settings: {master_key: os.environ/MASTER, max_request_size_mb: 1}\n'
addtext config '{"model_list":[{"model_name":"*","litellm_params":{"model":"openai/*"}}],"litellm_settings":{"drop_params":true}}'
addtext config 'model_list:\n- model_name: "a"\n  litellm_params:\n    model: azure/x\n    api_version: 2024-02-01\n    api_base: os.environ/AZURE_API_BASE\n    timeout: 1.5\n  model_info: {id: one, input_cost_per_token: 1e-6}\nenvironment_variables: {K: "v"}\n'

# Edge cases the fixtures may not cover.
addtext sse '\xef\xbb\xbfevent: a\r\ndata: x\r\ndata\r\n\r\n: c\n\nid: 1\nretry: 10\ndata:y\r\r'
addtext sse 'data: {"a":\xf0\x9f\x98\n\nevent\ndata: \xff\n\ndata: cut'
addtext ndjson '\xef\xbb\xbf{"a":1}\r\n\n  \n{"b":"\xc3\xa9"}\n{"c":'
addtext stream_decoder 'data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{"}}]}}]}\n\ndata: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\ndata: [DONE]\n\n'
addtext stream_decoder 'event: error\ndata: {"error":{"message":"x","code":429}}\n\n'
addtext request_json '{"model":"openai/gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true,"stream_options":{"include_usage":true},"api_key":"sk-test","num_retries":2}'
addtext request_json '{"model":"x","messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"tool_choice":"auto","stop":["a"]}'

for t in sse ndjson eventstream request_json stream_decoder config; do
  echo "$t: $(ls "$corpus/$t" | wc -l) seeds"
done
