//! The OpenAI embeddings request and response (`POST /v1/embeddings`).
//!
//! API reference: <https://platform.openai.com/docs/api-reference/embeddings>

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::fields::{deserialize_with_fields, Built, Fields, FromFields, FromValue};
use super::untagged::{no_variant, untagged, variant};

use super::Usage;

/// `POST /v1/embeddings` body.
///
/// ```
/// let r: edgellm::types::EmbeddingRequest = serde_json::from_value(serde_json::json!({
///     "model": "openai/text-embedding-3-small", "input": ["a", "b"], "dimensions": 256
/// })).unwrap();
/// assert_eq!(r.input.texts().unwrap(), vec!["a", "b"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EmbeddingRequest {
    /// `provider/model`, a bare well-known model name, or a router alias.
    pub model: String,
    /// What to embed: one string, several, or token ids.
    pub input: EmbeddingInput,
    /// `float` (default) or `base64` (little-endian f32, as OpenAI encodes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<String>,
    /// Output dimensions (models that can shorten their vectors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Provider-specific fields (`input_type`, `task_type`, `truncate`, …), forwarded or mapped
    /// per provider.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbeddingRequest {
    /// A request for `model` embedding `texts`.
    pub fn new(model: impl Into<String>, texts: &[&str]) -> Self {
        Self {
            model: model.into(),
            input: EmbeddingInput::Many(texts.iter().map(|s| s.to_string()).collect()),
            encoding_format: None,
            dimensions: None,
            user: None,
            extra: Map::new(),
        }
    }

    /// Whether the caller asked for base64-encoded vectors.
    pub fn wants_base64(&self) -> bool {
        self.encoding_format.as_deref() == Some("base64")
    }

    /// A string field from `extra` (e.g. `input_type`).
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        self.extra.get(key).and_then(Value::as_str)
    }
}

/// The `input` of an embeddings request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One text.
    One(String),
    /// Several texts (one vector each, in order).
    Many(Vec<String>),
    /// One pre-tokenized input.
    Tokens(Vec<u32>),
    /// Several pre-tokenized inputs.
    ManyTokens(Vec<Vec<u32>>),
}

impl<'de> Deserialize<'de> for EmbeddingInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for EmbeddingInput {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::String(s) => Some(Self::One(s)),
            v => variant(&v)
                .map(Self::Many)
                .or_else(|| variant(&v).map(Self::Tokens))
                .or_else(|| variant(&v).map(Self::ManyTokens)),
        }
        .ok_or_else(|| no_variant("EmbeddingInput"))
    }
}

impl EmbeddingInput {
    /// How many vectors the request asks for.
    pub fn len(&self) -> usize {
        match self {
            Self::One(_) | Self::Tokens(_) => 1,
            Self::Many(v) => v.len(),
            Self::ManyTokens(v) => v.len(),
        }
    }

    /// Whether there is nothing to embed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The inputs as texts, or `None` for token-id inputs (which only OpenAI-format servers
    /// accept).
    pub fn texts(&self) -> Option<Vec<&str>> {
        match self {
            Self::One(s) => Some(vec![s.as_str()]),
            Self::Many(v) => Some(v.iter().map(String::as_str).collect()),
            Self::Tokens(_) | Self::ManyTokens(_) => None,
        }
    }

    /// The inputs `start..end` (by vector), keeping the variant's kind.
    pub fn slice(&self, start: usize, end: usize) -> Self {
        match self {
            Self::One(s) => Self::Many(vec![s.clone()][start..end].to_vec()),
            Self::Many(v) => Self::Many(v[start..end].to_vec()),
            Self::Tokens(t) => Self::ManyTokens(vec![t.clone()][start..end].to_vec()),
            Self::ManyTokens(v) => Self::ManyTokens(v[start..end].to_vec()),
        }
    }
}

/// `list` of embeddings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EmbeddingResponse {
    /// Always `list`.
    #[serde(default = "list_object")]
    pub object: String,
    /// One entry per input, `index` = input position.
    pub data: Vec<Embedding>,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// Input tokens (`prompt_tokens` = `total_tokens`; `completion_tokens` is 0).
    #[serde(default)]
    pub usage: Usage,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for EmbeddingResponse {
    fn default() -> Self {
        Self {
            object: list_object(),
            data: Vec::new(),
            model: String::new(),
            usage: Usage::default(),
            extra: Map::new(),
        }
    }
}

impl EmbeddingResponse {
    /// A response from vectors in input order, with `prompt_tokens` input tokens.
    pub fn from_vectors(model: &str, vectors: Vec<Vec<f64>>, prompt_tokens: u64) -> Self {
        Self {
            data: vectors
                .into_iter()
                .enumerate()
                .map(|(i, v)| Embedding::new(i as u32, v))
                .collect(),
            model: model.to_string(),
            usage: Usage::new(prompt_tokens, 0),
            ..Self::default()
        }
    }
}

fn list_object() -> String {
    "list".into()
}

fn embedding_object() -> String {
    "embedding".into()
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Embedding {
    /// Always `embedding`.
    #[serde(default = "embedding_object")]
    pub object: String,
    /// Position of the input this vector belongs to.
    #[serde(default)]
    pub index: u32,
    /// The vector.
    pub embedding: EmbeddingVector,
}

impl Embedding {
    /// A float vector at `index`.
    pub fn new(index: u32, values: Vec<f64>) -> Self {
        Self {
            object: embedding_object(),
            index,
            embedding: EmbeddingVector::Float(values),
        }
    }
}

/// A vector as floats or as OpenAI's base64 (little-endian f32 bytes).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum EmbeddingVector {
    /// Floats (`encoding_format: float`).
    Float(Vec<f64>),
    /// Base64 of little-endian f32s (`encoding_format: base64`).
    Base64(String),
}

impl<'de> Deserialize<'de> for EmbeddingVector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for EmbeddingVector {
    fn from_value(v: Value) -> Built<Self> {
        // A string is never a list of floats, so trying it first keeps serde's variant order.
        match v {
            Value::String(s) => Some(Self::Base64(s)),
            v => variant(&v).map(Self::Float),
        }
        .ok_or_else(|| no_variant("EmbeddingVector"))
    }
}

impl FromFields for EmbeddingRequest {
    const NAME: &'static str = "struct EmbeddingRequest";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            model: f.req("model")?,
            input: f.sub_req("input")?,
            encoding_format: f.opt("encoding_format"),
            dimensions: f.opt("dimensions"),
            user: f.opt("user"),
            extra: f.rest(),
        })
    }
}

impl FromFields for EmbeddingResponse {
    const NAME: &'static str = "struct EmbeddingResponse";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            object: f.or_else("object", list_object),
            data: f.sub_req("data")?,
            model: f.or_default("model"),
            usage: f.sub_or_default("usage"),
            extra: f.rest(),
        })
    }
}

impl FromFields for Embedding {
    const NAME: &'static str = "struct Embedding";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            object: f.or_else("object", embedding_object),
            index: f.or_default("index"),
            embedding: f.sub_req("embedding")?,
        })
    }
}

deserialize_with_fields!(EmbeddingRequest, EmbeddingResponse, Embedding);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_shapes_parse() {
        for (v, n) in [
            (json!("a"), 1),
            (json!(["a", "b"]), 2),
            (json!([1, 2, 3]), 1),
            (json!([[1], [2]]), 2),
        ] {
            let i: EmbeddingInput = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(i.len(), n, "{v}");
        }
        let i: EmbeddingInput = serde_json::from_value(json!([1, 2])).unwrap();
        assert!(i.texts().is_none());
        assert_eq!(i.slice(0, 1), EmbeddingInput::ManyTokens(vec![vec![1, 2]]));
    }

    #[test]
    fn response_round_trips() {
        let v = json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -1.0]}],
            "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2}});
        let r: EmbeddingResponse = serde_json::from_value(v).unwrap();
        assert_eq!(r.data[0].embedding, EmbeddingVector::Float(vec![0.5, -1.0]));
        assert_eq!(r.usage.prompt_tokens, 2);
        let out = serde_json::to_value(&r).unwrap();
        assert_eq!(out["data"][0]["embedding"], json!([0.5, -1.0]));
        let b: Embedding =
            serde_json::from_value(json!({"index": 1, "embedding": "AAAAPw=="})).unwrap();
        assert_eq!(b.embedding, EmbeddingVector::Base64("AAAAPw==".into()));
        assert_eq!(b.object, "embedding");
    }
}
