//! Vertex AI Imagen: `POST …/publishers/google/models/{model}:predict` with
//! `{"instances": [{"prompt"}], "parameters": {"sampleCount", "aspectRatio", …}}`; images come
//! back as `predictions[].bytesBase64Encoded` and are returned as `b64_json` (there is no URL
//! to give, whatever `response_format` asks).
//!
//! `n` → `sampleCount` (default 1, as LiteLLM sends); `size` → `aspectRatio` for the sizes
//! whose ratio Imagen offers (1:1, 3:4, 4:3, 9:16, 16:9; OpenAI's 1792x1024 / 1024x1792 count
//! as 16:9 / 9:16 as in LiteLLM). Other sizes are refused rather than silently squared
//! (LiteLLM falls back to 1:1). Extras (`negativePrompt`, `seed`, `personGeneration`, …) go
//! into `parameters` unchanged. `quality`, `style` and `user` have no Imagen equivalent.
//!
//! API reference:
//! <https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/imagen-api>.

use serde_json::{Map, Value};

use super::super::openai_format::refuse_param;
use super::{model_prefix, require_bearer, Family};
use crate::http::HttpRequest;
use crate::provider::build::{obj, parse, s};
use crate::provider::gemini::google_error;
use crate::provider::Target;
use crate::types::{ImageData, ImageRequest, ImageResponse, Put};
use crate::{Error, ErrorKind, Result};

/// Imagen's aspect ratio for an OpenAI `size`.
pub fn aspect_ratio(size: &str) -> Option<&'static str> {
    match size {
        "1792x1024" => return Some("16:9"),
        "1024x1792" => return Some("9:16"),
        _ => {}
    }
    let (w, h) = size.split_once('x')?;
    let (w, h): (u32, u32) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    [
        ("1:1", 1, 1),
        ("3:4", 3, 4),
        ("4:3", 4, 3),
        ("9:16", 9, 16),
        ("16:9", 16, 9),
    ]
    .into_iter()
    .find(|(_, a, b)| u64::from(w) * b == u64::from(h) * a)
    .map(|(r, _, _)| r)
}

/// The Imagen `:predict` body (shared with the Gemini API's Imagen models).
pub fn body(req: &ImageRequest, target: &Target) -> Result<Value> {
    for (p, set) in [
        ("quality", req.quality.is_some()),
        ("style", req.style.is_some()),
        ("user", req.user.is_some()),
    ] {
        if set {
            refuse_param(target, p)?;
        }
    }
    let mut parameters = Map::new();
    parameters.put("sampleCount", req.count().into());
    if let Some(size) = req.size.as_deref().filter(|s| *s != "auto") {
        let ratio = aspect_ratio(size).ok_or_else(|| {
            Error::new(
                ErrorKind::UnsupportedParams,
                format!(
                    "{}/{} has no aspect ratio for size `{size}` (Imagen offers 1:1, 3:4, 4:3, 9:16, 16:9); pass `aspectRatio` instead",
                    target.provider, target.model
                ),
            )
            .with_param("size")
        })?;
        parameters.put("aspectRatio", ratio.into());
    }
    for (k, v) in &req.extra {
        parameters.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Ok(obj([
        (
            "instances",
            Value::Array(vec![obj([("prompt", s(&req.prompt))])]),
        ),
        ("parameters", Value::from(parameters)),
    ]))
}

/// The upstream request.
pub fn request(req: &ImageRequest, target: &Target) -> Result<HttpRequest> {
    let body = body(req, target)?;
    let url = format!("{}:predict", model_prefix(target, Family::Gemini)?);
    let token = require_bearer(target)?;
    let mut http = HttpRequest::post_json(url, &body);
    http.set_header("authorization", format!("Bearer {token}"));
    for (k, v) in &target.headers {
        http.set_header(k, v.clone());
    }
    Ok(http)
}

/// Parses `{"predictions": [{"bytesBase64Encoded", "mimeType"}]}`. A prediction filtered by
/// Responsible AI carries `raiFilteredReason` instead of bytes; if every image was filtered,
/// that is a content policy error.
pub fn response(body: &[u8], target: &Target) -> Result<ImageResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Vertex AI: {e}")))?;
    if v.get("error").is_some_and(Value::is_object) {
        return Err(google_error(200, &[], body));
    }
    let predictions = v
        .get("predictions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut data = Vec::new();
    let mut filtered = Vec::new();
    for p in &predictions {
        match p.get("bytesBase64Encoded").and_then(Value::as_str) {
            Some(b) => data.push(ImageData {
                b64_json: Some(b.to_string()),
                ..ImageData::default()
            }),
            None => {
                if let Some(r) = p.get("raiFilteredReason").and_then(Value::as_str) {
                    filtered.push(r.to_string());
                }
            }
        }
    }
    if data.is_empty() {
        return Err(if filtered.is_empty() {
            Error::decode("Vertex AI returned no images")
        } else {
            Error::new(ErrorKind::ContentPolicyViolation, filtered.join("; ")).with_status(400)
        }
        .with_provider(target.provider.clone()));
    }
    Ok(ImageResponse {
        created: (target.now_ms / 1000) as i64,
        data,
        ..ImageResponse::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        let mut extra = Map::new();
        extra.insert("vertex_project".into(), json!("proj"));
        extra.insert("vertex_location".into(), json!("europe-west4"));
        Target {
            provider: "vertex_ai".into(),
            model: "imagen-3.0-generate-002".into(),
            api_key: Some(crate::Secret::new("ya29.test")),
            extra,
            now_ms: 1_700_000_000_000,
            ..Target::default()
        }
    }

    #[test]
    fn sizes_map_to_ratios() {
        assert_eq!(aspect_ratio("1024x1024"), Some("1:1"));
        assert_eq!(aspect_ratio("1792x1024"), Some("16:9"));
        assert_eq!(aspect_ratio("768x1024"), Some("3:4"));
        assert_eq!(aspect_ratio("1280x896"), None);
        assert_eq!(aspect_ratio("big"), None);
    }

    #[test]
    fn request_shape_and_refusals() {
        let mut req = ImageRequest::new("vertex_ai/imagen-3.0-generate-002", "a cat");
        req.n = Some(2);
        req.size = Some("1024x1792".into());
        req.extra.insert("negativePrompt".into(), json!("dogs"));
        let http = request(&req, &target()).unwrap();
        assert!(http.url.starts_with("https://europe-west4-aiplatform.googleapis.com/v1/projects/proj/locations/europe-west4/publishers/google/models/imagen-3.0-generate-002:predict"));
        assert_eq!(
            http.json_body().unwrap(),
            json!({"instances": [{"prompt": "a cat"}],
                "parameters": {"sampleCount": 2, "aspectRatio": "9:16", "negativePrompt": "dogs"}})
        );
        req.size = Some("1000x1".into());
        assert_eq!(request(&req, &target()).unwrap_err().param(), Some("size"));
        req.size = None;
        req.quality = Some("hd".into());
        assert_eq!(
            request(&req, &target()).unwrap_err().kind(),
            ErrorKind::UnsupportedParams
        );
    }

    #[test]
    fn filtered_images_are_a_policy_error() {
        let e = response(
            br#"{"predictions": [{"raiFilteredReason": "blocked: violence"}]}"#,
            &target(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ContentPolicyViolation);
        let r = response(
            br#"{"predictions": [{"bytesBase64Encoded": "AA==", "mimeType": "image/png"}]}"#,
            &target(),
        )
        .unwrap();
        assert_eq!(r.data[0].b64_json.as_deref(), Some("AA=="));
    }
}
