//! Provider conformance harness: replays every scenario under `tests/fixtures/<provider>/<scenario>/`
//! through the real engine with a [`MockHost`], and checks the upstream request, the result and,
//! for streams, that the output does not depend on how the body was split into pieces.
//!
//! Fixture format (see `/work/team-brief.md`, "Shared fixture format"):
//! - `input.json`: `{"request": {...}, "env": {...}, "now_ms": 1700000000000}` (`env`, `now_ms`
//!   optional). `request.stream == true` selects `engine::completion_stream`. Scenarios with a
//!   `"call"` other than `"chat"` (embeddings, images, …) belong to `tests/modalities.rs`.
//! - `upstream_request.json`: `{"method", "url", "headers": {...}, "body": ...}`. Every listed
//!   header must match exactly (names lowercase); the body must be equal as JSON (or as text when
//!   it is a string and the request body is not JSON). Absent: no request may be sent (errors
//!   raised before I/O, such as unsupported parameters).
//! - `upstream_response.json`: `{"status", "headers", "body"}` (an array queues several replies,
//!   for retry scenarios). A string `body` is sent as raw text; an `upstream.stream` file, if
//!   present, is sent as the raw body instead.
//! - `expected.json`: the `chat.completion`, or `{"error": {"kind", "status", "code", "class"}}`
//!   (any subset; also `param`, `retry_after_ms`, `message_contains`). For streams it is optional
//!   and holds the accumulated final response, or the error the stream ended with.
//! - `expected_chunks.jsonl`: streams only, one chunk per line as the SDK yields them.
//!
//! Environment: `UPDATE_FIXTURES=1` rewrites `expected.json` / `expected_chunks.jsonl` from the
//! actual output (and writes a missing `upstream_request.json`) for review — only for providers
//! in the registry, and best combined with `FIXTURE=<id>/` so that only your own files change;
//! `FIXTURE=<substring>` runs only the scenarios whose `<provider>/<scenario>` path contains it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use edgellm::engine;
use edgellm::http::HttpRequest;
use edgellm::provider::registry::PROVIDERS;
use edgellm::testing::{MockHost, Reply};
use edgellm::types::{
    AssistantMessage, ChatChunk, ChatResponse, Choice, FunctionCall, ToolCall, Usage,
};
use edgellm::{options, Error};
use futures_util::StreamExt;
use serde_json::{json, Value};

/// Byte-split runs beyond this body size use [`SAMPLED_SPLITS`] seeded split points instead of
/// every one, so one big recorded stream cannot dominate the suite's run time.
const EXHAUSTIVE_SPLIT_LIMIT: usize = 16 * 1024;
const SAMPLED_SPLITS: usize = 512;
const MOCK_START_MS: u64 = 1_700_000_000_000;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn updating() -> bool {
    std::env::var("UPDATE_FIXTURES").is_ok_and(|v| !v.is_empty() && v != "0")
}

// -- Setup & Fixtures

/// Every scenario directory (one holding `input.json`), sorted.
fn scenarios() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(providers) = fs::read_dir(fixtures_root()) else {
        return out;
    };
    for p in providers.flatten() {
        let Ok(scens) = fs::read_dir(p.path()) else {
            continue;
        };
        for s in scens.flatten() {
            if s.path().join("input.json").is_file() {
                out.push(s.path());
            }
        }
    }
    out.sort();
    out
}

fn name_of(dir: &Path) -> String {
    dir.strip_prefix(fixtures_root())
        .unwrap_or(dir)
        .display()
        .to_string()
}

fn read_json(path: &Path) -> Result<Option<Value>, String> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: invalid JSON: {e}", path.display())),
        Err(_) => Ok(None),
    }
}

fn read_jsonl(path: &Path) -> Result<Option<Vec<Value>>, String> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(None);
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("{}:{}: invalid JSON: {e}", path.display(), i + 1))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// (status, headers, body) of one canned upstream reply.
type CannedReply = (u16, Vec<(String, String)>, Vec<u8>);

/// One scenario, loaded.
struct Scenario {
    dir: PathBuf,
    request: Value,
    env: BTreeMap<String, String>,
    now_ms: u64,
    stream: bool,
    upstream_request: Option<Value>,
    /// One queued reply per upstream attempt.
    replies: Vec<CannedReply>,
    expected: Option<Value>,
    expected_chunks: Option<Vec<Value>>,
}

/// Loads a chat scenario; `None` for scenarios of other endpoints (`"call": "embedding"`,
/// …), which `tests/modalities.rs` runs.
fn load(dir: &Path) -> Result<Option<Scenario>, String> {
    let input = read_json(&dir.join("input.json"))?.ok_or("input.json missing")?;
    if let Some(call) = input.get("call").and_then(Value::as_str) {
        if !matches!(call, "chat" | "completion") {
            return Ok(None);
        }
    }
    let request = input
        .get("request")
        .cloned()
        .ok_or("input.json has no `request`")?;
    let mut env = BTreeMap::new();
    if let Some(e) = input.get("env") {
        let obj = e.as_object().ok_or("input.json `env` must be an object")?;
        for (k, v) in obj {
            let v = v
                .as_str()
                .ok_or_else(|| format!("env `{k}` must be a string"))?;
            env.insert(k.clone(), v.to_string());
        }
    }
    let now_ms = input
        .get("now_ms")
        .map(|v| v.as_u64().ok_or("`now_ms` must be an integer"))
        .transpose()?
        .unwrap_or(MOCK_START_MS);
    if now_ms < MOCK_START_MS {
        return Err(format!(
            "`now_ms` must be ≥ {MOCK_START_MS} (the MockHost clock only moves forward)"
        ));
    }
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let raw_stream = fs::read(dir.join("upstream.stream")).ok();
    let mut replies = Vec::new();
    if let Some(resp) = read_json(&dir.join("upstream_response.json"))? {
        let list = match resp {
            Value::Array(a) => a,
            one => vec![one],
        };
        let n = list.len();
        for (i, r) in list.into_iter().enumerate() {
            let status = r
                .get("status")
                .and_then(Value::as_u64)
                .ok_or("upstream_response.json needs an integer `status`")?
                as u16;
            let headers = r
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").into()))
                        .collect()
                })
                .unwrap_or_default();
            let body = match (r.get("body"), &raw_stream) {
                // The raw file belongs to the last reply (the one that succeeds after retries).
                (_, Some(raw)) if i + 1 == n => raw.clone(),
                (Some(Value::String(s)), _) => s.clone().into_bytes(),
                (Some(Value::Null) | None, _) => Vec::new(),
                (Some(v), _) => serde_json::to_vec(v).expect("a Value serializes"),
            };
            replies.push((status, headers, body));
        }
    } else if raw_stream.is_some() {
        return Err("upstream.stream without upstream_response.json".into());
    }
    Ok(Some(Scenario {
        dir: dir.to_path_buf(),
        request,
        env,
        now_ms,
        stream,
        upstream_request: read_json(&dir.join("upstream_request.json"))?,
        replies,
        expected: read_json(&dir.join("expected.json"))?,
        expected_chunks: read_jsonl(&dir.join("expected_chunks.jsonl"))?,
    }))
}

// -- Exec

/// What one run produced.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    requests: Vec<HttpRequest>,
    response: Option<Value>,
    chunks: Vec<Value>,
    error: Option<Error>,
}

/// Runs the scenario with the last reply's body cut at `cuts` (byte offsets, ascending).
fn run(s: &Scenario, cuts: Option<&[usize]>) -> Outcome {
    let host = MockHost::new();
    host.advance(s.now_ms - MOCK_START_MS);
    let last = s.replies.len().saturating_sub(1);
    for (i, (status, headers, body)) in s.replies.iter().enumerate() {
        let pieces = match cuts {
            Some(cuts) if i == last => {
                let mut pieces = Vec::new();
                let mut start = 0;
                for &c in cuts {
                    pieces.push(body[start..c].to_vec());
                    start = c;
                }
                pieces.push(body[start..].to_vec());
                pieces
            }
            _ => vec![body.clone()],
        };
        host.push(Reply::Response {
            status: *status,
            headers: headers.clone(),
            pieces,
        });
    }
    let mut out = Outcome {
        requests: Vec::new(),
        response: None,
        chunks: Vec::new(),
        error: None,
    };
    let parsed = options::parse_chat(s.request.clone());
    futures_executor::block_on(async {
        let (req, opts) = match parsed {
            Ok(p) => p,
            Err(e) => {
                out.error = Some(e);
                return;
            }
        };
        if s.stream {
            match engine::completion_stream(&host, &s.env, req, opts).await {
                Ok(mut sc) => {
                    while let Some(item) = sc.stream.next().await {
                        match item {
                            Ok(c) => out.chunks.push(serde_json::to_value(&c).unwrap()),
                            Err(e) => {
                                out.error = Some(e);
                                break;
                            }
                        }
                    }
                }
                Err(e) => out.error = Some(e),
            }
        } else {
            match engine::completion(&host, &s.env, req, opts).await {
                Ok(c) => out.response = Some(serde_json::to_value(&c.response).unwrap()),
                Err(e) => out.error = Some(e),
            }
        }
    });
    out.requests = host.requests.borrow().clone();
    out
}

// -- Check

fn error_json(e: &Error) -> Value {
    json!({
        "kind": format!("{:?}", e.kind()),
        "status": e.status(),
        "code": e.code(),
        "class": e.kind().js_class(),
    })
}

fn check_error(expected: &Value, e: Option<&Error>, problems: &mut Vec<String>) {
    let Some(e) = e else {
        problems.push(format!("expected error {expected}, but the call succeeded"));
        return;
    };
    let actual = error_json(e);
    let Some(exp) = expected.as_object() else {
        problems.push("expected.json `error` must be an object".into());
        return;
    };
    for (k, want) in exp {
        let got = match k.as_str() {
            "kind" | "status" | "code" | "class" => actual[k.as_str()].clone(),
            "param" => json!(e.param()),
            "retry_after_ms" => json!(e.retry_after_ms()),
            "provider" => json!(e.provider()),
            "message_contains" => {
                let needle = want.as_str().unwrap_or_default();
                if !e.message().contains(needle) {
                    problems.push(format!(
                        "error message {:?} does not contain {needle:?}",
                        e.message()
                    ));
                }
                continue;
            }
            other => {
                problems.push(format!("unknown key `{other}` in expected error"));
                continue;
            }
        };
        if &got != want {
            problems.push(format!(
                "error.{k}: expected {want}, got {got} (error: {e})"
            ));
        }
    }
}

/// Differences between two JSON values as `path: expected … got …` lines.
fn json_diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => json_diff(&p, va, vb, out),
                    None => out.push(format!("{p}: expected {va}, missing")),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected {vb}"));
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                json_diff(&format!("{path}[{i}]"), va, vb, out);
            }
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: expected {} elements, got {}",
                    a.len(),
                    b.len()
                ));
            }
        }
        _ if want == got => {}
        _ => out.push(format!("{path}: expected {want}, got {got}")),
    }
}

fn check_request(want: &Value, got: &HttpRequest, problems: &mut Vec<String>) {
    if let Some(m) = want.get("method").and_then(Value::as_str) {
        if m != got.method.as_str() {
            problems.push(format!(
                "request method: expected {m}, got {}",
                got.method.as_str()
            ));
        }
    }
    match want.get("url").and_then(Value::as_str) {
        Some(u) if u != got.url => problems.push(format!(
            "request url:\n  expected {u}\n  got      {}",
            got.url
        )),
        Some(_) => {}
        None => problems.push("upstream_request.json has no `url`".into()),
    }
    if let Some(h) = want.get("headers").and_then(Value::as_object) {
        for (name, v) in h {
            let v = v.as_str().unwrap_or_default();
            match edgellm::http::header(&got.headers, name) {
                Some(g) if g == v => {}
                Some(g) => problems.push(format!(
                    "request header `{name}`: expected {v:?}, got {g:?}"
                )),
                None => problems.push(format!(
                    "request header `{name}` missing (sent: {:?})",
                    got.headers.iter().map(|(k, _)| k).collect::<Vec<_>>()
                )),
            }
        }
    }
    let got_text = got
        .body
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    match (want.get("body"), got.json_body()) {
        (None, _) => {}
        (Some(Value::Null), None) if got_text.is_none() => {}
        (Some(Value::String(s)), None) if got_text.as_deref() == Some(s) => {}
        (Some(w), Some(g)) => {
            let mut d = Vec::new();
            json_diff("body", w, &g, &mut d);
            if !d.is_empty() {
                problems.push(format!("request body differs:\n    {}", d.join("\n    ")));
            }
        }
        (Some(w), None) => problems.push(format!(
            "request body: expected {w}, got non-JSON {got_text:?}"
        )),
    }
}

fn recorded_request_json(r: &HttpRequest) -> Value {
    let headers: serde_json::Map<String, Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    json!({
        "method": r.method.as_str(),
        "url": r.url,
        "headers": headers,
        "body": r.json_body().unwrap_or(Value::Null),
    })
}

/// Rebuilds the final `chat.completion` from chunks (LiteLLM's `stream_chunk_builder`): text and
/// reasoning concatenated, tool calls merged by index, the last finish reason and usage kept.
fn accumulate(chunks: &[Value]) -> Result<Value, String> {
    let mut resp = ChatResponse::default();
    let mut usage: Option<Usage> = None;
    for (n, c) in chunks.iter().enumerate() {
        let c: ChatChunk =
            serde_json::from_value(c.clone()).map_err(|e| format!("chunk {n}: {e}"))?;
        if resp.id.is_empty() {
            resp.id = c.id.clone();
            resp.created = c.created;
            resp.model = c.model.clone();
        }
        if c.system_fingerprint.is_some() {
            resp.system_fingerprint = c.system_fingerprint.clone();
        }
        if c.usage.is_some() {
            usage = c.usage.clone();
        }
        for ch in c.choices {
            let pos = match resp.choices.iter().position(|x| x.index == ch.index) {
                Some(p) => p,
                None => {
                    resp.choices.push(Choice {
                        index: ch.index,
                        message: AssistantMessage::default(),
                        finish_reason: None,
                        logprobs: None,
                    });
                    resp.choices.len() - 1
                }
            };
            let choice = &mut resp.choices[pos];
            let m = &mut choice.message;
            if let Some(t) = ch.delta.content {
                m.content.get_or_insert_with(String::new).push_str(&t);
            }
            if let Some(t) = ch.delta.reasoning_content {
                m.reasoning_content
                    .get_or_insert_with(String::new)
                    .push_str(&t);
            }
            if let Some(t) = ch.delta.refusal {
                m.refusal.get_or_insert_with(String::new).push_str(&t);
            }
            for d in ch.delta.tool_calls.unwrap_or_default() {
                let calls = m.tool_calls.get_or_insert_with(Vec::new);
                let i = d.index as usize;
                while calls.len() <= i {
                    calls.push(ToolCall {
                        id: String::new(),
                        kind: "function".into(),
                        function: FunctionCall {
                            name: String::new(),
                            arguments: String::new(),
                        },
                    });
                }
                let call = &mut calls[i];
                if let Some(id) = d.id {
                    call.id = id;
                }
                if let Some(f) = d.function {
                    if let Some(name) = f.name {
                        call.function.name.push_str(&name);
                    }
                    if let Some(a) = f.arguments {
                        call.function.arguments.push_str(&a);
                    }
                }
            }
            if ch.finish_reason.is_some() {
                choice.finish_reason = ch.finish_reason;
            }
        }
    }
    resp.choices.sort_by_key(|c| c.index);
    resp.usage = usage;
    serde_json::to_value(&resp).map_err(|e| e.to_string())
}

/// Runs and checks one scenario; returns the problems found (empty = pass).
fn check_scenario(s: &Scenario) -> Vec<String> {
    let mut problems = Vec::new();
    let out = run(s, None);

    // Upstream request(s).
    match &s.upstream_request {
        Some(want) => {
            if out.requests.is_empty() {
                problems.push(format!(
                    "no upstream request was sent (error: {:?})",
                    out.error.as_ref().map(ToString::to_string)
                ));
            }
            for (i, r) in out.requests.iter().enumerate() {
                let mut p = Vec::new();
                check_request(want, r, &mut p);
                problems.extend(p.into_iter().map(|m| format!("request #{}: {m}", i + 1)));
            }
        }
        None if updating() && !out.requests.is_empty() => {
            write_json(
                &s.dir.join("upstream_request.json"),
                &recorded_request_json(&out.requests[0]),
            );
        }
        None if !out.requests.is_empty() => problems.push(format!(
            "no upstream_request.json, but {} request(s) were sent (first: {} {})",
            out.requests.len(),
            out.requests[0].method.as_str(),
            out.requests[0].url
        )),
        None => {}
    }
    if s.replies.is_empty() && !out.requests.is_empty() && s.upstream_request.is_some() {
        problems.push("requests were sent but upstream_response.json is missing".into());
    }

    if updating() {
        // Never overwrite the expectations of a provider that is not in the table yet: its
        // output would only be "unknown provider".
        if provider_registered(&s.dir) {
            write_expected(s, &out);
        } else {
            problems.push("provider not in the registry: expected files left as they are".into());
        }
        return problems;
    }

    // Result.
    let expected_error = s.expected.as_ref().and_then(|e| e.get("error"));
    if s.stream {
        match &s.expected_chunks {
            Some(want) => {
                let mut d = Vec::new();
                json_diff(
                    "chunks",
                    &Value::Array(want.clone()),
                    &Value::Array(out.chunks.clone()),
                    &mut d,
                );
                if !d.is_empty() {
                    problems.push(format!("stream chunks differ:\n    {}", d.join("\n    ")));
                }
            }
            None if expected_error.is_none() => {
                problems.push("stream scenario without expected_chunks.jsonl".into())
            }
            None => {
                if !out.chunks.is_empty() {
                    problems.push(format!(
                        "{} chunk(s) were yielded before the error, but expected_chunks.jsonl is missing",
                        out.chunks.len()
                    ));
                }
            }
        }
        match (expected_error, &s.expected) {
            (Some(e), _) => check_error(e, out.error.as_ref(), &mut problems),
            (None, maybe_final) => {
                if let Some(e) = &out.error {
                    problems.push(format!("stream ended with an unexpected error: {e}"));
                }
                if let Some(want) = maybe_final {
                    match accumulate(&out.chunks) {
                        Ok(got) => {
                            let mut d = Vec::new();
                            json_diff("final", want, &got, &mut d);
                            if !d.is_empty() {
                                problems.push(format!(
                                    "accumulated response differs:\n    {}",
                                    d.join("\n    ")
                                ));
                            }
                        }
                        Err(e) => problems.push(format!("chunks do not accumulate: {e}")),
                    }
                }
            }
        }
        problems.extend(check_splits(s, &out));
    } else {
        match (expected_error, &s.expected, &out.response) {
            (Some(e), _, _) => check_error(e, out.error.as_ref(), &mut problems),
            (None, Some(want), Some(got)) => {
                let mut d = Vec::new();
                json_diff("response", want, got, &mut d);
                if !d.is_empty() {
                    problems.push(format!("response differs:\n    {}", d.join("\n    ")));
                }
            }
            (None, Some(_), None) => problems.push(format!(
                "expected a response, got error: {}",
                out.error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )),
            (None, None, _) => problems.push("expected.json missing".into()),
        }
    }
    problems
}

/// Re-runs a stream with its body split at every byte boundary (2 pieces) and into 1-byte
/// pieces; every run must yield exactly the same chunks and error as the one-piece run.
fn check_splits(s: &Scenario, whole: &Outcome) -> Vec<String> {
    let Some((_, _, body)) = s.replies.last() else {
        return Vec::new();
    };
    let len = body.len();
    let mut runs: Vec<Vec<usize>> = Vec::new();
    if len > 1 {
        let points: Vec<usize> = if len <= EXHAUSTIVE_SPLIT_LIMIT {
            (1..len).collect()
        } else {
            // Seeded, so a failure reproduces.
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ len as u64;
            (0..SAMPLED_SPLITS)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    1 + (x as usize) % (len - 1)
                })
                .collect()
        };
        runs.extend(points.into_iter().map(|p| vec![p]));
        runs.push((1..len).collect());
    }
    for cuts in runs {
        let got = run(s, Some(&cuts));
        let same_error = match (&whole.error, &got.error) {
            (None, None) => true,
            (Some(a), Some(b)) => a.kind() == b.kind() && a.message() == b.message(),
            _ => false,
        };
        if got.chunks != whole.chunks || !same_error {
            let how = if cuts.len() == 1 {
                format!("split at byte {} of {len}", cuts[0])
            } else {
                "1-byte pieces".to_string()
            };
            let mut d = Vec::new();
            json_diff(
                "chunks",
                &Value::Array(whole.chunks.clone()),
                &Value::Array(got.chunks.clone()),
                &mut d,
            );
            return vec![format!(
                "output depends on body split ({how}):\n    {}\n    error whole: {:?}\n    error split: {:?}",
                d.join("\n    "),
                whole.error.as_ref().map(ToString::to_string),
                got.error.as_ref().map(ToString::to_string)
            )];
        }
    }
    Vec::new()
}

/// Whether the scenario's provider directory names a registered provider.
fn provider_registered(dir: &Path) -> bool {
    let id = dir
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    PROVIDERS.iter().any(|e| e.provider().info().id == id)
}

fn write_json(path: &Path, v: &Value) {
    let mut text = serde_json::to_string_pretty(v).expect("serializable");
    text.push('\n');
    fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

fn write_expected(s: &Scenario, out: &Outcome) {
    if s.stream {
        let path = s.dir.join("expected_chunks.jsonl");
        if out.chunks.is_empty() {
            let _ = fs::remove_file(&path);
        } else {
            let mut text = String::new();
            for c in &out.chunks {
                let _ = writeln!(text, "{c}");
            }
            fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
        match &out.error {
            Some(e) => write_json(
                &s.dir.join("expected.json"),
                &json!({"error": error_json(e)}),
            ),
            None => write_json(
                &s.dir.join("expected.json"),
                &accumulate(&out.chunks).expect("chunks accumulate"),
            ),
        }
    } else {
        match (&out.response, &out.error) {
            (Some(r), _) => write_json(&s.dir.join("expected.json"), r),
            (None, Some(e)) => write_json(
                &s.dir.join("expected.json"),
                &json!({"error": error_json(e)}),
            ),
            (None, None) => {}
        }
    }
}

#[test]
fn fixtures_conform() {
    let filter = std::env::var("FIXTURE").ok().filter(|f| !f.is_empty());
    let mut ran = 0;
    let mut failures = Vec::new();
    for dir in scenarios() {
        let name = name_of(&dir);
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let problems = match load(&dir) {
            Ok(Some(s)) => check_scenario(&s),
            Ok(None) => continue,
            Err(e) => vec![format!("cannot load: {e}")],
        };
        ran += 1;
        if !problems.is_empty() {
            failures.push(format!("✗ {name}\n  {}", problems.join("\n  ")));
        }
    }
    eprintln!(
        "provider fixtures: {ran} scenario(s) run, {} failed{}",
        failures.len(),
        if updating() {
            " (UPDATE_FIXTURES: expected files rewritten)"
        } else {
            ""
        }
    );
    assert!(
        ran > 0 || filter.is_some(),
        "no fixtures found under tests/fixtures"
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} fixture scenario(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_provider_has_a_fixture() {
    let root = fixtures_root();
    let missing: Vec<&str> = PROVIDERS
        .iter()
        .map(|e| e.provider().info().id)
        .filter(|id| {
            !fs::read_dir(root.join(id)).is_ok_and(|mut d| {
                d.any(|s| s.is_ok_and(|s| s.path().join("input.json").is_file()))
            })
        })
        .collect();
    assert!(
        missing.is_empty(),
        "providers without any fixture scenario under tests/fixtures/<id>/: {missing:?}"
    );
}

#[test]
fn harness_detects_split_dependence_and_diffs() {
    // The checks themselves must be able to fail: a diff is reported for a changed leaf, and the
    // accumulator joins text and tool-call pieces.
    let mut d = Vec::new();
    json_diff(
        "x",
        &json!({"a": [1, 2]}),
        &json!({"a": [1, 3], "b": 0}),
        &mut d,
    );
    assert_eq!(d, vec!["x.a[1]: expected 2, got 3", "x.b: unexpected 0"]);
    let chunks = vec![
        json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"He"},"finish_reason":null}]}),
        json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"llo","tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":null}]}),
        json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}),
    ];
    let r = accumulate(&chunks).unwrap();
    assert_eq!(r["choices"][0]["message"]["content"], "Hello");
    assert_eq!(
        r["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"a\":1}"
    );
    assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");
}
