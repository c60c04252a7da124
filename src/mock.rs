//! `mock_response`: a well-formed answer without any network, as in LiteLLM.
//!
//! A string becomes the assistant's text (streamed word by word when `stream` is set). A string
//! naming an error class (`"litellm.RateLimitError"`, `"RateLimitError"`) raises that error. An
//! object is taken as a full `chat.completion`.

use serde_json::Value;

use crate::provider::native::{self, ChunkHead};
use crate::types::{ChatChunk, ChatRequest, ChatResponse, Delta, FinishReason, Usage};
use crate::{Error, ErrorKind, Result};

/// Rough token count used only for mock usage (4 characters per token).
fn approx_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

fn error_kind(name: &str) -> Option<ErrorKind> {
    let name = name.strip_prefix("litellm.").unwrap_or(name);
    Some(match name {
        "RateLimitError" => ErrorKind::RateLimited,
        "AuthenticationError" => ErrorKind::Authentication,
        "BadRequestError" => ErrorKind::BadRequest,
        "ContextWindowExceededError" => ErrorKind::ContextWindowExceeded,
        "ContentPolicyViolationError" => ErrorKind::ContentPolicyViolation,
        "NotFoundError" => ErrorKind::NotFound,
        "PermissionDeniedError" => ErrorKind::PermissionDenied,
        "InternalServerError" => ErrorKind::InternalServer,
        "ServiceUnavailableError" => ErrorKind::ServiceUnavailable,
        "Timeout" | "APITimeoutError" => ErrorKind::Timeout,
        "APIConnectionError" => ErrorKind::Connection,
        _ => return None,
    })
}

/// The mocked response for `req`, or the mocked error.
pub fn mock_completion(
    mock: &Value,
    req: &ChatRequest,
    id: &str,
    created: i64,
) -> Result<ChatResponse> {
    match mock {
        Value::String(s) => {
            if let Some(kind) = error_kind(s) {
                return Err(
                    Error::new(kind, format!("mock_response: {s}")).with_model(req.model.clone())
                );
            }
            let prompt: String = req.messages.iter().map(|m| m.text_content()).collect();
            let usage = Usage::new(approx_tokens(&prompt), approx_tokens(s));
            Ok(native::one_choice(
                id.to_string(),
                req.model.clone(),
                created,
                native::assistant(Some(s.clone()), None, Vec::new(), Vec::new()),
                Some(FinishReason::Stop),
                Some(usage),
            ))
        }
        Value::Object(_) => {
            let mut r = <ChatResponse as crate::types::FromValue>::from_value(mock.clone())
                .map_err(|e| {
                    Error::bad_request(format!(
                        "mock_response object is not a chat.completion: {e}"
                    ))
                })?;
            if r.id.is_empty() {
                r.id = id.to_string();
            }
            Ok(r)
        }
        _ => Err(Error::bad_request(
            "`mock_response` must be a string or a chat.completion object",
        )
        .with_param("mock_response")),
    }
}

/// The mocked response as stream chunks: role, one chunk per word, finish, then usage.
pub fn mock_chunks(resp: &ChatResponse) -> Vec<ChatChunk> {
    // The native providers' chunk builders: one copy of each in the wasm (package size).
    let head = ChunkHead {
        id: resp.id.clone(),
        model: resp.model.clone(),
        created: resp.created,
    };
    let mut out = vec![head.chunk(native::role_delta(), None)];
    let text = resp
        .choices
        .first()
        .and_then(|c| c.message.content.clone())
        .unwrap_or_default();
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let cut = rest
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == ' ')
            .map_or(rest.len(), |(i, _)| i);
        let (piece, tail) = rest.split_at(cut);
        head.push(&mut out, native::text_delta(piece, false), None);
        rest = tail;
    }
    let finish = resp
        .choices
        .first()
        .and_then(|c| c.finish_reason.clone())
        .unwrap_or(FinishReason::Stop);
    head.push(&mut out, Delta::default(), Some(finish));
    let mut last = head.bare();
    last.usage = resp.usage.clone();
    out.push(last);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{AssistantMessage, Choice, ChunkChoice};

    /// The response and chunks as they were written inline before `native.rs`'s builders
    /// made them: the builders must not change a field.
    #[test]
    fn builders_make_the_same_values() {
        let req = ChatRequest::user("m", "hello there");
        let r = mock_completion(&Value::from("one two"), &req, "id-1", 7).unwrap();
        let want = ChatResponse {
            id: "id-1".into(),
            created: 7,
            model: "m".into(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    content: Some("one two".into()),
                    ..Default::default()
                },
                finish_reason: Some(FinishReason::Stop),
                logprobs: None,
            }],
            usage: Some(Usage::new(3, 2)),
            ..Default::default()
        };
        assert_eq!(r, want);
        let base = |choices: Vec<ChunkChoice>| ChatChunk {
            id: "id-1".into(),
            created: 7,
            model: "m".into(),
            choices,
            ..Default::default()
        };
        let piece = |text: &str| {
            base(vec![ChunkChoice {
                delta: Delta {
                    content: Some(text.into()),
                    ..Default::default()
                },
                ..Default::default()
            }])
        };
        let mut last = base(vec![]);
        last.usage = Some(Usage::new(3, 2));
        let want = vec![
            base(vec![ChunkChoice {
                delta: Delta {
                    role: Some("assistant".into()),
                    content: Some(String::new()),
                    ..Default::default()
                },
                ..Default::default()
            }]),
            piece("one"),
            piece(" two"),
            base(vec![ChunkChoice {
                finish_reason: Some(FinishReason::Stop),
                ..Default::default()
            }]),
            last,
        ];
        assert_eq!(mock_chunks(&r), want);
    }
}
