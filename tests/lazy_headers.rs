//! Response headers a host hands over lazily (`HttpResponse::lazy`, as the wasm `fetch` host
//! does): read exactly where something needs them (error mapping, `Retry-After`, Bedrock's
//! token-count header) and never for a 2xx chat answer.

use std::cell::Cell;
use std::rc::Rc;

use edgellm::engine;
use edgellm::host::{Host, NoEnv};
use edgellm::http::{HttpRequest, HttpResponse};
use edgellm::modality;
use edgellm::testing::{MockHost, Reply};
use edgellm::{CallOptions, ChatRequest, ErrorKind};
use futures_executor::block_on;
use serde_json::json;

/// [`MockHost`] whose responses read their headers through a source that counts its calls.
struct LazyHost {
    inner: MockHost,
    reads: Rc<Cell<u32>>,
}

impl LazyHost {
    fn new(replies: Vec<Reply>) -> Self {
        let inner = MockHost::new();
        for r in replies {
            inner.push(r);
        }
        Self {
            inner,
            reads: Rc::new(Cell::new(0)),
        }
    }
}

impl Host for LazyHost {
    async fn send(&self, req: HttpRequest, t: Option<u64>) -> edgellm::Result<HttpResponse> {
        let resp = self.inner.send(req, t).await?;
        let headers = resp.headers().clone();
        let reads = self.reads.clone();
        Ok(HttpResponse::lazy(
            resp.status,
            Box::new(move || {
                reads.set(reads.get() + 1);
                headers
            }),
            resp.body,
        ))
    }
    async fn sleep(&self, ms: u64) {
        self.inner.sleep(ms).await
    }
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
    fn random(&self) -> f64 {
        self.inner.random()
    }
}

fn chat_ok() -> Reply {
    Reply::json(
        200,
        &json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
        }),
    )
}

fn opts(retries: u32) -> CallOptions {
    CallOptions {
        api_key: Some(edgellm::options::Secret::new("sk-test-1")),
        num_retries: Some(retries),
        ..Default::default()
    }
}

#[test]
fn a_lazy_source_is_read_once_and_only_when_asked() {
    let reads = Rc::new(Cell::new(0));
    let r = reads.clone();
    let resp = HttpResponse::lazy(
        200,
        Box::new(move || {
            r.set(r.get() + 1);
            vec![("retry-after".into(), "2".into())]
        }),
        Box::pin(futures_util::stream::empty()),
    );
    assert_eq!(reads.get(), 0);
    assert_eq!(edgellm::http::retry_after_ms(resp.headers()), Some(2000));
    assert_eq!(resp.headers().len(), 1);
    assert_eq!(reads.get(), 1);
    assert!(format!("{resp:?}").contains("retry-after"));
}

#[test]
fn a_2xx_chat_answer_never_reads_the_headers() {
    let host = LazyHost::new(vec![chat_ok(), chat_ok()]);
    let req = || ChatRequest::user("openai/gpt-4o", "Hello");
    let c = block_on(engine::completion_wire(&host, &NoEnv, req(), opts(0))).unwrap();
    assert_eq!(c.usage.unwrap().total_tokens, 4);
    let c = block_on(engine::completion(&host, &NoEnv, req(), opts(0))).unwrap();
    assert_eq!(c.response.model, "gpt-4o");
    assert_eq!(host.reads.get(), 0);
}

#[test]
fn retry_after_of_a_lazy_429_is_honoured() {
    let limited = Reply::Response {
        status: 429,
        headers: vec![("retry-after".into(), "3".into())],
        pieces: vec![br#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#.to_vec()],
    };
    let host = LazyHost::new(vec![limited.clone(), chat_ok()]);
    let req = ChatRequest::user("openai/gpt-4o", "Hello");
    let c = block_on(engine::completion_wire(&host, &NoEnv, req, opts(1))).unwrap();
    assert_eq!(c.meta.attempts, 2);
    assert_eq!(*host.inner.sleeps.borrow(), vec![3000]);
    assert_eq!(host.reads.get(), 1);

    // Without retries the error carries it to the caller.
    let host = LazyHost::new(vec![limited]);
    let req = ChatRequest::user("openai/gpt-4o", "Hello");
    let e = block_on(engine::completion(&host, &NoEnv, req, opts(0))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.retry_after_ms(), Some(3000));
}

#[test]
fn bedrock_embedding_token_count_is_read_from_lazy_headers() {
    let reply = Reply::Response {
        status: 200,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-amzn-bedrock-input-token-count".into(), "9".into()),
        ],
        pieces: vec![serde_json::to_vec(&json!({
            "embeddings": [[0.021, -0.034]], "id": "x", "response_type": "embeddings_floats",
            "texts": ["what is bedrock?"]
        }))
        .unwrap()],
    };
    let host = LazyHost::new(vec![reply]);
    let (req, o) = modality::parse_embedding(json!({
        "model": "bedrock/cohere.embed-english-v3",
        "input": ["What is Bedrock?"],
        "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_region_name": "eu-west-1"
    }))
    .unwrap();
    let g = block_on(modality::embedding(&host, &NoEnv, req, o)).unwrap();
    assert_eq!(g.response.usage.prompt_tokens, 9);
    assert_eq!(host.reads.get(), 1);
}
