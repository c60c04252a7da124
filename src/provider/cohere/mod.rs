//! Cohere's v2 Chat API (`cohere/<model>`, or a bare `command-…`).
//!
//! - Endpoint: `POST https://api.cohere.com/v2/chat`, `Authorization: Bearer` with
//!   `COHERE_API_KEY` (or `CO_API_KEY`, the Cohere SDK's name). `api_base` /
//!   `COHERE_API_BASE`: a URL ending in `/chat` is used as is (LiteLLM's form); a bare host gets
//!   `/v2/chat`; any other base gets `/chat`.
//! - The v2 request is close to OpenAI's (messages with `tool_calls` / `tool_call_id`, tools as
//!   `{"type": "function", "function": …}`), with renamed knobs: `top_p` → `p`, `top_k` → `k`,
//!   `stop` → `stop_sequences`, `tool_choice` → `REQUIRED` / `NONE`.
//! - Cohere's `tool_plan` (the text the model writes before calling tools) is the assistant
//!   `content` on the OpenAI side, and goes back as `tool_plan` when an assistant message with
//!   tool calls is replayed.
//!
//! API reference: <https://docs.cohere.com/reference/chat>,
//! <https://docs.cohere.com/reference/chat-stream>.

pub mod embed;
pub mod rerank;
mod stream;

pub use stream::CohereStream;

use serde_json::{Map, Value};

use super::{check_params, Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::http::{retry_after_ms, Headers, HttpRequest};
use crate::provider::build::{at, obj, parse, s};
use crate::provider::native::{
    assistant, bad_message, error_text, named, object_schema, one_choice, put_params, tool_call,
    Param,
};
use crate::types::{
    ChatRequest, ChatResponse, Content, FinishReason, Put, Role, ToolCall, ToolChoice, Usage,
};
use crate::{Error, ErrorKind, Result};

/// Default endpoint base.
pub const DEFAULT_BASE: &str = "https://api.cohere.com/v2";

/// The OpenAI parameters (and Cohere extras LiteLLM forwards) the v2 Chat API takes.
pub const SUPPORTED_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "tools",
    "tool_choice",
    "response_format",
    "stream_options",
    // Cohere-specific pass-through.
    "top_k",
    "safety_mode",
    "documents",
    "citation_options",
    "strict_tools",
    "thinking",
];

/// The Cohere provider.
#[derive(Debug, Clone, Copy)]
pub struct Cohere;

/// The registry's instance.
pub static COHERE: Cohere = Cohere;

static INFO: ProviderInfo = ProviderInfo {
    id: "cohere",
    name: "Cohere",
    default_base: DEFAULT_BASE,
    env: &["COHERE_API_KEY", "CO_API_KEY", "COHERE_API_BASE"],
    auth: "Bearer",
    caps: Capabilities {
        vision: true,
        embeddings: true,
        rerank: true,
        ..super::openai_compat::DEFAULT.info.caps
    },
};

fn chat_url(target: &Target) -> String {
    match target.api_base.as_deref().map(|b| b.trim_end_matches('/')) {
        Some(b) if b.ends_with("/chat") => b.to_string(),
        Some(b) if super::gemini::is_bare_host(b) => format!("{b}/v2/chat"),
        Some(b) => format!("{b}/chat"),
        None => format!("{DEFAULT_BASE}/chat"),
    }
}

/// Builds the v2 request body.
pub fn build_body(req: &ChatRequest, model: &str) -> Result<Value> {
    let mut body = Map::new();
    body.put("model", Value::from(model));
    body.put("messages", Value::Array(messages(req)?));

    let mut tools = req.tools.clone().unwrap_or_default();
    match &req.tool_choice {
        None => {}
        Some(ToolChoice::Mode(m)) => match m.as_str() {
            "auto" => {}
            "none" => {
                body.put("tool_choice", s("NONE"));
            }
            "required" => {
                body.put("tool_choice", s("REQUIRED"));
            }
            other => {
                return Err(Error::bad_request(format!(
                    "tool_choice `{other}` is not one of auto, none, required"
                ))
                .with_param("tool_choice"))
            }
        },
        Some(ToolChoice::Named(n)) => {
            // v2 cannot name a tool; offering only that tool and requiring a call is the
            // same contract.
            tools.retain(|t| t.function.name == n.function.name);
            if tools.is_empty() {
                return Err(Error::bad_request(format!(
                    "tool_choice names `{}`, which is not in `tools`",
                    n.function.name
                ))
                .with_param("tool_choice"));
            }
            body.put("tool_choice", s("REQUIRED"));
        }
    }
    if !tools.is_empty() {
        let mut out: Vec<Value> = Vec::with_capacity(tools.len());
        for t in &tools {
            let mut f = named(&t.function.name, t.function.description.as_deref());
            f.put(
                "parameters",
                t.function
                    .parameters
                    .clone()
                    .unwrap_or_else(|| object_schema(false)),
            );
            out.push(obj([
                ("type", s("function")),
                ("function", Value::Object(f)),
            ]));
        }
        body.put("tools", Value::Array(out));
    }

    put_params(
        req,
        &mut body,
        &[
            (Param::Temperature, "temperature"),
            (Param::TopP, "p"),
            (Param::Extra("top_k"), "k"),
            (Param::MaxTokens, "max_tokens"),
            (Param::Stop, "stop_sequences"),
            (Param::Seed, "seed"),
            (Param::PresencePenalty, "presence_penalty"),
            (Param::FrequencyPenalty, "frequency_penalty"),
            (Param::Extra("safety_mode"), "safety_mode"),
            (Param::Extra("documents"), "documents"),
            (Param::Extra("citation_options"), "citation_options"),
            (Param::Extra("strict_tools"), "strict_tools"),
        ],
    );
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            body.insert(k.into(), v);
        }
    };
    if let Some(t) = req.extra.get("thinking") {
        // Accept LiteLLM's Anthropic-style `budget_tokens` as Cohere's `token_budget`.
        let mut t = t.clone();
        if let Some(o) = t.as_object_mut() {
            if let Some(b) = o.remove("budget_tokens") {
                o.entry("token_budget").or_insert(b);
            }
        }
        put("thinking", Some(t));
    }
    if let Some(rf) = &req.response_format {
        match rf.kind.as_str() {
            "text" => {}
            "json_object" => put("response_format", Some(obj([("type", s("json_object"))]))),
            "json_schema" => {
                let mut f = obj([("type", s("json_object"))]);
                if let Some(s) = rf.json_schema.as_ref().and_then(|s| s.schema.clone()) {
                    f["json_schema"] = s;
                }
                put("response_format", Some(f));
            }
            other => {
                return Err(Error::bad_request(format!(
                    "response_format type `{other}` is not supported by Cohere"
                ))
                .with_param("response_format"))
            }
        }
    }
    if req.is_stream() {
        put("stream", Some(Value::Bool(true)));
    }
    Ok(Value::Object(body))
}

fn messages(req: &ChatRequest) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        let text = || {
            m.content
                .as_ref()
                .map(Content::joined_text)
                .unwrap_or_default()
        };
        out.push(match m.role {
            Role::System | Role::Developer => {
                obj([("role", s("system")), ("content", Value::from(text()))])
            }
            Role::User => obj([
                ("role", s("user")),
                ("content", user_content(m.content.as_ref(), i)?),
            ]),
            Role::Assistant => {
                let mut a = Map::new();
                a.put("role", s("assistant"));
                let t = text();
                match m.tool_calls.as_deref().filter(|c| !c.is_empty()) {
                    Some(calls) => {
                        if !t.is_empty() {
                            a.put("tool_plan", Value::from(t));
                        }
                        let mut out: Vec<Value> = Vec::with_capacity(calls.len());
                        for c in calls {
                            out.push(obj([
                                ("id", s(&c.id)),
                                ("type", s("function")),
                                (
                                    "function",
                                    obj([
                                        ("name", s(&c.function.name)),
                                        ("arguments", s(&c.function.arguments)),
                                    ]),
                                ),
                            ]));
                        }
                        a.put("tool_calls", Value::Array(out));
                    }
                    None => {
                        a.put("content", Value::from(t));
                    }
                }
                Value::Object(a)
            }
            Role::Tool => {
                let id = m
                    .tool_call_id
                    .as_deref()
                    .ok_or_else(|| bad_message(i, "tool message without `tool_call_id`"))?;
                obj([
                    ("role", s("tool")),
                    ("tool_call_id", Value::from(id)),
                    ("content", Value::from(text())),
                ])
            }
            Role::Function => {
                return Err(bad_message(
                    i,
                    "legacy `function` messages are not supported by Cohere; use `tool`",
                ))
            }
        });
    }
    Ok(out)
}

fn user_content(c: Option<&Content>, i: usize) -> Result<Value> {
    Ok(match c {
        None => s(""),
        Some(Content::Text(t)) => s(t),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for p in parts {
                out.push(match p.kind.as_str() {
                    "text" => obj([
                        ("type", s("text")),
                        ("text", Value::from(p.text.clone().unwrap_or_default())),
                    ]),
                    "image_url" => {
                        let u = p.image_url.as_ref().ok_or_else(|| {
                            bad_message(i, "`image_url` part without `image_url`")
                        })?;
                        let mut iu = obj([("url", s(&u.url))]);
                        if let Some(d) = &u.detail {
                            iu["detail"] = s(d);
                        }
                        obj([("type", s("image_url")), ("image_url", iu)])
                    }
                    other => {
                        return Err(bad_message(
                            i,
                            &format!("content part type `{other}` is not supported by Cohere"),
                        ))
                    }
                });
            }
            Value::Array(out)
        }
    })
}

/// Maps Cohere's `finish_reason`. `ERROR` and `TIMEOUT` mean the generation failed on
/// Cohere's side: they are errors (retryable), not a normal end.
pub fn finish_reason(reason: &str) -> Result<FinishReason> {
    Ok(match reason {
        "COMPLETE" | "STOP_SEQUENCE" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "TOOL_CALL" => FinishReason::ToolCalls,
        "ERROR" => {
            return Err(Error::new(
                ErrorKind::InternalServer,
                "Cohere finished with ERROR: the generation failed",
            )
            .with_code("ERROR"))
        }
        "TIMEOUT" => {
            return Err(
                Error::new(ErrorKind::Timeout, "Cohere finished with TIMEOUT").with_code("TIMEOUT"),
            )
        }
        other => FinishReason::Other(other.to_ascii_lowercase()),
    })
}

/// v2 `usage` → OpenAI usage. `tokens` are the model's real counts; `billed_units` (which
/// omit the prompt template) are used only when `tokens` is absent.
pub fn usage(u: &Value) -> Option<Usage> {
    let counts = u
        .get("tokens")
        .filter(|t| t.is_object())
        .or_else(|| u.get("billed_units"))?;
    let n = |k: &str| counts.get(k).and_then(Value::as_f64).unwrap_or(0.0) as u64;
    Some(Usage::new(n("input_tokens"), n("output_tokens")))
}

fn parse_response(body: &[u8], target: &Target) -> Result<ChatResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Cohere: {e}")))?;
    let msg = v
        .get("message")
        .ok_or_else(|| Error::decode("Cohere response has no `message`"))?;
    let (mut text, mut thinking) = (None::<String>, None::<String>);
    for c in msg
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match c.get("type").and_then(Value::as_str) {
            Some("thinking") => thinking.get_or_insert_with(String::new).push_str(
                c.get("thinking")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ),
            _ => {
                if let Some(t) = c.get("text").and_then(Value::as_str) {
                    text.get_or_insert_with(String::new).push_str(t);
                }
            }
        }
    }
    let mut calls: Vec<ToolCall> = Vec::new();
    for c in msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
        let name = at(c, "/function/name").and_then(Value::as_str);
        let args = at(c, "/function/arguments").and_then(Value::as_str);
        calls.push(tool_call(
            id.into(),
            name.unwrap_or_default(),
            args.unwrap_or("{}").into(),
        ));
    }
    if !calls.is_empty() && text.is_none() {
        text = msg
            .get("tool_plan")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(String::from);
    }
    let finish = match v.get("finish_reason").and_then(Value::as_str) {
        Some(r) => finish_reason(r)?,
        None => FinishReason::Stop,
    };
    let message = assistant(text, thinking, calls, Vec::new());
    Ok(one_choice(
        v.get("id")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| format!("chatcmpl-{}", target.now_ms)),
        target.model.clone(),
        (target.now_ms / 1000) as i64,
        message,
        Some(finish),
        v.get("usage").and_then(usage),
    ))
}

/// Classifies a Cohere error (`{"id": …, "message": …}`) by HTTP status: Cohere sends no
/// error codes. Statuses: <https://docs.cohere.com/reference/errors>.
pub fn parse_error(status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
    let v: Value = parse(body).unwrap_or(Value::Null);
    let message = error_text(v.get("message").and_then(Value::as_str), status, body);
    let kind = match status {
        // Cohere's own statuses: 498 invalid token, 499 request cancelled.
        498 => ErrorKind::Authentication,
        499 => ErrorKind::Cancelled,
        // Cohere gives no code for an over-long prompt; its message ("too many tokens: …") is
        // the only signal, checked only on a 400.
        400 if message.to_ascii_lowercase().contains("too many tokens") => {
            ErrorKind::ContextWindowExceeded
        }
        s => ErrorKind::from_status(s),
    };
    let status = if kind == ErrorKind::Authentication {
        401
    } else {
        status
    };
    let mut e = Error::new(kind, message).with_status(status);
    if let Some(ms) = retry_after_ms(&headers.to_vec()) {
        e = e.with_retry_after_ms(ms);
    }
    e
}

impl Provider for Cohere {
    fn info(&self) -> &ProviderInfo {
        &INFO
    }

    fn supported_params(&self, _model: &str) -> Vec<&'static str> {
        SUPPORTED_PARAMS.to_vec()
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let mut req = req.clone();
        check_params(&mut req, SUPPORTED_PARAMS, target)?;
        let key = target.require_key("COHERE_API_KEY")?;
        let body = build_body(&req, &target.model)?;
        let mut http = HttpRequest::post_json(chat_url(target), &body);
        http.set_header("authorization", format!("Bearer {key}"));
        for (k, v) in &target.headers {
            http.set_header(k, v.clone());
        }
        Ok(http)
    }

    fn chat_response(
        &self,
        body: &[u8],
        _req: &ChatRequest,
        target: &Target,
    ) -> Result<ChatResponse> {
        parse_response(body, target)
    }

    fn stream_decoder(&self, _req: &ChatRequest, target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(CohereStream::new(target))
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        parse_error(status, headers, body)
    }

    fn embedding_batch_size(
        &self,
        _req: &crate::types::EmbeddingRequest,
        _target: &Target,
    ) -> Option<usize> {
        Some(embed::MAX_TEXTS)
    }

    fn embedding_request(
        &self,
        req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        embed::request(req, target)
    }

    fn embedding_response(
        &self,
        body: &[u8],
        _req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Result<crate::types::EmbeddingResponse> {
        embed::response(body, target)
    }

    fn rerank_request(
        &self,
        req: &crate::types::RerankRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        rerank::request(req, target)
    }

    fn rerank_response(
        &self,
        body: &[u8],
        _req: &crate::types::RerankRequest,
        _target: &Target,
    ) -> Result<crate::types::RerankResponse> {
        super::openai_format::rerank_response(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Secret;
    use serde_json::json;

    fn target(base: Option<&str>) -> Target {
        Target {
            provider: "cohere".into(),
            model: "command-a-03-2025".into(),
            api_base: base.map(String::from),
            api_key: Some(Secret::new("co-test")),
            now_ms: 1_700_000_000_000,
            ..Default::default()
        }
    }

    fn body(v: Value) -> Value {
        let r: ChatRequest = serde_json::from_value(v).unwrap();
        build_body(&r, "command-a-03-2025").unwrap()
    }

    #[test]
    fn urls() {
        assert_eq!(chat_url(&target(None)), "https://api.cohere.com/v2/chat");
        assert_eq!(
            chat_url(&target(Some("https://api.cohere.com/v2/chat"))),
            "https://api.cohere.com/v2/chat"
        );
        assert_eq!(
            chat_url(&target(Some("https://proxy.example"))),
            "https://proxy.example/v2/chat"
        );
        assert_eq!(
            chat_url(&target(Some("https://proxy.example/cohere/v2/"))),
            "https://proxy.example/cohere/v2/chat"
        );
    }

    #[test]
    fn messages_params_and_renames() {
        let b = body(json!({"model": "cohere/command-a-03-2025", "messages": [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}}]},
            {"role": "assistant", "content": "I will check.", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
            {"role": "assistant", "content": "It is 42."}
        ], "top_p": 0.8, "top_k": 20, "stop": "END", "max_completion_tokens": 50, "seed": 1,
           "temperature": 0.1, "presence_penalty": 0.2, "frequency_penalty": 0.3, "stream": true}));
        assert_eq!(
            body_without(&b, &["messages"]),
            json!({"model": "command-a-03-2025", "p": 0.8, "k": 20, "stop_sequences": ["END"], "max_tokens": 50,
                "seed": 1, "temperature": 0.1, "presence_penalty": 0.2, "frequency_penalty": 0.3, "stream": true})
        );
        assert_eq!(
            b["messages"],
            json!([
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}}]},
                {"role": "assistant", "tool_plan": "I will check.", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
                {"role": "assistant", "content": "It is 42."}
            ])
        );
    }

    fn body_without(b: &Value, keys: &[&str]) -> Value {
        let mut b = b.clone();
        for k in keys {
            b.as_object_mut().unwrap().remove(*k);
        }
        b
    }

    #[test]
    fn tools_tool_choice_and_response_format() {
        let tools = json!([
            {"type": "function", "function": {"name": "a", "description": "A", "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "b"}}
        ]);
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": "required"}),
        );
        assert_eq!(b["tool_choice"], "REQUIRED");
        assert_eq!(
            b["tools"][1],
            json!({"type": "function", "function": {"name": "b", "parameters": {"type": "object", "properties": {}}}})
        );
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": tools,
            "tool_choice": {"type": "function", "function": {"name": "b"}}}),
        );
        assert_eq!(b["tools"].as_array().unwrap().len(), 1);
        assert_eq!(b["tools"][0]["function"]["name"], "b");
        assert_eq!(b["tool_choice"], "REQUIRED");
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": "none"}),
        );
        assert_eq!(b["tool_choice"], "NONE");
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}}),
        );
        assert_eq!(
            b["response_format"],
            json!({"type": "json_object", "json_schema": {"type": "object"}})
        );
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "thinking": {"type": "enabled", "budget_tokens": 512}}),
        );
        assert_eq!(
            b["thinking"],
            json!({"type": "enabled", "token_budget": 512})
        );
    }

    #[test]
    fn response_with_tool_plan_thinking_and_usage() {
        let r = parse_response(
            &serde_json::to_vec(&json!({
                "id": "5a2b", "finish_reason": "TOOL_CALL",
                "message": {"role": "assistant", "tool_plan": "I will look up the weather.",
                    "content": [{"type": "thinking", "thinking": "User wants weather."}],
                    "tool_calls": [{"id": "get_weather_abc123", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
                "usage": {"billed_units": {"input_tokens": 30, "output_tokens": 20}, "tokens": {"input_tokens": 900, "output_tokens": 45}}
            }))
            .unwrap(),
            &target(None),
        )
        .unwrap();
        let m = &r.choices[0].message;
        assert_eq!(m.content.as_deref(), Some("I will look up the weather."));
        assert_eq!(m.reasoning_content.as_deref(), Some("User wants weather."));
        assert_eq!(m.tool_calls.as_ref().unwrap()[0].id, "get_weather_abc123");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        let u = r.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (900, 45, 945)
        );
        assert_eq!(r.model, "command-a-03-2025");
    }

    #[test]
    fn finish_reasons_and_generation_errors() {
        assert_eq!(finish_reason("COMPLETE").unwrap(), FinishReason::Stop);
        assert_eq!(finish_reason("STOP_SEQUENCE").unwrap(), FinishReason::Stop);
        assert_eq!(finish_reason("MAX_TOKENS").unwrap(), FinishReason::Length);
        assert_eq!(
            finish_reason("ERROR").unwrap_err().kind(),
            ErrorKind::InternalServer
        );
        assert_eq!(
            finish_reason("TIMEOUT").unwrap_err().kind(),
            ErrorKind::Timeout
        );
        assert_eq!(
            usage(&json!({"billed_units": {"input_tokens": 3, "output_tokens": 9}}))
                .unwrap()
                .total_tokens,
            12
        );
    }

    #[test]
    fn errors_by_status() {
        let e = parse_error(498, &[], br#"{"id":"x","message":"invalid api token"}"#);
        assert_eq!((e.kind(), e.status()), (ErrorKind::Authentication, 401));
        let e = parse_error(429, &[("retry-after".into(), "3".into())], br#"{"message":"You are using a Trial key, which is limited to 10 API calls / minute."}"#);
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after_ms(), Some(3000));
        let e = parse_error(400, &[], br#"{"message":"too many tokens: total number of tokens in the prompt cannot exceed 256000 - received 300000. Try using a shorter prompt"}"#);
        assert_eq!(e.kind(), ErrorKind::ContextWindowExceeded);
        let e = parse_error(
            422,
            &[],
            br#"{"message":"invalid request: model 'x' not found"}"#,
        );
        assert_eq!(e.kind(), ErrorKind::UnprocessableEntity);
        assert_eq!(
            parse_error(503, &[], b"").kind(),
            ErrorKind::ServiceUnavailable
        );
    }

    #[test]
    fn request_auth_and_unsupported() {
        let r: ChatRequest = serde_json::from_value(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
        )
        .unwrap();
        let http = Cohere.chat_request(&r, &target(None)).unwrap();
        assert_eq!(
            crate::http::header(&http.headers, "authorization"),
            Some("Bearer co-test")
        );
        let r: ChatRequest = serde_json::from_value(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2}),
        )
        .unwrap();
        assert_eq!(
            Cohere.chat_request(&r, &target(None)).unwrap_err().kind(),
            ErrorKind::UnsupportedParams
        );
    }
}
