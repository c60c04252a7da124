//! Google AI Studio (the Gemini API, `generativelanguage.googleapis.com`), and the
//! `generateContent` translation it shares with Vertex AI.
//!
//! - Model strings: `gemini/<model>` and bare `gemini-*`.
//! - Key: `api_key`, else `GEMINI_API_KEY`, else `GOOGLE_API_KEY` (LiteLLM reads both). It is
//!   sent in the `x-goog-api-key` header, as Google's REST examples do, rather than in LiteLLM's
//!   `?key=` query parameter: URLs end up in logs, proxies and error messages; headers marked
//!   secret do not (see [`crate::http::SECRET_HEADERS`]).
//! - Endpoint: `{base}/models/{model}:generateContent`, and
//!   `:streamGenerateContent?alt=sse` for streams. `base` defaults to
//!   `https://generativelanguage.googleapis.com/v1beta` (`api_base` / `GEMINI_API_BASE`
//!   override it; a bare host gets `/v1beta`). LiteLLM's proxy form, an `api_base` that already
//!   ends in `/models/<model>` (Cloudflare AI Gateway), gets only `:<method>` appended.
//!
//! API reference: <https://ai.google.dev/api/generate-content>.

pub mod embed;
pub(crate) mod error;
pub mod image;
pub mod request;
pub(crate) mod response;
pub mod schema;
pub(crate) mod stream;

pub use error::google_error;
pub use stream::GeminiStream;

use super::{check_params, Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::http::{Headers, HttpRequest};
use crate::types::{ChatRequest, ChatResponse};
use crate::{Error, ErrorKind, Result};

/// Default endpoint base.
pub const DEFAULT_BASE: &str = "https://generativelanguage.googleapis.com/v1beta";

/// The Gemini API provider.
#[derive(Debug, Clone, Copy)]
pub struct Gemini;

/// The registry's instance.
pub static GEMINI: Gemini = Gemini;

static INFO: ProviderInfo = ProviderInfo {
    id: "gemini",
    name: "Google AI Studio (Gemini API)",
    default_base: DEFAULT_BASE,
    env: &["GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_BASE"],
    auth: "x-goog-api-key",
    caps: Capabilities {
        vision: true,
        embeddings: true,
        images: true,
        ..super::openai_compat::DEFAULT.info.caps
    },
};

/// Checks and normalizes the parameters of a request bound for `generateContent` (Gemini API
/// or Vertex): unsupported parameters fail or are dropped (`drop_params`), as LiteLLM does.
pub fn checked_request(req: &ChatRequest, target: &Target) -> Result<ChatRequest> {
    let mut req = req.clone();
    check_params(&mut req, request::SUPPORTED_PARAMS, target)?;
    // Gemini cannot be told to make at most one call; with several tools LiteLLM refuses
    // `parallel_tool_calls: false` rather than silently ignoring it.
    if req.parallel_tool_calls == Some(false) && req.tools.as_ref().is_some_and(|t| t.len() > 1) {
        if target.drop_params {
            req.parallel_tool_calls = None;
        } else {
            return Err(Error::new(
                ErrorKind::UnsupportedParams,
                format!(
                    "{}/{} does not support `parallel_tool_calls: false` with several tools. Set `drop_params: true` to drop it.",
                    target.provider, target.model
                ),
            )
            .with_param("parallel_tool_calls"));
        }
    }
    Ok(req)
}

/// `<prefix>:generateContent` or `<prefix>:streamGenerateContent?alt=sse`.
pub fn method_url(prefix: &str, stream: bool) -> String {
    if stream {
        format!("{prefix}:streamGenerateContent?alt=sse")
    } else {
        format!("{prefix}:generateContent")
    }
}

/// Whether an `api_base` is LiteLLM's "full path up to the model" form.
pub(crate) fn is_model_path(base: &str) -> bool {
    base.contains("/models/") || base.contains("/endpoints/")
}

/// `model` without the API's `models/` prefix (every one, as `trim_start_matches` would): by
/// `strip_prefix`, since std's `trim_start_matches` brings its own instance of the two-way
/// searcher (0.46 KB of the gzipped package) to trim this constant prefix.
pub(crate) fn model_id(mut model: &str) -> &str {
    while let Some(rest) = model.strip_prefix("models/") {
        model = rest;
    }
    model
}

/// Whether `base` is just `scheme://host[:port]`.
pub(crate) fn is_bare_host(base: &str) -> bool {
    base.split_once("://")
        .map(|(_, rest)| !rest.contains('/'))
        .unwrap_or(false)
}

impl Gemini {
    fn url(&self, target: &Target, stream: bool) -> String {
        let model = model_id(&target.model);
        let prefix = match target.api_base.as_deref().map(|b| b.trim_end_matches('/')) {
            Some(b) if is_model_path(b) => b.to_string(),
            Some(b) if is_bare_host(b) => format!("{b}/v1beta/models/{model}"),
            Some(b) => format!("{b}/models/{model}"),
            None => format!("{DEFAULT_BASE}/models/{model}"),
        };
        method_url(&prefix, stream)
    }
}

impl Provider for Gemini {
    fn info(&self) -> &ProviderInfo {
        &INFO
    }

    fn supported_params(&self, _model: &str) -> Vec<&'static str> {
        request::SUPPORTED_PARAMS.to_vec()
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let req = checked_request(req, target)?;
        let key = target.require_key("GEMINI_API_KEY")?;
        let body = request::build_body(&req, &target.model)?;
        let mut http = HttpRequest::post_json(self.url(target, req.is_stream()), &body);
        http.set_header("x-goog-api-key", key);
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
        response::parse(body, target)
    }

    fn stream_decoder(&self, _req: &ChatRequest, target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(GeminiStream::new(target))
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        google_error(status, headers, body)
    }

    fn embedding_batch_size(
        &self,
        _req: &crate::types::EmbeddingRequest,
        _target: &Target,
    ) -> Option<usize> {
        Some(embed::MAX_BATCH)
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

    fn image_generation_request(
        &self,
        req: &crate::types::ImageRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        image::request(req, target)
    }

    fn image_generation_response(
        &self,
        body: &[u8],
        _req: &crate::types::ImageRequest,
        target: &Target,
    ) -> Result<crate::types::ImageResponse> {
        image::response(body, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Secret;
    use serde_json::json;

    #[test]
    fn model_id_trims_like_std() {
        for s in ["models/models/m", "models/m", "m", "", "modelsx"] {
            assert_eq!(model_id(s), s.trim_start_matches("models/"), "{s:?}");
        }
    }

    fn target(base: Option<&str>) -> Target {
        Target {
            provider: "gemini".into(),
            model: "gemini-2.0-flash".into(),
            api_base: base.map(String::from),
            api_key: Some(Secret::new("test-key")),
            ..Default::default()
        }
    }

    fn req(v: serde_json::Value) -> ChatRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn urls_for_default_host_path_and_litellm_proxy_bases() {
        let g = Gemini;
        assert_eq!(
            g.url(&target(None), false),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
        );
        assert_eq!(
            g.url(&target(None), true),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            g.url(&target(Some("https://generativelanguage.googleapis.com")), false),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
        );
        assert_eq!(
            g.url(&target(Some("http://127.0.0.1:8080/v1alpha/")), false),
            "http://127.0.0.1:8080/v1alpha/models/gemini-2.0-flash:generateContent"
        );
        let cf = "https://gateway.ai.cloudflare.com/v1/acc/gw/google-ai-studio/v1beta/models/gemini-2.0-flash";
        assert_eq!(
            g.url(&target(Some(cf)), true),
            format!("{cf}:streamGenerateContent?alt=sse")
        );
    }

    #[test]
    fn key_goes_in_the_header_never_the_url() {
        let http = Gemini
            .chat_request(
                &req(json!({"model": "gemini/gemini-2.0-flash", "messages": [{"role": "user", "content": "hi"}]})),
                &target(None),
            )
            .unwrap();
        assert_eq!(
            crate::http::header(&http.headers, "x-goog-api-key"),
            Some("test-key")
        );
        assert!(!http.url.contains("test-key"));
        assert!(!format!("{http:?}").contains("test-key"));
    }

    #[test]
    fn missing_key_names_the_variable() {
        let mut t = target(None);
        t.api_key = None;
        let e = Gemini
            .chat_request(
                &req(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})),
                &t,
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(e.message().contains("GEMINI_API_KEY"));
    }

    #[test]
    fn unsupported_params_fail_or_drop() {
        let r = req(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1": 2}}),
        );
        let e = Gemini.chat_request(&r, &target(None)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedParams);
        let mut t = target(None);
        t.drop_params = true;
        assert!(Gemini.chat_request(&r, &t).is_ok());
        let two_tools = req(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "parallel_tool_calls": false, "tools": [
                {"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "b"}}]}),
        );
        let e = Gemini.chat_request(&two_tools, &target(None)).unwrap_err();
        assert_eq!(e.param(), Some("parallel_tool_calls"));
    }
}
