//! Prompt and output redaction (LiteLLM's `turn_off_message_logging`): what a logger receives
//! when message logging is off for it. Usage, cost, latency, model and errors stay; the
//! conversation and the generated text do not.

use crate::provider::build::{obj, s};
use crate::types::Put;
use serde_json::Value;

/// The placeholder LiteLLM writes instead of redacted text.
pub const REDACTED: &str = "redacted-by-litellm";

/// Text-bearing fields of a generated message.
const MESSAGE_TEXT: &[&str] = &["content", "reasoning_content", "refusal"];

/// A copy of a standard logging payload without prompts and outputs: `messages` becomes one
/// redacted user message (as LiteLLM does), each choice's text, reasoning and tool-call
/// arguments become [`REDACTED`].
///
/// ```
/// use edgellm::integrations::redact::{payload, REDACTED};
/// let p = serde_json::json!({"messages": [{"role": "user", "content": "secret"}],
///     "response": {"choices": [{"message": {"role": "assistant", "content": "answer"}}]},
///     "total_tokens": 7});
/// let r = payload(&p);
/// assert_eq!(r["messages"][0]["content"], REDACTED);
/// assert_eq!(r["response"]["choices"][0]["message"]["content"], REDACTED);
/// assert_eq!(r["total_tokens"], 7);
/// ```
pub fn payload(p: &Value) -> Value {
    let mut p = p.clone();
    if !p["messages"].is_null() {
        p["messages"] = Value::Array(vec![obj([
            ("role", s("user")),
            ("content", Value::from(REDACTED)),
        ])]);
    }
    if let Some(choices) = p
        .get_mut("response")
        .and_then(|r| r.get_mut("choices"))
        .and_then(Value::as_array_mut)
    {
        for choice in choices {
            for key in ["message", "delta"] {
                if let Some(m) = choice.get_mut(key) {
                    message(m);
                }
            }
        }
    }
    p
}

fn message(m: &mut Value) {
    let Some(obj) = m.as_object_mut() else {
        return;
    };
    for key in MESSAGE_TEXT {
        if obj.get(*key).is_some_and(|v| !v.is_null()) {
            obj.insert((*key).to_string(), Value::String(REDACTED.into()));
        }
    }
    obj.remove("thinking_blocks");
    if let Some(calls) = obj.get_mut("tool_calls").and_then(Value::as_array_mut) {
        for call in calls {
            if let Some(f) = call.get_mut("function").and_then(Value::as_object_mut) {
                f.put("arguments", Value::String(REDACTED.into()));
            }
        }
    }
    if let Some(f) = obj.get_mut("function_call").and_then(Value::as_object_mut) {
        f.put("arguments", Value::String(REDACTED.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_calls_and_reasoning_are_redacted_but_names_stay() {
        let p = json!({
            "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
            "response": {"choices": [{"message": {
                "role": "assistant", "content": null, "reasoning_content": "thinking",
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]
            }, "finish_reason": "tool_calls"}], "usage": {"total_tokens": 3}},
            "error_str": null,
        });
        let r = payload(&p);
        assert_eq!(
            r["messages"],
            json!([{"role": "user", "content": REDACTED}])
        );
        let m = &r["response"]["choices"][0]["message"];
        assert!(m["content"].is_null());
        assert_eq!(m["reasoning_content"], REDACTED);
        assert_eq!(m["tool_calls"][0]["function"]["name"], "get_weather");
        assert_eq!(m["tool_calls"][0]["function"]["arguments"], REDACTED);
        assert_eq!(r["response"]["usage"]["total_tokens"], 3);
        assert!(!r.to_string().contains("Paris"));
        assert!(!r.to_string().contains("thinking"));
    }

    #[test]
    fn failures_without_response_keep_their_error() {
        let p = json!({"messages": [{"role": "user", "content": "u"}], "response": null, "error_str": "boom"});
        let r = payload(&p);
        assert!(r["response"].is_null());
        assert_eq!(r["error_str"], "boom");
    }
}
