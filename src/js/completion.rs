//! `completion` and `completionStream`: JSON in, engine call, JSON out.
//!
//! Values cross the boundary as JSON text (`JSON.stringify` in, `JSON.parse` out): one string
//! copy per call or per stream batch instead of one JS call per field. Against
//! `serde-wasm-bindgen` it measured on par for one chunk per crossing and faster for batches of
//! chunks, without another dependency (numbers in pkg/README.md).

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::callbacks::{Facts, LogCall, Logged};
use super::env::JsEnv;
use super::error::to_js;
use super::stream::{ChunkStream, StreamEnd};
use crate::accumulate::Accumulator;
use crate::cost;
use crate::engine::{self, CallMeta};
use crate::options;
use crate::wasm::FetchHost;
use crate::Error;

/// LiteLLM's `_hidden_params`: where the call went.
#[derive(Serialize)]
pub(crate) struct HiddenParams<'a> {
    custom_llm_provider: &'a str,
    model: &'a str,
    api_base: Option<&'a str>,
    /// USD; `null` when no price is known for the model (and, for a stream, until it ended).
    response_cost: Option<f64>,
    attempts: u32,
}

impl<'a> HiddenParams<'a> {
    pub(crate) fn new(meta: &'a CallMeta, response_cost: Option<cost::Usd>) -> Self {
        Self {
            custom_llm_provider: &meta.provider,
            model: &meta.model,
            api_base: meta.api_base.as_deref(),
            response_cost: response_cost.map(cost::Usd::to_f64),
            attempts: meta.attempts,
        }
    }

    /// As JSON text (a stream handle's `hiddenParams`).
    pub(crate) fn to_json_text(&self) -> Result<String, JsValue> {
        serde_json::to_string(self).map_err(json_err)
    }
}

#[derive(Serialize)]
struct WithHidden<'a, T> {
    #[serde(flatten)]
    response: &'a T,
    _hidden_params: HiddenParams<'a>,
}

/// `response` plus `_hidden_params`, as a JS object.
pub(crate) fn with_hidden<T: Serialize>(
    response: &T,
    hidden: HiddenParams<'_>,
) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(&WithHidden {
        response,
        _hidden_params: hidden,
    })
    .map_err(json_err)?;
    js_sys::JSON::parse(&text)
}

/// The JS params object as JSON; `expects` says what it should have been.
pub(crate) fn params_json(params: &JsValue, expects: &str) -> Result<Value, Error> {
    let text = js_sys::JSON::stringify(params)
        .ok()
        .and_then(|s| s.as_string())
        .filter(|_| params.is_object())
        .ok_or_else(|| Error::bad_request(expects))?;
    Ok(serde_json::from_str(&text)?)
}

pub(crate) fn json_err(e: serde_json::Error) -> JsValue {
    to_js(Error::decode(format!("cannot serialize the response: {e}")))
}

const EXPECTS: &str = "completion() expects an object such as { model, messages }";

/// One chat completion. Resolves to the OpenAI `chat.completion` object plus `_hidden_params`.
/// Rejects with an `Error` whose `name` is the OpenAI error class (see `pkg/errors.js`).
/// Success and failure callbacks (per call and `setCallbacks`) fire with `call_type`
/// `"completion"`.
#[wasm_bindgen]
pub async fn completion(params: JsValue) -> Result<JsValue, JsValue> {
    let request = params_json(&params, EXPECTS);
    let log = LogCall::chat(&params, request.as_ref().unwrap_or(&Value::Null));
    let result: Result<_, Error> = async {
        let (req, opts) = options::parse_chat(request?)?;
        let done = engine::completion(&FetchHost, &JsEnv, req, opts.clone()).await?;
        Ok((done, opts))
    }
    .await;
    let (done, opts) = result.map_err(|e| {
        log.failure(&e, None, None);
        to_js(e)
    })?;
    let cost = cost::response_cost(&done, &opts);
    let facts = Facts {
        metadata: opts.metadata.as_ref(),
        cost,
        usage: done.response.usage.as_ref(),
        ..Facts::default()
    };
    log.success(
        Some(&done.response.id),
        &done.meta,
        facts,
        Logged::Chat(&done.response),
    );
    with_hidden(&done.response, HiddenParams::new(&done.meta, cost))
}

/// A streaming chat completion. Resolves once the response headers arrived (after retries)
/// to a [`ChunkStream`]; `pkg/` wraps it in a `ReadableStream` of chunk objects. Its
/// `responseCost` is set when the stream ended with the provider's usage; callbacks fire then.
#[wasm_bindgen(js_name = completionStream)]
pub async fn completion_stream(params: JsValue) -> Result<ChunkStream, JsValue> {
    let request = params_json(&params, EXPECTS);
    let log = LogCall::chat(&params, request.as_ref().unwrap_or(&Value::Null));
    let result: Result<_, Error> = async {
        let (req, opts) = options::parse_chat(request?)?;
        let started = engine::completion_stream(&FetchHost, &JsEnv, req, opts.clone()).await?;
        Ok((started, opts))
    }
    .await;
    let (started, opts) = match result {
        Ok(r) => r,
        Err(e) => {
            log.failure(&e, None, None);
            return Err(to_js(e));
        }
    };
    let hidden = HiddenParams::new(&started.meta, None).to_json_text()?;
    let end = StreamEnd::<Accumulator>::new(started.meta, opts, None, log);
    Ok(ChunkStream::new(started.stream, end, hidden))
}
