//! Endpoints beyond chat through the router: LiteLLM's `router.embedding` / `aembedding`,
//! `image_generation`, `text_completion` (streaming too), `amoderation` and `arerank`. Each is
//! [`Router::route`] with a core [`crate::modality`] entry point as the "call one deployment"
//! function, so retries, cooldowns, fallbacks and load balancing behave as for chat.
//!
//! ```
//! use serde_json::json;
//! use edgellm::{router::Router, testing::{MockHost, Reply}, host::NoEnv};
//! let router = Router::from_value(json!({"model_list": [{"model_name": "embed",
//!     "litellm_params": {"model": "openai/text-embedding-3-small", "api_key": "sk-test"}}]}),
//!     &NoEnv).unwrap();
//! let host = MockHost::new().reply(Reply::json(200, &json!({"object": "list",
//!     "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2},
//!     "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}]})));
//! let done = futures_executor::block_on(router.embedding(&host, &NoEnv,
//!     json!({"model": "embed", "input": "hi"}))).unwrap();
//! assert_eq!(done.route.model_group, "embed");
//! assert_eq!(host.last_request().unwrap().json_body().unwrap()["model"], "text-embedding-3-small");
//! // $0.02 per 1M tokens.
//! assert_eq!(done.response_cost.unwrap().pico(), 40_000);
//! ```

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::chat::{into_map, RoutedChunks, StreamShared, UsageSoFar};
use super::{RouteInfo, RouteOutput, Router};
use crate::config::layered_env;
use crate::cost::{self, Usd};
use crate::engine::CallMeta;
use crate::host::{Env, Host};
use crate::modality::{self, Generation, TextCompletionStream};
use crate::options::CallOptions;
use crate::types::{
    EmbeddingRequest, EmbeddingResponse, ImageRequest, ImageResponse, ModerationRequest,
    ModerationResponse, Put, RerankRequest, RerankResponse, TextCompletionRequest,
    TextCompletionResponse, Usage,
};
use crate::{Error, ErrorKind, Result};

/// One non-chat endpoint: how its body parses, which core function serves it, and how it is
/// priced. Shared by the router and the JS API so both price and log a call the same way.
pub(crate) trait Endpoint {
    /// LiteLLM's `call_type` for logs and callbacks.
    // Read by the JS API's callbacks (`src/js/`), which only the wasm build with `js` has.
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
    const CALL_TYPE: &'static str;
    /// The body field LiteLLM logs as `messages` for this call type.
    #[cfg_attr(not(all(target_arch = "wasm32", feature = "js")), allow(dead_code))]
    const LOGGED_INPUT: &'static str;
    /// The typed request.
    type Request: Clone;
    /// The OpenAI-shaped response.
    type Response;

    /// Splits a JSON body into the request and the call options.
    fn parse(body: Value) -> Result<(Self::Request, CallOptions)>;

    /// Calls the provider (with the options' retries) and prices the answer
    /// (`_hidden_params.response_cost`; `None` when the model has no price). Priced here
    /// rather than by the caller after the call: only images need the request for their
    /// price, so no other endpoint's request is cloned per call (nor its `Clone` shipped).
    async fn call<H: Host>(
        host: &H,
        env: &dyn Env,
        req: Self::Request,
        opts: &CallOptions,
    ) -> Result<(Generation<Self::Response>, Option<Usd>)>;

    /// Token usage, where the response reports it (routing by tpm, logs).
    fn usage(_response: &Self::Response) -> Option<Usage> {
        None
    }
}

/// `POST /v1/embeddings`.
pub(crate) struct Embeddings;
/// `POST /v1/images/generations`.
pub(crate) struct Images;
/// `POST /v1/completions` (not streamed).
pub(crate) struct TextCompletions;
/// `POST /v1/moderations`.
pub(crate) struct Moderations;
/// `POST /v1/rerank`.
pub(crate) struct Reranks;

impl Endpoint for Embeddings {
    const CALL_TYPE: &'static str = "embedding";
    const LOGGED_INPUT: &'static str = "input";
    type Request = EmbeddingRequest;
    type Response = EmbeddingResponse;

    fn parse(body: Value) -> Result<(Self::Request, CallOptions)> {
        modality::parse_embedding(body)
    }
    async fn call<H: Host>(
        host: &H,
        env: &dyn Env,
        req: Self::Request,
        opts: &CallOptions,
    ) -> Result<(Generation<Self::Response>, Option<Usd>)> {
        let g = modality::embedding(host, env, req, opts.clone()).await?;
        let cost = modality::embedding_cost(&g, opts);
        Ok((g, cost))
    }
    fn usage(r: &Self::Response) -> Option<Usage> {
        Some(r.usage.clone())
    }
}

impl Endpoint for Images {
    const CALL_TYPE: &'static str = "image_generation";
    const LOGGED_INPUT: &'static str = "prompt";
    type Request = ImageRequest;
    type Response = ImageResponse;

    fn parse(body: Value) -> Result<(Self::Request, CallOptions)> {
        modality::parse_image_generation(body)
    }
    async fn call<H: Host>(
        host: &H,
        env: &dyn Env,
        req: Self::Request,
        opts: &CallOptions,
    ) -> Result<(Generation<Self::Response>, Option<Usd>)> {
        let g = modality::image_generation(host, env, req.clone(), opts.clone()).await?;
        let cost = modality::image_generation_cost(&g, &req, opts);
        Ok((g, cost))
    }
    fn usage(r: &Self::Response) -> Option<Usage> {
        r.usage
            .as_ref()
            .map(|u| Usage::new(u.input_tokens, u.output_tokens))
    }
}

impl Endpoint for TextCompletions {
    const CALL_TYPE: &'static str = "text_completion";
    const LOGGED_INPUT: &'static str = "prompt";
    type Request = TextCompletionRequest;
    type Response = TextCompletionResponse;

    fn parse(body: Value) -> Result<(Self::Request, CallOptions)> {
        modality::parse_text_completion(body)
    }
    async fn call<H: Host>(
        host: &H,
        env: &dyn Env,
        req: Self::Request,
        opts: &CallOptions,
    ) -> Result<(Generation<Self::Response>, Option<Usd>)> {
        let g = modality::text_completion(host, env, req, opts.clone()).await?;
        let cost = modality::text_completion_cost(&g, opts);
        Ok((g, cost))
    }
    fn usage(r: &Self::Response) -> Option<Usage> {
        r.usage.clone()
    }
}

impl Endpoint for Moderations {
    const CALL_TYPE: &'static str = "moderation";
    const LOGGED_INPUT: &'static str = "input";
    type Request = ModerationRequest;
    type Response = ModerationResponse;

    fn parse(body: Value) -> Result<(Self::Request, CallOptions)> {
        modality::parse_moderation(body)
    }
    /// Moderation models are listed at $0 (OpenAI does not bill them): a priced model costs 0,
    /// an unknown one has no cost. Per-second price overrides still apply.
    async fn call<H: Host>(
        host: &H,
        env: &dyn Env,
        req: Self::Request,
        opts: &CallOptions,
    ) -> Result<(Generation<Self::Response>, Option<Usd>)> {
        let g = modality::moderation(host, env, req, opts.clone()).await?;
        let cost = cost::call_cost(
            &g.meta,
            Some(&g.response.model),
            Some(&Usage::default()),
            opts,
        );
        Ok((g, cost))
    }
}

impl Endpoint for Reranks {
    const CALL_TYPE: &'static str = "rerank";
    const LOGGED_INPUT: &'static str = "query";
    type Request = RerankRequest;
    type Response = RerankResponse;

    fn parse(body: Value) -> Result<(Self::Request, CallOptions)> {
        modality::parse_rerank(body)
    }
    /// Rerank is billed per search unit, which the price table does not carry: only a
    /// per-second override prices it.
    async fn call<H: Host>(
        host: &H,
        env: &dyn Env,
        req: Self::Request,
        opts: &CallOptions,
    ) -> Result<(Generation<Self::Response>, Option<Usd>)> {
        let g = modality::rerank(host, env, req, opts.clone()).await?;
        let cost = cost::call_cost(&g.meta, None, None, opts);
        Ok((g, cost))
    }
}

/// A routed, finished call to an endpoint other than chat.
#[derive(Debug, Clone)]
pub struct RoutedGeneration<T> {
    /// The response and call facts.
    pub generation: Generation<T>,
    /// The route taken.
    pub route: RouteInfo,
    /// The options the answering deployment was called with (pricing, metadata).
    pub options: CallOptions,
    /// `_hidden_params.response_cost`, at the deployment's prices.
    pub response_cost: Option<Usd>,
}

/// A deployment call's result with its type erased, so that one instantiation of the
/// routing loop ([`Router::route`]) serves every endpoint (its code ships in the wasm once,
/// not once per endpoint).
pub(crate) struct Erased {
    /// The call's output.
    pub(crate) value: Box<dyn Any>,
    /// Its usage (TPM accounting).
    pub(crate) usage: Option<Usage>,
}

impl RouteOutput for Erased {
    fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }
}

/// A deployment call's future, its output erased.
pub(crate) type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<Erased>> + 'a>>;

impl Erased {
    /// `value`, with its usage, as a deployment call's erased output.
    pub(crate) fn new<T: 'static>(value: T, usage: Option<Usage>) -> Self {
        Erased {
            value: Box::new(value),
            usage,
        }
    }
}

/// A routed output back as the type its deployment call put in.
pub(crate) fn unerase<T: 'static>(value: Box<dyn Any>) -> Result<Box<T>> {
    value.downcast::<T>().map_err(|_| other_type())
}

/// A routed call's output was not of the type its call site put in: a bug, never expected.
#[inline(never)]
fn other_type() -> Error {
    Error::new(ErrorKind::InternalServer, "routed call of another type")
}

/// Parses the router's merged body for one deployment, with its pricing.
pub(crate) fn parse_for<E: Endpoint>(
    dc: &super::DeploymentCall,
) -> Result<(E::Request, CallOptions)> {
    let (req, mut opts) = E::parse(Value::Object(dc.body.clone()))?;
    dc.apply_pricing(&mut opts);
    Ok((req, opts))
}

impl Router {
    /// A call to endpoint `E` through the router (the public methods below, and the JS API).
    pub(crate) async fn generate<E: Endpoint + 'static, H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedGeneration<E::Response>> {
        let request = into_map(request)?;
        let env = layered_env(&self.config, env);
        let env: &dyn Env = &env;
        let call = |dc: super::DeploymentCall| -> CallFuture<'_> {
            Box::pin(async move {
                let (req, opts) = parse_for::<E>(&dc)?;
                let (generation, response_cost) = E::call(host, env, req, &opts).await?;
                let usage = E::usage(&generation.response);
                let out = RoutedGeneration {
                    generation,
                    route: RouteInfo::default(),
                    options: opts,
                    response_cost,
                };
                Ok(Erased::new(out, usage))
            })
        };
        let routed = self.route_erased(host, request, &call).await?;
        let mut out = unerase::<RoutedGeneration<E::Response>>(routed.output.value)?;
        out.route = routed.route;
        Ok(*out)
    }

    /// A call through the router in which `call` makes each deployment's whole output (the
    /// JS API: the response's JSON text with its facts), so that this routing future is one
    /// copy for every endpoint. Returns that output and the route taken.
    #[cfg(all(target_arch = "wasm32", feature = "js"))]
    pub(crate) async fn route_dyn<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
        call: for<'e> fn(super::DeploymentCall, &'e dyn Env) -> CallFuture<'e>,
    ) -> Result<(Box<dyn Any>, RouteInfo)> {
        let request = into_map(request)?;
        let env = layered_env(&self.config, env);
        let env: &dyn Env = &env;
        let call = |dc| call(dc, env);
        let routed = self.route_erased(host, request, &call).await?;
        Ok((routed.output.value, routed.route))
    }

    pub(super) async fn route_erased<'a, H: Host>(
        &self,
        host: &'a H,
        request: Map<String, Value>,
        call: &(dyn Fn(super::DeploymentCall) -> CallFuture<'a> + 'a),
    ) -> Result<super::Routed<Erased>> {
        self.route(host, request, call).await
    }

    /// Embeddings through the router (LiteLLM's `router.embedding` / `aembedding`): `request`
    /// is an OpenAI embeddings body whose `model` names a model group, plus LiteLLM options.
    pub async fn embedding<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedGeneration<EmbeddingResponse>> {
        self.generate::<Embeddings, H>(host, env, request).await
    }

    /// Image generation through the router (LiteLLM's `router.image_generation`).
    pub async fn image_generation<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedGeneration<ImageResponse>> {
        self.generate::<Images, H>(host, env, request).await
    }

    /// A text completion through the router (LiteLLM's `router.text_completion`). A request
    /// with `stream: true` is answered without streaming: use
    /// [`Router::text_completion_stream`] for that.
    pub async fn text_completion<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedGeneration<TextCompletionResponse>> {
        self.generate::<TextCompletions, H>(host, env, request)
            .await
    }

    /// Moderation through the router (LiteLLM's `router.amoderation`).
    pub async fn moderation<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedGeneration<ModerationResponse>> {
        self.generate::<Moderations, H>(host, env, request).await
    }

    /// Rerank through the router (LiteLLM's `router.arerank`).
    pub async fn rerank<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedGeneration<RerankResponse>> {
        self.generate::<Reranks, H>(host, env, request).await
    }

    /// A streaming text completion through the router. As for chat streams, retries and
    /// fallbacks apply until the first chunk arrived; after that an error ends the stream.
    pub async fn text_completion_stream<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedTextStream> {
        let mut request = into_map(request)?;
        // Lets the config pick `stream_timeout`.
        request.put("stream", Value::Bool(true));
        let env = layered_env(&self.config, env);
        let env: &dyn Env = &env;
        let health = self.health_rc();
        let call = |dc: super::DeploymentCall| -> CallFuture<'_> {
            let health = health.clone();
            Box::pin(async move {
                let (req, opts) = parse_for::<TextCompletions>(&dc)?;
                let started =
                    modality::text_completion_stream(host, env, req, opts.clone()).await?;
                let shared = Rc::new(StreamShared::default());
                let hook = shared.end_hook(health, dc.deployment.id.clone(), started.meta.start_ms);
                let mut stream = started.stream.map_inner(|s| s.on_end(hook));
                let first = stream.next().await.transpose()?;
                let mut meta = started.meta;
                meta.end_ms = host.now_ms();
                let out = TextStreamOut {
                    stream: RouterTextStream::new(first.map(Ok), stream, shared),
                    meta,
                    options: opts,
                };
                Ok(Erased::new(out, None))
            })
        };
        let routed = self.route_erased(host, request, &call).await?;
        let out = *unerase::<TextStreamOut>(routed.output.value)?;
        self.hold(&out.stream.shared, &routed.route.deployment_id);
        Ok(RoutedTextStream {
            stream: out.stream,
            meta: out.meta,
            route: routed.route,
            options: out.options,
        })
    }
}

struct TextStreamOut {
    stream: RouterTextStream,
    meta: CallMeta,
    options: CallOptions,
}

/// A routed text-completion stream that has delivered its first chunk.
#[derive(Debug)]
pub struct RoutedTextStream {
    /// The `text_completion` chunks.
    pub stream: RouterTextStream,
    /// Call facts (end = first chunk).
    pub meta: CallMeta,
    /// The route taken.
    pub route: RouteInfo,
    /// The options the answering deployment was called with (pricing for
    /// [`cost::stream_cost`]).
    pub options: CallOptions,
}

/// A routed text-completion stream of `text_completion` chunks.
pub type RouterTextStream = RoutedChunks<TextCompletionStream>;

impl UsageSoFar for TextCompletionStream {
    fn usage(&self) -> Option<&Usage> {
        TextCompletionStream::usage(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::testing::{MockHost, Reply};
    use crate::ErrorKind;
    use futures_executor::block_on;
    use serde_json::json;

    fn dep(group: &str, path: &str, model: &str) -> Value {
        json!({"model_name": group, "model_info": {"id": path}, "litellm_params": {
            "model": model, "api_key": "sk-test-router",
            "api_base": format!("https://{path}.example/v1")}})
    }

    fn embedding_body() -> Value {
        json!({"object": "list", "model": "text-embedding-3-small",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5]}],
            "usage": {"prompt_tokens": 3, "total_tokens": 3}})
    }

    fn error(status: u16) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"message": "no", "type": "server_error", "code": null}}),
        )
    }

    fn hosts(host: &MockHost) -> Vec<String> {
        host.requests
            .borrow()
            .iter()
            .map(|r| r.url.split('/').nth(2).unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn embedding_retries_then_falls_back() {
        let router = Router::from_value(
            json!({"model_list": [dep("a", "down", "openai/text-embedding-3-small"),
                dep("b", "up", "openai/text-embedding-3-small")],
                "num_retries": 1, "retry_after": 0, "fallbacks": [{"a": ["b"]}]}),
            &NoEnv,
        )
        .unwrap();
        let host = MockHost::new()
            .reply(error(500))
            .reply(error(500))
            .reply(Reply::json(200, &embedding_body()));
        let done = block_on(router.embedding(
            &host,
            &NoEnv,
            json!({"model": "a", "input": "hi", "dimensions": 2}),
        ))
        .unwrap();
        assert_eq!(hosts(&host), ["down.example", "down.example", "up.example"]);
        let sent = host.last_request().unwrap();
        assert_eq!(sent.url, "https://up.example/v1/embeddings");
        assert_eq!(
            sent.json_body().unwrap(),
            json!({"model": "text-embedding-3-small", "input": "hi", "dimensions": 2})
        );
        assert_eq!(
            (done.route.model_group.as_str(), done.route.fallbacks),
            ("b", 1)
        );
        assert_eq!(done.route.requests, 3);
        assert_eq!(done.generation.response.data.len(), 1);
        // 3 tokens at $0.02 per 1M.
        assert_eq!(done.response_cost.unwrap().pico(), 60_000);
    }

    #[test]
    fn non_retryable_errors_are_not_retried() {
        let router = Router::from_value(
            json!({"model_list": [dep("a", "auth", "openai/text-embedding-3-small")],
                "num_retries": 3}),
            &NoEnv,
        )
        .unwrap();
        let host = MockHost::new().reply(error(401));
        let e = block_on(router.embedding(&host, &NoEnv, json!({"model": "a", "input": "hi"})))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(host.requests.borrow().len(), 1);
        // The body is checked per deployment, before any request.
        let e = block_on(router.embedding(&host, &NoEnv, json!({"model": "a", "input": []})))
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.param()),
            (ErrorKind::BadRequest, Some("input"))
        );
        assert_eq!(host.requests.borrow().len(), 1);
    }

    #[test]
    fn images_moderation_and_rerank_route_and_price() {
        let router = Router::from_value(
            json!({"model_list": [dep("img", "img", "openai/dall-e-3"),
                dep("mod", "mod", "openai/omni-moderation-latest"),
                dep("rr", "rr", "cohere/rerank-v3.5")]}),
            &NoEnv,
        )
        .unwrap();
        let host = MockHost::new()
            .reply(Reply::json(
                200,
                &json!({"created": 1, "data": [{"url": "https://img/1.png"}]}),
            ))
            .reply(Reply::json(
                200,
                &json!({"id": "modr-1", "model": "omni-moderation-latest",
                "results": [{"flagged": false, "categories": {}, "category_scores": {}}]}),
            ))
            .reply(Reply::json(
                200,
                &json!({"id": "r-1", "results": [{"index": 0, "relevance_score": 0.5}]}),
            ));
        let img = block_on(router.image_generation(
            &host,
            &NoEnv,
            json!({"model": "img", "prompt": "a fox", "size": "1024x1024", "quality": "hd"}),
        ))
        .unwrap();
        assert_eq!(img.route.deployment_id, "img");
        assert_eq!(img.response_cost.unwrap().to_f64(), 0.08);
        let m = block_on(router.moderation(&host, &NoEnv, json!({"model": "mod", "input": "x"})))
            .unwrap();
        assert_eq!(m.response_cost.unwrap().pico(), 0);
        let r = block_on(router.rerank(
            &host,
            &NoEnv,
            json!({"model": "rr", "query": "q", "documents": ["a"]}),
        ))
        .unwrap();
        assert_eq!(r.generation.response.results[0].index, 0);
        assert!(r.response_cost.is_none());
        let urls: Vec<String> = host
            .requests
            .borrow()
            .iter()
            .map(|r| r.url.clone())
            .collect();
        assert_eq!(
            urls,
            [
                "https://img.example/v1/images/generations",
                "https://mod.example/v1/moderations",
                "https://rr.example/v1/rerank"
            ]
        );
    }

    #[test]
    fn text_completion_stream_falls_back_before_the_first_chunk() {
        let router = Router::from_value(
            json!({"model_list": [dep("a", "down", "openai/gpt-3.5-turbo-instruct"),
                dep("b", "up", "openai/gpt-3.5-turbo-instruct")],
                "num_retries": 0, "fallbacks": [{"a": ["b"]}]}),
            &NoEnv,
        )
        .unwrap();
        let sse = concat!(
            "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"gpt-3.5-turbo-instruct\",\"choices\":[{\"text\":\"Hel\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}\n\n",
            "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"gpt-3.5-turbo-instruct\",\"choices\":[{\"text\":\"lo\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n"
        );
        let host = MockHost::new().reply(error(503)).reply(Reply::Response {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            pieces: vec![sse.as_bytes().to_vec()],
        });
        let ended = Rc::new(std::cell::Cell::new(false));
        let flag = ended.clone();
        let started = block_on(router.text_completion_stream(
            &host,
            &NoEnv,
            json!({"model": "a", "prompt": "Say hello"}),
        ))
        .unwrap();
        assert_eq!(started.route.model_group, "b");
        assert_eq!(router.health().in_flight("up"), 1);
        let stream = started.stream.on_end(move |r| flag.set(r.is_ok()));
        let chunks: Vec<TextCompletionResponse> = block_on(stream.map(|c| c.unwrap()).collect());
        let text: String = chunks.iter().map(|c| c.choices[0].text.as_str()).collect();
        assert_eq!(text, "Hello");
        assert!(ended.get());
        assert_eq!(router.health().in_flight("up"), 0);
        assert_eq!(
            host.last_request().unwrap().json_body().unwrap(),
            json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Say hello", "stream": true,
                "stream_options": {"include_usage": true}})
        );
    }
}
