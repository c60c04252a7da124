//! Bedrock image generation through `InvokeModel`, by model family:
//!
//! | model | body | images |
//! | --- | --- | --- |
//! | `stability.stable-diffusion-xl-v1` | `{text_prompts: [{text, weight}], width?, height?, samples?, …}` | `artifacts[].base64` |
//! | `stability.sd3-*`, `stability.stable-image-*` | `{prompt, aspect_ratio?, …}` | `images[]` |
//! | `amazon.titan-image-generator-*`, `amazon.nova-canvas-*` | `{taskType: TEXT_IMAGE, textToImageParams, imageGenerationConfig}` | `images[]` |
//!
//! OpenAI → Bedrock: `size` → `width`/`height` (SDXL, Titan, Nova) or `aspect_ratio` (Stability
//! 3, when the size has one of its ratios); `n` → `samples` / `numberOfImages`; `quality`
//! `hd`/`high` → Titan's `premium`, `standard`/`medium`/`low` → `standard` (LiteLLM's mapping).
//! Other extras go into the body as given (Titan: into `imageGenerationConfig`, except
//! `negativeText`). Images come back as `b64_json`. A Stability 3 `finish_reasons` entry or an
//! SDXL `CONTENT_FILTERED` artifact is a content-policy error, as LiteLLM raises.
//!
//! References: <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-1-0-text-image.html>,
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-image.html>,
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-diffusion-stable-ultra-text-image-request-response.html>.

use serde_json::{Map, Value};

use super::super::openai_format::refuse_param;
use super::{base_model, invoke};
use crate::http::HttpRequest;
use crate::provider::build::{obj, parse, s};
use crate::provider::Target;
use crate::types::{ImageRequest, ImageResponse, Put};
use crate::{Error, ErrorKind, Result};

/// Which request shape a model id takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Stable Diffusion XL 1.0.
    StabilityXl,
    /// Stable Diffusion 3.x, Stable Image Core / Ultra.
    Stability3,
    /// Titan Image Generator G1 v1/v2, Nova Canvas.
    Titan,
}

/// The family of `model`, if it is an image model.
pub fn family(model: &str) -> Option<Family> {
    let m = base_model(model);
    if m.starts_with("stability.stable-diffusion-xl") {
        Some(Family::StabilityXl)
    } else if m.starts_with("stability.") {
        Some(Family::Stability3)
    } else if m.starts_with("amazon.titan-image") || m.starts_with("amazon.nova-canvas") {
        Some(Family::Titan)
    } else {
        None
    }
}

/// Stability 3's `aspect_ratio` for an OpenAI `size`, when it has one.
fn stability_ratio(w: u32, h: u32) -> Option<&'static str> {
    [
        ("1:1", 1, 1),
        ("16:9", 16, 9),
        ("9:16", 9, 16),
        ("21:9", 21, 9),
        ("9:21", 9, 21),
        ("3:2", 3, 2),
        ("2:3", 2, 3),
        ("5:4", 5, 4),
        ("4:5", 4, 5),
    ]
    .into_iter()
    .find(|(_, a, b)| u64::from(w) * b == u64::from(h) * a)
    .map(|(r, _, _)| r)
}

fn bad_size(target: &Target, size: &str, what: &str) -> Error {
    Error::new(
        ErrorKind::UnsupportedParams,
        format!("bedrock/{} cannot make size `{size}`: {what}", target.model),
    )
    .with_param("size")
}

/// The upstream request.
pub fn request(req: &ImageRequest, target: &Target) -> Result<HttpRequest> {
    let fam = family(&target.model).ok_or_else(|| {
        Error::bad_request(format!(
            "bedrock/{} is not a supported image model (Stability, Titan Image Generator, Nova Canvas)",
            target.model
        ))
        .with_param("model")
    })?;
    for (p, set) in [
        ("style", req.style.is_some()),
        ("user", req.user.is_some()),
        ("quality", req.quality.is_some() && fam != Family::Titan),
    ] {
        if set {
            refuse_param(target, p)?;
        }
    }
    let size = req.size.as_deref().filter(|s| *s != "auto");
    let dims = match size {
        Some(s) => Some(
            req.dimensions()
                .ok_or_else(|| bad_size(target, s, "expected WIDTHxHEIGHT"))?,
        ),
        None => None,
    };
    let mut body = Map::new();
    match fam {
        Family::StabilityXl => {
            body.put(
                "text_prompts",
                Value::Array(vec![obj([
                    ("text", s(&req.prompt)),
                    ("weight", Value::from(1)),
                ])]),
            );
            if let Some((w, h)) = dims {
                body.put("width", w.into());
                body.put("height", h.into());
            }
            if let Some(n) = req.n {
                body.put("samples", n.into());
            }
            for (k, v) in &req.extra {
                body.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Family::Stability3 => {
            if req.count() > 1 {
                refuse_param(target, "n")?;
            }
            body.put("prompt", Value::String(req.prompt.clone()));
            if let (Some(s), Some((w, h))) = (size, dims) {
                let r = stability_ratio(w, h)
                    .ok_or_else(|| bad_size(target, s, "no Stability aspect ratio matches"))?;
                body.put("aspect_ratio", r.into());
            }
            for (k, v) in &req.extra {
                body.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Family::Titan => {
            let mut params = Map::new();
            params.put("text", Value::String(req.prompt.clone()));
            let mut config = Map::new();
            if let Some(n) = req.n {
                config.put("numberOfImages", n.into());
            }
            if let Some((w, h)) = dims {
                config.put("width", w.into());
                config.put("height", h.into());
            }
            match req.quality.as_deref() {
                Some("hd" | "premium" | "high") => {
                    config.put("quality", "premium".into());
                }
                Some("standard" | "medium" | "low") => {
                    config.put("quality", "standard".into());
                }
                Some("auto") | None => {}
                Some(_) => refuse_param(target, "quality")?,
            }
            for (k, v) in &req.extra {
                match (k.as_str(), v) {
                    ("negativeText", _) => {
                        params.insert(k.clone(), v.clone());
                    }
                    ("imageGenerationConfig", Value::Object(o)) => {
                        config.extend(o.clone());
                    }
                    ("taskType", _) => {}
                    _ => {
                        config.insert(k.clone(), v.clone());
                    }
                }
            }
            body.put("taskType", "TEXT_IMAGE".into());
            body.put("textToImageParams", Value::Object(params));
            if !config.is_empty() {
                body.put("imageGenerationConfig", Value::Object(config));
            }
        }
    }
    invoke::request(target, &Value::Object(body))
}

fn policy(message: String) -> Error {
    Error::new(ErrorKind::ContentPolicyViolation, message)
        .with_status(400)
        .with_provider("bedrock")
}

/// Parses one `InvokeModel` answer.
pub fn response(body: &[u8], target: &Target) -> Result<ImageResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Bedrock: {e}")))?;
    let created = (target.now_ms / 1000) as i64;
    // A loop, not `filter_map(…).collect()`: each such chain is its own copy in the wasm.
    let strings = |v: Option<&Value>| -> Vec<String> {
        let mut out = Vec::new();
        for x in v
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            if let Some(x) = x.as_str() {
                out.push(x.to_string());
            }
        }
        out
    };
    let images = match family(&target.model) {
        Some(Family::StabilityXl) => {
            let artifacts = v
                .get("artifacts")
                .and_then(Value::as_array)
                .ok_or_else(|| Error::decode("Stability answered without `artifacts`"))?;
            let mut out = Vec::new();
            for a in artifacts {
                match a.get("finishReason").and_then(Value::as_str) {
                    Some("CONTENT_FILTERED") => {
                        return Err(policy(
                            "Stability filtered the image (CONTENT_FILTERED)".into(),
                        ))
                    }
                    Some("ERROR") => {
                        return Err(Error::new(
                            ErrorKind::InternalServer,
                            "Stability failed to generate the image",
                        ))
                    }
                    _ => {}
                }
                if let Some(b) = a.get("base64").and_then(Value::as_str) {
                    out.push(b.to_string());
                }
            }
            out
        }
        Some(Family::Stability3) => {
            let reasons = strings(v.get("finish_reasons"));
            if !reasons.is_empty() {
                return Err(policy(reasons.join("; ")));
            }
            strings(v.get("images"))
        }
        Some(Family::Titan) | None => {
            if let Some(e) = v
                .get("error")
                .and_then(Value::as_str)
                .filter(|e| !e.is_empty())
            {
                return Err(policy(e.to_string()));
            }
            strings(v.get("images"))
        }
    };
    if images.is_empty() {
        return Err(Error::decode("Bedrock returned no images"));
    }
    Ok(ImageResponse::from_base64(created, images))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(model: &str) -> Target {
        Target {
            provider: "bedrock".into(),
            model: model.into(),
            api_key: Some(crate::Secret::new("bedrock-api-key")),
            now_ms: 1_700_000_000_000,
            ..Target::default()
        }
    }

    fn req(v: Value) -> ImageRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn bodies_by_family() {
        let r = req(
            json!({"model": "m", "prompt": "a cat", "size": "1024x1024", "n": 2,
            "quality": "hd", "negativeText": "dogs", "seed": 7}),
        );
        let t = target("amazon.titan-image-generator-v2:0");
        assert_eq!(
            request(&r, &t).unwrap().json_body().unwrap(),
            json!({"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a cat", "negativeText": "dogs"},
                "imageGenerationConfig": {"numberOfImages": 2, "width": 1024, "height": 1024,
                    "quality": "premium", "seed": 7}})
        );
        let r = req(json!({"model": "m", "prompt": "a cat", "size": "1024x1024", "cfg_scale": 7}));
        assert_eq!(
            request(&r, &target("stability.stable-diffusion-xl-v1"))
                .unwrap()
                .json_body()
                .unwrap(),
            json!({"text_prompts": [{"text": "a cat", "weight": 1}], "width": 1024, "height": 1024, "cfg_scale": 7})
        );
        let r = req(json!({"model": "m", "prompt": "a cat", "size": "1792x1024"}));
        let e = request(&r, &target("stability.sd3-5-large-v1:0")).unwrap_err();
        assert_eq!(e.param(), Some("size"));
        let r = req(
            json!({"model": "m", "prompt": "a cat", "size": "1920x1080", "output_format": "png"}),
        );
        assert_eq!(
            request(&r, &target("stability.stable-image-ultra-v1:1"))
                .unwrap()
                .json_body()
                .unwrap(),
            json!({"prompt": "a cat", "aspect_ratio": "16:9", "output_format": "png"})
        );
        assert!(request(&r, &target("amazon.titan-embed-text-v2:0")).is_err());
    }

    #[test]
    fn responses_and_filters() {
        let t3 = target("stability.sd3-large-v1:0");
        let ok = response(
            br#"{"seeds": [1], "finish_reasons": [null], "images": ["AA=="]}"#,
            &t3,
        )
        .unwrap();
        assert_eq!(ok.data[0].b64_json.as_deref(), Some("AA=="));
        assert_eq!(ok.created, 1_700_000_000);
        let e = response(
            br#"{"seeds": [1], "finish_reasons": ["Filter reason: prompt"], "images": []}"#,
            &t3,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ContentPolicyViolation);
        let xl = target("stability.stable-diffusion-xl-v1");
        let e = response(br#"{"result": "success", "artifacts": [{"seed": 1, "base64": "AA==", "finishReason": "CONTENT_FILTERED"}]}"#, &xl)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ContentPolicyViolation);
        let titan = target("amazon.nova-canvas-v1:0");
        assert_eq!(
            response(br#"{"images": ["AA==", "AQ=="], "error": null}"#, &titan)
                .unwrap()
                .data
                .len(),
            2
        );
        assert_eq!(
            response(br#"{"images": []}"#, &titan).unwrap_err().kind(),
            ErrorKind::Decode
        );
    }
}
