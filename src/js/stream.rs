//! A pull handle over any chunk stream for JS (chat or text completion, direct or routed):
//! each `next()` resolves to the JSON text of an array holding every chunk decoded so far (one
//! network read usually yields several), so a stream costs one boundary crossing per network
//! read rather than per chunk. A chat chunk that still has the text an OpenAI-format upstream
//! sent goes in as that text (the official OpenAI client's output, upstream nulls and provider
//! fields included, and the gateway's), not serialized again. A [`StreamEnd`] watches the
//! chunks and prices the call, and runs its callbacks, when the stream ends.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::Stream;
use wasm_bindgen::prelude::*;

use super::accumulate::TextAccumulator;
use super::callbacks::{now_ms, Facts, LogCall, Logged};
use super::error::to_js;
use super::respond::{hidden_params, promise};
use crate::accumulate::Accumulator;
use crate::cost::{self, Usd};
use crate::engine::CallMeta;
use crate::modality::TextCompletionStream;
use crate::options::CallOptions;
use crate::router::{RouteInfo, RoutedChunks, RouterStream, RouterTextStream};
use crate::stream::{ChatSse, ChatStream, EncodeJson, SseEvents};
use crate::types::{ChatChunk, TextCompletionResponse, Usage};
use crate::Error;

/// A stream of typed chunks that knows its usage so far (final once it ended).
pub(crate) trait Chunks:
    Stream<Item = crate::Result<Self::Chunk>> + Unpin + Sized + 'static
{
    /// The chunk type. Written with [`EncodeJson`], like the Worker's SSE: a chat chunk that
    /// still has the upstream's text goes to JS as that text (what the official OpenAI client
    /// yields, and a quarter of the decode CPU saved by not serializing it again).
    type Chunk: EncodeJson;
    /// What gathers the chunks into the final response for callbacks.
    type Acc: Gather<Chunk = Self::Chunk>;
    /// The usage reported so far.
    fn usage(&self) -> Option<&Usage>;

    /// What [`ChunkStream`] reads its batches from.
    fn into_source(self, end: StreamEnd<Self::Acc>) -> Box<dyn Source> {
        Box::new(Watched {
            stream: self,
            end: Some(end),
        })
    }
}

/// Gathers a stream's chunks into the response a success callback gets.
pub(crate) trait Gather: Default + 'static {
    /// The chunk type.
    type Chunk;
    /// Adds one chunk.
    fn push(&mut self, chunk: &Self::Chunk);
    /// Hands the response to `f`.
    fn finish(self, f: impl FnOnce(Option<&str>, Logged<'_>));
}

impl Gather for Accumulator {
    type Chunk = ChatChunk;
    fn push(&mut self, chunk: &ChatChunk) {
        Accumulator::push(self, chunk);
    }
    fn finish(self, f: impl FnOnce(Option<&str>, Logged<'_>)) {
        let r = Accumulator::finish(self);
        f(Some(&r.id), Logged::Chat(&r));
    }
}

impl Gather for TextAccumulator {
    type Chunk = TextCompletionResponse;
    fn push(&mut self, chunk: &TextCompletionResponse) {
        TextAccumulator::push(self, chunk);
    }
    fn finish(self, f: impl FnOnce(Option<&str>, Logged<'_>)) {
        match TextAccumulator::finish(self) {
            Some(r) => f(
                Some(&r.id),
                Logged::Json(crate::types::to_value_via_text(&r).unwrap_or_default()),
            ),
            None => f(None, Logged::Json(serde_json::Value::Null)),
        }
    }
}

macro_rules! chunks {
    ($stream:ty, $chunk:ty, $acc:ty) => {
        impl Chunks for $stream {
            type Chunk = $chunk;
            type Acc = $acc;
            fn usage(&self) -> Option<&Usage> {
                <$stream>::usage(self)
            }
        }
    };
}
// Chat streams are read as SSE events when no callback needs the chunks gathered, so that an
// event the upstream wrote as edgellm would is handed on without a parse and a serialization
// (`ChatStream::into_sse`: the cutter the gateway uses).
macro_rules! sse_chunks {
    ($stream:ty) => {
        impl Chunks for $stream {
            type Chunk = ChatChunk;
            type Acc = Accumulator;
            fn usage(&self) -> Option<&Usage> {
                <$stream>::usage(self)
            }
            fn into_source(self, end: StreamEnd<Accumulator>) -> Box<dyn Source> {
                if end.log.is_some() {
                    return Box::new(Watched {
                        stream: self,
                        end: Some(end),
                    });
                }
                Box::new(WatchedSse {
                    stream: self.into_sse(),
                    end: Some(end),
                })
            }
        }
    };
}
sse_chunks!(ChatStream);
sse_chunks!(RouterStream);
chunks!(
    TextCompletionStream,
    TextCompletionResponse,
    TextAccumulator
);
chunks!(RouterTextStream, TextCompletionResponse, TextAccumulator);

/// What happens when a started stream ends: its cost (shown as `meta(true)`) and its
/// callbacks, with the chunks gathered only when a callback listens.
pub(crate) struct StreamEnd<A> {
    meta: CallMeta,
    options: CallOptions,
    route: Option<RouteInfo>,
    cost: Rc<Cell<Option<f64>>>,
    log: Option<(LogCall, A)>,
}

impl<A: Gather> StreamEnd<A> {
    /// For a stream started with `options`, routed by `route` if it was.
    pub(crate) fn new(
        meta: CallMeta,
        options: CallOptions,
        route: Option<RouteInfo>,
        log: LogCall,
    ) -> Self {
        Self {
            meta,
            options,
            route,
            cost: Rc::new(Cell::new(None)),
            log: (!log.is_empty()).then(|| (log, A::default())),
        }
    }

    /// Ends the stream held in `slot` once: at its first error or at its end, whichever comes
    /// first (the slot is empty afterwards).
    fn end_once(slot: &mut Option<Self>, usage: Option<&Usage>, result: Result<(), &Error>) {
        if let Some(end) = slot.take() {
            end.end(usage, result);
        }
    }

    fn end(self, usage: Option<&Usage>, result: Result<(), &Error>) {
        let cost = cost::stream_cost(&self.meta, usage, &self.options);
        self.cost.set(cost.map(Usd::to_f64));
        let Some((log, acc)) = self.log else {
            return;
        };
        // `meta.end_ms` was the first chunk; the call ended now.
        let mut meta = self.meta.clone();
        meta.end_ms = now_ms().max(meta.end_ms);
        match result {
            Ok(()) => acc.finish(|id, response| {
                let facts = Facts {
                    route: self.route.as_ref(),
                    metadata: self.options.metadata.as_ref(),
                    cost,
                    usage,
                    completion_start_ms: Some(self.meta.end_ms),
                };
                log.success(id, &meta, facts, response);
            }),
            Err(e) => log.failure(e, Some(&meta), self.route.as_ref()),
        }
    }
}

/// One typed stream and its end, behind an object-safe interface for [`ChunkStream`].
pub(crate) trait Source {
    /// Polls one chunk and appends its JSON to `out`.
    fn poll_json(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<u8>,
    ) -> Poll<Option<Result<(), Error>>>;
}

struct Watched<S: Chunks> {
    stream: S,
    end: Option<StreamEnd<S::Acc>>,
}

impl<S: Chunks> Source for Watched<S> {
    fn poll_json(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<u8>,
    ) -> Poll<Option<Result<(), Error>>> {
        match Pin::new(&mut self.stream).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some((_, acc)) = self.end.as_mut().and_then(|e| e.log.as_mut()) {
                    acc.push(&chunk);
                }
                Poll::Ready(Some(chunk.encode_json(out).map_err(|e| {
                    Error::decode(format!("cannot serialize a chunk: {e}"))
                })))
            }
            Poll::Ready(Some(Err(e))) => {
                StreamEnd::end_once(&mut self.end, self.stream.usage(), Err(&e));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                StreamEnd::end_once(&mut self.end, self.stream.usage(), Ok(()));
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A chat stream read as SSE events ([`Chunks::into_source`]), and its end.
struct WatchedSse<S> {
    stream: S,
    end: Option<StreamEnd<Accumulator>>,
}

/// What [`WatchedSse`] reads: SSE events and the usage so far.
trait SseSource: Stream<Item = crate::Result<SseEvents>> + Unpin {
    fn usage(&self) -> Option<&Usage>;
}

impl SseSource for ChatSse {
    fn usage(&self) -> Option<&Usage> {
        ChatSse::usage(self)
    }
}

impl SseSource for RoutedChunks<ChatSse> {
    fn usage(&self) -> Option<&Usage> {
        RoutedChunks::usage(self)
    }
}

impl<S: SseSource> Source for WatchedSse<S> {
    fn poll_json(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut Vec<u8>,
    ) -> Poll<Option<Result<(), Error>>> {
        loop {
            match Pin::new(&mut self.stream).poll_next(cx) {
                // An item may be empty (a usage-only chunk the caller did not ask for).
                Poll::Ready(Some(Ok(events))) if events.as_bytes().is_empty() => continue,
                Poll::Ready(Some(Ok(events))) => return Poll::Ready(Some(events.write_json(out))),
                Poll::Ready(Some(Err(e))) => {
                    StreamEnd::end_once(&mut self.end, self.stream.usage(), Err(&e));
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    StreamEnd::end_once(&mut self.end, self.stream.usage(), Ok(()));
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

struct Batches {
    source: Box<dyn Source>,
    /// An error that followed chunks in the same batch; reported by the next `next()`.
    error: Option<Error>,
}

impl Batches {
    fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<String, JsValue>>> {
        if let Some(e) = self.error.take() {
            return Poll::Ready(Some(Err(to_js(e))));
        }
        let mut buf = vec![b'['];
        let mut n = 0usize;
        loop {
            let mark = buf.len();
            if n > 0 {
                buf.push(b',');
            }
            match self.source.poll_json(cx, &mut buf) {
                Poll::Ready(Some(Ok(()))) => n += 1,
                other => {
                    buf.truncate(mark);
                    match other {
                        Poll::Ready(Some(Err(e))) if n == 0 => {
                            return Poll::Ready(Some(Err(to_js(e))))
                        }
                        Poll::Ready(Some(Err(e))) => {
                            self.error = Some(e);
                            break;
                        }
                        Poll::Ready(None) if n == 0 => return Poll::Ready(None),
                        Poll::Pending if n == 0 => return Poll::Pending,
                        _ => break,
                    }
                }
            }
        }
        buf.push(b']');
        // serde_json writes UTF-8 and wire texts are `str`s; the check cannot fail.
        Poll::Ready(Some(String::from_utf8(buf).map_err(|e| {
            to_js(Error::decode(format!("invalid UTF-8 in a chunk: {e}")))
        })))
    }
}

#[derive(Default)]
struct Shared {
    batches: RefCell<Option<Batches>>,
    /// The waker of a pending `next()`, so `cancel()` can settle it.
    waker: RefCell<Option<Waker>>,
}

/// A started stream of chunks (`chat.completion.chunk` or `text_completion`). Call `next()`
/// until it resolves to `undefined`; `cancel()` (or `free()`) drops the stream, which aborts
/// the HTTP request.
#[wasm_bindgen]
pub struct ChunkStream {
    shared: Rc<Shared>,
    hidden_params: String,
    response_cost: Rc<Cell<Option<f64>>>,
}

impl std::fmt::Debug for ChunkStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStream")
            .field("open", &self.shared.batches.borrow().is_some())
            .finish()
    }
}

impl ChunkStream {
    /// A handle over a started call's `stream`: `_hidden_params` say where it went (`route`
    /// for routed calls), and at its end it is priced with `options` and `log`'s callbacks run.
    pub(crate) fn new<S: Chunks>(
        stream: S,
        meta: CallMeta,
        options: CallOptions,
        route: Option<RouteInfo>,
        log: LogCall,
    ) -> Self {
        let hidden_params = hidden_params(&meta, route.as_ref(), None);
        let end = StreamEnd::<S::Acc>::new(meta, options, route, log);
        let response_cost = end.cost.clone();
        Self::wrap(stream.into_source(end), hidden_params, response_cost)
    }

    /// The handle over `source`: not generic, one copy for chat and text streams (the
    /// package's size).
    #[inline(never)]
    fn wrap(
        source: Box<dyn Source>,
        hidden_params: String,
        response_cost: Rc<Cell<Option<f64>>>,
    ) -> Self {
        let shared = Shared {
            batches: RefCell::new(Some(Batches {
                source,
                error: None,
            })),
            waker: RefCell::new(None),
        };
        Self {
            shared: Rc::new(shared),
            hidden_params,
            response_cost,
        }
    }
}

#[wasm_bindgen]
impl ChunkStream {
    /// Resolves to the JSON text of a non-empty array of chunks, or to `undefined` at the end
    /// (or after `cancel()`). Rejects like `completion()` on a stream error. Call it again
    /// only after the previous promise settled.
    pub fn next(&self) -> js_sys::Promise {
        let shared = self.shared.clone();
        promise(Box::pin(async move {
            // The RefCell is borrowed only inside each poll, so `cancel()` can run between polls.
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
        }))
    }

    /// Stops the stream and aborts the HTTP request; a pending `next()` resolves to `undefined`.
    pub fn cancel(&self) {
        let dropped = self.shared.batches.borrow_mut().take();
        drop(dropped);
        let waker = self.shared.waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// `meta(false)`: `_hidden_params` of the call, as JSON text. `meta(true)`: the call's
    /// cost in USD once the stream ended with the provider's usage; `undefined` before that or
    /// when no price is known. One export for both (each costs wasm-bindgen glue).
    pub fn meta(&self, cost: bool) -> JsValue {
        if cost {
            self.response_cost
                .get()
                .map_or(JsValue::UNDEFINED, JsValue::from_f64)
        } else {
            JsValue::from_str(&self.hidden_params)
        }
    }
}
