//! Payloads for the integrations' unit tests, built with the real [`crate::logging::payload`] so
//! that the tests follow the payload's shape.

use serde_json::{json, Value};

use crate::cost::Usd;
use crate::engine::CallMeta;
use crate::logging::{payload, CallRecord, Outcome};
use crate::types::{ChatRequest, ChatResponse};
use crate::{Error, ErrorKind};

fn request(stream: bool) -> ChatRequest {
    serde_json::from_value(json!({
        "model": "openai/gpt-4o",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "temperature": 0.2,
        "max_tokens": 64,
        "user": "user-7",
        "stream": stream,
    }))
    .expect("request")
}

fn meta() -> CallMeta {
    CallMeta {
        provider: "openai".into(),
        model: "gpt-4o".into(),
        api_base: Some("https://api.openai.com/v1".into()),
        attempts: 1,
        start_ms: 1_700_000_000_000,
        end_ms: 1_700_000_001_250,
    }
}

fn response() -> ChatResponse {
    serde_json::from_value(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_001,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }))
    .expect("response")
}

fn md() -> Value {
    json!({"session_id": "sess-1", "tags": ["prod"], "team": "core"})
}

/// A successful non-streamed call.
pub(crate) fn success() -> Value {
    let (req, meta, resp, md) = (request(false), meta(), response(), md());
    let rec = CallRecord {
        metadata: Some(&md),
        cost: Some(Usd::from_pico(75_000_000)),
        ..CallRecord::new("call-1", "completion", &req, &meta)
    };
    payload(
        &rec,
        &Outcome::Success {
            response: Some(&resp),
            usage: None,
        },
    )
}

/// A successful streamed call, logged at its end with the accumulated output.
pub(crate) fn stream_success() -> Value {
    let (req, meta, resp, md) = (request(true), meta(), response(), md());
    let rec = CallRecord {
        metadata: Some(&md),
        cost: Some(Usd::from_pico(75_000_000)),
        completion_start_ms: Some(1_700_000_000_400),
        ..CallRecord::new("call-2", "completion", &req, &meta)
    };
    payload(
        &rec,
        &Outcome::Success {
            response: Some(&resp),
            usage: resp.usage.as_ref(),
        },
    )
}

/// A failed call (429 from the provider).
pub(crate) fn failure() -> Value {
    let (req, meta, md) = (request(false), meta(), md());
    let rec = CallRecord {
        metadata: Some(&md),
        ..CallRecord::new("call-3", "completion", &req, &meta)
    };
    let e = Error::new(ErrorKind::RateLimited, "Rate limit reached")
        .with_status(429)
        .with_provider("openai");
    payload(&rec, &Outcome::Failure(&e))
}
