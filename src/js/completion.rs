//! `completion` and `completionStream`: JSON in, engine call, JSON out.
//!
//! Values cross the boundary as JSON text (`JSON.stringify` in, `JSON.parse` out): one string
//! copy per call or per stream batch instead of one JS call per field. Against
//! `serde-wasm-bindgen` it measured on par for one chunk per crossing and faster for batches of
//! chunks, without another dependency (numbers in pkg/README.md).

use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::callbacks::{Facts, LogCall, Logged};
use super::env::JsEnv;
use super::error::to_js;
use super::respond::{hidden_params, json_err, params_json, with_hidden};
use super::stream::ChunkStream;
use crate::engine::{self, Completion};
use crate::options;
use crate::router::RouteInfo;
use crate::wasm::FetchHost;
use crate::{cost, CallOptions, Error};

const EXPECTS: &str = "completion() expects an object such as { model, messages }";

/// Fires the callbacks of a finished chat call and makes the JS response.
pub(crate) fn finish_chat(
    log: &LogCall,
    c: &Completion,
    options: &CallOptions,
    route: Option<&RouteInfo>,
    cost: Option<cost::Usd>,
) -> Result<JsValue, JsValue> {
    let facts = Facts {
        route,
        metadata: options.metadata.as_ref(),
        cost,
        usage: c.response.usage.as_ref(),
        ..Facts::default()
    };
    log.success(
        Some(&c.response.id),
        &c.meta,
        facts,
        Logged::Chat(&c.response),
    );
    let text = serde_json::to_string(&c.response).map_err(json_err)?;
    with_hidden(text, &hidden_params(&c.meta, route, cost))
}

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
    finish_chat(&log, &done, &opts, None, cost)
}

/// A streaming chat completion. Resolves once the response headers arrived (after retries)
/// to a [`ChunkStream`]; `pkg/` wraps it in a `ReadableStream` of chunk objects. Its
/// `responseCost` is set when the stream ended with the provider's usage; callbacks fire then.
#[wasm_bindgen(js_name = completionStream)]
pub async fn completion_stream(params: JsValue) -> Result<ChunkStream, JsValue> {
    let request = params_json(&params, EXPECTS);
    let log = LogCall::chat(&params, request.as_ref().unwrap_or(&Value::Null)).streaming();
    let result: Result<_, Error> = async {
        let (req, opts) = options::parse_chat(request?)?;
        let started = engine::completion_stream(&FetchHost, &JsEnv, req, opts.clone()).await?;
        Ok((started, opts))
    }
    .await;
    let (started, opts) = result.map_err(|e| {
        log.failure(&e, None, None);
        to_js(e)
    })?;
    Ok(ChunkStream::new(
        started.stream,
        started.meta,
        opts,
        None,
        log,
    ))
}
