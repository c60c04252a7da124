//! The OpenAI image generation request and response (`POST /v1/images/generations`).
//!
//! API reference: <https://platform.openai.com/docs/api-reference/images/create>

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::{deserialize_with_fields, Built, Fields, FromFields};

/// `POST /v1/images/generations` body.
///
/// ```
/// let r: edgellm::types::ImageRequest = serde_json::from_value(serde_json::json!({
///     "model": "openai/dall-e-3", "prompt": "a red fox", "size": "1024x1024"
/// })).unwrap();
/// assert_eq!(r.dimensions(), Some((1024, 1024)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImageRequest {
    /// `provider/model` (OpenAI's default when omitted is `dall-e-2`).
    pub model: String,
    /// What to draw.
    pub prompt: String,
    /// Number of images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// `standard`/`hd` (dall-e-3), `low`/`medium`/`high`/`auto` (gpt-image-1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// `url` or `b64_json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
    /// `WIDTHxHEIGHT` (e.g. `1024x1024`) or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// `vivid` or `natural` (dall-e-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Other fields (`background`, `output_format`, `moderation`, provider extras such as
    /// `negative_prompt`, `seed`, `aspect_ratio`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageRequest {
    /// A request for `n` = 1 image of `prompt`.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            prompt: prompt.into(),
            ..Self::default()
        }
    }

    /// `size` as (width, height), if it is `WIDTHxHEIGHT`.
    pub fn dimensions(&self) -> Option<(u32, u32)> {
        let (w, h) = self.size.as_deref()?.split_once('x')?;
        Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
    }

    /// The number of images asked for (1 when unset).
    pub fn count(&self) -> u32 {
        self.n.unwrap_or(1)
    }

    /// A number field from `extra` (e.g. `seed`).
    pub fn extra_num(&self, key: &str) -> Option<&Value> {
        self.extra.get(key).filter(|v| v.is_number())
    }
}

/// The generated images.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImageResponse {
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// One entry per image.
    #[serde(default)]
    pub data: Vec<ImageData>,
    /// Token usage (gpt-image-1 reports it; other models bill per image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ImageUsage>,
    /// Other fields (`background`, `output_format`, `quality`, `size`), passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageResponse {
    /// Base64 images (`b64_json`), created at `created`.
    pub fn from_base64(created: i64, images: Vec<String>) -> Self {
        Self {
            created,
            data: images
                .into_iter()
                .map(|b| ImageData {
                    b64_json: Some(b),
                    ..ImageData::default()
                })
                .collect(),
            ..Self::default()
        }
    }
}

/// One image.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImageData {
    /// Where to download it (`response_format: url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The image, base64 (`response_format: b64_json`, and providers that only return bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    /// The prompt the model actually used (dall-e-3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// gpt-image-1 token usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ImageUsage {
    /// Input (text and image) tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output image tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Sum.
    #[serde(default)]
    pub total_tokens: u64,
    /// `{text_tokens, image_tokens}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_details: Option<Value>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FromFields for ImageRequest {
    const NAME: &'static str = "struct ImageRequest";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            model: f.req("model")?,
            prompt: f.req("prompt")?,
            n: f.opt("n"),
            quality: f.opt("quality"),
            response_format: f.opt("response_format"),
            size: f.opt("size"),
            style: f.opt("style"),
            user: f.opt("user"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ImageResponse {
    const NAME: &'static str = "struct ImageResponse";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            created: f.or_default("created"),
            data: f.sub_or_default("data"),
            usage: f.sub_opt("usage"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ImageData {
    const NAME: &'static str = "struct ImageData";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            url: f.opt("url"),
            b64_json: f.opt("b64_json"),
            revised_prompt: f.opt("revised_prompt"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ImageUsage {
    const NAME: &'static str = "struct ImageUsage";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            input_tokens: f.or_default("input_tokens"),
            output_tokens: f.or_default("output_tokens"),
            total_tokens: f.or_default("total_tokens"),
            input_tokens_details: f.sub_opt("input_tokens_details"),
            extra: f.rest(),
        })
    }
}

deserialize_with_fields!(ImageRequest, ImageResponse, ImageData, ImageUsage);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn size_parses() {
        let mut r = ImageRequest::new("m", "p");
        assert_eq!(r.dimensions(), None);
        r.size = Some("1792x1024".into());
        assert_eq!(r.dimensions(), Some((1792, 1024)));
        r.size = Some("auto".into());
        assert_eq!(r.dimensions(), None);
        assert_eq!(r.count(), 1);
    }

    #[test]
    fn gpt_image_response_round_trips() {
        let v = json!({"created": 1, "data": [{"b64_json": "AA=="}], "background": "opaque",
            "usage": {"input_tokens": 10, "output_tokens": 4160, "total_tokens": 4170,
                      "input_tokens_details": {"text_tokens": 10, "image_tokens": 0}}});
        let r: ImageResponse = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.usage.as_ref().unwrap().output_tokens, 4160);
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}
