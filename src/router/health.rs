//! What the router remembers about each deployment: recent failures and cooldowns, requests in
//! flight, latency, and this minute's usage. Pure: every method takes `now_ms`.

use crate::str_map::StrMap;
use crate::{Error, ErrorKind};

/// One minute, the window of `allowed_fails` and of rpm/tpm limits.
pub const MINUTE_MS: u64 = 60_000;
/// Latency samples kept per deployment (LiteLLM keeps a short rolling list too).
const LATENCY_SAMPLES: usize = 10;
/// The latency recorded for a timed-out call, so latency-based routing avoids the deployment
/// (LiteLLM records a 1000 s penalty).
pub const TIMEOUT_PENALTY_MS: f64 = 1_000_000.0;

/// When a failing deployment is taken out of rotation.
#[derive(Debug, Clone, PartialEq)]
pub struct CooldownRules {
    /// Failures allowed per minute; one more cools the deployment down (LiteLLM's
    /// `allowed_fails`, default 3).
    pub allowed_fails: u32,
    /// Per error kind, replacing `allowed_fails` (LiteLLM's `allowed_fails_policy`).
    pub allowed_fails_by_kind: Vec<(ErrorKind, u32)>,
    /// How long a cooldown lasts (LiteLLM's `cooldown_time`, default 5 s). A longer
    /// `Retry-After` from the provider wins, up to [`MAX_RETRY_AFTER_COOLDOWN_MS`].
    pub cooldown_ms: u64,
}

/// The longest cooldown a provider's `Retry-After` may ask for.
pub const MAX_RETRY_AFTER_COOLDOWN_MS: u64 = 60_000;

impl Default for CooldownRules {
    fn default() -> Self {
        Self {
            allowed_fails: 3,
            allowed_fails_by_kind: Vec::new(),
            cooldown_ms: 5_000,
        }
    }
}

impl CooldownRules {
    fn allowed_for(&self, kind: ErrorKind) -> u32 {
        self.allowed_fails_by_kind
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(self.allowed_fails, |(_, n)| *n)
    }
}

/// Whether an error says something about the deployment (rather than about the request).
///
/// LiteLLM's `_is_cooldown_required`: 429, 401, 408 and 404 count, other 4xx do not (a bad
/// request fails on every deployment), 5xx and transport failures count.
pub fn counts_against_deployment(e: &Error) -> bool {
    use ErrorKind::*;
    match e.kind() {
        RateLimited | Authentication | Timeout | NotFound => true,
        InternalServer | BadGateway | ServiceUnavailable | Connection | Decode => true,
        BadRequest
        | UnsupportedParams
        | ContextWindowExceeded
        | ContentPolicyViolation
        | BudgetExceeded
        | PermissionDenied
        | UnprocessableEntity
        | Cancelled => false,
    }
}

#[derive(Debug, Clone, Default)]
struct DeploymentHealth {
    /// Times of counted failures within the last minute. `Vec`s here, not `VecDeque`s: both
    /// stay short, and each `VecDeque` element type brought its own copy of its code.
    fails: Vec<u64>,
    /// Cooled down until this time (exclusive).
    cooldown_until: u64,
    in_flight: u32,
    /// Recent latencies: ms per output token, or ms to the first chunk for streams.
    latencies: Vec<f64>,
    /// Calendar minute (`now / 60 000`) the counters below belong to.
    minute: u64,
    rpm: u64,
    tpm: u64,
}

impl DeploymentHealth {
    /// Records a latency, keeping the last [`LATENCY_SAMPLES`].
    fn push_latency(&mut self, ms: f64) {
        self.latencies.push(ms);
        if self.latencies.len() > LATENCY_SAMPLES {
            self.latencies.remove(0);
        }
    }

    fn roll_minute(&mut self, now_ms: u64) {
        let minute = now_ms / MINUTE_MS;
        if minute != self.minute {
            self.minute = minute;
            self.rpm = 0;
            self.tpm = 0;
        }
    }
}

/// Health of every deployment a router knows, keyed by deployment id.
#[derive(Debug, Clone, Default)]
pub struct Health {
    // A `StrMap`, not a `HashMap`: a router has tens of deployments, and a hash table of its
    // own type brought ~3 KB of hashbrown code into the wasm.
    map: StrMap<DeploymentHealth>,
}

impl Health {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, id: &str) -> &mut DeploymentHealth {
        // The id is copied only for a deployment's first record.
        self.map.get_or_default(id)
    }

    /// Whether `id` is cooling down at `now_ms`.
    pub fn is_cooling_down(&self, id: &str, now_ms: u64) -> bool {
        self.cooldown_remaining_ms(id, now_ms).is_some()
    }

    /// Time left in `id`'s cooldown, if any.
    pub fn cooldown_remaining_ms(&self, id: &str, now_ms: u64) -> Option<u64> {
        self.map
            .get(id)
            .map(|h| h.cooldown_until)
            .filter(|&until| until > now_ms)
            .map(|until| until - now_ms)
    }

    /// Deployments cooling down at `now_ms`, with the time left (`/health`, debugging).
    pub fn cooldowns(&self, now_ms: u64) -> Vec<(String, u64)> {
        // In id order, as the map keeps its keys.
        self.map
            .iter()
            .filter(|(_, h)| h.cooldown_until > now_ms)
            .map(|(id, h)| (id.clone(), h.cooldown_until - now_ms))
            .collect()
    }

    /// A call to `id` starts: one more in flight, one more request this minute.
    pub fn record_start(&mut self, id: &str, now_ms: u64) {
        let h = self.entry(id);
        h.roll_minute(now_ms);
        h.in_flight += 1;
        h.rpm += 1;
    }

    /// A call to `id` stays in flight past its routing (a stream being read); pairs with
    /// [`Health::record_end`].
    pub fn record_hold(&mut self, id: &str) {
        self.entry(id).in_flight += 1;
    }

    /// A call to `id` ended (either way); pairs with [`Health::record_start`].
    pub fn record_end(&mut self, id: &str) {
        let h = self.entry(id);
        h.in_flight = h.in_flight.saturating_sub(1);
    }

    /// A call to `id` succeeded after `latency_ms` (to the first chunk for streams), producing
    /// `output_tokens` if known.
    pub fn record_success(&mut self, id: &str, latency_ms: u64, output_tokens: Option<u64>) {
        let per_token = match output_tokens {
            Some(n) if n > 0 => latency_ms as f64 / n as f64,
            _ => latency_ms as f64,
        };
        let h = self.entry(id);
        h.push_latency(per_token);
    }

    /// Adds `tokens` to `id`'s usage in the minute of `at_ms` (usage-based routing).
    pub fn record_tokens(&mut self, id: &str, at_ms: u64, tokens: u64) {
        let h = self.entry(id);
        if at_ms / MINUTE_MS == h.minute {
            h.tpm += tokens;
        } else if at_ms / MINUTE_MS > h.minute {
            h.roll_minute(at_ms);
            h.tpm += tokens;
        }
    }

    /// A call to `id` failed with `error` at `now_ms`. Returns whether the deployment was put in
    /// cooldown: when the failures counted in the last minute exceed the allowed number.
    pub fn record_failure(
        &mut self,
        id: &str,
        error: &Error,
        now_ms: u64,
        rules: &CooldownRules,
    ) -> bool {
        let h = self.entry(id);
        if error.kind() == ErrorKind::Timeout {
            h.push_latency(TIMEOUT_PENALTY_MS);
        }
        if !counts_against_deployment(error) {
            return false;
        }
        // The expired ones at the front, as a queue would drop them.
        let expired = h
            .fails
            .iter()
            .take_while(|&&t| t + MINUTE_MS <= now_ms)
            .count();
        h.fails.drain(..expired);
        h.fails.push(now_ms);
        if h.fails.len() as u64 <= u64::from(rules.allowed_for(error.kind())) {
            return false;
        }
        let wait = error
            .retry_after_ms()
            .map_or(0, |ms| ms.min(MAX_RETRY_AFTER_COOLDOWN_MS))
            .max(rules.cooldown_ms);
        h.cooldown_until = h.cooldown_until.max(now_ms + wait);
        h.fails.clear();
        true
    }

    /// Requests in flight to `id`.
    pub fn in_flight(&self, id: &str) -> u32 {
        self.map.get(id).map_or(0, |h| h.in_flight)
    }

    /// Mean recent latency of `id` (ms per output token, or to first chunk), 0 without data so
    /// that new deployments get tried (as in LiteLLM).
    pub fn latency(&self, id: &str) -> f64 {
        self.map
            .get(id)
            .filter(|h| !h.latencies.is_empty())
            .map_or(0.0, |h| {
                h.latencies.iter().sum::<f64>() / h.latencies.len() as f64
            })
    }

    /// (requests, tokens) used by `id` in the minute of `now_ms`.
    pub fn usage(&self, id: &str, now_ms: u64) -> (u64, u64) {
        self.map
            .get(id)
            .filter(|h| h.minute == now_ms / MINUTE_MS)
            .map_or((0, 0), |h| (h.rpm, h.tpm))
    }

    /// Failures counted for `id` in the minute before `now_ms`.
    pub fn recent_failures(&self, id: &str, now_ms: u64) -> usize {
        self.map.get(id).map_or(0, |h| {
            h.fails.iter().filter(|&&t| t + MINUTE_MS > now_ms).count()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e500() -> Error {
        Error::new(ErrorKind::InternalServer, "boom")
    }

    #[test]
    fn cooldown_after_more_than_allowed_fails() {
        let rules = CooldownRules::default();
        let mut h = Health::new();
        for i in 0..3 {
            assert!(!h.record_failure("a", &e500(), 1000 + i, &rules));
        }
        assert!(h.record_failure("a", &e500(), 1003, &rules));
        assert_eq!(h.cooldown_remaining_ms("a", 1003), Some(5000));
        assert!(h.is_cooling_down("a", 6002));
        assert!(!h.is_cooling_down("a", 6003));
    }

    #[test]
    fn failures_older_than_a_minute_do_not_count() {
        let rules = CooldownRules {
            allowed_fails: 1,
            ..Default::default()
        };
        let mut h = Health::new();
        assert!(!h.record_failure("a", &e500(), 0, &rules));
        assert!(!h.record_failure("a", &e500(), MINUTE_MS, &rules));
        assert!(h.record_failure("a", &e500(), MINUTE_MS + 1, &rules));
    }

    #[test]
    fn request_errors_do_not_count() {
        let rules = CooldownRules {
            allowed_fails: 0,
            ..Default::default()
        };
        let mut h = Health::new();
        let bad = Error::new(ErrorKind::ContextWindowExceeded, "long");
        assert!(!h.record_failure("a", &bad, 0, &rules));
        assert!(h.record_failure("a", &Error::new(ErrorKind::RateLimited, "x"), 0, &rules));
    }

    #[test]
    fn retry_after_lengthens_cooldown() {
        let rules = CooldownRules {
            allowed_fails: 0,
            ..Default::default()
        };
        let mut h = Health::new();
        let e = Error::new(ErrorKind::RateLimited, "x").with_retry_after_ms(20_000);
        h.record_failure("a", &e, 0, &rules);
        assert_eq!(h.cooldown_remaining_ms("a", 0), Some(20_000));
        let e = Error::new(ErrorKind::RateLimited, "x").with_retry_after_ms(3_600_000);
        h.record_failure("b", &e, 0, &rules);
        assert_eq!(
            h.cooldown_remaining_ms("b", 0),
            Some(MAX_RETRY_AFTER_COOLDOWN_MS)
        );
    }

    #[test]
    fn usage_resets_each_minute() {
        let mut h = Health::new();
        h.record_start("a", 10);
        h.record_tokens("a", 10, 500);
        assert_eq!(h.usage("a", 59_999), (1, 500));
        assert_eq!(h.usage("a", 60_000), (0, 0));
        h.record_end("a");
        assert_eq!(h.in_flight("a"), 0);
    }
}
