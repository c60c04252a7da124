//! Ends a streamed response when its client goes away.
//!
//! workerd never cancels the body of a response whose client disconnected, and the upstream
//! read that body is waiting on never settles, so the whole chain (the upstream fetch, its
//! reader, the timers, the stream state in wasm) stays alive for good: about 6 KB per dropped
//! client (bench/memory.mjs `--cut-every`). With the `enable_request_signal` compatibility flag
//! (worker/wrangler.toml), `request.signal` aborts when the client goes away, inside the
//! request's context; [`EndOnDisconnect`] then drops the inner stream right there, where
//! aborting the upstream fetch and cancelling its reader are still allowed.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::Stream;
use worker::js_sys;
use worker::wasm_bindgen::closure::Closure;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::web_sys;

use crate::app::ByteStream;

#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, inline_js = r#"
export function edgellm_on_abort(request, callback) {
  const signal = request.signal;
  if (!signal) return null;
  if (signal.aborted) {
    callback();
    return null;
  }
  signal.addEventListener("abort", callback);
  return () => {
    try {
      signal.removeEventListener("abort", callback);
    } catch {}
  };
}
"#)]
extern "C" {
    /// Calls `callback` when the request's signal aborts; returns the function that removes the
    /// listener (`null` without a signal, or when it had already aborted).
    fn edgellm_on_abort(request: &web_sys::Request, callback: &JsValue) -> JsValue;
}

#[derive(Default)]
struct Gone {
    yes: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

/// The abort listener; removed before its callback is freed, so a late abort never calls a
/// dropped closure.
struct Listener {
    remove: js_sys::Function,
    _callback: Closure<dyn FnMut()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.remove.call0(&JsValue::UNDEFINED);
    }
}

/// A response body that ends, dropping its source, once the client has gone away.
pub struct EndOnDisconnect {
    inner: Option<ByteStream>,
    gone: Rc<Gone>,
    _listener: Option<Listener>,
}

impl std::fmt::Debug for EndOnDisconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndOnDisconnect")
            .field("ended", &self.inner.is_none())
            .field("client_gone", &self.gone.yes.get())
            .finish()
    }
}

impl EndOnDisconnect {
    /// Watches `request`'s signal for the lifetime of `body`.
    pub fn new(body: ByteStream, request: &web_sys::Request) -> Self {
        let gone = Rc::new(Gone::default());
        let flag = gone.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            flag.yes.set(true);
            if let Some(w) = flag.waker.take() {
                w.wake();
            }
        });
        let remove = edgellm_on_abort(request, callback.as_ref());
        let listener = remove
            .dyn_into::<js_sys::Function>()
            .ok()
            .map(|remove| Listener {
                remove,
                _callback: callback,
            });
        Self {
            inner: Some(body),
            gone,
            _listener: listener,
        }
    }
}

impl Stream for EndOnDisconnect {
    type Item = <ByteStream as Stream>::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.gone.yes.get() {
            self.inner = None;
            return Poll::Ready(None);
        }
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = inner.as_mut().poll_next(cx);
        match polled {
            Poll::Pending => self.gone.waker.set(Some(cx.waker().clone())),
            Poll::Ready(None) => self.inner = None,
            Poll::Ready(Some(_)) => {}
        }
        polled
    }
}

#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, inline_js = r#"
export function edgellm_push_body(on_pull, on_cancel) {
  const s = { c: null, waiting: false, on_pull, on_cancel };
  s.stream = new ReadableStream(
    {
      start(c) {
        s.c = c;
      },
      pull() {
        if (s.waiting) {
          s.waiting = false;
          s.on_pull?.();
        }
      },
      cancel() {
        const f = s.on_cancel;
        s.on_pull = s.on_cancel = null;
        f?.();
      },
    },
    { highWaterMark: 4 },
  );
  return s;
}
export function edgellm_push_stream(s) {
  return s.stream;
}
export function edgellm_push(s, bytes) {
  try {
    s.c.enqueue(bytes.slice());
  } catch {
    return -1;
  }
  if (s.c.desiredSize > 0) return 1;
  s.waiting = true;
  return 0;
}
export function edgellm_push_end(s, error) {
  s.on_pull = s.on_cancel = null;
  try {
    if (error === undefined) s.c.close();
    else s.c.error(new Error(error));
  } catch {}
}
"#)]
extern "C" {
    /// The JS side of a [`pushed`] body: a `ReadableStream` and its controller.
    type PushBody;
    /// A body whose source calls `on_pull` when it wants more after [`edgellm_push`] said it
    /// was full, and `on_cancel` when the consumer cancels.
    fn edgellm_push_body(on_pull: &JsValue, on_cancel: &JsValue) -> PushBody;
    fn edgellm_push_stream(s: &PushBody) -> web_sys::ReadableStream;
    /// Enqueues a copy of `bytes`: 1 = room for more, 0 = full (wait for `on_pull`), -1 = the
    /// stream is closed or errored.
    fn edgellm_push(s: &PushBody, bytes: &[u8]) -> i32;
    /// Closes the stream (`error` absent) or errors it; its callbacks are forgotten first.
    fn edgellm_push_end(s: &PushBody, error: Option<String>);
}

/// Between the JS source callbacks and the task that pushes.
#[derive(Default)]
struct Pump {
    full: Cell<bool>,
    cancelled: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Pump {
    fn wake(&self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }
}

/// A response body fed by a task that pushes each item of `body` as it comes (ended when the
/// client goes away, [`EndOnDisconnect`]).
///
/// `worker`'s `from_stream` (wasm-streams) answers every `pull` of the `ReadableStream` with a
/// new promise from a new future (`future_to_promise`), an abort handle and a copy into a new
/// `Uint8Array` made in two calls; here the task that is woken by the upstream read anyway
/// enqueues right away, one call per item, and waits for a `pull` only when the stream's queue
/// is full (a client reading slower than the upstream writes).
pub fn pushed(body: ByteStream, request: &web_sys::Request) -> web_sys::ReadableStream {
    let pump = Rc::new(Pump::default());
    let pulled = pump.clone();
    let on_pull = Closure::<dyn FnMut()>::new(move || {
        pulled.full.set(false);
        pulled.wake();
    });
    let gone = pump.clone();
    let on_cancel = Closure::<dyn FnMut()>::new(move || {
        gone.cancelled.set(true);
        gone.wake();
    });
    let js = edgellm_push_body(on_pull.as_ref(), on_cancel.as_ref());
    let stream = edgellm_push_stream(&js);
    let mut body = EndOnDisconnect::new(body, request);
    worker::wasm_bindgen_futures::spawn_local(async move {
        let end = std::future::poll_fn(|cx| loop {
            if pump.cancelled.get() {
                return Poll::Ready(None);
            }
            if pump.full.get() {
                pump.waker.set(Some(cx.waker().clone()));
                return Poll::Pending;
            }
            match Pin::new(&mut body).poll_next(cx) {
                Poll::Pending => {
                    // A cancel must wake the task while it waits for the upstream too.
                    pump.waker.set(Some(cx.waker().clone()));
                    return Poll::Pending;
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(e.to_string())),
                Poll::Ready(Some(Ok(bytes))) => match edgellm_push(&js, &bytes) {
                    1 => {}
                    0 => pump.full.set(true),
                    _ => return Poll::Ready(None),
                },
            }
        })
        .await;
        // The source (and with it the upstream request) goes here, inside the request.
        drop(body);
        edgellm_push_end(&js, end);
        drop((on_pull, on_cancel));
    });
    stream
}
