//! A pull handle over a [`ChatStream`] for JS: each `next()` resolves to the JSON text of an
//! array holding every chunk decoded so far (one network read usually yields several), so a
//! stream costs one boundary crossing per network read rather than per chunk.

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::Stream;
use wasm_bindgen::prelude::*;

use super::completion::json_err;
use super::error::to_js;
use crate::stream::ChatStream;
use crate::Error;

struct Batches {
    stream: ChatStream,
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
            match Pin::new(&mut self.stream).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    if n > 0 {
                        buf.push(b',');
                    }
                    if let Err(e) = serde_json::to_writer(&mut buf, &chunk) {
                        return Poll::Ready(Some(Err(json_err(e))));
                    }
                    n += 1;
                }
                Poll::Ready(Some(Err(e))) if n == 0 => return Poll::Ready(Some(Err(to_js(e)))),
                Poll::Ready(Some(Err(e))) => {
                    self.error = Some(e);
                    break;
                }
                Poll::Ready(None) if n == 0 => return Poll::Ready(None),
                Poll::Pending if n == 0 => return Poll::Pending,
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        buf.push(b']');
        // serde_json writes UTF-8; the check cannot fail.
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

/// A started chat stream. Call `next()` until it resolves to `undefined`; `cancel()` (or
/// `free()`) drops the stream, which aborts the HTTP request.
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
    pub(crate) fn new(
        stream: ChatStream,
        hidden_params: String,
        response_cost: Rc<Cell<Option<f64>>>,
    ) -> Self {
        let shared = Shared {
            batches: RefCell::new(Some(Batches {
                stream,
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
    /// Resolves to the JSON text of a non-empty array of `chat.completion.chunk` objects, or to
    /// `undefined` at the end (or after `cancel()`). Rejects like `completion()` on a stream
    /// error. Call it again only after the previous promise settled.
    pub fn next(&self) -> js_sys::Promise {
        let shared = self.shared.clone();
        wasm_bindgen_futures::future_to_promise(async move {
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
        })
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

    /// `_hidden_params` of the call, as JSON text.
    #[wasm_bindgen(getter, js_name = hiddenParams)]
    pub fn hidden_params(&self) -> String {
        self.hidden_params.clone()
    }

    /// The call's cost in USD once the stream ended with the provider's usage; `undefined`
    /// before that or when no price is known.
    #[wasm_bindgen(getter, js_name = responseCost)]
    pub fn response_cost(&self) -> Option<f64> {
        self.response_cost.get()
    }
}
