//! `Router` for JS (LiteLLM's `Router(model_list=…)`), and success/failure callbacks.
//!
//! Callbacks follow LiteLLM: `success_callback` / `failure_callback` functions given per call
//! (in the params) or module-wide (`setCallbacks`), called as `(kwargs, response, startTime,
//! endTime)` with `kwargs.response_cost` and `kwargs.standard_logging_object`; for streams once
//! the stream ended. They are fire-and-forget: what they throw or reject is swallowed.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::Stream;
use js_sys::{Array, Function, Reflect};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use super::completion::json_err;
use super::cost::{from_json, to_json};
use super::env::JsEnv;
use super::error::to_js;
use crate::accumulate::Accumulator;
use crate::cost::{self, Usd};
use crate::engine::CallMeta;
use crate::logging::{self, CallRecord, Outcome};
use crate::options::{self, CallOptions};
use crate::router::{RouteInfo, Router as CoreRouter, RouterStream};
use crate::types::{ChatChunk, ChatRequest, ChatResponse};
use crate::wasm::FetchHost;
use crate::Error;

// -- Callbacks

/// Callback functions for one call.
#[derive(Debug, Clone, Default)]
pub(crate) struct Callbacks {
    success: Vec<Function>,
    failure: Vec<Function>,
    /// Logger names among the callbacks (`"langfuse"`, …): see `super::logging`.
    names: super::logging::Names,
}

thread_local! {
    static GLOBAL: RefCell<Callbacks> = RefCell::new(Callbacks::default());
}

fn functions(v: &JsValue) -> Vec<Function> {
    if let Some(f) = v.dyn_ref::<Function>() {
        return vec![f.clone()];
    }
    if Array::is_array(v) {
        // Names of LiteLLM's integrations ("langfuse", …) are `Names`, not functions.
        return Array::from(v)
            .iter()
            .filter_map(|x| x.dyn_into::<Function>().ok())
            .collect();
    }
    Vec::new()
}

impl Callbacks {
    /// The callbacks in `params` (`success_callback`, `failure_callback`) plus the module-wide
    /// ones.
    pub(crate) fn for_call(params: &JsValue) -> Self {
        let get = |k: &str| Reflect::get(params, &k.into()).unwrap_or(JsValue::UNDEFINED);
        let mut cb = Callbacks {
            success: functions(&get("success_callback")),
            failure: functions(&get("failure_callback")),
            names: super::logging::Names::from_values(
                &get("success_callback"),
                &get("failure_callback"),
            ),
        };
        GLOBAL.with(|g| {
            let g = g.borrow();
            cb.success.extend(g.success.iter().cloned());
            cb.failure.extend(g.failure.iter().cloned());
            cb.names.extend(&g.names);
        });
        cb
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.success.is_empty() && self.failure.is_empty() && self.names.is_empty()
    }

    /// Whether anything listens for failures (functions or logger names).
    pub(crate) fn has_failure(&self) -> bool {
        !self.failure.is_empty() || self.names.has_failure()
    }

    /// Calls the success or failure callbacks with LiteLLM's arguments.
    pub(crate) fn fire(&self, rec: &CallRecord<'_>, outcome: &Outcome<'_>, end_ms: u64) {
        self.names.log(rec, outcome, end_ms);
        let fns = match outcome {
            Outcome::Success { .. } => &self.success,
            Outcome::Failure(_) => &self.failure,
        };
        if fns.is_empty() {
            return;
        }
        let payload = logging::payload(rec, outcome);
        let kwargs = logging::callback_kwargs(rec, &payload);
        let response = match outcome {
            Outcome::Success { response, .. } => response
                .and_then(|r| serde_json::to_value(r).ok())
                .and_then(|v| from_json(&v).ok())
                .unwrap_or(JsValue::NULL),
            Outcome::Failure(e) => to_js((*e).clone()),
        };
        let Ok(kwargs) = from_json(&kwargs) else {
            return;
        };
        let args = Array::of4(
            &kwargs,
            &response,
            &js_sys::Date::new(&JsValue::from_f64(rec.meta.start_ms as f64)),
            &js_sys::Date::new(&JsValue::from_f64(end_ms as f64)),
        );
        for f in fns {
            // A throwing callback must not break the call; a rejecting one must not surface as
            // an unhandled rejection.
            if let Ok(ret) = f.apply(&JsValue::NULL, &args) {
                if ret.is_instance_of::<js_sys::Promise>() {
                    if let Ok(catch) = Reflect::get(&ret, &"catch".into()) {
                        let swallow = Closure::once_into_js(|_: JsValue| {});
                        if let Some(catch) = catch.dyn_ref::<Function>() {
                            let _ = catch.call1(&ret, &swallow);
                        }
                    }
                }
            }
        }
    }
}

/// Sets the module-wide callbacks (LiteLLM's `litellm.success_callback` /
/// `litellm.failure_callback`): `setCallbacks({ success_callback: [fn], failure_callback: [fn] })`.
/// Replaces what was set before; entries that are not functions are ignored.
#[wasm_bindgen(js_name = setCallbacks)]
pub fn set_callbacks(config: &JsValue) {
    let get = |k: &str| Reflect::get(config, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let cb = Callbacks {
        success: functions(&get("success_callback")),
        failure: functions(&get("failure_callback")),
        names: super::logging::Names::from_values(
            &get("success_callback"),
            &get("failure_callback"),
        ),
    };
    GLOBAL.with(|g| *g.borrow_mut() = cb);
}

fn call_id() -> String {
    let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{a:08x}-{b:08x}")
}

// -- Router

/// `_hidden_params` of a routed response (LiteLLM's names, plus the router's headers).
fn hidden_params(meta: &CallMeta, route: &RouteInfo, cost: Option<Usd>) -> Value {
    json!({
        "custom_llm_provider": meta.provider,
        "model": meta.model,
        "api_base": meta.api_base,
        "response_cost": cost.map(Usd::to_f64),
        "model_id": route.deployment_id,
        "model_group": route.model_group,
        "attempts": route.requests,
        "additional_headers": {
            "x-litellm-model-id": route.deployment_id,
            "x-litellm-model-group": route.model_group,
            "x-litellm-attempted-retries": route.retries,
            "x-litellm-attempted-fallbacks": route.fallbacks,
            "x-litellm-response-cost": cost.map(Usd::to_f64),
        },
    })
}

/// The request as a typed chat request for logging (a request the router rejected may not
/// parse; it is logged with its model only).
fn request_for_log(v: &Value) -> ChatRequest {
    options::parse_chat(v.clone()).map_or_else(
        |_| ChatRequest {
            model: v["model"].as_str().unwrap_or_default().to_string(),
            ..Default::default()
        },
        |(r, _)| r,
    )
}

/// A LiteLLM Router: load balancing, retries, cooldowns and fallbacks over a `model_list`.
///
/// `new Router({ model_list, routing_strategy, num_retries, timeout, fallbacks,
/// context_window_fallbacks, content_policy_fallbacks, allowed_fails, cooldown_time,
/// retry_policy, default_fallbacks, max_fallbacks })`. State (cooldowns, usage, latency) lives
/// in the instance.
#[wasm_bindgen(js_name = Router)]
#[derive(Debug, Clone)]
pub struct JsRouter {
    inner: CoreRouter,
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
    pub fn completion(&self, params: JsValue) -> js_sys::Promise {
        let router = self.inner.clone();
        let callbacks = Callbacks::for_call(&params);
        wasm_bindgen_futures::future_to_promise(async move {
            let request = to_json(&params, "completion params")?;
            let start_ms = js_sys::Date::now() as u64;
            let result = router.completion(&FetchHost, &JsEnv, request.clone()).await;
            let end_ms = js_sys::Date::now() as u64;
            match result {
                Ok(done) => {
                    let c = &done.completion;
                    if !callbacks.is_empty() {
                        let req = request_for_log(&request);
                        let rec = CallRecord {
                            route: Some(&done.route),
                            metadata: done.options.metadata.as_ref(),
                            cost: done.response_cost,
                            ..CallRecord::new(&c.response.id, "completion", &req, &c.meta)
                        };
                        let outcome = Outcome::Success {
                            response: Some(&c.response),
                            usage: None,
                        };
                        callbacks.fire(&rec, &outcome, end_ms);
                    }
                    let mut v = serde_json::to_value(&c.response).map_err(json_err)?;
                    v["_hidden_params"] = hidden_params(&c.meta, &done.route, done.response_cost);
                    from_json(&v)
                }
                Err(e) => {
                    if callbacks.has_failure() {
                        let req = request_for_log(&request);
                        let meta = CallMeta {
                            model: req.model.clone(),
                            start_ms,
                            end_ms,
                            ..Default::default()
                        };
                        let id = call_id();
                        let rec = CallRecord {
                            metadata: request.get("metadata"),
                            ..CallRecord::new(&id, "completion", &req, &meta)
                        };
                        callbacks.fire(&rec, &Outcome::Failure(&e), end_ms);
                    }
                    Err(to_js(e))
                }
            }
        })
    }

    /// A streaming chat completion through the router. Resolves, once the first chunk arrived
    /// (retries and fallbacks happen before it), to a stream handle with the same interface as
    /// `completionStream()`'s (`next()`, `cancel()`, `hiddenParams`).
    #[wasm_bindgen(js_name = completionStream)]
    pub fn completion_stream(&self, params: JsValue) -> js_sys::Promise {
        let router = self.inner.clone();
        let callbacks = Callbacks::for_call(&params);
        wasm_bindgen_futures::future_to_promise(async move {
            let request = to_json(&params, "completion params")?;
            let start_ms = js_sys::Date::now() as u64;
            let started = match router
                .completion_stream(&FetchHost, &JsEnv, request.clone())
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    if callbacks.has_failure() {
                        let end_ms = js_sys::Date::now() as u64;
                        let req = request_for_log(&request);
                        let meta = CallMeta {
                            model: req.model.clone(),
                            start_ms,
                            end_ms,
                            ..Default::default()
                        };
                        let id = call_id();
                        let rec = CallRecord::new(&id, "completion", &req, &meta);
                        callbacks.fire(&rec, &Outcome::Failure(&e), end_ms);
                    }
                    return Err(to_js(e));
                }
            };
            let hidden = hidden_params(&started.meta, &started.route, None).to_string();
            let log = StreamLog {
                request: request_for_log(&request),
                meta: started.meta,
                route: started.route,
                options: started.options,
                callbacks,
                acc: Accumulator::new(),
            };
            Ok(RouterChunkStream::new(started.stream, log, hidden).into())
        })
    }

    /// Settings that were read but have no effect here (e.g. `redis_host`).
    pub fn warnings(&self) -> Vec<String> {
        self.inner.warnings().to_vec()
    }

    /// Public model names (`/v1/models`).
    #[wasm_bindgen(js_name = modelNames)]
    pub fn model_names(&self) -> Vec<String> {
        self.inner.model_names()
    }

    /// Deployments cooling down now: `[[deploymentId, msLeft], …]`.
    pub fn cooldowns(&self) -> Result<JsValue, JsValue> {
        let now = js_sys::Date::now() as u64;
        from_json(&json!(self.inner.health().cooldowns(now)))
    }
}

// -- Routed streams

/// What a stream's end needs for callbacks.
struct StreamLog {
    request: ChatRequest,
    meta: CallMeta,
    route: RouteInfo,
    options: CallOptions,
    callbacks: Callbacks,
    acc: Accumulator,
}

impl StreamLog {
    fn finish(self, usage: Option<crate::types::Usage>, error: Option<&Error>) {
        if self.callbacks.is_empty() {
            return;
        }
        let end_ms = js_sys::Date::now() as u64;
        let response: ChatResponse = self.acc.finish();
        let usage = usage.or_else(|| response.usage.clone());
        let cost = cost::stream_cost(&self.meta, usage.as_ref(), &self.options);
        let rec = CallRecord {
            stream: true,
            route: Some(&self.route),
            metadata: self.options.metadata.as_ref(),
            completion_start_ms: Some(self.meta.end_ms),
            cost,
            ..CallRecord::new(&response.id, "completion", &self.request, &self.meta)
        };
        let outcome = match error {
            Some(e) => Outcome::Failure(e),
            None => Outcome::Success {
                response: Some(&response),
                usage: usage.as_ref(),
            },
        };
        self.callbacks.fire(&rec, &outcome, end_ms);
    }
}

struct Batches {
    stream: RouterStream,
    log: Option<StreamLog>,
    /// An error that followed chunks in the same batch; reported by the next `next()`.
    error: Option<Error>,
}

impl Batches {
    fn end(&mut self, error: Option<&Error>) {
        if let Some(log) = self.log.take() {
            log.finish(self.stream.usage().cloned(), error);
        }
    }

    fn push(&mut self, buf: &mut Vec<u8>, n: usize, chunk: &ChatChunk) -> Result<(), JsValue> {
        if let Some(log) = &mut self.log {
            log.acc.push(chunk);
        }
        if n > 0 {
            buf.push(b',');
        }
        serde_json::to_writer(&mut *buf, chunk).map_err(json_err)
    }

    fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<String, JsValue>>> {
        if let Some(e) = self.error.take() {
            return Poll::Ready(Some(Err(to_js(e))));
        }
        let mut buf = vec![b'['];
        let mut n = 0usize;
        loop {
            match Pin::new(&mut self.stream).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Err(e) = self.push(&mut buf, n, &chunk) {
                        return Poll::Ready(Some(Err(e)));
                    }
                    n += 1;
                }
                Poll::Ready(Some(Err(e))) => {
                    self.end(Some(&e));
                    if n == 0 {
                        return Poll::Ready(Some(Err(to_js(e))));
                    }
                    self.error = Some(e);
                    break;
                }
                Poll::Ready(None) => {
                    self.end(None);
                    if n == 0 {
                        return Poll::Ready(None);
                    }
                    break;
                }
                Poll::Pending if n == 0 => return Poll::Pending,
                Poll::Pending => break,
            }
        }
        buf.push(b']');
        Poll::Ready(Some(String::from_utf8(buf).map_err(|e| {
            to_js(Error::decode(format!("invalid UTF-8 in a chunk: {e}")))
        })))
    }
}

#[derive(Default)]
struct Shared {
    batches: RefCell<Option<Batches>>,
    waker: RefCell<Option<Waker>>,
}

/// A routed chat stream: `next()` resolves to the JSON text of an array of chunks, or to
/// `undefined` at the end; `cancel()` aborts the request.
#[wasm_bindgen]
pub struct RouterChunkStream {
    shared: Rc<Shared>,
    hidden_params: String,
}

impl std::fmt::Debug for RouterChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterChunkStream")
            .field("open", &self.shared.batches.borrow().is_some())
            .finish()
    }
}

impl RouterChunkStream {
    fn new(stream: RouterStream, log: StreamLog, hidden_params: String) -> Self {
        let shared = Shared {
            batches: RefCell::new(Some(Batches {
                stream,
                log: Some(log),
                error: None,
            })),
            waker: RefCell::new(None),
        };
        Self {
            shared: Rc::new(shared),
            hidden_params,
        }
    }
}

#[wasm_bindgen]
impl RouterChunkStream {
    /// Resolves to the JSON text of a non-empty array of chunks, or `undefined` at the end.
    pub fn next(&self) -> js_sys::Promise {
        let shared = self.shared.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let item = futures_util::future::poll_fn(|cx| {
                let mut slot = shared.batches.borrow_mut();
                let Some(batches) = slot.as_mut() else {
                    return Poll::Ready(None);
                };
                let r = batches.poll_batch(cx);
                if r.is_pending() {
                    *shared.waker.borrow_mut() = Some(cx.waker().clone());
                }
                r
            })
            .await;
            match item {
                None => Ok(JsValue::UNDEFINED),
                Some(Ok(text)) => Ok(text.into()),
                Some(Err(e)) => Err(e),
            }
        })
    }

    /// Stops the stream and aborts the request; a pending `next()` resolves to `undefined`.
    pub fn cancel(&self) {
        let dropped = self.shared.batches.borrow_mut().take();
        drop(dropped);
        if let Some(w) = self.shared.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// `_hidden_params` of the call, as JSON text.
    #[wasm_bindgen(getter, js_name = hiddenParams)]
    pub fn hidden_params(&self) -> String {
        self.hidden_params.clone()
    }
}
