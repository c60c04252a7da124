//! The one I/O loop: resolve the model, build the provider request, send it through the
//! [`Host`], retry what may succeed, parse or stream the answer.
//!
//! Everything provider-specific happens in pure `Provider` methods; this file only sequences
//! them, so the same loop serves the JS SDK, the Router and the Worker gateway.

use crate::host::{Env, Host};
use crate::http::HttpResponse;
use crate::mock;
use crate::options::CallOptions;
use crate::provider::{registry, target_for, Provider, Target};
use crate::retry;
use crate::stream::ChatStream;
use crate::types::{ChatRequest, ChatResponse, Usage};
use crate::Result;

/// Facts about a finished call, for cost, callbacks, headers and logs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallMeta {
    /// Provider id.
    pub provider: String,
    /// Provider-side model.
    pub model: String,
    /// The endpoint base used, if any (never contains credentials).
    pub api_base: Option<String>,
    /// Upstream requests sent (1 + retries).
    pub attempts: u32,
    /// Start time (ms since epoch, from the host).
    pub start_ms: u64,
    /// End time (time of the response headers for streams).
    pub end_ms: u64,
}

impl CallMeta {
    /// Facts naming `provider` and `model` with the call's times. One non-generic builder for
    /// every call path (each inline literal was its own copy in the wasm: the package's size).
    #[inline(never)]
    pub(crate) fn new(provider: &str, model: &str, start_ms: u64, end_ms: u64) -> Self {
        Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
            start_ms,
            end_ms,
            ..Self::default()
        }
    }

    /// Facts of a call sent to `target`, started at `start_ms`.
    #[inline(never)]
    pub(crate) fn for_target(target: &Target, start_ms: u64) -> Self {
        let mut meta = Self::new(&target.provider, &target.model, start_ms, 0);
        meta.api_base.clone_from(&target.api_base);
        meta
    }
}

/// A completed call.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The OpenAI-shaped response.
    pub response: ChatResponse,
    /// Call facts.
    pub meta: CallMeta,
}

/// A started stream.
#[derive(Debug)]
pub struct StreamCompletion {
    /// The chunks.
    pub stream: ChatStream,
    /// Call facts (end = when headers arrived).
    pub meta: CallMeta,
}

/// Resolves the provider and target for a request.
pub fn resolve<H: Host>(
    host: &H,
    env: &dyn Env,
    req: &ChatRequest,
    opts: &CallOptions,
) -> Result<(&'static dyn Provider, Target)> {
    let (provider, model) = registry::resolve(&req.model, opts.custom_llm_provider.as_deref())?;
    let target = target_for(provider, &model, opts, env, host.now_ms())?;
    Ok((provider, target))
}

pub(crate) fn new_id<H: Host>(host: &H, prefix: &str) -> String {
    let a = (host.random() * 4_294_967_296.0) as u64;
    let b = (host.random() * 4_294_967_296.0) as u64;
    format!("{prefix}-{a:08x}{b:08x}")
}

/// Sends `build()`'s request with up to `num_retries` retries; returns the first 2xx response.
/// Shared by every endpoint (chat here, embeddings/images/… in `crate::modality`); `build`
/// is `&dyn` so that its retry loop is compiled once, not once per caller's closure.
pub(crate) async fn send_with_retries<H: Host>(
    host: &H,
    provider: &dyn Provider,
    target: &Target,
    opts: &CallOptions,
    build: &dyn Fn() -> Result<crate::http::HttpRequest>,
    meta: &mut CallMeta,
) -> Result<HttpResponse> {
    let retries = opts.num_retries.unwrap_or(0);
    let mut attempt = 0u32;
    loop {
        let req = build()?;
        meta.attempts += 1;
        let result: Result<HttpResponse> = match host.send(req, opts.timeout_ms).await {
            Ok(resp) if (200..300).contains(&resp.status) => return Ok(resp),
            Ok(resp) => {
                let (status, headers) = (resp.status, resp.headers().clone());
                let body = resp.bytes().await.unwrap_or_default();
                Err(provider.error(status, &headers, &body))
            }
            Err(e) => Err(e),
        };
        let err = result
            .unwrap_err()
            .in_context(&target.provider, &target.model);
        if attempt >= retries || !retry::should_retry(&err) {
            return Err(err);
        }
        host.sleep(retry::backoff_ms(attempt, Some(&err), host.random()))
            .await;
        attempt += 1;
    }
}

/// [`send_with_retries`] for calls that read the whole body: a transport failure while a 2xx
/// body is read (connection reset, idle timeout) is retried like one before the headers, within
/// the same `num_retries` budget.
pub(crate) async fn send_and_read_with_retries<H: Host>(
    host: &H,
    provider: &dyn Provider,
    target: &Target,
    opts: &CallOptions,
    build: impl Fn() -> Result<crate::http::HttpRequest>,
    meta: &mut CallMeta,
) -> Result<Vec<u8>> {
    let retries = opts.num_retries.unwrap_or(0);
    // The options with the retries left, made only once a read failed: a copy of the options
    // per call was allocations made and dropped on every request.
    let mut left: Option<CallOptions> = None;
    loop {
        let now = left.as_ref().unwrap_or(opts);
        let resp = send_with_retries(host, provider, target, now, &build, meta).await?;
        let err = match resp.bytes().await {
            Ok(body) => return Ok(body),
            Err(e) => e.in_context(&target.provider, &target.model),
        };
        let used = meta.attempts.saturating_sub(1);
        if used >= retries || !retry::should_retry(&err) {
            return Err(err);
        }
        host.sleep(retry::backoff_ms(used, Some(&err), host.random()))
            .await;
        left.get_or_insert_with(|| opts.clone()).num_retries = Some(retries - used - 1);
    }
}

/// A completed call as the JSON text to answer with: the gateway's non-stream path, which
/// needs the response only as text plus what cost and spend read from it.
#[derive(Debug, Clone)]
pub struct WireCompletion {
    /// The `chat.completion` JSON: an OpenAI-format upstream's own body when it needs no
    /// rewriting (see `provider::openai_compat::Compat::forwardable`), else the parsed response
    /// serialized.
    pub body: Vec<u8>,
    /// The response's `model`.
    pub model: String,
    /// The response's `usage`.
    pub usage: Option<Usage>,
    /// Call facts.
    pub meta: CallMeta,
}

impl WireCompletion {
    /// The typed response read back from [`body`](Self::body), for those that need more of it
    /// than `model` and `usage` (loggers, callbacks).
    pub fn response(&self) -> serde_json::Result<ChatResponse> {
        // `from_str`, not `from_slice`: one JSON reader in the wasm (`provider::build::parse`).
        match std::str::from_utf8(&self.body) {
            Ok(text) => serde_json::from_str(text),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
    }
}

/// What answered a chat call, before its body is read.
enum Answer {
    Mock(ChatResponse),
    Upstream {
        body: Vec<u8>,
        provider: &'static dyn Provider,
        target: Target,
    },
}

impl Answer {
    /// The response as the typed value; `meta` gets the target's facts.
    fn parse(self, req: &ChatRequest, meta: &mut CallMeta) -> Result<ChatResponse> {
        match self {
            Answer::Mock(r) => Ok(r),
            Answer::Upstream {
                body,
                provider,
                target,
            } => {
                let r = provider
                    .chat_response(&body, req, &target)
                    .map_err(|e| e.in_context(&target.provider, &target.model));
                target_facts(meta, target);
                r
            }
        }
    }
}

/// Moves the target's provider, model and endpoint into `meta` once the call is done with it
/// (copies of them, made before the request was sent, were allocations per call).
fn target_facts(meta: &mut CallMeta, target: Target) {
    meta.provider = target.provider;
    meta.model = target.model;
    meta.api_base = target.api_base;
}

/// Sends a non-streaming chat call (or answers it from `mock_response`) with retries.
async fn answer<H: Host>(
    host: &H,
    env: &dyn Env,
    req: &mut ChatRequest,
    opts: &CallOptions,
) -> Result<(Answer, CallMeta)> {
    req.stream = None;
    let start_ms = host.now_ms();
    if let Some(m) = &opts.mock_response {
        let response = mock::mock_completion(
            m,
            req,
            &new_id(host, "chatcmpl-mock"),
            (start_ms / 1000) as i64,
        )?;
        let meta = CallMeta::new("mock", &req.model, start_ms, 0);
        return Ok((Answer::Mock(response), meta));
    }
    let (provider, mut target) = resolve(host, env, req, opts)?;
    crate::auth::authorize(host, provider.info().id, &mut target).await?;
    // `provider`, `model` and `api_base` are the target's, set when it is no longer needed
    // (`target_facts`).
    let mut meta = CallMeta::new("", "", start_ms, 0);
    let req: &ChatRequest = req;
    let body = send_and_read_with_retries(
        host,
        provider,
        &target,
        opts,
        || provider.chat_request(req, &target),
        &mut meta,
    )
    .await?;
    let answer = Answer::Upstream {
        body,
        provider,
        target,
    };
    Ok((answer, meta))
}

/// What an OpenAI-format row's upstream body says, when it can be forwarded as it came.
fn forwardable(
    provider: &dyn Provider,
    body: &[u8],
) -> Option<crate::provider::openai_compat::WireFacts> {
    match registry::get(provider.info().id)? {
        registry::Entry::Compat(row) => row.forwardable(body),
        registry::Entry::Native(_) => None,
    }
}

/// One chat completion (non-streaming), with retries.
///
/// ```
/// # use edgellm::{engine, testing::MockHost, ChatRequest, CallOptions, host::NoEnv};
/// let host = MockHost::new();
/// let opts = CallOptions { mock_response: Some("Hi there".into()), ..Default::default() };
/// let c = futures_executor::block_on(engine::completion(&host, &NoEnv, ChatRequest::user("openai/gpt-4o", "Hello"), opts)).unwrap();
/// assert_eq!(c.response.choices[0].message.content.as_deref(), Some("Hi there"));
/// ```
pub async fn completion<H: Host>(
    host: &H,
    env: &dyn Env,
    mut req: ChatRequest,
    opts: CallOptions,
) -> Result<Completion> {
    let (answer, mut meta) = self::answer(host, env, &mut req, &opts).await?;
    let response = answer.parse(&req, &mut meta)?;
    meta.end_ms = host.now_ms();
    Ok(Completion { response, meta })
}

/// [`completion`] answered as JSON text: an OpenAI-format upstream's body goes through as it
/// came when it needs no rewriting (only `model` and `usage` are read from it); any other
/// answer is parsed as by [`completion`] and serialized.
///
/// ```
/// # use edgellm::{engine, testing::MockHost, ChatRequest, CallOptions, host::NoEnv};
/// let opts = CallOptions { mock_response: Some("Hi there".into()), ..Default::default() };
/// let c = futures_executor::block_on(engine::completion_wire(&MockHost::new(), &NoEnv, ChatRequest::user("openai/gpt-4o", "Hello"), opts)).unwrap();
/// let v: serde_json::Value = serde_json::from_slice(&c.body).unwrap();
/// assert_eq!(v["choices"][0]["message"]["content"], "Hi there");
/// ```
pub async fn completion_wire<H: Host>(
    host: &H,
    env: &dyn Env,
    req: ChatRequest,
    opts: CallOptions,
) -> Result<WireCompletion> {
    completion_wire_with(host, env, req, &opts).await
}

/// [`completion_wire`] with borrowed options, for a caller that keeps them (the router prices
/// the answer with them): no copy of them per call.
pub(crate) async fn completion_wire_with<H: Host>(
    host: &H,
    env: &dyn Env,
    mut req: ChatRequest,
    opts: &CallOptions,
) -> Result<WireCompletion> {
    let (answer, mut meta) = self::answer(host, env, &mut req, opts).await?;
    let facts = match &answer {
        Answer::Upstream { body, provider, .. } => forwardable(*provider, body),
        Answer::Mock(_) => None,
    };
    let answer = match (facts, answer) {
        (Some(f), Answer::Upstream { body, target, .. }) => {
            target_facts(&mut meta, target);
            meta.end_ms = host.now_ms();
            return Ok(WireCompletion {
                body,
                model: f.model,
                usage: f.usage,
                meta,
            });
        }
        (_, answer) => answer,
    };
    let response = answer.parse(&req, &mut meta)?;
    meta.end_ms = host.now_ms();
    let body = serde_json::to_vec(&response).map_err(|e| {
        crate::Error::new(
            crate::ErrorKind::InternalServer,
            format!("response encoding: {e}"),
        )
    })?;
    Ok(WireCompletion {
        body,
        model: response.model,
        usage: response.usage,
        meta,
    })
}

/// A streaming chat completion. Retries apply until the response headers arrive; after that
/// an error ends the stream.
pub async fn completion_stream<H: Host>(
    host: &H,
    env: &dyn Env,
    mut req: ChatRequest,
    opts: CallOptions,
) -> Result<StreamCompletion> {
    req.stream = Some(true);
    let show_usage = req.wants_stream_usage();
    let start_ms = host.now_ms();
    if let Some(m) = &opts.mock_response {
        let response = mock::mock_completion(
            m,
            &req,
            &new_id(host, "chatcmpl-mock"),
            (start_ms / 1000) as i64,
        )?;
        let meta = CallMeta::new("mock", &req.model, start_ms, host.now_ms());
        return Ok(StreamCompletion {
            stream: ChatStream::from_chunks(mock::mock_chunks(&response), show_usage),
            meta,
        });
    }
    let (provider, mut target) = resolve(host, env, &req, &opts)?;
    crate::auth::authorize(host, provider.info().id, &mut target).await?;
    let mut meta = CallMeta::for_target(&target, start_ms);
    let resp = send_with_retries(
        host,
        provider,
        &target,
        &opts,
        &|| provider.chat_request(&req, &target),
        &mut meta,
    )
    .await?;
    meta.end_ms = host.now_ms();
    let decoder = provider.stream_decoder(&req, &target);
    let stream = ChatStream::from_body(
        resp.body,
        provider.stream_framing(),
        decoder,
        show_usage,
        &target.provider,
        &target.model,
    );
    Ok(StreamCompletion { stream, meta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::options::Secret;
    use crate::testing::{MockHost, Reply};
    use serde_json::json;

    fn opts() -> CallOptions {
        CallOptions {
            api_key: Some(Secret::new("sk-test-1")),
            api_base: Some("http://127.0.0.1:9/v1".into()),
            ..Default::default()
        }
    }

    fn reply(finish_reason: &str) -> Reply {
        Reply::json(
            200,
            &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0,
                "message": {"role": "assistant", "content": "hi"},
                "finish_reason": finish_reason}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}),
        )
    }

    /// The call facts name the target whichever way the answer went: forwarded as it came
    /// (`stop`), parsed because it needs a rewrite (an empty finish reason), or typed.
    #[test]
    fn call_facts_name_the_target_on_every_path() {
        let want = |meta: &CallMeta| {
            assert_eq!(meta.provider, "openai");
            assert_eq!(meta.model, "gpt-4o-mini");
            assert_eq!(meta.api_base.as_deref(), Some("http://127.0.0.1:9/v1"));
            assert_eq!(meta.attempts, 1);
        };
        for finish in ["stop", ""] {
            let host = MockHost::new().reply(reply(finish));
            let req = ChatRequest::user("openai/gpt-4o-mini", "Hello");
            let w =
                futures_executor::block_on(completion_wire(&host, &NoEnv, req, opts())).unwrap();
            want(&w.meta);
            let host = MockHost::new().reply(reply(finish));
            let req = ChatRequest::user("openai/gpt-4o-mini", "Hello");
            let c = futures_executor::block_on(completion(&host, &NoEnv, req, opts())).unwrap();
            want(&c.meta);
        }
    }
}
