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
use super::respond::{hidden_params, json_err, params_json, promise, with_hidden};
use super::stream::ChunkStream;
use crate::engine::{self, WireCompletion};
use crate::options;
use crate::router::RouteInfo;
use crate::wasm::FetchHost;
use crate::{cost, CallOptions, Error};

const EXPECTS: &str = "completion() expects an object such as { model, messages }";

/// Fires the callbacks of a finished chat call and makes the JS response: the answer's own JSON
/// text (an OpenAI-format upstream's body as it came, see [`engine::completion_wire`]) with
/// `_hidden_params` added. The typed response is read back from the text only when a callback
/// will see it.
pub(crate) fn finish_chat(
    log: &LogCall,
    c: WireCompletion,
    options: &CallOptions,
    route: Option<&RouteInfo>,
    cost: Option<cost::Usd>,
) -> Result<JsValue, JsValue> {
    let hidden = hidden_params(&c.meta, route, cost);
    if !log.is_empty() {
        // The text is a chat completion by construction (`engine::completion_wire`).
        let response = c.response().map_err(json_err)?;
        let facts = Facts {
            route,
            metadata: options.metadata.as_ref(),
            cost,
            usage: c.usage.as_ref(),
            ..Facts::default()
        };
        log.success(Some(&response.id), &c.meta, facts, Logged::Chat(&response));
    }
    let text =
        String::from_utf8(c.body).map_err(|_| to_js(Error::decode("the response is not UTF-8")))?;
    with_hidden(text, &hidden)
}

/// The params as JSON: `text`, what the JS layer made of them with `JSON.stringify`, else read
/// from `params`.
fn request_json(params: &JsValue, text: Option<String>) -> Result<Value, Error> {
    match text {
        Some(t) => Ok(serde_json::from_str(&t)?),
        None => params_json(params, EXPECTS),
    }
}

/// One chat completion. Resolves to the OpenAI `chat.completion` object (an OpenAI-format
/// upstream's own JSON, as the `openai` client returns it) plus `_hidden_params`.
/// Rejects with an `Error` whose `name` is the OpenAI error class (see `pkg/errors.js`).
/// Success and failure callbacks (per call and `setCallbacks`) fire with `call_type`
/// `"completion"`.
///
/// `text`, when given, is `JSON.stringify(params)` (the package's `completion` passes it; a
/// string crosses into wasm in one copy) and `params` is then only read for its callbacks: the
/// package leaves it out when it has no `success_callback` / `failure_callback`.
#[wasm_bindgen]
pub fn completion(params: JsValue, text: Option<String>) -> js_sys::Promise {
    promise(Box::pin(async move {
        let request = request_json(&params, text);
        let log = LogCall::chat(&params, request.as_ref().unwrap_or(&Value::Null));
        let result: Result<_, Error> = async {
            let (req, opts) = options::parse_chat(request?)?;
            let done = engine::completion_wire(&FetchHost, &JsEnv, req, opts.clone()).await?;
            Ok((done, opts))
        }
        .await;
        let (done, opts) = result.map_err(|e| {
            log.failure(&e, None, None);
            to_js(e)
        })?;
        let cost = cost::wire_cost(&done, &opts);
        finish_chat(&log, done, &opts, None, cost)
    }))
}

/// A streaming chat completion. Resolves once the response headers arrived (after retries)
/// to a [`ChunkStream`]; `pkg/` wraps it in a `ReadableStream` of chunk objects. Its cost
/// (`meta(true)`) is set when the stream ended with the provider's usage; callbacks fire then.
/// `text` and `params` as for [`completion`].
#[wasm_bindgen(js_name = completionStream)]
pub fn completion_stream(params: JsValue, text: Option<String>) -> js_sys::Promise {
    promise(Box::pin(async move {
        let request = request_json(&params, text);
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
        Ok(ChunkStream::new(started.stream, started.meta, opts, None, log).into())
    }))
}
