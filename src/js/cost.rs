//! `completionCost`, `costPerToken`, `getModelInfo`, `registerModel`: the price table from JS.

use js_sys::Reflect;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::error::to_js;
use crate::budget::{self, BudgetManager, Period};
use crate::cost::{self, PriceOverrides, Usd};
use crate::options;
use crate::types::{FromValue, Usage};
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
    let usage = Usage::from_value(usage_json.clone()).map_err(|_| {
        to_js(Error::bad_request(
            "completionCost needs `usage` or a response with `usage`",
        ))
    })?;
    let overrides = match p.as_object() {
        Some(m) => PriceOverrides::from_map(m).map_err(to_js)?,
        None => PriceOverrides::default(),
    };
    cost::completion_cost(&usage, model, provider, &overrides)
        .map(Usd::to_f64)
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

/// LiteLLM's `BudgetManager`: per-user (or project) budgets in memory, with reserve-then-settle
/// for concurrent calls. Amounts are USD numbers; arithmetic inside is exact.
#[wasm_bindgen(js_name = BudgetManager)]
#[derive(Debug)]
pub struct JsBudgetManager {
    inner: BudgetManager,
}

fn usd_in(v: f64, what: &str) -> Result<Usd, JsValue> {
    Usd::from_f64(v).ok_or_else(|| {
        to_js(Error::bad_request(format!(
            "{what} must be a non-negative number of USD"
        )))
    })
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The chat request in `params` (`{ model, messages, max_tokens? }`) and its worst-case cost.
fn worst_case(params: &JsValue) -> Result<(String, Usd), JsValue> {
    let v = to_json(params, "request")?;
    let (req, opts) = options::parse_chat(v).map_err(to_js)?;
    let cost = budget::worst_case_for(&req, opts.custom_llm_provider.as_deref()).map_err(to_js)?;
    Ok((req.model, cost))
}

#[wasm_bindgen(js_class = BudgetManager)]
impl JsBudgetManager {
    /// An empty manager.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> JsBudgetManager {
        JsBudgetManager {
            inner: BudgetManager::in_memory(),
        }
    }

    /// `createBudget(totalBudgetUsd, user, duration?)`: `duration` is `daily`, `weekly`,
    /// `monthly`, `yearly` or a length such as `30d`, `12h`; none means it never resets.
    #[wasm_bindgen(js_name = createBudget)]
    pub fn create_budget(
        &self,
        total_budget: f64,
        user: &str,
        duration: Option<String>,
    ) -> Result<(), JsValue> {
        let period = match duration.as_deref() {
            Some(d) => Period::parse(d).map_err(to_js)?,
            None => Period::Never,
        };
        self.inner.create_budget(
            user,
            usd_in(total_budget, "total_budget")?,
            period,
            now_ms(),
        );
        Ok(())
    }

    /// The spend so far plus the most `params` (`{ model, messages, max_tokens? }`) can cost:
    /// compare it with `getTotalBudget(user)` before calling.
    #[wasm_bindgen(js_name = projectedCost)]
    pub fn projected_cost(&self, params: JsValue, user: &str) -> Result<f64, JsValue> {
        let (_, worst) = worst_case(&params)?;
        Ok((self.inner.current_cost(user, now_ms()) + worst).to_f64())
    }

    /// Reserves the worst case of `params` on `user`'s budget and returns the USD reserved;
    /// throws `BudgetExceededError` (402) when it does not fit. Pass the amount to `settle`.
    pub fn reserve(&self, user: &str, params: JsValue) -> Result<f64, JsValue> {
        let (_, worst) = worst_case(&params)?;
        let r = self.inner.reserve(user, worst, now_ms()).map_err(to_js)?;
        Ok(r.amount.to_f64())
    }

    /// Replaces a reservation of `reservedUsd` by the actual cost (`model` for per-model spend).
    pub fn settle(
        &self,
        user: &str,
        reserved_usd: f64,
        actual_usd: f64,
        model: Option<String>,
    ) -> Result<(), JsValue> {
        let r = budget::Reservation {
            id: user.to_string(),
            amount: usd_in(reserved_usd, "reserved")?,
        };
        let actual = usd_in(actual_usd, "actual cost")?;
        self.inner
            .settle_for_model(r, actual, model.as_deref(), now_ms());
        Ok(())
    }

    /// LiteLLM's `update_cost(completion_obj, user)`: adds the response's cost
    /// (`_hidden_params.response_cost`, else priced from its usage) and returns it.
    #[wasm_bindgen(js_name = updateCost)]
    pub fn update_cost(&self, user: &str, completion_obj: JsValue) -> Result<f64, JsValue> {
        let v = to_json(&completion_obj, "completion_obj")?;
        let cost = match v["_hidden_params"]["response_cost"].as_f64() {
            Some(c) => usd_in(c, "response_cost")?,
            None => {
                let params = js_sys::Object::new();
                let _ = Reflect::set(&params, &"completion_response".into(), &completion_obj);
                usd_in(completion_cost(params.into())?, "cost")?
            }
        };
        let model = v["model"].as_str();
        self.inner.update_cost(user, cost, model, now_ms());
        Ok(cost.to_f64())
    }

    /// Settled spend of `user` in the current period.
    #[wasm_bindgen(js_name = getCurrentCost)]
    pub fn get_current_cost(&self, user: &str) -> f64 {
        self.inner.current_cost(user, now_ms()).to_f64()
    }

    /// The budget of `user` (0 without one).
    #[wasm_bindgen(js_name = getTotalBudget)]
    pub fn get_total_budget(&self, user: &str) -> f64 {
        self.inner.total_budget(user).to_f64()
    }

    /// Spend per model of `user` in the current period.
    #[wasm_bindgen(js_name = getModelCost)]
    pub fn get_model_cost(&self, user: &str) -> Result<JsValue, JsValue> {
        let m: serde_json::Map<String, Value> = self
            .inner
            .model_cost(user, now_ms())
            .into_iter()
            .map(|(k, v)| (k, Value::from(v.to_f64())))
            .collect();
        from_json(&Value::Object(m))
    }

    /// Whether `user` has a budget.
    #[wasm_bindgen(js_name = isValidUser)]
    pub fn is_valid_user(&self, user: &str) -> bool {
        self.inner.is_valid_user(user)
    }

    /// Every user with a budget.
    #[wasm_bindgen(js_name = getUsers)]
    pub fn get_users(&self) -> Vec<String> {
        self.inner.get_users()
    }

    /// Clears `user`'s spend.
    #[wasm_bindgen(js_name = resetCost)]
    pub fn reset_cost(&self, user: &str) {
        self.inner.reset_cost(user, now_ms());
    }
}
