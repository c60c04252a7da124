//! Chat through the router: `completion` and `completion_stream`.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};
use serde_json::{Map, Value};

use super::health::Health;
use super::modality::{unerase, CallFuture, Erased};
use super::{RouteInfo, RouteOutput, Router};
use crate::config::layered_env;
use crate::cost::{self, Usd};
use crate::engine::{self, CallMeta, Completion, WireCompletion};
use crate::host::{Env, Host};
use crate::options::CallOptions;
use crate::stream::{ChatSse, ChatStream, SseEvents};
use crate::types::{ChatChunk, Put, Usage};
use crate::{Error, Result};

/// A routed, finished chat completion.
#[derive(Debug, Clone)]
pub struct RoutedCompletion {
    /// The response and call facts.
    pub completion: Completion,
    /// The route taken.
    pub route: RouteInfo,
    /// The options the answering deployment was called with (pricing, metadata).
    pub options: CallOptions,
    /// `_hidden_params.response_cost`, at the deployment's prices.
    pub response_cost: Option<Usd>,
}

/// A routed chat stream that has delivered its first chunk (so no fallback happens any more).
#[derive(Debug)]
pub struct RoutedStream {
    /// The chunks.
    pub stream: RouterStream,
    /// Call facts (end = first chunk).
    pub meta: CallMeta,
    /// The route taken.
    pub route: RouteInfo,
    /// The options the answering deployment was called with (pricing for
    /// [`cost::stream_cost`]).
    pub options: CallOptions,
}

/// A routed chat completion as JSON text ([`Router::completion_wire`]).
#[derive(Debug, Clone)]
pub struct RoutedWire {
    /// The response text and call facts.
    pub completion: WireCompletion,
    /// The route taken.
    pub route: RouteInfo,
    /// The options the answering deployment was called with (pricing, metadata).
    pub options: CallOptions,
    /// The call's cost at the deployment's prices (`x-litellm-response-cost`).
    pub response_cost: Option<Usd>,
}

struct ChatOut(Completion, CallOptions);

struct WireOut(WireCompletion, CallOptions);

impl RouteOutput for ChatOut {
    fn usage(&self) -> Option<&Usage> {
        self.0.response.usage.as_ref()
    }
}

type EndHook = Box<dyn FnOnce(Result<Option<Usage>, &Error>)>;

/// Releases the deployment's in-flight slot when the stream ends or is dropped.
pub(super) struct Slot {
    health: Rc<RefCell<Health>>,
    id: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.health.borrow_mut().record_end(&self.id);
    }
}

/// Shared between the stream and the end hook installed on the inner [`ChatStream`] (also
/// used by routed text-completion streams, which run on a [`ChatStream`] too).
#[derive(Default)]
pub(super) struct StreamShared {
    /// Set once the first chunk went out: before that, an end is the router's business.
    delivered: Cell<bool>,
    hooks: RefCell<Vec<EndHook>>,
    slot: RefCell<Option<Slot>>,
    /// The usage of a stream that ended without any chunk.
    ended: RefCell<Option<Option<Usage>>>,
}

impl StreamShared {
    /// Runs `f` when the delivered stream ends, or now if it already ended before delivery.
    pub(super) fn add_hook(&self, f: impl FnOnce(Result<Option<Usage>, &Error>) + 'static) {
        let ended = self.ended.borrow().clone();
        match ended {
            Some(usage) => f(Ok(usage)),
            None => self.hooks.borrow_mut().push(Box::new(f)),
        }
    }

    /// The end hook for the inner [`ChatStream`] of a routed stream to deployment `id`:
    /// records tokens, releases the in-flight slot, runs the caller's hooks.
    pub(super) fn end_hook(
        self: &Rc<Self>,
        health: Rc<RefCell<Health>>,
        id: String,
        start_ms: u64,
    ) -> impl FnOnce(Result<Option<Usage>, &Error>) + 'static {
        let shared = self.clone();
        move |end| {
            if !shared.delivered.get() {
                // Ended before any chunk: an error is a failed attempt (the router sees it
                // from `next()`); an empty success is kept for late hooks.
                if let Ok(u) = &end {
                    *shared.ended.borrow_mut() = Some(u.clone());
                }
                return;
            }
            {
                let mut h = health.borrow_mut();
                if let Ok(Some(u)) = &end {
                    h.record_tokens(&id, start_ms, u.total_tokens);
                }
            }
            shared.slot.borrow_mut().take();
            let hooks = std::mem::take(&mut *shared.hooks.borrow_mut());
            for f in hooks {
                f(match &end {
                    Ok(u) => Ok(u.clone()),
                    Err(e) => Err(*e),
                });
            }
        }
    }
}

impl Router {
    /// Marks a routed stream as delivered to the caller: the call stays in flight (a slot for
    /// least-busy routing) until the stream ends or is dropped.
    pub(super) fn hold(&self, shared: &StreamShared, id: &str) {
        self.health_rc().borrow_mut().record_hold(id);
        *shared.slot.borrow_mut() = Some(Slot {
            health: self.health_rc(),
            id: id.to_string(),
        });
        shared.delivered.set(true);
    }
}

struct StreamOut {
    first: Option<ChatChunk>,
    stream: ChatStream,
    meta: CallMeta,
    options: CallOptions,
    shared: Rc<StreamShared>,
}

/// The chunks of a routed stream (chat: [`RouterStream`]; text completion:
/// [`super::RouterTextStream`]): the first one, already received while routing, then the rest.
/// Ends after the last chunk or one error.
pub struct RoutedChunks<S: Stream> {
    first: Option<S::Item>,
    rest: S,
    pub(super) shared: Rc<StreamShared>,
}

/// A routed chat stream.
pub type RouterStream = RoutedChunks<ChatStream>;

/// What a routed stream needs of the stream it wraps besides its chunks.
pub trait UsageSoFar {
    /// The usage reported so far (final after the end).
    fn usage(&self) -> Option<&Usage>;
}

impl UsageSoFar for ChatStream {
    fn usage(&self) -> Option<&Usage> {
        ChatStream::usage(self)
    }
}

impl UsageSoFar for ChatSse {
    fn usage(&self) -> Option<&Usage> {
        ChatSse::usage(self)
    }
}

impl RouterStream {
    /// This stream as SSE events ([`ChatStream::into_sse`]): the first chunk's event, then
    /// the rest, forwarded as the upstream sent it where nothing would rewrite it. Same
    /// hooks, usage and end.
    pub fn into_sse(self) -> RoutedChunks<ChatSse> {
        RoutedChunks::new(
            self.first.map(|r| r.map(|c| SseEvents::of_chunk(&c))),
            self.rest.into_sse(),
            self.shared,
        )
    }
}

impl<S: Stream> RoutedChunks<S> {
    /// `first` (if the stream had one) is yielded before the rest of `rest`.
    pub(super) fn new(first: Option<S::Item>, rest: S, shared: Rc<StreamShared>) -> Self {
        Self {
            first,
            rest,
            shared,
        }
    }
}

impl<S: Stream + std::fmt::Debug> std::fmt::Debug for RoutedChunks<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutedChunks")
            .field("first_pending", &self.first.is_some())
            .field("rest", &self.rest)
            .finish()
    }
}

impl<S: Stream + UsageSoFar> RoutedChunks<S> {
    /// Calls `f` once when the stream ends: with the final usage on success, with the error
    /// otherwise (callbacks, cost, spend). Several hooks may be added. Not called if the stream
    /// is dropped before its end.
    pub fn on_end(self, f: impl FnOnce(Result<Option<Usage>, &Error>) + 'static) -> Self {
        self.shared.add_hook(f);
        self
    }

    /// The usage reported so far (final after the end).
    pub fn usage(&self) -> Option<&Usage> {
        self.rest.usage()
    }
}

impl<S: Stream + Unpin> Stream for RoutedChunks<S>
where
    S::Item: Unpin,
{
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(c) = self.first.take() {
            return Poll::Ready(Some(c));
        }
        self.rest.poll_next_unpin(cx)
    }
}

impl Router {
    /// A chat completion through the router. `request` is an OpenAI chat body whose `model`
    /// names a model group, plus LiteLLM options (`num_retries`, `fallbacks`, `timeout`,
    /// `metadata`, `mock_response`, …).
    pub async fn completion<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedCompletion> {
        let request = into_map(request)?;
        let env = layered_env(&self.config, env);
        let env: &dyn Env = &env;
        let routed = self
            .route(host, request, |dc| async move {
                let (req, opts) = dc.parse_chat()?;
                let c = engine::completion(host, env, req, opts.clone()).await?;
                Ok(ChatOut(c, opts))
            })
            .await?;
        let ChatOut(completion, options) = routed.output;
        let response_cost = cost::response_cost(&completion, &options);
        Ok(RoutedCompletion {
            completion,
            route: routed.route,
            options,
            response_cost,
        })
    }

    /// [`Router::completion`] answered as JSON text ([`engine::completion_wire`]): what a
    /// gateway sends back, with the cost at the deployment's prices.
    pub async fn completion_wire<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedWire> {
        let request = into_map(request)?;
        let env = layered_env(&self.config, env);
        let env: &dyn Env = &env;
        let call = |mut dc: super::DeploymentCall| -> CallFuture<'_> {
            Box::pin(async move {
                // The call's own body: parsed in place, not cloned (`DeploymentCall::parse_chat`).
                let body = std::mem::take(&mut dc.body);
                let (req, mut opts) = crate::options::parse_chat(Value::Object(body))?;
                dc.apply_pricing(&mut opts);
                let c = engine::completion_wire_with(host, env, req, &opts).await?;
                let usage = c.usage.clone();
                Ok(Erased::new(WireOut(c, opts), usage))
            })
        };
        let routed = self.route_erased(host, request, &call).await?;
        let WireOut(completion, options) = *unerase(routed.output.value)?;
        let response_cost = cost::wire_cost(&completion, &options);
        Ok(RoutedWire {
            completion,
            route: routed.route,
            options,
            response_cost,
        })
    }

    /// A streaming chat completion through the router. Retries and fallbacks apply until the
    /// first chunk arrives (an error or a cut stream before it counts as a failed attempt);
    /// after that, an error ends the stream.
    pub async fn completion_stream<H: Host>(
        &self,
        host: &H,
        env: &dyn Env,
        request: Value,
    ) -> Result<RoutedStream> {
        let mut request = into_map(request)?;
        // Lets the config pick `stream_timeout`.
        request.put("stream", Value::Bool(true));
        let env = layered_env(&self.config, env);
        let env: &dyn Env = &env;
        let health = self.health_rc();
        let call = |dc: super::DeploymentCall| -> CallFuture<'_> {
            let health = health.clone();
            Box::pin(async move {
                let (req, opts) = dc.parse_chat()?;
                let started = engine::completion_stream(host, env, req, opts.clone()).await?;
                let shared = Rc::new(StreamShared::default());
                let hook = shared.end_hook(health, dc.deployment.id.clone(), started.meta.start_ms);
                let mut stream = started.stream.on_end(hook);
                let first = stream.next().await.transpose()?;
                let mut meta = started.meta;
                meta.end_ms = host.now_ms();
                let out = StreamOut {
                    first,
                    stream,
                    meta,
                    options: opts,
                    shared,
                };
                Ok(Erased::new(out, None))
            })
        };
        let routed = self.route_erased(host, request, &call).await?;
        let out = *unerase::<StreamOut>(routed.output.value)?;
        self.hold(&out.shared, &routed.route.deployment_id);
        Ok(RoutedStream {
            stream: RouterStream::new(out.first.map(Ok), out.stream, out.shared),
            meta: out.meta,
            route: routed.route,
            options: out.options,
        })
    }
}

pub(super) fn into_map(request: Value) -> Result<Map<String, Value>> {
    match request {
        Value::Object(m) => Ok(m),
        _ => Err(Error::bad_request("request body must be a JSON object")),
    }
}
