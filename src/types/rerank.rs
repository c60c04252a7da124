//! Rerank request and response in Cohere's shape (LiteLLM's `/rerank` format).
//!
//! API reference: <https://docs.cohere.com/v2/reference/rerank>

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::fields::{deserialize_with_fields, json_text, Built, Fields, FromFields, FromValue};
use super::untagged::{no_variant, untagged};

/// `POST /rerank` body.
///
/// ```
/// let r: edgellm::types::RerankRequest = serde_json::from_value(serde_json::json!({
///     "model": "cohere/rerank-v3.5", "query": "capital of the US?",
///     "documents": ["Carson City is in Nevada.", {"text": "Washington, D.C."}], "top_n": 1
/// })).unwrap();
/// assert_eq!(r.document_texts(), vec!["Carson City is in Nevada.", "Washington, D.C."]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerankRequest {
    /// `provider/model`.
    pub model: String,
    /// The search query.
    pub query: String,
    /// The documents to rank: strings, or objects (`{"text": …}` or fields named by
    /// `rank_fields`).
    pub documents: Vec<RerankDocument>,
    /// How many results to return (all when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_n: Option<u32>,
    /// Include each ranked document in the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_documents: Option<bool>,
    /// Which object fields to rank on (Cohere v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_fields: Option<Vec<String>>,
    /// Chunks per document (Cohere v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chunks_per_doc: Option<u32>,
    /// Tokens per document before truncation (Cohere v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_per_doc: Option<u32>,
    /// Other fields, forwarded.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RerankRequest {
    /// The documents as text: strings as they are, objects by their `text` field or, failing
    /// that, as compact JSON (what Cohere v2 asks callers to do with structured documents).
    pub fn document_texts(&self) -> Vec<String> {
        self.documents.iter().map(RerankDocument::as_text).collect()
    }

    /// Whether the caller wants the documents echoed in the results.
    pub fn wants_documents(&self) -> bool {
        self.return_documents.unwrap_or(false)
    }
}

/// One document to rank.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum RerankDocument {
    /// Plain text.
    Text(String),
    /// A structured document.
    Object(Map<String, Value>),
}

impl<'de> Deserialize<'de> for RerankDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for RerankDocument {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::String(s) => Ok(Self::Text(s)),
            Value::Object(o) => Ok(Self::Object(o)),
            _ => Err(no_variant("RerankDocument")),
        }
    }
}

impl RerankDocument {
    /// The text to rank.
    pub fn as_text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Object(o) => match o.get("text").and_then(Value::as_str) {
                Some(t) => t.to_string(),
                None => json_text(&Value::Object(o.clone())),
            },
        }
    }
}

/// The ranking, best first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerankResponse {
    /// Response id.
    #[serde(default)]
    pub id: String,
    /// Ranked documents, most relevant first.
    #[serde(default)]
    pub results: Vec<RerankResult>,
    /// Billing facts (`billed_units.search_units`, `tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<RerankMeta>,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One ranked document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerankResult {
    /// Position of the document in the request.
    pub index: u32,
    /// Relevance in `[0, 1]` (higher is better).
    pub relevance_score: f64,
    /// The document (`return_documents: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<RerankedDocument>,
}

/// A returned document.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerankedDocument {
    /// Its text.
    pub text: String,
}

/// Cohere's `meta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerankMeta {
    /// `{"version": "2"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<Value>,
    /// What the call is billed on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_units: Option<RerankBilledUnits>,
    /// Token counts, where the provider reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<RerankTokens>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Billing units.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerankBilledUnits {
    /// Cohere search units (one query over up to 100 documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_units: Option<u64>,
    /// Tokens billed (Jina, Voyage, token-priced rerankers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RerankTokens {
    /// Input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
}

impl RerankMeta {
    /// Meta for a provider that bills rerank by tokens.
    pub fn from_tokens(total_tokens: u64) -> Self {
        Self {
            billed_units: Some(RerankBilledUnits {
                total_tokens: Some(total_tokens),
                ..Default::default()
            }),
            tokens: Some(RerankTokens {
                input_tokens: Some(total_tokens),
                output_tokens: Some(0),
            }),
            ..Default::default()
        }
    }
}

impl FromFields for RerankRequest {
    const NAME: &'static str = "struct RerankRequest";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            model: f.req("model")?,
            query: f.req("query")?,
            documents: f.sub_req("documents")?,
            top_n: f.opt("top_n"),
            return_documents: f.opt("return_documents"),
            rank_fields: f.opt("rank_fields"),
            max_chunks_per_doc: f.opt("max_chunks_per_doc"),
            max_tokens_per_doc: f.opt("max_tokens_per_doc"),
            extra: f.rest(),
        })
    }
}

impl FromFields for RerankResponse {
    const NAME: &'static str = "struct RerankResponse";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            id: f.or_default("id"),
            results: f.sub_or_default("results"),
            meta: f.sub_opt("meta"),
            extra: f.rest(),
        })
    }
}

impl FromFields for RerankResult {
    const NAME: &'static str = "struct RerankResult";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            index: f.req("index")?,
            relevance_score: f.req("relevance_score")?,
            document: f.sub_opt("document"),
        })
    }
}

impl FromFields for RerankedDocument {
    const NAME: &'static str = "struct RerankedDocument";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            text: f.req("text")?,
        })
    }
}

impl FromFields for RerankMeta {
    const NAME: &'static str = "struct RerankMeta";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            api_version: f.sub_opt("api_version"),
            billed_units: f.sub_opt("billed_units"),
            tokens: f.sub_opt("tokens"),
            extra: f.rest(),
        })
    }
}

impl FromFields for RerankBilledUnits {
    const NAME: &'static str = "struct RerankBilledUnits";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            search_units: f.opt("search_units"),
            total_tokens: f.opt("total_tokens"),
            extra: f.rest(),
        })
    }
}

impl FromFields for RerankTokens {
    const NAME: &'static str = "struct RerankTokens";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            input_tokens: f.opt("input_tokens"),
            output_tokens: f.opt("output_tokens"),
        })
    }
}

deserialize_with_fields!(
    RerankRequest,
    RerankResponse,
    RerankResult,
    RerankedDocument,
    RerankMeta,
    RerankBilledUnits,
    RerankTokens
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cohere_v2_response_round_trips() {
        let v = json!({"id": "07734bd2", "results": [{"index": 3, "relevance_score": 0.999071},
            {"index": 4, "relevance_score": 0.7867867}],
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}});
        let r: RerankResponse = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.results[1].index, 4);
        assert_eq!(
            r.meta
                .as_ref()
                .unwrap()
                .billed_units
                .as_ref()
                .unwrap()
                .search_units,
            Some(1)
        );
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }

    #[test]
    fn structured_documents_become_text() {
        let d: RerankDocument = serde_json::from_value(json!({"title": "t", "body": "b"})).unwrap();
        assert_eq!(d.as_text(), r#"{"body":"b","title":"t"}"#);
    }
}
