//! `completion` and `completionStream`: JSON in, engine call, JSON out.
//!
//! Values cross the boundary as JSON text (`JSON.stringify` in, `JSON.parse` out): one string
//! copy per call or per stream batch instead of one JS call per field. Against
//! `serde-wasm-bindgen` it measured on par for one chunk per crossing and faster for batches of
//! chunks, without another dependency (numbers in pkg/README.md).

use std::cell::Cell;
use std::rc::Rc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::env::JsEnv;
use super::error::to_js;
use super::stream::ChunkStream;
use crate::cost;
use crate::engine::{self, CallMeta};
use crate::options::{self, CallOptions};
use crate::types::{ChatRequest, ChatResponse};
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
}

#[derive(Serialize)]
struct WithHidden<'a> {
    #[serde(flatten)]
    response: &'a ChatResponse,
    _hidden_params: HiddenParams<'a>,
}

/// Parses the JS params object (OpenAI body + LiteLLM options).
fn parse(params: &JsValue) -> Result<(ChatRequest, CallOptions), JsValue> {
    let text = js_sys::JSON::stringify(params)
        .ok()
        .and_then(|s| s.as_string())
        .filter(|_| params.is_object())
        .ok_or_else(|| {
            to_js(Error::bad_request(
                "completion() expects an object such as { model, messages }",
            ))
        })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| to_js(Error::from(e)))?;
    options::parse_chat(value).map_err(to_js)
}

pub(crate) fn json_err(e: serde_json::Error) -> JsValue {
    to_js(Error::decode(format!("cannot serialize the response: {e}")))
}

/// One chat completion. Resolves to the OpenAI `chat.completion` object plus `_hidden_params`.
/// Rejects with an `Error` whose `name` is the OpenAI error class (see `pkg/errors.js`).
#[wasm_bindgen]
pub async fn completion(params: JsValue) -> Result<JsValue, JsValue> {
    let (req, opts) = parse(&params)?;
    let done = engine::completion(&FetchHost, &JsEnv, req, opts.clone())
        .await
        .map_err(to_js)?;
    let text = serde_json::to_string(&WithHidden {
        response: &done.response,
        _hidden_params: HiddenParams::new(&done.meta, cost::response_cost(&done, &opts)),
    })
    .map_err(json_err)?;
    js_sys::JSON::parse(&text)
}

/// A streaming chat completion. Resolves once the response headers arrived (after retries)
/// to a [`ChunkStream`]; `pkg/` wraps it in a `ReadableStream` of chunk objects. Its
/// `responseCost` is set when the stream ended with the provider's usage.
#[wasm_bindgen(js_name = completionStream)]
pub async fn completion_stream(params: JsValue) -> Result<ChunkStream, JsValue> {
    let (req, opts) = parse(&params)?;
    let started = engine::completion_stream(&FetchHost, &JsEnv, req, opts.clone())
        .await
        .map_err(to_js)?;
    let hidden =
        serde_json::to_string(&HiddenParams::new(&started.meta, None)).map_err(json_err)?;
    // The cost is known once the stream ended with its usage.
    let cost_slot = Rc::new(Cell::new(None));
    let slot = cost_slot.clone();
    let meta = started.meta;
    let stream = started.stream.on_end(move |end| {
        if let Ok(usage) = end {
            slot.set(cost::stream_cost(&meta, usage.as_ref(), &opts).map(cost::Usd::to_f64));
        }
    });
    Ok(ChunkStream::new(stream, hidden, cost_slot))
}
