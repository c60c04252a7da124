//! Voyage AI: embeddings and rerank (no chat).
//!
//! - Model strings: `voyage/<model>` (`voyage/voyage-3.5`, `voyage/rerank-2.5`).
//! - Key: `api_key`, else `VOYAGE_API_KEY` (LiteLLM also reads `VOYAGE_AI_API_KEY`,
//!   `VOYAGE_AI_TOKEN`), sent as `Authorization: Bearer`.
//! - Embeddings: `POST {base}/embeddings`; OpenAI's `dimensions` is Voyage's
//!   `output_dimension` (LiteLLM's mapping); `encoding_format: base64` is Voyage's own (NumPy
//!   float32 bytes, OpenAI's encoding); `input_type`, `truncation`, `output_dtype` pass through.
//!   Usage has only `total_tokens`, which is all input.
//! - Rerank: `POST {base}/rerank` with `top_k` for Cohere's `top_n`; results come in `data`.
//!
//! API reference: <https://docs.voyageai.com/reference/embeddings-api>,
//! <https://docs.voyageai.com/reference/reranker-api>.

use serde_json::{Map, Value};

use super::openai_format::{
    detail_error, parse_typed, refuse_param, require_texts, rerank_result, NoChatStream,
};
use super::{unsupported, Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::http::{Headers, HttpRequest};
use crate::provider::build::strs;
use crate::types::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Put, RerankMeta, RerankRequest,
    RerankResponse, Usage,
};
use crate::{Error, Result};

/// Default endpoint base.
pub const DEFAULT_BASE: &str = "https://api.voyageai.com/v1";

/// The Voyage AI provider.
#[derive(Debug, Clone, Copy)]
pub struct Voyage;

/// The registry's instance.
pub static VOYAGE: Voyage = Voyage;

static INFO: ProviderInfo = ProviderInfo {
    id: "voyage",
    name: "Voyage AI",
    default_base: DEFAULT_BASE,
    env: &[
        "VOYAGE_API_KEY",
        "VOYAGE_AI_API_KEY",
        "VOYAGE_AI_TOKEN",
        "VOYAGE_API_BASE",
    ],
    auth: "Bearer",
    caps: Capabilities {
        chat: false,
        stream: false,
        tools: false,
        vision: false,
        embeddings: true,
        images: false,
        text_completion: &[],
        moderation: false,
        rerank: true,
    },
};

/// Voyage's largest `input` list.
const MAX_INPUTS: usize = 1000;

impl Voyage {
    fn post(&self, target: &Target, path: &str, body: &Value) -> Result<HttpRequest> {
        let key = target.require_key("VOYAGE_API_KEY")?;
        let base = target.base_or(DEFAULT_BASE);
        // LiteLLM accepts a base that already names the endpoint.
        let url = if base.ends_with(path) {
            base.to_string()
        } else {
            format!("{base}{path}")
        };
        let mut http = HttpRequest::post_json(url, body);
        http.set_header("authorization", format!("Bearer {key}"));
        for (k, v) in &target.headers {
            http.set_header(k, v.clone());
        }
        Ok(http)
    }
}

impl Provider for Voyage {
    fn info(&self) -> &ProviderInfo {
        &INFO
    }

    fn supported_params(&self, _model: &str) -> Vec<&'static str> {
        Vec::new()
    }

    fn chat_request(&self, _req: &ChatRequest, _target: &Target) -> Result<HttpRequest> {
        Err(unsupported(&INFO, "chat completions"))
    }

    fn chat_response(&self, _b: &[u8], _r: &ChatRequest, _t: &Target) -> Result<ChatResponse> {
        Err(unsupported(&INFO, "chat completions"))
    }

    fn stream_decoder(&self, _req: &ChatRequest, _target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(NoChatStream)
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        detail_error(status, headers, body)
    }

    fn embedding_batch_size(&self, _req: &EmbeddingRequest, _target: &Target) -> Option<usize> {
        Some(MAX_INPUTS)
    }

    fn embedding_request(&self, req: &EmbeddingRequest, target: &Target) -> Result<HttpRequest> {
        require_texts(&req.input, target)?;
        if req.user.is_some() {
            refuse_param(target, "user")?;
        }
        let mut body = Map::new();
        body.put("input", crate::types::to_value_via_text(&req.input)?);
        body.put("model", Value::String(target.model.clone()));
        if let Some(d) = req.dimensions {
            body.put("output_dimension", d.into());
        }
        if let Some(f) = &req.encoding_format {
            body.put("encoding_format", Value::String(f.clone()));
        }
        for (k, v) in &req.extra {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self.post(target, "/embeddings", &Value::Object(body))
    }

    fn embedding_response(
        &self,
        body: &[u8],
        _req: &EmbeddingRequest,
        target: &Target,
    ) -> Result<EmbeddingResponse> {
        let mut r: EmbeddingResponse = parse_typed(body, "embeddings")?;
        // Voyage reports only `total_tokens`; embeddings have no output tokens.
        let total = r.usage.total_tokens.max(r.usage.prompt_tokens);
        r.usage = Usage::new(total, 0);
        if r.model.is_empty() {
            r.model = target.model.clone();
        }
        Ok(r)
    }

    fn rerank_request(&self, req: &RerankRequest, target: &Target) -> Result<HttpRequest> {
        for (p, set) in [
            ("rank_fields", req.rank_fields.is_some()),
            ("max_chunks_per_doc", req.max_chunks_per_doc.is_some()),
            ("max_tokens_per_doc", req.max_tokens_per_doc.is_some()),
        ] {
            if set {
                refuse_param(target, p)?;
            }
        }
        let mut body = Map::new();
        body.put("query", Value::String(req.query.clone()));
        body.put("documents", strs(&req.document_texts()));
        body.put("model", Value::String(target.model.clone()));
        if let Some(n) = req.top_n {
            body.put("top_k", n.into());
        }
        if let Some(d) = req.return_documents {
            body.put("return_documents", d.into());
        }
        for (k, v) in &req.extra {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self.post(target, "/rerank", &Value::Object(body))
    }

    fn rerank_response(
        &self,
        body: &[u8],
        _req: &RerankRequest,
        _target: &Target,
    ) -> Result<RerankResponse> {
        let v: Map<String, Value> = parse_typed(body, "rerank")?;
        let data = v
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::decode("Voyage rerank response has no `data` array"))?;
        Ok(RerankResponse {
            id: v
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            results: data.iter().map(rerank_result).collect::<Result<_>>()?,
            meta: v
                .get("usage")
                .and_then(|u| u.get("total_tokens"))
                .and_then(Value::as_u64)
                .map(RerankMeta::from_tokens),
            extra: Map::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn target() -> Target {
        Target {
            provider: "voyage".into(),
            model: "voyage-3.5".into(),
            api_key: Some(crate::Secret::new("pa-test")),
            ..Target::default()
        }
    }

    #[test]
    fn dimensions_become_output_dimension() {
        let mut req = EmbeddingRequest::new("voyage/voyage-3.5", &["a"]);
        req.dimensions = Some(256);
        req.extra.insert("input_type".into(), json!("query"));
        let http = Voyage.embedding_request(&req, &target()).unwrap();
        assert_eq!(http.url, "https://api.voyageai.com/v1/embeddings");
        assert_eq!(
            http.json_body().unwrap(),
            json!({"input": ["a"], "model": "voyage-3.5", "output_dimension": 256, "input_type": "query"})
        );
        req.user = Some("u".into());
        let e = Voyage.embedding_request(&req, &target()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedParams);
        assert!(Voyage
            .chat_request(&ChatRequest::user("voyage/x", "hi"), &target())
            .is_err());
    }

    #[test]
    fn errors_read_detail() {
        let e = Voyage.error(
            401,
            &vec![],
            br#"{"detail": "Provided API key is invalid."}"#,
        );
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(e.message(), "Provided API key is invalid.");
    }
}
