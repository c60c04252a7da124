//! `completionCost`, `costPerToken`, `getModelInfo`, `registerModel`: the price table from JS;
//! `BudgetManager`; and [`lookup`], the one export of the package's functions other than chat.

use js_sys::Reflect;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::callbacks::now_ms;
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
fn completion_cost(params: JsValue) -> Result<f64, JsValue> {
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
fn cost_per_token(
    model: &str,
    prompt_tokens: f64,
    completion_tokens: f64,
    custom_llm_provider: Option<&str>,
) -> Result<JsValue, JsValue> {
    let count = |n: f64| {
        (n.is_finite() && n >= 0.0)
            .then_some(n as u64)
            .ok_or_else(|| to_js(Error::bad_request("token counts must be non-negative")))
    };
    let (p, c) = cost::cost_per_token(
        model,
        custom_llm_provider,
        count(prompt_tokens)?,
        count(completion_tokens)?,
    )
    .map_err(to_js)?;
    from_json(&Value::from(vec![p.to_f64(), c.to_f64()]))
}

/// LiteLLM's `get_model_info`: the model's prices and limits (`input_cost_per_token`,
/// `max_input_tokens`, `litellm_provider`, `mode`, …). Throws `NotFoundError` when unknown.
fn get_model_info(model: &str, custom_llm_provider: Option<&str>) -> Result<JsValue, JsValue> {
    let info = cost::get_model_info(model, custom_llm_provider).map_err(to_js)?;
    from_json(&info)
}

/// LiteLLM's `register_model`: `{ "model-name": { input_cost_per_token, output_cost_per_token,
/// litellm_provider, mode, max_tokens, … } }`; existing entries keep fields not given.
/// Returns the keys registered (`provider/model`).
fn register_model(models: JsValue) -> Result<JsValue, JsValue> {
    let v = to_json(&models, "registerModel argument")?;
    from_json(&Value::from(cost::register_model(&v).map_err(to_js)?))
}

/// `op` of [`lookup`]: the function, as pkg/api.js numbers them.
const COMPLETION_COST: u32 = 0;
const COST_PER_TOKEN: u32 = 1;
const GET_MODEL_INFO: u32 = 2;
const REGISTER_MODEL: u32 = 3;
const SUPPORTED_PARAMS: u32 = 4;
const VERSION: u32 = 5;
const SET_ENV: u32 = 6;
const SET_CALLBACKS: u32 = 7;
const SET_LOGGING_SETTINGS: u32 = 8;
const FLUSH_LOGGING: u32 = 9;
const LOGGING_INTEGRATIONS: u32 = 10;
const STREAM_CHUNK_BUILDER: u32 = 11;
const MODALITY: u32 = 16;
const MODALITY_LAST: u32 = MODALITY + 5;

/// The package's functions other than chat in one export, `op` picking one (each export of its
/// own costs wasm-bindgen glue in the wasm and in JS). pkg/api.js passes the function's
/// arguments in these slots (`model` converted as a `&str` argument would be, `a` and `b` as
/// `f64` ones, `provider` as an `Option<String>` one):
/// - `COMPLETION_COST` (`completionCost(params)`, LiteLLM's `completion_cost`): USD for a
///   response. `value`: `{ completion_response, model?, custom_llm_provider?, usage?,
///   input_cost_per_token?, output_cost_per_token? }`. The model and provider default to the
///   response's `_hidden_params` (set by `completion()`), then to its `model`; `usage`
///   defaults to the response's. Throws `NotFoundError` for a model without a price.
/// - `COST_PER_TOKEN` (`costPerToken(model, promptTokens, completionTokens, provider?)`,
///   LiteLLM's `cost_per_token`): `[promptCostUsd, completionCostUsd]` for `a` and `b` tokens.
/// - `GET_MODEL_INFO` (`getModelInfo(model, provider?)`, LiteLLM's `get_model_info`): the
///   model's prices and limits (`input_cost_per_token`, `max_input_tokens`,
///   `litellm_provider`, `mode`, …). Throws `NotFoundError` when unknown.
/// - `REGISTER_MODEL` (`registerModel(models)`, LiteLLM's `register_model`): `value` is
///   `{ "model-name": { input_cost_per_token, output_cost_per_token, litellm_provider, mode,
///   max_tokens, … } }`; existing entries keep fields not given. Returns the keys registered
///   (`provider/model`).
/// - `SUPPORTED_PARAMS` (`getSupportedOpenAIParams(model, provider?)`): see
///   [`super::info::supported_openai_params`].
/// - `VERSION` (`version()`): the crate's version.
/// - `SET_ENV` (`setEnv(vars)`), `SET_CALLBACKS` (`setCallbacks(config)`),
///   `SET_LOGGING_SETTINGS` (`setLoggingSettings(settings)`), `FLUSH_LOGGING`
///   (`flushLogging()`, a promise), `LOGGING_INTEGRATIONS` (`loggingIntegrations()`),
///   `STREAM_CHUNK_BUILDER` (`streamChunkBuilder(chunks)`): see the functions they call, `value`
///   the argument.
/// - `MODALITY + kind` (`embedding`, `imageGeneration`, `textCompletion`, `moderation`,
///   `rerank`): [`super::modality::modality`] of `value`, a promise.
///
/// Any other `op` throws `BadRequestError`.
#[wasm_bindgen]
pub fn lookup(
    op: u32,
    model: &str,
    value: JsValue,
    a: f64,
    b: f64,
    provider: Option<String>,
) -> Result<JsValue, JsValue> {
    let provider = provider.as_deref();
    match op {
        COMPLETION_COST => completion_cost(value).map(JsValue::from_f64),
        COST_PER_TOKEN => cost_per_token(model, a, b, provider),
        GET_MODEL_INFO => get_model_info(model, provider),
        REGISTER_MODEL => register_model(value),
        SUPPORTED_PARAMS => Ok(
            super::info::supported_openai_params(model, provider).map_or(JsValue::UNDEFINED, |p| {
                p.into_iter()
                    .map(JsValue::from_str)
                    .collect::<js_sys::Array>()
                    .into()
            }),
        ),
        VERSION => Ok(JsValue::from_str(env!("CARGO_PKG_VERSION"))),
        SET_ENV => super::env::set_env(&value).map(|()| JsValue::UNDEFINED),
        SET_CALLBACKS => {
            super::callbacks::set_callbacks(&value);
            Ok(JsValue::UNDEFINED)
        }
        SET_LOGGING_SETTINGS => {
            super::logging::set_logging_settings(value).map(|()| JsValue::UNDEFINED)
        }
        FLUSH_LOGGING => Ok(super::logging::flush_logging().into()),
        LOGGING_INTEGRATIONS => Ok(super::logging::logging_integrations()),
        STREAM_CHUNK_BUILDER => super::accumulate::stream_chunk_builder(&value),
        MODALITY..=MODALITY_LAST => Ok(super::modality::modality(op - MODALITY, value).into()),
        _ => Err(to_js(Error::bad_request("lookup: unknown op"))),
    }
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

/// The chat request in `params` (`{ model, messages, max_tokens? }`) and its worst-case cost.
fn worst_case(params: &JsValue) -> Result<(String, Usd), JsValue> {
    let v = to_json(params, "request")?;
    let (req, opts) = options::parse_chat(v).map_err(to_js)?;
    let cost = budget::worst_case_for(&req, opts.custom_llm_provider.as_deref()).map_err(to_js)?;
    Ok((req.model, cost))
}

/// `op` of [`JsBudgetManager::op`]: the method, as pkg/router.js numbers them.
const CREATE_BUDGET: u32 = 0;
const PROJECTED_COST: u32 = 1;
const RESERVE: u32 = 2;
const SETTLE: u32 = 3;
const UPDATE_COST: u32 = 4;
const GET_CURRENT_COST: u32 = 5;
const GET_TOTAL_BUDGET: u32 = 6;
const GET_MODEL_COST: u32 = 7;
const IS_VALID_USER: u32 = 8;
const GET_USERS: u32 = 9;
const RESET_COST: u32 = 10;

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

    /// Every method of the package's `BudgetManager` in one export, `op` picking one (each
    /// export of its own costs wasm-bindgen glue in the wasm and in JS). pkg/router.js passes
    /// the method's arguments in these slots (`user` converted as a `&str` argument would be,
    /// `a` and `b` as `f64` ones), so each method converts them as it did as an export:
    /// - `CREATE_BUDGET` (`createBudget(totalBudget, user, duration?)`): `a` the budget in USD,
    ///   `s` the duration: `daily`, `weekly`, `monthly`, `yearly` or a length such as `30d`,
    ///   `12h`; none means it never resets.
    /// - `PROJECTED_COST` (`projectedCost(params, user)`): the spend so far plus the most
    ///   `value` (`{ model, messages, max_tokens? }`) can cost; compare it with
    ///   `getTotalBudget(user)` before calling.
    /// - `RESERVE` (`reserve(user, params)`): reserves the worst case of `value` and returns the
    ///   USD reserved; `BudgetExceededError` (402) when it does not fit. The amount goes to
    ///   `settle`.
    /// - `SETTLE` (`settle(user, reservedUsd, actualUsd, model?)`): replaces a reservation of
    ///   `a` USD by the actual cost `b` (`s` the model, for per-model spend).
    /// - `UPDATE_COST` (`updateCost(user, completionObj)`, LiteLLM's `update_cost`): adds the
    ///   cost of response `value` (`_hidden_params.response_cost`, else priced from its usage)
    ///   and returns it.
    /// - `GET_CURRENT_COST`, `GET_TOTAL_BUDGET` (0 without one), `GET_MODEL_COST` (spend per
    ///   model), `IS_VALID_USER`, `RESET_COST` (clears the spend): of `user`, in the current
    ///   period; `GET_USERS`: every user with a budget.
    ///
    /// Any other `op` throws `BadRequestError`.
    #[allow(clippy::too_many_arguments)]
    pub fn op(
        &self,
        op: u32,
        user: &str,
        value: JsValue,
        a: f64,
        b: f64,
        s: Option<String>,
    ) -> Result<JsValue, JsValue> {
        let m = &self.inner;
        let usd = |n: Usd| Ok(JsValue::from_f64(n.to_f64()));
        match op {
            CREATE_BUDGET => {
                let period = match s.as_deref() {
                    Some(d) => Period::parse(d).map_err(to_js)?,
                    None => Period::Never,
                };
                m.create_budget(user, usd_in(a, "total_budget")?, period, now_ms());
                Ok(JsValue::UNDEFINED)
            }
            PROJECTED_COST => {
                let (_, worst) = worst_case(&value)?;
                usd(m.current_cost(user, now_ms()) + worst)
            }
            RESERVE => {
                let (_, worst) = worst_case(&value)?;
                usd(m.reserve(user, worst, now_ms()).map_err(to_js)?.amount)
            }
            SETTLE => {
                let r = budget::Reservation {
                    id: user.to_string(),
                    amount: usd_in(a, "reserved")?,
                };
                let actual = usd_in(b, "actual cost")?;
                m.settle_for_model(r, actual, s.as_deref(), now_ms());
                Ok(JsValue::UNDEFINED)
            }
            UPDATE_COST => usd(self.update_cost(user, value)?),
            GET_CURRENT_COST => usd(m.current_cost(user, now_ms())),
            GET_TOTAL_BUDGET => usd(m.total_budget(user)),
            GET_MODEL_COST => {
                // Inserted, not collected: see `Fields::rest`.
                let mut costs = serde_json::Map::new();
                for (k, v) in m.model_cost(user, now_ms()) {
                    costs.insert(k, Value::from(v.to_f64()));
                }
                from_json(&Value::Object(costs))
            }
            IS_VALID_USER => Ok(JsValue::from_bool(m.is_valid_user(user))),
            GET_USERS => from_json(&Value::from(m.get_users())),
            RESET_COST => {
                m.reset_cost(user, now_ms());
                Ok(JsValue::UNDEFINED)
            }
            _ => Err(to_js(Error::bad_request("BudgetManager: unknown op"))),
        }
    }
}

impl JsBudgetManager {
    /// LiteLLM's `update_cost(completion_obj, user)`: adds the response's cost and returns it.
    fn update_cost(&self, user: &str, completion_obj: JsValue) -> Result<Usd, JsValue> {
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
        Ok(cost)
    }
}
