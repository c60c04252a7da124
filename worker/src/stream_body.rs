//! A streamed chat answer whose body JS pumps: the upstream is read in JS and each chunk goes
//! through one synchronous wasm call, instead of two Rust futures per read.
//!
//! Through workers-rs `from_stream`, every upstream read cost a promise reaction into wasm, a
//! wake through wasm-bindgen-futures (`queueMicrotask`) and a poll of the task, and the
//! response's pull side the same again (bench/FINDINGS.md: what was left of a 100-chunk
//! stream's CPU). Here the handler's SSE stream (`app::sse::drivable`) is polled with a waker
//! that does nothing: its only wait is for upstream bytes, and the upstream body's reader is
//! taken over by JS (`edgellm::wasm::detaching`), which reads it and feeds every chunk to
//! [`SseDriver::feed`] before polling again. What the stream does at its end (usage and
//! spend, the router's bookkeeping, an error as the last event, `[DONE]`) is unchanged: it is
//! the same stream, polled by someone else.
//!
//! The driver is freed when the stream ends and when the client goes away (`request.signal`,
//! as `crate::disconnect` does: workerd never cancels the body of a response whose client
//! left). Freeing it drops the stream, which cancels the upstream reader and aborts the
//! request. Without a signal, wasm-bindgen's FinalizationRegistry frees it once JS lets go.

use std::task::{Context, Poll, Waker};

use worker::js_sys::Uint8Array;
// The exported struct's derive names the crate `wasm_bindgen`.
use worker::wasm_bindgen;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;

use crate::app::ByteStream;

// The body is an `IdentityTransformStream` (workerd's native byte pipe: the response reads
// from it without calling back into JS), written once per upstream read. The next read
// starts when that write is done, so a slow client slows the upstream down. A throw from the
// driver (a panic: the instance is gone) aborts the body without touching the driver again.
// The response around the body is made by the edge (`crate::edge`), with its headers copied from
// a `Headers` kept per set of stable headers, as for other answers.
#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, inline_js = r#"
const ignore = () => {};
export function edgellm_sse_body(driver, reader, buffer, first, ended, request) {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const signal = request.signal;
  let live = true;
  // A BYOB reader comes with the buffer to read into (each read gives it back): a read takes
  // all the body has buffered, where a default reader gives it in 4 KiB pieces.
  let buf = buffer instanceof ArrayBuffer ? buffer : null;
  const end = (free) => {
    if (!live) return;
    live = false;
    if (signal) signal.removeEventListener("abort", onAbort);
    if (free) driver.free();
  };
  const onAbort = () => end(true);
  // `out` is what the driver gave (undefined: nothing); `ended`: the driver's stream has ended
  // (finish, fail and feed_other always end it; after feed, the driver says).
  const write = (out, ended) => {
    if (ended) {
      end(true);
      if (out !== undefined) writer.write(out).catch(ignore);
      writer.close().catch(ignore);
    } else if (out !== undefined) {
      writer.write(out).then(next, ignore);
    } else {
      next();
    }
  };
  const got = (r) => {
    if (!live) return;
    try {
      // A BYOB read that says done gives its buffer back: the next stream may read into it.
      if (r.done) write(driver.finish(buf !== null && r.value !== undefined ? r.value.buffer : undefined), true);
      else {
        const v = r.value;
        if (buf !== null) buf = v.buffer;
        if (v instanceof Uint8Array) {
          const out = driver.feed(v);
          write(out, driver.ended());
        } else write(driver.feed_other(), true);
      }
    } catch (e) {
      end(false);
      writer.abort(e).catch(ignore);
    }
  };
  const failed = (e) => {
    if (!live) return;
    try {
      write(driver.fail(e), true);
    } catch (e2) {
      end(false);
      writer.abort(e2).catch(ignore);
    }
  };
  const next = () => {
    if (live) (buf !== null ? reader.read(new Uint8Array(buf)) : reader.read()).then(got, failed);
  };
  if (reader === null) {
    end(true);
    if (first !== undefined) writer.write(first).catch(ignore);
    writer.close().catch(ignore);
  } else {
    if (signal) {
      if (signal.aborted) end(true);
      else signal.addEventListener("abort", onAbort);
    }
    if (live) write(first, ended);
  }
  return readable;
}
"#)]
extern "C" {
    /// The response body (a `ReadableStream`).
    #[wasm_bindgen(catch)]
    fn edgellm_sse_body(
        driver: SseDriver,
        reader: JsValue,
        buffer: JsValue,
        first: Option<Uint8Array>,
        ended: bool,
        request: &web_sys::Request,
    ) -> Result<JsValue, JsValue>;
}

/// A response's SSE stream, pumped from JS (see the module docs).
#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen)]
pub struct SseDriver {
    stream: Option<ByteStream>,
    feed: Option<edgellm::wasm::BodyFeed>,
}

impl std::fmt::Debug for SseDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseDriver")
            .field("ended", &self.stream.is_none())
            .finish()
    }
}

impl SseDriver {
    /// Everything the stream has ready, in one buffer; drops the stream once it ended.
    fn pump(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cx = Context::from_waker(Waker::noop());
        while let Some(s) = self.stream.as_mut() {
            match s.as_mut().poll_next(&mut cx) {
                Poll::Pending => break,
                Poll::Ready(Some(Ok(bytes))) => {
                    if out.is_empty() {
                        out = bytes;
                    } else {
                        out.extend_from_slice(&bytes);
                    }
                }
                // The SSE encoder writes errors as events; nothing else yields one.
                Poll::Ready(Some(Err(_))) | Poll::Ready(None) => {
                    self.stream = None;
                    self.feed = None;
                }
            }
        }
        out
    }

    /// Gives the body what JS read, then takes what the stream makes of it.
    fn fed(&mut self, give: impl FnOnce(&edgellm::wasm::BodyFeed)) -> Vec<u8> {
        if let Some(feed) = &self.feed {
            give(feed);
        }
        self.pump()
    }

    /// After the body's end or failure the stream has ended; one that still waits would wait
    /// for a wake nobody sends, so it is dropped rather than left hanging.
    fn end_if_waiting(&mut self) {
        self.stream = None;
        self.feed = None;
    }
}

/// `None` for nothing: JS then gets `undefined`, not an empty `Uint8Array` copied out of wasm
/// memory (and freed there) to be skipped.
fn some(out: Vec<u8>) -> Option<Vec<u8>> {
    (!out.is_empty()).then_some(out)
}

// What the JS pump calls, once per upstream read. `feed_other`, `finish` and `fail` always end
// the stream, so JS asks `ended` only after `feed`.
#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen)]
impl SseDriver {
    /// A chunk the upstream reader gave: the events it completes (`None`: none yet).
    pub fn feed(&mut self, chunk: Vec<u8>) -> Option<Vec<u8>> {
        some(self.fed(|f| f.bytes(chunk)))
    }

    /// The upstream reader gave something other than bytes: the error event. Ends the stream.
    pub fn feed_other(&mut self) -> Option<Vec<u8>> {
        let out = self.fed(edgellm::wasm::BodyFeed::not_bytes);
        self.end_if_waiting();
        some(out)
    }

    /// The upstream body ended: the last events (`[DONE]`, or the error event). Ends the stream.
    /// `spare` is the buffer the BYOB read that said done gave back (else `undefined`).
    pub fn finish(&mut self, spare: JsValue) -> Option<Vec<u8>> {
        let out = self.fed(edgellm::wasm::BodyFeed::end);
        self.end_if_waiting();
        edgellm::wasm::spare_read_buffer(spare);
        some(out)
    }

    /// The upstream read rejected with `reason`: the error event. Ends the stream.
    pub fn fail(&mut self, reason: JsValue) -> Option<Vec<u8>> {
        let out = self.fed(|f| f.fail(reason));
        self.end_if_waiting();
        some(out)
    }

    /// Whether the stream has ended (nothing more will come out).
    pub fn ended(&self) -> bool {
        self.stream.is_none()
    }
}

/// Answers with `stream` pumped from JS when it is one the handlers marked
/// (`app::sse::drivable`) and its upstream body's reader could be taken over; otherwise gives
/// the stream back, to be sent through `from_stream` as before. `respond_with` makes the
/// response around the body (a `ReadableStream`).
pub(crate) fn respond(
    stream: ByteStream,
    request: &web_sys::Request,
    respond_with: impl FnOnce(&JsValue) -> worker::Result<web_sys::Response>,
) -> Result<worker::Result<web_sys::Response>, ByteStream> {
    let Some(inner) = crate::app::sse::take_drivable(&stream) else {
        return Err(stream);
    };
    drop(stream);
    let mut driver = SseDriver {
        stream: Some(inner),
        feed: None,
    };
    let (first, detached) = edgellm::wasm::detaching(|| driver.pump());
    let (reader, buffer) = match detached {
        Some(d) => {
            driver.feed = Some(d.feed);
            (d.reader, d.buffer)
        }
        None => match driver.stream.take() {
            // Not reading a fetch body (a mocked answer): it is all there, or it waits for
            // something that needs a real waker.
            Some(rest) => {
                let first = futures_util::stream::iter((!first.is_empty()).then_some(Ok(first)));
                return Err(Box::pin(futures_util::StreamExt::chain(first, rest)));
            }
            None => (JsValue::NULL, JsValue::NULL),
        },
    };
    let ended = driver.stream.is_none();
    let first = some(first).map(|f| Uint8Array::from(f.as_slice()));
    Ok(
        edgellm_sse_body(driver, reader, buffer, first, ended, request)
            .map_err(worker::Error::from)
            .and_then(|body| respond_with(&body)),
    )
}
