//! The OpenAI moderation request and response (`POST /v1/moderations`).
//!
//! API reference: <https://platform.openai.com/docs/api-reference/moderations>

use serde::Serialize;
use serde_json::{Map, Value};

use super::fields::{deserialize_with_fields, Built, Fields, FromFields};

/// The model used when the request names none (OpenAI's default).
pub const DEFAULT_MODERATION_MODEL: &str = "omni-moderation-latest";

/// `POST /v1/moderations` body.
///
/// ```
/// let r: edgellm::types::ModerationRequest =
///     serde_json::from_value(serde_json::json!({"input": "hello"})).unwrap();
/// assert_eq!(r.model_or_default(), "omni-moderation-latest");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ModerationRequest {
    /// A string, an array of strings, or an array of `text` / `image_url` parts.
    pub input: Value,
    /// The moderation model (`omni-moderation-latest` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Other fields, forwarded.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ModerationRequest {
    /// The model to use.
    pub fn model_or_default(&self) -> &str {
        self.model
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(DEFAULT_MODERATION_MODEL)
    }
}

/// The moderation verdicts, one per input.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ModerationResponse {
    /// Response id.
    #[serde(default)]
    pub id: String,
    /// The model that judged.
    #[serde(default)]
    pub model: String,
    /// One result per input, in order.
    #[serde(default)]
    pub results: Vec<ModerationResult>,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The verdict for one input.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ModerationResult {
    /// Whether any category was flagged.
    pub flagged: bool,
    /// Category → flagged.
    #[serde(default)]
    pub categories: Map<String, Value>,
    /// Category → score in `[0, 1]`.
    #[serde(default)]
    pub category_scores: Map<String, Value>,
    /// Category → the input types (`text`, `image`) that triggered it (omni models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_applied_input_types: Option<Map<String, Value>>,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FromFields for ModerationRequest {
    const NAME: &'static str = "struct ModerationRequest";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            input: f.sub_req("input")?,
            model: f.opt("model"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ModerationResponse {
    const NAME: &'static str = "struct ModerationResponse";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            id: f.or_default("id"),
            model: f.or_default("model"),
            results: f.sub_or_default("results"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ModerationResult {
    const NAME: &'static str = "struct ModerationResult";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            flagged: f.req("flagged")?,
            categories: f.sub_or_default("categories"),
            category_scores: f.sub_or_default("category_scores"),
            category_applied_input_types: f.sub_opt("category_applied_input_types"),
            extra: f.rest(),
        })
    }
}

deserialize_with_fields!(ModerationRequest, ModerationResponse, ModerationResult);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn response_round_trips() {
        let v = json!({"id": "modr-1", "model": "omni-moderation-2024-09-26", "results": [{
            "flagged": true, "categories": {"violence": true}, "category_scores": {"violence": 0.9},
            "category_applied_input_types": {"violence": ["text"]}}]});
        let r: ModerationResponse = serde_json::from_value(v.clone()).unwrap();
        assert!(r.results[0].flagged);
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}
