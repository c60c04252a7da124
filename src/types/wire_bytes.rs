//! The exact bytes `serde_json` writes for fully populated requests (every optional field set,
//! extras that collide with a typed name, non-finite and extreme numbers), pinned as literals.
//! Field order and the place of the flattened extras are part of the wire contract (the
//! conformance fixtures compare upstream bodies exactly); a hand-written `Serialize` replacing a
//! derive must keep these passing.

use serde_json::json;

use serde_json::{Map, Value};

use super::{ChatRequest, Message, Prompt, Role, Stop, StreamOptions, TextCompletionRequest};

fn extra() -> Map<String, Value> {
    let Value::Object(m) = json!({"zeta": [1, {"b": null}], "alpha": "x", "model": "dup"}) else {
        unreachable!()
    };
    m
}

fn full_chat() -> ChatRequest {
    ChatRequest {
        model: "openai/gpt-4o".into(),
        messages: vec![
            Message::text(Role::System, "be brief"),
            serde_json::from_value(json!({"role": "user", "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}
            ]}))
            .unwrap(),
        ],
        temperature: Some(0.25),
        top_p: Some(1.0),
        n: Some(2),
        stream: Some(true),
        stream_options: Some(StreamOptions {
            include_usage: Some(true),
            extra: extra(),
        }),
        stop: Some(Stop::Many(vec!["a".into(), "b".into()])),
        max_tokens: Some(7),
        max_completion_tokens: Some(9),
        presence_penalty: Some(-0.5),
        frequency_penalty: Some(1e-7),
        logit_bias: Some(extra()),
        logprobs: Some(false),
        top_logprobs: Some(3),
        user: Some("u\"1".into()),
        seed: Some(-42),
        tools: Some(vec![serde_json::from_value(json!({"type": "function",
            "function": {"name": "f", "description": "d", "parameters": {"type": "object"},
            "strict": true}}))
        .unwrap()]),
        tool_choice: Some(
            serde_json::from_value(json!({"type": "function", "function": {"name": "f"}})).unwrap(),
        ),
        parallel_tool_calls: Some(true),
        response_format: Some(
            serde_json::from_value(json!({"type": "json_schema", "json_schema":
                {"name": "n", "schema": {"type": "object"}, "strict": true}}))
            .unwrap(),
        ),
        reasoning_effort: Some("low".into()),
        extra: extra(),
    }
}

#[test]
fn chat_request_bytes() {
    let got = serde_json::to_string(&full_chat()).unwrap();
    assert_eq!(got, "{\"model\":\"openai/gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\",\"detail\":\"low\"}}]}],\"temperature\":0.25,\"top_p\":1.0,\"n\":2,\"stream\":true,\"stream_options\":{\"include_usage\":true,\"alpha\":\"x\",\"model\":\"dup\",\"zeta\":[1,{\"b\":null}]},\"stop\":[\"a\",\"b\"],\"max_tokens\":7,\"max_completion_tokens\":9,\"presence_penalty\":-0.5,\"frequency_penalty\":1e-7,\"logit_bias\":{\"alpha\":\"x\",\"model\":\"dup\",\"zeta\":[1,{\"b\":null}]},\"logprobs\":false,\"top_logprobs\":3,\"user\":\"u\\\"1\",\"seed\":-42,\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},\"strict\":true}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}},\"parallel_tool_calls\":true,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"object\"},\"strict\":true}},\"reasoning_effort\":\"low\",\"alpha\":\"x\",\"model\":\"dup\",\"zeta\":[1,{\"b\":null}]}");
    let bare = serde_json::to_string(&ChatRequest::user("m", "x")).unwrap();
    assert_eq!(
        bare,
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"
    );
}

#[test]
fn text_completion_request_bytes() {
    let mut r = TextCompletionRequest::new("m", "p");
    let bare = serde_json::to_string(&r).unwrap();
    r.prompt = Prompt::ManyTokens(vec![vec![1, 2], vec![3]]);
    r.best_of = Some(3);
    r.echo = Some(true);
    r.frequency_penalty = Some(0.1);
    r.logit_bias = Some(extra());
    r.logprobs = Some(5);
    r.max_tokens = Some(16);
    r.n = Some(1);
    r.presence_penalty = Some(f64::NAN);
    r.seed = Some(i64::MIN);
    r.stop = Some(Stop::One("\n".into()));
    r.stream = Some(false);
    r.stream_options = Some(StreamOptions::default());
    r.suffix = Some("s".into());
    r.temperature = Some(0.0);
    r.top_p = Some(0.9);
    r.user = Some("u".into());
    r.extra = extra();
    assert_eq!(serde_json::to_string(&r).unwrap(), "{\"model\":\"m\",\"prompt\":[[1,2],[3]],\"best_of\":3,\"echo\":true,\"frequency_penalty\":0.1,\"logit_bias\":{\"alpha\":\"x\",\"model\":\"dup\",\"zeta\":[1,{\"b\":null}]},\"logprobs\":5,\"max_tokens\":16,\"n\":1,\"presence_penalty\":null,\"seed\":-9223372036854775808,\"stop\":\"\\n\",\"stream\":false,\"stream_options\":{},\"suffix\":\"s\",\"temperature\":0.0,\"top_p\":0.9,\"user\":\"u\",\"alpha\":\"x\",\"model\":\"dup\",\"zeta\":[1,{\"b\":null}]}");
    assert_eq!(bare, "{\"model\":\"m\",\"prompt\":\"p\"}");
}
