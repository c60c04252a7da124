//! LiteLLM's proxy configuration (`config.yaml`) as checked data.
//!
//! Input is JSON ([`serde_json::Value`]): the gateway converts YAML first, and the SDK Router can
//! pass a `model_list` it already has. [`ProxyConfig::from_value`] resolves every
//! `os.environ/NAME` string through an [`Env`], checks types, and sorts keys into three bins:
//! supported (used), known-but-unsupported on this runtime (a warning in
//! [`ProxyConfig::warnings`]), and unsupported where ignoring them would weaken access control or
//! drop models (an error). Nothing is silently ignored.
//!
//! A request for a model group becomes a call with [`ProxyConfig::call_body`]: the deployment's
//! `litellm_params` are defaults that the request overrides (LiteLLM's
//! `{**litellm_params, **request}`), `model` is the deployment's, and the global settings
//! (`num_retries`, `timeout`, `drop_params`) fill what is still unset. The result is one JSON
//! object that [`crate::options::parse_chat`] splits into the OpenAI body and the call options.
//!
//! ```
//! use serde_json::json;
//! use edgellm::config::ProxyConfig;
//! let env: std::collections::HashMap<String, String> =
//!     [("OPENAI_KEY".to_string(), "sk-test-1".to_string())].into();
//! let cfg = ProxyConfig::from_value(json!({
//!     "model_list": [{"model_name": "gpt", "litellm_params": {
//!         "model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_KEY", "rpm": 60, "temperature": 0.2}}],
//!     "litellm_settings": {"num_retries": 2}
//! }), &env).unwrap();
//! let route = cfg.resolve_model("gpt").unwrap();
//! let dep = route.deployments[0];
//! assert_eq!(dep.rpm(), Some(60));
//! let body = cfg.call_body(dep, &json!({"model": "gpt", "messages": []}).as_object().unwrap(), route.wildcard.as_deref());
//! assert_eq!(body["model"], "openai/gpt-4o");
//! assert_eq!(body["api_key"], "sk-test-1");
//! assert_eq!(body["temperature"], 0.2);
//! assert_eq!(body["num_retries"], 2);
//! assert!(body.get("rpm").is_none());
//! ```

use serde_json::{Map, Value};

use crate::host::Env;
use crate::options::{CallOptions, Secret};
use crate::str_map::StrMap;
use crate::types::{json_text, Put};
use crate::{Error, Result};

/// The prefix LiteLLM uses for "read this value from the environment".
pub const ENV_PREFIX: &str = "os.environ/";

/// Routing strategies LiteLLM's Router knows (`router_settings.routing_strategy`).
pub const ROUTING_STRATEGIES: &[&str] = &[
    "simple-shuffle",
    "least-busy",
    "usage-based-routing",
    "usage-based-routing-v2",
    "latency-based-routing",
    "cost-based-routing",
    "provider-budget-routing",
];

/// `litellm_params` keys that steer the router and never reach a provider.
pub const ROUTER_PARAM_KEYS: &[&str] = &[
    "rpm",
    "tpm",
    "weight",
    "order",
    "max_parallel_requests",
    "tags",
    "stream_timeout",
];

/// `litellm_params` keys LiteLLM knows that this runtime does not act on (warned about).
const IGNORED_PARAM_KEYS: &[&str] = &[
    "max_budget",
    "budget_duration",
    "region_name",
    "use_in_pass_through",
    "use_litellm_proxy",
    "merge_reasoning_content_in_choices",
    "cache_control_injection_points",
];

/// A chain of fallbacks: model group → the groups to try after it, in order.
pub type Fallbacks = Vec<(String, Vec<String>)>;

/// One `model_list` entry: a deployment serving the model group `model_name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// The public model (group) name clients ask for; may contain a `*` wildcard.
    pub model_name: String,
    /// `litellm_params` with `os.environ/` references resolved (unset ones removed). Holds
    /// secrets: never log it (use [`Deployment::describe`]).
    pub litellm_params: Map<String, Value>,
    /// `model_info`, as given (`id`, `mode`, `max_tokens`, prices, `supports_*`, …).
    pub model_info: Map<String, Value>,
    /// `model_info.id`, else a stable hash of `model_name` and the unresolved params (LiteLLM
    /// also derives ids from the params).
    pub id: String,
}

impl Deployment {
    /// `litellm_params.model`: the provider model string (`openai/gpt-4o`).
    pub fn model(&self) -> &str {
        self.litellm_params
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `api_base`, if the deployment sets one (contains no credentials by itself).
    pub fn api_base(&self) -> Option<&str> {
        self.litellm_params
            .get("api_base")
            .or_else(|| self.litellm_params.get("base_url"))
            .and_then(Value::as_str)
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.litellm_params.get(key).and_then(Value::as_f64)
    }

    /// Requests per minute this deployment allows (`rpm`).
    pub fn rpm(&self) -> Option<u64> {
        self.number("rpm").map(|n| n as u64)
    }

    /// Tokens per minute this deployment allows (`tpm`).
    pub fn tpm(&self) -> Option<u64> {
        self.number("tpm").map(|n| n as u64)
    }

    /// Relative weight for `simple-shuffle` (`weight`).
    pub fn weight(&self) -> Option<f64> {
        self.number("weight")
    }

    /// Priority tier (`order`, 1 = tried first).
    pub fn order(&self) -> Option<u32> {
        self.number("order").map(|n| n as u32)
    }

    /// Concurrent requests this deployment allows (`max_parallel_requests`).
    pub fn max_parallel_requests(&self) -> Option<u32> {
        self.number("max_parallel_requests").map(|n| n as u32)
    }

    /// Timeout for streaming calls in milliseconds (`stream_timeout`, seconds in the config).
    pub fn stream_timeout_ms(&self) -> Option<u64> {
        self.number("stream_timeout")
            .map(|s| (s * 1000.0).round() as u64)
    }

    /// The call options this deployment sets (key, base, version, timeout, prices, …).
    pub fn call_options(&self) -> Result<CallOptions> {
        let mut params = self.litellm_params.clone();
        CallOptions::extract(&mut params)
    }

    /// `model_name -> model @ api_base`, safe to log.
    pub fn describe(&self) -> String {
        match self.api_base() {
            Some(b) => format!("{} -> {} @ {b}", self.model_name, self.model()),
            None => format!("{} -> {}", self.model_name, self.model()),
        }
    }
}

/// `router_settings`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RouterSettings {
    /// `routing_strategy` (default `simple-shuffle`).
    pub routing_strategy: Option<String>,
    /// `routing_strategy_args`, passed to the strategy.
    pub routing_strategy_args: Map<String, Value>,
    /// `num_retries`.
    pub num_retries: Option<u32>,
    /// `timeout`, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `stream_timeout`, in milliseconds.
    pub stream_timeout_ms: Option<u64>,
    /// `fallbacks`.
    pub fallbacks: Fallbacks,
    /// `context_window_fallbacks`.
    pub context_window_fallbacks: Fallbacks,
    /// `content_policy_fallbacks`.
    pub content_policy_fallbacks: Fallbacks,
    /// `default_fallbacks`: tried for any group without its own entry.
    pub default_fallbacks: Vec<String>,
    /// `max_fallbacks`.
    pub max_fallbacks: Option<u32>,
    /// `allowed_fails` per minute before a deployment cools down.
    pub allowed_fails: Option<u32>,
    /// `allowed_fails_policy` (per error class), as given.
    pub allowed_fails_policy: Map<String, Value>,
    /// `cooldown_time`, in milliseconds.
    pub cooldown_time_ms: Option<u64>,
    /// `retry_after` (minimum wait between retries), in milliseconds.
    pub retry_after_ms: Option<u64>,
    /// `retry_policy` (retries per error class), as given.
    pub retry_policy: Map<String, Value>,
    /// `model_group_alias`: alias → (group, hidden from `/models`).
    pub model_group_alias: StrMap<(String, bool)>,
    /// `enable_pre_call_checks`.
    pub enable_pre_call_checks: bool,
}

/// `litellm_settings` (module-level defaults in LiteLLM).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LitellmSettings {
    /// `num_retries`.
    pub num_retries: Option<u32>,
    /// `request_timeout`, in milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// `drop_params`.
    pub drop_params: Option<bool>,
    /// `fallbacks`.
    pub fallbacks: Fallbacks,
    /// `context_window_fallbacks`.
    pub context_window_fallbacks: Fallbacks,
    /// `content_policy_fallbacks`.
    pub content_policy_fallbacks: Fallbacks,
    /// `default_fallbacks`.
    pub default_fallbacks: Vec<String>,
    /// `success_callback` names.
    pub success_callback: Vec<String>,
    /// `failure_callback` names.
    pub failure_callback: Vec<String>,
    /// `callbacks` names.
    pub callbacks: Vec<String>,
    /// `turn_off_message_logging`: loggers get no prompts or outputs.
    pub turn_off_message_logging: Option<bool>,
}

/// CORS policy (`general_settings.cors_allow_*`, LiteLLM's names; defaults as LiteLLM: any
/// origin, any method, any header, no credentials with a wildcard origin).
#[derive(Debug, Clone, PartialEq)]
pub struct Cors {
    /// Allowed origins; `*` allows any.
    pub allow_origins: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` (never with a wildcard origin).
    pub allow_credentials: bool,
    /// Allowed methods; `*` allows any.
    pub allow_methods: Vec<String>,
    /// Allowed request headers; `*` allows any.
    pub allow_headers: Vec<String>,
}

impl Default for Cors {
    fn default() -> Self {
        Self {
            allow_origins: vec!["*".into()],
            allow_credentials: false,
            allow_methods: vec!["*".into()],
            allow_headers: vec!["*".into()],
        }
    }
}

impl Cors {
    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if allowed.
    ///
    /// ```
    /// let cors = edgellm::config::Cors { allow_origins: vec!["https://app.example".into()], ..Default::default() };
    /// assert_eq!(cors.allow_origin(Some("https://app.example")).as_deref(), Some("https://app.example"));
    /// assert_eq!(cors.allow_origin(Some("https://evil.example")), None);
    /// assert_eq!(edgellm::config::Cors::default().allow_origin(Some("https://x")).as_deref(), Some("*"));
    /// ```
    pub fn allow_origin(&self, origin: Option<&str>) -> Option<String> {
        if self.allow_origins.iter().any(|o| o == "*") {
            // With credentials the spec forbids `*`; LiteLLM turns credentials off then.
            return Some("*".into());
        }
        let origin = origin?;
        self.allow_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin.trim_end_matches('/'))
            .then(|| origin.to_string())
    }

    /// Whether credentials may be allowed (never with a wildcard origin).
    pub fn credentials(&self) -> bool {
        self.allow_credentials && !self.allow_origins.iter().any(|o| o.contains('*'))
    }
}

/// `general_settings`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeneralSettings {
    /// `master_key` (or the `LITELLM_MASTER_KEY` variable). `None`: the gateway is open.
    pub master_key: Option<Secret>,
    /// Extra header that may carry the key (`litellm_key_header_name`).
    pub key_header_name: Option<String>,
    /// CORS.
    pub cors: Cors,
    /// `allow_client_side_credentials`: let requests set `api_base`/`base_url`.
    pub allow_client_side_credentials: bool,
    /// `max_request_size_mb`.
    pub max_request_size_mb: Option<f64>,
    /// `alerting` destinations (`slack`: failures and budget alerts to `SLACK_WEBHOOK_URL`).
    pub alerting: Vec<String>,
}

/// The whole checked configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxyConfig {
    /// `model_list`, in order.
    pub model_list: Vec<Deployment>,
    /// `router_settings`.
    pub router_settings: RouterSettings,
    /// `litellm_settings`.
    pub litellm_settings: LitellmSettings,
    /// `general_settings`.
    pub general_settings: GeneralSettings,
    /// `environment_variables` (resolved), which LiteLLM exports to the environment.
    pub environment_variables: StrMap<String>,
    /// `callback_settings`: per-logger settings (`os.environ/` resolved), e.g.
    /// `{"langfuse": {"message_logging": false}}`.
    pub callback_settings: Map<String, Value>,
    /// Keys that were read but have no effect here, and unset `os.environ/` references.
    pub warnings: Vec<String>,
}

/// A model group found for a requested model name.
#[derive(Debug, Clone)]
pub struct Route<'a> {
    /// The group name as configured (after `model_group_alias`; a wildcard pattern for
    /// wildcard routes).
    pub model_group: String,
    /// Its deployments, in config order.
    pub deployments: Vec<&'a Deployment>,
    /// For wildcard routes, the part of the requested name that `*` matched.
    pub wildcard: Option<String>,
}

struct Ctx<'e> {
    env: &'e dyn Env,
    warnings: Vec<String>,
    /// Paths of unset `os.environ/` references (a few at most: looked up once).
    unset: Vec<String>,
    /// The first error of a setting read with [`Ctx::keep`]: a section's struct is built
    /// without a `?` per field (each of which carried its own drop of the fields before it:
    /// kilobytes of wasm), and the section fails with this error after it.
    err: Option<Error>,
}

impl Ctx<'_> {
    fn warn(&mut self, msg: String) {
        self.warnings.push(msg);
    }

    /// `r`'s value; on error the default, and the error is kept (the first one wins).
    fn keep<T: Default>(&mut self, r: Result<T>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.err.get_or_insert(e);
                T::default()
            }
        }
    }

    /// `value`, or the first error [`Ctx::keep`] kept while it was built.
    fn done<T>(&mut self, value: T) -> Result<T> {
        match self.err.take() {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    // The setting readers below keep their error (see `keep`) and return the value: one call
    // per setting instead of a reader's `Result` matched at every call site.
    #[inline(never)]
    fn u32(&mut self, m: &Map<String, Value>, path: &str, key: &str, max: u64) -> Option<u32> {
        let r = opt_u32(m, path, key, max);
        self.keep(r)
    }

    #[inline(never)]
    fn secs_ms(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<u64> {
        let r = opt_secs_ms(m, path, key);
        self.keep(r)
    }

    #[inline(never)]
    fn bool(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Option<bool> {
        let r = opt_bool(m, path, key);
        self.keep(r)
    }

    /// [`str_list`], empty when unset.
    #[inline(never)]
    fn list(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Vec<String> {
        let r = str_list(m, path, key);
        self.keep(r).unwrap_or_default()
    }

    #[inline(never)]
    fn fallbacks(&mut self, m: &Map<String, Value>, path: &str, key: &str) -> Fallbacks {
        let r = fallbacks(m, path, key);
        self.keep(r)
    }

    /// Warns that `{path}.{key}` has no effect here.
    #[inline(never)]
    fn unsupported(&mut self, path: &str, key: &str) {
        self.warn(format!(
            "`{path}.{key}` is not supported by edgellm and has no effect"
        ));
    }
}

// Not generic and not inlined: config errors are built at ~40 places, each of which would
// otherwise carry its own formatting code.
#[inline(never)]
fn err(path: &str, msg: &str) -> Error {
    Error::bad_request(format!("invalid config at `{path}`: {msg}")).with_param(path.to_string())
}

/// [`err`] at `{path}.{key}`.
#[inline(never)]
fn err_at(path: &str, key: &str, msg: &str) -> Error {
    err(&format!("{path}.{key}"), msg)
}

/// Replaces every `os.environ/NAME` string below `v` by the variable's value; unset ones
/// become `null` and are recorded (by path) in `ctx.unset`.
fn resolve_env(v: &mut Value, path: &str, ctx: &mut Ctx<'_>) {
    match v {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix(ENV_PREFIX) {
                let name = name.trim().to_string();
                match ctx.env.var(&name) {
                    Some(val) => *v = Value::String(val),
                    None => {
                        ctx.unset.push(path.to_string());
                        ctx.warn(format!(
                            "`{path}` refers to environment variable {name}, which is not set"
                        ));
                        *v = Value::Null;
                    }
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                resolve_env(item, &format!("{path}[{i}]"), ctx);
            }
        }
        Value::Object(map) => {
            for (k, item) in map.iter_mut() {
                resolve_env(item, &format!("{path}.{k}"), ctx);
            }
        }
        _ => {}
    }
}

fn section(root: &mut Map<String, Value>, key: &str) -> Result<Map<String, Value>> {
    match root.remove(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(err(key, "must be a mapping")),
    }
}

fn opt_u32(map: &Map<String, Value>, path: &str, key: &str, max: u64) -> Result<Option<u32>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n| *n <= max)
            .map(|n| Some(n as u32))
            .ok_or_else(|| err_at(path, key, &format!("must be an integer from 0 to {max}"))),
    }
}

fn opt_secs_ms(map: &Map<String, Value>, path: &str, key: &str) -> Result<Option<u64>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| crate::num::parse_f64(s.trim())))
            .filter(|s| *s >= 0.0 && s.is_finite())
            .map(|s| Some((s * 1000.0).round() as u64))
            .ok_or_else(|| err_at(path, key, "must be a non-negative number of seconds")),
    }
}

fn opt_bool(map: &Map<String, Value>, path: &str, key: &str) -> Result<Option<bool>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(err_at(path, key, "must be true or false")),
    }
}

/// A list of strings; a single string is split on commas (LiteLLM accepts both for CORS).
fn str_list(map: &Map<String, Value>, path: &str, key: &str) -> Result<Option<Vec<String>>> {
    let p = format!("{path}.{key}");
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        )),
        Some(Value::Array(items)) => {
            // Loops rather than `collect::<Result<_>>` here and below: each of those brings
            // its own copy of the iterator adapters into the wasm.
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                match v {
                    Value::Null => {}
                    Value::String(s) => out.push(s.trim().to_string()),
                    _ => return Err(err(&format!("{p}[{i}]"), "must be a string")),
                }
            }
            Ok(Some(out))
        }
        Some(_) => Err(err(&p, "must be a list of strings")),
    }
}

/// `[{"gpt-4": ["gpt-4o", "claude"]}, …]`.
fn fallbacks(map: &Map<String, Value>, path: &str, key: &str) -> Result<Fallbacks> {
    let p = format!("{path}.{key}");
    let items = match map.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(err(
                &p,
                "must be a list of {model_group: [fallback groups]}",
            ))
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(entry) = item else {
            return Err(err(
                &format!("{p}[{i}]"),
                "must be a mapping {model_group: [fallback groups]}",
            ));
        };
        for (group, to) in entry {
            let to = match to {
                Value::String(s) => vec![s.clone()],
                Value::Array(list) => {
                    let mut names = Vec::with_capacity(list.len());
                    for v in list {
                        let Value::String(s) = v else {
                            return Err(err(
                                &format!("{p}[{i}].{group}"),
                                "must list model group names",
                            ));
                        };
                        names.push(s.clone());
                    }
                    names
                }
                _ => {
                    return Err(err(
                        &format!("{p}[{i}].{group}"),
                        "must list model group names",
                    ))
                }
            };
            out.push((group.clone(), to));
        }
    }
    Ok(out)
}

/// Warns about (or, for `fatal`, rejects) keys of `map` outside `supported`.
fn check_keys(
    map: &Map<String, Value>,
    path: &str,
    supported: &[&str],
    fatal: &[(&str, &str)],
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    for key in map.keys() {
        if supported.contains(&key.as_str()) {
            continue;
        }
        if let Some((_, why)) = fatal.iter().find(|(k, _)| k == key) {
            return Err(err_at(
                path,
                key,
                &format!("not supported by edgellm ({why}); remove it"),
            ));
        }
        ctx.unsupported(path, key);
    }
    Ok(())
}

/// FNV-1a, 64-bit: a stable, dependency-free id for deployments without `model_info.id`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn deployment(raw: &Value, i: usize, ctx: &mut Ctx<'_>) -> Result<Deployment> {
    let path = format!("model_list[{i}]");
    let Value::Object(entry) = raw else {
        return Err(err(
            &path,
            "must be a mapping with model_name and litellm_params",
        ));
    };
    let model_name = match entry.get("model_name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(err_at(&path, "model_name", "must be a non-empty string")),
    };
    for key in entry.keys() {
        if !matches!(key.as_str(), "model_name" | "litellm_params" | "model_info") {
            ctx.unsupported(&path, key);
        }
    }
    let unresolved = entry.get("litellm_params").cloned().unwrap_or(Value::Null);
    let Value::Object(_) = unresolved else {
        return Err(err_at(
            &path,
            "litellm_params",
            "must be a mapping with at least `model`",
        ));
    };
    let mut params_value = unresolved.clone();
    resolve_env(&mut params_value, &format!("{path}.litellm_params"), ctx);
    let Value::Object(mut params) = params_value else {
        unreachable!("resolving keeps objects")
    };
    crate::provider::build::retain(&mut params, &|_, v| !v.is_null());
    let pp = format!("{path}.litellm_params");
    match params.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => {}
        _ => {
            return Err(err_at(
                &pp,
                "model",
                "must be a non-empty provider model string, e.g. openai/gpt-4o",
            ))
        }
    }
    if params.contains_key("litellm_credential_name") {
        return Err(err_at(&pp, "litellm_credential_name", "credential_list is not supported by edgellm; set api_key (e.g. os.environ/NAME) on the deployment",
        ));
    }
    for key in ["rpm", "tpm", "max_parallel_requests", "order"] {
        opt_u32(&params, &pp, key, u64::from(u32::MAX))?;
    }
    for key in ["weight", "stream_timeout"] {
        if let Some(v) = params.get(key) {
            if !v.as_f64().is_some_and(|n| n >= 0.0 && n.is_finite()) {
                return Err(err_at(&pp, key, "must be a non-negative number"));
            }
        }
    }
    if let Some(tags) = params.get("tags") {
        if !tags
            .as_array()
            .is_some_and(|t| t.iter().all(Value::is_string))
        {
            return Err(err_at(&pp, "tags", "must be a list of strings"));
        }
    }
    for key in IGNORED_PARAM_KEYS {
        if params.contains_key(*key) {
            ctx.unsupported(&pp, key);
        }
    }
    // Type-check the call options now, so a bad `timeout` fails at load, not per request.
    CallOptions::extract(&mut params.clone())
        .map_err(|e| err(&format!("{pp}.{}", e.param().unwrap_or("?")), e.message()))?;
    let model_info = match entry.get("model_info") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(err_at(&path, "model_info", "must be a mapping")),
    };
    let id = match model_info.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(err_at(&path, "model_info.id", "must be a string")),
        None => {
            let seed = format!("{model_name}\u{0}{}", json_text(&unresolved));
            format!("{:016x}", fnv1a(seed.as_bytes()))
        }
    };
    Ok(Deployment {
        model_name,
        litellm_params: params,
        model_info,
        id,
    })
}

/// Matches `name` against a pattern with at most one `*`; returns what `*` matched.
fn wildcard_match(pattern: &str, name: &str) -> Option<String> {
    let (pre, post) = pattern.split_once('*')?;
    if name.len() >= pre.len() + post.len() && name.starts_with(pre) && name.ends_with(post) {
        Some(name[pre.len()..name.len() - post.len()].to_string())
    } else {
        None
    }
}

impl ProxyConfig {
    /// Checks and resolves a LiteLLM config given as JSON.
    ///
    /// `env` resolves `os.environ/NAME` (after the config's own `environment_variables`, which
    /// LiteLLM exports to the environment and which therefore win).
    pub fn from_value(value: Value, env: &dyn Env) -> Result<Self> {
        let mut root = match value {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            _ => return Err(err("(root)", "the config must be a mapping")),
        };
        let mut ctx = Ctx {
            env,
            warnings: Vec::new(),
            unset: Vec::new(),
            err: None,
        };

        let mut environment_variables = StrMap::new();
        let mut env_section = Value::Object(section(&mut root, "environment_variables")?);
        resolve_env(&mut env_section, "environment_variables", &mut ctx);
        if let Value::Object(m) = env_section {
            for (k, v) in m {
                match v {
                    Value::String(s) => {
                        environment_variables.insert(k, s);
                    }
                    Value::Number(n) => {
                        environment_variables.insert(k, n.to_string());
                    }
                    Value::Bool(b) => {
                        environment_variables.insert(k, b.to_string());
                    }
                    Value::Null => {}
                    _ => {
                        return Err(err(
                            &format!("environment_variables.{k}"),
                            "must be a string",
                        ))
                    }
                }
            }
        }
        let layered = Layered {
            first: &environment_variables,
            then: env,
        };
        ctx.env = &layered;

        let model_list = match root.remove("model_list") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                let mut list = Vec::with_capacity(items.len());
                for (i, d) in items.iter().enumerate() {
                    list.push(deployment(d, i, &mut ctx)?);
                }
                list
            }
            Some(_) => return Err(err("model_list", "must be a list")),
        };
        if model_list.is_empty() {
            ctx.warn("`model_list` is empty: every model request will fail".into());
        }
        let mut ids = Vec::new();
        for d in &model_list {
            if !first_sight(&mut ids, &d.id) {
                return Err(err(
                    "model_list",
                    &format!("two deployments share model_info.id `{}`", d.id),
                ));
            }
        }

        let router_settings =
            Self::router_settings(section(&mut root, "router_settings")?, &mut ctx)?;
        let litellm_settings =
            Self::litellm_settings(section(&mut root, "litellm_settings")?, &mut ctx)?;
        let general_settings =
            Self::general_settings(section(&mut root, "general_settings")?, &mut ctx)?;
        let mut callback_settings = Value::Object(section(&mut root, "callback_settings")?);
        resolve_env(&mut callback_settings, "callback_settings", &mut ctx);
        let Value::Object(callback_settings) = callback_settings else {
            unreachable!("resolve_env keeps a mapping a mapping")
        };

        const FATAL_TOP: &[(&str, &str)] = &[(
            "include",
            "a Worker has no file system: merge the included files into one config",
        )];
        check_keys(&root, "(root)", &[], FATAL_TOP, &mut ctx)?;

        let warnings = std::mem::take(&mut ctx.warnings);
        drop(ctx);
        let cfg = ProxyConfig {
            model_list,
            router_settings,
            litellm_settings,
            general_settings,
            environment_variables,
            callback_settings,
            warnings,
        };
        for (what, chains) in [
            ("fallbacks", &cfg.router_settings.fallbacks),
            (
                "context_window_fallbacks",
                &cfg.router_settings.context_window_fallbacks,
            ),
            (
                "content_policy_fallbacks",
                &cfg.router_settings.content_policy_fallbacks,
            ),
            ("fallbacks", &cfg.litellm_settings.fallbacks),
            (
                "context_window_fallbacks",
                &cfg.litellm_settings.context_window_fallbacks,
            ),
            (
                "content_policy_fallbacks",
                &cfg.litellm_settings.content_policy_fallbacks,
            ),
        ] {
            for (from, to) in chains {
                for g in std::iter::once(from).chain(to) {
                    if cfg.resolve_model(g).is_none() {
                        return Err(err(
                            what,
                            &format!("`{g}` is not a model_name in model_list"),
                        ));
                    }
                }
            }
        }
        Ok(cfg)
    }

    fn router_settings(m: Map<String, Value>, ctx: &mut Ctx<'_>) -> Result<RouterSettings> {
        let mut v = Value::Object(m);
        resolve_env(&mut v, "router_settings", ctx);
        let Value::Object(m) = v else { unreachable!() };
        const P: &str = "router_settings";
        check_keys(
            &m,
            P,
            &[
                "routing_strategy",
                "routing_strategy_args",
                "num_retries",
                "timeout",
                "stream_timeout",
                "fallbacks",
                "context_window_fallbacks",
                "content_policy_fallbacks",
                "default_fallbacks",
                "max_fallbacks",
                "allowed_fails",
                "allowed_fails_policy",
                "cooldown_time",
                "retry_after",
                "retry_policy",
                "model_group_alias",
                "enable_pre_call_checks",
            ],
            &[],
            ctx,
        )?;
        let routing_strategy = match m.get("routing_strategy") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                if !ROUTING_STRATEGIES.contains(&s.as_str()) {
                    return Err(err_at(
                        P,
                        "routing_strategy",
                        &format!(
                            "unknown strategy `{s}`; one of {}",
                            ROUTING_STRATEGIES.join(", ")
                        ),
                    ));
                }
                if s == "provider-budget-routing" {
                    ctx.warn(format!(
                        "`{P}.routing_strategy: provider-budget-routing`: provider budgets are not tracked; deployments are picked as with simple-shuffle"
                    ));
                }
                Some(s.clone())
            }
            Some(_) => return Err(err_at(P, "routing_strategy", "must be a string")),
        };
        let map_of = |key: &str| -> Result<Map<String, Value>> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(Map::new()),
                Some(Value::Object(o)) => Ok(o.clone()),
                Some(_) => Err(err_at(P, key, "must be a mapping")),
            }
        };
        let mut model_group_alias = StrMap::new();
        for (alias, target) in map_of("model_group_alias")? {
            let entry = match &target {
                Value::String(g) => (g.clone(), false),
                Value::Object(o) => match o.get("model").and_then(Value::as_str) {
                    Some(g) => (
                        g.to_string(),
                        o.get("hidden").and_then(Value::as_bool).unwrap_or(false),
                    ),
                    None => {
                        return Err(err(
                            &format!("{P}.model_group_alias.{alias}"),
                            "needs `model`",
                        ))
                    }
                },
                _ => {
                    return Err(err(
                        &format!("{P}.model_group_alias.{alias}"),
                        "must be a model group name",
                    ))
                }
            };
            model_group_alias.insert(alias, entry);
        }
        let settings = RouterSettings {
            routing_strategy,
            routing_strategy_args: ctx.keep(map_of("routing_strategy_args")),
            num_retries: ctx.u32(&m, P, "num_retries", 100),
            timeout_ms: ctx.secs_ms(&m, P, "timeout"),
            stream_timeout_ms: ctx.secs_ms(&m, P, "stream_timeout"),
            fallbacks: ctx.fallbacks(&m, P, "fallbacks"),
            context_window_fallbacks: ctx.fallbacks(&m, P, "context_window_fallbacks"),
            content_policy_fallbacks: ctx.fallbacks(&m, P, "content_policy_fallbacks"),
            default_fallbacks: ctx.list(&m, P, "default_fallbacks"),
            max_fallbacks: ctx.u32(&m, P, "max_fallbacks", 100),
            allowed_fails: ctx.u32(&m, P, "allowed_fails", u64::from(u32::MAX)),
            allowed_fails_policy: ctx.keep(map_of("allowed_fails_policy")),
            cooldown_time_ms: ctx.secs_ms(&m, P, "cooldown_time"),
            retry_after_ms: ctx.secs_ms(&m, P, "retry_after"),
            retry_policy: ctx.keep(map_of("retry_policy")),
            model_group_alias,
            enable_pre_call_checks: ctx.bool(&m, P, "enable_pre_call_checks").unwrap_or(false),
        };
        ctx.done(settings)
    }

    fn litellm_settings(m: Map<String, Value>, ctx: &mut Ctx<'_>) -> Result<LitellmSettings> {
        let mut v = Value::Object(m);
        resolve_env(&mut v, "litellm_settings", ctx);
        let Value::Object(m) = v else { unreachable!() };
        const P: &str = "litellm_settings";
        check_keys(
            &m,
            P,
            &[
                "num_retries",
                "request_timeout",
                "drop_params",
                "fallbacks",
                "context_window_fallbacks",
                "content_policy_fallbacks",
                "default_fallbacks",
                "success_callback",
                "failure_callback",
                "callbacks",
                "turn_off_message_logging",
                "set_verbose",
                "json_logs",
            ],
            &[],
            ctx,
        )?;
        let settings = LitellmSettings {
            num_retries: ctx.u32(&m, P, "num_retries", 100),
            request_timeout_ms: ctx.secs_ms(&m, P, "request_timeout"),
            drop_params: ctx.bool(&m, P, "drop_params"),
            fallbacks: ctx.fallbacks(&m, P, "fallbacks"),
            context_window_fallbacks: ctx.fallbacks(&m, P, "context_window_fallbacks"),
            content_policy_fallbacks: ctx.fallbacks(&m, P, "content_policy_fallbacks"),
            default_fallbacks: ctx.list(&m, P, "default_fallbacks"),
            success_callback: ctx.list(&m, P, "success_callback"),
            failure_callback: ctx.list(&m, P, "failure_callback"),
            callbacks: ctx.list(&m, P, "callbacks"),
            turn_off_message_logging: ctx.bool(&m, P, "turn_off_message_logging"),
        };
        ctx.bool(&m, P, "set_verbose");
        ctx.bool(&m, P, "json_logs");
        ctx.done(settings)
    }

    fn general_settings(m: Map<String, Value>, ctx: &mut Ctx<'_>) -> Result<GeneralSettings> {
        let mut v = Value::Object(m);
        resolve_env(&mut v, "general_settings", ctx);
        let Value::Object(m) = v else { unreachable!() };
        const P: &str = "general_settings";
        // Ignoring any of these would let through requests the operator meant to refuse.
        const FATAL: &[(&str, &str)] = &[
            (
                "allowed_ips",
                "IP allow-lists are not enforced; use Cloudflare WAF rules",
            ),
            ("allowed_routes", "route allow-lists are not enforced"),
            ("admin_only_routes", "route restrictions are not enforced"),
            ("public_routes", "route restrictions are not enforced"),
            ("enforce_user_param", "the `user` parameter is not enforced"),
            ("custom_auth", "custom auth hooks cannot run on a Worker"),
            ("enable_jwt_auth", "JWT auth is not implemented"),
            ("litellm_jwtauth", "JWT auth is not implemented"),
            (
                "global_max_parallel_requests",
                "request limits are not enforced",
            ),
            ("max_parallel_requests", "request limits are not enforced"),
        ];
        check_keys(
            &m,
            P,
            &[
                "master_key",
                "litellm_key_header_name",
                "cors_allow_origins",
                "cors_allow_credentials",
                "cors_allow_methods",
                "cors_allow_headers",
                "allow_client_side_credentials",
                "max_request_size_mb",
                "alerting",
            ],
            FATAL,
            ctx,
        )?;
        let master_key = match m.get("master_key") {
            Some(Value::String(s)) if !s.is_empty() => Some(Secret::new(s.clone())),
            Some(Value::String(_)) => return Err(err_at(P, "master_key", "must not be empty")),
            Some(Value::Null) if ctx.unset.contains(&format!("{P}.master_key")) => {
                // Fail closed: an unset secret must not turn into an open gateway.
                return Err(err_at(P, "master_key", "refers to an environment variable that is not set; set it (e.g. `wrangler secret put`) or remove master_key to run an open gateway",
                ));
            }
            None | Some(Value::Null) => ctx.env.var("LITELLM_MASTER_KEY").map(Secret::new),
            Some(_) => return Err(err_at(P, "master_key", "must be a string")),
        };
        let key_header_name = match m.get("litellm_key_header_name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_ascii_lowercase()),
            Some(_) => {
                return Err(err_at(
                    P,
                    "litellm_key_header_name",
                    "must be a header name",
                ))
            }
        };
        // LiteLLM: the LITELLM_CORS_* variables win over general_settings.
        let env = ctx.env;
        let cors_list = |key: &str, var: &str| -> Result<Option<Vec<String>>> {
            if let Some(v) = env.var(var) {
                let mut one = Map::new();
                one.insert(key.to_string(), Value::String(v));
                return str_list(&one, var, key);
            }
            str_list(&m, P, key)
        };
        let defaults = Cors::default();
        let allow_credentials = match ctx.env.var("LITELLM_CORS_ALLOW_CREDENTIALS") {
            Some(v) => matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"),
            None => ctx.bool(&m, P, "cors_allow_credentials").unwrap_or(false),
        };
        let cors = Cors {
            allow_origins: ctx
                .keep(cors_list(
                    "cors_allow_origins",
                    "LITELLM_CORS_ALLOW_ORIGINS",
                ))
                .unwrap_or(defaults.allow_origins),
            allow_credentials,
            allow_methods: ctx
                .keep(cors_list(
                    "cors_allow_methods",
                    "LITELLM_CORS_ALLOW_METHODS",
                ))
                .unwrap_or(defaults.allow_methods),
            allow_headers: ctx
                .keep(cors_list(
                    "cors_allow_headers",
                    "LITELLM_CORS_ALLOW_HEADERS",
                ))
                .unwrap_or(defaults.allow_headers),
        };
        let max_request_size_mb = match m.get("max_request_size_mb") {
            None | Some(Value::Null) => None,
            Some(v) => ctx.keep(
                v.as_f64()
                    .filter(|n| *n > 0.0 && n.is_finite())
                    .map(Some)
                    .ok_or_else(|| err_at(P, "max_request_size_mb", "must be a positive number")),
            ),
        };
        let settings = GeneralSettings {
            master_key,
            key_header_name,
            cors,
            allow_client_side_credentials: ctx
                .bool(&m, P, "allow_client_side_credentials")
                .unwrap_or(false),
            max_request_size_mb,
            alerting: ctx.list(&m, P, "alerting"),
        };
        ctx.done(settings)
    }

    /// Finds the deployments for a requested model: `model_group_alias` first, then an exact
    /// `model_name`, then wildcard names (`openai/*`, `*`), most specific first.
    pub fn resolve_model(&self, requested: &str) -> Option<Route<'_>> {
        let name = self
            .router_settings
            .model_group_alias
            .get(requested)
            .map_or(requested, |(g, _)| g.as_str());
        let exact: Vec<&Deployment> = self
            .model_list
            .iter()
            .filter(|d| d.model_name == name)
            .collect();
        if !exact.is_empty() {
            return Some(Route {
                model_group: name.to_string(),
                deployments: exact,
                wildcard: None,
            });
        }
        let mut best: Option<(&str, String)> = None;
        for d in &self.model_list {
            if let Some(m) = wildcard_match(&d.model_name, name) {
                // The longest literal part wins: `openai/*` beats `*`.
                if best
                    .as_ref()
                    .is_none_or(|(p, _)| p.len() < d.model_name.len())
                {
                    best = Some((d.model_name.as_str(), m));
                }
            }
        }
        let (pattern, matched) = best?;
        Some(Route {
            model_group: pattern.to_string(),
            deployments: self
                .model_list
                .iter()
                .filter(|d| d.model_name == pattern)
                .collect(),
            wildcard: Some(matched),
        })
    }

    /// Public model names for `/v1/models`: every distinct `model_name`, then visible aliases.
    pub fn model_names(&self) -> Vec<String> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for d in &self.model_list {
            if first_sight(&mut seen, &d.model_name) {
                out.push(d.model_name.clone());
            }
        }
        for (alias, (_, hidden)) in &self.router_settings.model_group_alias {
            if !hidden && first_sight(&mut seen, alias) {
                out.push(alias.clone());
            }
        }
        out
    }

    /// Retries for a call: `router_settings.num_retries`, else `litellm_settings.num_retries`.
    pub fn num_retries(&self) -> Option<u32> {
        self.router_settings
            .num_retries
            .or(self.litellm_settings.num_retries)
    }

    /// Timeout for a call in ms: `router_settings.timeout`, else `litellm_settings.request_timeout`.
    pub fn timeout_ms(&self) -> Option<u64> {
        self.router_settings
            .timeout_ms
            .or(self.litellm_settings.request_timeout_ms)
    }

    /// The fallback groups for `group`: router_settings' chain, else litellm_settings', else
    /// the default fallbacks.
    pub fn fallbacks_for(&self, group: &str) -> Vec<String> {
        let find = |chains: &Fallbacks| {
            chains
                .iter()
                .find(|(g, _)| g == group)
                .map(|(_, to)| to.clone())
        };
        find(&self.router_settings.fallbacks)
            .or_else(|| find(&self.litellm_settings.fallbacks))
            .unwrap_or_else(|| {
                if self.router_settings.default_fallbacks.is_empty() {
                    self.litellm_settings.default_fallbacks.clone()
                } else {
                    self.router_settings.default_fallbacks.clone()
                }
            })
    }

    /// The context-window fallback groups for `group`.
    pub fn context_window_fallbacks_for(&self, group: &str) -> Vec<String> {
        self.router_settings
            .context_window_fallbacks
            .iter()
            .chain(&self.litellm_settings.context_window_fallbacks)
            .find(|(g, _)| g == group)
            .map(|(_, to)| to.clone())
            .unwrap_or_default()
    }

    /// The content-policy fallback groups for `group`.
    pub fn content_policy_fallbacks_for(&self, group: &str) -> Vec<String> {
        self.router_settings
            .content_policy_fallbacks
            .iter()
            .chain(&self.litellm_settings.content_policy_fallbacks)
            .find(|(g, _)| g == group)
            .map(|(_, to)| to.clone())
            .unwrap_or_default()
    }

    /// The JSON object for one call to `dep`: the request's keys, then the deployment's
    /// `litellm_params` for keys the request lacks (router-only keys excluded), `model` from the
    /// deployment (with `*` replaced by `wildcard`), then the global `num_retries`, `timeout`
    /// and `drop_params` where still unset. Feed it to [`crate::options::parse_chat`].
    pub fn call_body(
        &self,
        dep: &Deployment,
        request: &Map<String, Value>,
        wildcard: Option<&str>,
    ) -> Map<String, Value> {
        let mut body = request.clone();
        for (k, v) in &dep.litellm_params {
            if ROUTER_PARAM_KEYS.contains(&k.as_str()) || IGNORED_PARAM_KEYS.contains(&k.as_str()) {
                continue;
            }
            if !body.contains_key(k) || k == "model" {
                body.insert(k.clone(), v.clone());
            }
        }
        if let (Some(w), Some(Value::String(m))) = (wildcard, body.get("model")) {
            if m.contains('*') {
                let m = m.replacen('*', w, 1);
                body.put("model", Value::String(m));
            }
        }
        let streaming = request.get("stream").and_then(Value::as_bool) == Some(true);
        if !body.contains_key("timeout") && !body.contains_key("request_timeout") {
            let stream_timeout = streaming
                .then(|| {
                    dep.stream_timeout_ms()
                        .or(self.router_settings.stream_timeout_ms)
                })
                .flatten();
            if let Some(ms) = stream_timeout.or_else(|| self.timeout_ms()) {
                body.put("timeout", Value::from(ms as f64 / 1000.0));
            }
        }
        if !body.contains_key("num_retries") && !body.contains_key("max_retries") {
            if let Some(n) = self.num_retries() {
                body.put("num_retries", Value::from(n));
            }
        }
        if !body.contains_key("drop_params") {
            if let Some(d) = self.litellm_settings.drop_params {
                body.put("drop_params", Value::Bool(d));
            }
        }
        body
    }
}

/// Whether `name` is new to `seen` (kept sorted), adding it: a set without a `BTreeSet` type
/// of its own in the wasm.
fn first_sight<'a>(seen: &mut Vec<&'a str>, name: &'a str) -> bool {
    match seen.binary_search(&name) {
        Ok(_) => false,
        Err(i) => {
            seen.insert(i, name);
            true
        }
    }
}

/// `environment_variables` over the host's environment.
struct Layered<'a> {
    first: &'a StrMap<String>,
    then: &'a dyn Env,
}

impl Env for Layered<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.first.var(name).or_else(|| self.then.var(name))
    }
}

/// The environment a gateway should give providers: the config's `environment_variables`
/// over the host's variables.
pub fn layered_env<'a>(cfg: &'a ProxyConfig, host_env: &'a dyn Env) -> impl Env + 'a {
    Layered {
        first: &cfg.environment_variables,
        then: host_env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load(v: Value) -> Result<ProxyConfig> {
        ProxyConfig::from_value(v, &env(&[("KEY_A", "sk-a"), ("MK", "sk-master")]))
    }

    #[test]
    fn resolves_env_and_groups_deployments() {
        let cfg = load(json!({
            "model_list": [
                {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o", "api_key": "os.environ/KEY_A", "rpm": 10}},
                {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "os.environ/MISSING"},
                 "model_info": {"id": "mini"}},
                {"model_name": "claude", "litellm_params": {"model": "anthropic/claude-3-5-haiku"}}
            ],
            "general_settings": {"master_key": "os.environ/MK"}
        }))
        .unwrap();
        let route = cfg.resolve_model("gpt").unwrap();
        assert_eq!(route.deployments.len(), 2);
        assert_eq!(route.deployments[0].litellm_params["api_key"], "sk-a");
        assert!(!route.deployments[1].litellm_params.contains_key("api_key"));
        assert_eq!(route.deployments[1].id, "mini");
        assert_eq!(route.deployments[0].id.len(), 16);
        assert!(
            cfg.warnings.iter().any(|w| w.contains("MISSING")),
            "{:?}",
            cfg.warnings
        );
        assert_eq!(
            cfg.general_settings.master_key.as_ref().unwrap().expose(),
            "sk-master"
        );
        assert_eq!(cfg.model_names(), vec!["gpt", "claude"]);
        assert!(cfg.resolve_model("nope").is_none());
    }

    #[test]
    fn ids_are_stable_and_do_not_hash_secrets() {
        let a = ProxyConfig::from_value(
            json!({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "api_key": "os.environ/K"}}]}),
            &env(&[("K", "one")]),
        )
        .unwrap();
        let b = ProxyConfig::from_value(
            json!({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "api_key": "os.environ/K"}}]}),
            &env(&[("K", "two")]),
        )
        .unwrap();
        assert_eq!(a.model_list[0].id, b.model_list[0].id);
    }

    #[test]
    fn unset_master_key_reference_fails_closed() {
        let e =
            load(json!({"model_list": [], "general_settings": {"master_key": "os.environ/NOPE"}}))
                .unwrap_err();
        assert!(e.message().contains("master_key"), "{e}");
        let open = load(json!({"model_list": []})).unwrap();
        assert!(open.general_settings.master_key.is_none());
        let from_env =
            ProxyConfig::from_value(json!({}), &env(&[("LITELLM_MASTER_KEY", "sk-m")])).unwrap();
        assert_eq!(
            from_env.general_settings.master_key.unwrap().expose(),
            "sk-m"
        );
    }

    #[test]
    fn environment_variables_layer_over_host_env() {
        let cfg = ProxyConfig::from_value(
            json!({"environment_variables": {"A": "from-config", "B": "os.environ/HOST_B"},
                   "model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "api_key": "os.environ/A"}}]}),
            &env(&[("A", "from-host"), ("HOST_B", "b")]),
        )
        .unwrap();
        assert_eq!(cfg.model_list[0].litellm_params["api_key"], "from-config");
        let host = env(&[("A", "from-host"), ("C", "c")]);
        let layered = layered_env(&cfg, &host);
        assert_eq!(layered.var("A").as_deref(), Some("from-config"));
        assert_eq!(layered.var("B").as_deref(), Some("b"));
        assert_eq!(layered.var("C").as_deref(), Some("c"));
    }

    #[test]
    fn bad_types_are_errors_with_paths() {
        for (cfg, path) in [
            (json!({"model_list": {}}), "model_list"),
            (
                json!({"model_list": [{"litellm_params": {"model": "x"}}]}),
                "model_list[0].model_name",
            ),
            (
                json!({"model_list": [{"model_name": "m"}]}),
                "model_list[0].litellm_params",
            ),
            (
                json!({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "rpm": "many"}}]}),
                "model_list[0].litellm_params.rpm",
            ),
            (
                json!({"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "timeout": -1}}]}),
                "model_list[0].litellm_params.timeout",
            ),
            (
                json!({"router_settings": {"routing_strategy": "fastest"}}),
                "router_settings.routing_strategy",
            ),
            (
                json!({"router_settings": {"num_retries": "x"}}),
                "router_settings.num_retries",
            ),
            (
                json!({"litellm_settings": {"fallbacks": [{"a": ["b"]}]}}),
                "fallbacks",
            ),
            (
                json!({"litellm_settings": {"fallbacks": "a"}}),
                "litellm_settings.fallbacks",
            ),
            (
                json!({"general_settings": {"allowed_ips": ["1.2.3.4"]}}),
                "general_settings.allowed_ips",
            ),
            (json!({"include": ["other.yaml"]}), "(root).include"),
            // Several bad settings: the first in reading order is reported.
            (
                json!({"router_settings": {"retry_policy": 1, "num_retries": "x", "timeout": "y"}}),
                "router_settings.num_retries",
            ),
            (
                json!({"router_settings": {"enable_pre_call_checks": 2, "max_fallbacks": -1}}),
                "router_settings.max_fallbacks",
            ),
            (
                json!({"litellm_settings": {"json_logs": 1, "callbacks": 2, "drop_params": 3}}),
                "litellm_settings.drop_params",
            ),
            (
                json!({"general_settings": {"alerting": 1, "max_request_size_mb": 0, "cors_allow_headers": 2}}),
                "general_settings.cors_allow_headers",
            ),
            (
                json!({"general_settings": {"alerting": 1, "max_request_size_mb": 0}}),
                "general_settings.max_request_size_mb",
            ),
            // A bad section fails before the next section is read.
            (
                json!({"router_settings": {"timeout": "y"}, "litellm_settings": {"num_retries": "x"}}),
                "router_settings.timeout",
            ),
        ] {
            let e = load(cfg.clone()).unwrap_err();
            assert_eq!(e.param(), Some(path), "{cfg} -> {e}");
        }
    }

    #[test]
    fn unknown_keys_warn() {
        let cfg = load(json!({
            "model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "max_budget": 3}, "extra": 1}],
            "litellm_settings": {"cache": true},
            "router_settings": {"redis_host": "h"},
            "general_settings": {"database_url": "postgres://"},
            "something": 1
        }))
        .unwrap();
        for needle in [
            "max_budget",
            "model_list[0].extra",
            "cache",
            "redis_host",
            "database_url",
            "something",
        ] {
            assert!(
                cfg.warnings.iter().any(|w| w.contains(needle)),
                "{needle}: {:?}",
                cfg.warnings
            );
        }
    }

    #[test]
    fn call_body_precedence() {
        let cfg = load(json!({
            "model_list": [{"model_name": "m", "litellm_params": {
                "model": "openai/gpt-4o", "api_key": "os.environ/KEY_A", "temperature": 0.1, "timeout": 5,
                "rpm": 3, "weight": 2, "stream_timeout": 1.5, "max_budget": 1}}],
            "router_settings": {"num_retries": 4, "timeout": 30},
            "litellm_settings": {"num_retries": 1, "drop_params": true}
        }))
        .unwrap();
        let dep = &cfg.model_list[0];
        let req = json!({"model": "m", "messages": [], "temperature": 0.9});
        let body = cfg.call_body(dep, req.as_object().unwrap(), None);
        assert_eq!(body["model"], "openai/gpt-4o");
        assert_eq!(body["temperature"], 0.9, "the request wins");
        assert_eq!(body["timeout"], 5, "deployment timeout over router timeout");
        assert_eq!(
            body["num_retries"], 4,
            "router_settings over litellm_settings"
        );
        assert_eq!(body["drop_params"], true);
        for k in ["rpm", "weight", "stream_timeout", "max_budget"] {
            assert!(!body.contains_key(k), "{k}");
        }
        let (chat, opts) = crate::options::parse_chat(Value::Object(
            cfg.call_body(dep, json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": true}).as_object().unwrap(), None),
        ))
        .unwrap();
        assert_eq!(chat.model, "openai/gpt-4o");
        assert_eq!(opts.api_key.unwrap().expose(), "sk-a");
        assert_eq!(
            opts.timeout_ms,
            Some(5000),
            "explicit deployment timeout beats stream_timeout"
        );
        assert_eq!(opts.num_retries, Some(4));
    }

    #[test]
    fn stream_timeout_applies_to_streams_only() {
        let cfg = load(json!({
            "model_list": [{"model_name": "m", "litellm_params": {"model": "openai/x", "stream_timeout": 2}}],
            "litellm_settings": {"request_timeout": 60}
        }))
        .unwrap();
        let dep = &cfg.model_list[0];
        let s = cfg.call_body(dep, json!({"stream": true}).as_object().unwrap(), None);
        assert_eq!(s["timeout"], 2.0);
        let n = cfg.call_body(dep, json!({}).as_object().unwrap(), None);
        assert_eq!(n["timeout"], 60.0);
    }

    #[test]
    fn wildcards_and_aliases() {
        let cfg = load(json!({
            "model_list": [
                {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}},
                {"model_name": "*", "litellm_params": {"model": "openai_like/*", "api_base": "http://127.0.0.1:1/v1"}},
                {"model_name": "fast", "litellm_params": {"model": "openai/gpt-4o-mini"}}
            ],
            "router_settings": {"model_group_alias": {"quick": "fast", "secret": {"model": "fast", "hidden": true}}}
        }))
        .unwrap();
        let r = cfg.resolve_model("openai/gpt-4.1").unwrap();
        assert_eq!(r.model_group, "openai/*");
        let body = cfg.call_body(
            r.deployments[0],
            json!({"model": "openai/gpt-4.1"}).as_object().unwrap(),
            r.wildcard.as_deref(),
        );
        assert_eq!(body["model"], "openai/gpt-4.1");
        let r = cfg.resolve_model("llama3").unwrap();
        assert_eq!(r.model_group, "*");
        let body = cfg.call_body(
            r.deployments[0],
            json!({"model": "llama3"}).as_object().unwrap(),
            r.wildcard.as_deref(),
        );
        assert_eq!(body["model"], "openai_like/llama3");
        assert_eq!(cfg.resolve_model("quick").unwrap().model_group, "fast");
        assert_eq!(cfg.model_names(), vec!["openai/*", "*", "fast", "quick"]);
    }

    /// The maps and sets behind `/models`, deployment ids and `environment_variables`: model
    /// names in config order without repeats, then visible aliases in name order; the first
    /// repeated id is the one reported; variables iterate in name order.
    #[test]
    fn model_names_ids_and_variables_keep_their_order() {
        // Distinct models: ids come from the parameters, and two equal ones would clash.
        let dep = |name: &str, n: u32| json!({"model_name": name, "litellm_params": {"model": format!("openai/x{n}")}});
        let cfg = load(json!({
            "model_list": [dep("zeta", 1), dep("alpha", 2), dep("zeta", 3), dep("mid", 4)],
            "router_settings": {"model_group_alias": {
                "zz": "alpha", "alpha": "mid", "aa": {"model": "zeta"}, "hid": {"model": "mid", "hidden": true}}},
            "environment_variables": {"Z_VAR": "1", "A_VAR": true, "M_VAR": 2, "N_VAR": null}
        }))
        .unwrap();
        assert_eq!(cfg.model_names(), ["zeta", "alpha", "mid", "aa", "zz"]);
        assert_eq!(cfg.resolve_model("hid").unwrap().model_group, "mid");
        assert_eq!(cfg.router_settings.model_group_alias.len(), 4);
        let vars: Vec<(&str, &str)> = cfg
            .environment_variables
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(vars, [("A_VAR", "true"), ("M_VAR", "2"), ("Z_VAR", "1")]);

        let with_id = |id: &str| json!({"model_name": "m", "litellm_params": {"model": "openai/x"}, "model_info": {"id": id}});
        let e = load(json!({"model_list": [with_id("b"), with_id("a"), with_id("c"), with_id("a"), with_id("b")]}))
            .unwrap_err();
        assert!(e.message().contains("share model_info.id `a`"), "{e}");
        load(json!({"model_list": [with_id("b"), with_id("a"), with_id("c")]})).unwrap();
    }

    #[test]
    fn fallbacks_lookup() {
        let cfg = load(json!({
            "model_list": [
                {"model_name": "a", "litellm_params": {"model": "openai/a"}},
                {"model_name": "b", "litellm_params": {"model": "openai/b"}},
                {"model_name": "c", "litellm_params": {"model": "openai/c"}}
            ],
            "router_settings": {"fallbacks": [{"a": ["b", "c"]}], "context_window_fallbacks": [{"a": "c"}]},
            "litellm_settings": {"default_fallbacks": ["c"]}
        }))
        .unwrap();
        assert_eq!(cfg.fallbacks_for("a"), vec!["b", "c"]);
        assert_eq!(cfg.fallbacks_for("b"), vec!["c"]);
        assert_eq!(cfg.context_window_fallbacks_for("a"), vec!["c"]);
        assert!(cfg.content_policy_fallbacks_for("a").is_empty());
    }

    #[test]
    fn cors_settings_and_env_override() {
        let cfg = ProxyConfig::from_value(
            json!({"general_settings": {"cors_allow_origins": ["https://a.example"], "cors_allow_credentials": true,
                                        "cors_allow_headers": "Authorization, Content-Type"}}),
            &env(&[("LITELLM_CORS_ALLOW_METHODS", "GET,POST")]),
        )
        .unwrap();
        let c = &cfg.general_settings.cors;
        assert_eq!(c.allow_origins, vec!["https://a.example"]);
        assert!(c.credentials());
        assert_eq!(c.allow_headers, vec!["Authorization", "Content-Type"]);
        assert_eq!(c.allow_methods, vec!["GET", "POST"]);
        let wild = Cors {
            allow_credentials: true,
            ..Cors::default()
        };
        assert!(!wild.credentials(), "never credentials with *");
    }
}
