//! `completionCost`, `costPerToken`, `getModelInfo`, `registerModel`: the price table from JS.

use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::error::to_js;
use crate::cost::{self, PriceOverrides};
use crate::types::Usage;
use crate::Error;

/// A JS value as JSON (functions and `undefined` dropped, as `JSON.stringify` does).
pub(crate) fn to_json(v: &JsValue, what: &str) -> Result<Value, JsValue> {
    let text = js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| to_js(Error::bad_request(format!("{what} must be a JSON value"))))?;
    serde_json::from_str(&text).map_err(|e| to_js(Error::from(e)))
}

pub(crate) fn from_json(v: &Value) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(v).map_err(|e| to_js(Error::from(e)))?;
    js_sys::JSON::parse(&text)
}

/// LiteLLM's `completion_cost`: USD for a response.
///
/// `params`: `{ completion_response, model?, custom_llm_provider?, usage?,
/// input_cost_per_token?, output_cost_per_token? }`. The model and provider default to the
/// response's `_hidden_params` (set by `completion()`), then to its `model`; `usage` defaults
/// to the response's. Throws `NotFoundError` for a model without a price.
#[wasm_bindgen(js_name = completionCost)]
pub fn completion_cost(params: JsValue) -> Result<f64, JsValue> {
    let p = to_json(&params, "completionCost params")?;
    let resp = &p["completion_response"];
    let hidden = &resp["_hidden_params"];
    let model = p["model"]
        .as_str()
        .or(hidden["model"].as_str())
        .or(resp["model"].as_str())
        .ok_or_else(|| {
            to_js(Error::bad_request(
                "completionCost needs `model` or a response",
            ))
        })?;
    let provider = p["custom_llm_provider"]
        .as_str()
        .or(hidden["custom_llm_provider"].as_str())
        .filter(|p| *p != "mock");
    let usage_json = if p["usage"].is_object() {
        &p["usage"]
    } else {
        &resp["usage"]
    };
    let usage: Usage = serde_json::from_value(usage_json.clone()).map_err(|_| {
        to_js(Error::bad_request(
            "completionCost needs `usage` or a response with `usage`",
        ))
    })?;
    let overrides = match p.as_object() {
        Some(m) => PriceOverrides::from_map(m).map_err(to_js)?,
        None => PriceOverrides::default(),
    };
    cost::completion_cost(&usage, model, provider, &overrides)
        .map(cost::Usd::to_f64)
        .map_err(to_js)
}

/// LiteLLM's `cost_per_token`: `[promptCostUsd, completionCostUsd]`.
#[wasm_bindgen(js_name = costPerToken)]
pub fn cost_per_token(
    model: &str,
    prompt_tokens: f64,
    completion_tokens: f64,
    custom_llm_provider: Option<String>,
) -> Result<Vec<f64>, JsValue> {
    let count = |n: f64| {
        (n.is_finite() && n >= 0.0)
            .then_some(n as u64)
            .ok_or_else(|| to_js(Error::bad_request("token counts must be non-negative")))
    };
    let (p, c) = cost::cost_per_token(
        model,
        custom_llm_provider.as_deref(),
        count(prompt_tokens)?,
        count(completion_tokens)?,
    )
    .map_err(to_js)?;
    Ok(vec![p.to_f64(), c.to_f64()])
}

/// LiteLLM's `get_model_info`: the model's prices and limits (`input_cost_per_token`,
/// `max_input_tokens`, `litellm_provider`, `mode`, …). Throws `NotFoundError` when unknown.
#[wasm_bindgen(js_name = getModelInfo)]
pub fn get_model_info(
    model: &str,
    custom_llm_provider: Option<String>,
) -> Result<JsValue, JsValue> {
    let info = cost::get_model_info(model, custom_llm_provider.as_deref()).map_err(to_js)?;
    from_json(&info)
}

/// LiteLLM's `register_model`: `{ "model-name": { input_cost_per_token, output_cost_per_token,
/// litellm_provider, mode, max_tokens, … } }`; existing entries keep fields not given.
/// Returns the keys registered (`provider/model`).
#[wasm_bindgen(js_name = registerModel)]
pub fn register_model(models: JsValue) -> Result<Vec<String>, JsValue> {
    let v = to_json(&models, "registerModel argument")?;
    cost::register_model(&v).map_err(to_js)
}
