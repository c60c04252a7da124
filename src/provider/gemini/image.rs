//! Imagen on the Gemini API: `POST {base}/models/{model}:predict` with the same body and answer
//! as on Vertex AI (see [`crate::provider::vertex_ai::image`]), authenticated with the
//! `x-goog-api-key` header (`gemini/imagen-3.0-generate-002`, `gemini/imagen-4.0-generate-001`).
//!
//! API reference: <https://ai.google.dev/gemini-api/docs/imagen#rest>.

use super::Gemini;
use crate::http::HttpRequest;
use crate::provider::{vertex_ai, Target};
use crate::types::{ImageRequest, ImageResponse};
use crate::{Error, Result};

/// The upstream request.
pub fn request(req: &ImageRequest, target: &Target) -> Result<HttpRequest> {
    if !super::model_id(&target.model).starts_with("imagen") {
        return Err(Error::bad_request(format!(
            "gemini/{}: image generation on the Gemini API is for Imagen models (`gemini/imagen-…`)",
            target.model
        ))
        .with_param("model"));
    }
    let body = vertex_ai::image::body(req, target)?;
    let key = target.require_key("GEMINI_API_KEY")?;
    let chat_url = Gemini.url(target, false);
    let url = match chat_url.strip_suffix(":generateContent") {
        Some(prefix) => format!("{prefix}:predict"),
        None => chat_url,
    };
    let mut http = HttpRequest::post_json(url, &body);
    http.set_header("x-goog-api-key", key);
    for (k, v) in &target.headers {
        http.set_header(k, v.clone());
    }
    Ok(http)
}

/// Parses `{"predictions": [{"bytesBase64Encoded", "mimeType"}]}`.
pub fn response(body: &[u8], target: &Target) -> Result<ImageResponse> {
    vertex_ai::image::response(body, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn imagen_predict_with_api_key() {
        let t = Target {
            provider: "gemini".into(),
            model: "imagen-3.0-generate-002".into(),
            api_key: Some(crate::Secret::new("test-key")),
            ..Target::default()
        };
        let mut req = ImageRequest::new("gemini/imagen-3.0-generate-002", "a robot");
        req.n = Some(2);
        let http = request(&req, &t).unwrap();
        assert_eq!(
            http.url,
            "https://generativelanguage.googleapis.com/v1beta/models/imagen-3.0-generate-002:predict"
        );
        assert_eq!(
            crate::http::header(&http.headers, "x-goog-api-key"),
            Some("test-key")
        );
        assert_eq!(
            http.json_body().unwrap(),
            json!({"instances": [{"prompt": "a robot"}], "parameters": {"sampleCount": 2}})
        );
        let chat_model = Target {
            model: "gemini-2.0-flash".into(),
            ..t
        };
        assert_eq!(
            request(&req, &chat_model).unwrap_err().param(),
            Some("model")
        );
    }
}
