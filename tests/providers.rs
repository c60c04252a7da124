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

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use edgellm::engine;
use edgellm::http::HttpRequest;
use edgellm::provider::registry::PROVIDERS;

use edgellm::types::{
    AssistantMessage, ChatChunk, ChatResponse, Choice, FunctionCall, ToolCall, Usage,
};
use edgellm::{options, Error};
use futures_util::StreamExt;
use serde_json::{json, Value};

mod support;

use support::fixture::*;

// -- Setup & Fixtures

/// One chat scenario, loaded.
struct Scenario {
    dir: PathBuf,
    input: Input,
    upstream_request: Option<Value>,
    /// One queued reply per upstream attempt.
    replies: Vec<CannedReply>,
    expected: Option<Value>,
    expected_chunks: Option<Vec<Value>>,
}

/// Loads a chat scenario; `None` for scenarios of other endpoints (`"call": "embedding"`,
/// …), which `tests/modalities.rs` runs.
fn load(dir: &Path) -> Result<Option<Scenario>, String> {
    let input = read_input(dir)?;
    if input
        .call
        .as_deref()
        .is_some_and(|c| !matches!(c, "chat" | "completion"))
    {
        return Ok(None);
    }
    Ok(Some(Scenario {
        dir: dir.to_path_buf(),
        input,
        upstream_request: read_json(&dir.join("upstream_request.json"))?,
        replies: read_replies(dir)?,
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
    let host = mock_host(&s.replies, s.input.now_ms, cuts);
    let mut out = Outcome {
        requests: Vec::new(),
        response: None,
        chunks: Vec::new(),
        error: None,
    };
    let parsed = options::parse_chat(s.input.request.clone());
    futures_executor::block_on(async {
        let (req, opts) = match parsed {
            Ok(p) => p,
            Err(e) => {
                out.error = Some(e);
                return;
            }
        };
        if s.input.stream {
            match engine::completion_stream(&host, &s.input.env, req, opts).await {
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
            match engine::completion(&host, &s.input.env, req, opts).await {
                Ok(c) => out.response = Some(serde_json::to_value(&c.response).unwrap()),
                Err(e) => out.error = Some(e),
            }
        }
    });
    out.requests = host.requests.borrow().clone();
    out
}

// -- Check

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
    if s.input.stream {
        match &s.expected_chunks {
            Some(want) => {
                check_same(
                    "stream chunks",
                    &Value::Array(want.clone()),
                    &Value::Array(out.chunks.clone()),
                    &mut problems,
                );
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
                            check_same("accumulated response", want, &got, &mut problems);
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
                check_same("response", want, got, &mut problems);
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
    let len = s.replies.last().map_or(0, |r| r.2.len());
    for cuts in split_plans(len) {
        let got = run(s, Some(&cuts));
        let same_error = match (&whole.error, &got.error) {
            (None, None) => true,
            (Some(a), Some(b)) => a.kind() == b.kind() && a.message() == b.message(),
            _ => false,
        };
        if got.chunks != whole.chunks || !same_error {
            let mut d = Vec::new();
            json_diff(
                "chunks",
                &Value::Array(whole.chunks.clone()),
                &Value::Array(got.chunks.clone()),
                &mut d,
            );
            return vec![format!(
                "output depends on body split ({}):\n    {}\n    error whole: {:?}\n    error split: {:?}",
                describe_split(&cuts, len),
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

fn write_expected(s: &Scenario, out: &Outcome) {
    if s.input.stream {
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
    let label = if updating() {
        "provider fixtures (UPDATE_FIXTURES: expected files rewritten)"
    } else {
        "provider fixtures"
    };
    run_all(label, |dir| match load(dir) {
        Ok(Some(s)) => Some(check_scenario(&s)),
        Ok(None) => None,
        Err(e) => Some(vec![format!("cannot load: {e}")]),
    });
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
