//! Gemini `GenerateContentResponse` → OpenAI `chat.completion`, plus the pieces the stream
//! decoder shares (finish reasons, usage, tool-call ids).
//!
//! Reference: <https://ai.google.dev/api/generate-content#generatecontentresponse>.

use serde_json::{Map, Value};

use super::request::THOUGHT_SIGNATURE_SEPARATOR;
use crate::provider::build::{at, parse as parse_json};
use crate::provider::native::{assistant, set_cache, tool_call};
use crate::provider::Target;
use crate::types::{
    json_text, ChatResponse, Choice, CompletionTokensDetails, FinishReason, ToolCall, Usage,
};
use crate::{Error, ErrorKind, Result};

/// The parts of one candidate, sorted into OpenAI's message fields.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    pub content: Option<String>,
    pub reasoning: Option<String>,
    /// (name, JSON arguments, id from the provider if any, thought signature if any).
    pub calls: Vec<(String, String, Option<String>, Option<String>)>,
}

pub(crate) fn split_parts(candidate: &Value) -> Parts {
    let mut out = Parts::default();
    let parts = at(candidate, "/content/parts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for p in parts {
        if let Some(fc) = p.get("functionCall") {
            let name = fc.get("name").and_then(Value::as_str).unwrap_or_default();
            let args = fc.get("args").cloned().unwrap_or(Value::Object(Map::new()));
            let id = fc.get("id").and_then(Value::as_str).map(String::from);
            let sig = p
                .get("thoughtSignature")
                .and_then(Value::as_str)
                .map(String::from);
            out.calls
                .push((name.to_string(), json_text(&args), id, sig));
        } else if let Some(t) = p.get("text").and_then(Value::as_str) {
            let slot = if p.get("thought").and_then(Value::as_bool) == Some(true) {
                &mut out.reasoning
            } else {
                &mut out.content
            };
            slot.get_or_insert_with(String::new).push_str(t);
        }
    }
    out
}

/// The OpenAI id of the `index`-th tool call of a response: the provider's id if it gave one,
/// else `call_<index>` (deterministic: no randomness in the core), with the thought signature
/// appended after LiteLLM's separator so that it survives a round trip through OpenAI clients.
pub(crate) fn tool_call_id(index: usize, provider_id: Option<&str>, sig: Option<&str>) -> String {
    let base = provider_id
        .map(String::from)
        .unwrap_or_else(|| format!("call_{index}"));
    match sig {
        Some(s) => format!("{base}{THOUGHT_SIGNATURE_SEPARATOR}{s}"),
        None => base,
    }
}

/// Maps a candidate's `finishReason`.
///
/// `MALFORMED_FUNCTION_CALL` / `UNEXPECTED_TOOL_CALL` mean the model tried to call a tool and
/// produced nothing usable. LiteLLM reports them as `stop` with an empty message (#21744),
/// which callers cannot tell from a real answer; here they are an [`ErrorKind::BadGateway`]
/// (the provider answered with something unusable) with the provider's reason as the code. The
/// kind is retryable, so a Router falls back or retries; the engine's own `num_retries` loop
/// ends when the response headers arrive, so it does not re-send on this.
pub(crate) fn finish_reason(
    reason: &str,
    had_tool_calls: bool,
    finish_message: Option<&str>,
) -> Result<FinishReason> {
    Ok(match reason {
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        "MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL" => {
            let detail = finish_message.unwrap_or("the model produced an invalid function call");
            return Err(Error::new(
                ErrorKind::BadGateway,
                format!("Gemini finished with {reason}: {detail}"),
            )
            .with_code(reason.to_ascii_lowercase()));
        }
        _ if had_tool_calls => FinishReason::ToolCalls,
        // STOP, FINISH_REASON_UNSPECIFIED, OTHER, LANGUAGE, TOO_MANY_TOOL_CALLS, …
        _ => FinishReason::Stop,
    })
}

/// A prompt blocked before generation (`promptFeedback.blockReason`).
pub(crate) fn prompt_blocked(v: &Value) -> Option<Error> {
    let fb = v.get("promptFeedback")?;
    let reason = fb.get("blockReason")?.as_str()?;
    let detail = fb
        .get("blockReasonMessage")
        .and_then(Value::as_str)
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    Some(
        Error::new(
            ErrorKind::ContentPolicyViolation,
            format!("the prompt was blocked by Gemini's safety filters ({reason}){detail}"),
        )
        .with_status(400),
    )
}

/// `usageMetadata` → `usage`. Reasoning tokens count as completion tokens, as OpenAI counts
/// them; tool-use prompt tokens count as prompt tokens. Some Vertex responses already include
/// the thoughts in `candidatesTokenCount` (then prompt + candidates = total), so they are
/// added only when they are not (LiteLLM's check, PR #10141).
pub(crate) fn usage(meta: &Value) -> Option<Usage> {
    let n = |k: &str| meta.get(k).and_then(Value::as_u64);
    if !meta.is_object() {
        return None;
    }
    let prompt = n("promptTokenCount").unwrap_or(0) + n("toolUsePromptTokenCount").unwrap_or(0);
    let candidates = n("candidatesTokenCount").unwrap_or(0);
    let thoughts = n("thoughtsTokenCount");
    let total = n("totalTokenCount");
    let inclusive = total == Some(n("promptTokenCount").unwrap_or(0) + candidates);
    let completion = match thoughts {
        Some(t) if !inclusive => candidates + t,
        _ => candidates,
    };
    let mut u = Usage::new(prompt, completion);
    if let Some(t) = total {
        u.total_tokens = t;
    }
    if let Some(c) = n("cachedContentTokenCount") {
        set_cache(&mut u, c, None);
    }
    if let Some(t) = thoughts {
        u.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(t),
            ..Default::default()
        });
    }
    Some(u)
}

/// A response id: the provider's `responseId`, else one derived from the call time.
pub(crate) fn response_id(v: &Value, target: &Target) -> String {
    v.get("responseId")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| format!("chatcmpl-{}", target.now_ms))
}

pub(crate) fn response_model(v: &Value, target: &Target) -> String {
    v.get("modelVersion")
        .and_then(Value::as_str)
        .map(|m| super::model_id(m).to_string())
        .unwrap_or_else(|| target.model.clone())
}

/// Parses a complete `generateContent` response.
pub fn parse(body: &[u8], target: &Target) -> Result<ChatResponse> {
    let v: Value =
        parse_json(body).map_err(|e| Error::decode(format!("invalid JSON from Gemini: {e}")))?;
    if v.get("error").is_some_and(Value::is_object) {
        return Err(super::error::google_error(200, &[], body));
    }
    if let Some(e) = prompt_blocked(&v) {
        return Err(e);
    }
    let mut choices = Vec::new();
    let mut call_index = 0usize;
    for (pos, c) in v
        .get("candidates")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let index = c.get("index").and_then(Value::as_u64).unwrap_or(pos as u64) as u32;
        let parts = split_parts(c);
        // A loop, not `map(…).collect()`: each such chain is its own copy in the wasm.
        let mut calls: Vec<ToolCall> = Vec::with_capacity(parts.calls.len());
        for (name, args, id, sig) in &parts.calls {
            let id = tool_call_id(call_index, id.as_deref(), sig.as_deref());
            calls.push(tool_call(id, name, args.clone()));
            call_index += 1;
        }
        let finish = match c.get("finishReason").and_then(Value::as_str) {
            Some(r) => Some(finish_reason(
                r,
                !calls.is_empty(),
                c.get("finishMessage").and_then(Value::as_str),
            )?),
            None if !calls.is_empty() => Some(FinishReason::ToolCalls),
            None => Some(FinishReason::Stop),
        };
        choices.push(Choice {
            index,
            message: assistant(parts.content, parts.reasoning, calls, Vec::new()),
            finish_reason: finish,
            logprobs: None,
        });
    }
    if choices.is_empty() {
        return Err(Error::new(
            ErrorKind::BadGateway,
            "Gemini returned no candidates and no block reason",
        ));
    }
    Ok(ChatResponse {
        id: response_id(&v, target),
        created: (target.now_ms / 1000) as i64,
        model: response_model(&v, target),
        choices,
        usage: v.get("usageMetadata").and_then(usage),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target {
            provider: "gemini".into(),
            model: "gemini-2.5-flash".into(),
            now_ms: 1_700_000_000_000,
            ..Default::default()
        }
    }

    fn parse_v(v: Value) -> Result<ChatResponse> {
        parse(&serde_json::to_vec(&v).unwrap(), &target())
    }

    #[test]
    fn text_thoughts_calls_and_usage() {
        let r = parse_v(json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Let me think.", "thought": true},
                {"text": "Calling."},
                {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "U0lH"},
                {"functionCall": {"name": "g", "args": {}}}
            ]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 7,
                "totalTokenCount": 22, "cachedContentTokenCount": 4},
            "modelVersion": "gemini-2.5-flash-001", "responseId": "resp-1"
        }))
        .unwrap();
        assert_eq!(r.id, "resp-1");
        assert_eq!(r.model, "gemini-2.5-flash-001");
        assert_eq!(r.created, 1_700_000_000);
        let m = &r.choices[0].message;
        assert_eq!(m.content.as_deref(), Some("Calling."));
        assert_eq!(m.reasoning_content.as_deref(), Some("Let me think."));
        let calls = m.tool_calls.as_ref().unwrap();
        assert_eq!(calls[0].id, "call_0__thought__U0lH");
        assert_eq!(calls[0].function.arguments, "{\"a\":1}");
        assert_eq!(calls[1].id, "call_1");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        let u = r.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (10, 12, 22)
        );
        assert_eq!(u.cached_tokens(), 4);
        assert_eq!(
            u.completion_tokens_details.unwrap().reasoning_tokens,
            Some(7)
        );
    }

    #[test]
    fn thoughts_already_inside_candidates_are_not_added_twice() {
        let u = usage(&json!({"promptTokenCount": 10, "candidatesTokenCount": 12, "thoughtsTokenCount": 7, "totalTokenCount": 22})).unwrap();
        assert_eq!(u.completion_tokens, 12);
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(
            finish_reason("STOP", false, None).unwrap(),
            FinishReason::Stop
        );
        assert_eq!(
            finish_reason("MAX_TOKENS", true, None).unwrap(),
            FinishReason::Length
        );
        for r in [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
        ] {
            assert_eq!(
                finish_reason(r, false, None).unwrap(),
                FinishReason::ContentFilter
            );
        }
        let e = finish_reason(
            "MALFORMED_FUNCTION_CALL",
            false,
            Some("Malformed function call: x("),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadGateway);
        assert!(e.kind().is_retryable());
        assert_eq!(e.code(), "malformed_function_call");
        assert!(e.message().contains("x("));
    }

    #[test]
    fn prompt_block_is_a_content_policy_error() {
        let e = parse_v(
            json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []},
            "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ContentPolicyViolation);
        assert!(e.message().contains("SAFETY"));
    }

    #[test]
    fn safety_finish_keeps_partial_text_and_reports_content_filter() {
        let r = parse_v(json!({"candidates": [{"finishReason": "SAFETY", "index": 0,
            "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": true}]}]}))
        .unwrap();
        assert_eq!(
            r.choices[0].finish_reason,
            Some(FinishReason::ContentFilter)
        );
        assert_eq!(r.choices[0].message.content, None);
        assert_eq!(r.id, "chatcmpl-1700000000000");
        assert_eq!(r.model, "gemini-2.5-flash");
    }

    #[test]
    fn multiple_candidates_keep_their_index() {
        let r = parse_v(json!({"candidates": [
            {"content": {"parts": [{"text": "a"}]}, "finishReason": "STOP", "index": 0},
            {"content": {"parts": [{"text": "b"}]}, "finishReason": "MAX_TOKENS", "index": 1}
        ]}))
        .unwrap();
        assert_eq!(r.choices[1].index, 1);
        assert_eq!(r.choices[1].message.content.as_deref(), Some("b"));
        assert_eq!(r.choices[1].finish_reason, Some(FinishReason::Length));
    }

    #[test]
    fn empty_and_error_bodies() {
        assert_eq!(
            parse_v(json!({})).unwrap_err().kind(),
            ErrorKind::BadGateway
        );
        assert_eq!(
            parse(b"not json", &target()).unwrap_err().kind(),
            ErrorKind::Decode
        );
    }
}
