//! `Host::send` over the global `fetch`: an idle timeout that aborts with a timeout reason, and
//! a body stream that owns the abort guard so dropping or cancelling the stream aborts the HTTP
//! request.
//!
//! A request gets an `AbortController` only when it has a timeout: what else aborts a request
//! is the end of its body, and cancelling a response body aborts its fetch (the Fetch
//! standard's cancel algorithm for a response body), which a dropped body does. Per call in
//! Node the controller cost a transferable `AbortSignal` and undici's linking of it to the
//! request's own controller (a visible share of `bench/profile-sdk.mjs call`).
//! The init (method and headers, the headers a plain object) is made by one `JSON.parse`, not
//! with a `Headers` and one call per header: `fetch` copies them into its own `Headers` anyway.
//!
//! Bodies are read without `wasm_streams`: its reader is released on every drop, and
//! `releaseLock` creates a `TypeError` for the reader's `closed` promise, which was ≈ 12 % of the
//! gateway Worker's CPU per non-stream request (bench/FINDINGS.md). A body of known length that
//! is not an event stream is read with one `arrayBuffer()` instead of a reader.
//!
//! Drops call JS only through bindings that return a throw instead of propagating it, and
//! promises are awaited through [`Settled`], not `JsFuture`. workerd never settles the pending
//! reads of a request whose client went away (not even once its fetch is aborted) nor cancels
//! its response body. Such a body is dropped either by a cancel the Worker makes on the
//! disconnect, or by wasm-bindgen's FinalizationRegistry, which workerd runs outside any
//! request, where `abort()`, `cancel()` and `clearTimeout()` throw "Disallowed operation called
//! within global scope": a throw cuts a Rust Drop short (all it had not dropped yet leaks for
//! good). And a `JsFuture` whose promise never settles leaks its two callbacks even once dropped.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_util::Stream;
use js_sys::{Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AbortController, RequestInit, Response};

use super::settle::{ignore_rejection, Settled};
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

    /// An `AbortController` whose `abort()` returns a throw (workerd, outside a request)
    /// instead of propagating it.
    type Aborter;
    #[wasm_bindgen(method, catch)]
    fn abort(this: &Aborter) -> Result<(), JsValue>;

    /// A response's `ReadableStream`, with `getReader()` typed to [`Reader`].
    type RawBody;
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn get_reader(this: &RawBody) -> Result<Reader, JsValue>;
    /// Cancels an unread body, which aborts its fetch; a throw (workerd, outside a request) is
    /// returned instead of propagated.
    #[wasm_bindgen(method, catch, js_name = cancel)]
    fn cancel_body(this: &RawBody) -> Result<Promise, JsValue>;

    /// A `ReadableStreamDefaultReader` (bound here rather than through web-sys features).
    type Reader;
    #[wasm_bindgen(method, catch)]
    fn read(this: &Reader) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn cancel(this: &Reader) -> Result<Promise, JsValue>;

    /// What `Reader::read` resolves to.
    type ReadResult;
    #[wasm_bindgen(method, getter)]
    fn done(this: &ReadResult) -> bool;
    #[wasm_bindgen(method, getter)]
    fn value(this: &ReadResult) -> Uint8Array;
}

/// Bodies up to this size with a `content-length` are read with one `arrayBuffer()`; larger
/// ones keep the reader, so they reach a streaming consumer as they arrive.
const WHOLE_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// Owns a request's timeout and its `AbortController` (only a request with a timeout has one).
/// Dropping it aborts the request unless the body was read to the end.
struct AbortGuard {
    controller: Option<AbortController>,
    deadline: Option<(Timer, f64)>,
    timed_out: Rc<Cell<bool>>,
    complete: bool,
}

impl AbortGuard {
    fn new(timeout_ms: Option<u64>) -> Result<Self> {
        let timed_out = Rc::new(Cell::new(false));
        let (controller, deadline) = match timeout_ms {
            None => (None, None),
            Some(ms) => {
                let controller = AbortController::new().map_err(|e| {
                    js_error(
                        ErrorKind::Connection,
                        "cannot create an AbortController",
                        &e,
                    )
                })?;
                let (flag, ctrl) = (timed_out.clone(), controller.clone());
                let timer = Timer::new(move || {
                    // The flag, not the rejection value, decides the error kind: runtimes differ
                    // in what a fetch aborted with a reason rejects with.
                    flag.set(true);
                    let reason = js_sys::Error::new(&format!("request timed out after {ms} ms"));
                    reason.set_name("TimeoutError");
                    ctrl.abort_with_reason(&reason);
                });
                (Some(controller), Some((timer, ms as f64)))
            }
        };
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
        if let Some(c) = self.controller.as_ref().filter(|_| !self.complete) {
            // A throw means no request to abort in: workerd ends its subrequests with it.
            let _ = c.unchecked_ref::<Aborter>().abort();
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
    let init = js_sys::JSON::parse(&init_json(req)?)
        .map_err(|e| js_error(ErrorKind::BadRequest, "invalid request headers", &e))?
        .unchecked_into::<RequestInit>();
    if let Some(body) = &req.body {
        init.set_body(&Uint8Array::from(body.as_slice()));
    }
    if let Some(c) = &guard.controller {
        init.set_signal(Some(&c.signal()));
    }
    Ok(init)
}

/// The method and headers of the `fetch` init as JSON text, the headers a plain object holding
/// what a `Headers` built from the list would: values trimmed of spaces and tabs, those of one
/// name (in any case) joined with ", ". A header `fetch` refuses (a name that is not a token, a
/// value with NUL, CR, LF or a character past U+00FF) is a [`ErrorKind::BadRequest`] naming it.
fn init_json(req: &HttpRequest) -> Result<String> {
    let mut merged: Vec<(&str, String)> = Vec::with_capacity(req.headers.len());
    for (name, value) in &req.headers {
        let value = value.trim_matches([' ', '\t']);
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token
            || value
                .chars()
                .any(|c| matches!(c, '\0' | '\r' | '\n') || c > '\u{ff}')
        {
            return Err(Error::new(
                ErrorKind::BadRequest,
                format!("invalid header `{name}`: fetch refuses its name or value"),
            ));
        }
        match merged
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, joined)) => {
                joined.push_str(", ");
                joined.push_str(value);
            }
            None => merged.push((name, value.to_string())),
        }
    }
    let mut out = String::with_capacity(128);
    out.push_str("{\"method\":\"");
    out.push_str(req.method.as_str());
    out.push_str("\",\"headers\":{");
    for (i, (name, value)) in merged.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // A token needs no escaping.
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
        out.push_str(&serde_json::to_string(value.as_str())?);
    }
    out.push_str("}}");
    Ok(out)
}

/// The response's headers, copied in one string rather than with two calls and two string
/// copies per header: the `[name, value]` pairs joined with NUL, each pair written by JS as
/// `name,value` (NUL occurs in neither; a name is a token, so its first comma ends it).
fn response_headers(resp: &Response) -> Headers {
    let joined = String::from(js_sys::Array::from(&resp.headers()).join("\0"));
    let mut out = Headers::new();
    for pair in joined.split('\0') {
        if let Some((k, v)) = pair.split_once(',') {
            out.push((k.to_string(), v.to_string()));
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
    let resp = Settled::new(&promise).await.map_err(|e| guard.error(&e))?;
    guard.disarm();
    let resp: Response = resp
        .dyn_into()
        .map_err(|_| Error::new(ErrorKind::Connection, "fetch resolved to a non-Response"))?;
    let status = resp.status();
    let headers = response_headers(&resp);
    let body: BodyStream = match resp.body() {
        Some(_) if read_whole(&headers) => Box::pin(WholeBody {
            state: Whole::Unread(resp),
            guard,
        }),
        Some(raw) => Box::pin(FetchBody {
            reader: raw
                .unchecked_into::<RawBody>()
                .get_reader()
                .map_err(|e| guard.error(&e))?,
            pending: None,
            done: false,
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

/// Whether a body can be read in one `arrayBuffer()` without changing what a consumer sees: its
/// length is known (the upstream produced it whole, unlike a chunked event stream) and small,
/// and it is not an event stream that a consumer reads as it arrives. The idle timeout then
/// bounds the whole body read rather than each wait for a chunk.
fn read_whole(headers: &Headers) -> bool {
    let known = crate::http::header(headers, "content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n <= WHOLE_MAX_BYTES);
    let streaming = crate::http::header(headers, "content-type").is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        ["event-stream", "ndjson", "jsonl", "eventstream"]
            .iter()
            .any(|s| t.contains(s))
    });
    known && !streaming
}

/// The response body read through a `ReadableStreamDefaultReader`, one item per chunk. Holds
/// the abort guard: dropping the body cancels the read and aborts the request. The reader is
/// never released (`releaseLock` throws outside a request, and costs a `TypeError` inside one).
struct FetchBody {
    reader: Reader,
    pending: Option<Settled>,
    done: bool,
    guard: AbortGuard,
}

impl Stream for FetchBody {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let read = match &mut this.pending {
            Some(read) => read,
            None => match this.reader.read() {
                Ok(p) => this.pending.insert(Settled::new(&p)),
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(this.guard.error(&e))));
                }
            },
        };
        let result = match Pin::new(read).poll(cx) {
            Poll::Pending => {
                // The timeout runs only while we wait for the network, not while the consumer
                // is slow to pull.
                this.guard.arm();
                return Poll::Pending;
            }
            Poll::Ready(r) => r,
        };
        this.pending = None;
        this.guard.disarm();
        match result {
            Ok(r) => {
                let r: ReadResult = r.unchecked_into();
                if r.done() {
                    this.done = true;
                    this.guard.complete = true;
                    return Poll::Ready(None);
                }
                let chunk = r.value();
                if !chunk.is_instance_of::<Uint8Array>() {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::decode(
                        "response body chunk is not a Uint8Array",
                    ))));
                }
                Poll::Ready(Some(Ok(chunk.to_vec())))
            }
            Err(e) => {
                this.done = true;
                Poll::Ready(Some(Err(this.guard.error(&e))))
            }
        }
    }
}

impl Drop for FetchBody {
    fn drop(&mut self) {
        if !self.done {
            // Cancelled before the guard aborts: the pending read then resolves `done` rather
            // than rejecting with an AbortError made for nobody. Outside a request the cancel
            // throws or rejects (nothing to cancel in any more): both are ignored.
            if let Ok(p) = self.reader.cancel() {
                ignore_rejection(&p);
            }
        }
    }
}

enum Whole {
    /// `arrayBuffer()` not called yet: it is called on the first poll, so a body that is never
    /// read is never buffered.
    Unread(Response),
    Reading(Settled),
    Done,
}

/// A body of known length read with one `arrayBuffer()`, yielded as one chunk. Holds the abort
/// guard like [`FetchBody`].
struct WholeBody {
    state: Whole,
    guard: AbortGuard,
}

impl Drop for WholeBody {
    fn drop(&mut self) {
        // Never read: cancelling the body aborts the request (the guard has no controller
        // without a timeout). A body being read is small and ends by itself.
        if let Whole::Unread(resp) = &self.state {
            if let Some(body) = resp.body() {
                if let Ok(p) = body.unchecked_into::<RawBody>().cancel_body() {
                    ignore_rejection(&p);
                }
            }
        }
    }
}

impl Stream for WholeBody {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Whole::Unread(resp) = &this.state {
            match resp.array_buffer() {
                Ok(p) => this.state = Whole::Reading(Settled::new(&p)),
                Err(e) => {
                    this.state = Whole::Done;
                    return Poll::Ready(Some(Err(this.guard.error(&e))));
                }
            }
        }
        let Whole::Reading(read) = &mut this.state else {
            return Poll::Ready(None);
        };
        let result = match Pin::new(read).poll(cx) {
            Poll::Pending => {
                this.guard.arm();
                return Poll::Pending;
            }
            Poll::Ready(r) => r,
        };
        this.state = Whole::Done;
        this.guard.disarm();
        Poll::Ready(match result {
            Ok(buf) => {
                this.guard.complete = true;
                let bytes = Uint8Array::new(&buf).to_vec();
                if bytes.is_empty() {
                    None
                } else {
                    Some(Ok(bytes))
                }
            }
            Err(e) => Some(Err(this.guard.error(&e))),
        })
    }
}
