//! Virtual keys at the edge: [`crate::keys`]' stores over the Worker bindings (Workers KV
//! `EDGELLM_KV`, the Durable Object namespace `EDGELLM_COUNTERS`), the counter Durable Object
//! itself ([`SpendCounter`]), and key bytes from `crypto.getRandomValues`.
//!
//! Virtual keys are on when both bindings exist; without them every request goes to the
//! gateway as before.

use std::rc::Rc;

use serde_json::Value;
use worker::js_sys::{self, Reflect, Uint8Array};
// `#[durable_object]`'s expansion names the `wasm_bindgen` crate by that path.
use worker::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{
    durable_object, Context, DurableObject, Env, KvStore, Method, ObjectNamespace, Request,
    RequestInit, Response, State,
};

use edgellm::{Error, ErrorKind, Result};

use crate::app::{Gateway, Head, Reply};
use crate::keys::counter::{CounterState, Op, Outcome};
use crate::keys::store::{Counters, Kv, Listed, Page};
use crate::keys::{secret, KeyBytes, Keys, DEFAULT_LOG_TTL_S};

/// The KV namespace binding.
pub const KV_BINDING: &str = "EDGELLM_KV";
/// The Durable Object namespace binding.
pub const COUNTERS_BINDING: &str = "EDGELLM_COUNTERS";

fn js_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InternalServer, format!("{what}: {e}"))
}

/// Workers KV.
#[derive(Clone)]
struct WorkerKv(KvStore);

/// Workers KV refuses longer names (414); no record can have one, so a lookup by a longer
/// name (a client's over-long `user_id` in a query) finds nothing instead of failing.
const MAX_KV_NAME_BYTES: usize = 512;

impl Kv for WorkerKv {
    async fn get(&self, name: &str) -> Result<Option<String>> {
        if name.len() > MAX_KV_NAME_BYTES {
            return Ok(None);
        }
        self.0
            .get(name)
            .text()
            .await
            .map_err(|e| js_err("KV get", e))
    }

    async fn put(
        &self,
        name: &str,
        value: &str,
        metadata: Option<Value>,
        ttl_s: Option<u64>,
    ) -> Result<()> {
        let mut put = self.0.put(name, value).map_err(|e| js_err("KV put", e))?;
        if let Some(m) = metadata {
            put = put.metadata(m).map_err(|e| js_err("KV put", e))?;
        }
        if let Some(ttl) = ttl_s {
            // KV refuses TTLs under 60 s.
            put = put.expiration_ttl(ttl.max(60));
        }
        put.execute().await.map_err(|e| js_err("KV put", e))
    }

    async fn delete(&self, name: &str) -> Result<()> {
        self.0
            .delete(name)
            .await
            .map_err(|e| js_err("KV delete", e))
    }

    async fn list(&self, prefix: &str, cursor: Option<String>, limit: u64) -> Result<Page> {
        let mut list = self.0.list().prefix(prefix.to_string()).limit(limit);
        if let Some(c) = cursor {
            list = list.cursor(c);
        }
        let page = list.execute().await.map_err(|e| js_err("KV list", e))?;
        Ok(Page {
            entries: page
                .keys
                .into_iter()
                .map(|k| Listed {
                    name: k.name,
                    metadata: k.metadata,
                })
                .collect(),
            cursor: if page.list_complete {
                None
            } else {
                page.cursor
            },
        })
    }
}

/// The counter objects: one `SpendCounter` per name.
#[derive(Clone)]
struct DoCounters(ObjectNamespace);

impl Counters for DoCounters {
    async fn call(&self, name: &str, op: &Op) -> Result<Outcome> {
        let stub = self
            .0
            .id_from_name(name)
            .and_then(|id| id.get_stub())
            .map_err(|e| js_err("counter", e))?;
        let body = serde_json::to_string(op).map_err(|e| js_err("counter op", e))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_body(Some(JsValue::from_str(&body)));
        let req = Request::new_with_init("https://counter/op", &init)
            .map_err(|e| js_err("counter", e))?;
        let mut resp = stub
            .fetch_with_request(req)
            .await
            .map_err(|e| js_err("counter", e))?;
        let text = resp.text().await.map_err(|e| js_err("counter", e))?;
        if resp.status_code() != 200 {
            return Err(js_err(
                "counter",
                format!("HTTP {}: {text}", resp.status_code()),
            ));
        }
        serde_json::from_str(&text).map_err(|e| js_err("counter answer", e))
    }
}

/// The counters of record for one key, user, team or the gateway (see
/// [`crate::keys::counter`]): the state is one JSON value in the object's storage, read,
/// changed by one [`Op`] and written back per event. Storage operations hold the object's
/// input gate, so no other event interleaves between the read and the write.
#[durable_object(fetch)]
pub struct SpendCounter {
    state: State,
}

impl std::fmt::Debug for SpendCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpendCounter")
    }
}

const STATE_KEY: &str = "s";

impl DurableObject for SpendCounter {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let op: Op = match serde_json::from_str(&req.text().await?) {
            Ok(op) => op,
            Err(e) => return Response::error(format!("bad counter op: {e}"), 400),
        };
        let storage = self.state.storage();
        let mut state: CounterState = match storage.get::<String>(STATE_KEY).await? {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| worker::Error::RustError(e.to_string()))?
            }
            None => CounterState::default(),
        };
        let (outcome, dirty) = state.apply(op);
        if dirty {
            let text = serde_json::to_string(&state)
                .map_err(|e| worker::Error::RustError(e.to_string()))?;
            storage.put(STATE_KEY, text).await?;
        }
        Response::from_json(&outcome)
    }
}

/// 32 bytes from `crypto.getRandomValues` (the platform's CSPRNG).
fn random_key() -> KeyBytes {
    let mut out = [0u8; secret::KEY_BYTES];
    let filled = (|| -> std::result::Result<(), JsValue> {
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
        let f: js_sys::Function =
            Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))?.dyn_into()?;
        let arr = Uint8Array::new_with_length(secret::KEY_BYTES as u32);
        f.call1(&crypto, &arr)?;
        arr.copy_to(&mut out);
        Ok(())
    })();
    // Without a CSPRNG no key may be made; a panic here is recovered by the entry.
    filled.expect("crypto.getRandomValues is available in Workers");
    out
}

fn log_ttl(env: &Env) -> u64 {
    env.var("EDGELLM_SPEND_LOG_TTL_DAYS")
        .ok()
        .and_then(|v| v.to_string().trim().parse::<u64>().ok())
        .map_or(DEFAULT_LOG_TTL_S, |d| d.max(1) * 86_400)
}

/// Handles the request if it is the virtual-key layer's (see [`Keys::handle`]); `None` when
/// virtual keys are off (bindings missing) or the request is the gateway's. A virtual-key
/// request's calls and budget alerts are recorded in `log`. A body the JS entry already read
/// is taken from `pre` when this layer reads the body.
#[allow(clippy::too_many_arguments)]
pub async fn handle(
    req: &mut Request,
    env: &Env,
    ctx: Rc<Context>,
    host: &edgellm::wasm::FetchHost,
    wenv: &dyn edgellm::Env,
    gw: std::result::Result<&Gateway, &str>,
    head: &Head,
    request_id: &str,
    log: &edgellm::integrations::gateway::RequestLog,
    pre: &std::cell::Cell<Option<crate::edge::Preread>>,
) -> Option<Reply> {
    let gw = gw.ok()?;
    let kv = env.kv(KV_BINDING).ok()?;
    let counters = env.durable_object(COUNTERS_BINDING).ok()?;
    let keys = Keys {
        kv: WorkerKv(kv),
        counters: DoCounters(counters),
        spawn: Rc::new(move |f| ctx.wait_until(f)),
        clock: Rc::new(|| js_sys::Date::now() as u64),
        log_ttl_s: log_ttl(env),
    };
    let query = req
        .url()
        .ok()
        .and_then(|u| u.query().map(String::from))
        .unwrap_or_default();
    keys.handle_logged(
        host,
        wenv,
        gw,
        head,
        &query,
        request_id,
        &random_key,
        log,
        |limit| {
            let pre = pre.take().unwrap_or(crate::edge::Preread::No);
            crate::edge::read_body(req, limit, pre)
        },
    )
    .await
}
