//! `Router` for JS (LiteLLM's `Router(model_list=…)`): chat, streams and the other endpoints
//! through the core router, with callbacks (see `super::callbacks`).

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::callbacks::{now_ms, LogCall};
use super::completion::finish_chat;
use super::cost::{from_json, to_json};
use super::env::JsEnv;
use super::error::to_js;
use super::modality::{
    answer, export, EMBEDDING, IMAGE_GENERATION, MODERATION, TEXT_COMPLETION,
    TEXT_COMPLETION_STREAM,
};
use super::respond::{promise, run, Answer, Call, Done};
use super::stream::ChunkStream;
use crate::host::Env;
use crate::router::modality::{
    parse_for, unerase, CallFuture, Embeddings, Endpoint, Erased, Images, Moderations, Reranks,
    TextCompletions,
};
use crate::router::{DeploymentCall, Router as CoreRouter};
use crate::wasm::FetchHost;
use crate::Error;

/// A LiteLLM Router: load balancing, retries, cooldowns and fallbacks over a `model_list`.
///
/// `new Router({ model_list, routing_strategy, num_retries, timeout, fallbacks,
/// context_window_fallbacks, content_policy_fallbacks, allowed_fails, cooldown_time,
/// retry_policy, default_fallbacks, max_fallbacks })`. State (cooldowns, usage, latency) lives
/// in the instance and is shared by every endpoint.
#[wasm_bindgen(js_name = Router)]
#[derive(Debug, Clone)]
pub struct JsRouter {
    inner: CoreRouter,
}

/// Routes one call to endpoint `E`; the rest is [`run`], the same for every endpoint.
fn call<E: Endpoint + 'static>(router: CoreRouter, request: Value) -> Call
where
    E::Response: Serialize,
{
    Box::pin(routed(router, request, deployment_call::<E>))
}

/// One deployment's call to endpoint `E`: the answer as the JS API returns it ([`Done`], by
/// [`answer`]), made inside the routed call, so that the routing future ([`routed`]) is not
/// generic.
fn deployment_call<E: Endpoint + 'static>(dc: DeploymentCall, env: &dyn Env) -> CallFuture<'_>
where
    E::Response: Serialize,
{
    match parse_for::<E>(&dc) {
        Ok((req, opts)) => erase(answer::<E>(req, opts, env)),
        Err(e) => Box::pin(std::future::ready(Err(e))),
    }
}

/// `answer`'s [`Done`] as the router's erased output. Not generic.
fn erase(answer: Answer<'_>) -> CallFuture<'_> {
    Box::pin(async move {
        let done = answer.await?;
        let usage = done.usage.clone();
        Ok(Erased::new(done, usage))
    })
}

/// A routed call whose deployments answer with [`deployment_call`]: one copy for every
/// endpoint.
async fn routed(
    router: CoreRouter,
    request: Value,
    call: for<'e> fn(DeploymentCall, &'e dyn Env) -> CallFuture<'e>,
) -> Result<Done, Error> {
    let (value, route) = router.route_dyn(&FetchHost, &JsEnv, request, call).await?;
    let mut done = unerase::<Done>(value)?;
    done.route = Some(route);
    Ok(*done)
}

impl JsRouter {
    /// A call to endpoint `E` through the router.
    fn generate<E: Endpoint + 'static>(
        &self,
        params: JsValue,
        expects: &'static str,
    ) -> js_sys::Promise
    where
        E::Response: Serialize,
    {
        let router = self.inner.clone();
        let call = Box::new(move |request| call::<E>(router, request));
        run(params, export::<E>(expects), call)
    }

    /// A streaming text completion through the router: resolves once the first chunk arrived
    /// (retries and fallbacks happen before it) to a stream handle of `text_completion` chunks.
    fn text_completion_stream(&self, params: JsValue) -> js_sys::Promise {
        let router = self.inner.clone();
        promise(Box::pin(async move {
            let request = to_json(&params, "textCompletion params")?;
            let log = LogCall::other(
                &params,
                TextCompletions::CALL_TYPE,
                TextCompletions::LOGGED_INPUT,
                &request,
            )
            .streaming();
            let started = router
                .text_completion_stream(&FetchHost, &JsEnv, request)
                .await
                .map_err(|e| {
                    log.failure(&e, None, None);
                    to_js(e)
                })?;
            Ok(ChunkStream::new(
                started.stream,
                started.meta,
                started.options,
                Some(started.route),
                log,
            )
            .into())
        }))
    }
}

#[wasm_bindgen(js_class = Router)]
impl JsRouter {
    /// Checks the config (`os.environ/NAME` values resolve through `setEnv` / `process.env`).
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue) -> Result<JsRouter, JsValue> {
        let v = to_json(&config, "Router config")?;
        let inner = CoreRouter::from_value(v, &JsEnv).map_err(to_js)?;
        Ok(JsRouter { inner })
    }

    /// A chat completion through the router. Resolves to the `chat.completion` object with
    /// `_hidden_params` (`response_cost`, `model_id`, `model_group`, `additional_headers`).
    fn completion(&self, params: JsValue) -> js_sys::Promise {
        let router = self.inner.clone();
        promise(Box::pin(async move {
            let request = to_json(&params, "completion params")?;
            let log = LogCall::chat(&params, &request);
            let done = router
                .completion_wire(&FetchHost, &JsEnv, request)
                .await
                .map_err(|e| {
                    log.failure(&e, None, None);
                    to_js(e)
                })?;
            finish_chat(
                &log,
                done.completion,
                &done.options,
                Some(&done.route),
                done.response_cost,
            )
        }))
    }

    /// A streaming chat completion through the router. Resolves, once the first chunk arrived
    /// (retries and fallbacks happen before it), to a stream handle with the same interface as
    /// `completionStream()`'s (`next()`, `cancel()`, `meta()`).
    fn completion_stream(&self, params: JsValue) -> js_sys::Promise {
        let router = self.inner.clone();
        promise(Box::pin(async move {
            let request = to_json(&params, "completion params")?;
            let log = LogCall::chat(&params, &request).streaming();
            let started = router
                .completion_stream(&FetchHost, &JsEnv, request)
                .await
                .map_err(|e| {
                    log.failure(&e, None, None);
                    to_js(e)
                })?;
            Ok(ChunkStream::new(
                started.stream,
                started.meta,
                started.options,
                Some(started.route),
                log,
            )
            .into())
        }))
    }

    /// The endpoints beyond chat through the router in one export (LiteLLM's `router.embedding`,
    /// `image_generation`, `text_completion`, `amoderation`, `arerank`), `kind` picking one as
    /// for the top-level `modality`; a routed `TEXT_COMPLETION_STREAM` resolves once the first
    /// chunk arrived (retries and fallbacks happen before it).
    pub fn modality(&self, kind: u32, params: JsValue) -> js_sys::Promise {
        match kind {
            CHAT => self.completion(params),
            CHAT_STREAM => self.completion_stream(params),
            EMBEDDING => self.generate::<Embeddings>(
                params,
                "router.embedding() expects an object such as { model, input }",
            ),
            IMAGE_GENERATION => self.generate::<Images>(
                params,
                "router.imageGeneration() expects an object such as { model, prompt }",
            ),
            TEXT_COMPLETION => self.generate::<TextCompletions>(
                params,
                "router.textCompletion() expects an object such as { model, prompt }",
            ),
            TEXT_COMPLETION_STREAM => self.text_completion_stream(params),
            MODERATION => self.generate::<Moderations>(
                params,
                "router.moderation() expects an object such as { model, input }",
            ),
            _ => self.generate::<Reranks>(
                params,
                "router.rerank() expects an object such as { model, query, documents }",
            ),
        }
    }

    /// The router's state in one export (each export of its own costs wasm-bindgen glue in the
    /// wasm and in JS), `op` picking it as pkg/router.js numbers them: `MODEL_NAMES` the public
    /// model names (`/v1/models`), `COOLDOWNS` the deployments cooling down now
    /// (`[[deploymentId, msLeft], …]`), `WARNINGS` the settings that were read but have no
    /// effect here (e.g. `redis_host`). Any other `op` throws `BadRequestError`.
    pub fn info(&self, op: u32) -> Result<JsValue, JsValue> {
        match op {
            // The arrays built here, not by `json!` (serde's serializer: a `collect_seq` per
            // element type).
            MODEL_NAMES => from_json(&Value::from(self.inner.model_names())),
            COOLDOWNS => {
                let pairs = self.inner.health().cooldowns(now_ms()).into_iter();
                let pairs = pairs.map(|(id, ms)| Value::Array(vec![id.into(), ms.into()]));
                from_json(&Value::Array(pairs.collect()))
            }
            WARNINGS => from_json(&Value::from(self.inner.warnings().to_vec())),
            _ => Err(to_js(Error::bad_request("Router.info: unknown op"))),
        }
    }
}

/// `kind` of [`JsRouter::modality`] beyond the top-level `modality`'s: chat, as pkg/router.js
/// numbers it.
const CHAT: u32 = 6;
const CHAT_STREAM: u32 = 7;

/// `op` of [`JsRouter::info`].
const MODEL_NAMES: u32 = 0;
const COOLDOWNS: u32 = 1;
const WARNINGS: u32 = 2;
