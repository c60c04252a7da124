//! `rerank`: Cohere's request and response shape across providers.

use crate::host::{Env, Host};
use crate::options::CallOptions;
use crate::types::{RerankRequest, RerankResponse, RerankedDocument};
use crate::Result;

use super::{call_once, mock, Generation};

/// Ranks `req.documents` against `req.query`, with retries. Results are most relevant first;
/// with `return_documents: true` every result carries its document's text, filled from the
/// request when the provider does not echo it (Cohere v2 never does). A response without an
/// id gets one (`rerank-…`) from the host's randomness.
pub async fn rerank<H: Host>(
    host: &H,
    env: &dyn Env,
    req: RerankRequest,
    opts: CallOptions,
) -> Result<Generation<RerankResponse>> {
    let start_ms = host.now_ms();
    if let Some(m) = &opts.mock_response {
        return mock(m, &req.model, "rerank", start_ms, host.now_ms());
    }
    let build = |p: &dyn crate::provider::Provider, t: &_| p.rerank_request(&req, t);
    let sent = call_once(host, env, &req.model, &opts, start_ms, &build).await?;
    let response = sent.parse(|body| sent.provider.rerank_response(body, &req, &sent.target))?;
    let mut meta = sent.meta;
    let response = complete(response, &req, || crate::engine::new_id(host, "rerank"));
    meta.end_ms = host.now_ms();
    Ok(Generation { response, meta })
}

/// Fills what the caller asked for and the provider left out: the id and the documents.
fn complete(
    mut response: RerankResponse,
    req: &RerankRequest,
    new_id: impl FnOnce() -> String,
) -> RerankResponse {
    if response.id.is_empty() {
        response.id = new_id();
    }
    if req.wants_documents() {
        for r in &mut response.results {
            if r.document.is_none() {
                if let Some(d) = req.documents.get(r.index as usize) {
                    r.document = Some(RerankedDocument { text: d.as_text() });
                }
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::testing::MockHost;
    use futures_executor::block_on;
    use serde_json::json;

    #[test]
    fn documents_are_filled_and_ids_made() {
        let resp: RerankResponse = serde_json::from_value(json!({"results": [
            {"index": 1, "relevance_score": 0.9},
            {"index": 0, "relevance_score": 0.1, "document": {"text": "kept"}}]}))
        .unwrap();
        let mut req: RerankRequest = serde_json::from_value(json!({"model": "m", "query": "q",
            "documents": ["a", {"text": "b"}], "return_documents": true}))
        .unwrap();
        let out = complete(resp.clone(), &req, || "rerank-1".into());
        assert_eq!(out.id, "rerank-1");
        assert_eq!(out.results[0].document.as_ref().unwrap().text, "b");
        assert_eq!(out.results[1].document.as_ref().unwrap().text, "kept");
        req.return_documents = None;
        let out = complete(resp, &req, || "x".into());
        assert!(out.results[0].document.is_none());
    }

    #[test]
    fn rows_without_rerank_refuse_before_sending() {
        let host = MockHost::new();
        let req: RerankRequest =
            serde_json::from_value(json!({"model": "openai_like/bge-reranker",
            "query": "q", "documents": ["a"]}))
            .unwrap();
        let opts = CallOptions {
            api_base: Some("http://127.0.0.1:1/v1".into()),
            ..CallOptions::default()
        };
        let e = block_on(rerank(&host, &NoEnv, req, opts)).unwrap_err();
        assert_eq!(
            e.message(),
            "provider `openai_like` does not support rerank"
        );
        assert!(host.requests.borrow().is_empty());
    }
}
