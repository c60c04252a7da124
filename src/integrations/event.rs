//! What gets logged: a call's standard logging payload (success or failure), or a budget alert.

use crate::provider::build::{obj, s};
use serde_json::Value;

/// One thing to log.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvent {
    /// A call that succeeded: its [`crate::logging::payload`] (for streams, built at the end
    /// of the stream with the accumulated output).
    Success(Value),
    /// A call that failed: its payload with `error_information`.
    Failure(Value),
    /// A call the gateway refused before calling any provider (a virtual key's budget, rate
    /// limit or model access): its failure payload. Failure loggers receive it, as LiteLLM logs
    /// its proxy-level auth errors; it is no LLM API failure, so Slack's `llm_exceptions`
    /// alerts skip it (the budget itself alerts through [`LogEvent::Budget`], once).
    Refused(Value),
    /// A spend limit crossed (LiteLLM's `budget_alerts`).
    Budget(Box<BudgetAlert>),
}

impl LogEvent {
    /// A success or failure event for a payload, by its `status`.
    pub fn from_payload(payload: Value) -> Self {
        if payload["status"] == "failure" {
            LogEvent::Failure(payload)
        } else {
            LogEvent::Success(payload)
        }
    }

    /// The payload of a call event.
    pub fn payload(&self) -> Option<&Value> {
        match self {
            LogEvent::Success(p) | LogEvent::Failure(p) | LogEvent::Refused(p) => Some(p),
            LogEvent::Budget(_) => None,
        }
    }
}

/// A budget alert, with the fields of LiteLLM's `WebhookEvent`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BudgetAlert {
    /// `budget_crossed`, `threshold_crossed`, `soft_budget_crossed` or
    /// `projected_limit_exceeded`.
    pub event: String,
    /// Whose budget: `user`, `key`, `team`, `customer`, `proxy`, …
    pub event_group: String,
    /// A sentence for people (`Budget Crossed for key …`).
    pub event_message: String,
    /// Spend so far, USD.
    pub spend: f64,
    /// The hard limit, USD.
    pub max_budget: Option<f64>,
    /// The soft limit, USD.
    pub soft_budget: Option<f64>,
    /// The key's hash (never the key).
    pub token: Option<String>,
    /// User id.
    pub user_id: Option<String>,
    /// Team id.
    pub team_id: Option<String>,
    /// Team alias.
    pub team_alias: Option<String>,
    /// Key alias.
    pub key_alias: Option<String>,
    /// Customer (end user) id.
    pub customer_id: Option<String>,
    /// When it happened, ms since the epoch.
    pub at_ms: u64,
}

impl BudgetAlert {
    /// LiteLLM's `WebhookEvent` JSON.
    pub fn to_json(&self) -> Value {
        obj([
            ("event", s(&self.event)),
            ("event_group", s(&self.event_group)),
            ("event_message", s(&self.event_message)),
            ("spend", Value::from(self.spend)),
            ("max_budget", Value::from(self.max_budget)),
            ("soft_budget", Value::from(self.soft_budget)),
            ("token", Value::from(self.token.clone())),
            ("user_id", Value::from(self.user_id.clone())),
            ("team_id", Value::from(self.team_id.clone())),
            ("team_alias", Value::from(self.team_alias.clone())),
            ("key_alias", Value::from(self.key_alias.clone())),
            ("customer_id", Value::from(self.customer_id.clone())),
        ])
    }
}
