//! `Host::send` over the global `fetch`: one `AbortController` per request, an idle timeout
//! that aborts with a timeout reason, and a body stream that owns the abort guard so dropping
//! or cancelling the stream aborts the HTTP request.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};
use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit, Response};

use super::timer::Timer;
use crate::http::{BodyStream, Headers, HttpRequest, HttpResponse};
use crate::{Error, ErrorKind, Result};

#[wasm_bindgen]
extern "C" {
    // The global `fetch`, looked up at call time: it exists in browsers, Web Workers, Node ≥ 18
    // and workerd, where `window.fetch` does not (no `window` in Node or Workers). Looking it up
    // per call also lets tests and users wrap `globalThis.fetch`.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

/// Owns a request's `AbortController` and its timeout. Dropping it aborts the request unless
/// the body was read to the end.
struct AbortGuard {
    controller: AbortController,
    deadline: Option<(Timer, f64)>,
    timed_out: Rc<Cell<bool>>,
    complete: bool,
}

impl AbortGuard {
    fn new(timeout_ms: Option<u64>) -> Result<Self> {
        let controller = AbortController::new().map_err(|e| {
            js_error(
                ErrorKind::Connection,
                "cannot create an AbortController",
                &e,
            )
        })?;
        let timed_out = Rc::new(Cell::new(false));
        let deadline = timeout_ms.map(|ms| {
            let (flag, ctrl) = (timed_out.clone(), controller.clone());
            let timer = Timer::new(move || {
                // The flag, not the rejection value, decides the error kind: runtimes differ in
                // what a fetch aborted with a reason rejects with.
                flag.set(true);
                let reason = js_sys::Error::new(&format!("request timed out after {ms} ms"));
                reason.set_name("TimeoutError");
                ctrl.abort_with_reason(&reason);
            });
            (timer, ms as f64)
        });
        Ok(Self {
            controller,
            deadline,
            timed_out,
            complete: false,
        })
    }

    /// Starts the timeout (if any, and not already running): waiting for headers or a chunk.
    fn arm(&mut self) {
        if let Some((timer, ms)) = &mut self.deadline {
            timer.arm(*ms);
        }
    }

    /// Stops the timeout: data arrived.
    fn disarm(&mut self) {
        if let Some((timer, _)) = &mut self.deadline {
            timer.disarm();
        }
    }

    /// Classifies a rejection of `fetch` or of a body read.
    fn error(&self, e: &JsValue) -> Error {
        if self.timed_out.get() {
            let ms = self.deadline.as_ref().map_or(0.0, |(_, ms)| *ms);
            return Error::new(
                ErrorKind::Timeout,
                format!("request timed out after {ms} ms without a response"),
            );
        }
        let kind = match js_name(e).as_deref() {
            Some("AbortError") => ErrorKind::Cancelled,
            Some("TimeoutError") => ErrorKind::Timeout,
            // fetch rejects with a TypeError for network failures (DNS, refused, reset, CORS).
            _ => ErrorKind::Connection,
        };
        js_error(kind, "fetch failed", e)
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        self.disarm();
        if !self.complete {
            self.controller.abort();
        }
    }
}

fn js_name(e: &JsValue) -> Option<String> {
    Reflect::get(e, &"name".into()).ok()?.as_string()
}

fn js_message(e: &JsValue) -> Option<String> {
    match e.as_string() {
        Some(s) => Some(s),
        None => Reflect::get(e, &"message".into()).ok()?.as_string(),
    }
}

/// An [`Error`] of `kind` describing a JS exception, with its `cause` (Node's undici puts the
/// actual reason, e.g. `connect ECONNREFUSED`, there).
fn js_error(kind: ErrorKind, context: &str, e: &JsValue) -> Error {
    let mut msg = js_message(e).unwrap_or_else(|| context.to_string());
    if let Some(cause) = Reflect::get(e, &"cause".into())
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null())
    {
        if let Some(c) = js_message(&cause) {
            msg = format!("{msg}: {c}");
        }
    }
    Error::new(kind, msg)
}

fn request_init(req: &HttpRequest, guard: &AbortGuard) -> Result<RequestInit> {
    let init = RequestInit::new();
    init.set_method(req.method.as_str());
    let headers = web_sys::Headers::new()
        .map_err(|e| js_error(ErrorKind::Connection, "cannot create Headers", &e))?;
    for (name, value) in &req.headers {
        headers.append(name, value).map_err(|e| {
            js_error(
                ErrorKind::BadRequest,
                &format!("invalid header `{name}`"),
                &e,
            )
        })?;
    }
    init.set_headers(&headers);
    if let Some(body) = &req.body {
        init.set_body(&Uint8Array::from(body.as_slice()));
    }
    init.set_signal(Some(&guard.controller.signal()));
    Ok(init)
}

fn response_headers(resp: &Response) -> Headers {
    let mut out = Headers::new();
    let Ok(Some(entries)) = js_sys::try_iter(&resp.headers()) else {
        return out;
    };
    for entry in entries.flatten() {
        let pair: js_sys::Array = entry.unchecked_into();
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.push((k, v));
        }
    }
    out
}

/// Sends `req` with `fetch`; resolves when the status and headers arrived.
pub(crate) async fn send(req: HttpRequest, timeout_ms: Option<u64>) -> Result<HttpResponse> {
    let mut guard = AbortGuard::new(timeout_ms)?;
    let init = request_init(&req, &guard)?;
    guard.arm();
    let promise = global_fetch(&req.url, &init).map_err(|e| guard.error(&e))?;
    let resp = JsFuture::from(promise).await.map_err(|e| guard.error(&e))?;
    guard.disarm();
    let resp: Response = resp
        .dyn_into()
        .map_err(|_| Error::new(ErrorKind::Connection, "fetch resolved to a non-Response"))?;
    let status = resp.status();
    let headers = response_headers(&resp);
    let body: BodyStream = match resp.body() {
        Some(raw) => Box::pin(FetchBody {
            inner: wasm_streams::ReadableStream::from_raw(raw).into_stream(),
            guard,
        }),
        None => {
            // No body (204, HEAD): the request is complete.
            guard.complete = true;
            Box::pin(futures_util::stream::empty())
        }
    };
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// The response body as bytes. Holds the abort guard: dropping the body aborts the request.
struct FetchBody {
    inner: wasm_streams::readable::IntoStream<'static>,
    guard: AbortGuard,
}

impl Stream for FetchBody {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = match this.inner.poll_next_unpin(cx) {
            Poll::Pending => {
                // The timeout runs only while we wait for the network, not while the consumer
                // is slow to pull.
                this.guard.arm();
                return Poll::Pending;
            }
            Poll::Ready(item) => item,
        };
        this.guard.disarm();
        if item.is_none() {
            this.guard.complete = true;
        }
        Poll::Ready(item.map(|chunk| {
            match chunk {
                Ok(v) => v
                    .dyn_into::<Uint8Array>()
                    .map(|a| a.to_vec())
                    .map_err(|_| Error::decode("response body chunk is not a Uint8Array")),
                Err(e) => Err(this.guard.error(&e)),
            }
        }))
    }
}
