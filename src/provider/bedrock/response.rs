//! Converse response → OpenAI `chat.completion`; usage, stop reasons and errors.
//!
//! References: <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>
//! (response, `stopReason`, errors), `TokenUsage`, and the AWS REST-JSON error convention (the
//! error type in the `x-amzn-errortype` header, `{"message": …}` in the body).

use serde_json::{Map, Value};

use crate::http::{header, retry_after_ms, Headers};
use crate::provider::build::{at, obj, parse, s};
use crate::provider::native::{
    assistant, error_text, json_answer, one_choice, set_cache, tool_call,
};
use crate::types::{ChatResponse, FinishReason, Usage};
use crate::{Error, ErrorKind, Result};

/// Converse `stopReason` → OpenAI `finish_reason`.
pub fn finish_reason(stop: &str) -> FinishReason {
    match stop {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_string()),
    }
}

/// Converse `usage` → OpenAI usage, as LiteLLM computes it: cache reads and writes are added to
/// `prompt_tokens` (Bedrock's `inputTokens` excludes them) and reads are `cached_tokens`.
///
/// ```
/// let u = edgellm::provider::bedrock::usage_from(&serde_json::json!(
///     {"inputTokens": 10, "outputTokens": 5, "totalTokens": 1015, "cacheReadInputTokens": 1000}));
/// assert_eq!((u.prompt_tokens, u.completion_tokens, u.total_tokens), (1010, 5, 1015));
/// ```
pub fn usage_from(u: &Value) -> Usage {
    let n = |k: &str| u.get(k).and_then(Value::as_u64);
    let read = n("cacheReadInputTokens");
    let write = n("cacheWriteInputTokens");
    let mut usage = Usage::new(
        n("inputTokens").unwrap_or(0) + read.unwrap_or(0) + write.unwrap_or(0),
        n("outputTokens").unwrap_or(0),
    );
    if read.is_some() || write.is_some() {
        set_cache(&mut usage, read.unwrap_or(0), Some(write.unwrap_or(0)));
    }
    usage
}

/// Parses a Converse response. `json_tool`: the name of the JSON `response_format` tool, whose
/// input becomes the content. `id`, `model`, `created`: Converse returns none of them.
pub fn parse_converse(
    body: &[u8],
    json_tool: Option<&str>,
    id: &str,
    model: &str,
    created: i64,
) -> Result<ChatResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Bedrock: {e}")))?;
    let content = at(&v, "/output/message/content")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::decode("Bedrock response has no output.message.content"))?;
    let mut text = String::new();
    let mut reasoning: Option<String> = None;
    let mut thinking_blocks = Vec::new();
    let mut calls = Vec::new();
    let mut json_content: Option<String> = None;
    for b in content {
        if let Some(t) = b.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(tu) = b.get("toolUse") {
            let name = tu.get("name").and_then(Value::as_str).unwrap_or("");
            let args =
                serde_json::to_string(tu.get("input").unwrap_or(&Value::Object(Map::new())))?;
            if json_tool == Some(name) && json_content.is_none() {
                json_content = Some(args);
                continue;
            }
            let id = tu.get("toolUseId").and_then(Value::as_str).unwrap_or("");
            calls.push(tool_call(id.into(), name, args));
        } else if let Some(rc) = b.get("reasoningContent") {
            if let Some(rt) = rc.get("reasoningText") {
                let t = rt.get("text").and_then(Value::as_str).unwrap_or("");
                reasoning.get_or_insert_with(String::new).push_str(t);
                let mut block = obj([("type", s("thinking")), ("thinking", Value::from(t))]);
                if let Some(sig) = rt.get("signature") {
                    block["signature"] = sig.clone();
                }
                thinking_blocks.push(block);
            } else if let Some(data) = rc.get("redactedContent") {
                thinking_blocks.push(obj([
                    ("type", s("redacted_thinking")),
                    ("data", data.clone()),
                ]));
            }
        }
    }
    let mut finish = v
        .get("stopReason")
        .and_then(Value::as_str)
        .map(finish_reason);
    json_answer(&mut text, json_content, calls.is_empty(), &mut finish);
    let message = assistant(
        (!text.is_empty()).then_some(text),
        reasoning,
        calls,
        thinking_blocks,
    );
    Ok(one_choice(
        id.into(),
        model.into(),
        created,
        message,
        finish,
        v.get("usage").map(usage_from),
    ))
}

/// Each Bedrock runtime exception's documented status and kind (also used for exceptions that
/// arrive inside a 200 event stream). A table, not a `match`: one string compare loop instead of
/// a compare chain per arm.
const EXCEPTIONS: &[(&str, u16, ErrorKind)] = &[
    ("ValidationException", 400, ErrorKind::BadRequest),
    ("SerializationException", 400, ErrorKind::BadRequest),
    ("AccessDeniedException", 403, ErrorKind::PermissionDenied),
    (
        "UnrecognizedClientException",
        403,
        ErrorKind::Authentication,
    ),
    ("InvalidSignatureException", 403, ErrorKind::Authentication),
    (
        "IncompleteSignatureException",
        403,
        ErrorKind::Authentication,
    ),
    (
        "MissingAuthenticationTokenException",
        403,
        ErrorKind::Authentication,
    ),
    ("ExpiredTokenException", 403, ErrorKind::Authentication),
    ("ResourceNotFoundException", 404, ErrorKind::NotFound),
    ("ModelTimeoutException", 408, ErrorKind::Timeout),
    ("ModelErrorException", 424, ErrorKind::InternalServer),
    ("ModelStreamErrorException", 424, ErrorKind::InternalServer),
    ("ThrottlingException", 429, ErrorKind::RateLimited),
    ("ModelNotReadyException", 429, ErrorKind::RateLimited),
    ("ServiceQuotaExceededException", 429, ErrorKind::RateLimited),
    ("InternalServerException", 500, ErrorKind::InternalServer),
    ("InternalFailure", 500, ErrorKind::InternalServer),
    (
        "ServiceUnavailableException",
        503,
        ErrorKind::ServiceUnavailable,
    ),
];

/// Bedrock reports an oversized prompt as a `ValidationException` with no code of its own
/// ("Input is too long for requested model.", "prompt is too long", "… exceeds the context
/// window"), so within ValidationException, and only there, the message decides.
fn is_context_overflow(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("too long") || m.contains("context window") || m.contains("context length")
}

/// Classifies a Bedrock error by its type (e.g. `ThrottlingException`) and HTTP status.
/// `status` 200 means it came inside a stream.
pub fn classify(etype: Option<&str>, status: u16, message: String) -> Error {
    // Stream exceptions are camelCase (`throttlingException`); HTTP error types PascalCase.
    let etype = etype.map(|t| {
        let mut c = t.chars();
        match c.next() {
            Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
            None => String::new(),
        }
    });
    let known = etype
        .as_deref()
        .and_then(|t| EXCEPTIONS.iter().find(|(name, _, _)| *name == t));
    let status = if (200..300).contains(&status) {
        known.map_or(500, |k| k.1)
    } else {
        status
    };
    let kind = match known {
        Some((name, _, _)) if *name == "ValidationException" && is_context_overflow(&message) => {
            ErrorKind::ContextWindowExceeded
        }
        Some((_, _, kind)) => *kind,
        None => ErrorKind::from_status(status),
    };
    let mut e = Error::new(kind, message);
    if kind == ErrorKind::ContextWindowExceeded {
        e = e.with_status(400);
    } else {
        e = e.with_status(status);
        if let Some(t) = etype.filter(|t| !t.is_empty()) {
            e = e.with_code(t);
        }
    }
    e
}

/// Classifies a non-2xx Converse response: the type from `x-amzn-errortype` (the part before
/// `:`), else the body's `__type`/`code`; the message from `message`/`Message`.
///
/// ```
/// use edgellm::{ErrorKind, provider::bedrock::parse_error};
/// let headers = vec![("x-amzn-errortype".to_string(), "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/".to_string())];
/// let e = parse_error(429, &headers, br#"{"message":"Too many requests, please wait before trying again."}"#);
/// assert_eq!((e.kind(), e.code()), (ErrorKind::RateLimited, "ThrottlingException"));
/// ```
pub fn parse_error(status: u16, headers: &Headers, body: &[u8]) -> Error {
    let v: Value = parse(body).unwrap_or(Value::Null);
    let from_header = header(headers, "x-amzn-errortype")
        .map(|t| t.split(':').next().unwrap_or(t).trim().to_string());
    let from_body = ["__type", "code"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .map(|t| t.rsplit('#').next().unwrap_or(t).to_string());
    let etype = from_header.or(from_body).filter(|t| !t.is_empty());
    let message = ["message", "Message"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str));
    let message = error_text(message, status, body);
    let mut e = classify(etype.as_deref(), status, message);
    if let Some(ms) = retry_after_ms(headers) {
        e = e.with_retry_after_ms(ms);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(status: u16, etype: &str, msg: &str) -> Error {
        let headers = vec![(
            "x-amzn-errortype".into(),
            format!("{etype}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        )];
        parse_error(
            status,
            &headers,
            json!({ "message": msg }).to_string().as_bytes(),
        )
    }

    #[test]
    fn error_types() {
        let cases = [
            (
                400,
                "ValidationException",
                "Malformed input request",
                ErrorKind::BadRequest,
                400,
            ),
            (
                400,
                "ValidationException",
                "Input is too long for requested model.",
                ErrorKind::ContextWindowExceeded,
                400,
            ),
            (
                403,
                "AccessDeniedException",
                "You don't have access to the model",
                ErrorKind::PermissionDenied,
                403,
            ),
            (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                ErrorKind::Authentication,
                403,
            ),
            (
                403,
                "InvalidSignatureException",
                "signature mismatch",
                ErrorKind::Authentication,
                403,
            ),
            (
                404,
                "ResourceNotFoundException",
                "Could not resolve the foundation model",
                ErrorKind::NotFound,
                404,
            ),
            (
                429,
                "ThrottlingException",
                "Too many requests",
                ErrorKind::RateLimited,
                429,
            ),
            (
                408,
                "ModelTimeoutException",
                "timed out",
                ErrorKind::Timeout,
                408,
            ),
            (
                503,
                "ServiceUnavailableException",
                "unavailable",
                ErrorKind::ServiceUnavailable,
                503,
            ),
            (
                500,
                "InternalServerException",
                "oops",
                ErrorKind::InternalServer,
                500,
            ),
            (
                424,
                "ModelErrorException",
                "model failed",
                ErrorKind::InternalServer,
                424,
            ),
        ];
        for (status, t, msg, kind, want) in cases {
            let e = err(status, t, msg);
            assert_eq!((e.kind(), e.status()), (kind, want), "{t}");
        }
        // A "too long" message outside ValidationException decides nothing.
        assert_eq!(
            err(500, "InternalServerException", "too long").kind(),
            ErrorKind::InternalServer
        );
        // Type from the body when the header is missing; stream exceptions are camelCase.
        let e = parse_error(
            400,
            &Vec::new(),
            br#"{"__type":"com.amazon.coral.validate#ValidationException","message":"bad"}"#,
        );
        assert_eq!(e.code(), "ValidationException");
        let e = classify(Some("throttlingException"), 200, "slow".into());
        assert_eq!(
            (e.kind(), e.status(), e.code()),
            (ErrorKind::RateLimited, 429, "ThrottlingException")
        );
    }

    #[test]
    fn parses_converse_output() {
        let body = json!({"output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "think", "signature": "sig"}}},
            {"text": "Hi"},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "f", "input": {"a": 1}}}]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}});
        let r = parse_converse(body.to_string().as_bytes(), None, "id", "m", 7).unwrap();
        let m = &r.choices[0].message;
        assert_eq!(m.content.as_deref(), Some("Hi"));
        assert_eq!(m.reasoning_content.as_deref(), Some("think"));
        assert_eq!(m.tool_calls.as_ref().unwrap()[0].id, "tooluse_1");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.usage.as_ref().unwrap().total_tokens, 15);
        let r = parse_converse(body.to_string().as_bytes(), Some("f"), "id", "m", 7).unwrap();
        assert_eq!(r.choices[0].message.content.as_deref(), Some("Hi{\"a\":1}"));
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(
            finish_reason("guardrail_intervened"),
            FinishReason::ContentFilter
        );
    }
}
