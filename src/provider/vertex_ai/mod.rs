//! Google Vertex AI: Gemini models (`generateContent`, the same JSON as the Gemini API) and
//! Anthropic's Claude models (the Messages API through `rawPredict`).
//!
//! - Model strings: `vertex_ai/<model>` (`vertex_ai/gemini-2.5-pro`,
//!   `vertex_ai/claude-sonnet-4@20250514`); `vertex_ai/gemini/<id>` and an all-digit model name
//!   address a tuned model's endpoint, as in LiteLLM.
//! - Project: `vertex_project` (or `vertex_ai_project`), else `VERTEXAI_PROJECT` /
//!   `VERTEX_PROJECT`, else the credentials' `project_id`. Location: `vertex_location` (or
//!   `vertex_ai_location`), else `VERTEXAI_LOCATION` / `VERTEX_LOCATION`, else `us-central1`;
//!   `global` uses the host `aiplatform.googleapis.com`.
//! - Auth: a bearer token from `vertex_access_token` or `api_key`, else
//!   `vertex_credentials` / `VERTEXAI_CREDENTIALS` / `VERTEX_CREDENTIALS` (service-account or
//!   authorized-user JSON), exchanged for a token by [`crate::auth::authorize`] before the
//!   request is built.
//! - `api_base` (or `VERTEXAI_API_BASE` / `VERTEX_API_BASE`): LiteLLM's form, a URL up to the
//!   model (`…/models/<m>` or `…/endpoints/<id>`), gets `:<method>` appended; any other
//!   `api_base` replaces the regional host.
//!
//! References: <https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference>,
//! <https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude>.

use serde_json::Value;

pub mod embed;
pub mod image;

use super::gemini::{self, GeminiStream};
use super::{anthropic, Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::auth::google::Credentials;
use crate::http::{Headers, HttpRequest};
use crate::provider::build::parse;
use crate::types::{ChatRequest, ChatResponse, Put};
use crate::{Error, ErrorKind, Result};

/// The `anthropic_version` Vertex expects in Claude request bodies.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Default location (LiteLLM's).
pub const DEFAULT_LOCATION: &str = "us-central1";

/// The Vertex AI provider.
#[derive(Debug, Clone, Copy)]
pub struct VertexAi;

/// The registry's instance.
pub static VERTEX_AI: VertexAi = VertexAi;

static INFO: ProviderInfo = ProviderInfo {
    id: "vertex_ai",
    name: "Google Vertex AI",
    default_base: "https://us-central1-aiplatform.googleapis.com",
    env: &[
        "VERTEXAI_PROJECT",
        "VERTEX_PROJECT",
        "VERTEXAI_LOCATION",
        "VERTEX_LOCATION",
        "VERTEXAI_CREDENTIALS",
        "VERTEX_CREDENTIALS",
        "VERTEXAI_API_BASE",
        "VERTEX_API_BASE",
    ],
    auth: "OAuth2 (service-account JWT) or bearer token",
    caps: Capabilities {
        vision: true,
        embeddings: true,
        images: true,
        ..super::openai_compat::DEFAULT.info.caps
    },
};

fn first<'a>(t: &'a Target, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| t.setting(k))
}

/// The credentials JSON configured for the call, if any.
pub fn credentials(t: &Target) -> Option<&Value> {
    [
        "vertex_credentials",
        "VERTEXAI_CREDENTIALS",
        "VERTEX_CREDENTIALS",
    ]
    .iter()
    .find_map(|k| t.extra.get(*k))
    .filter(|v| !v.is_null() && v.as_str() != Some(""))
}

/// An explicit bearer token (`api_key`, or `vertex_access_token`).
pub fn bearer(t: &Target) -> Option<&str> {
    t.api_key
        .as_ref()
        .map(|k| k.expose())
        .filter(|k| !k.is_empty())
        .or_else(|| t.setting("vertex_access_token"))
}

/// The location for the call.
pub fn location(t: &Target) -> &str {
    first(
        t,
        &[
            "vertex_location",
            "vertex_ai_location",
            "VERTEXAI_LOCATION",
            "VERTEX_LOCATION",
        ],
    )
    .unwrap_or(DEFAULT_LOCATION)
}

/// The project for the call.
pub fn project(t: &Target) -> Result<String> {
    if let Some(p) = first(
        t,
        &[
            "vertex_project",
            "vertex_ai_project",
            "VERTEXAI_PROJECT",
            "VERTEX_PROJECT",
        ],
    ) {
        return Ok(p.to_string());
    }
    if let Some(p) = credentials(t)
        .and_then(|c| Credentials::from_value(c).ok())
        .and_then(|c| c.project_id().map(String::from))
    {
        return Ok(p);
    }
    Err(Error::bad_request(
        "vertex_ai needs a project: pass `vertex_project` or set VERTEXAI_PROJECT (or give credentials with a project_id)",
    )
    .with_param("vertex_project"))
}

/// Which API a Vertex model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Gemini,
    Claude,
}

fn family(model: &str) -> Family {
    if model.starts_with("claude") {
        Family::Claude
    } else {
        Family::Gemini
    }
}

/// The URL up to the model (`…/publishers/google/models/gemini-2.0-flash`).
fn model_prefix(t: &Target, fam: Family) -> Result<String> {
    let base = t.api_base.as_deref().map(|b| b.trim_end_matches('/'));
    if let Some(b) = base.filter(|b| gemini::is_model_path(b)) {
        return Ok(b.to_string());
    }
    let loc = location(t);
    let host = match base {
        Some(b) => b.to_string(),
        None if loc == "global" => "https://aiplatform.googleapis.com".to_string(),
        None => format!("https://{loc}-aiplatform.googleapis.com"),
    };
    let root = format!("{host}/v1/projects/{}/locations/{loc}", project(t)?);
    let model = t.model.strip_prefix("gemini/").unwrap_or(&t.model);
    Ok(match fam {
        Family::Claude => format!("{root}/publishers/anthropic/models/{model}"),
        Family::Gemini if !model.is_empty() && model.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{root}/endpoints/{model}")
        }
        Family::Gemini => format!("{root}/publishers/google/models/{model}"),
    })
}

fn require_bearer(t: &Target) -> Result<&str> {
    bearer(t).ok_or_else(|| {
        Error::new(
            ErrorKind::Authentication,
            "vertex_ai needs credentials: pass `vertex_credentials` (service-account JSON) or set VERTEXAI_CREDENTIALS, or pass `vertex_access_token`",
        )
        .with_param("vertex_credentials")
    })
}

fn created(t: &Target) -> i64 {
    (t.now_ms / 1000) as i64
}

impl VertexAi {
    fn claude_body(&self, req: &ChatRequest, t: &Target) -> Result<Value> {
        let mut body = anthropic::messages_body(req, t)?;
        if let Value::Object(o) = &mut body {
            // Vertex takes the model from the URL and the API version from the body.
            o.remove("model");
            o.put(
                "anthropic_version",
                Value::String(VERTEX_ANTHROPIC_VERSION.into()),
            );
        }
        Ok(body)
    }
}

impl Provider for VertexAi {
    fn info(&self) -> &ProviderInfo {
        &INFO
    }

    fn supported_params(&self, model: &str) -> Vec<&'static str> {
        match family(model) {
            Family::Claude => anthropic::SUPPORTED_PARAMS.to_vec(),
            Family::Gemini => gemini::request::SUPPORTED_PARAMS.to_vec(),
        }
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let fam = family(&target.model);
        let stream = req.is_stream();
        let (url, body) = match fam {
            Family::Claude => {
                let body = self.claude_body(req, target)?;
                let method = if stream {
                    "streamRawPredict"
                } else {
                    "rawPredict"
                };
                (format!("{}:{method}", model_prefix(target, fam)?), body)
            }
            Family::Gemini => {
                let checked = gemini::checked_request(req, target)?;
                let model = target
                    .model
                    .strip_prefix("gemini/")
                    .unwrap_or(&target.model);
                let body = gemini::request::build_body(&checked, model)?;
                (
                    gemini::method_url(&model_prefix(target, fam)?, stream),
                    body,
                )
            }
        };
        let token = require_bearer(target)?;
        let mut http = HttpRequest::post_json(url, &body);
        http.set_header("authorization", format!("Bearer {token}"));
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
        match family(&target.model) {
            Family::Claude => {
                anthropic::parse_message(body, anthropic::json_mode(req), created(target))
            }
            Family::Gemini => gemini::response::parse(body, target),
        }
    }

    fn stream_decoder(&self, req: &ChatRequest, target: &Target) -> Box<dyn StreamDecoder> {
        match family(&target.model) {
            Family::Claude => Box::new(anthropic::MessagesStream::new(
                anthropic::json_mode(req),
                created(target),
            )),
            Family::Gemini => Box::new(GeminiStream::new(target)),
        }
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        // Vertex itself (auth, quota, routing) answers in Google's format; a Claude model's
        // own errors come in Anthropic's (`{"type": "error", "error": {"type": …}}`).
        let v: Value = parse(body).unwrap_or(Value::Null);
        if v.get("type").and_then(Value::as_str) == Some("error") {
            anthropic::parse_error(status, headers, body)
        } else {
            gemini::google_error(status, headers, body)
        }
    }

    fn embedding_batch_size(
        &self,
        _req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Option<usize> {
        Some(embed::batch_size(&target.model))
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

    fn target(model: &str, extra: Value) -> Target {
        Target {
            provider: "vertex_ai".into(),
            model: model.into(),
            api_key: Some(Secret::new("ya29.test")),
            extra: extra.as_object().cloned().unwrap_or_default(),
            now_ms: 1_700_000_000_000,
            ..Default::default()
        }
    }

    fn user(model: &str) -> ChatRequest {
        ChatRequest::user(format!("vertex_ai/{model}"), "Hi")
    }

    #[test]
    fn gemini_urls_by_location_project_and_model_kind() {
        let t = target(
            "gemini-2.0-flash",
            json!({"vertex_project": "p1", "vertex_location": "europe-west4"}),
        );
        let http = VertexAi
            .chat_request(&user("gemini-2.0-flash"), &t)
            .unwrap();
        assert_eq!(
            http.url,
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent"
        );
        assert_eq!(
            crate::http::header(&http.headers, "authorization"),
            Some("Bearer ya29.test")
        );
        let t = target(
            "gemini-2.5-pro",
            json!({"VERTEXAI_PROJECT": "p2", "VERTEX_LOCATION": "global"}),
        );
        let mut r = user("gemini-2.5-pro");
        r.stream = Some(true);
        assert_eq!(
            VertexAi.chat_request(&r, &t).unwrap().url,
            "https://aiplatform.googleapis.com/v1/projects/p2/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
        );
        let t = target("gemini/4965075652664360960", json!({"vertex_project": "p"}));
        assert_eq!(
            VertexAi.chat_request(&user("x"), &t).unwrap().url,
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/4965075652664360960:generateContent"
        );
    }

    #[test]
    fn api_base_forms() {
        let mut t = target("gemini-2.0-flash", json!({"vertex_project": "p"}));
        t.api_base = Some("https://gw.example/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.0-flash".into());
        assert_eq!(
            VertexAi.chat_request(&user("m"), &t).unwrap().url,
            "https://gw.example/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.0-flash:generateContent"
        );
        t.api_base = Some("http://127.0.0.1:9000/".into());
        assert_eq!(
            VertexAi.chat_request(&user("m"), &t).unwrap().url,
            "http://127.0.0.1:9000/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent"
        );
    }

    #[test]
    fn project_from_credentials_and_missing_project_or_auth() {
        let creds = json!({"type": "service_account", "project_id": "from-creds", "client_email": "a@b", "private_key": "k"});
        let t = target(
            "gemini-2.0-flash",
            json!({"vertex_credentials": creds.to_string()}),
        );
        assert!(VertexAi
            .chat_request(&user("m"), &t)
            .unwrap()
            .url
            .contains("/projects/from-creds/"));
        let t = target("gemini-2.0-flash", json!({}));
        let e = VertexAi.chat_request(&user("m"), &t).unwrap_err();
        assert_eq!(e.param(), Some("vertex_project"));
        let mut t = target("gemini-2.0-flash", json!({"vertex_project": "p"}));
        t.api_key = None;
        let e = VertexAi.chat_request(&user("m"), &t).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        t.extra
            .insert("vertex_access_token".into(), json!("ya29.opt"));
        let http = VertexAi.chat_request(&user("m"), &t).unwrap();
        assert_eq!(
            crate::http::header(&http.headers, "authorization"),
            Some("Bearer ya29.opt")
        );
    }

    #[test]
    fn claude_uses_raw_predict_with_vertex_version_and_no_model() {
        let t = target(
            "claude-sonnet-4@20250514",
            json!({"vertex_project": "p", "vertex_location": "us-east5"}),
        );
        let mut r = user("claude-sonnet-4@20250514");
        r.max_tokens = Some(100);
        let http = VertexAi.chat_request(&r, &t).unwrap();
        assert_eq!(
            http.url,
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict"
        );
        let b = http.json_body().unwrap();
        assert_eq!(b["anthropic_version"], "vertex-2023-10-16");
        assert!(b.get("model").is_none());
        assert_eq!(b["max_tokens"], 100);
        assert_eq!(b["messages"][0]["content"][0]["text"], "Hi");
        r.stream = Some(true);
        let http = VertexAi.chat_request(&r, &t).unwrap();
        assert!(http.url.ends_with(":streamRawPredict"));
        assert_eq!(http.json_body().unwrap()["stream"], true);
    }

    #[test]
    fn errors_by_body_shape() {
        let g = VertexAi.error(
            429,
            &vec![],
            br#"{"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model","status":"RESOURCE_EXHAUSTED"}}"#,
        );
        assert_eq!(g.kind(), ErrorKind::RateLimited);
        let a = VertexAi.error(
            529,
            &vec![],
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(a.kind(), ErrorKind::ServiceUnavailable);
    }

    #[test]
    fn supported_params_follow_the_model_family() {
        assert!(VertexAi
            .supported_params("gemini-2.0-flash")
            .contains(&"top_k"));
        assert_eq!(
            VertexAi.supported_params("claude-3-5-haiku@20241022"),
            anthropic::SUPPORTED_PARAMS.to_vec()
        );
    }
}
