//! The gateway's logging on `MockHost`: a config's `litellm_settings` callbacks receive the
//! chat calls a request made (success, failure, and a stream once it ended, with the full
//! output), with the caller's key hash in the metadata; nothing is sent before delivery.

use std::collections::HashMap;
use std::rc::Rc;

use futures_executor::block_on;
use futures_util::StreamExt;
use serde_json::{json, Value};

use edgellm::integrations::capture::{hash_key, Caller};
use edgellm::integrations::gateway::{self, RequestLog};
use edgellm::integrations::Dispatcher;
use edgellm::testing::{MockHost, Reply as Canned};
use edgellm_worker::app::{self, routes::Endpoint, Body, Gateway};

const CONFIG: &str = r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-upstream
      api_base: http://127.0.0.1:9/v1
litellm_settings:
  success_callback: ["webhook"]
  failure_callback: ["webhook", "slack"]
  num_retries: 0
callback_settings:
  webhook:
    endpoint: http://logs.test/ingest
"#;

fn env() -> HashMap<String, String> {
    [("SLACK_WEBHOOK_URL", "http://slack.test/hook")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn log() -> RequestLog {
    let caller = Caller {
        key: Some("sk-caller".into()),
        ..Caller::default()
    };
    RequestLog::new("req-42", caller, Rc::new(|| 1_700_000_000_000))
}

fn run(host: &MockHost, gw: &Gateway, body: Value, log: &RequestLog) -> app::Reply {
    let body = serde_json::to_vec(&body).unwrap();
    block_on(app::run_logged(
        host,
        &env(),
        gw,
        Endpoint::Chat,
        None,
        &body,
        log,
    ))
}

fn deliver(gw: &Gateway, log: RequestLog) -> (MockHost, Vec<Value>) {
    let host = MockHost::new();
    for _ in 0..4 {
        host.push(Canned::json(200, &json!({})));
    }
    let d = Dispatcher::new(&gateway::settings(gw.config()), &env());
    let report = block_on(log.deliver(&host, &d));
    assert!(report.ok(), "{report:?}");
    let sent = host
        .requests
        .borrow()
        .iter()
        .map(|r| r.json_body().unwrap())
        .collect();
    (host, sent)
}

fn user(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

#[test]
fn a_chat_call_is_delivered_to_the_configured_loggers() {
    let gw = Gateway::load(CONFIG, "test", &env()).unwrap();
    let upstream = MockHost::new().reply(Canned::json(
        200,
        &json!({"id": "chatcmpl-9", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}),
    ));
    let log = log();
    let body = json!({"model": "gpt", "messages": user("Hello"), "metadata": {"tags": ["x"]}});
    let reply = run(&upstream, &gw, body, &log);
    assert_eq!(reply.status, 200);
    // Recorded, not sent: delivery happens after the response.
    assert_eq!(upstream.requests.borrow().len(), 1);
    let (host, sent) = deliver(&gw, log);
    assert_eq!(host.requests.borrow()[0].url, "http://logs.test/ingest");
    let p = &sent[0][0];
    assert_eq!(p["id"], "req-42");
    assert_eq!(p["status"], "success");
    assert_eq!(p["model_group"], "gpt");
    assert_eq!(p["messages"][0]["content"], "Hello");
    assert_eq!(p["response"]["choices"][0]["message"]["content"], "Hi!");
    assert_eq!(p["total_tokens"], 5);
    assert_eq!(p["metadata"]["tags"], json!(["x"]));
    assert_eq!(p["metadata"]["user_api_key_hash"], hash_key("sk-caller"));
}

#[test]
fn a_failure_goes_to_the_failure_loggers() {
    let gw = Gateway::load(CONFIG, "test", &env()).unwrap();
    let upstream = MockHost::new().reply(Canned::json(
        429,
        &json!({"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}),
    ));
    let log = log();
    let reply = run(
        &upstream,
        &gw,
        json!({"model": "gpt", "messages": user("Hello")}),
        &log,
    );
    assert_eq!(reply.status, 429);
    let (host, sent) = deliver(&gw, log);
    let urls: Vec<String> = host
        .requests
        .borrow()
        .iter()
        .map(|r| r.url.clone())
        .collect();
    assert_eq!(urls, ["http://logs.test/ingest", "http://slack.test/hook"]);
    assert_eq!(sent[0][0]["status"], "failure");
    assert_eq!(
        sent[0][0]["error_information"]["error_class"],
        "RateLimitError"
    );
    assert!(sent[1]["text"].as_str().unwrap().contains("slow down"));
}

#[test]
fn a_stream_is_delivered_once_it_ended_with_the_full_output() {
    let gw = Gateway::load(CONFIG, "test", &env()).unwrap();
    let sse = concat!(
        "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let upstream = MockHost::new().reply(Canned::bytes(
        200,
        vec![("content-type".into(), "text/event-stream".into())],
        sse.as_bytes(),
        40,
    ));
    let log = log();
    let reply = run(
        &upstream,
        &gw,
        json!({"model": "gpt", "messages": user("Hello"), "stream": true}),
        &log,
    );
    // Until the client read the stream, the call is pending, not logged.
    assert!(!log.sink().is_idle());
    let Body::Stream(mut s) = reply.body else {
        panic!("not a stream")
    };
    let mut text = Vec::new();
    while let Some(piece) = block_on(s.next()) {
        text.extend(piece.unwrap());
    }
    assert!(String::from_utf8(text)
        .unwrap()
        .ends_with("data: [DONE]\n\n"));
    let (_, sent) = deliver(&gw, log);
    let p = &sent[0][0];
    assert_eq!(p["stream"], true);
    assert_eq!(p["response"]["choices"][0]["message"]["content"], "Hello");
}

#[test]
fn without_callbacks_nothing_is_recorded() {
    let plain = CONFIG.split("litellm_settings:").next().unwrap();
    let gw = Gateway::load(plain, "test", &env()).unwrap();
    assert!(gateway::settings(gw.config()).is_empty());
}

#[test]
fn a_stream_without_include_usage_is_logged_with_the_provider_usage_and_cost() {
    let priced = CONFIG.replace(
        "      api_key: sk-upstream\n",
        "      api_key: sk-upstream\n      input_cost_per_token: 0.000001\n      output_cost_per_token: 0.000002\n",
    );
    let gw = Gateway::load(&priced, "test", &env()).unwrap();
    let sse = concat!(
        "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"id\":\"s\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19}}\n\n",
        "data: [DONE]\n\n",
    );
    let upstream = MockHost::new().reply(Canned::bytes(
        200,
        vec![("content-type".into(), "text/event-stream".into())],
        sse.as_bytes(),
        40,
    ));
    let log = log();
    // No `stream_options`: the client is not shown the usage chunk.
    let reply = run(
        &upstream,
        &gw,
        json!({"model": "gpt", "messages": user("Hello"), "stream": true}),
        &log,
    );
    let Body::Stream(mut s) = reply.body else {
        panic!("not a stream")
    };
    let mut text = Vec::new();
    while let Some(piece) = block_on(s.next()) {
        text.extend(piece.unwrap());
    }
    let text = String::from_utf8(text).unwrap();
    assert!(!text.contains("\"usage\":{"), "{text}");
    // The core asked the provider for usage anyway.
    let up = upstream.requests.borrow()[0].json_body().unwrap();
    assert_eq!(up["stream_options"]["include_usage"], true);
    let (_, sent) = deliver(&gw, log);
    let p = &sent[0][0];
    assert_eq!(p["stream"], true);
    assert_eq!(p["response"]["choices"][0]["message"]["content"], "Hello");
    assert_eq!(p["prompt_tokens"], 12);
    assert_eq!(p["completion_tokens"], 7);
    assert_eq!(p["total_tokens"], 19);
    assert_eq!(p["usage"]["total_tokens"], 19);
    assert_eq!(p["response"]["usage"]["total_tokens"], 19);
    let cost = p["response_cost"].as_f64().unwrap();
    assert!(
        (cost - (12.0 * 0.000001 + 7.0 * 0.000002)).abs() < 1e-12,
        "{cost}"
    );
}
