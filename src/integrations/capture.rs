//! Log events for routed chat calls, built from what the [`crate::router::Router`] returns: the
//! gateway's request path uses these so that its handlers only add a line or two.
//!
//! The metadata of a call is the request's `metadata` plus what the gateway knows about the
//! caller (LiteLLM's `user_api_key_*` fields: key hash, alias, user, team), which wins.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::event::LogEvent;
use super::sink::{LoggedStream, Pending, StreamEnd};
use crate::cost;
use crate::engine::CallMeta;
use crate::logging::{payload, CallRecord, Outcome};
use crate::options::{self, CallOptions};
use crate::router::{RouteInfo, RoutedCompletion};
use crate::types::{ChatRequest, Usage};
use crate::{Error, ErrorKind};

/// LiteLLM's `hash_token`: the SHA-256 hex of a key, the only form in which keys are logged.
pub fn hash_key(key: &str) -> String {
    super::util::hex(&Sha256::digest(key.as_bytes()))
}

/// What the gateway adds to every call's metadata: LiteLLM's `user_api_key_*` fields for the
/// presented key (its hash, and whatever the key store knows: alias, user, team), and the
/// caller's address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// The presented key (hashed before logging).
    pub key: Option<String>,
    /// `user_api_key_alias`.
    pub key_alias: Option<String>,
    /// `user_api_key_user_id`.
    pub user_id: Option<String>,
    /// `user_api_key_team_id`.
    pub team_id: Option<String>,
    /// `user_api_key_team_alias`.
    pub team_alias: Option<String>,
    /// `user_api_key_org_id`.
    pub org_id: Option<String>,
    /// The key's own `metadata` (`user_api_key_metadata`).
    pub key_metadata: Option<Value>,
    /// The team's `metadata` (`user_api_key_team_metadata`).
    pub team_metadata: Option<Value>,
    /// `requester_ip_address`.
    pub ip: Option<String>,
}

impl Caller {
    /// The metadata fields, LiteLLM's names.
    pub fn metadata(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put(
            "user_api_key_hash",
            self.key.as_deref().map(|k| Value::String(hash_key(k))),
        );
        put(
            "user_api_key_alias",
            self.key_alias.clone().map(Value::String),
        );
        put(
            "user_api_key_user_id",
            self.user_id.clone().map(Value::String),
        );
        put(
            "user_api_key_team_id",
            self.team_id.clone().map(Value::String),
        );
        put(
            "user_api_key_team_alias",
            self.team_alias.clone().map(Value::String),
        );
        put(
            "user_api_key_org_id",
            self.org_id.clone().map(Value::String),
        );
        put("user_api_key_metadata", self.key_metadata.clone());
        put("user_api_key_team_metadata", self.team_metadata.clone());
        put("requester_ip_address", self.ip.clone().map(Value::String));
        m
    }
}

/// A chat call being captured for logging.
#[derive(Debug, Clone)]
pub struct ChatCapture {
    call_id: String,
    call_type: String,
    request: ChatRequest,
    metadata: Value,
    start_ms: u64,
}

impl ChatCapture {
    /// Starts capturing the call whose OpenAI body is `body`.
    pub fn new(call_id: &str, body: &Value, caller: &Caller, start_ms: u64) -> Self {
        // A body the router rejects may not parse; it is logged with its model only.
        let request = options::parse_chat(body.clone()).map_or_else(
            |_| ChatRequest {
                model: body["model"].as_str().unwrap_or_default().to_string(),
                ..Default::default()
            },
            |(r, _)| r,
        );
        let mut md = body["metadata"].as_object().cloned().unwrap_or_default();
        md.extend(caller.metadata());
        Self {
            call_id: call_id.to_string(),
            call_type: "acompletion".into(),
            request,
            metadata: Value::Object(md),
            start_ms,
        }
    }

    /// The event for a finished call.
    pub fn success(&self, c: &RoutedCompletion, end_ms: u64) -> LogEvent {
        let mut meta = c.completion.meta.clone();
        meta.end_ms = meta.end_ms.max(end_ms);
        let rec = CallRecord {
            route: Some(&c.route),
            metadata: Some(&self.metadata),
            cost: c.response_cost,
            ..CallRecord::new(&self.call_id, &self.call_type, &self.request, &meta)
        };
        LogEvent::from_payload(payload(
            &rec,
            &Outcome::Success {
                response: Some(&c.completion.response),
                usage: None,
            },
        ))
    }

    /// The event for a call that failed before any output.
    pub fn failure(&self, e: &Error, end_ms: u64) -> LogEvent {
        let meta = CallMeta {
            provider: e.provider().unwrap_or_default().to_string(),
            model: e.model().unwrap_or(&self.request.model).to_string(),
            start_ms: self.start_ms,
            end_ms: end_ms.max(self.start_ms),
            ..Default::default()
        };
        let rec = CallRecord {
            metadata: Some(&self.metadata),
            ..CallRecord::new(&self.call_id, &self.call_type, &self.request, &meta)
        };
        LogEvent::from_payload(payload(&rec, &Outcome::Failure(e)))
    }

    /// Wraps a routed stream so that it logs once at its end, with the accumulated output,
    /// its usage and cost. `meta.end_ms` is the first chunk's time; `clock` gives the end.
    /// `final_usage` is the usage the stream itself recorded (filled by its `on_end` hook
    /// before the last poll); it wins over the chunks', which lack usage when the client did
    /// not ask for `stream_options.include_usage`.
    #[allow(clippy::too_many_arguments)]
    pub fn stream<S>(
        self,
        inner: S,
        meta: CallMeta,
        route: RouteInfo,
        options: CallOptions,
        pending: Pending,
        clock: Rc<dyn Fn() -> u64>,
        final_usage: Rc<RefCell<Option<Usage>>>,
    ) -> LoggedStream<S> {
        LoggedStream::new(inner, pending, move |end| {
            let mut m = meta.clone();
            m.end_ms = clock().max(meta.end_ms);
            let rec = CallRecord {
                stream: true,
                route: Some(&route),
                metadata: Some(&self.metadata),
                completion_start_ms: Some(meta.end_ms),
                ..CallRecord::new(&self.call_id, &self.call_type, &self.request, &m)
            };
            let p = match end {
                StreamEnd::Done(mut response) => {
                    if let Some(u) = final_usage.borrow_mut().take() {
                        response.usage = Some(u);
                    }
                    let usage = response.usage.clone();
                    let rec = CallRecord {
                        cost: cost::stream_cost(&meta, usage.as_ref(), &options),
                        ..rec
                    };
                    payload(
                        &rec,
                        &Outcome::Success {
                            response: Some(&response),
                            usage: usage.as_ref(),
                        },
                    )
                }
                StreamEnd::Failed(e) => payload(&rec, &Outcome::Failure(e)),
                StreamEnd::Abandoned => {
                    let e = Error::new(
                        ErrorKind::Cancelled,
                        "the client closed the stream before it ended",
                    );
                    payload(&rec, &Outcome::Failure(&e))
                }
            };
            Some(LogEvent::from_payload(p))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::sink::LogSink;
    use crate::types::ChatChunk;
    use futures_executor::block_on;
    use futures_util::{stream, StreamExt};
    use serde_json::json;

    fn body() -> Value {
        json!({"model": "gpt", "messages": [{"role": "user", "content": "Hi"}], "metadata": {"user_api_key_hash": "spoofed", "tags": ["a"]}})
    }

    fn caller() -> Caller {
        Caller {
            key: Some("sk-master-1".into()),
            team_id: Some("team-1".into()),
            ip: Some("203.0.113.9".into()),
            ..Default::default()
        }
    }

    #[test]
    fn caller_metadata_is_hashed_and_wins() {
        let c = ChatCapture::new("req-1", &body(), &caller(), 1_000);
        let e = c.failure(
            &Error::new(ErrorKind::RateLimited, "slow").with_provider("openai"),
            1_500,
        );
        let p = e.payload().unwrap();
        assert_eq!(p["status"], "failure");
        assert_eq!(p["call_type"], "acompletion");
        assert_eq!(p["id"], "req-1");
        assert_eq!(p["metadata"]["user_api_key_hash"], hash_key("sk-master-1"));
        assert_ne!(p["metadata"]["user_api_key_hash"], "spoofed");
        assert_eq!(p["metadata"]["user_api_key_team_id"], "team-1");
        assert_eq!(p["metadata"]["requester_ip_address"], "203.0.113.9");
        assert_eq!(p["metadata"]["tags"], json!(["a"]));
        assert_eq!(p["messages"][0]["content"], "Hi");
        assert_eq!(p["response_time"], 0.5);
        assert!(!p.to_string().contains("sk-master-1"));
        // SHA-256 of "abc".
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_stream_is_logged_at_its_end_with_usage_and_first_chunk_time() {
        let sink = LogSink::new();
        let chunks: Vec<crate::Result<ChatChunk>> = vec![
            Ok(serde_json::from_value(json!({"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": null}]})).unwrap()),
            Ok(serde_json::from_value(json!({"id": "s", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}})).unwrap()),
        ];
        let meta = CallMeta {
            provider: "openai".into(),
            model: "gpt-4o".into(),
            start_ms: 1_000,
            end_ms: 1_200,
            attempts: 1,
            ..Default::default()
        };
        let route = RouteInfo {
            model_group: "gpt".into(),
            deployment_id: "d1".into(),
            ..Default::default()
        };
        let s = ChatCapture::new("req-2", &body(), &caller(), 1_000).stream(
            stream::iter(chunks),
            meta,
            route,
            CallOptions::default(),
            sink.hold(),
            Rc::new(|| 2_000),
            Rc::default(),
        );
        let out: Vec<_> = block_on(s.collect::<Vec<_>>());
        assert_eq!(out.len(), 2);
        let events = block_on(sink.settled());
        let p = events[0].payload().unwrap();
        assert_eq!(p["status"], "success");
        assert_eq!(p["stream"], true);
        assert_eq!(p["response"]["choices"][0]["message"]["content"], "Hello");
        assert_eq!(p["total_tokens"], 6);
        assert_eq!(p["model_group"], "gpt");
        assert_eq!(p["completionStartTime"], 1.2);
        assert_eq!(p["endTime"], 2.0);
    }
}
