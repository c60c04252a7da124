//! The gateway end to end on `MockHost`: routing, auth, config, errors, headers, streaming.

use std::collections::HashMap;

use futures_executor::block_on;
use futures_util::StreamExt;
use serde_json::{json, Value};

use edgellm::testing::{MockHost, Reply as Canned};

use super::*;

const CONFIG: &str = r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/UPSTREAM_KEY
      api_base: http://127.0.0.1:9/v1
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: demo
    litellm_params:
      model: openai/edgellm-demo
      mock_response: "Hello from the demo"
general_settings:
  master_key: os.environ/MASTER
"#;

fn env() -> HashMap<String, String> {
    [
        ("UPSTREAM_KEY", "sk-upstream-secret"),
        ("MASTER", "sk-master"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn gateway() -> Gateway {
    Gateway::load(CONFIG, "test", &env()).unwrap()
}

fn head(method: &str, path: &str, headers: &[(&str, &str)]) -> Head {
    Head {
        method: method.into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

const AUTH: (&str, &str) = ("authorization", "Bearer sk-master");

/// Runs the three steps as the edge does.
fn call(host: &MockHost, gw: &Gateway, h: &Head, body: &[u8]) -> Reply {
    let mut reply = match begin(Ok(gw), h) {
        Begin::Done(r) => r,
        Begin::Body {
            endpoint,
            path_model,
            limit,
        } => {
            if body.len() > limit {
                too_large(limit)
            } else {
                block_on(run(host, &env(), gw, endpoint, path_model, body))
            }
        }
    };
    finish(&mut reply, Some(gw), h, "req-1", 5);
    reply
}

fn chat_body(model: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]}))
        .unwrap()
}

fn upstream_ok() -> Canned {
    Canned::json(
        200,
        &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-2024-08-06",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}),
    )
}

#[test]
fn chat_goes_upstream_with_the_deployment_key_and_routing_headers() {
    let host = MockHost::new().reply(upstream_ok());
    let r = call(
        &host,
        &gateway(),
        &head("POST", "/v1/chat/completions", &[AUTH]),
        &chat_body("gpt"),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json_body().unwrap()["choices"][0]["message"]["content"],
        "Hi!"
    );
    let sent = host.last_request().unwrap();
    assert_eq!(sent.url, "http://127.0.0.1:9/v1/chat/completions");
    assert_eq!(
        edgellm::http::header(&sent.headers, "authorization"),
        Some("Bearer sk-upstream-secret")
    );
    assert_eq!(sent.json_body().unwrap()["model"], "gpt-4o");
    assert_eq!(r.header("x-litellm-model-group"), Some("gpt"));
    assert_eq!(
        r.header("x-litellm-model-api-base"),
        Some("http://127.0.0.1:9/v1")
    );
    assert_eq!(r.header("x-litellm-attempted-retries"), Some("0"));
    assert_eq!(r.header("x-litellm-response-cost"), Some("0.00002"));
    assert_eq!(r.header("x-request-id"), Some("req-1"));
    assert_eq!(r.header("x-litellm-model-id").map(str::len), Some(16));
}

#[test]
fn auth_is_required_and_checked() {
    let gw = gateway();
    let host = MockHost::new();
    for headers in [
        vec![],
        vec![("authorization", "Bearer sk-wrong")],
        vec![("x-api-key", "nope")],
    ] {
        let r = call(
            &host,
            &gw,
            &head("POST", "/v1/chat/completions", &headers),
            &chat_body("gpt"),
        );
        assert_eq!(r.status, 401);
        let j = r.json_body().unwrap();
        assert_eq!(j["error"]["type"], "authentication_error");
        assert!(!j.to_string().contains("sk-master"));
    }
    for h in [("x-api-key", "sk-master"), ("api-key", "sk-master")] {
        let r = call(
            &host,
            &gw,
            &head("POST", "/v1/chat/completions", &[h]),
            &chat_body("demo"),
        );
        assert_eq!(r.status, 200, "{h:?} {r:?}");
    }
    assert!(
        host.requests.borrow().is_empty(),
        "no upstream call without auth"
    );
}

#[test]
fn open_gateway_without_master_key() {
    let gw = Gateway::load("model_list:\n  - model_name: d\n    litellm_params: {model: openai/x, mock_response: hi}\n", "t", &HashMap::new()).unwrap();
    let r = call(
        &MockHost::new(),
        &gw,
        &head("POST", "/chat/completions", &[]),
        &chat_body("d"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json_body().unwrap()["choices"][0]["message"]["content"],
        "hi"
    );
}

#[test]
fn mock_response_streams_sse_with_done() {
    let host = MockHost::new();
    let body = serde_json::to_vec(
        &json!({"model": "demo", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}),
    )
    .unwrap();
    let r = call(
        &host,
        &gateway(),
        &head("POST", "/v1/chat/completions", &[AUTH]),
        &body,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let Body::Stream(s) = r.body else {
        panic!("not a stream")
    };
    let text: String = block_on(
        s.map(|b| String::from_utf8(b.unwrap()).unwrap())
            .collect::<Vec<_>>(),
    )
    .concat();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let content: String = text
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .filter_map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(content, "Hello from the demo");
}

#[test]
fn upstream_errors_keep_their_class_and_never_leak_keys() {
    let host = MockHost::new().reply(Canned::json(
        401,
        &json!({"error": {"message": "Incorrect API key provided: sk-upstream-secret", "type": "invalid_request_error", "code": "invalid_api_key"}}),
    ));
    let r = call(
        &host,
        &gateway(),
        &head("POST", "/v1/chat/completions", &[AUTH]),
        &chat_body("gpt"),
    );
    assert_eq!(r.status, 401);
    let j = r.json_body().unwrap();
    assert!(!j.to_string().contains("sk-upstream-secret"), "{j}");
    assert_eq!(j["error"]["code"], "invalid_api_key");

    let host = MockHost::new();
    for _ in 0..5 {
        host.push(Canned::json(
            429,
            &json!({"error": {"message": "slow down", "type": "rate_limit_error"}}),
        ));
    }
    let r = call(
        &host,
        &gateway(),
        &head("POST", "/v1/chat/completions", &[AUTH]),
        &chat_body("gpt"),
    );
    assert_eq!(r.status, 429, "{r:?}");
    assert_eq!(r.json_body().unwrap()["error"]["type"], "rate_limit_error");
}

#[test]
fn bad_input_is_a_clear_4xx() {
    let gw = gateway();
    let host = MockHost::new();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "POST",
            "/v1/chat/completions",
            b"{not json".to_vec(),
            400,
            "invalid JSON",
        ),
        ("POST", "/v1/chat/completions", b"".to_vec(), 400, "empty"),
        (
            "POST",
            "/v1/chat/completions",
            b"[1]".to_vec(),
            400,
            "JSON object",
        ),
        (
            "POST",
            "/v1/chat/completions",
            br#"{"messages": []}"#.to_vec(),
            400,
            "model",
        ),
        (
            "POST",
            "/v1/chat/completions",
            br#"{"model": 3, "messages": []}"#.to_vec(),
            400,
            "model",
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat_body("nope"),
            400,
            "Invalid model name",
        ),
        (
            "POST",
            "/v1/chat/completions",
            br#"{"model": "demo", "messages": "hi"}"#.to_vec(),
            400,
            "messages",
        ),
        (
            "POST",
            "/v1/chat/completions",
            br#"{"model": "demo", "messages": [], "api_base": "http://evil"}"#.to_vec(),
            400,
            "api_base",
        ),
        ("GET", "/v1/chat/completions", vec![], 405, "not allowed"),
        ("POST", "/v1/nope", vec![], 404, "Invalid URL"),
    ];
    for (m, p, body, status, needle) in cases {
        let r = call(&host, &gw, &head(m, p, &[AUTH]), &body);
        assert_eq!(
            r.status,
            status,
            "{m} {p} {:?}",
            String::from_utf8_lossy(&body)
        );
        let msg = r.json_body().unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(msg.contains(needle), "{msg}");
    }
    let r = call(
        &host,
        &gw,
        &head("GET", "/v1/chat/completions", &[AUTH]),
        b"",
    );
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    assert!(host.requests.borrow().is_empty());
}

#[test]
fn body_cap() {
    let gw = Gateway::load(
        "general_settings: {max_request_size_mb: 0.001}\nmodel_list: []",
        "t",
        &HashMap::new(),
    )
    .unwrap();
    let Begin::Body { limit, .. } = begin(Ok(&gw), &head("POST", "/v1/chat/completions", &[]))
    else {
        panic!()
    };
    assert_eq!(limit, 1048);
    assert_eq!(too_large(limit).status, 413);
    assert_eq!(gateway().max_body_bytes(), DEFAULT_MAX_BODY);
}

#[test]
fn models_health_and_root() {
    let gw = gateway();
    let host = MockHost::new();
    let r = call(&host, &gw, &head("GET", "/v1/models", &[AUTH]), b"");
    let ids: Vec<String> = r.json_body().unwrap()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec!["gpt", "demo"]);
    assert_eq!(
        call(&host, &gw, &head("GET", "/models", &[]), b"").status,
        401
    );
    assert_eq!(
        call(&host, &gw, &head("GET", "/v1/models/gpt", &[AUTH]), b"").status,
        200
    );
    assert_eq!(
        call(&host, &gw, &head("GET", "/v1/models/zzz", &[AUTH]), b"").status,
        404
    );

    let info = call(&host, &gw, &head("GET", "/model/info", &[AUTH]), b"")
        .json_body()
        .unwrap();
    assert!(!info.to_string().contains("sk-upstream-secret"), "{info}");
    assert_eq!(
        info["data"][0]["litellm_params"]["api_base"],
        "http://127.0.0.1:9/v1"
    );
    assert!(info["data"][0]["litellm_params"].get("api_key").is_none());

    let live = call(&host, &gw, &head("GET", "/health/liveliness", &[]), b"");
    assert_eq!(live.json_body().unwrap(), json!("I'm alive!"));
    assert_eq!(
        call(&host, &gw, &head("GET", "/health/liveness", &[]), b"").status,
        200
    );
    let ready = call(&host, &gw, &head("GET", "/health/readiness", &[]), b"")
        .json_body()
        .unwrap();
    assert_eq!(ready["status"], "healthy");
    assert!(ready.get("config_warning_messages").is_none());
    let ready = call(&host, &gw, &head("GET", "/health/readiness", &[AUTH]), b"")
        .json_body()
        .unwrap();
    assert!(ready.get("config_warning_messages").is_some());
    assert_eq!(call(&host, &gw, &head("GET", "/", &[]), b"").status, 200);
}

#[test]
fn logging_flag_follows_the_config() {
    // `Gateway::logging` is computed once at load; a request's log is on exactly when it is.
    let load = |extra: &str| {
        let text = format!(
            "model_list:\n  - model_name: m\n    litellm_params: {{model: openai/gpt-4o}}\n{extra}"
        );
        Gateway::load(&text, "t", &HashMap::new()).unwrap()
    };
    assert!(!load("").logging());
    assert!(load("litellm_settings: {success_callback: [generic_api]}\n").logging());
    assert!(load("litellm_settings: {failure_callback: [generic_api]}\n").logging());
    assert!(load("general_settings: {alerting: [slack]}\n").logging());
}

#[test]
fn config_errors_keep_the_default_cors_policy() {
    // Without a config, `begin` and `finish` build LiteLLM's default policy (any origin) for
    // the answer; with one, they borrow the config's.
    let err = Gateway::load("model_list: {}", "t", &HashMap::new()).unwrap_err();
    let pre = head(
        "OPTIONS",
        "/v1/chat/completions",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "POST"),
        ],
    );
    let Begin::Done(r) = begin(Err(&err), &pre) else {
        panic!()
    };
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let h = head(
        "POST",
        "/v1/chat/completions",
        &[("origin", "https://a.example")],
    );
    let Begin::Done(mut r) = begin(Err(&err), &h) else {
        panic!()
    };
    finish(&mut r, None, &h, "req-1", 0);
    assert_eq!(r.status, 500);
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn config_errors_answer_500_but_liveliness_stays_up() {
    let err = Gateway::load("model_list: {}", "t", &HashMap::new()).unwrap_err();
    assert!(err.contains("model_list"), "{err}");
    let h = head("POST", "/v1/chat/completions", &[]);
    let Begin::Done(r) = begin(Err(&err), &h) else {
        panic!()
    };
    assert_eq!(r.status, 500);
    assert_eq!(r.json_body().unwrap()["error"]["code"], "config_error");
    let Begin::Done(r) = begin(Err(&err), &head("GET", "/health/readiness", &[])) else {
        panic!()
    };
    assert_eq!(r.status, 503);
    let Begin::Done(r) = begin(Err(&err), &head("GET", "/health/liveliness", &[])) else {
        panic!()
    };
    assert_eq!(r.status, 200);
    assert!(Gateway::load("a: [1", "t", &HashMap::new())
        .unwrap_err()
        .contains("YAML"));
    assert!(Gateway::load("{\"a\": ", "t", &HashMap::new())
        .unwrap_err()
        .contains("JSON"));
}

#[test]
fn azure_path_names_the_model() {
    let r = call(
        &MockHost::new(),
        &gateway(),
        &head("POST", "/openai/deployments/demo/chat/completions", &[AUTH]),
        br#"{"messages": [{"role": "user", "content": "x"}]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-litellm-model-group"), Some("demo"));
}

#[test]
fn cors_on_responses_and_preflight() {
    let gw = gateway();
    let r = call(
        &MockHost::new(),
        &gw,
        &head(
            "OPTIONS",
            "/v1/chat/completions",
            &[
                ("origin", "https://a.example"),
                (
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
            ],
        ),
        b"",
    );
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("authorization, content-type")
    );
    let r = call(
        &MockHost::new(),
        &gw,
        &head(
            "GET",
            "/v1/models",
            &[AUTH, ("origin", "https://a.example")],
        ),
        b"",
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn request_ids() {
    assert_eq!(request_id(Some("abc-123"), || 0.5), "abc-123");
    let id = request_id(Some("bad id with spaces"), || 0.25);
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    let mut n = 0.0;
    let a = request_id(None, || {
        n += 0.1;
        n
    });
    assert_ne!(a, request_id(None, || 0.7));
    // The UUIDv4 layout: version nibble 4, variant bits 10, dashes after 8/12/16/20 digits.
    assert_eq!(
        request_id(None, || 0.5),
        "80000000-8000-4000-8000-000080000000"
    );
    assert_eq!(
        request_id(None, || 0.999_999_999),
        "fffffffb-ffff-4ffb-bfff-fffbfffffffb"
    );
}

#[test]
fn secrets_are_collected() {
    let gw = gateway();
    let s = gw.secrets();
    assert!(
        s.contains(&"sk-upstream-secret") && s.contains(&"sk-master"),
        "{s:?}"
    );
}
