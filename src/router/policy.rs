//! The router's settings, checked once: strategy, retries, cooldowns, fallback depth.

use serde_json::{Map, Value};

use super::health::CooldownRules;
use crate::config::ProxyConfig;
use crate::{Error, ErrorKind, Result};

/// How a deployment is picked inside a model group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Random, weighted by `weight`, else `rpm`, else `tpm` (LiteLLM's default).
    #[default]
    SimpleShuffle,
    /// Fewest requests in flight.
    LeastBusy,
    /// Lowest recent latency per output token (time to first chunk for streams).
    LatencyBased,
    /// Lowest tokens used this minute among deployments under their rpm/tpm limits
    /// (LiteLLM's `usage-based-routing-v2`).
    UsageBased,
    /// Lowest price per token (deployment overrides, else the price table).
    CostBased,
}

impl Strategy {
    /// Parses LiteLLM's strategy name. `provider-budget-routing` needs provider budgets this
    /// router does not track; it shuffles like the default.
    pub fn parse(name: &str) -> Result<Self> {
        Ok(match name {
            "simple-shuffle" | "provider-budget-routing" => Strategy::SimpleShuffle,
            "least-busy" => Strategy::LeastBusy,
            "latency-based-routing" => Strategy::LatencyBased,
            "usage-based-routing" | "usage-based-routing-v2" => Strategy::UsageBased,
            "cost-based-routing" => Strategy::CostBased,
            other => {
                return Err(
                    Error::bad_request(format!("unknown routing_strategy `{other}`"))
                        .with_param("routing_strategy"),
                )
            }
        })
    }
}

/// Error classes as LiteLLM names them in `retry_policy` (`RateLimitErrorRetries`) and
/// `allowed_fails_policy` (`RateLimitErrorAllowedFails`).
fn kinds_of_class(class: &str) -> Vec<ErrorKind> {
    use ErrorKind::*;
    let all = [
        BadRequest,
        UnsupportedParams,
        ContextWindowExceeded,
        ContentPolicyViolation,
        Authentication,
        BudgetExceeded,
        PermissionDenied,
        NotFound,
        Timeout,
        UnprocessableEntity,
        RateLimited,
        InternalServer,
        BadGateway,
        ServiceUnavailable,
        Connection,
        Cancelled,
        Decode,
    ];
    if class == "TimeoutError" || class == "Timeout" {
        return vec![Timeout];
    }
    all.into_iter().filter(|k| k.js_class() == class).collect()
}

/// Per-error-class numbers (`retry_policy`, `allowed_fails_policy`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassTable {
    entries: Vec<(ErrorKind, u32)>,
    /// `BadRequestError…`: LiteLLM's BadRequestError is the parent class of the context-window,
    /// content-policy and unsupported-params errors, so it applies to them when they have no
    /// entry of their own.
    bad_request_family: Option<u32>,
}

impl ClassTable {
    /// Parses `{"<Class><suffix>": n}`, e.g. suffix `Retries`.
    pub fn parse(map: &Map<String, Value>, suffix: &str, what: &str) -> Result<Self> {
        let mut t = ClassTable::default();
        for (k, v) in map {
            if v.is_null() {
                continue;
            }
            let n = v.as_u64().filter(|n| *n <= 1000).ok_or_else(|| {
                Error::bad_request(format!("{what}.{k} must be an integer from 0 to 1000"))
                    .with_param(what)
            })? as u32;
            let class = k.strip_suffix(suffix).ok_or_else(|| {
                Error::bad_request(format!("{what}: key `{k}` must end in `{suffix}`"))
                    .with_param(what)
            })?;
            let kinds = kinds_of_class(class);
            if kinds.is_empty() {
                return Err(
                    Error::bad_request(format!("{what}: unknown error class `{class}`"))
                        .with_param(what),
                );
            }
            if class == "BadRequestError" {
                t.bad_request_family = Some(n);
            }
            t.entries.extend(kinds.into_iter().map(|k| (k, n)));
        }
        Ok(t)
    }

    /// The number for `kind`, if the table sets one.
    pub fn get(&self, kind: ErrorKind) -> Option<u32> {
        use ErrorKind::*;
        let own = self
            .entries
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, n)| *n);
        let is_family = matches!(
            kind,
            UnsupportedParams | ContextWindowExceeded | ContentPolicyViolation
        );
        own.or(if is_family {
            self.bad_request_family
        } else {
            None
        })
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn pairs(&self) -> Vec<(ErrorKind, u32)> {
        use ErrorKind::*;
        let mut v = self.entries.clone();
        if let Some(n) = self.bad_request_family {
            for k in [
                UnsupportedParams,
                ContextWindowExceeded,
                ContentPolicyViolation,
            ] {
                if !v.iter().any(|(x, _)| *x == k) {
                    v.push((k, n));
                }
            }
        }
        v
    }
}

/// Everything the planner needs besides the model list.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// How deployments are picked.
    pub strategy: Strategy,
    /// Retries per model group (LiteLLM's router default is 2: three requests).
    pub num_retries: u32,
    /// Retries per error class, replacing `num_retries` for that class.
    pub retry_policy: ClassTable,
    /// Cooldown rules.
    pub cooldown: CooldownRules,
    /// How deep the fallback chain may go (LiteLLM's `max_fallbacks`, default 5).
    pub max_fallbacks: u32,
    /// Minimum wait before a retry on the same deployment (`retry_after`).
    pub retry_after_ms: u64,
    /// Latency-based routing: deployments within this fraction of the fastest are equally good
    /// (`routing_strategy_args.lowest_latency_buffer`).
    pub latency_buffer: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            strategy: Strategy::SimpleShuffle,
            num_retries: 2,
            retry_policy: ClassTable::default(),
            cooldown: CooldownRules::default(),
            max_fallbacks: 5,
            retry_after_ms: 0,
            latency_buffer: 0.0,
        }
    }
}

impl Policy {
    /// The policy a checked config describes, LiteLLM's defaults for what it leaves out.
    pub fn from_config(cfg: &ProxyConfig) -> Result<Self> {
        let rs = &cfg.router_settings;
        let d = Policy::default();
        let allowed_fails = ClassTable::parse(
            &rs.allowed_fails_policy,
            "AllowedFails",
            "allowed_fails_policy",
        )?;
        Ok(Policy {
            strategy: rs
                .routing_strategy
                .as_deref()
                .map(Strategy::parse)
                .transpose()?
                .unwrap_or_default(),
            num_retries: cfg.num_retries().unwrap_or(d.num_retries),
            retry_policy: ClassTable::parse(&rs.retry_policy, "Retries", "retry_policy")?,
            cooldown: CooldownRules {
                allowed_fails: rs.allowed_fails.unwrap_or(d.cooldown.allowed_fails),
                allowed_fails_by_kind: allowed_fails.pairs(),
                cooldown_ms: rs.cooldown_time_ms.unwrap_or(d.cooldown.cooldown_ms),
            },
            max_fallbacks: rs.max_fallbacks.unwrap_or(d.max_fallbacks),
            retry_after_ms: rs.retry_after_ms.unwrap_or(0),
            latency_buffer: rs
                .routing_strategy_args
                .get("lowest_latency_buffer")
                .and_then(Value::as_f64)
                .filter(|b| b.is_finite() && *b >= 0.0)
                .unwrap_or(0.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn class_table_parses_litellm_names() {
        let m = json!({"RateLimitErrorRetries": 4, "TimeoutErrorRetries": 1, "BadRequestErrorRetries": 0});
        let t = ClassTable::parse(m.as_object().unwrap(), "Retries", "retry_policy").unwrap();
        assert_eq!(t.get(ErrorKind::RateLimited), Some(4));
        assert_eq!(t.get(ErrorKind::Timeout), Some(1));
        assert_eq!(t.get(ErrorKind::ContextWindowExceeded), Some(0));
        assert_eq!(t.get(ErrorKind::InternalServer), None);
        let bad = json!({"NopeErrorRetries": 1});
        assert!(ClassTable::parse(bad.as_object().unwrap(), "Retries", "retry_policy").is_err());
        let bad = json!({"RateLimitError": 1});
        assert!(ClassTable::parse(bad.as_object().unwrap(), "Retries", "retry_policy").is_err());
    }

    #[test]
    fn specific_class_beats_family() {
        let m = json!({"BadRequestErrorRetries": 0, "ContentPolicyViolationErrorRetries": 2});
        let t = ClassTable::parse(m.as_object().unwrap(), "Retries", "retry_policy").unwrap();
        assert_eq!(t.get(ErrorKind::ContentPolicyViolation), Some(2));
        assert_eq!(t.get(ErrorKind::UnsupportedParams), Some(0));
    }

    #[test]
    fn strategies() {
        assert_eq!(Strategy::parse("least-busy").unwrap(), Strategy::LeastBusy);
        assert_eq!(
            Strategy::parse("usage-based-routing-v2").unwrap(),
            Strategy::UsageBased
        );
        assert!(Strategy::parse("fastest").is_err());
    }
}
