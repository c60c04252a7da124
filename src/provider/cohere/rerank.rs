//! Cohere v2 Rerank: `POST {base}/rerank` (URL rules as for embed).
//!
//! `documents` are strings (structured documents are sent as their `text`, else as compact
//! JSON, as Cohere's v2 docs advise), `top_n`, `max_tokens_per_doc`; v1's `rank_fields` /
//! `max_chunks_per_doc` and `return_documents` do not exist in v2 (the engine fills documents
//! in when asked). The response is already Cohere's shape.
//!
//! API reference: <https://docs.cohere.com/v2/reference/rerank>.

use serde_json::{Map, Value};

use super::super::openai_format::refuse_param;
use super::embed::post;
use crate::http::HttpRequest;
use crate::provider::build::strs;
use crate::provider::Target;
use crate::types::{Put, RerankRequest};
use crate::Result;

/// The v2 rerank request.
pub fn request(req: &RerankRequest, target: &Target) -> Result<HttpRequest> {
    for (p, set) in [
        ("rank_fields", req.rank_fields.is_some()),
        ("max_chunks_per_doc", req.max_chunks_per_doc.is_some()),
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
    if let Some(n) = req.max_tokens_per_doc {
        body.put("max_tokens_per_doc", n.into());
    }
    for (k, v) in &req.extra {
        body.entry(k.clone()).or_insert_with(|| v.clone());
    }
    post(target, "rerank", &Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target {
            provider: "cohere".into(),
            model: "rerank-v3.5".into(),
            api_key: Some(crate::Secret::new("co-test")),
            ..Target::default()
        }
    }

    #[test]
    fn rerank_refuses_v1_fields() {
        let req: RerankRequest = serde_json::from_value(
            json!({"model": "m", "query": "q", "documents": ["a"], "rank_fields": ["text"]}),
        )
        .unwrap();
        let e = request(&req, &target()).unwrap_err();
        assert_eq!(e.param(), Some("rank_fields"));
    }

    #[test]
    fn documents_are_texts() {
        let req: RerankRequest = serde_json::from_value(json!({"model": "m", "query": "q",
            "documents": ["a", {"text": "b", "id": 1}, {"title": "t"}], "top_n": 2, "return_documents": true}))
        .unwrap();
        let http = request(&req, &target()).unwrap();
        assert_eq!(http.url, "https://api.cohere.com/v2/rerank");
        assert_eq!(
            http.json_body().unwrap(),
            json!({"model": "rerank-v3.5", "query": "q", "documents": ["a", "b", "{\"title\":\"t\"}"], "top_n": 2})
        );
    }
}
