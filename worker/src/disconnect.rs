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
