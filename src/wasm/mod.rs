//! The wasm [`Host`]: `fetch`, `setTimeout`, `Date.now`, `Math.random` and WebCrypto, all
//! through globals, so the same build runs in browsers, Web Workers, Node ≥ 20 and
//! Cloudflare Workers.
//!
//! - The response body stream owns the request: dropping the stream (a JS `stream.cancel()`, a
//!   `break` out of `for await`, a Worker client disconnect) cancels the body, which aborts the
//!   HTTP request. A request with a timeout also gets an `AbortController`, which the timeout
//!   and the drop abort.
//! - `timeout_ms` bounds the wait for the headers and each later wait for a body chunk (for a
//!   body of known length that is not an event stream, read in one `arrayBuffer()`, the wait
//!   for the whole body); on expiry the request is aborted and the error is
//!   [`ErrorKind::Timeout`](crate::ErrorKind).
//! - A `TypeError` from `fetch` (DNS, refused, reset, CORS) is
//!   [`ErrorKind::Connection`](crate::ErrorKind); an `AbortError` is
//!   [`ErrorKind::Cancelled`](crate::ErrorKind).
//!
//! ```ignore
//! let host = edgellm::wasm::FetchHost::new();
//! let done = edgellm::engine::completion(&host, &env, req, opts).await?;
//! ```

mod crypto;
mod feed;
mod fetch;
mod ids;
mod settle;
mod timer;

use std::future::Future;

use crate::host::Host;
use crate::http::{HttpRequest, HttpResponse};
use crate::Result;

pub use feed::{detaching, BodyFeed, Detached};
pub use fetch::spare_read_buffer;
pub use ids::JsIds;
pub use settle::in_settlement;

/// [`Host`] over the JS runtime's globals. Stateless and cheap: make one per call or share one.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchHost;

impl FetchHost {
    /// A host for the current JS runtime.
    pub fn new() -> Self {
        Self
    }
}

impl Host for FetchHost {
    fn send(
        &self,
        req: HttpRequest,
        timeout_ms: Option<u64>,
    ) -> impl Future<Output = Result<HttpResponse>> {
        fetch::send(req, timeout_ms)
    }

    fn sleep(&self, ms: u64) -> impl Future<Output = ()> {
        timer::Sleep::new(ms)
    }

    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    fn sign_rs256(&self, pkcs8_der: &[u8], data: &[u8]) -> impl Future<Output = Result<Vec<u8>>> {
        crypto::sign_rs256(pkcs8_der, data)
    }
}
