//! Cohere v2 Embed: `POST {base}/embed` (base `https://api.cohere.com/v2`; `api_base` follows
//! the chat rules: a URL already ending in the endpoint is used as is, a bare host gets
//! `/v2/…`, one ending in `/chat` has it swapped).
//!
//! Embed: `texts`, `input_type` (default `search_document`, LiteLLM's
//! `COHERE_DEFAULT_EMBEDDING_INPUT_TYPE`; required by v3+ models), `embedding_types: ["float"]`
//! (base64 is produced from the floats by the engine, OpenAI's encoding), `dimensions` →
//! `output_dimension` (embed-v4); `truncate`, `max_tokens` pass through. At most 96 texts per
//! call. Usage is `meta.billed_units.input_tokens`.
//!
//! API reference: <https://docs.cohere.com/v2/reference/embed>.

use serde_json::{Map, Value};

use super::super::openai_format::{refuse_param, require_texts};
use super::DEFAULT_BASE;
use crate::http::HttpRequest;
use crate::provider::build::{at, parse, s, strs};
use crate::provider::Target;
use crate::types::{EmbeddingRequest, EmbeddingResponse, Put};
use crate::{Error, Result};

/// `input_type` when the caller gives none.
pub const DEFAULT_INPUT_TYPE: &str = "search_document";

/// Cohere's largest `texts` list per embed call.
pub const MAX_TEXTS: usize = 96;

/// The URL of endpoint `name` (`embed`, `rerank`).
pub fn url(target: &Target, name: &str) -> String {
    let suffix = format!("/{name}");
    match target.api_base.as_deref().map(|b| b.trim_end_matches('/')) {
        Some(b) if b.ends_with(&suffix) => b.to_string(),
        Some(b) if super::super::gemini::is_bare_host(b) => format!("{b}/v2{suffix}"),
        Some(b) => match b.strip_suffix("/chat") {
            Some(root) => format!("{root}{suffix}"),
            None => format!("{b}{suffix}"),
        },
        None => format!("{DEFAULT_BASE}{suffix}"),
    }
}

pub(super) fn post(target: &Target, name: &str, body: &Value) -> Result<HttpRequest> {
    let key = target.require_key("COHERE_API_KEY")?;
    let mut http = HttpRequest::post_json(url(target, name), body);
    http.set_header("authorization", format!("Bearer {key}"));
    for (k, v) in &target.headers {
        http.set_header(k, v.clone());
    }
    Ok(http)
}

/// The embed request.
pub fn request(req: &EmbeddingRequest, target: &Target) -> Result<HttpRequest> {
    let texts = require_texts(&req.input, target)?;
    if req.user.is_some() {
        refuse_param(target, "user")?;
    }
    let mut body = Map::new();
    body.put("model", Value::String(target.model.clone()));
    body.put("texts", strs(&texts));
    body.put(
        "input_type",
        Value::String(
            req.extra_str("input_type")
                .unwrap_or(DEFAULT_INPUT_TYPE)
                .into(),
        ),
    );
    body.put("embedding_types", Value::Array(vec![s("float")]));
    if let Some(d) = req.dimensions {
        body.put("output_dimension", d.into());
    }
    for (k, v) in &req.extra {
        body.entry(k.clone()).or_insert_with(|| v.clone());
    }
    post(target, "embed", &Value::Object(body))
}

/// Parses `{"embeddings": {"float": [[…]]}, "meta": {"billed_units": {"input_tokens"}}}`.
pub fn response(body: &[u8], target: &Target) -> Result<EmbeddingResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Cohere: {e}")))?;
    let e = v
        .get("embeddings")
        .ok_or_else(|| Error::decode("Cohere embed response has no `embeddings`"))?;
    // v2 answers by type; v1-style bodies (a plain list) are accepted too.
    let list = e.get("float").unwrap_or(e);
    let vectors: Vec<Vec<f64>> = serde_json::from_value(list.clone()).map_err(|err| {
        Error::decode(format!("Cohere `embeddings` are not float vectors: {err}"))
    })?;
    let billed = |k: &str| {
        at(&v, &format!("/meta/billed_units/{k}"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as u64
    };
    Ok(EmbeddingResponse::from_vectors(
        &target.model,
        vectors,
        billed("input_tokens") + billed("images"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn target(base: Option<&str>) -> Target {
        Target {
            provider: "cohere".into(),
            model: "embed-v4.0".into(),
            api_base: base.map(str::to_string),
            api_key: Some(crate::Secret::new("co-test")),
            ..Target::default()
        }
    }

    #[test]
    fn urls_follow_the_chat_rules() {
        assert_eq!(
            url(&target(None), "embed"),
            "https://api.cohere.com/v2/embed"
        );
        assert_eq!(
            url(&target(Some("https://h")), "rerank"),
            "https://h/v2/rerank"
        );
        assert_eq!(
            url(&target(Some("https://h/v2/chat")), "embed"),
            "https://h/v2/embed"
        );
        assert_eq!(
            url(&target(Some("https://h/x/embed")), "embed"),
            "https://h/x/embed"
        );
    }

    #[test]
    fn embed_defaults_and_usage() {
        let mut req = EmbeddingRequest::new("cohere/embed-v4.0", &["a"]);
        req.dimensions = Some(512);
        let http = request(&req, &target(None)).unwrap();
        assert_eq!(
            http.json_body().unwrap(),
            json!({"model": "embed-v4.0", "texts": ["a"], "input_type": "search_document",
                "embedding_types": ["float"], "output_dimension": 512})
        );
        let r = response(
            br#"{"id": "x", "embeddings": {"float": [[0.5]]}, "meta": {"billed_units": {"input_tokens": 2}}}"#,
            &target(None),
        )
        .unwrap();
        assert_eq!(r.usage.prompt_tokens, 2);
        assert_eq!(
            response(br#"{"embeddings": {"int8": [[1]]}}"#, &target(None))
                .unwrap_err()
                .kind(),
            ErrorKind::Decode
        );
    }
}
