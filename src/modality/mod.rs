//! Endpoints beyond chat, in OpenAI's format across providers: embeddings, image generation,
//! legacy text completion (native where the provider has it, else through chat, streaming
//! included), moderation, and rerank (Cohere's shape).
//!
//! Each entry point is the chat engine's loop with another pair of pure provider methods:
//! resolve the model, build the upstream request, send it through the [`Host`] with the same
//! retry policy ([`crate::engine`]), parse. `mock_response` works as for chat: an error name
//! raises that error, an object is returned as the response. A text completion whose request
//! has `stream: true` goes to [`text_completion_stream`]; the parsers leave that choice to the
//! caller, as [`crate::options::parse_chat`] does.
//!
//! | endpoint | providers |
//! | --- | --- |
//! | embeddings | OpenAI-compatible rows with `caps.embeddings` (OpenAI, Azure, Azure AI, Mistral, Together, Fireworks, NVIDIA NIM, DeepInfra, vLLM, LM Studio, llamafile, any `openai_like`), Gemini (`batchEmbedContents`), Vertex AI (`:predict`), Cohere (v2 `/embed`), Bedrock (Titan, Cohere), Ollama (`/api/embed`), Voyage, Jina |
//! | images | OpenAI, Azure, xAI, Together, Vertex AI Imagen, Gemini API Imagen, Bedrock (Stability, Titan, Nova Canvas) |
//! | text completion | native `/completions` for OpenAI's instruct models and vLLM / LM Studio / llamafile / `openai_like`; every chat provider through chat |
//! | moderation | OpenAI |
//! | rerank | Cohere (v2), Jina, Voyage, Together, vLLM |
//!
//! ```
//! use edgellm::{modality, testing::{MockHost, Reply}, host::NoEnv};
//! let host = MockHost::new().reply(Reply::json(200, &serde_json::json!({
//!     "object": "list", "model": "text-embedding-3-small",
//!     "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -1.0]}],
//!     "usage": {"prompt_tokens": 1, "total_tokens": 1}
//! })));
//! let (req, opts) = modality::parse_embedding(serde_json::json!({
//!     "model": "openai/text-embedding-3-small", "input": "hi",
//!     "encoding_format": "base64", "api_key": "sk-test"
//! })).unwrap();
//! let out = futures_executor::block_on(modality::embedding(&host, &NoEnv, req, opts)).unwrap();
//! assert_eq!(serde_json::to_value(&out.response.data[0].embedding).unwrap(), "AAAAPwAAgL8=");
//! ```

pub(crate) mod base64;
mod cost;
mod embedding;
mod image;
mod moderation;
mod parse;
mod rerank;
mod text_completion;

pub use base64::encode_f32_le;
pub use cost::{embedding_cost, image_generation_cost, text_completion_cost};
pub use embedding::embedding;
pub use image::image_generation;
pub use moderation::moderation;
pub use parse::{
    parse_embedding, parse_image_generation, parse_moderation, parse_rerank, parse_text_completion,
    DEFAULT_IMAGE_MODEL,
};
pub use rerank::rerank;
pub use text_completion::{
    chat_request_for, text_completion, text_completion_stream, TextCompletionStream,
    TextStreamCompletion,
};

use serde_json::Value;

use crate::engine::{send_with_retries, CallMeta};
use crate::host::{Env, Host};
use crate::http::{Headers, HttpRequest};
use crate::options::CallOptions;
use crate::provider::{registry, target_for, Provider, Target};
use crate::types::{ChatRequest, FromValue};
use crate::{Error, Result};

/// A finished call: the OpenAI-shaped response and the call facts (for cost, logs, headers).
#[derive(Debug, Clone)]
pub struct Generation<T> {
    /// The response.
    pub response: T,
    /// Call facts.
    pub meta: CallMeta,
}

/// Resolves `model` (a LiteLLM model string) to its provider and target, with credentials
/// that need I/O (Vertex AI access tokens) filled in, as the chat engine does.
pub async fn resolve<H: Host>(
    host: &H,
    env: &dyn Env,
    model: &str,
    opts: &CallOptions,
) -> Result<(&'static dyn Provider, Target)> {
    let (provider, name) = registry::resolve(model, opts.custom_llm_provider.as_deref())?;
    let mut target = target_for(provider, &name, opts, env, host.now_ms())?;
    crate::auth::authorize(host, provider.info().id, &mut target).await?;
    Ok((provider, target))
}

fn meta_for(target: &Target, start_ms: u64) -> CallMeta {
    CallMeta::for_target(target, start_ms)
}

/// `mock_response` for non-chat endpoints: an error name raises the error, an object is the
/// response. Anything else is a BadRequest (there is no text to put in a vector or image).
fn mock<T: FromValue>(
    mock: &Value,
    model: &str,
    what: &str,
    start_ms: u64,
    end_ms: u64,
) -> Result<Generation<T>> {
    let meta = mock_meta(mock, model, what, start_ms, end_ms)?;
    let response = T::from_value(mock.clone()).map_err(|e| {
        Error::bad_request(format!("mock_response is not a valid {what} response: {e}"))
            .with_param("mock_response")
    })?;
    Ok(Generation { response, meta })
}

/// The call facts of a mocked call whose `mock` is a response object, else the mock's error.
/// Not generic: [`mock`]'s per-type part is only the conversion.
fn mock_meta(
    mock: &Value,
    model: &str,
    what: &str,
    start_ms: u64,
    end_ms: u64,
) -> Result<CallMeta> {
    if let Value::Object(_) = mock {
        return Ok(CallMeta::new("mock", model, start_ms, end_ms));
    }
    // The chat mock knows the error names (`litellm.RateLimitError`, …); reuse it.
    crate::mock::mock_completion(mock, &ChatRequest::user(model, ""), "mock", 0)?;
    Err(Error::bad_request(format!(
        "mock_response for {what} must be a response object or an error name"
    ))
    .with_param("mock_response"))
}

async fn send_and_parse<H: Host, T>(
    host: &H,
    provider: &dyn Provider,
    target: &Target,
    opts: &CallOptions,
    meta: &mut CallMeta,
    build: impl Fn() -> Result<HttpRequest>,
    parse: impl FnOnce(&Headers, &[u8]) -> Result<T>,
) -> Result<T> {
    let (headers, body) = send(host, provider, target, opts, meta, &build).await?;
    parse(&headers, &body).map_err(|e| e.in_context(&target.provider, &target.model))
}

/// A single-request endpoint's answer and call facts (see [`call_once`]).
struct Sent {
    provider: &'static dyn Provider,
    target: Target,
    meta: CallMeta,
    body: Vec<u8>,
}

impl Sent {
    /// `parse` of the body, with errors naming the target.
    fn parse<T>(&self, parse: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
        parse(&self.body).map_err(|e| e.in_context(&self.target.provider, &self.target.model))
    }
}

/// Resolves `model` and sends `build`'s request with retries: all the I/O of an endpoint
/// that makes one request, in one future type for all of them (each endpoint's own future
/// then awaits once, instead of carrying its own copy of the resolve and send states).
async fn call_once<H: Host>(
    host: &H,
    env: &dyn Env,
    model: &str,
    opts: &CallOptions,
    start_ms: u64,
    build: &dyn Fn(&dyn Provider, &Target) -> Result<HttpRequest>,
) -> Result<Sent> {
    let (provider, target) = resolve(host, env, model, opts).await?;
    let mut meta = meta_for(&target, start_ms);
    let (_, body) = send(host, provider, &target, opts, &mut meta, &|| {
        build(provider, &target)
    })
    .await?;
    Ok(Sent {
        provider,
        target,
        meta,
        body,
    })
}

/// The sending half of [`send_and_parse`]: generic over the host only, so its retry loop is
/// compiled once for every endpoint instead of once per endpoint's closures.
async fn send<H: Host>(
    host: &H,
    provider: &dyn Provider,
    target: &Target,
    opts: &CallOptions,
    meta: &mut CallMeta,
    build: &dyn Fn() -> Result<HttpRequest>,
) -> Result<(Headers, Vec<u8>)> {
    let resp = send_with_retries(host, provider, target, opts, build, meta).await?;
    let headers = resp.headers().clone();
    let body = resp
        .bytes()
        .await
        .map_err(|e| e.in_context(&target.provider, &target.model))?;
    Ok((headers, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::testing::MockHost;
    use crate::types::EmbeddingResponse;
    use crate::ErrorKind;
    use serde_json::json;

    #[test]
    fn mock_errors_and_objects() {
        let e =
            mock::<EmbeddingResponse>(&json!("litellm.RateLimitError"), "m", "embeddings", 0, 0)
                .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        let e = mock::<EmbeddingResponse>(&json!("hello"), "m", "embeddings", 0, 0).unwrap_err();
        assert_eq!(e.param(), Some("mock_response"));
        let g = mock::<EmbeddingResponse>(&json!({"data": []}), "m", "embeddings", 1, 2).unwrap();
        assert_eq!((g.meta.provider.as_str(), g.meta.end_ms), ("mock", 2));
        assert!(mock::<EmbeddingResponse>(&json!({"data": 1}), "m", "embeddings", 0, 0).is_err());
    }

    #[test]
    fn resolve_strips_the_prefix() {
        let opts = CallOptions::default();
        let host = MockHost::new();
        let fut = resolve(&host, &NoEnv, "openai/text-embedding-3-large", &opts);
        let (p, t) = futures_executor::block_on(fut).unwrap();
        assert_eq!(
            (p.info().id, t.model.as_str()),
            ("openai", "text-embedding-3-large")
        );
        assert_eq!(t.now_ms, 1_700_000_000_000);
    }
}
