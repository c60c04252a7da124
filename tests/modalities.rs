//! Conformance harness for the endpoints beyond chat: replays every scenario under
//! `tests/fixtures/<provider>/<scenario>/` whose `input.json` has a `call` of `embedding`,
//! `image_generation`, `text_completion`, `rerank` or `moderation` through the real
//! `edgellm::modality` entry points with a [`MockHost`].
//!
//! Same fixture format as `tests/providers.rs` (the chat harness), plus:
//! - `input.json` `"call"` selects the entry point (`request.stream == true` streams a
//!   `text_completion`).
//! - `upstream_request.json` may be an array: one expected request per upstream call, in order
//!   (providers that take one input per request, e.g. Bedrock Titan embeddings).
//! - `upstream_response.json` as an array queues one reply per upstream call (or per retry).
//! - Streams: `expected_chunks.jsonl` holds the `text_completion` chunks; the body is also
//!   replayed in 1-byte pieces and split in two at sampled offsets, with identical output.
//!
//! `UPDATE_FIXTURES=1` rewrites the expected files from the actual output for review;
//! `FIXTURE=<substring>` runs only matching scenarios.

use std::fs;
use std::path::{Path, PathBuf};

use edgellm::http::HttpRequest;
use edgellm::modality;
use edgellm::Error;
use futures_util::StreamExt;
use serde_json::{json, Value};

mod support;

use support::fixture::*;

const CALLS: &[&str] = &[
    "embedding",
    "image_generation",
    "text_completion",
    "rerank",
    "moderation",
];

struct Scenario {
    dir: PathBuf,
    call: String,
    input: Input,
    upstream_requests: Option<Vec<Value>>,
    replies: Vec<CannedReply>,
    expected: Option<Value>,
    expected_chunks: Option<Vec<Value>>,
}

/// Loads a scenario of an endpoint beyond chat; `None` for chat scenarios
/// (`tests/providers.rs` runs those).
fn load(dir: &Path) -> Result<Option<Scenario>, String> {
    let input = read_input(dir)?;
    let call = match input.call.as_deref() {
        None | Some("chat" | "completion") => return Ok(None),
        Some(c) if !CALLS.contains(&c) => {
            return Err(format!("unknown call `{c}` (one of {CALLS:?})"))
        }
        Some(c) => c.to_string(),
    };
    let upstream_requests = read_json(&dir.join("upstream_request.json"))?.map(|v| match v {
        Value::Array(a) => a,
        one => vec![one],
    });
    Ok(Some(Scenario {
        dir: dir.to_path_buf(),
        call,
        input,
        upstream_requests,
        replies: read_replies(dir)?,
        expected: read_json(&dir.join("expected.json"))?,
        expected_chunks: read_jsonl(&dir.join("expected_chunks.jsonl"))?,
    }))
}

#[derive(Debug)]
struct Outcome {
    requests: Vec<HttpRequest>,
    response: Option<Value>,
    chunks: Vec<Value>,
    error: Option<Error>,
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("serializable")
}

/// Runs the scenario with the last reply's body delivered in `pieces` (byte cut offsets).
fn run(s: &Scenario, cuts: Option<&[usize]>) -> Outcome {
    let host = mock_host(&s.replies, s.input.now_ms, cuts);
    let mut out = Outcome {
        requests: Vec::new(),
        response: None,
        chunks: Vec::new(),
        error: None,
    };
    let env = &s.input.env;
    let r = s.input.request.clone();
    let result: Result<Value, Error> = futures_executor::block_on(async {
        match s.call.as_str() {
            "embedding" => {
                let (req, opts) = modality::parse_embedding(r)?;
                Ok(to_json(
                    &modality::embedding(&host, env, req, opts).await?.response,
                ))
            }
            "image_generation" => {
                let (req, opts) = modality::parse_image_generation(r)?;
                Ok(to_json(
                    &modality::image_generation(&host, env, req, opts)
                        .await?
                        .response,
                ))
            }
            "moderation" => {
                let (req, opts) = modality::parse_moderation(r)?;
                Ok(to_json(
                    &modality::moderation(&host, env, req, opts).await?.response,
                ))
            }
            "rerank" => {
                let (req, opts) = modality::parse_rerank(r)?;
                Ok(to_json(
                    &modality::rerank(&host, env, req, opts).await?.response,
                ))
            }
            _ if s.input.stream => {
                let (req, opts) = modality::parse_text_completion(r)?;
                let mut sc = modality::text_completion_stream(&host, env, req, opts).await?;
                while let Some(item) = sc.stream.next().await {
                    out.chunks.push(to_json(&item?));
                }
                Ok(Value::Null)
            }
            _ => {
                let (req, opts) = modality::parse_text_completion(r)?;
                Ok(to_json(
                    &modality::text_completion(&host, env, req, opts)
                        .await?
                        .response,
                ))
            }
        }
    });
    match result {
        Ok(Value::Null) => {}
        Ok(v) => out.response = Some(v),
        Err(e) => out.error = Some(e),
    }
    out.requests = host.requests.borrow().clone();
    out
}

fn check_scenario(s: &Scenario) -> Vec<String> {
    let mut problems = Vec::new();
    let out = run(s, None);
    match &s.upstream_requests {
        Some(want) => {
            if want.len() != out.requests.len() {
                problems.push(format!(
                    "expected {} upstream request(s), {} sent (error: {:?})",
                    want.len(),
                    out.requests.len(),
                    out.error
                ));
            }
            for (i, (w, g)) in want.iter().zip(&out.requests).enumerate() {
                let mut p = Vec::new();
                check_request(w, g, &mut p);
                problems.extend(p.into_iter().map(|m| format!("request #{}: {m}", i + 1)));
            }
        }
        None if updating() && !out.requests.is_empty() => {
            let reqs: Vec<Value> = out.requests.iter().map(recorded_request_json).collect();
            let v = if reqs.len() == 1 {
                reqs[0].clone()
            } else {
                Value::Array(reqs)
            };
            write_json(&s.dir.join("upstream_request.json"), &v);
        }
        None if !out.requests.is_empty() => problems.push(format!(
            "no upstream_request.json, but {} request(s) were sent",
            out.requests.len()
        )),
        None => {}
    }
    if updating() {
        if s.input.stream && out.error.is_none() {
            let lines: String = out
                .chunks
                .iter()
                .map(|c| format!("{}\n", serde_json::to_string(c).unwrap()))
                .collect();
            fs::write(s.dir.join("expected_chunks.jsonl"), lines).unwrap();
        } else if let Some(e) = &out.error {
            write_json(
                &s.dir.join("expected.json"),
                &json!({"error": error_json(e)}),
            );
        } else if let Some(r) = &out.response {
            write_json(&s.dir.join("expected.json"), r);
        }
        return problems;
    }
    let expected_error = s.expected.as_ref().and_then(|e| e.get("error"));
    match (expected_error, &out.error) {
        (Some(want), e) => check_error(want, e.as_ref(), &mut problems),
        (None, Some(e)) => problems.push(format!("unexpected error: {e}")),
        (None, None) if s.input.stream => match &s.expected_chunks {
            Some(want) => check_same(
                "chunks",
                &Value::Array(want.clone()),
                &Value::Array(out.chunks.clone()),
                &mut problems,
            ),
            None => problems.push("stream scenario without expected_chunks.jsonl".into()),
        },
        (None, None) => match (&s.expected, &out.response) {
            (Some(want), Some(got)) => check_same("response", want, got, &mut problems),
            (None, _) => problems.push("expected.json missing".into()),
            (Some(_), None) => problems.push("no response".into()),
        },
    }
    if s.input.stream && out.error.is_none() && problems.is_empty() {
        let len = s.replies.last().map_or(0, |r| r.2.len());
        for cuts in split_plans(len) {
            let again = run(s, Some(&cuts));
            if again.chunks != out.chunks || again.error.is_some() {
                problems.push(format!(
                    "output depends on how the body is split ({}): error {:?}",
                    describe_split(&cuts, len),
                    again.error
                ));
                break;
            }
        }
    }
    problems
}

#[test]
fn modality_fixtures_conform() {
    run_all("modality fixtures", |dir| match load(dir) {
        Ok(Some(s)) => Some(check_scenario(&s)),
        Ok(None) => None,
        Err(e) => Some(vec![format!("cannot load: {e}")]),
    });
}

#[test]
fn harness_checks_can_fail() {
    let mut d = Vec::new();
    json_diff(
        "x",
        &json!({"a": [1, 2]}),
        &json!({"a": [1, 3], "b": 0}),
        &mut d,
    );
    assert_eq!(d, vec!["x.a[1]: expected 2, got 3", "x.b: unexpected 0"]);
    let mut p = Vec::new();
    let got = HttpRequest::post_json("https://h/v1/embeddings", &json!({"input": "a"}));
    check_request(
        &json!({"url": "https://h/v1/embeddings", "body": {"input": "b"}}),
        &got,
        &mut p,
    );
    assert_eq!(p.len(), 1, "{p:?}");
}
