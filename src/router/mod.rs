//! The Router: load balancing, retries, cooldowns and fallbacks over a LiteLLM `model_list`.
//!
//! Built in two layers, as the design asks:
//! - pure: [`Health`] (what each deployment did recently, with explicit `now_ms`),
//!   [`strategy`] (which deployment of a group), [`Planner`] (which request next, after how
//!   long, or give up). Table-tested with a fake clock.
//! - async: [`Router::route`] runs a plan through the [`Host`] (sleep, clock, randomness) and a
//!   caller-given "call one deployment" function, so chat, streams, embeddings and images share
//!   one loop. [`Router::completion`] and [`Router::completion_stream`] are the chat uses;
//!   [`Router::embedding`], [`Router::image_generation`], [`Router::text_completion`] (and
//!   [`Router::text_completion_stream`]), [`Router::moderation`] and [`Router::rerank`] the
//!   others.
//!
//! Configuration is LiteLLM's: `Router(model_list=…, routing_strategy=…, num_retries=…,
//! fallbacks=…)` for the SDK, or the proxy's `config.yaml` (`model_list` + `router_settings` +
//! `litellm_settings`) for the gateway; both become a checked [`ProxyConfig`].
//!
//! State is per instance and single-threaded (`Rc<RefCell<…>>`, as in a wasm isolate).
//!
//! ```
//! use serde_json::json;
//! use edgellm::{router::Router, testing::MockHost, host::NoEnv};
//! let router = Router::from_value(json!({
//!     "model_list": [{"model_name": "gpt", "litellm_params": {
//!         "model": "openai/gpt-4o", "mock_response": "hi"}}],
//!     "num_retries": 1
//! }), &NoEnv).unwrap();
//! let done = futures_executor::block_on(router.completion(&MockHost::new(), &NoEnv,
//!     json!({"model": "gpt", "messages": [{"role": "user", "content": "Hey"}]}))).unwrap();
//! assert_eq!(done.completion.response.choices[0].message.content.as_deref(), Some("hi"));
//! assert_eq!(done.route.model_group, "gpt");
//! ```

mod chat;
pub mod health;
pub(crate) mod modality;
pub mod planner;
pub mod policy;
pub mod strategy;

use std::cell::{Ref, RefCell};
use std::future::Future;
use std::rc::Rc;

use serde_json::{Map, Value};

pub use chat::{
    RoutedChunks, RoutedCompletion, RoutedStream, RoutedWire, RouterStream, UsageSoFar,
};
pub use health::{CooldownRules, Health};
pub use modality::{RoutedGeneration, RoutedTextStream, RouterTextStream};
pub use planner::{Attempt, CallPolicy, PickInput, Planner, Step};
pub use policy::{Policy, Strategy};

use crate::config::{Deployment, ProxyConfig};
use crate::host::{Env, Host};
use crate::types::{Put, Usage};
use crate::{Error, Result};

/// Facts about a routed call: response headers (`x-litellm-model-id`, …), logs, callbacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteInfo {
    /// The model the caller asked for.
    pub requested_model: String,
    /// The model group that answered (differs from the requested one after a fallback).
    pub model_group: String,
    /// `model_info.id` of the deployment that answered.
    pub deployment_id: String,
    /// Its `litellm_params.model`.
    pub deployment_model: String,
    /// Its `api_base`, if set.
    pub api_base: Option<String>,
    /// Upstream requests made (all groups; `x-litellm-attempted-…` headers count from here).
    pub requests: u32,
    /// Retries made in the answering group.
    pub retries: u32,
    /// Fallback hops to the answering group.
    pub fallbacks: u32,
}

/// What a deployment call produced, as far as the router's bookkeeping needs.
pub trait RouteOutput {
    /// Usage, if known when the call returns (streams report it at their end).
    fn usage(&self) -> Option<&Usage> {
        None
    }
}

/// One planned request, handed to the "call one deployment" function.
#[derive(Debug, Clone)]
pub struct DeploymentCall {
    /// The deployment (shared with the router: a copy of its params per request was a tree of
    /// allocations made and dropped on every call).
    pub deployment: Rc<Deployment>,
    /// The request for it: the caller's keys, then the deployment's `litellm_params` for keys
    /// the request lacks, `model` set to the deployment's, `num_retries: 0` (the router is the
    /// only retry loop) and router-only keys removed.
    pub body: Map<String, Value>,
    /// Pricing facts for the call options' `extra` (`base_model`, price overrides from
    /// `model_info`), so that cost uses the deployment's prices.
    pub pricing: Map<String, Value>,
    /// The plan step.
    pub attempt: Attempt,
}

impl DeploymentCall {
    /// Splits the body into an OpenAI chat request and call options, with the pricing merged.
    pub fn parse_chat(&self) -> Result<(crate::ChatRequest, crate::CallOptions)> {
        let (req, mut opts) = crate::options::parse_chat(Value::Object(self.body.clone()))?;
        self.apply_pricing(&mut opts);
        Ok((req, opts))
    }

    /// Adds the pricing facts to options parsed from [`DeploymentCall::body`] (for calls other
    /// than chat), and pins `num_retries` to 0.
    pub fn apply_pricing(&self, opts: &mut crate::CallOptions) {
        opts.num_retries = Some(0);
        for (k, v) in &self.pricing {
            opts.extra.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

/// A result with the route it took.
#[derive(Debug)]
pub struct Routed<O> {
    /// What the deployment call returned.
    pub output: O,
    /// How it got there.
    pub route: RouteInfo,
}

/// Estimated prompt tokens of a request for usage-based routing: UTF-8 bytes / 4 of the
/// message text (no tokenizer ships to the edge; only the rpm/tpm check uses it).
fn estimate_input_tokens(request: &Map<String, Value>) -> u64 {
    fn text_len(v: &Value) -> usize {
        match v {
            Value::String(s) => s.len(),
            Value::Array(a) => a.iter().map(text_len).sum(),
            Value::Object(o) => o.get("text").or(o.get("content")).map_or(0, text_len),
            _ => 0,
        }
    }
    let n = request
        .get("messages")
        .or_else(|| request.get("input"))
        .map_or(0, text_len);
    (n as u64).div_ceil(4)
}

/// A LiteLLM Router.
#[derive(Debug, Clone)]
pub struct Router {
    config: Rc<ProxyConfig>,
    /// `config.model_list`, each shareable with a [`DeploymentCall`].
    deployments: Rc<[Rc<Deployment>]>,
    policy: Rc<Policy>,
    health: Rc<RefCell<Health>>,
}

impl Router {
    /// A router over a checked proxy config (the gateway's path).
    pub fn new(config: ProxyConfig) -> Result<Self> {
        let policy = Policy::from_config(&config)?;
        let deployments = config.model_list.iter().cloned().map(Rc::new).collect();
        Ok(Self {
            config: Rc::new(config),
            deployments,
            policy: Rc::new(policy),
            health: Rc::new(RefCell::new(Health::new())),
        })
    }

    /// A router from JSON: either LiteLLM's `Router(...)` keyword arguments
    /// (`{"model_list": [...], "routing_strategy": ..., "num_retries": ..., "fallbacks": ...}`)
    /// or a proxy config (`{"model_list": [...], "router_settings": {...}, ...}`).
    /// `os.environ/NAME` values resolve through `env` now.
    pub fn from_value(value: Value, env: &dyn Env) -> Result<Self> {
        let Value::Object(mut root) = value else {
            return Err(Error::bad_request("Router config must be an object"));
        };
        let is_proxy_shape = ["router_settings", "litellm_settings", "general_settings"]
            .iter()
            .any(|k| root.contains_key(*k));
        if !is_proxy_shape {
            let mut out = Map::new();
            if let Some(ml) = root.remove("model_list") {
                out.put("model_list", ml);
            }
            // LiteLLM's SDK name for the global timeout.
            if let Some(v) = root.remove("request_timeout") {
                root.entry("timeout").or_insert(v);
            }
            // Every other keyword argument is a router setting; the config check warns about
            // the ones that have no effect here (redis_*, cache_*, set_verbose, …).
            out.put("router_settings", Value::Object(root));
            root = out;
        }
        Self::new(ProxyConfig::from_value(Value::Object(root), env)?)
    }

    /// The checked configuration.
    pub fn config(&self) -> &ProxyConfig {
        &self.config
    }

    /// Settings that were read but have no effect here (see [`ProxyConfig::warnings`]).
    pub fn warnings(&self) -> &[String] {
        &self.config.warnings
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The shared health state (read-only view).
    pub fn health(&self) -> Ref<'_, Health> {
        self.health.borrow()
    }

    pub(crate) fn health_rc(&self) -> Rc<RefCell<Health>> {
        self.health.clone()
    }

    /// Public model names (`/v1/models`).
    pub fn model_names(&self) -> Vec<String> {
        self.config.model_names()
    }

    fn call_for(&self, attempt: &Attempt, request: &Map<String, Value>) -> DeploymentCall {
        let dep = &self.config.model_list[attempt.deployment];
        let mut body = self
            .config
            .call_body(dep, request, attempt.wildcard.as_deref());
        body.remove("max_retries");
        body.put("num_retries", Value::from(0));
        let mut pricing = Map::new();
        if let Some(b) = body.remove("base_model") {
            pricing.put("base_model", b);
        }
        for (k, v) in &dep.model_info {
            let prices = matches!(
                k.as_str(),
                "base_model"
                    | "input_cost_per_token"
                    | "output_cost_per_token"
                    | "input_cost_per_second"
                    | "output_cost_per_second"
            );
            if prices && !body.contains_key(k) {
                pricing.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        DeploymentCall {
            deployment: Rc::clone(&self.deployments[attempt.deployment]),
            body,
            pricing,
            attempt: attempt.clone(),
        }
    }

    /// Runs one routed call: plans, sleeps, calls `call` for each planned request, records
    /// outcomes in the health state, and returns the first success or the final error.
    ///
    /// `request` is the caller's JSON request (`model` names the group); routing keys
    /// (`num_retries`, `fallbacks`, …) are taken out of it.
    pub async fn route<H, O, F, Fut>(
        &self,
        host: &H,
        mut request: Map<String, Value>,
        mut call: F,
    ) -> Result<Routed<O>>
    where
        H: Host,
        O: RouteOutput,
        F: FnMut(DeploymentCall) -> Fut,
        Fut: Future<Output = Result<O>>,
    {
        let model = match request.get("model") {
            Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
            _ => {
                return Err(
                    Error::bad_request("missing required parameter `model`").with_param("model")
                )
            }
        };
        let call_policy = CallPolicy::extract(&mut request, &model)?;
        let input_tokens = estimate_input_tokens(&request);
        let mut planner = Planner::new(&self.config, &self.policy, call_policy, &model)?;
        let mut step = {
            let health = self.health.borrow();
            planner.start(&self.pick_input(host, &health, input_tokens))
        };
        loop {
            let attempt = match step {
                Step::Fail(e) => return Err(e),
                Step::Call(a) => a,
            };
            if attempt.wait_ms > 0 {
                host.sleep(attempt.wait_ms).await;
            }
            let dc = self.call_for(&attempt, &request);
            let id = dc.deployment.id.clone();
            let start = host.now_ms();
            self.health.borrow_mut().record_start(&id, start);
            let result = call(dc).await;
            let now = host.now_ms();
            let mut health = self.health.borrow_mut();
            health.record_end(&id);
            match result {
                Ok(output) => {
                    let usage = output.usage();
                    health.record_success(
                        &id,
                        now.saturating_sub(start),
                        usage.map(|u| u.completion_tokens),
                    );
                    if let Some(u) = usage {
                        health.record_tokens(&id, start, u.total_tokens);
                    }
                    let route = self.route_info(model, &attempt, id, planner.requests());
                    return Ok(Routed { output, route });
                }
                Err(e) => {
                    health.record_failure(&id, &e, now, &self.policy.cooldown);
                    let cx = self.pick_input(host, &health, input_tokens);
                    step = planner.after_failure(&attempt, e, &cx);
                }
            }
        }
    }

    /// Where a call that answered went. Not generic: one copy for every monomorph of
    /// [`Router::route`] (the package's size).
    #[inline(never)]
    fn route_info(
        &self,
        requested_model: String,
        attempt: &planner::Attempt,
        deployment_id: String,
        requests: u32,
    ) -> RouteInfo {
        let dep = &self.config.model_list[attempt.deployment];
        RouteInfo {
            requested_model,
            model_group: attempt.model_group.clone(),
            deployment_id,
            deployment_model: dep.model().to_string(),
            api_base: dep.api_base().map(str::to_string),
            requests,
            retries: attempt.retry,
            fallbacks: attempt.fallback_depth,
        }
    }

    fn pick_input<'h, H: Host>(
        &self,
        host: &H,
        health: &'h Health,
        input_tokens: u64,
    ) -> PickInput<'h> {
        PickInput {
            health,
            now_ms: host.now_ms(),
            pick_draw: host.random(),
            jitter_draw: host.random(),
            input_tokens,
        }
    }
}
