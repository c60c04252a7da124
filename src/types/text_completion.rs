//! The legacy OpenAI completions request and response (`POST /v1/completions`), also used
//! for the stream chunks (same shape, `choices[i].text` holds the new piece).
//!
//! API reference: <https://platform.openai.com/docs/api-reference/completions>

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::fields::{deserialize_with_fields, Built, Fields, FromFields, FromValue};
use super::untagged::{no_variant, untagged, variant};

use super::{FinishReason, Stop, StreamOptions, Usage};

/// `POST /v1/completions` body.
///
/// ```
/// let r: edgellm::types::TextCompletionRequest = serde_json::from_value(serde_json::json!({
///     "model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test", "max_tokens": 7
/// })).unwrap();
/// assert_eq!(r.prompt.texts().unwrap(), vec!["Say this is a test"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TextCompletionRequest {
    /// `provider/model`.
    pub model: String,
    /// The prompt(s).
    pub prompt: Prompt,
    /// Server-side best-of sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_of: Option<u32>,
    /// Echo the prompt before the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<bool>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Token id → bias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<Map<String, Value>>,
    /// Number of most likely tokens to return log-probabilities for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<u32>,
    /// Output-token limit (OpenAI's default is 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Choices per prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Stop sequence(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Stream `text_completion` chunks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (`include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Text after the insertion point (fill-in-the-middle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Other fields, forwarded.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TextCompletionRequest {
    /// A request for `model` completing `prompt`.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            prompt: Prompt::One(prompt.into()),
            best_of: None,
            echo: None,
            frequency_penalty: None,
            logit_bias: None,
            logprobs: None,
            max_tokens: None,
            n: None,
            presence_penalty: None,
            seed: None,
            stop: None,
            stream: None,
            stream_options: None,
            suffix: None,
            temperature: None,
            top_p: None,
            user: None,
            extra: Map::new(),
        }
    }

    /// Whether the caller asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the caller asked for usage in the stream.
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

/// `prompt`: text(s) or token ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Prompt {
    /// One prompt.
    One(String),
    /// Several prompts (choices are grouped by prompt: `n` per prompt, in order).
    Many(Vec<String>),
    /// One pre-tokenized prompt.
    Tokens(Vec<u32>),
    /// Several pre-tokenized prompts.
    ManyTokens(Vec<Vec<u32>>),
}

impl<'de> Deserialize<'de> for Prompt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for Prompt {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::String(s) => Some(Self::One(s)),
            v => variant(&v)
                .map(Self::Many)
                .or_else(|| variant(&v).map(Self::Tokens))
                .or_else(|| variant(&v).map(Self::ManyTokens)),
        }
        .ok_or_else(|| no_variant("Prompt"))
    }
}

impl Prompt {
    /// The prompts as texts, or `None` for token ids (only native completions endpoints
    /// accept those).
    pub fn texts(&self) -> Option<Vec<&str>> {
        match self {
            Self::One(s) => Some(vec![s.as_str()]),
            Self::Many(v) => Some(v.iter().map(String::as_str).collect()),
            Self::Tokens(_) | Self::ManyTokens(_) => None,
        }
    }
}

/// `text_completion`: a response, or (with `stream`) one chunk of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TextCompletionResponse {
    /// Response id (same on every chunk of one stream).
    pub id: String,
    /// Always `text_completion`.
    #[serde(default = "text_completion_object")]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// The choices (stream: the new text of each).
    #[serde(default)]
    pub choices: Vec<TextChoice>,
    /// Token usage (stream: on the last chunk when asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for TextCompletionResponse {
    fn default() -> Self {
        Self {
            id: String::new(),
            object: text_completion_object(),
            created: 0,
            model: String::new(),
            choices: Vec::new(),
            usage: None,
            system_fingerprint: None,
            extra: Map::new(),
        }
    }
}

fn text_completion_object() -> String {
    "text_completion".into()
}

/// One choice.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TextChoice {
    /// The generated text (stream: the new piece).
    #[serde(default)]
    pub text: String,
    /// Position.
    #[serde(default)]
    pub index: u32,
    /// Log-probabilities (`null` when not asked for).
    #[serde(default)]
    pub logprobs: Option<Value>,
    /// Why generation stopped (`null` until the choice's last chunk).
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
}

impl FromFields for TextCompletionRequest {
    const NAME: &'static str = "struct TextCompletionRequest";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            model: f.req("model")?,
            prompt: f.sub_req("prompt")?,
            best_of: f.opt("best_of"),
            echo: f.opt("echo"),
            frequency_penalty: f.opt("frequency_penalty"),
            logit_bias: f.sub_opt("logit_bias"),
            logprobs: f.opt("logprobs"),
            max_tokens: f.opt("max_tokens"),
            n: f.opt("n"),
            presence_penalty: f.opt("presence_penalty"),
            seed: f.opt("seed"),
            stop: f.sub_opt("stop"),
            stream: f.opt("stream"),
            stream_options: f.sub_opt("stream_options"),
            suffix: f.opt("suffix"),
            temperature: f.opt("temperature"),
            top_p: f.opt("top_p"),
            user: f.opt("user"),
            extra: f.rest(),
        })
    }
}

impl FromFields for TextCompletionResponse {
    const NAME: &'static str = "struct TextCompletionResponse";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            id: f.req("id")?,
            object: f.or_else("object", text_completion_object),
            created: f.or_default("created"),
            model: f.or_default("model"),
            choices: f.sub_or_default("choices"),
            usage: f.sub_opt("usage"),
            system_fingerprint: f.opt("system_fingerprint"),
            extra: f.rest(),
        })
    }
}

impl FromFields for TextChoice {
    const NAME: &'static str = "struct TextChoice";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            text: f.or_default("text"),
            index: f.or_default("index"),
            logprobs: f.sub_opt("logprobs"),
            finish_reason: f.opt("finish_reason"),
        })
    }
}

deserialize_with_fields!(TextCompletionRequest, TextCompletionResponse, TextChoice);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prompt_shapes_parse() {
        let p: Prompt = serde_json::from_value(json!(["a", "b"])).unwrap();
        assert_eq!(p.texts().unwrap(), vec!["a", "b"]);
        let p: Prompt = serde_json::from_value(json!([1, 2])).unwrap();
        assert!(p.texts().is_none());
    }

    #[test]
    fn response_keeps_nulls() {
        let v = json!({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
            "choices": [{"text": "hi", "index": 0, "logprobs": null, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}});
        let r: TextCompletionResponse = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }
}
