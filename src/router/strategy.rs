//! Picking one deployment of a model group. Pure: the random draw is passed in.

use serde_json::Value;

use super::health::Health;
use super::policy::Strategy;
use crate::config::Deployment;
use crate::cost::{price_for, PriceOverrides, Usd};

/// Index of `draw` ∈ [0, 1) among `n` equally likely choices.
fn uniform(draw: f64, n: usize) -> usize {
    ((draw.clamp(0.0, 1.0) * n as f64) as usize).min(n.saturating_sub(1))
}

/// Weighted choice: index `i` with probability `weights[i] / Σ weights`; uniform when every
/// weight is zero.
///
/// ```
/// use edgellm::router::strategy::weighted;
/// assert_eq!(weighted(&[1.0, 3.0], 0.2), 0);
/// assert_eq!(weighted(&[1.0, 3.0], 0.3), 1);
/// assert_eq!(weighted(&[0.0, 0.0], 0.6), 1);
/// ```
pub fn weighted(weights: &[f64], draw: f64) -> usize {
    let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if total <= 0.0 || !total.is_finite() {
        return uniform(draw, weights.len());
    }
    let target = draw.clamp(0.0, 1.0) * total;
    let mut acc = 0.0;
    for (i, w) in weights.iter().enumerate() {
        acc += w.max(0.0);
        if target < acc {
            return i;
        }
    }
    // draw == 1.0 or rounding: the last deployment with weight.
    weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
}

/// Among the indices whose score is lowest (within `buffer` × lowest), one picked by `draw`.
fn lowest(scores: &[f64], draw: f64, buffer: f64) -> usize {
    let best = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let limit = if best.is_finite() {
        best + best.abs() * buffer
    } else {
        best
    };
    let ties: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] <= limit).collect();
    ties[uniform(draw, ties.len())]
}

/// Price per input token plus price per output token of a deployment: its own
/// `input_cost_per_token`/`output_cost_per_token`, else the table's price for
/// `model_info.base_model` or its model. Unknown prices sort last.
pub fn deployment_cost(d: &Deployment) -> Usd {
    let overrides = PriceOverrides::from_map(&d.litellm_params).unwrap_or_default();
    let base = d
        .model_info
        .get("base_model")
        .or_else(|| d.litellm_params.get("base_model"))
        .and_then(Value::as_str);
    base.into_iter()
        .chain(std::iter::once(d.model()))
        .find_map(|m| price_for(m, None, &overrides))
        .and_then(|p| Some(p.input? + p.output?))
        .unwrap_or(Usd::MAX)
}

/// Inputs of one pick besides the candidates.
#[derive(Debug, Clone, Copy)]
pub struct PickContext<'h> {
    /// Deployment health.
    pub health: &'h Health,
    /// The time.
    pub now_ms: u64,
    /// A uniform draw in [0, 1).
    pub draw: f64,
    /// Estimated prompt tokens of the request (usage-based routing checks `tpm` with it).
    pub input_tokens: u64,
    /// Latency-based routing's tolerance (fraction of the fastest).
    pub latency_buffer: f64,
}

/// One score per candidate. Through `&dyn Fn` so that the strategies share one `collect` (a
/// copy of std's collect code per closure otherwise).
fn scores(candidates: &[&Deployment], score: &dyn Fn(&Deployment) -> f64) -> Vec<f64> {
    candidates.iter().map(|d| score(d)).collect()
}

/// Picks one of `candidates` (healthy, non-empty) and returns its index, or `None` when
/// usage-based routing finds every candidate at its `rpm`/`tpm` limit for this minute.
pub fn pick(strategy: Strategy, candidates: &[&Deployment], cx: &PickContext<'_>) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    Some(match strategy {
        Strategy::SimpleShuffle => {
            let by = ["weight", "rpm", "tpm"]
                .into_iter()
                .find(|k| candidates.iter().any(|d| d.litellm_params.contains_key(*k)));
            match by {
                Some(k) => {
                    let w = scores(candidates, &|d| {
                        d.litellm_params
                            .get(k)
                            .and_then(Value::as_f64)
                            .unwrap_or(0.0)
                    });
                    weighted(&w, cx.draw)
                }
                None => uniform(cx.draw, candidates.len()),
            }
        }
        Strategy::LeastBusy => {
            let s = scores(candidates, &|d| f64::from(cx.health.in_flight(&d.id)));
            lowest(&s, cx.draw, 0.0)
        }
        Strategy::LatencyBased => {
            let s = scores(candidates, &|d| cx.health.latency(&d.id));
            lowest(&s, cx.draw, cx.latency_buffer)
        }
        Strategy::CostBased => {
            let s = scores(candidates, &|d| deployment_cost(d).pico() as f64);
            lowest(&s, cx.draw, 0.0)
        }
        Strategy::UsageBased => {
            let mut open = Vec::new();
            let mut tpm_used = Vec::new();
            for (i, d) in candidates.iter().enumerate() {
                let (rpm, tpm) = cx.health.usage(&d.id, cx.now_ms);
                let rpm_ok = d.rpm().is_none_or(|limit| rpm < limit);
                let tpm_ok = d.tpm().is_none_or(|limit| tpm + cx.input_tokens <= limit);
                if rpm_ok && tpm_ok {
                    open.push(i);
                    tpm_used.push(tpm as f64);
                }
            }
            if open.is_empty() {
                return None;
            }
            open[lowest(&tpm_used, cx.draw, 0.0)]
        }
    })
}
