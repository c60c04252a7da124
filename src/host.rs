//! The one I/O edge: what the JavaScript host (browser, Node, Workers) provides.
//!
//! The core never calls `fetch`, reads a clock, sleeps or draws random numbers itself; it asks a
//! [`Host`]. The wasm build implements it over `fetch` + `AbortController` + `setTimeout`
//! (`src/wasm/`); tests implement it with canned responses and a fake clock.

use std::future::Future;

use crate::http::{HttpRequest, HttpResponse};
use crate::{Error, ErrorKind, Result};

/// I/O, time and randomness, supplied by the runtime.
#[allow(async_fn_in_trait)]
pub trait Host {
    /// Sends `req`. Resolves when status and headers arrived. `timeout_ms` bounds the wait for
    /// the headers and every later gap between body chunks; on expiry the request is aborted
    /// and the error is [`ErrorKind::Timeout`]. Connection failures are [`ErrorKind::Connection`].
    fn send(
        &self,
        req: HttpRequest,
        timeout_ms: Option<u64>,
    ) -> impl Future<Output = Result<HttpResponse>>;

    /// Waits `ms` milliseconds.
    fn sleep(&self, ms: u64) -> impl Future<Output = ()>;

    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// A uniform random number in `[0, 1)` (jitter, weighted shuffles, ids).
    fn random(&self) -> f64;

    /// RSASSA-PKCS1-v1_5 SHA-256 signature of `data` with a PKCS#8 DER private key
    /// (Google service-account JWTs). Hosts without crypto return an error.
    fn sign_rs256(&self, pkcs8_der: &[u8], data: &[u8]) -> impl Future<Output = Result<Vec<u8>>> {
        let _ = (pkcs8_der, data);
        async {
            Err(Error::new(
                ErrorKind::BadRequest,
                "this host cannot sign RS256 JWTs (no WebCrypto)",
            ))
        }
    }
}

/// Environment variables as the host sees them (process.env, Worker bindings, `setEnv`).
pub trait Env {
    /// The value of `name`, if set and non-empty.
    fn var(&self, name: &str) -> Option<String>;
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

impl Env for std::collections::BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

impl Env for crate::str_map::StrMap<String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

/// No environment at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnv;

impl Env for NoEnv {
    fn var(&self, _name: &str) -> Option<String> {
        None
    }
}
