//! Retry policy: which errors are retried and how long to wait. Pure: the caller sleeps.

use crate::Error;

/// Backoff before retry number `attempt` (0 = the first retry): exponential from 500 ms, capped
/// at 8 s, with ±25 % jitter from `random` in `[0, 1)`. A provider's `Retry-After` wins when it is
/// longer (capped at 60 s so one header cannot stall a call).
///
/// ```
/// let e = edgellm::Error::new(edgellm::ErrorKind::RateLimited, "x").with_retry_after_ms(3000);
/// assert_eq!(edgellm::retry::backoff_ms(0, Some(&e), 0.5), 3000);
/// assert_eq!(edgellm::retry::backoff_ms(1, None, 0.5), 1000);
/// ```
pub fn backoff_ms(attempt: u32, error: Option<&Error>, random: f64) -> u64 {
    let base = 500u64.saturating_mul(1u64 << attempt.min(16)).min(8_000) as f64;
    let jittered = (base * (0.75 + 0.5 * random.clamp(0.0, 1.0))) as u64;
    match error.and_then(Error::retry_after_ms) {
        Some(ra) => ra.min(60_000).max(jittered.min(ra)),
        None => jittered,
    }
}

/// Whether `error` should be retried on the same deployment.
pub fn should_retry(error: &Error) -> bool {
    error.kind().is_retryable()
}
