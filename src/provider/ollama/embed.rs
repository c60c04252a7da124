//! Ollama embeddings: `POST {base}/api/embed` with `{model, input}` (one string or a list; the
//! answer keeps the order), for both `ollama/` and `ollama_chat/` models.
//!
//! `dimensions` and Ollama's top-level `truncate` / `keep_alive` / `options` pass through; any
//! other extra is a model option and goes into `options` (LiteLLM sends its optional params
//! there). Usage is `prompt_eval_count`. `encoding_format: base64` is produced from the
//! floats by the engine.
//!
//! API reference: <https://github.com/ollama/ollama/blob/main/docs/api.md#generate-embeddings>.

use serde_json::{Map, Value};

use super::super::openai_format::{refuse_param, require_texts};
use super::{error_in_body, DEFAULT_BASE};
use crate::http::HttpRequest;
use crate::provider::build::parse;
use crate::provider::Target;
use crate::types::{EmbeddingRequest, EmbeddingResponse, Put};
use crate::{Error, Result};

/// `{base}/api/embed`, also when `api_base` names another Ollama endpoint.
pub fn url(target: &Target) -> String {
    let base = target.base_or(DEFAULT_BASE);
    let root = ["/api/chat", "/api/generate", "/api/embed"]
        .iter()
        .find_map(|p| base.strip_suffix(p))
        .unwrap_or(base);
    format!("{root}/api/embed")
}

/// The upstream request.
pub fn request(req: &EmbeddingRequest, target: &Target) -> Result<HttpRequest> {
    require_texts(&req.input, target)?;
    if req.user.is_some() {
        refuse_param(target, "user")?;
    }
    let mut body = Map::new();
    body.put("model", Value::String(target.model.clone()));
    body.put("input", crate::types::to_value_via_text(&req.input)?);
    if let Some(d) = req.dimensions {
        body.put("dimensions", d.into());
    }
    let mut options = Map::new();
    for (k, v) in &req.extra {
        match k.as_str() {
            "truncate" | "keep_alive" => {
                body.insert(k.clone(), v.clone());
            }
            "options" => {
                if let Value::Object(o) = v {
                    options.extend(o.clone());
                }
            }
            _ => {
                options.insert(k.clone(), v.clone());
            }
        }
    }
    if !options.is_empty() {
        body.put("options", Value::Object(options));
    }
    let mut http = HttpRequest::post_json(url(target), &Value::Object(body));
    if let Some(k) = target.api_key.as_ref().filter(|k| !k.expose().is_empty()) {
        http.set_header("authorization", format!("Bearer {}", k.expose()));
    }
    for (k, v) in &target.headers {
        http.set_header(k, v.clone());
    }
    Ok(http)
}

/// Parses `{"model", "embeddings": [[…]], "prompt_eval_count"}`.
pub fn response(body: &[u8], target: &Target) -> Result<EmbeddingResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Ollama: {e}")))?;
    if let Some(e) = error_in_body(&v) {
        return Err(e);
    }
    let vectors: Vec<Vec<f64>> =
        serde_json::from_value(v.get("embeddings").cloned().unwrap_or_default()).map_err(|e| {
            Error::decode(format!(
                "Ollama embed response without `embeddings` vectors: {e}"
            ))
        })?;
    let model = v
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or(&target.model);
    let tokens = v
        .get("prompt_eval_count")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(EmbeddingResponse::from_vectors(model, vectors, tokens))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(base: Option<&str>) -> Target {
        Target {
            provider: "ollama".into(),
            model: "all-minilm".into(),
            api_base: base.map(str::to_string),
            ..Target::default()
        }
    }

    #[test]
    fn url_and_body() {
        assert_eq!(url(&target(None)), "http://localhost:11434/api/embed");
        assert_eq!(
            url(&target(Some("http://h:1/api/chat"))),
            "http://h:1/api/embed"
        );
        let mut req = EmbeddingRequest::new("ollama/all-minilm", &["a", "b"]);
        req.extra.insert("keep_alive".into(), json!("5m"));
        req.extra.insert("num_ctx".into(), json!(512));
        let http = request(&req, &target(None)).unwrap();
        assert_eq!(
            http.json_body().unwrap(),
            json!({"model": "all-minilm", "input": ["a", "b"], "keep_alive": "5m", "options": {"num_ctx": 512}})
        );
        assert!(crate::http::header(&http.headers, "authorization").is_none());
    }

    #[test]
    fn response_and_errors() {
        let r = response(
            br#"{"model": "all-minilm", "embeddings": [[0.5], [0.25]], "prompt_eval_count": 8}"#,
            &target(None),
        )
        .unwrap();
        assert_eq!((r.data.len(), r.usage.prompt_tokens), (2, 8));
        assert!(response(br#"{"error": "model \"x\" not found"}"#, &target(None)).is_err());
    }
}
