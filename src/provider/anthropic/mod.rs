//! Anthropic's Messages API (`anthropic/<model>`, or a bare `claude-…`).
//!
//! API reference: <https://docs.claude.com/en/api/messages>. Authentication is the
//! `x-api-key` header (`ANTHROPIC_API_KEY`) with `anthropic-version: 2023-06-01`. `api_base`
//! (or `ANTHROPIC_API_BASE` / `ANTHROPIC_BASE_URL`) is a base such as `https://api.anthropic.com`
//! to which `/v1/messages` is appended unless it already ends with it, as LiteLLM does.
//!
//! The pieces are public for other platforms that serve the same protocol (Anthropic on Vertex
//! AI): [`messages_body`] builds the body, [`parse_message`] reads a response, [`MessagesStream`]
//! decodes the event stream and [`parse_error`] classifies error bodies.

mod request;
mod response;
mod stream;

pub(crate) use request::thinking_for_effort;
pub use request::{
    default_max_tokens, json_mode, messages_body, FALLBACK_MAX_TOKENS, RESPONSE_FORMAT_TOOL,
    SUPPORTED_PARAMS,
};
pub use response::{finish_reason, parse_error, parse_message, usage_from};
pub use stream::MessagesStream;

use super::{Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::http::{Headers, HttpRequest};
use crate::types::{ChatRequest, ChatResponse};
use crate::{Error, Result};

/// The `anthropic-version` header value.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

const DEFAULT_BASE: &str = "https://api.anthropic.com";

/// The Anthropic provider (registry row `Entry::Native(&Anthropic)`).
///
/// ```
/// use edgellm::{provider::{anthropic::Anthropic, Provider, Target}, ChatRequest, Secret};
/// let target = Target {
///     provider: "anthropic".into(), model: "claude-3-5-haiku-20241022".into(),
///     api_key: Some(Secret::new("sk-ant-test")), api_base: Some("http://localhost:8080".into()),
///     ..Default::default()
/// };
/// let http = Anthropic.chat_request(&ChatRequest::user("anthropic/claude-3-5-haiku-20241022", "Hi"), &target).unwrap();
/// assert_eq!(http.url, "http://localhost:8080/v1/messages");
/// assert_eq!(edgellm::http::header(&http.headers, "x-api-key"), Some("sk-ant-test"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Anthropic;

static INFO: ProviderInfo = ProviderInfo {
    id: "anthropic",
    name: "Anthropic",
    default_base: DEFAULT_BASE,
    env: &[
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_API_BASE",
        "ANTHROPIC_BASE_URL",
    ],
    auth: "x-api-key",
    caps: Capabilities {
        vision: true,
        ..super::openai_compat::DEFAULT.info.caps
    },
};

/// The Messages endpoint for a base URL (LiteLLM's `get_complete_url`).
///
/// ```
/// use edgellm::provider::anthropic::messages_url;
/// assert_eq!(messages_url("https://api.anthropic.com"), "https://api.anthropic.com/v1/messages");
/// assert_eq!(messages_url("https://proxy/v1/messages/"), "https://proxy/v1/messages");
/// ```
pub fn messages_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1/messages") {
        base.to_string()
    } else {
        format!("{base}/v1/messages")
    }
}

fn created(target: &Target) -> i64 {
    (target.now_ms / 1000) as i64
}

impl Provider for Anthropic {
    fn info(&self) -> &ProviderInfo {
        &INFO
    }

    fn supported_params(&self, _model: &str) -> Vec<&'static str> {
        SUPPORTED_PARAMS.to_vec()
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let key = target.require_key("ANTHROPIC_API_KEY")?;
        let body = messages_body(req, target)?;
        let mut http = HttpRequest::post_json(messages_url(target.base_or(DEFAULT_BASE)), &body);
        http.set_header("x-api-key", key);
        http.set_header("anthropic-version", ANTHROPIC_VERSION);
        for (k, v) in &target.headers {
            http.set_header(k, v.clone());
        }
        Ok(http)
    }

    fn chat_response(
        &self,
        body: &[u8],
        req: &ChatRequest,
        target: &Target,
    ) -> Result<ChatResponse> {
        parse_message(body, json_mode(req), created(target))
    }

    fn stream_decoder(&self, req: &ChatRequest, target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(MessagesStream::new(json_mode(req), created(target)))
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        parse_error(status, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Secret;

    #[test]
    fn request_headers_url_and_stream_flag() {
        let target = Target {
            provider: "anthropic".into(),
            model: "claude-3-5-haiku-20241022".into(),
            api_key: Some(Secret::new("sk-ant-test")),
            headers: vec![("anthropic-beta".into(), "x-1".into())],
            ..Default::default()
        };
        let mut req = ChatRequest::user("anthropic/claude-3-5-haiku-20241022", "Hi");
        req.stream = Some(true);
        let http = Anthropic.chat_request(&req, &target).unwrap();
        assert_eq!(http.url, "https://api.anthropic.com/v1/messages");
        let h = |n| crate::http::header(&http.headers, n);
        assert_eq!(h("anthropic-version"), Some("2023-06-01"));
        assert_eq!(h("content-type"), Some("application/json"));
        assert_eq!(h("anthropic-beta"), Some("x-1"));
        assert_eq!(http.json_body().unwrap()["stream"], true);
        let no_key = Target {
            api_key: None,
            ..target
        };
        let e = Anthropic.chat_request(&req, &no_key).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Authentication);
    }
}
