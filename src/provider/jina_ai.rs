//! Jina AI: embeddings and rerank (no chat).
//!
//! - Model strings: `jina_ai/<model>` (`jina_ai/jina-embeddings-v3`,
//!   `jina_ai/jina-reranker-v2-base-multilingual`).
//! - Key: `api_key`, else `JINA_AI_API_KEY` (LiteLLM's name; `JINA_AI_TOKEN` too), sent as
//!   `Authorization: Bearer`. Base: `api_base`, `JINA_AI_API_BASE`, else
//!   `https://api.jina.ai/v1`.
//! - Embeddings: `POST {base}/embeddings`, OpenAI-shaped except that Jina names its output
//!   encoding `embedding_type`; `encoding_format` is therefore not sent and base64 is produced
//!   from the floats (OpenAI's encoding). `dimensions`, `task`, `late_chunking`, `normalized`
//!   pass through (LiteLLM supports `dimensions` only, and forwards extras).
//! - Rerank: `POST {base}/rerank`, Cohere's field names; results are Cohere-shaped with
//!   `document` as `{text}` or a string; `usage.total_tokens` is billed.
//!
//! API reference: <https://jina.ai/embeddings/>, <https://jina.ai/reranker/>.

use serde_json::{Map, Value};

use super::openai_format::{
    detail_error, parse_typed, refuse_param, require_texts, rerank_response, NoChatStream,
};
use super::{unsupported, Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::http::{Headers, HttpRequest};
use crate::provider::build::strs;
use crate::types::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, Put, RerankRequest,
    RerankResponse, Usage,
};
use crate::{Error, Result};

/// Default endpoint base.
pub const DEFAULT_BASE: &str = "https://api.jina.ai/v1";

/// The Jina AI provider.
#[derive(Debug, Clone, Copy)]
pub struct JinaAi;

/// The registry's instance.
pub static JINA_AI: JinaAi = JinaAi;

static INFO: ProviderInfo = ProviderInfo {
    id: "jina_ai",
    name: "Jina AI",
    default_base: DEFAULT_BASE,
    env: &["JINA_AI_API_KEY", "JINA_AI_TOKEN", "JINA_AI_API_BASE"],
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

/// Jina's largest `input` list per request.
const MAX_INPUTS: usize = 2048;

impl JinaAi {
    fn post(&self, target: &Target, path: &str, body: &Value) -> Result<HttpRequest> {
        let key = target.require_key("JINA_AI_API_KEY")?;
        let mut http =
            HttpRequest::post_json(format!("{}{path}", target.base_or(DEFAULT_BASE)), body);
        http.set_header("authorization", format!("Bearer {key}"));
        for (k, v) in &target.headers {
            http.set_header(k, v.clone());
        }
        Ok(http)
    }
}

impl Provider for JinaAi {
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
        let texts = require_texts(&req.input, target)?;
        if req.user.is_some() {
            refuse_param(target, "user")?;
        }
        let mut body = Map::new();
        body.put("model", Value::String(target.model.clone()));
        body.put("input", strs(&texts));
        if let Some(d) = req.dimensions {
            body.put("dimensions", d.into());
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
        let prompt = r.usage.prompt_tokens.max(r.usage.total_tokens);
        r.usage = Usage::new(prompt, 0);
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
        body.put("model", Value::String(target.model.clone()));
        body.put("query", Value::String(req.query.clone()));
        body.put("documents", strs(&req.document_texts()));
        if let Some(n) = req.top_n {
            body.put("top_n", n.into());
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
        rerank_response(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    fn target() -> Target {
        Target {
            provider: "jina_ai".into(),
            model: "jina-embeddings-v3".into(),
            api_key: Some(crate::Secret::new("jina_test")),
            ..Target::default()
        }
    }

    #[test]
    fn encoding_format_is_left_to_the_engine() {
        let mut req = EmbeddingRequest::new("jina_ai/jina-embeddings-v3", &["a"]);
        req.encoding_format = Some("base64".into());
        req.extra.insert("task".into(), json!("retrieval.query"));
        let http = JinaAi.embedding_request(&req, &target()).unwrap();
        assert_eq!(http.url, "https://api.jina.ai/v1/embeddings");
        assert_eq!(
            http.json_body().unwrap(),
            json!({"model": "jina-embeddings-v3", "input": ["a"], "task": "retrieval.query"})
        );
        req.input = crate::types::EmbeddingInput::Tokens(vec![1]);
        assert_eq!(
            JinaAi
                .embedding_request(&req, &target())
                .unwrap_err()
                .param(),
            Some("input")
        );
    }

    #[test]
    fn rerank_refuses_cohere_only_fields() {
        let mut req: RerankRequest = serde_json::from_value(
            json!({"model": "m", "query": "q", "documents": ["a"], "max_tokens_per_doc": 10}),
        )
        .unwrap();
        let e = JinaAi.rerank_request(&req, &target()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedParams);
        req.max_tokens_per_doc = None;
        let http = JinaAi.rerank_request(&req, &target()).unwrap();
        assert_eq!(http.url, "https://api.jina.ai/v1/rerank");
    }
}
