//! `Host::send` over the global `fetch`: an idle timeout that aborts with a timeout reason, and
//! a body stream that owns the abort guard so dropping or cancelling the stream aborts the HTTP
//! request.
//!
//! A request gets an `AbortController` only when it has a timeout: what else aborts a request
//! is the end of its body, and cancelling a response body aborts its fetch (the Fetch
//! standard's cancel algorithm for a response body), which a dropped body does. Per call in
//! Node the controller cost a transferable `AbortSignal` and undici's linking of it to the
//! request's own controller (a visible share of `bench/profile-sdk.mjs call`).
//! The URL and the init's headers cross once per distinct pair (they repeat per deployment), the
//! headers as one string: a request names its pair by id (`target_id`). In JS the headers become
//! a plain object per request, or for workerd's own `fetch` one `Headers` kept per pair, never a
//! `Headers` made with one call per header.
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
use web_sys::{AbortController, Response};

use super::ids::JsIds;
use super::settle::{ignore_rejection, Settled};
use super::timer::Timer;
use crate::http::{BodyStream, Headers, HttpRequest, HttpResponse};
use crate::{Error, ErrorKind, Result};

// One promise per request instead of two: the global `fetch`, then, in the same JS reaction, for
// a body of known length (the rule above `FetchBody`), its `arrayBuffer()`. Each promise awaited
// from Rust costs two bound callbacks, a wake and a poll of the whole task. A body read that
// fails settles as `e` and is reported when the body is read, as before. The JS reports the
// outcome to the awaiting `Settled`'s callbacks itself (`Settled::reported`) rather than
// returning a promise for it: no promise resolved with another promise (a thenable job and its
// two resolving functions) and no `then` with two arrows on it per request, V8 heap that filled
// the gateway Worker's young generation sooner (bench/prototypes/heap-alloc.mjs).
// The response headers cross only when Rust asks for them (`HttpResponse::headers`), flattened
// to `name NUL value NUL …` by `edgellm_response_headers`: a 2xx chat answer never reads them,
// and flattening all of them per response (`Headers.forEach`, a string into wasm, a `String`
// per name and value) was ≈ 3 % of the gateway Worker's CPU per non-stream request.
// The URL and the init's headers repeat from one request to the next (per deployment), so they
// cross once per distinct pair (`edgellm_define_target`, see `target_id`) and a request names its
// pair by id: no strings to decode (a `TextDecoder` call each) and split per request. The method
// crosses as its index in `METHODS` (`method_code`), the body as a view of wasm memory.
// workerd's own `fetch` (`direct()`: in workerd, and not wrapped) gets the pair's headers as one
// `Headers` kept per pair, which it copies like an object init's but cheaper (1.2 µs less per
// request), and the body view as it is: it copies a `BufferSource` body when the request is made
// (Fetch standard: "a copy of the bytes held by object"; checked in workerd 2026-04-26: bytes
// changed after the call are not sent), which spares a JS `ArrayBuffer` made and freed per
// request. Any other `fetch`, and a wrapper around workerd's (a user's, instrumentation), gets a
// fresh null-prototype object (a header named `__proto__` stays a header) and a copy of the body,
// so nothing it keeps or changes reaches another request (undici reads the body again for a
// redirect).
// `fetch` is looked up at call time: it exists in browsers, Web Workers, Node ≥ 18 and workerd,
// where `window.fetch` does not, and tests and users may wrap `globalThis.fetch`.
// In Node, `redirect: "error"` spares undici a copy of every request, with a `tee()` of its body
// stream (≈ 60 µs, 9 % of the SDK's CPU per call: bench/ab-call.mjs); a redirect then rejects
// with undici's "unexpected redirect" and the request is sent again as `fetch` would have sent
// it, following the redirect (which a Uint8Array body never survived in undici: a 307/308 failed
// with "detached ArrayBuffer"). Other runtimes keep the default (workerd refuses "error").
// `r.body` is not looked at: its getter makes a stream object (≈ 20 % of `got`'s time on an idle
// core, bench/profile-worker.mjs --delay-ms), and a response without a body (204, 304, a HEAD's)
// reads as empty through `arrayBuffer()` as through its (absent) stream.
#[wasm_bindgen(inline_js = r#"
const REDIRECT_ERROR = typeof process === "object" && process !== null && typeof process.versions?.node === "string" &&
  (typeof navigator === "undefined" || String(navigator.userAgent).startsWith("Node.js"));
const WORKERD = typeof navigator === "object" && navigator !== null && navigator.userAgent === "Cloudflare-Workers";
const METHODS = ["GET", "POST", "PUT"];
const LENGTH = /^\+?[0-9]+$/;
let seenFetch;
let seenDirect = false;
function direct() {
  if (fetch !== seenFetch) {
    seenFetch = fetch;
    seenDirect = WORKERD && Function.prototype.toString.call(fetch).includes("[native code]");
  }
  return seenDirect;
}
const targets = [];
export function edgellm_define_target(id, url, flat) {
  const list = flat.split("\0");
  let shared = null;
  if (WORKERD) {
    shared = new Headers();
    for (let i = 0; i + 1 < list.length; i += 2) shared.append(list[i], list[i + 1]);
  }
  targets[id] = { url, list, shared };
}
export function edgellm_fetch(target, method, body, signal, wholeMax, id, ok, err) {
  const to = targets[target];
  if (to === undefined) throw new Error(`edgellm: fetch target ${target} was never defined`);
  const url = to.url;
  let headers = to.shared;
  if (!direct()) {
    const p = to.list;
    headers = Object.create(null);
    for (let i = 0; i + 1 < p.length; i += 2) headers[p[i]] = p[i + 1];
    if (body !== undefined) body = body.slice();
  }
  const init = { method: METHODS[method], headers };
  if (body !== undefined) init.body = body;
  if (signal !== undefined) init.signal = signal;
  const fail = (e) => err(id, e);
  const got = (r) => {
    const out = { r, b: undefined, e: undefined, failed: false };
    let read;
    try {
      read = readsWhole(r.headers, wholeMax) ? r.arrayBuffer() : null;
    } catch (e) {
      return fail(e);
    }
    if (read === null) return ok(id, out);
    read.then(
      (b) => { out.b = b; ok(id, out); },
      (e) => { out.e = e; out.failed = true; ok(id, out); },
    );
  };
  if (!REDIRECT_ERROR) {
    fetch(url, init).then(got, fail);
    return;
  }
  init.redirect = "error";
  fetch(url, init).then(got, (e) => {
    if (e?.cause?.message !== "unexpected redirect") return fail(e);
    try {
      delete init.redirect;
      // A Blob, which undici can read again for a 307/308 (a Uint8Array is consumed by the send).
      if (body !== undefined) init.body = new Blob([body]);
      fetch(url, init).then(got, fail);
    } catch (e) {
      fail(e);
    }
  });
}
function readsWhole(hs, wholeMax) {
  const len = hs.get("content-length");
  if (len === null) return false;
  const n = len.trim();
  if (!LENGTH.test(n) || Number(n) > wholeMax) return false;
  const t = (hs.get("content-type") || "").toLowerCase();
  return !(t.includes("event-stream") || t.includes("ndjson") || t.includes("jsonl") || t.includes("eventstream"));
}
// Made once: `getReader` only reads it (made per stream, with its two strings copied out of wasm,
// it was ≈ 1 % of a 100-chunk stream's CPU in workerd).
const BYOB = { mode: "byob" };
export function edgellm_byob_reader(body) {
  return body.getReader(BYOB);
}
// BYOB read buffers whose streams ended, for the next streams' reads: a new 64 KiB ArrayBuffer
// per stream was ≈ 2 % of a 100-chunk stream's CPU in workerd. At most 16 are kept (1 MiB), as
// many as there are streams in flight at c=16. A spare one holds an earlier stream's bytes past
// what a read fills, but a read's view covers only the bytes it filled.
const SPARE = [];
export function edgellm_read_buffer(bytes) {
  return SPARE.pop() ?? new ArrayBuffer(bytes);
}
export function edgellm_spare_buffer(b, bytes) {
  if (b instanceof ArrayBuffer && b.byteLength === bytes && SPARE.length < 16) SPARE.push(b);
}
// Iteration yields lowercase names and the values `get` would give (same-name values joined).
export function edgellm_response_headers(r) {
  let h = "";
  r.headers.forEach((v, k) => {
    h += k + "\0" + v + "\0";
  });
  return h;
}
"#)]
extern "C" {
    /// Makes `url` and `flat` (the init's headers as `name NUL value NUL …`) the target `id`
    /// names in [`edgellm_fetch`].
    #[wasm_bindgen(catch)]
    fn edgellm_define_target(id: u32, url: &str, flat: &str) -> Result<(), JsValue>;

    #[wasm_bindgen(catch)]
    fn edgellm_fetch(
        target: u32,
        method: u8,
        body: Option<&[u8]>,
        signal: Option<web_sys::AbortSignal>,
        whole_max: f64,
        id: u32,
        ok: &JsValue,
        err: &JsValue,
    ) -> Result<(), JsValue>;

    /// The response's headers as `name NUL value NUL …` (NUL occurs in neither).
    fn edgellm_response_headers(r: &Response) -> String;

    /// `body.getReader({ mode: "byob" })`: throws unless `body` is a byte stream.
    #[wasm_bindgen(catch)]
    fn edgellm_byob_reader(body: &RawBody) -> Result<Reader, JsValue>;

    /// An `ArrayBuffer` of `bytes` for a BYOB reader: a spare one, else a new one.
    fn edgellm_read_buffer(bytes: u32) -> JsValue;

    /// Keeps `b` as a spare if it is an `ArrayBuffer` of `bytes` (not detached).
    fn edgellm_spare_buffer(b: JsValue, bytes: u32);

    /// What [`edgellm_fetch`] resolves to.
    type Fetched;
    #[wasm_bindgen(method, getter)]
    fn r(this: &Fetched) -> Response;
    /// The body's `ArrayBuffer` when it was read whole, else `undefined`.
    #[wasm_bindgen(method, getter)]
    fn b(this: &Fetched) -> JsValue;
    /// Why reading the body whole failed (when `failed`).
    #[wasm_bindgen(method, getter)]
    fn e(this: &Fetched) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn failed(this: &Fetched) -> bool;
}

#[wasm_bindgen]
extern "C" {

    /// An `AbortController` whose `abort()` returns a throw (workerd, outside a request)
    /// instead of propagating it.
    type Aborter;
    #[wasm_bindgen(method, catch)]
    fn abort(this: &Aborter) -> Result<(), JsValue>;

    /// A response's `ReadableStream`, with `getReader()` typed to [`Reader`].
    type RawBody;
    #[wasm_bindgen(method, catch, js_name = getReader)]
    fn get_reader(this: &RawBody) -> Result<Reader, JsValue>;

    /// A `ReadableStreamDefaultReader`, or a `ReadableStreamBYOBReader` read with
    /// [`Reader::read_into`] (bound here rather than through web-sys features).
    type Reader;
    #[wasm_bindgen(method, catch)]
    fn read(this: &Reader) -> Result<Promise, JsValue>;
    /// `ReadableStreamBYOBReader.read(view)`.
    #[wasm_bindgen(method, catch, js_name = read)]
    fn read_into(this: &Reader, view: &Uint8Array) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn cancel(this: &Reader) -> Result<Promise, JsValue>;

    /// What `Reader::read` resolves to.
    type ReadResult;
    #[wasm_bindgen(method, getter)]
    fn done(this: &ReadResult) -> bool;
    #[wasm_bindgen(method, getter)]
    fn value(this: &ReadResult) -> Uint8Array;
}

/// What one BYOB read may fill: more than a streamed answer has buffered at a time.
const BYOB_READ_BYTES: u32 = 64 * 1024;

/// Keeps `buffer`, the buffer a BYOB read that said `done` gave back (nothing reads into it any
/// more), for the next fetch body's reads. Anything else (`undefined`, a detached buffer, one of
/// another size) is ignored.
pub fn spare_read_buffer(buffer: JsValue) {
    edgellm_spare_buffer(buffer, BYOB_READ_BYTES);
}

/// A BYOB reader for `raw`, if it is a byte stream (else `None`: nothing was locked).
fn byob_reader(raw: &RawBody) -> Option<Reader> {
    edgellm_byob_reader(raw).ok()
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

/// The headers of the `fetch` init as [`edgellm_fetch`] takes them (`name NUL value NUL …`),
/// holding what a `Headers` built from the list would: values trimmed of spaces and tabs, those
/// of one name (in any case) joined with ", ". A header `fetch` refuses (a name that is not a
/// token, a value with NUL, CR, LF or a character past U+00FF) is a [`ErrorKind::BadRequest`]
/// naming it.
fn init_headers(req: &HttpRequest) -> Result<String> {
    // Written straight into the string, without a list of merged values in between (a `String`
    // per header and a vector per request): a name goes out at its first occurrence, with the
    // values of its later occurrences (in any case) joined to it, and is skipped where it occurs
    // again. Every header is checked, in order, before the string is used.
    fn trim(v: &str) -> &str {
        v.trim_matches(|c| c == ' ' || c == '\t')
    }
    let mut out = String::with_capacity(128);
    for (i, (name, value)) in req.headers.iter().enumerate() {
        let value = trim(value);
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        // In UTF-8, a character past U+00FF starts with a byte from 0xC4 up; no other byte of
        // any character is that large.
        if !token
            || value
                .bytes()
                .any(|b| matches!(b, b'\0' | b'\r' | b'\n') || b >= 0xC4)
        {
            return Err(Error::new(
                ErrorKind::BadRequest,
                format!("invalid header `{name}`: fetch refuses its name or value"),
            ));
        }
        if req.headers[..i]
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            continue;
        }
        // Neither a token nor an accepted value holds a NUL.
        out.push_str(name);
        out.push('\0');
        out.push_str(value);
        for (n, v) in &req.headers[i + 1..] {
            if n.eq_ignore_ascii_case(name) {
                out.push_str(", ");
                out.push_str(trim(v));
            }
        }
        out.push('\0');
    }
    Ok(out)
}

thread_local! {
    /// The (URL, headers) pairs defined on the JS side by [`edgellm_define_target`].
    static TARGETS: JsIds<(String, String)> = const { JsIds::new() };
}

/// The id of the target `url` with the headers `flat` ([`init_headers`]' string), defined on
/// the JS side first if it is new.
fn target_id(url: &str, flat: String) -> std::result::Result<u32, JsValue> {
    TARGETS.with(|targets| {
        targets.id(
            |(u, f)| u == url && *f == flat,
            || (url.to_string(), flat.clone()),
            |id, (u, f)| edgellm_define_target(id, u, f),
        )
    })
}

/// [`Method`](crate::http::Method)'s index in the inline JS's `METHODS`.
fn method_code(method: crate::http::Method) -> u8 {
    use crate::http::Method;
    match method {
        Method::Get => 0,
        Method::Post => 1,
        Method::Put => 2,
    }
}

/// The response's headers, read from `r` (see [`edgellm_response_headers`]).
fn response_headers(r: &Response) -> Headers {
    let flat = edgellm_response_headers(r);
    let mut parts = flat.split('\0');
    let mut out = Headers::new();
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        out.push((k.to_string(), v.to_string()));
    }
    out
}

/// Sends `req` with `fetch`; resolves when the status and headers arrived.
pub(crate) async fn send(req: HttpRequest, timeout_ms: Option<u64>) -> Result<HttpResponse> {
    let mut guard = AbortGuard::new(timeout_ms)?;
    let target = target_id(&req.url, init_headers(&req)?).map_err(|e| guard.error(&e))?;
    let body = req.body.as_deref();
    let signal = guard.controller.as_ref().map(AbortController::signal);
    guard.arm();
    let fetched = Settled::reported(|id, ok, err| {
        edgellm_fetch(
            target,
            method_code(req.method),
            body,
            signal,
            WHOLE_MAX_BYTES as f64,
            id,
            ok,
            err,
        )
    })
    .map_err(|e| guard.error(&e))?;
    let fetched = fetched.await.map_err(|e| guard.error(&e))?;
    guard.disarm();
    let fetched: Fetched = fetched.unchecked_into();
    let resp = fetched.r();
    if !resp.is_instance_of::<Response>() {
        return Err(Error::new(
            ErrorKind::Connection,
            "fetch resolved to a non-Response",
        ));
    }
    let status = resp.status();
    let headers: crate::http::HeaderSource = {
        // `Clone::clone`, not `Response.clone()` (which tees the body).
        let resp = Clone::clone(&resp);
        Box::new(move || response_headers(&resp))
    };
    let whole = if fetched.failed() {
        Some(Whole::Failed(fetched.e()))
    } else {
        Some(fetched.b())
            .filter(|b| !b.is_undefined())
            .map(Whole::Read)
    };
    // Read whole in `edgellm_fetch` (see the rule above `FetchBody`): `resp.body` is not asked
    // for (its getter makes a stream object).
    if let Some(state) = whole {
        guard.complete = matches!(state, Whole::Read(_));
        return Ok(HttpResponse::lazy(
            status,
            headers,
            Box::pin(WholeBody { state, guard }),
        ));
    }
    let body: BodyStream = match resp.body() {
        Some(raw) => {
            let raw = raw.unchecked_into::<RawBody>();
            let (reader, buffer) = match super::feed::byob_reads().then(|| byob_reader(&raw)) {
                Some(Some(reader)) => (reader, Some(edgellm_read_buffer(BYOB_READ_BYTES))),
                _ => (raw.get_reader().map_err(|e| guard.error(&e))?, None),
            };
            Box::pin(FetchBody {
                reader,
                buffer,
                pending: None,
                done: false,
                guard,
                fed: None,
            })
        }
        None => {
            // No body (204, HEAD): the request is complete.
            guard.complete = true;
            Box::pin(futures_util::stream::empty())
        }
    };
    Ok(HttpResponse::lazy(status, headers, body))
}

// Whether a body is read in one `arrayBuffer()` (in `edgellm_fetch`, before the response is
// handed over) without changing what a consumer sees: its length is known (the upstream produced
// it whole, unlike a chunked event stream) and at most `WHOLE_MAX_BYTES`, and it is not an event
// stream (`content-type` naming event-stream, ndjson, jsonl or eventstream) that a consumer reads
// as it arrives. The idle timeout then bounds the wait for the headers and the whole body.

/// The response body read through a `ReadableStreamDefaultReader`, one item per chunk. Holds
/// the abort guard: dropping the body cancels the read and aborts the request. The reader is
/// never released (`releaseLock` throws outside a request, and costs a `TypeError` inside one).
struct FetchBody {
    reader: Reader,
    /// With a BYOB reader, the buffer the next read fills (each read hands it back).
    buffer: Option<JsValue>,
    pending: Option<Settled>,
    done: bool,
    guard: AbortGuard,
    /// Reads taken over by JS ([`super::feed::detaching`]): chunks come from this queue.
    fed: Option<Rc<super::feed::FeedQueue>>,
}

impl Stream for FetchBody {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.fed.is_none() && this.pending.is_none() {
            let buffer = this.buffer.clone().unwrap_or(JsValue::UNDEFINED);
            this.fed = super::feed::offer(&this.reader, &buffer);
        }
        if let Some(fed) = this.fed.clone() {
            return this.poll_fed(&fed);
        }
        let read = match &mut this.pending {
            Some(read) => read,
            None => match match &this.buffer {
                Some(b) => this.reader.read_into(&Uint8Array::new(b)),
                None => this.reader.read(),
            } {
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
                let bytes = chunk.to_vec();
                if this.buffer.is_some() {
                    this.buffer = Some(chunk.buffer().into());
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Err(e) => {
                this.done = true;
                Poll::Ready(Some(Err(this.guard.error(&e))))
            }
        }
    }
}

impl FetchBody {
    /// The next chunk a JS reader fed ([`super::feed::BodyFeed`]); the timeout runs while none
    /// is there, as for a read of our own.
    fn poll_fed(&mut self, fed: &super::feed::FeedQueue) -> Poll<Option<Result<Vec<u8>>>> {
        use super::feed::Fed;
        let Some(item) = fed.take() else {
            self.guard.arm();
            return Poll::Pending;
        };
        self.guard.disarm();
        match item {
            Fed::Bytes(bytes) => Poll::Ready(Some(Ok(bytes))),
            Fed::NotBytes => {
                self.done = true;
                Poll::Ready(Some(Err(Error::decode(
                    "response body chunk is not a Uint8Array",
                ))))
            }
            Fed::End => {
                self.done = true;
                self.guard.complete = true;
                Poll::Ready(None)
            }
            Fed::Failed(e) => {
                self.done = true;
                Poll::Ready(Some(Err(self.guard.error(&e))))
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
    /// The body's `ArrayBuffer`, not yet copied into wasm.
    Read(JsValue),
    /// Reading it failed with this.
    Failed(JsValue),
    Done,
}

/// A body of known length, already read with one `arrayBuffer()` by [`edgellm_fetch`], yielded
/// as one chunk (or the read's error). Holds the abort guard like [`FetchBody`].
struct WholeBody {
    state: Whole,
    guard: AbortGuard,
}

impl Stream for WholeBody {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        Poll::Ready(match std::mem::replace(&mut this.state, Whole::Done) {
            Whole::Read(buf) => {
                let bytes = Uint8Array::new(&buf).to_vec();
                (!bytes.is_empty()).then_some(Ok(bytes))
            }
            Whole::Failed(e) => Some(Err(this.guard.error(&e))),
            Whole::Done => None,
        })
    }
}
