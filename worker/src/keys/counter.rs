//! The counters of record for one key, user, team, or the whole gateway: what a Durable Object
//! holds, as a pure state machine ([`CounterState::apply`]). The Durable Object (`keys_edge`)
//! only loads the state, applies one [`Op`], stores it back and answers with the [`Outcome`];
//! Durable Objects run one event at a time for their storage operations, so every op is atomic.
//!
//! Money is [`Usd`] (integer pico-dollars) and the budget arithmetic is the core's
//! ([`edgellm::budget`]): reserve the worst case before a call, settle the real cost after it.
//! Rate limits are sliding windows of one-second slots over the last minute: requests count
//! when admitted, tokens when settled (LiteLLM's rpm/tpm).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use edgellm::budget::{self, BudgetState, Period};
use edgellm::cost::Usd;

use super::time;

/// Length of the rpm/tpm window.
pub const WINDOW_SECS: u64 = 60;
/// Hourly spend buckets kept (7 days), for the dashboard's chart.
pub const HOURS_KEPT: usize = 7 * 24;
/// Settled request ids remembered, so that a settle sent twice is booked once.
pub const SETTLED_KEPT: usize = 128;
/// How long a reservation is held before it is presumed abandoned (a Worker that died between
/// reserve and settle) and released. Longer than any call the gateway lets run.
pub const DEFAULT_HOLD_MS: u64 = 15 * 60_000;

/// What a key, user or team may do. Keys carry their owner so that the gate can charge them,
/// and every counter carries what the gateway's logs and budget alerts name it by (alias,
/// metadata), so that a request needs no record reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Allowed model names (empty: all). `*` and `all-proxy-models` allow all; a trailing `*`
    /// is a prefix (`openai/*`); `all-team-models` defers to the team.
    #[serde(default)]
    pub models: Vec<String>,
    /// Spend allowed per budget period.
    #[serde(default)]
    pub max_budget: Option<Usd>,
    /// Budget period (`30d`, `1h`, …); without it the budget never resets.
    #[serde(default)]
    pub budget_duration: Option<String>,
    /// Requests per minute.
    #[serde(default)]
    pub rpm_limit: Option<u64>,
    /// Tokens per minute.
    #[serde(default)]
    pub tpm_limit: Option<u64>,
    /// Calls in flight at once.
    #[serde(default)]
    pub max_parallel_requests: Option<u64>,
    /// Expiry (ms since the epoch).
    #[serde(default)]
    pub expires_ms: Option<u64>,
    /// Refuse everything until unblocked.
    #[serde(default)]
    pub blocked: bool,
    /// The user a key belongs to.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The team a key belongs to.
    #[serde(default)]
    pub team_id: Option<String>,
    /// A short name for messages (`Key=alias`, `User=id`, `Team=id`).
    #[serde(default)]
    pub label: Option<String>,
    /// Spend at which a `soft_budget_crossed` alert goes out; nothing is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_budget: Option<Usd>,
    /// The record's alias (`key_alias`, `team_alias`, `user_alias`), for logs and alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The record's `metadata`, for logs (LiteLLM's `user_api_key_metadata`,
    /// `user_api_key_team_metadata`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

impl Limits {
    fn period(&self) -> Period {
        self.budget_duration
            .as_deref()
            .and_then(time::duration_ms)
            .map_or(Period::Never, Period::Every)
    }

    /// Whether `model` is allowed.
    ///
    /// ```
    /// use edgellm_worker::keys::counter::Limits;
    /// let l = Limits { models: vec!["gpt".into(), "openai/*".into()], ..Default::default() };
    /// assert!(l.allows("gpt") && l.allows("openai/gpt-4o") && !l.allows("claude"));
    /// assert!(Limits::default().allows("anything"));
    /// ```
    pub fn allows(&self, model: &str) -> bool {
        self.models.is_empty()
            || self.models.iter().any(|m| {
                m == model
                    || matches!(m.as_str(), "*" | "all-proxy-models" | "all-team-models")
                    || m.strip_suffix('*').is_some_and(|p| model.starts_with(p))
            })
    }
}

/// A reservation in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Reserved worst case.
    pub amount: Usd,
    /// When it is presumed abandoned.
    pub until_ms: u64,
    /// The second it was admitted in (its rpm slot).
    pub second: u64,
}

/// One second of the rate window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Seconds since the epoch.
    pub second: u64,
    /// Requests admitted.
    pub requests: u64,
    /// Tokens settled.
    pub tokens: u64,
}

/// One hour of spend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hour {
    /// Hours since the epoch.
    pub hour: u64,
    /// Spend booked in it.
    pub spend: Usd,
    /// Requests settled in it.
    pub requests: u64,
    /// Tokens settled in it.
    pub tokens: u64,
}

/// Everything a counter object stores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterState {
    /// Set by the first [`Op::Configure`] (a key that was never generated is not).
    pub configured: bool,
    /// Deleted: refuses everything, for good.
    pub revoked: bool,
    /// The limits in force.
    pub limits: Limits,
    /// Settled spend in the current budget period.
    pub spend: Usd,
    /// Start of the current budget period.
    pub period_start_ms: u64,
    /// Sum of the holds.
    pub reserved: Usd,
    /// Reservations in flight by request id.
    pub held: BTreeMap<String, Hold>,
    /// Spend since creation (never reset).
    pub total_spend: Usd,
    /// Requests settled since creation.
    pub requests: u64,
    /// Prompt tokens since creation.
    pub prompt_tokens: u64,
    /// Completion tokens since creation.
    pub completion_tokens: u64,
    /// Spend per model in the current budget period.
    pub model_spend: BTreeMap<String, Usd>,
    /// The last minute, per second.
    pub window: VecDeque<Slot>,
    /// Spend per hour, oldest first.
    pub hours: VecDeque<Hour>,
    /// Recently settled request ids, oldest first.
    pub settled: VecDeque<String>,
    /// When it was configured.
    pub created_ms: u64,
    /// Budget alert levels already reported in the current budget period.
    #[serde(default)]
    pub alerted: BTreeSet<Level>,
    /// The budget period (its start) `alerted` belongs to.
    #[serde(default)]
    pub alerted_period_ms: u64,
}

/// How far spend has gone towards a budget (LiteLLM's budget alert events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Spend reached `soft_budget` (`soft_budget_crossed`).
    SoftBudget,
    /// 85% of `max_budget` spent, 15% left (`threshold_crossed`).
    Threshold85,
    /// 95% of `max_budget` spent, 5% left (`threshold_crossed`).
    Threshold95,
    /// `max_budget` is used up: spend reached it, or a call was refused because what is left
    /// cannot pay for it even with no other call in flight (`budget_crossed`).
    MaxBudget,
}

impl Level {
    /// LiteLLM's webhook `event`.
    pub fn event(self) -> &'static str {
        match self {
            Level::SoftBudget => "soft_budget_crossed",
            Level::Threshold85 | Level::Threshold95 => "threshold_crossed",
            Level::MaxBudget => "budget_crossed",
        }
    }
}

/// A budget level reached, reported once per level and budget period by the counter that saw
/// it happen (its operations are atomic, so exactly one request reports it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crossing {
    /// The level.
    pub level: Level,
    /// Spend in the current period.
    pub spend: Usd,
    /// The hard budget.
    #[serde(default)]
    pub max_budget: Option<Usd>,
    /// The soft budget.
    #[serde(default)]
    pub soft_budget: Option<Usd>,
    /// For a refusal: the most the refused call could have cost.
    #[serde(default)]
    pub refused: Option<Usd>,
}

/// One operation on a counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Sets the limits (key generate/update, user/team new).
    Configure {
        /// New limits.
        limits: Limits,
        /// Now.
        now_ms: u64,
    },
    /// Checks that a request may start, without reserving (body-less endpoints).
    Check {
        /// Requested model, if any.
        model: Option<String>,
        /// Refuse if never configured (keys); users and teams without a record are unlimited.
        require_configured: bool,
        /// Now.
        now_ms: u64,
    },
    /// Admits a request: checks, counts it for rpm, reserves `amount`.
    Reserve {
        /// Request id (idempotent per id).
        id: String,
        /// Worst-case cost.
        amount: Usd,
        /// Requested model.
        model: Option<String>,
        /// Refuse if never configured.
        require_configured: bool,
        /// Now.
        now_ms: u64,
        /// How long to hold the reservation.
        hold_ms: u64,
    },
    /// Books the real cost of request `id` (once per id) and drops its reservation.
    Settle {
        /// Request id.
        id: String,
        /// Real cost.
        cost: Usd,
        /// Prompt tokens the provider reported.
        prompt_tokens: u64,
        /// Completion tokens the provider reported.
        completion_tokens: u64,
        /// The model group, for per-model spend.
        model: Option<String>,
        /// Now.
        now_ms: u64,
    },
    /// Drops the reservation of a request that never ran (refused elsewhere, failed).
    Release {
        /// Request id.
        id: String,
        /// Now.
        now_ms: u64,
    },
    /// Deletes: every later request is refused.
    Revoke {
        /// Now.
        now_ms: u64,
    },
    /// Clears the spend of the current period.
    ResetSpend {
        /// Now.
        now_ms: u64,
    },
    /// Reads the state (with the hourly history).
    Info {
        /// Now.
        now_ms: u64,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No such key.
    Unknown,
    /// Deleted.
    Revoked,
    /// Blocked.
    Blocked,
    /// Past its expiry.
    Expired,
    /// The model is not in its allow-list.
    Model,
    /// The budget cannot take this call.
    Budget,
    /// Requests per minute used up.
    Rpm,
    /// Tokens per minute used up.
    Tpm,
    /// Too many calls in flight.
    Parallel,
}

/// A refusal with what the error message needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Why.
    pub reason: Reason,
    /// Human-readable detail (LiteLLM's wording where it has one).
    pub message: String,
    /// When to retry (rate limits).
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// The limit hit (rpm, tpm, parallel).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Budget levels this refusal reached (see [`Crossing`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crossed: Vec<Crossing>,
    /// Whom the refusing counter limits (alias, owner, metadata), for logs and alerts; absent
    /// for keys that do not exist (any more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Box<Limits>>,
}

/// What a counter reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Ever configured.
    pub configured: bool,
    /// Deleted.
    pub revoked: bool,
    /// Limits in force.
    pub limits: Limits,
    /// Spend in the current budget period.
    pub spend: Usd,
    /// Spend since creation.
    pub total_spend: Usd,
    /// Reserved for calls in flight.
    pub reserved: Usd,
    /// Calls in flight.
    pub in_flight: u64,
    /// When the budget period ends.
    pub budget_reset_at_ms: Option<u64>,
    /// Requests admitted in the last minute.
    pub rpm_used: u64,
    /// Tokens settled in the last minute.
    pub tpm_used: u64,
    /// Requests settled since creation.
    pub requests: u64,
    /// Prompt tokens since creation.
    pub prompt_tokens: u64,
    /// Completion tokens since creation.
    pub completion_tokens: u64,
    /// Spend per model in the current period.
    pub model_spend: BTreeMap<String, Usd>,
    /// Hourly history (only for [`Op::Info`]).
    #[serde(default)]
    pub hours: Vec<Hour>,
    /// When it was configured.
    pub created_ms: u64,
    /// Budget levels reached by this operation (a settle), each reported once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crossed: Vec<Crossing>,
}

/// The answer to an [`Op`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// Done; the state after it.
    Ok(Box<Snapshot>),
    /// Refused; nothing changed but expired holds.
    Refused(Refusal),
}

fn refuse(reason: Reason, message: impl Into<String>) -> Outcome {
    Outcome::Refused(Refusal {
        reason,
        message: message.into(),
        retry_after_ms: None,
        limit: None,
        crossed: Vec::new(),
        limits: None,
    })
}

/// `part ≥ pct % of whole`, without overflow.
fn at_least_percent(part: Usd, whole: Usd, pct: u128) -> bool {
    u128::from(part.pico()) * 100 >= u128::from(whole.pico()) * pct
}

impl CounterState {
    fn budget(&self) -> BudgetState {
        BudgetState {
            limit: self.limits.max_budget.unwrap_or(Usd::MAX),
            spent: self.spend,
            reserved: self.reserved,
            period: self.limits.period(),
            period_start_ms: self.period_start_ms,
            per_model: self
                .model_spend
                .iter()
                .map(|(m, c)| (m.clone(), *c))
                .collect(),
        }
    }

    fn set_budget(&mut self, b: BudgetState) {
        self.spend = b.spent;
        self.reserved = b.reserved;
        self.period_start_ms = b.period_start_ms;
        self.model_spend = b.per_model.into_iter().collect();
    }

    /// Drops expired holds, old window slots and ends the budget period if it is over.
    fn tidy(&mut self, now_ms: u64) {
        let expired: Vec<String> = self
            .held
            .iter()
            .filter(|(_, h)| h.until_ms <= now_ms)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(h) = self.held.remove(&id) {
                self.set_budget(budget::release(&self.budget(), h.amount));
            }
        }
        let now_s = now_ms / 1000;
        while self
            .window
            .front()
            .is_some_and(|s| s.second + WINDOW_SECS <= now_s)
        {
            self.window.pop_front();
        }
        self.set_budget(budget::roll_period(&self.budget(), now_ms));
    }

    fn slot(&mut self, second: u64) -> &mut Slot {
        if self.window.back().is_none_or(|s| s.second < second) {
            self.window.push_back(Slot {
                second,
                requests: 0,
                tokens: 0,
            });
        }
        // Clocks of different Workers may disagree by a little: a slot in the past is found
        // (or the latest one is used) rather than breaking the order.
        let i = self
            .window
            .iter()
            .rposition(|s| s.second <= second)
            .unwrap_or(0);
        &mut self.window[i]
    }

    fn used(&self) -> (u64, u64) {
        self.window
            .iter()
            .fold((0, 0), |(r, t), s| (r + s.requests, t + s.tokens))
    }

    /// Ms until the oldest slots leave the window so that `fits` holds for what stays.
    fn retry_after(&self, now_ms: u64, fits: impl Fn(u64, u64) -> bool) -> u64 {
        let (mut r, mut t) = self.used();
        for s in &self.window {
            r -= s.requests;
            t -= s.tokens;
            if fits(r, t) {
                return ((s.second + WINDOW_SECS) * 1000)
                    .saturating_sub(now_ms)
                    .max(1);
            }
        }
        WINDOW_SECS * 1000
    }

    fn budget_reset_at(&self) -> Option<u64> {
        self.limits
            .period()
            .millis()
            .map(|len| self.period_start_ms + len)
    }

    /// The state as reported (`hours` only when asked).
    pub fn snapshot(&self, with_hours: bool) -> Snapshot {
        let (rpm_used, tpm_used) = self.used();
        Snapshot {
            configured: self.configured,
            revoked: self.revoked,
            limits: self.limits.clone(),
            spend: self.spend,
            total_spend: self.total_spend,
            reserved: self.reserved,
            in_flight: self.held.len() as u64,
            budget_reset_at_ms: self.budget_reset_at(),
            rpm_used,
            tpm_used,
            requests: self.requests,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            model_spend: self.model_spend.clone(),
            hours: if with_hours {
                self.hours.iter().copied().collect()
            } else {
                Vec::new()
            },
            created_ms: self.created_ms,
            crossed: Vec::new(),
        }
    }

    /// The budget levels reached now and not yet reported in this budget period, marked as
    /// reported. `refused` is the worst case of a call the budget just refused. Only the
    /// highest of the `max_budget` levels is reported (as LiteLLM does), the lower ones count
    /// as reported with it.
    fn cross(&mut self, refused: Option<Usd>) -> Vec<Crossing> {
        if self.alerted_period_ms != self.period_start_ms {
            self.alerted.clear();
            self.alerted_period_ms = self.period_start_ms;
        }
        let (spend, max, soft) = (self.spend, self.limits.max_budget, self.limits.soft_budget);
        let mut reached = Vec::new();
        if soft.is_some_and(|soft| spend >= soft) {
            reached.push(Level::SoftBudget);
        }
        if let Some(max) = max {
            let exhausted = spend >= max || refused.is_some_and(|a| spend + a > max);
            let top = if exhausted {
                Some(Level::MaxBudget)
            } else if at_least_percent(spend, max, 95) {
                Some(Level::Threshold95)
            } else if at_least_percent(spend, max, 85) {
                Some(Level::Threshold85)
            } else {
                None
            };
            if let Some(top) = top {
                // Once a level is reported, the ones under it would be old news.
                if self.alerted.range(top..).next().is_none() {
                    reached.push(top);
                }
                let below = [Level::Threshold85, Level::Threshold95]
                    .into_iter()
                    .filter(|l| *l < top);
                self.alerted.extend(below);
            }
        }
        reached
            .into_iter()
            .filter(|l| self.alerted.insert(*l))
            .map(|level| Crossing {
                level,
                spend,
                max_budget: max,
                soft_budget: soft,
                refused: refused
                    .filter(|_| level == Level::MaxBudget && spend < max.unwrap_or(Usd::MAX)),
            })
            .collect()
    }

    /// A budget refusal with the levels it reached.
    fn budget_refusal(&mut self, out: Outcome, amount: Usd) -> Outcome {
        match out {
            Outcome::Refused(mut r) if r.reason == Reason::Budget => {
                r.crossed = self.cross(Some(amount));
                Outcome::Refused(r)
            }
            other => other,
        }
    }

    /// `key`, `user` or `team`, from the label's `Key=`, `User=`, `Team=` prefix.
    fn kind(&self) -> &'static str {
        match self.limits.label.as_deref() {
            Some(l) if l.starts_with("User=") => "user",
            Some(l) if l.starts_with("Team=") => "team",
            _ => "key",
        }
    }

    fn admissible(
        &self,
        model: Option<&str>,
        require_configured: bool,
        now_ms: u64,
    ) -> Option<Outcome> {
        let who = self.limits.label.as_deref().unwrap_or("key");
        let kind = self.kind();
        if self.revoked || (require_configured && !self.configured) {
            return Some(refuse(
                Reason::Unknown,
                "Invalid proxy server token passed.",
            ));
        }
        if self.limits.blocked {
            let upper = kind[..1].to_ascii_uppercase() + &kind[1..];
            return Some(refuse(
                Reason::Blocked,
                format!("Authentication Error, {upper} is blocked ({who}). Update via `/{kind}/unblock` if you're admin."),
            ));
        }
        if let Some(exp) = self.limits.expires_ms.filter(|e| *e <= now_ms) {
            return Some(refuse(
                Reason::Expired,
                format!(
                    "Authentication Error - Expired Key. Key Expiry time {} and current time {}",
                    time::iso(exp),
                    time::iso(now_ms)
                ),
            ));
        }
        if let Some(m) = model.filter(|m| !self.limits.allows(m)) {
            return Some(refuse(
                Reason::Model,
                format!(
                    "{kind} not allowed to access model. This {kind} can only access models={:?}. Tried to access {m}",
                    self.limits.models
                ),
            ));
        }
        if let Some(max) = self.limits.max_budget.filter(|max| self.spend >= *max) {
            return Some(refuse(
                Reason::Budget,
                format!(
                    "Budget has been exceeded! {who} Current cost: {}, Max budget: {}",
                    self.spend.to_f64(),
                    max.to_f64()
                ),
            ));
        }
        None
    }

    /// Applies `op`. Returns the outcome and whether the state changed (to be stored).
    pub fn apply(&mut self, op: Op) -> (Outcome, bool) {
        let (mut out, dirty) = self.apply_op(op);
        if let Outcome::Refused(r) = &mut out {
            if self.configured && !self.revoked {
                r.limits = Some(Box::new(self.limits.clone()));
            }
        }
        (out, dirty)
    }

    fn apply_op(&mut self, op: Op) -> (Outcome, bool) {
        match op {
            Op::Configure { limits, now_ms } => {
                self.tidy(now_ms);
                if !self.configured {
                    self.configured = true;
                    self.created_ms = now_ms;
                    self.period_start_ms = now_ms;
                } else if limits.budget_duration != self.limits.budget_duration {
                    self.period_start_ms = now_ms;
                }
                if (limits.max_budget, limits.soft_budget)
                    != (self.limits.max_budget, self.limits.soft_budget)
                {
                    // A new budget: its levels are reported afresh.
                    self.alerted.clear();
                }
                self.limits = limits;
                (Outcome::Ok(Box::new(self.snapshot(false))), true)
            }
            Op::Check {
                model,
                require_configured,
                now_ms,
            } => {
                self.tidy(now_ms);
                let out = match self.admissible(model.as_deref(), require_configured, now_ms) {
                    Some(refused) => self.budget_refusal(refused, Usd::ZERO),
                    None => Outcome::Ok(Box::new(self.snapshot(false))),
                };
                (out, true)
            }
            Op::Reserve {
                id,
                amount,
                model,
                require_configured,
                now_ms,
                hold_ms,
            } => {
                self.tidy(now_ms);
                if let Some(refused) = self.admissible(model.as_deref(), require_configured, now_ms)
                {
                    return (self.budget_refusal(refused, amount), true);
                }
                if self.held.contains_key(&id) {
                    return (Outcome::Ok(Box::new(self.snapshot(false))), true);
                }
                let who = self.limits.label.clone().unwrap_or_else(|| "key".into());
                if let Some(max) = self.limits.max_parallel_requests {
                    if self.held.len() as u64 >= max {
                        return (
                            Outcome::Refused(Refusal {
                                reason: Reason::Parallel,
                                message: format!(
                                    "Max parallel request limit reached for {who}. Limit: {max}"
                                ),
                                retry_after_ms: Some(1000),
                                limit: Some(max),
                                crossed: Vec::new(),
                                limits: None,
                            }),
                            true,
                        );
                    }
                }
                let (rpm_used, tpm_used) = self.used();
                if let Some(rpm) = self.limits.rpm_limit.filter(|rpm| rpm_used + 1 > *rpm) {
                    let wait = self.retry_after(now_ms, |r, _| r < rpm);
                    return (
                        Outcome::Refused(Refusal {
                            reason: Reason::Rpm,
                            message: format!(
                                "Rate limit exceeded for {who}. Limit type: requests. Current limit: {rpm}, Remaining: 0. Limit resets at: {}",
                                time::human(now_ms + wait)
                            ),
                            retry_after_ms: Some(wait),
                            limit: Some(rpm),
                            crossed: Vec::new(),
                            limits: None,
                        }),
                        true,
                    );
                }
                if let Some(tpm) = self.limits.tpm_limit.filter(|tpm| tpm_used >= *tpm) {
                    let wait = self.retry_after(now_ms, |_, t| t < tpm);
                    return (
                        Outcome::Refused(Refusal {
                            reason: Reason::Tpm,
                            message: format!(
                                "Rate limit exceeded for {who}. Limit type: tokens. Current limit: {tpm}, Remaining: 0. Limit resets at: {}",
                                time::human(now_ms + wait)
                            ),
                            retry_after_ms: Some(wait),
                            limit: Some(tpm),
                            crossed: Vec::new(),
                            limits: None,
                        }),
                        true,
                    );
                }
                match budget::reserve(&self.budget(), amount) {
                    Ok(b) => self.set_budget(b),
                    Err(e) => {
                        let msg = e
                            .message()
                            .replacen("exceeded!", &format!("exceeded! {who}"), 1);
                        return (
                            self.budget_refusal(refuse(Reason::Budget, msg), amount),
                            true,
                        );
                    }
                }
                let second = now_ms / 1000;
                self.slot(second).requests += 1;
                self.held.insert(
                    id,
                    Hold {
                        amount,
                        until_ms: now_ms.saturating_add(hold_ms),
                        second,
                    },
                );
                (Outcome::Ok(Box::new(self.snapshot(false))), true)
            }
            Op::Settle {
                id,
                cost,
                prompt_tokens,
                completion_tokens,
                model,
                now_ms,
            } => {
                self.tidy(now_ms);
                if self.settled.contains(&id) {
                    return (Outcome::Ok(Box::new(self.snapshot(false))), false);
                }
                let held = self.held.remove(&id).map_or(Usd::ZERO, |h| h.amount);
                self.set_budget(budget::settle(&self.budget(), held, cost, model.as_deref()));
                self.total_spend += cost;
                self.requests += 1;
                self.prompt_tokens += prompt_tokens;
                self.completion_tokens += completion_tokens;
                let tokens = prompt_tokens + completion_tokens;
                self.slot(now_ms / 1000).tokens += tokens;
                let hour = now_ms / 3_600_000;
                if self.hours.back().is_none_or(|h| h.hour < hour) {
                    self.hours.push_back(Hour {
                        hour,
                        ..Hour::default()
                    });
                    while self.hours.len() > HOURS_KEPT {
                        self.hours.pop_front();
                    }
                }
                let h = self.hours.back_mut().expect("just ensured");
                h.spend += cost;
                h.requests += 1;
                h.tokens += tokens;
                self.settled.push_back(id);
                while self.settled.len() > SETTLED_KEPT {
                    self.settled.pop_front();
                }
                let crossed = self.cross(None);
                let mut snap = self.snapshot(false);
                snap.crossed = crossed;
                (Outcome::Ok(Box::new(snap)), true)
            }
            Op::Release { id, now_ms } => {
                self.tidy(now_ms);
                if let Some(h) = self.held.remove(&id) {
                    self.set_budget(budget::release(&self.budget(), h.amount));
                    // A request that never ran does not use up the minute's requests.
                    if let Some(s) = self.window.iter_mut().find(|s| s.second == h.second) {
                        s.requests = s.requests.saturating_sub(1);
                    }
                }
                (Outcome::Ok(Box::new(self.snapshot(false))), true)
            }
            Op::Revoke { now_ms } => {
                self.tidy(now_ms);
                self.revoked = true;
                (Outcome::Ok(Box::new(self.snapshot(false))), true)
            }
            Op::ResetSpend { now_ms } => {
                self.tidy(now_ms);
                self.spend = Usd::ZERO;
                self.model_spend.clear();
                self.period_start_ms = now_ms;
                (Outcome::Ok(Box::new(self.snapshot(false))), true)
            }
            Op::Info { now_ms } => {
                self.tidy(now_ms);
                (Outcome::Ok(Box::new(self.snapshot(true))), false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000_000;

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    fn configured(limits: Limits) -> CounterState {
        let mut s = CounterState::default();
        s.apply(Op::Configure { limits, now_ms: T0 });
        s
    }

    fn reserve(s: &mut CounterState, id: &str, amount: Usd, now_ms: u64) -> Outcome {
        s.apply(Op::Reserve {
            id: id.into(),
            amount,
            model: Some("gpt".into()),
            require_configured: true,
            now_ms,
            hold_ms: DEFAULT_HOLD_MS,
        })
        .0
    }

    fn settle(s: &mut CounterState, id: &str, cost: Usd, tokens: u64, now_ms: u64) -> Outcome {
        s.apply(Op::Settle {
            id: id.into(),
            cost,
            prompt_tokens: tokens,
            completion_tokens: 0,
            model: Some("gpt".into()),
            now_ms,
        })
        .0
    }

    fn reason(o: &Outcome) -> Option<Reason> {
        match o {
            Outcome::Refused(r) => Some(r.reason),
            Outcome::Ok(_) => None,
        }
    }

    #[test]
    fn unknown_keys_are_refused_but_unconfigured_owners_are_not() {
        let mut s = CounterState::default();
        assert_eq!(
            reason(&reserve(&mut s, "a", Usd::ZERO, T0)),
            Some(Reason::Unknown)
        );
        let (o, _) = s.apply(Op::Reserve {
            id: "a".into(),
            amount: usd("5"),
            model: None,
            require_configured: false,
            now_ms: T0,
            hold_ms: 1000,
        });
        assert_eq!(reason(&o), None);
    }

    #[test]
    fn reservations_bound_concurrent_spend_and_settle_books_the_real_cost() {
        let mut s = configured(Limits {
            max_budget: Some(usd("1")),
            ..Default::default()
        });
        assert_eq!(reason(&reserve(&mut s, "a", usd("0.6"), T0)), None);
        let refused = reserve(&mut s, "b", usd("0.6"), T0);
        assert_eq!(reason(&refused), Some(Reason::Budget));
        let Outcome::Refused(r) = refused else {
            unreachable!()
        };
        assert!(
            r.message
                .starts_with("Budget has been exceeded! key Current cost: 0"),
            "{}",
            r.message
        );
        settle(&mut s, "a", usd("0.1"), 10, T0 + 5);
        assert_eq!(
            (s.spend, s.reserved, s.total_spend),
            (usd("0.1"), Usd::ZERO, usd("0.1"))
        );
        assert_eq!(s.model_spend["gpt"], usd("0.1"));
        // A second settle of the same request is not booked again.
        settle(&mut s, "a", usd("0.1"), 10, T0 + 6);
        assert_eq!(s.spend, usd("0.1"));
        assert_eq!(reason(&reserve(&mut s, "b", usd("0.9"), T0 + 7)), None);
        s.apply(Op::Release {
            id: "b".into(),
            now_ms: T0 + 8,
        });
        assert_eq!(s.reserved, Usd::ZERO);
        // Spend at the limit refuses even zero-cost calls (LiteLLM's check).
        settle(&mut s, "c", usd("0.9"), 0, T0 + 9);
        assert_eq!(
            reason(&reserve(&mut s, "d", Usd::ZERO, T0 + 10)),
            Some(Reason::Budget)
        );
    }

    #[test]
    fn budget_duration_resets_spend() {
        let mut s = configured(Limits {
            max_budget: Some(usd("1")),
            budget_duration: Some("1h".into()),
            ..Default::default()
        });
        settle(&mut s, "a", usd("1"), 0, T0 + 1);
        assert_eq!(
            reason(&reserve(&mut s, "b", Usd::ZERO, T0 + 2)),
            Some(Reason::Budget)
        );
        assert_eq!(s.snapshot(false).budget_reset_at_ms, Some(T0 + 3_600_000));
        assert_eq!(
            reason(&reserve(&mut s, "b", usd("0.5"), T0 + 3_600_000)),
            None
        );
        assert_eq!(s.spend, Usd::ZERO);
        assert_eq!(s.total_spend, usd("1"));
    }

    #[test]
    fn expiry_blocking_models_and_revocation() {
        let mut s = configured(Limits {
            models: vec!["gpt".into()],
            expires_ms: Some(T0 + 1000),
            ..Default::default()
        });
        assert_eq!(reason(&reserve(&mut s, "a", Usd::ZERO, T0)), None);
        let (o, _) = s.apply(Op::Check {
            model: Some("claude".into()),
            require_configured: true,
            now_ms: T0,
        });
        assert_eq!(reason(&o), Some(Reason::Model));
        assert_eq!(
            reason(&reserve(&mut s, "b", Usd::ZERO, T0 + 1000)),
            Some(Reason::Expired)
        );
        let mut s = configured(Limits {
            blocked: true,
            ..Default::default()
        });
        assert_eq!(
            reason(&reserve(&mut s, "a", Usd::ZERO, T0)),
            Some(Reason::Blocked)
        );
        s.apply(Op::Revoke { now_ms: T0 });
        assert_eq!(
            reason(&reserve(&mut s, "a", Usd::ZERO, T0)),
            Some(Reason::Unknown)
        );
    }

    #[test]
    fn rpm_is_a_sliding_minute_with_retry_after() {
        let mut s = configured(Limits {
            rpm_limit: Some(2),
            ..Default::default()
        });
        assert_eq!(reason(&reserve(&mut s, "a", Usd::ZERO, T0)), None);
        assert_eq!(reason(&reserve(&mut s, "b", Usd::ZERO, T0 + 10_000)), None);
        let Outcome::Refused(r) = reserve(&mut s, "c", Usd::ZERO, T0 + 20_000) else {
            panic!()
        };
        assert_eq!(
            (r.reason, r.retry_after_ms, r.limit),
            (Reason::Rpm, Some(40_000), Some(2))
        );
        assert!(
            r.message
                .contains("Limit type: requests. Current limit: 2, Remaining: 0"),
            "{}",
            r.message
        );
        // A released (never run) request gives its slot back.
        s.apply(Op::Release {
            id: "b".into(),
            now_ms: T0 + 20_000,
        });
        assert_eq!(reason(&reserve(&mut s, "c", Usd::ZERO, T0 + 20_000)), None);
        assert_eq!(
            reason(&reserve(&mut s, "d", Usd::ZERO, T0 + 59_999)),
            Some(Reason::Rpm)
        );
        assert_eq!(reason(&reserve(&mut s, "d", Usd::ZERO, T0 + 60_000)), None);
    }

    #[test]
    fn tpm_counts_settled_tokens() {
        let mut s = configured(Limits {
            tpm_limit: Some(100),
            ..Default::default()
        });
        reserve(&mut s, "a", Usd::ZERO, T0);
        settle(&mut s, "a", Usd::ZERO, 100, T0 + 5_000);
        let Outcome::Refused(r) = reserve(&mut s, "b", Usd::ZERO, T0 + 6_000) else {
            panic!()
        };
        assert_eq!((r.reason, r.retry_after_ms), (Reason::Tpm, Some(59_000)));
        assert_eq!(reason(&reserve(&mut s, "b", Usd::ZERO, T0 + 65_000)), None);
    }

    #[test]
    fn parallel_limit_and_abandoned_holds() {
        let mut s = configured(Limits {
            max_parallel_requests: Some(1),
            max_budget: Some(usd("1")),
            ..Default::default()
        });
        assert_eq!(reason(&reserve(&mut s, "a", usd("1"), T0)), None);
        assert_eq!(
            reason(&reserve(&mut s, "b", Usd::ZERO, T0)),
            Some(Reason::Parallel)
        );
        // The hold expires: its reservation is released.
        assert_eq!(
            reason(&reserve(&mut s, "b", usd("1"), T0 + DEFAULT_HOLD_MS)),
            None
        );
        assert_eq!(s.reserved, usd("1"));
        // The late settle of "a" is still booked, once.
        settle(&mut s, "a", usd("0.25"), 0, T0 + DEFAULT_HOLD_MS + 1);
        assert_eq!((s.spend, s.reserved), (usd("0.25"), usd("1")));
    }

    fn levels(o: &Outcome) -> Vec<Level> {
        let crossed = match o {
            Outcome::Ok(s) => &s.crossed,
            Outcome::Refused(r) => &r.crossed,
        };
        crossed.iter().map(|c| c.level).collect()
    }

    #[test]
    fn budget_levels_are_reported_once_per_period() {
        let mut s = configured(Limits {
            max_budget: Some(usd("1")),
            soft_budget: Some(usd("0.5")),
            budget_duration: Some("1h".into()),
            ..Default::default()
        });
        reserve(&mut s, "a", usd("0.1"), T0);
        assert!(levels(&settle(&mut s, "a", usd("0.4"), 0, T0)).is_empty());
        reserve(&mut s, "b", usd("0.1"), T0);
        let o = settle(&mut s, "b", usd("0.1"), 0, T0);
        assert_eq!(levels(&o), [Level::SoftBudget]);
        let Outcome::Ok(snap) = &o else {
            unreachable!()
        };
        assert_eq!(
            snap.crossed[0],
            Crossing {
                level: Level::SoftBudget,
                spend: usd("0.5"),
                max_budget: Some(usd("1")),
                soft_budget: Some(usd("0.5")),
                refused: None,
            }
        );
        // Past the soft budget again: already reported.
        reserve(&mut s, "c", usd("0.1"), T0);
        assert!(levels(&settle(&mut s, "c", usd("0.1"), 0, T0)).is_empty());
        // 0.6 → 0.96: only the highest threshold is reported, and 85% never after it.
        reserve(&mut s, "d", usd("0.1"), T0);
        assert_eq!(
            levels(&settle(&mut s, "d", usd("0.36"), 0, T0)),
            [Level::Threshold95]
        );
        // The retried settle of the same request reports nothing again.
        assert!(levels(&settle(&mut s, "d", usd("0.36"), 0, T0)).is_empty());
        // What is left (0.04) cannot pay for a call that may cost 0.05: the budget is used up,
        // reported by the first refusal only.
        let refused = reserve(&mut s, "e", usd("0.05"), T0);
        assert_eq!(reason(&refused), Some(Reason::Budget));
        assert_eq!(levels(&refused), [Level::MaxBudget]);
        let Outcome::Refused(r) = &refused else {
            unreachable!()
        };
        assert_eq!(r.crossed[0].refused, Some(usd("0.05")));
        assert_eq!(r.limits.as_ref().unwrap().soft_budget, Some(usd("0.5")));
        assert!(levels(&reserve(&mut s, "f", usd("0.05"), T0)).is_empty());
        // A call that fits is admitted and does not report.
        assert!(levels(&reserve(&mut s, "g", usd("0.01"), T0)).is_empty());
        // A new period re-arms every level.
        let later = T0 + 3_600_000;
        reserve(&mut s, "h", usd("0.1"), later);
        assert_eq!(
            levels(&settle(&mut s, "h", usd("1"), 0, later)),
            [Level::SoftBudget, Level::MaxBudget]
        );
        assert!(levels(&reserve(&mut s, "i", Usd::ZERO, later)).is_empty());
    }

    #[test]
    fn refusals_under_contention_are_no_exhaustion_and_a_new_budget_rearms() {
        let mut s = configured(Limits {
            max_budget: Some(usd("1")),
            ..Default::default()
        });
        assert!(levels(&reserve(&mut s, "a", usd("0.8"), T0)).is_empty());
        // Refused only because of the call in flight: not reported.
        let o = reserve(&mut s, "b", usd("0.5"), T0);
        assert_eq!(reason(&o), Some(Reason::Budget));
        assert!(levels(&o).is_empty());
        assert_eq!(
            levels(&settle(&mut s, "a", usd("1"), 0, T0)),
            [Level::MaxBudget]
        );
        // Body-less checks at a spent budget are refused without a second report.
        let (o, _) = s.apply(Op::Check {
            model: None,
            require_configured: true,
            now_ms: T0,
        });
        assert_eq!(reason(&o), Some(Reason::Budget));
        assert!(levels(&o).is_empty());
        // Raising the budget re-arms: 85% of the new one is reported.
        s.apply(Op::Configure {
            limits: Limits {
                max_budget: Some(usd("1.1")),
                ..Default::default()
            },
            now_ms: T0,
        });
        reserve(&mut s, "c", Usd::ZERO, T0);
        assert_eq!(
            levels(&settle(&mut s, "c", Usd::ZERO, 0, T0)),
            [Level::Threshold85]
        );
        // Huge budgets do not overflow the percentages.
        let mut big = configured(Limits {
            max_budget: Some(Usd::MAX),
            ..Default::default()
        });
        reserve(&mut big, "a", Usd::ZERO, T0);
        assert!(levels(&settle(&mut big, "a", Usd::from_pico(u64::MAX / 2), 0, T0)).is_empty());
        assert_eq!(Level::Threshold95.event(), "threshold_crossed");
    }

    #[test]
    fn hourly_history_and_state_round_trips_as_json() {
        let mut s = configured(Limits::default());
        settle(&mut s, "a", usd("0.5"), 3, T0);
        settle(&mut s, "b", usd("0.25"), 4, T0 + 3_600_000);
        let Outcome::Ok(snap) = s
            .apply(Op::Info {
                now_ms: T0 + 3_600_001,
            })
            .0
        else {
            panic!()
        };
        assert_eq!(snap.hours.len(), 2);
        assert_eq!(snap.hours[1].spend, usd("0.25"));
        assert_eq!((snap.requests, snap.prompt_tokens), (2, 7));
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<CounterState>(&text).unwrap(), s);
        let op = Op::Info { now_ms: 1 };
        assert_eq!(
            serde_json::to_value(&op).unwrap(),
            serde_json::json!({"op": "info", "now_ms": 1})
        );
    }
}
