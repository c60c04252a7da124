//! JSON request bodies → typed requests + call options, with OpenAI-style errors (the same
//! contract as [`crate::options::parse_chat`]): a wrong or missing field is a BadRequest that
//! names it in `param`.

use serde_json::{Map, Value};

use crate::options::CallOptions;
use crate::types::{
    EmbeddingRequest, FromValue, ImageRequest, ModerationRequest, Put, RerankRequest,
    TextCompletionRequest,
};
use crate::{Error, Result};

/// OpenAI's default image model when the request names none.
pub const DEFAULT_IMAGE_MODEL: &str = "dall-e-2";

fn split(value: Value) -> Result<(Map<String, Value>, CallOptions)> {
    let Value::Object(mut obj) = value else {
        return Err(Error::bad_request("request body must be a JSON object"));
    };
    let opts = CallOptions::extract(&mut obj)?;
    Ok((obj, opts))
}

fn missing(param: &str) -> Error {
    Error::bad_request(format!("missing required parameter `{param}`")).with_param(param)
}

fn invalid(param: &str, what: &str) -> Error {
    Error::bad_request(format!("`{param}` must be {what}")).with_param(param)
}

fn require_model(obj: &Map<String, Value>) -> Result<()> {
    match obj.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => Ok(()),
        Some(_) => Err(invalid("model", "a non-empty string")),
        None => Err(missing("model")),
    }
}

fn non_empty_string(obj: &Map<String, Value>, param: &str) -> Result<()> {
    match obj.get(param) {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        Some(_) => Err(invalid(param, "a non-empty string")),
        None => Err(missing(param)),
    }
}

fn optional_u32(obj: &Map<String, Value>, param: &str, min: u64, max: u64) -> Result<()> {
    match obj.get(param) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(invalid(param, &format!("an integer from {min} to {max}"))),
        },
    }
}

fn optional_one_of(obj: &Map<String, Value>, param: &str, allowed: &[&str]) -> Result<()> {
    match obj.get(param) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
        Some(_) => Err(invalid(param, &format!("one of {}", allowed.join(", ")))),
    }
}

/// Text, texts, token ids or lists of token ids, not empty anywhere.
fn check_text_or_tokens(v: Option<&Value>, param: &str) -> Result<()> {
    let what =
        "a string, an array of strings, an array of token ids or an array of token-id arrays";
    let is_token = |x: &Value| x.as_u64().is_some_and(|n| n <= u64::from(u32::MAX));
    match v {
        None | Some(Value::Null) => Err(missing(param)),
        Some(Value::String(s)) if s.is_empty() => Err(invalid(param, "a non-empty string")),
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(a)) if a.is_empty() => Err(invalid(param, "a non-empty array")),
        Some(Value::Array(a)) => {
            let ok = a.iter().all(|x| x.as_str().is_some_and(|s| !s.is_empty()))
                || a.iter().all(is_token)
                || a.iter().all(|x| {
                    x.as_array()
                        .is_some_and(|t| !t.is_empty() && t.iter().all(is_token))
                });
            if ok {
                Ok(())
            } else {
                Err(invalid(param, what))
            }
        }
        Some(_) => Err(invalid(param, what)),
    }
}

// `FromValue`, not `serde_json::from_value`: the same result, by move, without a second copy
// of each request type's `Deserialize` (the one for a `Value` deserializer) in the wasm.
fn typed<T: FromValue>(obj: Map<String, Value>, what: &str) -> Result<T> {
    T::from_value(Value::Object(obj))
        .map_err(|e| Error::bad_request(format!("invalid {what} request: {e}")))
}

/// Parses an embeddings request (`POST /v1/embeddings` body plus LiteLLM options).
///
/// ```
/// let (req, opts) = edgellm::modality::parse_embedding(serde_json::json!({
///     "model": "openai/text-embedding-3-small", "input": ["a", "b"], "api_key": "sk-test"
/// })).unwrap();
/// assert_eq!(req.input.len(), 2);
/// assert!(opts.api_key.is_some());
/// let e = edgellm::modality::parse_embedding(serde_json::json!({"model": "m", "input": []})).unwrap_err();
/// assert_eq!(e.param(), Some("input"));
/// ```
pub fn parse_embedding(value: Value) -> Result<(EmbeddingRequest, CallOptions)> {
    let (obj, opts) = split(value)?;
    require_model(&obj)?;
    check_text_or_tokens(obj.get("input"), "input")?;
    optional_one_of(&obj, "encoding_format", &["float", "base64"])?;
    optional_u32(&obj, "dimensions", 1, 1 << 16)?;
    Ok((typed(obj, "embeddings")?, opts))
}

/// Parses an image generation request (`POST /v1/images/generations` body plus options).
/// Without `model`, OpenAI's default `dall-e-2` is used.
///
/// ```
/// let (req, _) = edgellm::modality::parse_image_generation(serde_json::json!({"prompt": "a fox"})).unwrap();
/// assert_eq!(req.model, "dall-e-2");
/// ```
pub fn parse_image_generation(value: Value) -> Result<(ImageRequest, CallOptions)> {
    let (mut obj, opts) = split(value)?;
    if obj.get("model").is_none_or(Value::is_null) {
        obj.put("model", Value::String(DEFAULT_IMAGE_MODEL.into()));
    }
    require_model(&obj)?;
    non_empty_string(&obj, "prompt")?;
    optional_u32(&obj, "n", 1, 10)?;
    optional_one_of(&obj, "response_format", &["url", "b64_json"])?;
    for p in ["size", "quality", "style"] {
        if obj.get(p).is_some_and(|v| !v.is_null() && !v.is_string()) {
            return Err(invalid(p, "a string"));
        }
    }
    Ok((typed(obj, "image generation")?, opts))
}

/// Parses a legacy completions request (`POST /v1/completions` body plus options).
///
/// ```
/// let (req, _) = edgellm::modality::parse_text_completion(serde_json::json!({
///     "model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test", "max_tokens": 7
/// })).unwrap();
/// assert_eq!(req.max_tokens, Some(7));
/// ```
pub fn parse_text_completion(value: Value) -> Result<(TextCompletionRequest, CallOptions)> {
    let (obj, opts) = split(value)?;
    require_model(&obj)?;
    match obj.get("prompt") {
        // An empty prompt is valid for completions (the model starts from nothing).
        Some(Value::String(_)) => {}
        other => check_text_or_tokens(other, "prompt")?,
    }
    optional_u32(&obj, "n", 1, 128)?;
    optional_u32(&obj, "logprobs", 0, 5)?;
    Ok((typed(obj, "text completion")?, opts))
}

/// Parses a moderation request (`POST /v1/moderations` body plus options).
///
/// ```
/// let (req, _) = edgellm::modality::parse_moderation(serde_json::json!({"input": ["a", "b"]})).unwrap();
/// assert_eq!(req.model_or_default(), "omni-moderation-latest");
/// ```
pub fn parse_moderation(value: Value) -> Result<(ModerationRequest, CallOptions)> {
    let (obj, opts) = split(value)?;
    match obj.get("model") {
        None | Some(Value::Null) => {}
        Some(_) => require_model(&obj)?,
    }
    match obj.get("input") {
        None | Some(Value::Null) => return Err(missing("input")),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(invalid("input", "a non-empty string"))
        }
        Some(Value::Array(a)) if a.is_empty() => return Err(invalid("input", "a non-empty array")),
        Some(Value::String(_) | Value::Array(_)) => {}
        Some(_) => return Err(invalid("input", "a string or an array")),
    }
    Ok((typed(obj, "moderation")?, opts))
}

/// Parses a rerank request (Cohere's `/rerank` body plus options).
///
/// ```
/// let (req, _) = edgellm::modality::parse_rerank(serde_json::json!({
///     "model": "cohere/rerank-v3.5", "query": "q", "documents": ["a", "b"], "top_n": 1
/// })).unwrap();
/// assert_eq!(req.top_n, Some(1));
/// ```
pub fn parse_rerank(value: Value) -> Result<(RerankRequest, CallOptions)> {
    let (obj, opts) = split(value)?;
    require_model(&obj)?;
    non_empty_string(&obj, "query")?;
    match obj.get("documents") {
        None | Some(Value::Null) => return Err(missing("documents")),
        Some(Value::Array(a)) if a.is_empty() => {
            return Err(invalid("documents", "a non-empty array"))
        }
        Some(Value::Array(a)) if a.iter().all(|d| d.is_string() || d.is_object()) => {}
        Some(_) => return Err(invalid("documents", "an array of strings or objects")),
    }
    optional_u32(&obj, "top_n", 1, u64::from(u32::MAX))?;
    Ok((typed(obj, "rerank")?, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn param_of(r: Result<impl Sized>) -> String {
        match r {
            Ok(_) => "ok".into(),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::BadRequest);
                e.param().unwrap_or("").to_string()
            }
        }
    }

    #[test]
    fn embedding_errors_name_the_param() {
        assert_eq!(param_of(parse_embedding(json!({"input": "a"}))), "model");
        assert_eq!(param_of(parse_embedding(json!({"model": "m"}))), "input");
        assert_eq!(
            param_of(parse_embedding(json!({"model": "m", "input": ""}))),
            "input"
        );
        assert_eq!(
            param_of(parse_embedding(json!({"model": "m", "input": [1, "a"]}))),
            "input"
        );
        assert_eq!(
            param_of(parse_embedding(json!({"model": "m", "input": [[]]}))),
            "input"
        );
        assert_eq!(
            param_of(parse_embedding(
                json!({"model": "m", "input": "a", "encoding_format": "int8"})
            )),
            "encoding_format"
        );
        assert_eq!(
            param_of(parse_embedding(
                json!({"model": "m", "input": "a", "dimensions": 0})
            )),
            "dimensions"
        );
        assert_eq!(
            param_of(parse_embedding(
                json!({"model": "m", "input": [[1, 2], [3]]})
            )),
            "ok"
        );
        assert!(parse_embedding(json!([])).is_err());
    }

    #[test]
    fn options_are_split_off() {
        let (req, opts) = parse_embedding(json!({"model": "m", "input": "a", "num_retries": 2,
            "input_type": "search_query"}))
        .unwrap();
        assert_eq!(opts.num_retries, Some(2));
        assert_eq!(req.extra_str("input_type"), Some("search_query"));
        assert!(!req.extra.contains_key("num_retries"));
    }

    #[test]
    fn image_text_moderation_rerank_errors() {
        assert_eq!(
            param_of(parse_image_generation(json!({"model": "m"}))),
            "prompt"
        );
        assert_eq!(
            param_of(parse_image_generation(json!({"prompt": "p", "n": 11}))),
            "n"
        );
        assert_eq!(
            param_of(parse_image_generation(
                json!({"prompt": "p", "response_format": "png"})
            )),
            "response_format"
        );
        assert_eq!(
            param_of(parse_image_generation(json!({"prompt": "p", "size": 5}))),
            "size"
        );
        assert_eq!(
            param_of(parse_text_completion(json!({"model": "m"}))),
            "prompt"
        );
        assert_eq!(
            param_of(parse_text_completion(json!({"model": "m", "prompt": ""}))),
            "ok"
        );
        assert_eq!(
            param_of(parse_text_completion(
                json!({"model": "m", "prompt": "p", "logprobs": 9})
            )),
            "logprobs"
        );
        assert_eq!(param_of(parse_moderation(json!({}))), "input");
        assert_eq!(param_of(parse_moderation(json!({"input": 3}))), "input");
        assert_eq!(
            param_of(parse_moderation(json!({"input": "x", "model": ""}))),
            "model"
        );
        assert_eq!(
            param_of(parse_rerank(json!({"model": "m", "documents": ["a"]}))),
            "query"
        );
        assert_eq!(
            param_of(parse_rerank(json!({"model": "m", "query": "q"}))),
            "documents"
        );
        assert_eq!(
            param_of(parse_rerank(
                json!({"model": "m", "query": "q", "documents": [1]})
            )),
            "documents"
        );
        assert_eq!(
            param_of(parse_rerank(
                json!({"model": "m", "query": "q", "documents": ["a"], "top_n": 0})
            )),
            "top_n"
        );
    }
}
