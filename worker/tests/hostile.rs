//! The hostile-input corpus (`tests/hostile/corpus.jsonl`) replayed natively against the
//! gateway's plain-Rust layer (`app::begin` → body limit → `app::run` → `app::finish`) on
//! `MockHost`, with the master key and without a key. The Worker test
//! (`worker/test/hostile.test.mjs`) replays the same corpus in workerd, over HTTP, with virtual
//! keys on; this one needs no build and runs with `cargo test`. Management routes (the virtual
//! key layer's stores), raw HTTP and slow-body cases are the Worker test's only.

use std::collections::HashMap;

use futures_executor::block_on;
use serde_json::Value;

use edgellm::testing::MockHost;
use edgellm_worker::app::{self, Begin, Body, Gateway, Head, Reply};
use edgellm_worker::keys::api::is_management;

const MASTER: &str = "sk-master-test-1234";
const CORPUS: &str = include_str!("../../tests/hostile/corpus.jsonl");

const CONFIG: &str = r#"
model_list:
  - {model_name: ok, litellm_params: {model: openai/gpt-4o, api_base: "http://127.0.0.1:9/v1", api_key: sk-upstream-test}}
  - {model_name: emb, litellm_params: {model: openai/text-embedding-3-small, api_base: "http://127.0.0.1:9/v1", api_key: sk-upstream-test}}
  - {model_name: img, litellm_params: {model: openai/dall-e-3, api_base: "http://127.0.0.1:9/v1", api_key: sk-upstream-test}}
  - {model_name: mod, litellm_params: {model: openai/omni-moderation-latest, api_base: "http://127.0.0.1:9/v1", api_key: sk-upstream-test}}
  - {model_name: rr, litellm_params: {model: cohere/rerank-v3.5, api_base: "http://127.0.0.1:9", api_key: sk-upstream-test}}
router_settings: {num_retries: 0}
general_settings: {master_key: os.environ/MASTER, max_request_size_mb: 1}
"#;

fn env() -> HashMap<String, String> {
    HashMap::from([("MASTER".to_string(), MASTER.to_string())])
}

fn subst(s: &str) -> String {
    s.replace("$MASTER_PREFIX", &MASTER[..MASTER.len() - 2])
        .replace("$MASTER", MASTER)
}

/// Standard base64 (the corpus' `b64` parts).
fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(val).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..group.len()]);
    }
    out
}

/// A body spec (list of parts) as bytes.
fn body_of(parts: Option<&Value>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts.and_then(Value::as_array).into_iter().flatten() {
        if let Some(t) = p["text"].as_str() {
            out.extend_from_slice(subst(t).as_bytes());
        } else if let Some(b) = p["b64"].as_str() {
            out.extend(base64(b));
        } else if let Some(unit) = p["repeat"].as_str() {
            let times = p["times"].as_u64().expect("times") as usize;
            out.extend_from_slice(unit.repeat(times).as_bytes());
        } else {
            panic!("unknown body part {p}");
        }
    }
    out
}

fn head_for(case: &Value, mode: &str) -> Head {
    let mut headers: Vec<(String, String)> = case["headers"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !k.starts_with('$'))
        .map(|(k, v)| (k.to_ascii_lowercase(), subst(v.as_str().expect("header"))))
        .collect();
    if mode == "master" {
        headers.push(("authorization".into(), format!("Bearer {MASTER}")));
    }
    let path = case["path"].as_str().expect("path");
    Head {
        method: case["method"].as_str().expect("method").to_string(),
        // The Worker reads the path without its query string.
        path: path.split('?').next().unwrap_or(path).to_string(),
        headers,
    }
}

/// The gateway's answer, as the Worker edge produces it.
fn answer(gw: &Gateway, host: &MockHost, head: &Head, body: &[u8]) -> (Reply, String) {
    let id = app::request_id(head.header("x-request-id"), || 0.25);
    let mut reply = match app::begin(Ok(gw), head) {
        Begin::Done(r) => r,
        Begin::Body {
            endpoint,
            path_model,
            limit,
        } if body.len() <= limit => {
            block_on(app::run(host, &env(), gw, endpoint, path_model, body))
        }
        Begin::Body { limit, .. } => app::too_large(limit),
    };
    app::finish(&mut reply, Some(gw), head, &id, 1);
    (reply, id)
}

fn check(what: &str, reply: &Reply, id: &str, sent: &Head, expect: &Value) {
    let text = match &reply.body {
        Body::Full(b) => String::from_utf8_lossy(b).into_owned(),
        Body::Empty => String::new(),
        Body::Stream(_) => panic!("{what}: a stream answered hostile input"),
    };
    let status = reply.status;
    let head = format!("{what} → {status} {}", &text[..text.len().min(300)]);
    assert!(status < 500, "5xx: {head}");
    match expect["status"].as_u64() {
        Some(s) => assert_eq!(u64::from(status), s, "{head}"),
        None => assert!((400..500).contains(&status), "{head}"),
    }
    if let Some(h) = expect["noHeader"].as_str() {
        assert!(reply.header(h).is_none(), "{what}: {h} echoed");
    }
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{head}"
    );
    let j: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{head}: {e}"));
    let e = &j["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{head}"
    );
    assert!(e["type"].is_string(), "{head}");
    let obj = e.as_object().expect("error object");
    assert!(
        obj.contains_key("code") && obj.contains_key("param"),
        "{head}"
    );
    for key in ["code", "param", "type"] {
        if let Some(want) = expect[key].as_str() {
            assert_eq!(e[key].as_str(), Some(want), "{head}");
        }
    }
    if let Some(m) = expect["message"].as_str() {
        let got = e["message"].as_str().unwrap_or_default().to_lowercase();
        assert!(
            got.contains(&m.to_lowercase()),
            "{head}: should mention {m}"
        );
    }
    if let Some(allow) = expect["allow"].as_str() {
        assert_eq!(reply.header("allow"), Some(allow), "{head}");
    }
    if expect["freshRequestId"].as_bool() == Some(true) {
        assert_ne!(
            Some(id),
            sent.header("x-request-id"),
            "{what}: caller's id echoed"
        );
        assert_eq!(id.len(), 36, "{what}: a UUID");
    }
}

#[test]
fn hostile_corpus_gets_openai_4xx_and_nothing_reaches_the_upstream() {
    let gw = Gateway::load(CONFIG, "hostile", &env()).expect("config");
    let host = MockHost::new();
    let mut replayed = 0;
    for line in CORPUS.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).expect("corpus line");
        let name = case["name"].as_str().expect("name");
        let path = case["path"].as_str().unwrap_or_default();
        if case.get("transport").is_some() || is_management(path.split('?').next().unwrap_or(path))
        {
            continue;
        }
        let modes: &[(&str, &str)] = if case["auth"] == "custom" {
            &[("custom", "expect")]
        } else {
            &[("master", "expect"), ("none", "noauth")]
        };
        let body = body_of(case.get("body"));
        for (mode, key) in modes {
            let head = head_for(&case, mode);
            let (reply, id) = answer(&gw, &host, &head, &body);
            check(&format!("{name} [{mode}]"), &reply, &id, &head, &case[*key]);
            let sent = host.requests.borrow();
            assert!(
                sent.is_empty(),
                "{name} [{mode}]: reached the upstream: {:?}",
                sent.last().map(|r| r.url.clone())
            );
            replayed += 1;
        }
    }
    assert!(replayed >= 400, "replayed {replayed} requests");
    // Still serving: a valid request goes upstream once and comes back.
    host.push(edgellm::testing::Reply::json(
        200,
        &serde_json::json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "fine"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
    ));
    let head = Head {
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        headers: vec![("authorization".into(), format!("Bearer {MASTER}"))],
    };
    let body = br#"{"model": "ok", "messages": [{"role": "user", "content": "hi"}]}"#;
    let (reply, _) = answer(&gw, &host, &head, body);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(host.requests.borrow().len(), 1);
}
