//! Anthropic Message → OpenAI `chat.completion`; usage, stop reasons and error bodies.
//!
//! References: <https://docs.claude.com/en/api/messages> (response shape, `stop_reason`),
//! <https://docs.claude.com/en/api/errors> (error types and statuses).

use serde_json::{json, Value};

use super::request::RESPONSE_FORMAT_TOOL;
use crate::http::{retry_after_ms, Headers};
use crate::provider::build::parse;
use crate::provider::native::{
    assistant, error_text, json_answer, one_choice, set_cache, tool_call,
};
use crate::types::{ChatResponse, FinishReason, Usage};
use crate::{Error, ErrorKind, Result};

/// `stop_reason` → OpenAI `finish_reason`.
///
/// `end_turn`/`stop_sequence`/`pause_turn` → `stop`, `max_tokens` and
/// `model_context_window_exceeded` → `length`, `tool_use` → `tool_calls`, `refusal` →
/// `content_filter`; anything newer is passed through as it came.
pub fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" | "pause_turn" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

/// Anthropic `usage` → OpenAI usage, as LiteLLM computes it: `prompt_tokens` is
/// `input_tokens + cache_creation_input_tokens + cache_read_input_tokens` (Anthropic's
/// `input_tokens` excludes both cache counters), and the cache reads are also
/// `prompt_tokens_details.cached_tokens`.
///
/// ```
/// let u = edgellm::provider::anthropic::usage_from(&serde_json::json!(
///     {"input_tokens": 10, "cache_creation_input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 7}));
/// assert_eq!((u.prompt_tokens, u.completion_tokens, u.total_tokens), (115, 7, 122));
/// assert_eq!(u.cached_tokens(), 100);
/// ```
pub fn usage_from(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (input, write, read, output) = (
        n("input_tokens"),
        n("cache_creation_input_tokens"),
        n("cache_read_input_tokens"),
        n("output_tokens"),
    );
    let mut usage = Usage::new(input + write + read, output);
    set_cache(&mut usage, read, Some(write));
    usage
}

/// Parses a Messages API response body.
///
/// `json_mode`: the request used [`RESPONSE_FORMAT_TOOL`]; its input becomes the content and the
/// call is removed from `tool_calls` (the finish reason becomes `stop` when it was the only
/// call). `created` is Unix seconds (the API does not send one).
pub fn parse_message(body: &[u8], json_mode: bool, created: i64) -> Result<ChatResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Anthropic: {e}")))?;
    if v.get("type").and_then(Value::as_str) == Some("error") {
        return Err(parse_error(200, &Vec::new(), body));
    }
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::decode("Anthropic response has no `content` array"))?;
    let mut text = String::new();
    let mut reasoning: Option<String> = None;
    let mut thinking_blocks = Vec::new();
    let mut calls = Vec::new();
    let mut json_content: Option<String> = None;
    for b in blocks {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use") => {
                let name = b.get("name").and_then(Value::as_str).unwrap_or("");
                let args = serde_json::to_string(b.get("input").unwrap_or(&json!({})))?;
                if json_mode && name == RESPONSE_FORMAT_TOOL && json_content.is_none() {
                    json_content = Some(args);
                    continue;
                }
                let id = b.get("id").and_then(Value::as_str).unwrap_or("");
                calls.push(tool_call(id.into(), name, args));
            }
            Some("thinking") => {
                reasoning
                    .get_or_insert_with(String::new)
                    .push_str(b.get("thinking").and_then(Value::as_str).unwrap_or(""));
                thinking_blocks.push(b.clone());
            }
            Some("redacted_thinking") => thinking_blocks.push(b.clone()),
            // Server tools (web search, code execution) run at Anthropic; their blocks are not
            // calls for the client to execute.
            _ => {}
        }
    }
    let stop = v.get("stop_reason").and_then(Value::as_str);
    let mut finish = stop.map(finish_reason);
    json_answer(&mut text, json_content, calls.is_empty(), &mut finish);
    let message = assistant(
        (!text.is_empty()).then_some(text),
        reasoning,
        calls,
        thinking_blocks,
    );
    Ok(one_choice(
        v.get("id").and_then(Value::as_str).unwrap_or("").into(),
        v.get("model").and_then(Value::as_str).unwrap_or("").into(),
        created,
        message,
        finish,
        v.get("usage").map(usage_from),
    ))
}

/// Classifies an Anthropic error (`{"type":"error","error":{"type","message"}}`) from its
/// `error.type` and the HTTP status. `status` 200 means the error came inside a stream; the
/// status is then the one the API documents for the type (`overloaded_error` → 529).
///
/// ```
/// use edgellm::{ErrorKind, provider::anthropic::parse_error};
/// let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
/// let e = parse_error(529, &vec![], body);
/// assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
/// assert_eq!(e.code(), "overloaded_error");
/// ```
pub fn parse_error(status: u16, headers: &Headers, body: &[u8]) -> Error {
    let v: Value = parse(body).unwrap_or(Value::Null);
    let err = v.get("error").unwrap_or(&Value::Null);
    let etype = err.get("type").and_then(Value::as_str);
    let message = error_text(err.get("message").and_then(Value::as_str), status, body);
    // Each type's documented status and kind (`None`: the status's kind). A table, not a
    // `match`: one string compare loop instead of a compare chain per arm.
    const TYPES: &[(&str, u16, Option<ErrorKind>)] = &[
        ("invalid_request_error", 400, Some(ErrorKind::BadRequest)),
        ("authentication_error", 401, Some(ErrorKind::Authentication)),
        ("billing_error", 402, None),
        ("permission_error", 403, Some(ErrorKind::PermissionDenied)),
        ("not_found_error", 404, Some(ErrorKind::NotFound)),
        // 32 MB request-size limit (Cloudflare): no model accepts it, so not a context error.
        ("request_too_large", 413, Some(ErrorKind::BadRequest)),
        ("rate_limit_error", 429, Some(ErrorKind::RateLimited)),
        ("api_error", 500, Some(ErrorKind::InternalServer)),
        ("timeout_error", 504, Some(ErrorKind::Timeout)),
        ("overloaded_error", 529, Some(ErrorKind::ServiceUnavailable)),
    ];
    let known = etype.and_then(|t| TYPES.iter().find(|(name, _, _)| *name == t));
    let status = if (200..300).contains(&status) {
        known.map_or(500, |k| k.1)
    } else {
        status
    };
    let kind = match (etype, known) {
        (Some("invalid_request_error"), _) if is_context_overflow(&message) => {
            ErrorKind::ContextWindowExceeded
        }
        // Documented for 400 "and other 4XX statuses": keep a 4xx status's kind.
        (Some("invalid_request_error"), _) if (400..500).contains(&status) => {
            ErrorKind::from_status(status)
        }
        (_, Some((_, _, Some(kind)))) => *kind,
        _ => ErrorKind::from_status(status),
    };
    let mut e = Error::new(kind, message);
    if kind == ErrorKind::ContextWindowExceeded {
        e = e.with_status(400);
    } else {
        e = e.with_status(status);
        if let Some(t) = etype {
            e = e.with_code(t);
        }
    }
    if let Some(ms) = retry_after_ms(headers) {
        e = e.with_retry_after_ms(ms);
    }
    e
}

/// Anthropic gives prompt-too-long errors no code of their own, only `invalid_request_error`
/// with messages like "prompt is too long: 210000 tokens > 200000 maximum" or "input length and
/// `max_tokens` exceed context limit" (<https://docs.claude.com/en/docs/build-with-claude/context-windows>),
/// so within that type, and only there, the message decides.
fn is_context_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("prompt is too long") || m.contains("exceed context limit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_types_and_statuses() {
        let cases = [
            (
                400,
                "invalid_request_error",
                "bad",
                ErrorKind::BadRequest,
                400,
            ),
            (
                400,
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
                ErrorKind::ContextWindowExceeded,
                400,
            ),
            (
                401,
                "authentication_error",
                "x",
                ErrorKind::Authentication,
                401,
            ),
            (
                403,
                "permission_error",
                "x",
                ErrorKind::PermissionDenied,
                403,
            ),
            (404, "not_found_error", "x", ErrorKind::NotFound, 404),
            (413, "request_too_large", "x", ErrorKind::BadRequest, 413),
            (429, "rate_limit_error", "x", ErrorKind::RateLimited, 429),
            (500, "api_error", "x", ErrorKind::InternalServer, 500),
            (
                529,
                "overloaded_error",
                "x",
                ErrorKind::ServiceUnavailable,
                529,
            ),
            (
                200,
                "overloaded_error",
                "x",
                ErrorKind::ServiceUnavailable,
                529,
            ),
            (200, "rate_limit_error", "x", ErrorKind::RateLimited, 429),
            (
                503,
                "unknown_future_error",
                "x",
                ErrorKind::ServiceUnavailable,
                503,
            ),
        ];
        for (status, t, msg, kind, want_status) in cases {
            let body = json!({"type": "error", "error": {"type": t, "message": msg}}).to_string();
            let e = parse_error(status, &Vec::new(), body.as_bytes());
            assert_eq!(e.kind(), kind, "{t} {status}");
            assert_eq!(e.status(), want_status, "{t} {status}");
        }
        // A "prompt is too long" text outside invalid_request_error is not a context error.
        let body = json!({"type": "error", "error": {"type": "api_error", "message": "prompt is too long"}}).to_string();
        assert_eq!(
            parse_error(500, &Vec::new(), body.as_bytes()).kind(),
            ErrorKind::InternalServer
        );
        let e = parse_error(429, &vec![("retry-after".into(), "7".into())], b"not json");
        assert_eq!(
            (e.kind(), e.retry_after_ms()),
            (ErrorKind::RateLimited, Some(7000))
        );
    }

    #[test]
    fn parses_text_tools_thinking_and_json_mode() {
        let body = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Hi"},
                {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}}
            ],
            "stop_reason": "tool_use", "usage": {"input_tokens": 3, "output_tokens": 4}});
        let r = parse_message(body.to_string().as_bytes(), false, 9).unwrap();
        let m = &r.choices[0].message;
        assert_eq!(m.content.as_deref(), Some("Hi"));
        assert_eq!(m.reasoning_content.as_deref(), Some("hmm"));
        assert_eq!(
            m.tool_calls.as_ref().unwrap()[0].function.arguments,
            "{\"a\":1}"
        );
        assert_eq!(m.extra["thinking_blocks"][0]["signature"], "sig");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.created, 9);

        let body = json!({"id": "msg_2", "model": "m", "content": [
                {"type": "tool_use", "id": "toolu_2", "name": RESPONSE_FORMAT_TOOL, "input": {"x": [1]}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 1, "output_tokens": 1}});
        let r = parse_message(body.to_string().as_bytes(), true, 0).unwrap();
        assert_eq!(r.choices[0].message.content.as_deref(), Some("{\"x\":[1]}"));
        assert!(r.choices[0].message.tool_calls.is_none());
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
    }

    #[test]
    fn stop_reasons() {
        assert_eq!(finish_reason("end_turn"), FinishReason::Stop);
        assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
        assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
        assert_eq!(finish_reason("refusal"), FinishReason::ContentFilter);
        assert_eq!(
            finish_reason("new_reason"),
            FinishReason::Other("new_reason".into())
        );
    }
}
