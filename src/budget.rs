//! Budgets: spending limits per user or project, checked before a call and settled after it.
//!
//! The arithmetic is in pure functions over [`BudgetState`] ([`reserve`], [`settle`],
//! [`release`], [`roll_period`], [`worst_case_cost`]) so that the gateway's exact spend tracking
//! can reuse it over its own storage. [`BudgetManager`] is LiteLLM's `BudgetManager` on top of a
//! pluggable [`BudgetStore`] ([`InMemoryStore`] by default).
//!
//! Reserve-then-settle: before a call, the worst case (prompt upper bound × input price +
//! `max_tokens` × output price) is reserved, so concurrent calls cannot overshoot the limit
//! together; after it, the reservation is replaced by the actual cost.
//!
//! ```
//! use edgellm::budget::{BudgetManager, Period};
//! use edgellm::cost::Usd;
//! let m = BudgetManager::in_memory();
//! m.create_budget("alice", Usd::parse("0.01").unwrap(), Period::Daily, 0);
//! let r = m.reserve("alice", Usd::parse("0.004").unwrap(), 0).unwrap();
//! m.settle(r, Usd::parse("0.001").unwrap(), 0);
//! assert_eq!(m.current_cost("alice", 0), Usd::parse("0.001").unwrap());
//! assert!(m.reserve("alice", Usd::parse("0.02").unwrap(), 0).is_err());
//! ```

use std::cell::RefCell;

use crate::cost::{ModelPrice, Usd};
use crate::str_map::StrMap;
use crate::types::ChatRequest;
use crate::{Error, ErrorKind, Result};

const DAY_MS: u64 = 86_400_000;

/// When a budget's spend resets (LiteLLM's `duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Never.
    Never,
    /// Every day (from creation).
    Daily,
    /// Every 7 days.
    Weekly,
    /// Every 30 days (LiteLLM's `monthly`).
    Monthly,
    /// Every 365 days.
    Yearly,
    /// Every `n` milliseconds.
    Every(u64),
}

impl Period {
    /// LiteLLM's names (`daily`, `weekly`, `monthly`, `yearly`) and durations such as `30s`,
    /// `30m`, `12h`, `7d`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad =
            || Error::bad_request(format!("unknown budget duration `{s}`")).with_param("duration");
        Ok(match s {
            "daily" => Period::Daily,
            "weekly" => Period::Weekly,
            "monthly" => Period::Monthly,
            "yearly" => Period::Yearly,
            "" | "never" => Period::Never,
            _ => {
                let (n, unit) = s.split_at(s.len() - 1);
                let n: u64 = n.parse().map_err(|_| bad())?;
                let ms = match unit {
                    "s" => 1000,
                    "m" => 60_000,
                    "h" => 3_600_000,
                    "d" => DAY_MS,
                    _ => return Err(bad()),
                };
                Period::Every(n.checked_mul(ms).filter(|ms| *ms > 0).ok_or_else(bad)?)
            }
        })
    }

    /// Length in milliseconds, `None` for [`Period::Never`].
    pub fn millis(self) -> Option<u64> {
        match self {
            Period::Never => None,
            Period::Daily => Some(DAY_MS),
            Period::Weekly => Some(7 * DAY_MS),
            Period::Monthly => Some(30 * DAY_MS),
            Period::Yearly => Some(365 * DAY_MS),
            Period::Every(ms) => Some(ms),
        }
    }
}

/// One budget's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetState {
    /// The limit per period.
    pub limit: Usd,
    /// Settled spend in the current period.
    pub spent: Usd,
    /// Reserved for calls in flight.
    pub reserved: Usd,
    /// Reset period.
    pub period: Period,
    /// Start of the current period (ms since the epoch).
    pub period_start_ms: u64,
    /// Spend per model in the current period (LiteLLM's `model_cost`).
    pub per_model: StrMap<Usd>,
}

impl BudgetState {
    /// A fresh budget.
    pub fn new(limit: Usd, period: Period, now_ms: u64) -> Self {
        Self {
            limit,
            spent: Usd::ZERO,
            reserved: Usd::ZERO,
            period,
            period_start_ms: now_ms,
            per_model: StrMap::new(),
        }
    }

    /// What is left to reserve.
    pub fn available(&self) -> Usd {
        self.limit.saturating_sub(self.spent + self.reserved)
    }
}

/// Starts a new period if the current one is over: spend resets, reservations in flight stay
/// (they settle into the new period).
pub fn roll_period(state: &BudgetState, now_ms: u64) -> BudgetState {
    let mut s = state.clone();
    if let Some(len) = s.period.millis() {
        if now_ms >= s.period_start_ms.saturating_add(len) {
            let periods = (now_ms - s.period_start_ms) / len;
            s.period_start_ms += periods * len;
            s.spent = Usd::ZERO;
            s.per_model.clear();
        }
    }
    s
}

/// Reserves `amount`, or fails with [`ErrorKind::BudgetExceeded`] (HTTP 402) when it does not
/// fit in what is left.
pub fn reserve(state: &BudgetState, amount: Usd) -> Result<BudgetState> {
    if amount > state.available() {
        return Err(Error::new(
            ErrorKind::BudgetExceeded,
            format!(
                "Budget has been exceeded! Current cost: {}, Max budget: {}, reserved for calls in flight: {}, this call may cost up to {}",
                state.spent.to_f64(),
                state.limit.to_f64(),
                state.reserved.to_f64(),
                amount.to_f64()
            ),
        )
        .with_status(402));
    }
    let mut s = state.clone();
    s.reserved += amount;
    Ok(s)
}

/// Replaces a reservation of `reserved` by the `actual` cost (which may exceed it: the call
/// happened, so it is booked).
pub fn settle(state: &BudgetState, reserved: Usd, actual: Usd, model: Option<&str>) -> BudgetState {
    let mut s = state.clone();
    s.reserved = s.reserved.saturating_sub(reserved);
    s.spent += actual;
    if let Some(m) = model {
        *s.per_model.get_or_default(m) += actual;
    }
    s
}

/// Drops a reservation without spending (the call failed before costing anything).
pub fn release(state: &BudgetState, reserved: Usd) -> BudgetState {
    settle(state, reserved, Usd::ZERO, None)
}

/// The most a chat call can cost: every prompt byte as a token (a token is at least one
/// byte of text, so this bounds the prompt without a tokenizer, capped at the context window)
/// plus the output limit (`max_completion_tokens`/`max_tokens`, else the model's) at the
/// output price.
pub fn worst_case_cost(price: &ModelPrice, req: &ChatRequest) -> Usd {
    let prompt_bytes: u64 = req
        .messages
        .iter()
        .map(|m| serde_json::to_vec(m).map_or(0, |v| v.len() as u64))
        .sum();
    let prompt = price
        .max_input_tokens
        .map_or(prompt_bytes, |max| prompt_bytes.min(max));
    let output = req
        .output_limit()
        .map(u64::from)
        .or(price.max_output_tokens)
        .unwrap_or(0);
    let input_rate = [
        price.input,
        price.cache_write,
        price.tier.and_then(|t| t.input),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or_default();
    let output_rate = [
        price.output,
        price.reasoning,
        price.tier.and_then(|t| t.output),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or_default();
    input_rate.times(prompt) + output_rate.times(output)
}

/// [`worst_case_cost`] for a request to `model` (provider-prefixed or bare), from the price
/// table; fails with [`ErrorKind::NotFound`] when the model has no price.
pub fn worst_case_for(req: &ChatRequest, provider: Option<&str>) -> Result<Usd> {
    let price = crate::cost::lookup_or_err(&req.model, provider)?;
    Ok(worst_case_cost(&price, req))
}

/// Where budgets live.
pub trait BudgetStore {
    /// The budget of `id`.
    fn get(&self, id: &str) -> Option<BudgetState>;
    /// Stores the budget of `id`.
    fn put(&self, id: &str, state: BudgetState);
    /// Removes the budget of `id`.
    fn remove(&self, id: &str);
    /// Every id with a budget.
    fn ids(&self) -> Vec<String>;
}

/// Budgets in memory (one process / isolate).
#[derive(Debug, Default)]
pub struct InMemoryStore {
    map: RefCell<StrMap<BudgetState>>,
}

impl BudgetStore for InMemoryStore {
    fn get(&self, id: &str) -> Option<BudgetState> {
        self.map.borrow().get(id).cloned()
    }
    fn put(&self, id: &str, state: BudgetState) {
        self.map.borrow_mut().insert(id.to_string(), state);
    }
    fn remove(&self, id: &str) {
        self.map.borrow_mut().remove(id);
    }
    fn ids(&self) -> Vec<String> {
        self.map.borrow().keys().map(str::to_string).collect()
    }
}

/// A reservation to settle or release.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "settle or release the reservation"]
pub struct Reservation {
    /// Whose budget.
    pub id: String,
    /// How much was reserved.
    pub amount: Usd,
}

/// LiteLLM's `BudgetManager`: per-user (or project) budgets with reserve-then-settle.
#[derive(Debug)]
pub struct BudgetManager<S: BudgetStore = InMemoryStore> {
    store: S,
}

impl BudgetManager<InMemoryStore> {
    /// A manager keeping budgets in memory.
    pub fn in_memory() -> Self {
        Self::new(InMemoryStore::default())
    }
}

impl<S: BudgetStore> BudgetManager<S> {
    /// A manager over `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn current(&self, id: &str, now_ms: u64) -> Option<BudgetState> {
        let s = self.store.get(id)?;
        let rolled = roll_period(&s, now_ms);
        if rolled != s {
            self.store.put(id, rolled.clone());
        }
        Some(rolled)
    }

    /// Creates (or replaces) the budget of `id`.
    pub fn create_budget(&self, id: &str, limit: Usd, period: Period, now_ms: u64) {
        self.store.put(id, BudgetState::new(limit, period, now_ms));
    }

    /// Whether `id` has a budget.
    pub fn is_valid_user(&self, id: &str) -> bool {
        self.store.get(id).is_some()
    }

    /// Every id with a budget.
    pub fn get_users(&self) -> Vec<String> {
        self.store.ids()
    }

    /// The limit of `id` (zero without a budget).
    pub fn total_budget(&self, id: &str) -> Usd {
        self.store.get(id).map_or(Usd::ZERO, |s| s.limit)
    }

    /// Settled spend of `id` in the current period.
    pub fn current_cost(&self, id: &str, now_ms: u64) -> Usd {
        self.current(id, now_ms).map_or(Usd::ZERO, |s| s.spent)
    }

    /// Settled spend of `id` per model in the current period.
    pub fn model_cost(&self, id: &str, now_ms: u64) -> StrMap<Usd> {
        self.current(id, now_ms)
            .map(|s| s.per_model)
            .unwrap_or_default()
    }

    /// Reserves `amount` on `id`'s budget. Ids without a budget are not limited.
    pub fn reserve(&self, id: &str, amount: Usd, now_ms: u64) -> Result<Reservation> {
        if let Some(s) = self.current(id, now_ms) {
            self.store.put(id, reserve(&s, amount)?);
            Ok(Reservation {
                id: id.to_string(),
                amount,
            })
        } else {
            Ok(Reservation {
                id: id.to_string(),
                amount: Usd::ZERO,
            })
        }
    }

    /// Books the `actual` cost of a reserved call.
    pub fn settle(&self, r: Reservation, actual: Usd, now_ms: u64) {
        self.settle_for_model(r, actual, None, now_ms)
    }

    /// [`BudgetManager::settle`], also counting the spend under `model`.
    pub fn settle_for_model(&self, r: Reservation, actual: Usd, model: Option<&str>, now_ms: u64) {
        if let Some(s) = self.current(&r.id, now_ms) {
            self.store.put(&r.id, settle(&s, r.amount, actual, model));
        }
    }

    /// Releases a reservation without spending.
    pub fn release(&self, r: Reservation, now_ms: u64) {
        self.settle(r, Usd::ZERO, now_ms)
    }

    /// Adds spend without a reservation (LiteLLM's `update_cost`).
    pub fn update_cost(&self, id: &str, cost: Usd, model: Option<&str>, now_ms: u64) {
        if let Some(s) = self.current(id, now_ms) {
            self.store.put(id, settle(&s, Usd::ZERO, cost, model));
        }
    }

    /// Clears the spend of `id` (LiteLLM's `reset_cost`).
    pub fn reset_cost(&self, id: &str, now_ms: u64) {
        if let Some(mut s) = self.store.get(id) {
            s.spent = Usd::ZERO;
            s.per_model.clear();
            s.period_start_ms = now_ms;
            self.store.put(id, s);
        }
    }

    /// Whether `amount` more would still fit (LiteLLM's `projected_cost` check).
    pub fn fits(&self, id: &str, amount: Usd, now_ms: u64) -> bool {
        self.current(id, now_ms)
            .is_none_or(|s| amount <= s.available())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::lookup;

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    #[test]
    fn concurrent_reservations_cannot_overshoot() {
        let s = BudgetState::new(usd("1"), Period::Never, 0);
        let s = reserve(&s, usd("0.6")).unwrap();
        let e = reserve(&s, usd("0.6")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BudgetExceeded);
        assert_eq!(e.status(), 402);
        let s = settle(&s, usd("0.6"), usd("0.1"), Some("gpt-4o"));
        assert_eq!(s.reserved, Usd::ZERO);
        assert_eq!(s.spent, usd("0.1"));
        assert_eq!(s.available(), usd("0.9"));
        let s = release(&reserve(&s, usd("0.9")).unwrap(), usd("0.9"));
        assert_eq!(s.available(), usd("0.9"));
    }

    #[test]
    fn periods_roll_over() {
        let s = settle(
            &BudgetState::new(usd("1"), Period::Daily, 1000),
            Usd::ZERO,
            usd("1"),
            None,
        );
        assert_eq!(roll_period(&s, 1000 + DAY_MS - 1).spent, usd("1"));
        let r = roll_period(&s, 1000 + 3 * DAY_MS + 5);
        assert_eq!(r.spent, Usd::ZERO);
        assert_eq!(r.period_start_ms, 1000 + 3 * DAY_MS);
        assert_eq!(Period::parse("30m").unwrap().millis(), Some(1_800_000));
        assert_eq!(Period::parse("monthly").unwrap(), Period::Monthly);
        assert!(Period::parse("3w").is_err());
        assert!(Period::parse("0d").is_err());
    }

    #[test]
    fn worst_case_bounds_the_real_cost() {
        let p = lookup("gpt-4o-mini", None).unwrap();
        let mut req = ChatRequest::user("gpt-4o-mini", "Hello there");
        req.max_tokens = Some(100);
        let worst = worst_case_cost(&p, &req);
        // Real cost of this call is at most ~10 prompt tokens + 100 output tokens.
        let real = p.input.unwrap().times(10) + p.output.unwrap().times(100);
        assert!(worst >= real, "{worst} < {real}");
        assert!(worst < real.times(10));
        // Without max_tokens, the model's output limit bounds it.
        req.max_tokens = None;
        let bytes = serde_json::to_vec(&req.messages[0]).unwrap().len() as u64;
        assert_eq!(
            worst_case_cost(&p, &req),
            p.input.unwrap().times(bytes) + p.output.unwrap().times(16_384)
        );
    }

    /// The in-memory store lists users in name order; creating a budget again replaces it.
    #[test]
    fn store_lists_users_in_order_and_replaces() {
        let m = BudgetManager::in_memory();
        for (u, limit) in [("carol", "3"), ("alice", "1"), ("bob", "2")] {
            m.create_budget(u, usd(limit), Period::Never, 0);
        }
        assert_eq!(m.get_users(), ["alice", "bob", "carol"]);
        m.create_budget("alice", usd("5"), Period::Never, 0);
        assert_eq!(m.total_budget("alice"), usd("5"));
        m.store().remove("bob");
        assert!(!m.is_valid_user("bob"));
        assert_eq!(m.total_budget("carol"), usd("3"));
        assert_eq!(m.get_users(), ["alice", "carol"]);
    }

    /// Spend per model adds up per name and lists in name order (`getModelCost`'s key order).
    #[test]
    fn per_model_spend_adds_up_in_model_order() {
        let mut s = BudgetState::new(usd("10"), Period::Daily, 0);
        for (m, c) in [("gpt-4o", "0.5"), ("claude", "0.25"), ("gpt-4o", "1")] {
            s = settle(&s, Usd::ZERO, usd(c), Some(m));
        }
        s = settle(&s, Usd::ZERO, usd("2"), None);
        let spend: Vec<(&str, Usd)> = s.per_model.iter().map(|(m, c)| (m.as_str(), *c)).collect();
        assert_eq!(spend, [("claude", usd("0.25")), ("gpt-4o", usd("1.5"))]);
        assert_eq!(s.spent, usd("3.75"));
        assert!(roll_period(&s, DAY_MS).per_model.is_empty());
    }

    #[test]
    fn manager_flow() {
        let m = BudgetManager::in_memory();
        assert!(
            m.reserve("nobody", usd("100"), 0).is_ok(),
            "no budget: unlimited"
        );
        m.create_budget("u", usd("0.5"), Period::Every(1000), 0);
        assert!(m.is_valid_user("u"));
        let r = m.reserve("u", usd("0.4"), 0).unwrap();
        assert!(!m.fits("u", usd("0.2"), 0));
        m.settle_for_model(r, usd("0.3"), Some("gpt-4o"), 10);
        assert_eq!(m.current_cost("u", 10), usd("0.3"));
        assert_eq!(m.model_cost("u", 10)["gpt-4o"], usd("0.3"));
        m.update_cost("u", usd("0.2"), None, 20);
        assert!(m.reserve("u", usd("0.01"), 20).is_err());
        assert_eq!(m.current_cost("u", 1000), Usd::ZERO, "new period");
        m.update_cost("u", usd("0.2"), None, 1000);
        m.reset_cost("u", 1001);
        assert_eq!(m.current_cost("u", 1001), Usd::ZERO);
        assert_eq!(m.get_users(), ["u"]);
    }
}
