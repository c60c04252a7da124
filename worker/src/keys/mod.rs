//! Virtual keys: LiteLLM's key-management API, exact spend tracking, budgets and rate limits,
//! and the spend dashboard — as plain Rust over two stores ([`store::Kv`] for records and the
//! spend log, [`store::Counters`] for the counters of record), so that all of it is tested
//! natively; the Worker edge (`keys_edge`) binds them to Workers KV and Durable Objects.
//!
//! See `worker/README.md`, "Virtual keys and spend", for the design.
//!
//! A request reaches this layer ([`Keys::handle`]) before the gateway's own auth:
//! management routes (`/key/*`, `/user/*`, `/team/*`, `/spend/*`, `/global/*`, `/ui`) are
//! answered here ([`api`]); an OpenAI-endpoint request that presents a key other than the
//! master key is a virtual-key request ([`gate`]); everything else goes on to the gateway
//! unchanged.

pub mod api;
pub mod counter;
pub mod errors;
pub mod gate;
pub mod logging;
pub mod meter;
pub mod model;
pub mod secret;
pub mod store;
pub mod time;
pub mod ui;
pub mod worst;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::rc::Rc;

use edgellm::integrations::gateway::RequestLog;
use edgellm::{Env, Host};

use crate::app::{auth, Gateway, Head, Reply};
use store::{Counters, Kv, Spawn};

/// How long spend-log entries are kept in KV (30 days), unless `EDGELLM_SPEND_LOG_TTL_DAYS`
/// says otherwise.
pub const DEFAULT_LOG_TTL_S: u64 = 30 * 86_400;

/// The virtual-key layer over its stores.
#[derive(Clone)]
pub struct Keys<K, C> {
    /// Records and the spend log.
    pub kv: K,
    /// Counters of record.
    pub counters: C,
    /// Runs booking that outlives the response (a dropped stream).
    pub spawn: Spawn,
    /// The clock (ms since the epoch).
    pub clock: Rc<dyn Fn() -> u64>,
    /// Spend-log retention in seconds.
    pub log_ttl_s: u64,
}

impl<K, C> std::fmt::Debug for Keys<K, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("log_ttl_s", &self.log_ttl_s)
            .finish()
    }
}

/// Random bytes for a new key, from the host's CSPRNG.
pub type KeyBytes = [u8; secret::KEY_BYTES];

impl<K: Kv + Clone + 'static, C: Counters + Clone + 'static> Keys<K, C> {
    /// Now, from the clock.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Handles the request if it is this layer's: `None` sends it on to the gateway.
    ///
    /// `query` is the URL's query string; `random_key` gives CSPRNG bytes for new keys;
    /// `read_body(limit)` reads the request body (at most `limit` bytes). Nothing is logged;
    /// see [`Keys::handle_logged`].
    #[allow(clippy::too_many_arguments)]
    pub async fn handle<H, F, Fut>(
        &self,
        host: &H,
        env: &dyn Env,
        gw: &Gateway,
        head: &Head,
        query: &str,
        request_id: &str,
        random_key: &dyn Fn() -> KeyBytes,
        read_body: F,
    ) -> Option<Reply>
    where
        H: Host,
        F: FnOnce(usize) -> Fut,
        Fut: Future<Output = Result<Vec<u8>, Reply>>,
    {
        let log = RequestLog::off();
        self.handle_logged(
            host, env, gw, head, query, request_id, random_key, &log, read_body,
        )
        .await
    }

    /// [`Keys::handle`], recording a virtual-key request's calls (with the key's alias, user,
    /// team and metadata), its refusal and the budget alerts it causes in `log`, whose caller
    /// is the presented key.
    #[allow(clippy::too_many_arguments)]
    pub async fn handle_logged<H, F, Fut>(
        &self,
        host: &H,
        env: &dyn Env,
        gw: &Gateway,
        head: &Head,
        query: &str,
        request_id: &str,
        random_key: &dyn Fn() -> KeyBytes,
        log: &RequestLog,
        read_body: F,
    ) -> Option<Reply>
    where
        H: Host,
        F: FnOnce(usize) -> Fut,
        Fut: Future<Output = Result<Vec<u8>, Reply>>,
    {
        if head.method == "OPTIONS" {
            // CORS preflights are the gateway's, on every path.
            return None;
        }
        let settings = &gw.config().general_settings;
        let presented =
            auth::presented_key(|h| head.header(h), settings.key_header_name.as_deref());
        if api::is_management(&head.path) {
            return Some(
                self.management(host, gw, head, query, presented, random_key, read_body)
                    .await,
            );
        }
        let master = settings.master_key.as_ref()?;
        let key = presented?;
        if auth::constant_time_eq(master.expose().as_bytes(), key.as_bytes()) {
            return None;
        }
        Some(
            self.serve_virtual(host, env, gw, head, key, request_id, log, read_body)
                .await,
        )
    }
}
