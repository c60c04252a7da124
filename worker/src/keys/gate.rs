//! A request on an OpenAI endpoint that presents a virtual key: admit it at the key's
//! counters (and its user's and team's), run it through the gateway, book what it cost.
//!
//! Admission is one `reserve` on the key's counter object, which checks existence, deletion,
//! blocking, expiry, the model allow-list, the budget and the rate limits in one atomic step
//! and reserves the worst-case cost; then the same on the owner's user and team counters. After
//! the call, `settle` books the real cost (from the usage the provider reported) on each of
//! them and on the gateway-wide counter, once per request id; streams settle when they end.
//!
//! The request's calls are logged with the key's, user's and team's names and metadata, its
//! refusals as failure events, and the budget levels the counters report crossed as budget
//! alerts (see [`super::logging`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::{join_all, LocalBoxFuture};
use futures_util::{FutureExt, Stream};
use serde_json::{Map, Value};

use edgellm::cost::Usd;
use edgellm::integrations::gateway::RequestLog;
use edgellm::types::Usage;
use edgellm::{Env, Error, Host};

use super::counter::{Crossing, Limits, Op, Outcome, Snapshot, DEFAULT_HOLD_MS};
use super::errors;
use super::logging;
use super::meter::{Reading, Routed};
use super::model::{self, SpendLog};
use super::store::{Counters, Kv};
use super::Keys;
use crate::app::reply::ByteStream;
use crate::app::routes::{self, Endpoint, Matched};
use crate::app::{self, Begin, Body, Gateway, Head, Reply};

/// A request admitted at every counter that limits it.
#[derive(Debug, Clone)]
struct Admission {
    /// The key's counter after the reservation.
    key: Snapshot,
    /// The key's team's limits (its alias and metadata), if it has a team counter.
    team: Option<Limits>,
    /// Counter names holding a reservation: the key's, then its user's and team's.
    held: Vec<String>,
    /// Reserved worst case.
    amount: Usd,
}

/// A request refused at admission.
#[derive(Debug)]
struct Denied {
    /// The answer.
    reply: Reply,
    /// The key's limits, when its counter was reached and knew it.
    key: Option<Limits>,
    /// The key's team's limits, when its counter admitted or refused.
    team: Option<Limits>,
    /// Budget levels the refusing counters reported, by counter name.
    crossed: Vec<(String, Crossing)>,
}

impl Denied {
    fn new(reply: Reply) -> Self {
        Self {
            reply,
            key: None,
            team: None,
            crossed: Vec::new(),
        }
    }
}

/// Records a budget alert for each level a counter reported reached (by counter name).
fn alert_all(log: &RequestLog, crossed: &[(String, Crossing)], key_hash: &str, at_ms: u64) {
    for (counter, c) in crossed {
        log.alert(logging::alert(counter, c, log.caller(), key_hash, at_ms));
    }
}

fn tagged(counter: &str, crossed: &[Crossing]) -> Vec<(String, Crossing)> {
    crossed
        .iter()
        .map(|c| (counter.to_string(), c.clone()))
        .collect()
}

/// What a spend-log entry needs besides the outcome.
#[derive(Debug, Clone)]
struct Facts {
    request_id: String,
    hash: String,
    model: String,
    call_type: &'static str,
    start_ms: u64,
    user: Option<String>,
    team_id: Option<String>,
    stream: bool,
}

fn call_type(e: &Endpoint) -> &'static str {
    match e {
        Endpoint::Chat => "acompletion",
        Endpoint::TextCompletion => "atext_completion",
        Endpoint::Embeddings => "aembedding",
        Endpoint::Images => "aimage_generation",
        Endpoint::Moderations => "amoderation",
        Endpoint::Rerank => "arerank",
        _ => "unknown",
    }
}

fn store_error(e: &Error) -> Reply {
    errors::proxy_error(
        503,
        "service_unavailable",
        &format!("the key store is unavailable, retry: {}", e.message()),
        None,
    )
}

impl<K: Kv + Clone + 'static, C: Counters + Clone + 'static> Keys<K, C> {
    /// Serves an OpenAI-endpoint request that presents the virtual key `key`; its calls,
    /// refusal and budget alerts are recorded in `log` (whose caller is the presented key).
    #[allow(clippy::too_many_arguments)]
    pub async fn serve_virtual<H, F, Fut>(
        &self,
        host: &H,
        env: &dyn Env,
        gw: &Gateway,
        head: &Head,
        key: &str,
        request_id: &str,
        log: &RequestLog,
        read_body: F,
    ) -> Reply
    where
        H: Host,
        F: FnOnce(usize) -> Fut,
        Fut: Future<Output = Result<Vec<u8>, Reply>>,
    {
        let hash = super::secret::hash_key(key);
        let endpoint = match routes::route(&head.method, &head.path) {
            Matched::Found(e, _) if !e.is_public() => e,
            // Unknown paths, wrong methods and public probes answer as without a key.
            _ => {
                return match app::begin(Ok(gw), head) {
                    Begin::Done(r) => r,
                    Begin::Body { .. } => errors::not_admin(),
                }
            }
        };
        if !endpoint.has_body() {
            return self.bodyless(gw, head, &endpoint, &hash, log).await;
        }
        let (endpoint, path_model, limit) = match app::begin_as(Ok(gw), head, true) {
            Begin::Done(r) => return r,
            Begin::Body {
                endpoint,
                path_model,
                limit,
            } => (endpoint, path_model, limit),
        };
        let body = match read_body(limit).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        let obj: Map<String, Value> = match serde_json::from_slice(&body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let model = path_model
            .clone()
            .or_else(|| obj.get("model").and_then(Value::as_str).map(String::from))
            .or_else(|| match endpoint {
                Endpoint::Images => Some(edgellm::modality::DEFAULT_IMAGE_MODEL.to_string()),
                Endpoint::Moderations => Some("omni-moderation-latest".to_string()),
                _ => None,
            });
        let amount = model.as_deref().map_or(Usd::ZERO, |m| {
            super::worst::worst_case(gw, &endpoint, m, &obj)
        });
        let start_ms = self.now();
        let admission = match self
            .admit(&hash, request_id, amount, model.as_deref(), start_ms)
            .await
        {
            Ok(a) => a,
            Err(d) => {
                let log = log.with_caller(logging::caller(
                    log.caller(),
                    d.key.as_ref(),
                    d.team.as_ref(),
                ));
                alert_all(&log, &d.crossed, &hash, start_ms);
                if endpoint == Endpoint::Chat {
                    log.chat(&obj).refused(&logging::refusal_error(&d.reply));
                }
                return d.reply;
            }
        };
        let log = log.with_caller(logging::caller(
            log.caller(),
            Some(&admission.key.limits),
            admission.team.as_ref(),
        ));
        let facts = Facts {
            request_id: request_id.to_string(),
            hash: hash.clone(),
            model: model.clone().unwrap_or_default(),
            call_type: call_type(&endpoint),
            start_ms,
            user: admission.key.limits.user_id.clone(),
            team_id: admission.key.limits.team_id.clone(),
            stream: false,
        };
        let mut reply = app::run_logged(host, env, gw, endpoint, path_model, &body, &log).await;
        reply.headers.push((
            "x-litellm-key-spend".into(),
            admission.key.spend.to_f64().to_string(),
        ));
        if let Some(max) = admission.key.limits.max_budget {
            reply
                .headers
                .push(("x-litellm-key-max-budget".into(), max.to_f64().to_string()));
        }
        if matches!(reply.body, Body::Stream(_)) && reply.status < 400 {
            let Body::Stream(inner) = std::mem::replace(&mut reply.body, Body::Empty) else {
                unreachable!("matched above")
            };
            let keys = self.clone();
            let meter = reply.meter.clone();
            let facts = Facts {
                stream: true,
                ..facts
            };
            // The budget alerts of the booking at the stream's end are still to come: the
            // log's delivery waits for them.
            let hold = log.is_on().then(|| log.sink().hold());
            let log = log.clone();
            let finish = Box::new(move |end: StreamEnd| -> LocalBoxFuture<'static, ()> {
                async move {
                    let (reading, routed) = meter.map_or_else(
                        || (Reading::Pending, Routed::default()),
                        |m| (m.reading(), m.routed()),
                    );
                    keys.finish_stream(end, reading, routed, admission, facts, &log)
                        .await;
                    drop(hold);
                }
                .boxed_local()
            });
            reply.body = Body::Stream(Box::pin(Settling {
                inner: Some(inner),
                finish: Some(finish),
                running: None,
                spawn: self.spawn.clone(),
            }));
            return reply;
        }
        let outcome = match (&reply.meter, reply.status < 400) {
            (Some(m), true) => match m.reading() {
                Reading::Done(mut done) => {
                    if done.usage.is_none() {
                        done.usage = usage_in(&reply);
                    }
                    Booking::Success {
                        cost: done.cost.unwrap_or_default(),
                        usage: done.usage,
                    }
                }
                // A complete response always has its reading: without one the cost is unknown,
                // so the reservation is kept.
                _ => Booking::Charged {
                    cost: admission.amount,
                    why: "response without a cost reading",
                },
            },
            // A reply no handler metered: nothing was routed to a provider.
            (None, true) => Booking::Success {
                cost: Usd::ZERO,
                usage: usage_in(&reply),
            },
            (_, false) => Booking::Failure {
                error: error_message(&reply),
            },
        };
        let routed = reply.meter.as_ref().map(|m| m.routed()).unwrap_or_default();
        let status = reply.status;
        if let Some(after) = self
            .book(&admission, &facts, outcome, &routed, status, &log)
            .await
        {
            if let Some(h) = reply
                .headers
                .iter_mut()
                .find(|(k, _)| k == "x-litellm-key-spend")
            {
                h.1 = after.spend.to_f64().to_string();
            }
        }
        reply
    }

    /// `GET /v1/models` and friends: the key must be valid; the model list shows only what it
    /// may use.
    async fn bodyless(
        &self,
        gw: &Gateway,
        head: &Head,
        endpoint: &Endpoint,
        hash: &str,
        log: &RequestLog,
    ) -> Reply {
        let model = match endpoint {
            Endpoint::Model(m) => Some(m.clone()),
            _ => None,
        };
        let op = Op::Check {
            model,
            require_configured: true,
            now_ms: self.now(),
        };
        let name = model::key_counter(hash);
        let snap = match self.counters.call(&name, &op).await {
            Ok(Outcome::Ok(s)) => *s,
            Ok(Outcome::Refused(r)) => {
                let log = log.with_caller(logging::caller(log.caller(), r.limits.as_deref(), None));
                alert_all(&log, &tagged(&name, &r.crossed), hash, self.now());
                return errors::refusal(&r, hash);
            }
            Err(e) => return store_error(&e),
        };
        let mut reply = match app::begin_as(Ok(gw), head, true) {
            Begin::Done(r) => r,
            Begin::Body { .. } => return errors::not_admin(),
        };
        if *endpoint == Endpoint::Models && !snap.limits.models.is_empty() {
            if let Some(mut j) = reply.json_body() {
                if let Some(data) = j.get_mut("data").and_then(Value::as_array_mut) {
                    data.retain(|m| m["id"].as_str().is_some_and(|id| snap.limits.allows(id)));
                }
                let status = reply.status;
                let headers = std::mem::take(&mut reply.headers);
                reply = Reply::json(status, &j);
                reply.headers = headers;
            }
        }
        reply
    }

    /// Reserves at the key, then at its user and team (at once). Any refusal releases what
    /// was reserved.
    async fn admit(
        &self,
        hash: &str,
        id: &str,
        amount: Usd,
        model: Option<&str>,
        now_ms: u64,
    ) -> Result<Admission, Denied> {
        let reserve = |require_configured| Op::Reserve {
            id: id.to_string(),
            amount,
            model: model.map(String::from),
            require_configured,
            now_ms,
            hold_ms: DEFAULT_HOLD_MS,
        };
        let key_name = model::key_counter(hash);
        let key = match self.counters.call(&key_name, &reserve(true)).await {
            Ok(Outcome::Ok(s)) => *s,
            Ok(Outcome::Refused(r)) => {
                return Err(Denied {
                    reply: errors::refusal(&r, hash),
                    crossed: tagged(&key_name, &r.crossed),
                    key: r.limits.map(|l| *l),
                    team: None,
                })
            }
            Err(e) => return Err(Denied::new(store_error(&e))),
        };
        let team_name = key.limits.team_id.as_deref().map(model::team_counter);
        let owners: Vec<String> = key
            .limits
            .user_id
            .iter()
            .map(|u| model::user_counter(u))
            .chain(key.limits.team_id.iter().map(|t| model::team_counter(t)))
            .collect();
        let op = reserve(false);
        let results = join_all(owners.iter().map(|n| self.counters.call(n, &op))).await;
        let mut held = vec![key_name];
        let mut refused = None;
        let mut team = None;
        let mut crossed = Vec::new();
        for (name, r) in owners.into_iter().zip(results) {
            let is_team = team_name.as_deref() == Some(name.as_str());
            match r {
                Ok(Outcome::Ok(s)) => {
                    if is_team {
                        team = Some(s.limits);
                    }
                    held.push(name);
                }
                Ok(Outcome::Refused(r)) => {
                    crossed.extend(tagged(&name, &r.crossed));
                    if is_team {
                        team = r.limits.clone().map(|l| *l);
                    }
                    refused = Some(errors::refusal(&r, hash));
                }
                Err(e) => refused = Some(store_error(&e)),
            }
        }
        if let Some(reply) = refused {
            let release = Op::Release {
                id: id.to_string(),
                now_ms,
            };
            join_all(held.iter().map(|n| self.counters.call(n, &release))).await;
            return Err(Denied {
                reply,
                key: Some(key.limits),
                team,
                crossed,
            });
        }
        Ok(Admission {
            key,
            team,
            held,
            amount,
        })
    }

    /// Books the outcome at every counter that admitted the request and at the gateway-wide
    /// one, writes the spend log and records the budget levels the counters report crossed
    /// in `log`. Returns the key's counter after it.
    async fn book(
        &self,
        admission: &Admission,
        facts: &Facts,
        outcome: Booking,
        routed: &Routed,
        http_status: u16,
        log: &RequestLog,
    ) -> Option<Snapshot> {
        let end_ms = self.now();
        let (cost, usage, error) = match outcome {
            Booking::Success { cost, usage } => (cost, usage, None),
            Booking::Failure { error } => (Usd::ZERO, None, Some(error)),
            Booking::Charged { cost, why } => (cost, None, Some(why.to_string())),
        };
        let usage = usage.unwrap_or_default();
        let op = Op::Settle {
            id: facts.request_id.clone(),
            cost,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            model: Some(if routed.model_group.is_empty() {
                facts.model.clone()
            } else {
                routed.model_group.clone()
            }),
            now_ms: end_ms,
        };
        let names: Vec<&str> = admission
            .held
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(model::GLOBAL_COUNTER))
            .collect();
        let results = join_all(names.iter().map(|n| self.settle_once(n, &op))).await;
        let crossed: Vec<(String, Crossing)> = names
            .iter()
            .zip(&results)
            .filter_map(|(n, r)| match r {
                Some(Outcome::Ok(s)) => Some(tagged(n, &s.crossed)),
                _ => None,
            })
            .flatten()
            .collect();
        alert_all(log, &crossed, &facts.hash, end_ms);
        let after = match results.into_iter().next() {
            Some(Some(Outcome::Ok(s))) => Some(*s),
            _ => None,
        };
        let entry = SpendLog {
            request_id: facts.request_id.clone(),
            call_type: facts.call_type.to_string(),
            api_key: facts.hash.clone(),
            spend: cost.to_f64(),
            spend_exact: model::exact(cost),
            total_tokens: usage.prompt_tokens + usage.completion_tokens,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            start_time: super::time::iso(facts.start_ms),
            end_time: super::time::iso(end_ms),
            model: facts.model.clone(),
            model_id: routed.deployment_id.clone(),
            model_group: routed.model_group.clone(),
            deployment: routed.deployment_model.clone(),
            api_base: routed.api_base.clone(),
            user: facts.user.clone(),
            team_id: facts.team_id.clone(),
            key_alias: admission
                .key
                .limits
                .alias
                .clone()
                .or_else(|| logging::alias_of(admission.key.limits.label.as_deref())),
            status: if error.is_none() {
                "success"
            } else {
                "failure"
            }
            .into(),
            error,
            http_status,
            stream: facts.stream,
        };
        self.write_log(&entry, end_ms).await;
        after
    }

    /// One settle, retried once: the counter books a request id only once, so a retry after
    /// a lost answer cannot double-count.
    async fn settle_once(&self, name: &str, op: &Op) -> Option<Outcome> {
        match self.counters.call(name, op).await {
            Ok(o) => Some(o),
            Err(_) => self.counters.call(name, op).await.ok(),
        }
    }

    async fn write_log(&self, log: &SpendLog, end_ms: u64) {
        let text = serde_json::to_string(log).expect("spend logs serialize");
        // Listings return metadata without a read per entry; it is limited to 1024 bytes.
        let meta = if text.len() <= 1000 {
            serde_json::from_str(&text).ok()
        } else {
            let mut short = log.clone();
            short.error = short.error.map(|e| e.chars().take(200).collect());
            short.api_base = None;
            serde_json::to_value(&short)
                .ok()
                .filter(|v| v.to_string().len() <= 1000)
        };
        let _ = self
            .kv
            .put(
                &model::log_kv(end_ms, &log.request_id),
                &text,
                meta,
                Some(self.log_ttl_s),
            )
            .await;
    }

    async fn finish_stream(
        &self,
        end: StreamEnd,
        reading: Reading,
        routed: Routed,
        admission: Admission,
        facts: Facts,
        log: &RequestLog,
    ) {
        let outcome = match (end, reading) {
            (StreamEnd::Completed, Reading::Done(done)) => Booking::Success {
                cost: done.cost.unwrap_or_default(),
                usage: done.usage,
            },
            // The upstream failed after the first chunk: nothing is charged, as for any
            // failed call.
            (StreamEnd::Completed, Reading::Failed(error)) => Booking::Failure { error },
            // The client went away: the provider bills what it generated, which nobody
            // reported, so the budget keeps the reservation (a client cannot get tokens free
            // by disconnecting before the usage chunk).
            (StreamEnd::Dropped, _) => Booking::Charged {
                cost: admission.amount,
                why: "client disconnected before the end of the stream; the reserved worst case is charged",
            },
            (StreamEnd::Completed, Reading::Pending) => Booking::Charged {
                cost: admission.amount,
                why: "stream ended without a usage reading; the reserved worst case is charged",
            },
        };
        self.book(&admission, &facts, outcome, &routed, 200, log)
            .await;
    }
}

/// How a request ended, for booking.
#[derive(Debug, Clone)]
enum Booking {
    /// Succeeded at this cost with this usage.
    Success { cost: Usd, usage: Option<Usage> },
    /// Failed: nothing charged.
    Failure { error: String },
    /// Charged without a reading: booked as spent, logged as a failure saying why.
    Charged { cost: Usd, why: &'static str },
}

/// The usage in a complete JSON reply.
fn usage_in(reply: &Reply) -> Option<Usage> {
    #[derive(serde::Deserialize)]
    struct WithUsage {
        usage: Option<Usage>,
    }
    match &reply.body {
        Body::Full(b) => serde_json::from_slice::<WithUsage>(b).ok()?.usage,
        _ => None,
    }
}

fn error_message(reply: &Reply) -> String {
    reply
        .json_body()
        .and_then(|j| j["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| format!("HTTP {}", reply.status))
}

/// How a stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamEnd {
    /// All of it was sent.
    Completed,
    /// Dropped before its end (the client went away).
    Dropped,
}

type Finish = Box<dyn FnOnce(StreamEnd) -> LocalBoxFuture<'static, ()>>;

/// A response stream that books the call when it ends: the body closes only after the spend
/// is settled, so a client that reads to the end sees its spend in `/key/info` at once. If
/// the stream is dropped first, booking runs in the background (`ctx.waitUntil`).
struct Settling {
    inner: Option<ByteStream>,
    finish: Option<Finish>,
    running: Option<LocalBoxFuture<'static, ()>>,
    spawn: super::store::Spawn,
}

impl Stream for Settling {
    type Item = Result<Vec<u8>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(f) = self.running.as_mut() {
                return match f.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.running = None;
                        Poll::Ready(None)
                    }
                    Poll::Pending => Poll::Pending,
                };
            }
            let Some(inner) = self.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match inner.as_mut().poll_next(cx) {
                Poll::Ready(None) => {
                    self.inner = None;
                    match self.finish.take() {
                        Some(f) => self.running = Some(f(StreamEnd::Completed)),
                        None => return Poll::Ready(None),
                    }
                }
                other => return other,
            }
        }
    }
}

impl Drop for Settling {
    fn drop(&mut self) {
        // The stream is dropped while the upstream may still be running; drop it first so the
        // upstream request is aborted before the booking starts.
        self.inner = None;
        if let Some(f) = self.finish.take() {
            (self.spawn)(f(StreamEnd::Dropped));
        } else if let Some(running) = self.running.take() {
            (self.spawn)(running);
        }
    }
}
