//! Vertex AI text embeddings: `POST …/publishers/google/models/{model}:predict` with one
//! instance per input.
//!
//! OpenAI `dimensions` → `parameters.outputDimensionality`; `task_type` (or LiteLLM's
//! `input_type`) and `title` go on each instance; `auto_truncate` → `parameters.autoTruncate`.
//! Token usage is the sum of `predictions[].embeddings.statistics.token_count`.
//! `gemini-embedding-001` takes one instance per request; the other text models up to 250
//! (the engine splits larger batches).
//!
//! API reference:
//! <https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api>.

use serde_json::{Map, Value};

use super::super::openai_format::require_texts;
use super::{model_prefix, require_bearer, Family};
use crate::http::HttpRequest;
use crate::provider::build::{at, obj, parse};
use crate::provider::gemini::google_error;
use crate::provider::Target;
use crate::types::{EmbeddingRequest, EmbeddingResponse, Put};
use crate::{Error, Result};

/// Most instances per `:predict` call for `model`.
pub fn batch_size(model: &str) -> usize {
    if model.starts_with("gemini-embedding") {
        1
    } else {
        250
    }
}

/// The upstream request.
pub fn request(req: &EmbeddingRequest, target: &Target) -> Result<HttpRequest> {
    let texts = require_texts(&req.input, target)?;
    let url = format!("{}:predict", model_prefix(target, Family::Gemini)?);
    let token = require_bearer(target)?;
    let task = req
        .extra
        .get("task_type")
        .or_else(|| req.extra.get("input_type"));
    let title = req.extra.get("title");
    // A loop, not `map(…).collect()`: each such chain is its own copy in the wasm.
    let mut instances: Vec<Value> = Vec::with_capacity(texts.len());
    for t in texts.iter() {
        let mut i = Map::new();
        i.put("content", Value::String(t.to_string()));
        if let Some(v) = task {
            i.put("task_type", v.clone());
        }
        if let Some(v) = title {
            i.put("title", v.clone());
        }
        instances.push(Value::Object(i));
    }
    let mut parameters = Map::new();
    if let Some(d) = req.dimensions {
        parameters.put("outputDimensionality", d.into());
    }
    if let Some(v) = req.extra.get("auto_truncate") {
        parameters.put("autoTruncate", v.clone());
    }
    let mut body = obj([("instances", Value::from(instances))]);
    if !parameters.is_empty() {
        body["parameters"] = Value::Object(parameters);
    }
    let mut http = HttpRequest::post_json(url, &body);
    http.set_header("authorization", format!("Bearer {token}"));
    for (k, v) in &target.headers {
        http.set_header(k, v.clone());
    }
    Ok(http)
}

/// Parses `{"predictions": [{"embeddings": {"values": [...], "statistics": {...}}}]}`.
pub fn response(body: &[u8], target: &Target) -> Result<EmbeddingResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Vertex AI: {e}")))?;
    if v.get("error").is_some_and(Value::is_object) {
        return Err(google_error(200, &[], body));
    }
    let predictions = v
        .get("predictions")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::decode("Vertex AI embeddings response has no `predictions`"))?;
    let mut tokens = 0;
    let mut vectors = Vec::with_capacity(predictions.len());
    for p in predictions {
        let e = p.get("embeddings").unwrap_or(&Value::Null);
        let values: Vec<f64> = serde_json::from_value(e.get("values").cloned().unwrap_or_default())
            .map_err(|err| Error::decode(format!("Vertex AI embedding without `values`: {err}")))?;
        tokens += at(e, "/statistics/token_count")
            .and_then(Value::as_f64)
            .unwrap_or(0.0) as u64;
        vectors.push(values);
    }
    Ok(EmbeddingResponse::from_vectors(
        &target.model,
        vectors,
        tokens,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        let mut extra = Map::new();
        extra.insert("vertex_project".into(), json!("proj"));
        Target {
            provider: "vertex_ai".into(),
            model: "text-embedding-005".into(),
            api_key: Some(crate::Secret::new("ya29.test")),
            extra,
            ..Target::default()
        }
    }

    #[test]
    fn instances_and_parameters() {
        let mut req = EmbeddingRequest::new("vertex_ai/text-embedding-005", &["a", "b"]);
        req.dimensions = Some(256);
        req.extra
            .insert("input_type".into(), json!("RETRIEVAL_QUERY"));
        let http = request(&req, &target()).unwrap();
        assert_eq!(
            http.url,
            "https://us-central1-aiplatform.googleapis.com/v1/projects/proj/locations/us-central1/publishers/google/models/text-embedding-005:predict"
        );
        assert_eq!(
            http.json_body().unwrap(),
            json!({"instances": [{"content": "a", "task_type": "RETRIEVAL_QUERY"},
                {"content": "b", "task_type": "RETRIEVAL_QUERY"}], "parameters": {"outputDimensionality": 256}})
        );
        assert_eq!(batch_size("gemini-embedding-001"), 1);
    }

    #[test]
    fn tokens_are_summed() {
        let body = br#"{"predictions": [
            {"embeddings": {"values": [0.1], "statistics": {"token_count": 3, "truncated": false}}},
            {"embeddings": {"values": [0.2], "statistics": {"token_count": 4.0, "truncated": false}}}]}"#;
        let r = response(body, &target()).unwrap();
        assert_eq!(r.usage.prompt_tokens, 7);
        assert_eq!(r.data[1].index, 1);
        assert!(response(br#"{"predictions": [{}]}"#, &target()).is_err());
    }
}
