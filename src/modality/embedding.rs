//! `embedding`: one upstream request, or several when the provider caps inputs per request
//! (Bedrock Titan takes one text per call), joined back in input order with summed usage.

use crate::host::{Env, Host};
use crate::options::CallOptions;
use crate::types::{EmbeddingRequest, EmbeddingResponse, EmbeddingVector};
use crate::{Error, Result};

use super::{meta_for, mock, resolve, send_and_parse, Generation};

/// Creates embeddings for `req.input`, with retries per upstream request.
///
/// Vectors come back with `index` = input position whatever the provider's batching, and as
/// base64 (little-endian f32, OpenAI's encoding) when `encoding_format: "base64"` was asked
/// and the provider only returned floats.
pub async fn embedding<H: Host>(
    host: &H,
    env: &dyn Env,
    req: EmbeddingRequest,
    opts: CallOptions,
) -> Result<Generation<EmbeddingResponse>> {
    let start_ms = host.now_ms();
    if let Some(m) = &opts.mock_response {
        return mock(m, &req.model, "embeddings", start_ms, host.now_ms());
    }
    if req.input.is_empty() {
        return Err(Error::bad_request("`input` must not be empty").with_param("input"));
    }
    let (provider, target) = resolve(host, env, &req.model, &opts).await?;
    let mut meta = meta_for(&target, start_ms);
    let total = req.input.len();
    let batch = provider
        .embedding_batch_size(&req, &target)
        .unwrap_or(total)
        .max(1);
    let mut out = EmbeddingResponse::default();
    let mut start = 0;
    while start < total {
        let end = (start + batch).min(total);
        // The request goes out as the caller wrote it unless it has to be cut.
        let part = if start == 0 && end == total {
            req.clone()
        } else {
            EmbeddingRequest {
                input: req.input.slice(start, end),
                ..req.clone()
            }
        };
        let resp = send_and_parse(
            host,
            provider,
            &target,
            &opts,
            &mut meta,
            || provider.embedding_request(&part, &target),
            |headers, body| {
                let mut r = provider.embedding_response(body, &part, &target)?;
                if r.usage.prompt_tokens == 0 {
                    if let Some(n) = provider.input_tokens_from_headers(headers) {
                        r.usage = crate::types::Usage::new(n, 0);
                    }
                }
                Ok(r)
            },
        )
        .await?;
        merge(&mut out, resp, start, end - start)
            .map_err(|e| e.in_context(&target.provider, &target.model))?;
        start = end;
    }
    if out.model.is_empty() {
        out.model = target.model.clone();
    }
    if req.wants_base64() {
        for e in &mut out.data {
            if let EmbeddingVector::Float(v) = &e.embedding {
                e.embedding = EmbeddingVector::Base64(super::base64::encode_f32_le(v));
            }
        }
    }
    meta.end_ms = host.now_ms();
    Ok(Generation {
        response: out,
        meta,
    })
}

/// Appends one batch's vectors (expected: `count`, indices `0..count`) at offset `start`.
fn merge(
    out: &mut EmbeddingResponse,
    mut part: EmbeddingResponse,
    start: usize,
    count: usize,
) -> Result<()> {
    if part.data.len() != count {
        return Err(Error::decode(format!(
            "provider returned {} embeddings for {count} inputs",
            part.data.len()
        )));
    }
    crate::sort::sort_by(&mut part.data, |a, b| a.index.cmp(&b.index));
    for (i, mut e) in part.data.into_iter().enumerate() {
        if e.index as usize != i {
            return Err(Error::decode(format!(
                "provider returned embedding index {} where {i} was expected",
                e.index
            )));
        }
        e.index = (start + i) as u32;
        out.data.push(e);
    }
    if out.model.is_empty() {
        out.model = part.model;
    }
    if start == 0 {
        out.extra = part.extra;
        out.usage = part.usage;
    } else {
        out.usage.prompt_tokens += part.usage.prompt_tokens;
        out.usage.completion_tokens += part.usage.completion_tokens;
        out.usage.total_tokens += part.usage.total_tokens;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::testing::{MockHost, Reply};
    use crate::types::EmbeddingInput;
    use crate::ErrorKind;
    use futures_executor::block_on;
    use serde_json::json;

    fn opts() -> CallOptions {
        CallOptions {
            api_key: Some(crate::Secret::new("sk-test-1")),
            ..CallOptions::default()
        }
    }

    fn openai_reply(vectors: &[(u32, f64)], tokens: u64) -> Reply {
        let data: Vec<_> = vectors
            .iter()
            .map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": [v]}))
            .collect();
        Reply::json(
            200,
            &json!({"object": "list", "data": data, "model": "text-embedding-3-small",
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
        )
    }

    #[test]
    fn out_of_order_indices_are_sorted() {
        let host = MockHost::new().reply(openai_reply(&[(1, 2.0), (0, 1.0)], 4));
        let req = EmbeddingRequest::new("openai/text-embedding-3-small", &["a", "b"]);
        let g = block_on(embedding(&host, &NoEnv, req, opts())).unwrap();
        let v = serde_json::to_value(&g.response).unwrap();
        assert_eq!(v["data"][0]["embedding"], json!([1.0]));
        assert_eq!(v["data"][1]["index"], 1);
        assert_eq!(g.response.usage.prompt_tokens, 4);
        assert_eq!(g.meta.attempts, 1);
        let sent = host.last_request().unwrap().json_body().unwrap();
        assert_eq!(
            sent,
            json!({"model": "text-embedding-3-small", "input": ["a", "b"]})
        );
    }

    #[test]
    fn missing_vectors_are_an_error() {
        let host = MockHost::new().reply(openai_reply(&[(0, 1.0)], 1));
        let req = EmbeddingRequest::new("openai/text-embedding-3-small", &["a", "b"]);
        let e = block_on(embedding(&host, &NoEnv, req, opts())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
        assert_eq!(e.provider(), Some("openai"));
    }

    #[test]
    fn retries_follow_num_retries() {
        let host = MockHost::new()
            .reply(Reply::json(
                429,
                &json!({"error": {"message": "slow", "type": "rate_limit_error"}}),
            ))
            .reply(openai_reply(&[(0, 1.0)], 1));
        let req = EmbeddingRequest::new("openai/text-embedding-3-small", &["a"]);
        let o = CallOptions {
            num_retries: Some(1),
            ..opts()
        };
        let g = block_on(embedding(&host, &NoEnv, req.clone(), o)).unwrap();
        assert_eq!(g.meta.attempts, 2);
        let host = MockHost::new().reply(Reply::json(429, &json!({"error": {"message": "slow"}})));
        let e = block_on(embedding(&host, &NoEnv, req, opts())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(host.requests.borrow().len(), 1);
    }

    #[test]
    fn batches_merge_in_order() {
        let mut out = EmbeddingResponse::default();
        let one = |v: f64, t: u64| EmbeddingResponse::from_vectors("m", vec![vec![v]], t);
        merge(&mut out, one(1.0, 3), 0, 1).unwrap();
        merge(&mut out, one(2.0, 5), 1, 1).unwrap();
        assert_eq!(out.data[1].index, 1);
        assert_eq!(out.data[1].embedding, EmbeddingVector::Float(vec![2.0]));
        assert_eq!((out.usage.prompt_tokens, out.usage.total_tokens), (8, 8));
        assert_eq!(
            merge(&mut out, one(3.0, 1), 2, 2).unwrap_err().kind(),
            ErrorKind::Decode
        );
    }

    #[test]
    fn compatible_rows_send_to_their_base() {
        let host = MockHost::new();
        let mut req = EmbeddingRequest::new("openai_like/m", &["a"]);
        req.input = EmbeddingInput::One("a".into());
        let o = CallOptions {
            api_base: Some("http://127.0.0.1:1/v1".into()),
            ..CallOptions::default()
        };
        let _ = block_on(embedding(&host, &NoEnv, req, o));
        assert_eq!(host.requests.borrow().len(), 1);
        assert_eq!(
            host.requests.borrow()[0].url,
            "http://127.0.0.1:1/v1/embeddings"
        );
    }
}
