//! The pure decision loop of one routed call: which deployment next, after how long, or give up.
//!
//! LiteLLM's semantics (`async_function_with_fallbacks` → `async_function_with_retries`):
//! - A **retry** tries the same model group again; the new pick prefers deployments that have
//!   not failed in this call and then goes at once, otherwise it waits (exponential backoff with
//!   jitter, or the provider's `Retry-After`). `num_retries: N` allows at most N+1 requests per
//!   group; `retry_policy` sets N per error class. Requests that cannot succeed (400-class,
//!   404) are not retried; auth errors are retried only on another deployment.
//! - When retries are exhausted, a **fallback** moves to another group: context-window errors
//!   to `context_window_fallbacks`, content-policy errors to `content_policy_fallbacks`,
//!   otherwise (for errors another model may not have) to `fallbacks`, then `default_fallbacks`.
//!   Each fallback group gets its own retries and, if it fails, its own fallbacks first (depth
//!   first, as LiteLLM recurses), up to `max_fallbacks` deep. Groups already tried in this call
//!   are skipped, which also breaks cycles (`a → b → a`).
//! - Deployments in cooldown are never picked; a group with none left fails with 429
//!   "No deployments available".
//!
//! Time and randomness come in through [`PickInput`]; the caller records outcomes in
//! [`Health`] and sleeps.

use std::collections::VecDeque;

use serde_json::{Map, Value};

use super::health::Health;
use super::policy::Policy;
use super::strategy::{pick, PickContext};
use crate::config::{Fallbacks, ProxyConfig};
use crate::retry;
use crate::{Error, ErrorKind, Result};

/// Per-call routing options, taken out of the request (LiteLLM's per-call kwargs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallPolicy {
    /// `num_retries` for this call.
    pub num_retries: Option<u32>,
    /// `fallbacks` for this call: replaces the router's (a plain list of groups applies to the
    /// requested group).
    pub fallbacks: Option<Fallbacks>,
    /// `context_window_fallbacks` for this call.
    pub context_window_fallbacks: Option<Fallbacks>,
    /// `content_policy_fallbacks` for this call.
    pub content_policy_fallbacks: Option<Fallbacks>,
    /// `disable_fallbacks`.
    pub disable_fallbacks: bool,
    /// `max_fallbacks` for this call.
    pub max_fallbacks: Option<u32>,
}

/// Request keys that steer the router and must not reach a provider.
pub const CALL_POLICY_KEYS: &[&str] = &[
    "num_retries",
    "max_retries",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "disable_fallbacks",
    "max_fallbacks",
];

fn parse_chains(v: &Value, key: &str, group: &str) -> Result<Fallbacks> {
    let bad = || {
        Error::bad_request(format!(
            "`{key}` must be a list of model groups or of {{model_group: [fallback groups]}}"
        ))
        .with_param(key)
    };
    let Value::Array(items) = v else {
        return Err(bad());
    };
    let mut out: Fallbacks = Vec::new();
    let mut plain = Vec::new();
    for item in items {
        match item {
            Value::String(s) => plain.push(s.clone()),
            Value::Object(m) => {
                for (from, to) in m {
                    let to = match to {
                        Value::String(s) => vec![s.clone()],
                        // A loop: `collect::<Result<_>>` brings its own iterator adapters.
                        Value::Array(l) => {
                            let mut names = Vec::with_capacity(l.len());
                            for x in l {
                                names.push(x.as_str().map(String::from).ok_or_else(bad)?);
                            }
                            names
                        }
                        _ => return Err(bad()),
                    };
                    out.push((from.clone(), to));
                }
            }
            _ => return Err(bad()),
        }
    }
    if !plain.is_empty() {
        // LiteLLM's client-side form `fallbacks=["a", "b"]`: for the group being called.
        out.push((group.to_string(), plain));
    }
    Ok(out)
}

impl CallPolicy {
    /// Removes the routing keys from `request` (for `model`) and parses them.
    pub fn extract(request: &mut Map<String, Value>, model: &str) -> Result<Self> {
        let mut p = CallPolicy::default();
        // Most requests have none of these keys: a scan of the request's few keys finds that
        // without a map search per routing key.
        if !request
            .keys()
            .any(|k| CALL_POLICY_KEYS.contains(&k.as_str()))
        {
            return Ok(p);
        }
        for key in CALL_POLICY_KEYS {
            let Some(v) = request.remove(*key) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            let count = |max: u64| {
                v.as_u64()
                    .filter(|n| *n <= max)
                    .map(|n| n as u32)
                    .ok_or_else(|| {
                        Error::bad_request(format!("`{key}` must be an integer from 0 to {max}"))
                            .with_param(*key)
                    })
            };
            match *key {
                "num_retries" | "max_retries" => p.num_retries = Some(count(100)?),
                "max_fallbacks" => p.max_fallbacks = Some(count(100)?),
                "disable_fallbacks" => {
                    p.disable_fallbacks = v.as_bool().ok_or_else(|| {
                        Error::bad_request("`disable_fallbacks` must be a boolean")
                            .with_param("disable_fallbacks")
                    })?
                }
                "fallbacks" => p.fallbacks = Some(parse_chains(&v, key, model)?),
                "context_window_fallbacks" => {
                    p.context_window_fallbacks = Some(parse_chains(&v, key, model)?)
                }
                _ => p.content_policy_fallbacks = Some(parse_chains(&v, key, model)?),
            }
        }
        Ok(p)
    }
}

/// Time and randomness for one planning step.
#[derive(Debug, Clone, Copy)]
pub struct PickInput<'h> {
    /// Deployment health.
    pub health: &'h Health,
    /// The time.
    pub now_ms: u64,
    /// Uniform draw in [0, 1) for the pick.
    pub pick_draw: f64,
    /// Uniform draw in [0, 1) for backoff jitter.
    pub jitter_draw: f64,
    /// Estimated prompt tokens (usage-based routing).
    pub input_tokens: u64,
}

/// One planned request.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// Index of the deployment in the config's `model_list`.
    pub deployment: usize,
    /// The model group being served (after alias resolution; the pattern for wildcards).
    pub model_group: String,
    /// For wildcard groups, the part of the model name `*` stands for.
    pub wildcard: Option<String>,
    /// Wait this long before sending.
    pub wait_ms: u64,
    /// Retries already made in this group (0 for its first request).
    pub retry: u32,
    /// How many fallback hops led to this group (0 for the requested one).
    pub fallback_depth: u32,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send a request.
    Call(Attempt),
    /// Give up with this error.
    Fail(Error),
}

#[derive(Debug, Clone)]
struct Group {
    /// Name used for fallback lookups (the group as configured).
    name: String,
    wildcard: Option<String>,
    deployments: Vec<usize>,
    attempts: u32,
    failed: Vec<usize>,
    depth: u32,
}

#[derive(Debug, Clone)]
struct Frame {
    queue: VecDeque<String>,
    depth: u32,
}

/// Plans one routed call across retries and fallbacks.
#[derive(Debug)]
pub struct Planner<'c> {
    cfg: &'c ProxyConfig,
    policy: &'c Policy,
    call: CallPolicy,
    group: Group,
    stack: Vec<Frame>,
    /// Groups tried in this call, from the first failure on: the requested group is added
    /// then (`push_fallbacks`), while it is still the current one, so a call that succeeds
    /// at once makes no list.
    visited: Vec<String>,
    requests: u32,
}

impl<'c> Planner<'c> {
    /// A plan for a call to `model` (a model group, alias or wildcard match).
    pub fn new(
        cfg: &'c ProxyConfig,
        policy: &'c Policy,
        call: CallPolicy,
        model: &str,
    ) -> Result<Self> {
        let group = resolve(cfg, model, 0).ok_or_else(|| {
            Error::bad_request(format!(
                "Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
            ))
            .with_param("model")
            .with_model(model)
        })?;
        Ok(Planner {
            cfg,
            policy,
            call,
            visited: Vec::new(),
            group,
            stack: Vec::new(),
            requests: 0,
        })
    }

    /// Upstream calls planned so far.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The first step of the call.
    pub fn start(&mut self, cx: &PickInput<'_>) -> Step {
        self.advance(None, cx)
    }

    /// The step after the request planned in `attempt` failed with `error`. The caller has
    /// already recorded the failure in the health it passes in.
    pub fn after_failure(&mut self, attempt: &Attempt, error: Error, cx: &PickInput<'_>) -> Step {
        self.advance(Some((Some(attempt.deployment), error)), cx)
    }

    fn advance(&mut self, mut pending: Option<(Option<usize>, Error)>, cx: &PickInput<'_>) -> Step {
        loop {
            let Some((failed, error)) = pending.take() else {
                match self.pick_from(cx, false) {
                    Some(d) => return self.call(d, 0),
                    None => {
                        pending = Some((None, self.no_deployments(cx)));
                        continue;
                    }
                }
            };
            if let Some(d) = failed {
                self.group.failed.push(d);
            }
            if let Some(step) = self.retry(failed.is_some(), &error, cx) {
                return step;
            }
            self.push_fallbacks(&error);
            if !self.next_group() {
                return Step::Fail(error);
            }
        }
    }

    fn call(&mut self, deployment: usize, wait_ms: u64) -> Step {
        self.requests += 1;
        self.group.attempts += 1;
        Step::Call(Attempt {
            deployment,
            model_group: self.group.name.clone(),
            wildcard: self.group.wildcard.clone(),
            wait_ms,
            retry: self.group.attempts - 1,
            fallback_depth: self.group.depth,
        })
    }

    /// Healthy deployments of the current group (optionally without the ones that failed in
    /// this call), restricted to the best `order` tier present.
    fn available(&self, cx: &PickInput<'_>, fresh_only: bool) -> Vec<usize> {
        // Loops, here and in `pick_from`: each `collect` brings its own copy of std's code.
        let mut healthy = Vec::new();
        for &i in &self.group.deployments {
            let cooling = cx
                .health
                .is_cooling_down(&self.cfg.model_list[i].id, cx.now_ms);
            let retried = fresh_only && self.group.failed.contains(&i);
            if !(cooling || retried) {
                healthy.push(i);
            }
        }
        let best = healthy
            .iter()
            .map(|&i| self.cfg.model_list[i].order().unwrap_or(u32::MAX))
            .min();
        // In place: the same indices in the same order, without a second vector.
        healthy.retain(|&i| Some(self.cfg.model_list[i].order().unwrap_or(u32::MAX)) == best);
        healthy
    }

    fn pick_from(&self, cx: &PickInput<'_>, fresh_only: bool) -> Option<usize> {
        let idx = self.available(cx, fresh_only);
        let mut deps = Vec::with_capacity(idx.len());
        for &i in &idx {
            deps.push(&self.cfg.model_list[i]);
        }
        let pcx = PickContext {
            health: cx.health,
            now_ms: cx.now_ms,
            draw: cx.pick_draw,
            input_tokens: cx.input_tokens,
            latency_buffer: self.policy.latency_buffer,
        };
        pick(self.policy.strategy, &deps, &pcx).map(|k| idx[k])
    }

    fn no_deployments(&self, cx: &PickInput<'_>) -> Error {
        let cooling: Vec<(String, u64)> = self
            .group
            .deployments
            .iter()
            .filter_map(|&i| {
                let id = &self.cfg.model_list[i].id;
                cx.health
                    .cooldown_remaining_ms(id, cx.now_ms)
                    .map(|ms| (id.clone(), ms))
            })
            .collect();
        let wait_ms = cooling.iter().map(|(_, ms)| *ms).min();
        let why = if cooling.len() < self.group.deployments.len() {
            "every deployment is cooling down or at its rpm/tpm limit"
        } else {
            "every deployment is cooling down"
        };
        let mut e = Error::new(
            ErrorKind::RateLimited,
            format!(
                "No deployments available for selected model, Try again in {} seconds. Passed model={}. {why}. cooldown_list={:?}",
                wait_ms.map_or(60, |ms| ms.div_ceil(1000)),
                self.group.name,
                cooling.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>()
            ),
        )
        .with_status(429)
        .with_code("no_deployments_available")
        .with_model(self.group.name.clone());
        if let Some(ms) = wait_ms {
            e = e.with_retry_after_ms(ms);
        }
        e
    }

    fn has_chain(&self, kind: ErrorKind) -> (bool, Vec<String>) {
        let (call, router) = match kind {
            ErrorKind::ContextWindowExceeded => (
                &self.call.context_window_fallbacks,
                [
                    &self.cfg.router_settings.context_window_fallbacks,
                    &self.cfg.litellm_settings.context_window_fallbacks,
                ],
            ),
            _ => (
                &self.call.content_policy_fallbacks,
                [
                    &self.cfg.router_settings.content_policy_fallbacks,
                    &self.cfg.litellm_settings.content_policy_fallbacks,
                ],
            ),
        };
        let chains: Vec<&Fallbacks> = match call {
            Some(c) => vec![c],
            None => router.to_vec(),
        };
        let configured = chains.iter().any(|c| !c.is_empty());
        let list = chains
            .iter()
            .flat_map(|c| c.iter())
            .find(|(g, _)| *g == self.group.name)
            .map(|(_, to)| to.clone())
            .unwrap_or_default();
        (configured, list)
    }

    fn generic_fallbacks(&self) -> Vec<String> {
        match &self.call.fallbacks {
            Some(chains) => chains
                .iter()
                .find(|(g, _)| *g == self.group.name)
                .or_else(|| chains.iter().find(|(g, _)| g == "*"))
                .map(|(_, to)| to.clone())
                .unwrap_or_default(),
            None => self.cfg.fallbacks_for(&self.group.name),
        }
    }

    fn special_chain(&self, kind: ErrorKind) -> Option<(bool, Vec<String>)> {
        matches!(
            kind,
            ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation
        )
        .then(|| self.has_chain(kind))
    }

    fn retry(&mut self, had_deployment: bool, error: &Error, cx: &PickInput<'_>) -> Option<Step> {
        use ErrorKind::*;
        if !had_deployment {
            return None;
        }
        let kind = error.kind();
        if let Some((true, _)) = self.special_chain(kind) {
            return None; // LiteLLM: go straight to the dedicated fallbacks.
        }
        let explicit = self.policy.retry_policy.get(kind);
        let max = explicit
            .or(self.call.num_retries)
            .unwrap_or(self.policy.num_retries);
        let done = self.group.attempts.saturating_sub(1);
        if done >= max {
            return None;
        }
        let fresh = self.pick_from(cx, true);
        let any = fresh.or_else(|| self.pick_from(cx, false))?;
        let retryable = explicit.is_some()
            || match kind {
                Authentication | PermissionDenied => fresh.is_some(),
                NotFound => false,
                k => k.is_retryable(),
            };
        if !retryable {
            return None;
        }
        let wait = if fresh.is_some() {
            0
        } else {
            retry::backoff_ms(done, Some(error), cx.jitter_draw).max(self.policy.retry_after_ms)
        };
        Some(self.call(any, wait))
    }

    fn push_fallbacks(&mut self, error: &Error) {
        if self.visited.is_empty() {
            // The first failure: the group is still the requested one (see `visited`).
            self.visited.push(self.group.name.clone());
        }
        let max = self.call.max_fallbacks.unwrap_or(self.policy.max_fallbacks);
        if self.call.disable_fallbacks || self.group.depth >= max {
            return;
        }
        let kind = error.kind();
        let list = match self.special_chain(kind) {
            Some((true, list)) => list,
            _ if kind.should_fallback() => self.generic_fallbacks(),
            _ => Vec::new(),
        };
        let queue: VecDeque<String> = list
            .into_iter()
            .filter(|g| !self.visited.contains(g))
            .collect();
        if !queue.is_empty() {
            self.stack.push(Frame {
                queue,
                depth: self.group.depth + 1,
            });
        }
    }

    fn next_group(&mut self) -> bool {
        while let Some(top) = self.stack.last_mut() {
            let Some(name) = top.queue.pop_front() else {
                self.stack.pop();
                continue;
            };
            let depth = top.depth;
            if self.visited.contains(&name) {
                continue;
            }
            self.visited.push(name.clone());
            if let Some(g) = resolve(self.cfg, &name, depth) {
                self.group = g;
                return true;
            }
        }
        false
    }
}

fn resolve(cfg: &ProxyConfig, model: &str, depth: u32) -> Option<Group> {
    let route = cfg.resolve_model(model)?;
    let deployments = route
        .deployments
        .iter()
        .filter_map(|d| cfg.model_list.iter().position(|x| std::ptr::eq(x, *d)))
        .collect();
    Some(Group {
        name: route.model_group,
        wildcard: route.wildcard,
        deployments,
        attempts: 0,
        failed: Vec::new(),
        depth,
    })
}
