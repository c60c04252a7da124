//! Cost arithmetic: usage × prices, in integer pico-dollars.

use serde_json::{Map, Value};

use super::money::Usd;
use super::table::{lookup, lookup_or_err, Mode, ModelPrice};
use crate::types::Usage;
use crate::{Error, Result};

/// Per-call or per-deployment prices that replace the table's (LiteLLM's `input_cost_per_token`,
/// `output_cost_per_token`, `input_cost_per_second`, `output_cost_per_second`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriceOverrides {
    /// Per input token.
    pub input_cost_per_token: Option<Usd>,
    /// Per output token.
    pub output_cost_per_token: Option<Usd>,
    /// Per second of call time, for input (self-hosted deployments priced by the hour).
    pub input_cost_per_second: Option<Usd>,
    /// Per second of call time, for output.
    pub output_cost_per_second: Option<Usd>,
}

impl PriceOverrides {
    /// Reads the override keys from an options map (`CallOptions::extra`, `litellm_params`).
    ///
    /// ```
    /// let m = serde_json::json!({"input_cost_per_token": 0.000001, "api_key": "x"});
    /// let o = edgellm::cost::PriceOverrides::from_map(m.as_object().unwrap()).unwrap();
    /// assert_eq!(o.input_cost_per_token.unwrap().pico(), 1_000_000);
    /// ```
    pub fn from_map(map: &Map<String, Value>) -> Result<Self> {
        let get = |k: &str| -> Result<Option<Usd>> {
            match map.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_f64()
                    .or_else(|| v.as_str().and_then(|s| crate::num::parse_f64(s.trim())))
                    .and_then(Usd::from_f64)
                    .map(Some)
                    .ok_or_else(|| {
                        Error::bad_request(format!("`{k}` must be a non-negative number"))
                            .with_param(k)
                    }),
            }
        };
        Ok(Self {
            input_cost_per_token: get("input_cost_per_token")?,
            output_cost_per_token: get("output_cost_per_token")?,
            input_cost_per_second: get("input_cost_per_second")?,
            output_cost_per_second: get("output_cost_per_second")?,
        })
    }

    /// Whether no override is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn per_second(&self) -> bool {
        self.input_cost_per_second.is_some() || self.output_cost_per_second.is_some()
    }
}

/// A cost split the way LiteLLM's `cost_per_token` reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CostBreakdown {
    /// Input side (prompt, cache reads and writes, audio in).
    pub prompt: Usd,
    /// Output side (text, reasoning, audio out).
    pub completion: Usd,
}

impl CostBreakdown {
    /// Both sides.
    pub fn total(&self) -> Usd {
        self.prompt + self.completion
    }
}

/// The price entry for `model` with `overrides` applied. Without a table entry, overrides that
/// name both token prices (or a per-second price) make a synthetic one, as LiteLLM allows for
/// custom deployments.
pub fn price_for(
    model: &str,
    provider: Option<&str>,
    overrides: &PriceOverrides,
) -> Option<ModelPrice> {
    let mut price = match lookup(model, provider) {
        Some(p) => p,
        None if overrides.per_second()
            || (overrides.input_cost_per_token.is_some()
                && overrides.output_cost_per_token.is_some()) =>
        {
            let provider = provider.unwrap_or("custom");
            ModelPrice::empty(format!("{provider}/{model}"), provider, Mode::Chat)
        }
        None => return None,
    };
    if let Some(v) = overrides.input_cost_per_token {
        price.input = Some(v);
        // A deployment's own price replaces every input rate the table derived from the list
        // price (cache and tier rates would be the public ones, not the deployment's).
        price.cache_read = None;
        price.cache_write = None;
        price.audio_input = None;
        price.tier = None;
    }
    if let Some(v) = overrides.output_cost_per_token {
        price.output = Some(v);
        price.reasoning = None;
        price.audio_output = None;
        price.tier = None;
    }
    Some(price)
}

/// Cost of `usage` at `price`.
///
/// `prompt_tokens` is taken to include cache reads, cache writes and audio input (OpenAI's and
/// LiteLLM's convention); each of those is priced at its own rate, the rest at the input rate.
/// `completion_tokens` includes reasoning and audio output; those are priced apart only when the
/// model prices them apart. Above a tier's threshold the tier's rates apply to the whole call.
///
/// ```
/// use edgellm::{cost, types::Usage};
/// let p = cost::lookup("openai/gpt-4o", None).unwrap(); // $2.50 / $10 per 1M
/// let c = cost::usage_cost(&p, &Usage::new(1000, 500));
/// assert_eq!(c.total().to_f64(), 0.0075);
/// ```
pub fn usage_cost(price: &ModelPrice, usage: &Usage) -> CostBreakdown {
    let tier = price.tier.filter(|t| usage.prompt_tokens > t.above_tokens);
    let input = tier
        .and_then(|t| t.input)
        .or(price.input)
        .unwrap_or_default();
    let output = tier
        .and_then(|t| t.output)
        .or(price.output)
        .unwrap_or_default();
    let cache_read = tier
        .and_then(|t| t.cache_read)
        .or(price.cache_read)
        .unwrap_or(input);
    let cache_write = tier
        .and_then(|t| t.cache_write)
        .or(price.cache_write)
        .unwrap_or(input);

    let cached = usage.cached_tokens();
    let written = usage.cache_creation_input_tokens.unwrap_or(0);
    let audio_in = usage
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.audio_tokens)
        .unwrap_or(0);
    let text_in = usage
        .prompt_tokens
        .saturating_sub(cached)
        .saturating_sub(written)
        .saturating_sub(audio_in);
    let prompt = input.times(text_in)
        + cache_read.times(cached)
        + cache_write.times(written)
        + price.audio_input.unwrap_or(input).times(audio_in);

    let details = usage.completion_tokens_details.as_ref();
    let reasoning = details.and_then(|d| d.reasoning_tokens).unwrap_or(0);
    let audio_out = details
        .and_then(|d| d.extra.get("audio_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut text_out = usage.completion_tokens;
    let mut completion = Usd::ZERO;
    if let (Some(r), true) = (price.reasoning, tier.is_none()) {
        let n = reasoning.min(text_out);
        text_out -= n;
        completion += r.times(n);
    }
    if let Some(a) = price.audio_output {
        let n = audio_out.min(text_out);
        text_out -= n;
        completion += a.times(n);
    }
    completion += output.times(text_out);
    CostBreakdown { prompt, completion }
}

/// Cost of a call from its usage, LiteLLM's `completion_cost`.
///
/// `model` is the model as called (with or without its provider prefix); `provider` the resolved
/// provider if known. Fails with [`crate::ErrorKind::NotFound`] when the model has no price and
/// the overrides do not give one.
///
/// ```
/// use edgellm::{cost, types::Usage};
/// let usd = cost::completion_cost(&Usage::new(1_000_000, 0), "claude-3-5-haiku-20241022",
///     Some("anthropic"), &Default::default()).unwrap();
/// assert_eq!(usd.to_f64(), 0.8);
/// ```
pub fn completion_cost(
    usage: &Usage,
    model: &str,
    provider: Option<&str>,
    overrides: &PriceOverrides,
) -> Result<Usd> {
    completion_cost_detailed(usage, model, provider, overrides).map(|c| c.total())
}

/// [`completion_cost`] split into prompt and completion.
pub fn completion_cost_detailed(
    usage: &Usage,
    model: &str,
    provider: Option<&str>,
    overrides: &PriceOverrides,
) -> Result<CostBreakdown> {
    match price_for(model, provider, overrides) {
        Some(p) => Ok(usage_cost(&p, usage)),
        None => lookup_or_err(model, provider).map(|p| usage_cost(&p, usage)),
    }
}

/// LiteLLM's `cost_per_token`: (prompt cost, completion cost) for plain token counts.
pub fn cost_per_token(
    model: &str,
    provider: Option<&str>,
    prompt_tokens: u64,
    completion_tokens: u64,
) -> Result<(Usd, Usd)> {
    let c = completion_cost_detailed(
        &Usage::new(prompt_tokens, completion_tokens),
        model,
        provider,
        &PriceOverrides::default(),
    )?;
    Ok((c.prompt, c.completion))
}

/// Cost of a call priced by time (`input_cost_per_second` / `output_cost_per_second`
/// overrides), in pico-dollar-exact arithmetic on milliseconds.
pub fn time_cost(overrides: &PriceOverrides, duration_ms: u64) -> Usd {
    let rate = overrides
        .input_cost_per_second
        .unwrap_or_default()
        .saturating_add(overrides.output_cost_per_second.unwrap_or_default());
    Usd::from_pico(per_mille(rate.pico(), duration_ms))
}

/// `rate * ms / 1000`, rounded down and saturating at `u64::MAX`: with both split at 1000, so
/// no 128-bit division is needed (at opt-level z it is a call into compiler_builtins' general
/// one, which nothing else uses: 77 B of the gzipped package).
fn per_mille(rate: u64, ms: u64) -> u64 {
    let (q, r) = (rate / 1000, rate % 1000);
    let (a, b) = (ms / 1000, ms % 1000);
    // rate·ms/1000 = q·ms + r·a + r·b/1000, the first two exact; r·b < 10⁶.
    let exact = u128::from(q) * u128::from(ms) + u128::from(r) * u128::from(a);
    u64::try_from(exact + u128::from(r * b / 1000)).unwrap_or(u64::MAX)
}

/// Cost of `n` generated images, LiteLLM-style keys: `{quality}/{W}-x-{H}/{model}`, then
/// `{W}-x-{H}/{model}`, then `{model}` with a flat per-image price.
///
/// ```
/// let c = edgellm::cost::image_cost("dall-e-3", Some("openai"), Some("1024x1792"), Some("hd"), 2).unwrap();
/// assert_eq!(c.to_f64(), 0.24);
/// ```
pub fn image_cost(
    model: &str,
    provider: Option<&str>,
    size: Option<&str>,
    quality: Option<&str>,
    n: u64,
) -> Result<Usd> {
    let size = size.map(|s| s.replace('x', "-x-"));
    let mut names = Vec::new();
    if let Some(s) = &size {
        names.push(format!("{}/{s}/{model}", quality.unwrap_or("standard")));
        names.push(format!("{s}/{model}"));
    }
    names.push(model.to_string());
    let per_image = names
        .iter()
        .filter_map(|m| lookup(m, provider))
        .find_map(|p| p.per_image);
    per_image.map(|p| p.times(n)).ok_or_else(|| {
        Error::new(
            crate::ErrorKind::NotFound,
            format!(
                "model `{model}` has no per-image price for size {size:?}, quality {quality:?}"
            ),
        )
        .with_model(model)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{CompletionTokensDetails, PromptTokensDetails};

    fn price(input: u64, output: u64) -> ModelPrice {
        let mut p = ModelPrice::empty("t/m", "t", Mode::Chat);
        p.input = Some(Usd::from_pico(input));
        p.output = Some(Usd::from_pico(output));
        p
    }

    #[test]
    fn cached_and_written_tokens_use_their_rates() {
        let mut p = price(3_000_000, 15_000_000);
        p.cache_read = Some(Usd::from_pico(300_000));
        p.cache_write = Some(Usd::from_pico(3_750_000));
        let mut u = Usage::new(1000, 100);
        u.cache_read_input_tokens = Some(400);
        u.cache_creation_input_tokens = Some(100);
        let c = usage_cost(&p, &u);
        // 500 × 3 + 400 × 0.3 + 100 × 3.75 (µ$ per token ×1e6 → pico)
        assert_eq!(
            c.prompt.pico(),
            500 * 3_000_000 + 400 * 300_000 + 100 * 3_750_000
        );
        assert_eq!(c.completion.pico(), 100 * 15_000_000);
    }

    #[test]
    fn reasoning_priced_apart_only_when_listed() {
        let mut u = Usage::new(10, 100);
        u.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(60),
            ..Default::default()
        });
        let p = price(1, 10);
        assert_eq!(usage_cost(&p, &u).completion.pico(), 1000);
        let mut p2 = price(1, 10);
        p2.reasoning = Some(Usd::from_pico(20));
        assert_eq!(usage_cost(&p2, &u).completion.pico(), 40 * 10 + 60 * 20);
    }

    #[test]
    fn tier_applies_above_threshold_only() {
        let p = lookup("gemini/gemini-2.5-pro", None).unwrap();
        let below = usage_cost(&p, &Usage::new(200_000, 1000)).total();
        let above = usage_cost(&p, &Usage::new(200_001, 1000)).total();
        assert_eq!(below.pico(), 200_000 * 1_250_000 + 1000 * 10_000_000);
        assert_eq!(above.pico(), 200_001 * 2_500_000 + 1000 * 15_000_000);
    }

    #[test]
    fn audio_input_tokens() {
        let mut p = price(100, 0);
        p.audio_input = Some(Usd::from_pico(1000));
        let mut u = Usage::new(50, 0);
        u.prompt_tokens_details = Some(PromptTokensDetails {
            audio_tokens: Some(10),
            ..Default::default()
        });
        assert_eq!(usage_cost(&p, &u).prompt.pico(), 40 * 100 + 10 * 1000);
    }

    #[test]
    fn overrides_replace_and_synthesize() {
        let o = PriceOverrides {
            input_cost_per_token: Some(Usd::from_pico(7)),
            output_cost_per_token: Some(Usd::from_pico(9)),
            ..Default::default()
        };
        let c = completion_cost(&Usage::new(10, 10), "my-own-model", Some("openai_like"), &o);
        assert_eq!(c.unwrap().pico(), 160);
        let c = completion_cost(&Usage::new(10, 10), "gpt-4o", Some("openai"), &o);
        assert_eq!(c.unwrap().pico(), 160);
        let unknown = completion_cost(&Usage::new(1, 1), "nope", None, &Default::default());
        assert_eq!(unknown.unwrap_err().kind(), crate::ErrorKind::NotFound);
    }

    #[test]
    fn time_priced() {
        let o = PriceOverrides {
            input_cost_per_second: Usd::from_f64(0.001),
            ..Default::default()
        };
        assert_eq!(time_cost(&o, 1500), Usd::from_f64(0.0015).unwrap());
    }

    #[test]
    fn per_mille_is_the_exact_quotient() {
        let want = |r: u64, ms: u64| {
            (u128::from(r) * u128::from(ms) / 1000).min(u128::from(u64::MAX)) as u64
        };
        let edges = [
            0,
            1,
            999,
            1000,
            1001,
            1999,
            123_456_789,
            u64::MAX / 1000,
            u64::MAX - 1,
            u64::MAX,
        ];
        for r in edges {
            for ms in edges {
                assert_eq!(per_mille(r, ms), want(r, ms), "{r} {ms}");
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (r, ms) = (x >> (x % 64), x.rotate_left(29) >> (x % 61));
            assert_eq!(per_mille(r, ms), want(r, ms), "{r} {ms}");
        }
    }
}
