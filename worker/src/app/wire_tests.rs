//! Non-stream chat answers from OpenAI-format upstreams: forwarded as the upstream's bytes when
//! nothing rewrites them, parsed and re-serialized when something does, with the same cost
//! headers either way.

use std::collections::HashMap;

use futures_executor::block_on;
use serde_json::{json, Value};

use edgellm::http::Headers;
use edgellm::testing::{MockHost, Reply as Canned};

use super::*;

const CONFIG: &str = r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-test-upstream
      api_base: http://127.0.0.1:9/v1
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: groq
    litellm_params:
      model: groq/llama-3.1-8b-instant
      api_key: sk-test-groq
      api_base: http://127.0.0.1:9/openai/v1
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
"#;

/// The upstream's answer, in OpenAI's own formatting (nulls and all).
const UPSTREAM: &str = r#"{"id":"chatcmpl-9","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"you\" \u00e9","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}},"service_tier":"default","system_fingerprint":"fp_1"}"#;

fn json_headers() -> Headers {
    vec![("content-type".into(), "application/json".into())]
}

/// A chat call for `model` answered by `upstream`; the reply and the request sent.
fn chat(model: &str, upstream: &str) -> (Reply, Vec<u8>) {
    let gw = Gateway::load(CONFIG, "test", &HashMap::<String, String>::new()).unwrap();
    // The same answer to retries too (errors that may pass are retried).
    let host = MockHost::new();
    for _ in 0..4 {
        host.push(Canned::bytes(200, json_headers(), upstream.as_bytes(), 7));
    }
    let body = json!({"model": model, "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.5, "user": "u-1"});
    let reply = block_on(run(
        &host,
        &HashMap::<String, String>::new(),
        &gw,
        routes::Endpoint::Chat,
        None,
        body.to_string().as_bytes(),
    ));
    let sent = host.requests.borrow()[0].body.clone().unwrap();
    (reply, sent)
}

fn body_text(r: &Reply) -> String {
    match &r.body {
        Body::Full(b) => String::from_utf8(b.clone()).unwrap(),
        _ => panic!("not a complete body: {r:?}"),
    }
}

#[test]
fn an_openai_answer_goes_out_as_the_upstream_sent_it() {
    let (r, _) = chat("gpt", UPSTREAM);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(body_text(&r), UPSTREAM);
    assert_eq!(r.header("content-type"), Some("application/json"));
    // 10 × 1e-6 + 5 × 2e-6, from the usage read out of the forwarded body.
    assert_eq!(r.header("x-litellm-response-cost"), Some("0.00002"));
    assert_eq!(r.header("x-litellm-model-group"), Some("gpt"));
}

#[test]
fn answers_that_need_a_rewrite_are_parsed_and_rewritten() {
    let mut empty_finish: Value = serde_json::from_str(UPSTREAM).unwrap();
    empty_finish["choices"][0]["finish_reason"] = json!("");
    let (r, _) = chat("gpt", &empty_finish.to_string());
    assert_eq!(r.status, 200, "{r:?}");
    let j = r.json_body().unwrap();
    assert_eq!(j["choices"][0]["finish_reason"], "stop");
    assert_eq!(r.header("x-litellm-response-cost"), Some("0.00002"));

    // Without `object` and `created`, the client still gets them (the types' defaults).
    let mut partial: Value = serde_json::from_str(UPSTREAM).unwrap();
    let obj = partial.as_object_mut().unwrap();
    obj.remove("object");
    obj.remove("created");
    let (r, _) = chat("gpt", &partial.to_string());
    let j = r.json_body().unwrap();
    assert_eq!(j["object"], "chat.completion");
    assert_eq!(j["created"], 0);
    assert_eq!(j["choices"][0]["message"]["content"], "Hi \"you\" é");
    assert_eq!(r.header("x-litellm-response-cost"), Some("0.00002"));
}

#[test]
fn a_row_that_moves_usage_rewrites_every_answer() {
    // Groq reports usage under `x_groq.usage`; the client gets it at `usage`.
    let mut v: Value = serde_json::from_str(UPSTREAM).unwrap();
    let usage = v.as_object_mut().unwrap().remove("usage").unwrap();
    v["x_groq"] = json!({"usage": usage});
    let (r, _) = chat("groq", &v.to_string());
    assert_eq!(r.status, 200, "{r:?}");
    let j = r.json_body().unwrap();
    assert_eq!(j["usage"]["total_tokens"], 15);
    assert_eq!(r.header("x-litellm-response-cost"), Some("0.00002"));
}

#[test]
fn an_error_in_a_200_answer_is_an_error() {
    let (r, _) = chat(
        "gpt",
        r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[],"error":{"message":"overloaded","type":"server_error","code":"server_error"}}"#,
    );
    assert_ne!(r.status, 200, "{r:?}");
    assert_eq!(r.json_body().unwrap()["error"]["message"], "overloaded");
    // Not a chat completion: the typed path's error, as before.
    let (r, _) = chat("gpt", "{\"id\": \"c\", \"choices\": 5}");
    assert_eq!(r.status, 500, "{r:?}");
    let j = r.json_body().unwrap();
    assert_eq!(j["error"]["code"], "decode_error");
    assert!(j["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("unexpected chat response shape"));
}

#[test]
fn the_upstream_request_says_the_same_without_a_value_tree() {
    let (_, sent) = chat("gpt", UPSTREAM);
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(
        sent,
        json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "temperature": 0.5, "user": "u-1"})
    );
}
