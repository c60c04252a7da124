//! The standard logging payload handed to callbacks and loggers (LiteLLM's
//! `StandardLoggingPayload`), and the `kwargs` object LiteLLM passes to
//! `success_callback(kwargs, response, start_time, end_time)`.
//!
//! Built once per call (for streams: once the stream ended) from the request, the call facts
//! and the outcome. Callback functions themselves live at the JS edge; errors they throw never
//! reach the call.
//!
//! ```
//! use edgellm::logging::{CallRecord, Outcome, payload};
//! use edgellm::{ChatRequest, engine::CallMeta};
//! let req = ChatRequest::user("openai/gpt-4o", "Hi");
//! let meta = CallMeta { provider: "openai".into(), model: "gpt-4o".into(), start_ms: 1000, end_ms: 1500, ..Default::default() };
//! let rec = CallRecord::new("call-1", "completion", &req, &meta);
//! let p = payload(&rec, &Outcome::Failure(&edgellm::Error::new(edgellm::ErrorKind::RateLimited, "slow")));
//! assert_eq!(p["status"], "failure");
//! assert_eq!(p["error_information"]["error_class"], "RateLimitError");
//! assert_eq!(p["response_time"], 0.5);
//! ```

use serde_json::{Map, Value};

use crate::cost::Usd;
use crate::engine::CallMeta;
use crate::provider::build::{obj, s};
use crate::router::RouteInfo;
use crate::types::{to_value_via_text, ChatRequest, ChatResponse, Usage};
use crate::Error;

/// What is known about a call besides its outcome.
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    /// `litellm_call_id`.
    pub id: &'a str,
    /// `completion`, `acompletion`, `embedding`, `image_generation`, …
    pub call_type: &'a str,
    /// The request.
    pub request: &'a ChatRequest,
    /// Call facts (provider, provider-side model, api_base, times).
    pub meta: &'a CallMeta,
    /// Whether the call streamed.
    pub stream: bool,
    /// The caller's `metadata`.
    pub metadata: Option<&'a Value>,
    /// The router's facts, for routed calls.
    pub route: Option<&'a RouteInfo>,
    /// When the first chunk arrived (streams), ms since the epoch.
    pub completion_start_ms: Option<u64>,
    /// The cost, if priced.
    pub cost: Option<Usd>,
}

impl<'a> CallRecord<'a> {
    /// A record with the required facts; set the rest with struct update syntax.
    pub fn new(
        id: &'a str,
        call_type: &'a str,
        request: &'a ChatRequest,
        meta: &'a CallMeta,
    ) -> Self {
        Self {
            id,
            call_type,
            request,
            meta,
            stream: request.is_stream(),
            metadata: None,
            route: None,
            completion_start_ms: None,
            cost: None,
        }
    }
}

/// How the call ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// A response (for streams: the accumulated one, if available).
    Success {
        /// The response.
        response: Option<&'a ChatResponse>,
        /// The usage (the response's, or the stream's final usage).
        usage: Option<&'a Usage>,
    },
    /// An error.
    Failure(&'a Error),
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// The request's parameters other than model and messages (`model_parameters`).
fn model_parameters(req: &ChatRequest) -> Value {
    let mut v = to_value_via_text(req).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("model");
        o.remove("messages");
    }
    v
}

/// LiteLLM's `StandardLoggingPayload` for one call.
pub fn payload(rec: &CallRecord<'_>, outcome: &Outcome<'_>) -> Value {
    let (status, response, usage, error) = match outcome {
        Outcome::Success { response, usage } => (
            "success",
            response.map_or(Value::Null, |r| to_value_via_text(r).unwrap_or(Value::Null)),
            usage.or(response.and_then(|r| r.usage.as_ref())),
            None,
        ),
        Outcome::Failure(e) => ("failure", Value::Null, None, Some(*e)),
    };
    let meta = rec.meta;
    let end_ms = meta.end_ms.max(meta.start_ms);
    let completion_start = rec.completion_start_ms.unwrap_or(end_ms);
    let route = rec.route;
    let model_group = route.map(|r| r.model_group.clone());
    let model_id = route.map(|r| r.deployment_id.clone());
    let cost = rec.cost.map_or(0.0, Usd::to_f64);
    let error_information = error.map_or(Value::Null, |e| {
        obj([
            ("error_code", Value::from(e.code())),
            ("error_class", Value::from(e.kind().js_class())),
            ("error_kind", Value::from(format!("{:?}", e.kind()))),
            (
                "llm_provider",
                Value::from(e.provider().unwrap_or(&meta.provider)),
            ),
            ("status_code", Value::from(e.status())),
            ("error_message", Value::from(e.message())),
        ])
    });
    obj([
        ("id", Value::from(rec.id)),
        ("trace_id", Value::from(rec.id)),
        ("call_type", Value::from(rec.call_type)),
        ("stream", Value::from(rec.stream)),
        ("status", Value::from(status)),
        ("custom_llm_provider", s(&meta.provider)),
        ("model", s(&meta.model)),
        ("model_group", Value::from(model_group)),
        ("model_id", Value::from(model_id)),
        (
            "api_base",
            Value::from(meta.api_base.clone().unwrap_or_default()),
        ),
        (
            "messages",
            to_value_via_text(&rec.request.messages).unwrap_or(Value::Null),
        ),
        ("model_parameters", model_parameters(rec.request)),
        ("response", response),
        (
            "usage",
            usage.map_or(Value::Null, |u| to_value_via_text(u).unwrap_or(Value::Null)),
        ),
        (
            "prompt_tokens",
            Value::from(usage.map_or(0, |u| u.prompt_tokens)),
        ),
        (
            "completion_tokens",
            Value::from(usage.map_or(0, |u| u.completion_tokens)),
        ),
        (
            "total_tokens",
            Value::from(usage.map_or(0, |u| u.total_tokens)),
        ),
        ("response_cost", Value::from(cost)),
        ("startTime", Value::from(secs(meta.start_ms))),
        ("endTime", Value::from(secs(end_ms))),
        ("completionStartTime", Value::from(secs(completion_start))),
        ("response_time", Value::from(secs(end_ms - meta.start_ms))),
        ("error_str", Value::from(error.map(|e| e.to_string()))),
        ("error_information", error_information),
        (
            "metadata",
            rec.metadata
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        ),
        ("cache_hit", Value::Bool(false)),
        ("saved_cache_cost", Value::from(0.0)),
        (
            "hidden_params",
            obj([
                (
                    "model_id",
                    Value::from(route.map(|r| r.deployment_id.clone())),
                ),
                ("api_base", Value::from(meta.api_base.clone())),
                ("response_cost", Value::from(cost)),
                (
                    "attempted_retries",
                    Value::from(route.map_or(meta.attempts.saturating_sub(1), |r| r.retries)),
                ),
                (
                    "attempted_fallbacks",
                    Value::from(route.map_or(0, |r| r.fallbacks)),
                ),
            ]),
        ),
    ])
}

/// The `kwargs` object LiteLLM passes as the first callback argument: the call's parameters,
/// `litellm_params`, `response_cost`, and the payload as `standard_logging_object`.
pub fn callback_kwargs(rec: &CallRecord<'_>, payload: &Value) -> Value {
    let mut kwargs = obj([
        ("model", s(&rec.request.model)),
        ("messages", payload["messages"].clone()),
        ("optional_params", payload["model_parameters"].clone()),
        ("stream", Value::from(rec.stream)),
        ("call_type", Value::from(rec.call_type)),
        ("litellm_call_id", Value::from(rec.id)),
        (
            "litellm_params",
            obj([
                ("custom_llm_provider", s(&rec.meta.provider)),
                ("api_base", Value::from(rec.meta.api_base.clone())),
                ("metadata", payload["metadata"].clone()),
                (
                    "model_info",
                    rec.route
                        .map_or(Value::Null, |r| obj([("id", s(&r.deployment_id))])),
                ),
            ]),
        ),
        ("response_cost", payload["response_cost"].clone()),
        ("cache_hit", Value::Bool(false)),
        ("standard_logging_object", payload.clone()),
    ]);
    if payload["status"] == "failure" {
        kwargs["exception"] = payload["error_str"].clone();
    }
    kwargs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn success_payload_has_litellm_fields() {
        let req = ChatRequest::user("gpt", "Hi");
        let meta = CallMeta {
            provider: "openai".into(),
            model: "gpt-4o".into(),
            api_base: Some("https://api.openai.com/v1".into()),
            attempts: 2,
            start_ms: 1_700_000_000_000,
            end_ms: 1_700_000_001_250,
        };
        let route = RouteInfo {
            model_group: "gpt".into(),
            deployment_id: "dep-1".into(),
            retries: 1,
            ..Default::default()
        };
        let resp = ChatResponse {
            id: "x".into(),
            usage: Some(Usage::new(10, 5)),
            ..Default::default()
        };
        let md = json!({"user": "u1"});
        let rec = CallRecord {
            route: Some(&route),
            metadata: Some(&md),
            cost: Some(Usd::from_pico(75_000_000)),
            ..CallRecord::new("id-1", "acompletion", &req, &meta)
        };
        let p = payload(
            &rec,
            &Outcome::Success {
                response: Some(&resp),
                usage: None,
            },
        );
        assert_eq!(p["status"], "success");
        assert_eq!(p["model_group"], "gpt");
        assert_eq!(p["model_id"], "dep-1");
        assert_eq!(p["total_tokens"], 15);
        assert_eq!(p["response_cost"], 0.000075);
        assert_eq!(p["response_time"], 1.25);
        assert_eq!(p["completionStartTime"], p["endTime"]);
        assert_eq!(p["cache_hit"], false);
        assert_eq!(p["metadata"]["user"], "u1");
        assert_eq!(p["hidden_params"]["attempted_retries"], 1);
        assert!(p["error_str"].is_null());
        let k = callback_kwargs(&rec, &p);
        assert_eq!(k["response_cost"], 0.000075);
        assert_eq!(k["standard_logging_object"]["id"], "id-1");
        assert!(k.get("exception").is_none());
    }
}
