//! Bedrock embeddings through `InvokeModel`, by model family:
//!
//! | model | body | inputs per request |
//! | --- | --- | --- |
//! | `amazon.titan-embed-text-v2:0` | `{inputText, dimensions?, normalize?, embeddingTypes?}` | 1 |
//! | `amazon.titan-embed-text-v1`, `amazon.titan-embed-g1-text-02` | `{inputText}` | 1 |
//! | `amazon.titan-embed-image-v1` (text only) | `{inputText, embeddingConfig?: {outputEmbeddingLength}}` | 1 |
//! | `cohere.embed-*` | `{texts, input_type, truncate?, embedding_types?, output_dimension?}` | 96 |
//!
//! Titan takes one text per call, so a batch becomes one request per input (as in LiteLLM),
//! joined in order by the engine with summed `inputTextTokenCount`. Cohere's `input_type`
//! defaults to `search_document` (LiteLLM's `COHERE_DEFAULT_EMBEDDING_INPUT_TYPE`). Cohere on
//! Bedrock reports no token counts in the body; usage then comes from the
//! `X-Amzn-Bedrock-Input-Token-Count` response header.
//! `encoding_format: base64` is produced from the floats by the engine (LiteLLM asks Titan for
//! `binary` embeddings instead, which are 1-bit quantized, not OpenAI's base64 floats).
//!
//! References: <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html>,
//! <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html>.

use serde_json::{Map, Value};

use super::super::openai_format::{refuse_param, require_texts};
use super::{base_model, invoke};
use crate::http::{header, Headers, HttpRequest};
use crate::provider::build::{at, obj, parse, strs};
use crate::provider::Target;
use crate::types::{EmbeddingRequest, EmbeddingResponse, Put};
use crate::{Error, Result};

/// Cohere's `input_type` when the caller gives none (LiteLLM's
/// `COHERE_DEFAULT_EMBEDDING_INPUT_TYPE`).
pub const COHERE_DEFAULT_INPUT_TYPE: &str = "search_document";

/// Cohere's largest `texts` list on Bedrock.
const COHERE_MAX_TEXTS: usize = 96;

/// Which request shape a model id takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Titan Text Embeddings V2.
    TitanV2,
    /// Titan Text Embeddings G1 (`v1`, `g1-text-02`).
    TitanG1,
    /// Titan Multimodal Embeddings G1, text input.
    TitanMultimodal,
    /// Cohere Embed v3 / v4.
    Cohere,
}

/// The family of `model`, if it is an embedding model.
pub fn family(model: &str) -> Option<Family> {
    let m = base_model(model);
    if m.starts_with("amazon.titan-embed-text-v2") {
        Some(Family::TitanV2)
    } else if m.starts_with("amazon.titan-embed-text-v1") || m.starts_with("amazon.titan-embed-g1")
    {
        Some(Family::TitanG1)
    } else if m.starts_with("amazon.titan-embed-image") {
        Some(Family::TitanMultimodal)
    } else if m.starts_with("cohere.embed") {
        Some(Family::Cohere)
    } else {
        None
    }
}

fn family_or_err(target: &Target) -> Result<Family> {
    family(&target.model).ok_or_else(|| {
        Error::bad_request(format!(
            "bedrock/{} is not a supported embedding model (Titan Text/Multimodal Embeddings or Cohere Embed)",
            target.model
        ))
        .with_param("model")
        .with_provider("bedrock")
    })
}

/// Inputs per request for `model`.
pub fn batch_size(model: &str) -> usize {
    match family(model) {
        Some(Family::Cohere) => COHERE_MAX_TEXTS,
        _ => 1,
    }
}

/// The upstream request for the (already batched) inputs of `req`.
pub fn request(req: &EmbeddingRequest, target: &Target) -> Result<HttpRequest> {
    let texts = require_texts(&req.input, target)?;
    if req.user.is_some() {
        refuse_param(target, "user")?;
    }
    let fam = family_or_err(target)?;
    let mut body = Map::new();
    match fam {
        Family::TitanV2 | Family::TitanG1 | Family::TitanMultimodal => {
            let [text] = texts.as_slice() else {
                return Err(
                    Error::bad_request("Titan embeddings take one input per request")
                        .with_param("input"),
                );
            };
            body.put("inputText", Value::String(text.to_string()));
            if let Some(d) = req.dimensions {
                match fam {
                    Family::TitanV2 => {
                        body.put("dimensions", d.into());
                    }
                    Family::TitanMultimodal => {
                        body.put(
                            "embeddingConfig",
                            obj([("outputEmbeddingLength", Value::from(d))]),
                        );
                    }
                    _ => refuse_param(target, "dimensions")?,
                }
            }
        }
        Family::Cohere => {
            body.put("texts", strs(&texts));
            let input_type = req
                .extra_str("input_type")
                .unwrap_or(COHERE_DEFAULT_INPUT_TYPE);
            body.put("input_type", Value::String(input_type.into()));
            if let Some(d) = req.dimensions {
                body.put("output_dimension", d.into());
            }
        }
    }
    for (k, v) in &req.extra {
        if k != "input_type" || fam != Family::Cohere {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    invoke::request(target, &Value::Object(body))
}

/// `X-Amzn-Bedrock-Input-Token-Count`: `InvokeModel` reports token counts in headers, the only
/// place Cohere-on-Bedrock usage is given.
pub fn input_tokens_from_headers(headers: &Headers) -> Option<u64> {
    header(headers, "x-amzn-bedrock-input-token-count")?
        .trim()
        .parse()
        .ok()
}

fn floats(v: &Value, what: &str) -> Result<Vec<f64>> {
    serde_json::from_value(v.clone()).map_err(|e| {
        Error::decode(format!(
            "Bedrock embedding `{what}` is not a float list: {e}"
        ))
    })
}

/// Parses one `InvokeModel` answer for the inputs of `req`.
pub fn response(body: &[u8], target: &Target) -> Result<EmbeddingResponse> {
    let v: Value =
        parse(body).map_err(|e| Error::decode(format!("invalid JSON from Bedrock: {e}")))?;
    let fam = family_or_err(target)?;
    let (vectors, tokens) = match fam {
        Family::Cohere => {
            // `embeddings` is a list of vectors, or by type (`{"float": [...]}`) when
            // `embedding_types` was given.
            let e = v
                .get("embeddings")
                .ok_or_else(|| Error::decode("Cohere on Bedrock answered without `embeddings`"))?;
            let list = e.get("float").unwrap_or(e);
            let vectors: Vec<Vec<f64>> = serde_json::from_value(list.clone()).map_err(|err| {
                Error::decode(format!(
                    "Cohere on Bedrock `embeddings` are not float vectors: {err}"
                ))
            })?;
            (vectors, 0)
        }
        _ => {
            let e = at(&v, "/embeddingsByType/float")
                .or_else(|| v.get("embedding"))
                .ok_or_else(|| Error::decode("Titan answered without `embedding`"))?;
            let tokens = v
                .get("inputTextTokenCount")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            (vec![floats(e, "embedding")?], tokens)
        }
    };
    Ok(EmbeddingResponse::from_vectors(
        &target.model,
        vectors,
        tokens,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn target(model: &str) -> Target {
        Target {
            provider: "bedrock".into(),
            model: model.into(),
            api_key: Some(crate::Secret::new("bedrock-api-key")),
            ..Target::default()
        }
    }

    #[test]
    fn families_and_batches() {
        assert_eq!(
            family("amazon.titan-embed-text-v2:0"),
            Some(Family::TitanV2)
        );
        assert_eq!(family("us.cohere.embed-v4:0"), Some(Family::Cohere));
        assert_eq!(family("anthropic.claude-3"), None);
        assert_eq!(batch_size("amazon.titan-embed-text-v1"), 1);
        assert_eq!(batch_size("cohere.embed-english-v3"), 96);
    }

    #[test]
    fn titan_and_cohere_bodies() {
        let t = target("amazon.titan-embed-text-v2:0");
        let mut req = EmbeddingRequest::new("bedrock/amazon.titan-embed-text-v2:0", &["hi"]);
        req.dimensions = Some(256);
        req.extra.insert("normalize".into(), json!(true));
        let http = request(&req, &t).unwrap();
        assert_eq!(
            http.url,
            "https://bedrock-runtime.us-west-2.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke"
        );
        assert_eq!(
            http.json_body().unwrap(),
            json!({"inputText": "hi", "dimensions": 256, "normalize": true})
        );
        let g1 = target("amazon.titan-embed-text-v1");
        assert_eq!(
            request(&req, &g1).unwrap_err().kind(),
            ErrorKind::UnsupportedParams
        );
        let c = target("cohere.embed-english-v3");
        let req = EmbeddingRequest::new("bedrock/cohere.embed-english-v3", &["a", "b"]);
        assert_eq!(
            request(&req, &c).unwrap().json_body().unwrap(),
            json!({"texts": ["a", "b"], "input_type": "search_document"})
        );
        assert_eq!(
            request(&req, &target("meta.llama3")).unwrap_err().param(),
            Some("model")
        );
    }

    #[test]
    fn responses_by_family() {
        let t = target("amazon.titan-embed-text-v2:0");
        let r = response(
            br#"{"embedding": [0.5, 0.25], "inputTextTokenCount": 3}"#,
            &t,
        )
        .unwrap();
        assert_eq!(r.usage.prompt_tokens, 3);
        let by_type = br#"{"embedding": [9.0], "embeddingsByType": {"float": [0.5]}, "inputTextTokenCount": 1}"#;
        assert_eq!(response(by_type, &t).unwrap().data.len(), 1);
        let c = target("cohere.embed-v4:0");
        let r = response(
            br#"{"embeddings": {"float": [[1.0], [2.0]]}, "id": "x"}"#,
            &c,
        )
        .unwrap();
        assert_eq!(r.data[1].index, 1);
        assert!(response(br#"{"embeddings": "x"}"#, &c).is_err());
    }
}
