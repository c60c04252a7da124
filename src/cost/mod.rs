//! Cost tracking: our own price table, exact integer arithmetic, and the helpers that attach a
//! cost to every response (`_hidden_params.response_cost` in JS, callbacks, budgets, the
//! gateway's spend).
//!
//! Prices live in `prices.tsv` (embedded, ~900 models across the supported providers; see the
//! header of that file for units and sources). Amounts are [`Usd`]: integer pico-dollars, so sums
//! over many calls are exact; floats appear only at the JS/JSON edge.
//!
//! ```
//! use edgellm::{cost, types::Usage};
//! // gpt-4o-mini: $0.15 in / $0.60 out per 1M tokens.
//! let usd = cost::completion_cost(&Usage::new(2000, 1000), "gpt-4o-mini", None, &Default::default()).unwrap();
//! assert_eq!(usd.to_f64(), 0.0009);
//! ```

mod calc;
mod money;
mod table;

pub use calc::{
    completion_cost, completion_cost_detailed, cost_per_token, image_cost, price_for, time_cost,
    usage_cost, CostBreakdown, PriceOverrides,
};
pub use money::{Usd, PICO_PER_USD};
pub use table::{
    all_builtin, builtin_errors, lookup, lookup_or_err, parse_row, parse_table, register_model,
    table_errors, Mode, ModelPrice, Tier, COLUMNS,
};

use serde_json::Value;

use crate::engine::{CallMeta, Completion, WireCompletion};
use crate::options::CallOptions;
use crate::types::Usage;
use crate::Result;

/// LiteLLM's `get_model_info`: the entry for `model` in LiteLLM's shape (per-token prices as
/// float dollars, `max_input_tokens`, `litellm_provider`, `mode`, …).
///
/// ```
/// let info = edgellm::cost::get_model_info("groq/llama-3.3-70b-versatile", None).unwrap();
/// assert_eq!(info["litellm_provider"], "groq");
/// assert_eq!(info["input_cost_per_token"], 5.9e-7);
/// ```
pub fn get_model_info(model: &str, provider: Option<&str>) -> Result<Value> {
    lookup_or_err(model, provider).map(|p| p.to_litellm_json())
}

/// The price overrides and the `base_model` (Azure deployments named by the user are priced as
/// the model they run) that a call's options carry.
fn call_pricing(opts: &CallOptions) -> (PriceOverrides, Option<&str>) {
    // Invalid override values were rejected when the options were parsed; here they only
    // price, so a bad one means "no override".
    let overrides = PriceOverrides::from_map(&opts.extra).unwrap_or_default();
    (overrides, opts.extra_str("base_model"))
}

/// The cost of a call from its facts: tries `base_model`, then the provider-side model, then
/// the model the provider says answered. `None` when none of them has a price.
pub fn call_cost(
    meta: &CallMeta,
    response_model: Option<&str>,
    usage: Option<&Usage>,
    opts: &CallOptions,
) -> Option<Usd> {
    let (overrides, base_model) = call_pricing(opts);
    if overrides.input_cost_per_second.is_some() || overrides.output_cost_per_second.is_some() {
        return Some(time_cost(
            &overrides,
            meta.end_ms.saturating_sub(meta.start_ms),
        ));
    }
    let usage = usage?;
    // The mock provider answers "as" the requested model, which is what gets priced.
    let provider = Some(meta.provider.as_str()).filter(|p| !p.is_empty() && *p != "mock");
    let candidates = [base_model, Some(meta.model.as_str()), response_model];
    candidates
        .into_iter()
        .flatten()
        .filter(|m| !m.is_empty())
        .find_map(|m| price_for(m, provider, &overrides))
        .map(|p| usage_cost(&p, usage).total())
}

/// The cost of a finished non-streaming call (`_hidden_params.response_cost`).
///
/// ```
/// # use edgellm::{engine, testing::MockHost, ChatRequest, CallOptions, host::NoEnv, cost};
/// let opts = CallOptions { mock_response: Some("Hi there".into()), ..Default::default() };
/// let c = futures_executor::block_on(engine::completion(&MockHost::new(), &NoEnv,
///     ChatRequest::user("openai/gpt-4o", "Hello"), opts.clone())).unwrap();
/// // mock usage: 2 prompt tokens, 2 completion tokens at $2.50 / $10 per 1M.
/// assert_eq!(cost::response_cost(&c, &opts).unwrap().pico(), 2 * 2_500_000 + 2 * 10_000_000);
/// ```
pub fn response_cost(c: &Completion, opts: &CallOptions) -> Option<Usd> {
    call_cost(
        &c.meta,
        Some(c.response.model.as_str()),
        c.response.usage.as_ref(),
        opts,
    )
}

/// [`response_cost`] for a call answered as text ([`engine::completion_wire`](crate::engine::completion_wire)).
pub fn wire_cost(c: &WireCompletion, opts: &CallOptions) -> Option<Usd> {
    call_cost(&c.meta, Some(c.model.as_str()), c.usage.as_ref(), opts)
}

/// The cost of a finished stream, from the final usage the stream recorded (the core asks
/// OpenAI-compatible providers for usage even when the caller did not).
pub fn stream_cost(meta: &CallMeta, usage: Option<&Usage>, opts: &CallOptions) -> Option<Usd> {
    call_cost(meta, None, usage, opts)
}
