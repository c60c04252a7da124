//! What the two fixture harnesses (`tests/providers.rs` for chat, `tests/modalities.rs` for the
//! other endpoints) share: reading a scenario directory, queueing its canned replies on a
//! [`MockHost`], and comparing requests, results and errors with readable diffs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use edgellm::http::HttpRequest;
use edgellm::testing::{MockHost, Reply};
use edgellm::Error;
use serde_json::{json, Value};

/// The [`MockHost`] clock's start; a scenario's `now_ms` moves it forward from here.
pub const MOCK_START_MS: u64 = 1_700_000_000_000;

/// Byte-split runs beyond this body size use [`SAMPLED_SPLITS`] seeded split points instead of
/// every one, so one big recorded stream cannot dominate the suite's run time.
const EXHAUSTIVE_SPLIT_LIMIT: usize = 16 * 1024;
const SAMPLED_SPLITS: usize = 512;

pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `UPDATE_FIXTURES=1`: rewrite expected files from the actual output, for review.
pub fn updating() -> bool {
    std::env::var("UPDATE_FIXTURES").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `FIXTURE=<substring>`: run only the scenarios whose `<provider>/<scenario>` contains it.
pub fn filter() -> Option<String> {
    std::env::var("FIXTURE").ok().filter(|f| !f.is_empty())
}

/// `<provider>/<scenario>` of a scenario directory.
pub fn name_of(dir: &Path) -> String {
    dir.strip_prefix(fixtures_root())
        .unwrap_or(dir)
        .display()
        .to_string()
}

/// Every scenario directory (one holding `input.json`), sorted.
pub fn scenario_dirs() -> Vec<PathBuf> {
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

pub fn read_json(path: &Path) -> Result<Option<Value>, String> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: invalid JSON: {e}", path.display())),
        Err(_) => Ok(None),
    }
}

pub fn read_jsonl(path: &Path) -> Result<Option<Vec<Value>>, String> {
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

pub fn write_json(path: &Path, v: &Value) {
    let mut text = serde_json::to_string_pretty(v).expect("serializable");
    text.push('\n');
    fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

/// `input.json`, parsed.
pub struct Input {
    /// `"call"`: absent for chat scenarios.
    pub call: Option<String>,
    pub request: Value,
    pub env: BTreeMap<String, String>,
    pub now_ms: u64,
    /// `request.stream == true`.
    pub stream: bool,
}

pub fn read_input(dir: &Path) -> Result<Input, String> {
    let input = read_json(&dir.join("input.json"))?.ok_or("input.json missing")?;
    let call = input
        .get("call")
        .and_then(Value::as_str)
        .map(str::to_string);
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
    Ok(Input {
        call,
        request,
        env,
        now_ms,
        stream,
    })
}

/// (status, headers, body) of one canned upstream reply.
pub type CannedReply = (u16, Vec<(String, String)>, Vec<u8>);

/// `upstream_response.json` (one reply, or an array: one per upstream call or retry), with the
/// raw `upstream.stream` file, if present, as the last reply's body.
pub fn read_replies(dir: &Path) -> Result<Vec<CannedReply>, String> {
    let raw_stream = fs::read(dir.join("upstream.stream")).ok();
    let Some(resp) = read_json(&dir.join("upstream_response.json"))? else {
        if raw_stream.is_some() {
            return Err("upstream.stream without upstream_response.json".into());
        }
        return Ok(Vec::new());
    };
    let list = match resp {
        Value::Array(a) => a,
        one => vec![one],
    };
    let n = list.len();
    let mut replies = Vec::with_capacity(n);
    for (i, r) in list.into_iter().enumerate() {
        let status = r
            .get("status")
            .and_then(Value::as_u64)
            .ok_or("upstream_response.json needs an integer `status`")? as u16;
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
    Ok(replies)
}

/// A [`MockHost`] at `now_ms` with `replies` queued; the last reply's body is cut at `cuts`
/// (ascending byte offsets) into pieces, as a network might deliver it.
pub fn mock_host(replies: &[CannedReply], now_ms: u64, cuts: Option<&[usize]>) -> MockHost {
    let host = MockHost::new();
    host.advance(now_ms - MOCK_START_MS);
    let last = replies.len().saturating_sub(1);
    for (i, (status, headers, body)) in replies.iter().enumerate() {
        let pieces = match cuts {
            Some(cuts) if i == last => {
                let mut pieces = Vec::with_capacity(cuts.len() + 1);
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
    host
}

/// The ways a stream body of `len` bytes is re-split: at every byte boundary in two pieces (or
/// at seeded sample points for big bodies, so a failure reproduces), and into 1-byte pieces.
pub fn split_plans(len: usize) -> Vec<Vec<usize>> {
    if len <= 1 {
        return Vec::new();
    }
    let points: Vec<usize> = if len <= EXHAUSTIVE_SPLIT_LIMIT {
        (1..len).collect()
    } else {
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
    let mut plans: Vec<Vec<usize>> = points.into_iter().map(|p| vec![p]).collect();
    plans.push((1..len).collect());
    plans
}

/// How a split plan is described in a failure.
pub fn describe_split(cuts: &[usize], len: usize) -> String {
    match cuts {
        [one] => format!("split at byte {one} of {len}"),
        _ => "1-byte pieces".to_string(),
    }
}

/// The fields of an error that `expected.json` `{"error": …}` compares.
pub fn error_json(e: &Error) -> Value {
    json!({
        "kind": format!("{:?}", e.kind()),
        "status": e.status(),
        "code": e.code(),
        "class": e.kind().js_class(),
    })
}

/// Compares an error with an expected `{"kind", "status", "code", "class", "param",
/// "retry_after_ms", "provider", "message_contains"}` subset.
pub fn check_error(expected: &Value, e: Option<&Error>, problems: &mut Vec<String>) {
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
pub fn json_diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
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

/// Pushes `"{what} differs:"` with the diff lines when `got` is not `want`.
pub fn check_same(what: &str, want: &Value, got: &Value, problems: &mut Vec<String>) {
    let mut d = Vec::new();
    json_diff(what, want, got, &mut d);
    if !d.is_empty() {
        problems.push(format!("{what} differs:\n    {}", d.join("\n    ")));
    }
}

/// Compares a sent request with an `upstream_request.json` entry: method, url, every listed
/// header exactly, and the body as JSON (or as text when it is a string and the body is not
/// JSON; `null` when no body may be sent).
pub fn check_request(want: &Value, got: &HttpRequest, problems: &mut Vec<String>) {
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
        None => problems.push("upstream request has no `url`".into()),
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
        (Some(w), Some(g)) => check_same("request body", w, &g, problems),
        (Some(w), None) => problems.push(format!(
            "request body: expected {w}, got non-JSON {got_text:?}"
        )),
    }
}

/// A sent request in `upstream_request.json` form (for `UPDATE_FIXTURES`).
pub fn recorded_request_json(r: &HttpRequest) -> Value {
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

/// Runs the scenarios under `tests/fixtures` that `check` accepts (`None`: not this harness's)
/// and fails with every problem found, named by scenario. Returns how many ran.
pub fn run_all(label: &str, check: impl Fn(&Path) -> Option<Vec<String>>) -> usize {
    let filter = filter();
    let mut ran = 0;
    let mut failures = Vec::new();
    for dir in scenario_dirs() {
        let name = name_of(&dir);
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let Some(problems) = check(&dir) else {
            continue;
        };
        ran += 1;
        if !problems.is_empty() {
            failures.push(format!("✗ {name}\n  {}", problems.join("\n  ")));
        }
    }
    eprintln!("{label}: {ran} scenario(s) run, {} failed", failures.len());
    assert!(ran > 0 || filter.is_some(), "no {label} found");
    assert!(
        failures.is_empty(),
        "{} of {ran} scenario(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    ran
}
