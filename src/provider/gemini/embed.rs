//! Gemini API embeddings: `POST {base}/models/{model}:batchEmbedContents`, one
//! `EmbedContentRequest` per input (so a batch keeps its order), at most 100 per call.
//!
//! OpenAI `dimensions` → `outputDimensionality`; `task_type` → `taskType` and `title` →
//! `title` (LiteLLM's mapping; other extras are not Gemini fields and are left out, as LiteLLM
//! filters them). `encoding_format: base64` is produced from the floats by the engine.
//! The response has no token counts unless Google adds `usageMetadata`, in which case
//! `promptTokenCount` is passed through.
//!
//! API reference: <https://ai.google.dev/api/embeddings#method:-models.batchembedcontents>.

use serde_json::{Map, Value};

use super::super::openai_format::require_texts;
use super::{google_error, Gemini};
use crate::http::HttpRequest;
use crate::provider::build::{at, obj, parse, s};
use crate::provider::Target;
use crate::types::{EmbeddingRequest, EmbeddingResponse, Put};
use crate::{Error, Result};

/// Gemini's largest `requests` list per `batchEmbedContents` call.
pub const MAX_BATCH: usize = 100;

/// The upstream request.
pub fn request(req: &EmbeddingRequest, target: &Target) -> Result<HttpRequest> {
    let texts = require_texts(&req.input, target)?;
    let key = target.require_key("GEMINI_API_KEY")?;
    let model = super::model_id(&target.model);
    let chat_url = Gemini.url(target, false);
    let url = match chat_url.strip_suffix(":generateContent") {
        Some(prefix) => format!("{prefix}:batchEmbedContents"),
        None => chat_url,
    };
    let mut common = Map::new();
    if let Some(d) = req.dimensions {
        common.put("outputDimensionality", d.into());
    }
    for (from, to) in [("task_type", "taskType"), ("title", "title")] {
        if let Some(v) = req.extra.get(from) {
            common.insert(to.into(), v.clone());
        }
    }
    let mut requests: Vec<Value> = Vec::with_capacity(texts.len());
    for t in &texts {
        let mut r = Map::new();
        r.put("model", Value::String(format!("models/{model}")));
        r.put(
            "content",
            obj([("parts", Value::Array(vec![obj([("text", s(t))])]))]),
        );
        for (k, v) in &common {
            r.insert(k.clone(), v.clone());
        }
        requests.push(Value::Object(r));
    }
    let mut http = HttpRequest::post_json(url, &obj([("requests", Value::from(requests))]));
    http.set_header("x-goog-api-key", key);
    for (k, v) in &target.headers {
        http.set_header(k, v.clone());
    }
    Ok(http)
}

/// Parses `{"embeddings": [{"values": [...]}, ...]}`.
pub fn response(body: &[u8], target: &Target) -> Result<EmbeddingResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Gemini: {e}")))?;
    if v.get("error").is_some_and(Value::is_object) {
        return Err(google_error(200, &[], body));
    }
    let embeddings = v
        .get("embeddings")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::decode("Gemini embeddings response has no `embeddings` array"))?;
    // A loop: `collect::<Result<_>>` brings its own copy of the iterator adapters.
    let mut vectors = Vec::with_capacity(embeddings.len());
    for e in embeddings {
        vectors.push(
            serde_json::from_value::<Vec<f64>>(e.get("values").cloned().unwrap_or(Value::Null))
                .map_err(|err| {
                    Error::decode(format!("Gemini embedding without `values`: {err}"))
                })?,
        );
    }
    let tokens = at(&v, "/usageMetadata/promptTokenCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(EmbeddingResponse::from_vectors(
        super::model_id(&target.model),
        vectors,
        tokens,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn target() -> Target {
        Target {
            provider: "gemini".into(),
            model: "gemini-embedding-001".into(),
            api_key: Some(crate::Secret::new("test-key")),
            ..Target::default()
        }
    }

    #[test]
    fn one_request_per_input() {
        let mut req = EmbeddingRequest::new("gemini/gemini-embedding-001", &["a", "b"]);
        req.dimensions = Some(768);
        req.extra
            .insert("task_type".into(), json!("RETRIEVAL_QUERY"));
        req.extra.insert("input_type".into(), json!("ignored"));
        let http = request(&req, &target()).unwrap();
        assert_eq!(
            http.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents"
        );
        let one = |t: &str| {
            json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]},
                "outputDimensionality": 768, "taskType": "RETRIEVAL_QUERY"})
        };
        assert_eq!(
            http.json_body().unwrap(),
            json!({"requests": [one("a"), one("b")]})
        );
    }

    #[test]
    fn bad_bodies_are_decode_errors() {
        let e = response(br#"{"embeddings": [{"nope": 1}]}"#, &target()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        let r = response(br#"{"embeddings": [{"values": [0.5]}]}"#, &target()).unwrap();
        assert_eq!(r.data.len(), 1);
        assert_eq!(r.model, "gemini-embedding-001");
    }
}
