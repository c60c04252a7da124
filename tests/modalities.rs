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

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use edgellm::http::HttpRequest;
use edgellm::modality;
use edgellm::testing::{MockHost, Reply};
use edgellm::Error;
use futures_util::StreamExt;
use serde_json::{json, Value};

const MOCK_START_MS: u64 = 1_700_000_000_000;
const CALLS: &[&str] = &[
    "embedding",
    "image_generation",
    "text_completion",
    "rerank",
    "moderation",
];

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn updating() -> bool {
    std::env::var("UPDATE_FIXTURES").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn read_json(path: &Path) -> Result<Option<Value>, String> {
    match fs::read_to_string(path) {
        Ok(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(_) => Ok(None),
    }
}

fn write_json(path: &Path, v: &Value) {
    let mut s = serde_json::to_string_pretty(v).expect("serializable");
    s.push('\n');
    fs::write(path, s).expect("fixture writable");
}

/// Scenario directories whose input names a non-chat `call`, sorted.
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
            let input = s.path().join("input.json");
            let call = read_json(&input)
                .ok()
                .flatten()
                .and_then(|v| v.get("call").and_then(Value::as_str).map(str::to_string));
            if call.is_some_and(|c| c != "chat") {
                out.push(s.path());
            }
        }
    }
    out.sort();
    out
}

/// One queued reply: status, headers, body.
type ReplySpec = (u16, Vec<(String, String)>, Vec<u8>);

struct Scenario {
    dir: PathBuf,
    call: String,
    request: Value,
    env: BTreeMap<String, String>,
    now_ms: u64,
    stream: bool,
    upstream_requests: Option<Vec<Value>>,
    replies: Vec<ReplySpec>,
    expected: Option<Value>,
    expected_chunks: Option<Vec<Value>>,
}

fn load(dir: &Path) -> Result<Scenario, String> {
    let input = read_json(&dir.join("input.json"))?.ok_or("input.json missing")?;
    let call = input["call"].as_str().unwrap_or_default().to_string();
    if !CALLS.contains(&call.as_str()) {
        return Err(format!("unknown call `{call}` (one of {CALLS:?})"));
    }
    let request = input.get("request").cloned().ok_or("no `request`")?;
    let mut env = BTreeMap::new();
    for (k, v) in input
        .get("env")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        env.insert(
            k.clone(),
            v.as_str().ok_or("env values are strings")?.to_string(),
        );
    }
    let now_ms = input
        .get("now_ms")
        .and_then(Value::as_u64)
        .unwrap_or(MOCK_START_MS);
    if now_ms < MOCK_START_MS {
        return Err(format!("`now_ms` must be ≥ {MOCK_START_MS}"));
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
            let status = r["status"]
                .as_u64()
                .ok_or("reply needs an integer `status`")? as u16;
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
                (_, Some(raw)) if i + 1 == n => raw.clone(),
                (Some(Value::String(s)), _) => s.clone().into_bytes(),
                (Some(Value::Null) | None, _) => Vec::new(),
                (Some(v), _) => serde_json::to_vec(v).expect("serializable"),
            };
            replies.push((status, headers, body));
        }
    }
    let upstream_requests = read_json(&dir.join("upstream_request.json"))?.map(|v| match v {
        Value::Array(a) => a,
        one => vec![one],
    });
    let expected_chunks = match fs::read_to_string(dir.join("expected_chunks.jsonl")) {
        Ok(s) => Some(
            s.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).map_err(|e| format!("expected_chunks: {e}")))
                .collect::<Result<Vec<Value>, String>>()?,
        ),
        Err(_) => None,
    };
    Ok(Scenario {
        dir: dir.to_path_buf(),
        call,
        request,
        env,
        now_ms,
        stream,
        upstream_requests,
        replies,
        expected: read_json(&dir.join("expected.json"))?,
        expected_chunks,
    })
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
    let host = MockHost::new();
    host.advance(s.now_ms - MOCK_START_MS);
    let last = s.replies.len().saturating_sub(1);
    for (i, (status, headers, body)) in s.replies.iter().enumerate() {
        let pieces = match cuts {
            Some(cuts) if i == last => {
                let mut out = Vec::new();
                let mut start = 0;
                for &c in cuts {
                    out.push(body[start..c].to_vec());
                    start = c;
                }
                out.push(body[start..].to_vec());
                out
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
    let env = &s.env;
    let r = s.request.clone();
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
            _ if s.stream => {
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

fn error_json(e: &Error) -> Value {
    json!({"kind": format!("{:?}", e.kind()), "status": e.status(), "code": e.code(),
        "class": e.kind().js_class()})
}

fn check_error(expected: &Value, e: Option<&Error>, problems: &mut Vec<String>) {
    let Some(e) = e else {
        problems.push(format!("expected error {expected}, but the call succeeded"));
        return;
    };
    let actual = error_json(e);
    for (k, want) in expected.as_object().into_iter().flatten() {
        let got = match k.as_str() {
            "kind" | "status" | "code" | "class" => actual[k.as_str()].clone(),
            "param" => json!(e.param()),
            "provider" => json!(e.provider()),
            "message_contains" => {
                let needle = want.as_str().unwrap_or_default();
                if !e.message().contains(needle) {
                    problems.push(format!("error message {:?} lacks {needle:?}", e.message()));
                }
                continue;
            }
            other => {
                problems.push(format!("unknown key `{other}` in expected error"));
                continue;
            }
        };
        if &got != want {
            problems.push(format!("error.{k}: expected {want}, got {got} ({e})"));
        }
    }
}

fn json_diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => json_diff(&format!("{path}.{k}"), va, vb, out),
                    None => out.push(format!("{path}.{k}: expected {va}, missing")),
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

fn check_request(n: usize, want: &Value, got: &HttpRequest, problems: &mut Vec<String>) {
    if let Some(m) = want.get("method").and_then(Value::as_str) {
        if m != got.method.as_str() {
            problems.push(format!(
                "request {n} method: expected {m}, got {}",
                got.method.as_str()
            ));
        }
    }
    match want.get("url").and_then(Value::as_str) {
        Some(u) if u != got.url => problems.push(format!(
            "request {n} url:\n  expected {u}\n  got      {}",
            got.url
        )),
        Some(_) => {}
        None => problems.push(format!("upstream request {n} has no `url`")),
    }
    for (name, v) in want
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let v = v.as_str().unwrap_or_default();
        match edgellm::http::header(&got.headers, name) {
            Some(g) if g == v => {}
            other => problems.push(format!(
                "request {n} header `{name}`: expected {v:?}, got {other:?}"
            )),
        }
    }
    if let Some(w) = want.get("body") {
        match got.json_body() {
            Some(g) => {
                let mut d = Vec::new();
                json_diff("body", w, &g, &mut d);
                if !d.is_empty() {
                    problems.push(format!(
                        "request {n} body differs:\n    {}",
                        d.join("\n    ")
                    ));
                }
            }
            None => problems.push(format!("request {n} body is not JSON")),
        }
    }
}

fn recorded_request_json(r: &HttpRequest) -> Value {
    let headers: serde_json::Map<String, Value> = r
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
        .collect();
    json!({"method": r.method.as_str(), "url": r.url, "headers": headers,
        "body": r.json_body().unwrap_or(Value::Null)})
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
                check_request(i, w, g, &mut problems);
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
        if s.stream && out.error.is_none() {
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
        (None, None) if s.stream => match &s.expected_chunks {
            Some(want) => {
                let mut d = Vec::new();
                json_diff(
                    "chunks",
                    &Value::Array(want.clone()),
                    &Value::Array(out.chunks.clone()),
                    &mut d,
                );
                if !d.is_empty() {
                    problems.push(format!("chunks differ:\n    {}", d.join("\n    ")));
                }
            }
            None => problems.push("stream scenario without expected_chunks.jsonl".into()),
        },
        (None, None) => match (&s.expected, &out.response) {
            (Some(want), Some(got)) => {
                let mut d = Vec::new();
                json_diff("response", want, got, &mut d);
                if !d.is_empty() {
                    problems.push(format!("response differs:\n    {}", d.join("\n    ")));
                }
            }
            (None, _) => problems.push("expected.json missing".into()),
            (Some(_), None) => problems.push("no response".into()),
        },
    }
    if s.stream && out.error.is_none() && problems.is_empty() {
        let len = s.replies.last().map_or(0, |r| r.2.len());
        let ones: Vec<usize> = (1..len).collect();
        let step = (len / 64).max(1);
        let mut cut_sets = vec![ones];
        cut_sets.extend((1..len).step_by(step).map(|c| vec![c]));
        for cuts in cut_sets {
            let again = run(s, Some(&cuts));
            if again.chunks != out.chunks || again.error.is_some() {
                problems.push(format!(
                    "output depends on how the body is split (cuts {:?}…): error {:?}",
                    &cuts[..cuts.len().min(4)],
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
    let filter = std::env::var("FIXTURE").ok().filter(|f| !f.is_empty());
    let mut ran = 0;
    let mut failures = Vec::new();
    for dir in scenarios() {
        let name = dir
            .strip_prefix(fixtures_root())
            .unwrap_or(&dir)
            .display()
            .to_string();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        ran += 1;
        let problems = match load(&dir) {
            Ok(s) => check_scenario(&s),
            Err(e) => vec![format!("cannot load: {e}")],
        };
        if !problems.is_empty() {
            failures.push(format!("✗ {name}\n  {}", problems.join("\n  ")));
        }
    }
    eprintln!(
        "modality fixtures: {ran} scenario(s) run, {} failed",
        failures.len()
    );
    assert!(ran > 0 || filter.is_some(), "no modality fixtures found");
    assert!(
        failures.is_empty(),
        "{} of {ran} scenario(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
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
        0,
        &json!({"url": "https://h/v1/embeddings", "body": {"input": "b"}}),
        &got,
        &mut p,
    );
    assert_eq!(p.len(), 1, "{p:?}");
}
