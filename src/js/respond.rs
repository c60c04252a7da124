//! A finished call → the JS value the caller gets: the response plus `_hidden_params`, after
//! its callbacks fired. Shared by every export, so the code after a call is not repeated per
//! response type: a call reduces its response to JSON text once ([`Done`]) and the rest is
//! one function ([`finish`]).

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::callbacks::{Facts, LogCall, Logged};
use super::error::to_js;
use crate::cost::Usd;
use crate::engine::CallMeta;
use crate::options::CallOptions;
use crate::router::RouteInfo;
use crate::types::Usage;
use crate::Error;

pub(crate) fn json_err(e: serde_json::Error) -> JsValue {
    to_js(Error::decode(format!("cannot serialize the response: {e}")))
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

/// LiteLLM's `_hidden_params` as JSON text: where the call went, what it cost; for routed calls
/// also the deployment and the router's response headers.
pub(crate) fn hidden_params(
    meta: &CallMeta,
    route: Option<&RouteInfo>,
    cost: Option<Usd>,
) -> String {
    let cost = cost.map(Usd::to_f64);
    let Some(route) = route else {
        // Every direct call makes this one: written straight to text, without a `Value` tree.
        // The fields in the order `json!` gave them (sorted), which callers may have relied on.
        #[derive(Serialize)]
        struct Direct<'a> {
            api_base: &'a Option<String>,
            attempts: u32,
            custom_llm_provider: &'a str,
            model: &'a str,
            response_cost: Option<f64>,
        }
        let direct = Direct {
            api_base: &meta.api_base,
            attempts: meta.attempts,
            custom_llm_provider: &meta.provider,
            model: &meta.model,
            response_cost: cost,
        };
        // Strings, an integer and a float: serializing cannot fail.
        return serde_json::to_string(&direct).unwrap_or_default();
    };
    // Written straight to text as well; the keys in the sorted order `json!` gave them.
    #[derive(Serialize)]
    struct Headers<'a> {
        #[serde(rename = "x-litellm-attempted-fallbacks")]
        fallbacks: u32,
        #[serde(rename = "x-litellm-attempted-retries")]
        retries: u32,
        #[serde(rename = "x-litellm-model-group")]
        model_group: &'a str,
        #[serde(rename = "x-litellm-model-id")]
        model_id: &'a str,
        #[serde(rename = "x-litellm-response-cost")]
        response_cost: Option<f64>,
    }
    #[derive(Serialize)]
    struct Routed<'a> {
        additional_headers: Headers<'a>,
        api_base: &'a Option<String>,
        attempts: u32,
        custom_llm_provider: &'a str,
        model: &'a str,
        model_group: &'a str,
        model_id: &'a str,
        response_cost: Option<f64>,
    }
    let routed = Routed {
        additional_headers: Headers {
            fallbacks: route.fallbacks,
            retries: route.retries,
            model_group: &route.model_group,
            model_id: &route.deployment_id,
            response_cost: cost,
        },
        api_base: &meta.api_base,
        attempts: route.requests,
        custom_llm_provider: &meta.provider,
        model: &meta.model,
        model_group: &route.model_group,
        model_id: &route.deployment_id,
        response_cost: cost,
    };
    serde_json::to_string(&routed).unwrap_or_default()
}

/// `text` (a JSON object) with `_hidden_params` (JSON text) added as its last field, parsed by
/// JS.
pub(crate) fn with_hidden(mut text: String, hidden: &str) -> Result<JsValue, JsValue> {
    // An upstream's own body may end in a newline.
    text.truncate(text.trim_end().len());
    if !text.ends_with('}') {
        return Err(to_js(Error::decode("the response is not a JSON object")));
    }
    text.pop();
    if text.trim_end() != "{" {
        text.push(',');
    }
    text.push_str("\"_hidden_params\":");
    text.push_str(hidden);
    text.push('}');
    js_sys::JSON::parse(&text)
}

/// A finished call, its response already JSON text.
pub(crate) struct Done {
    /// The response.
    pub text: String,
    /// Call facts.
    pub meta: CallMeta,
    /// The route, for routed calls.
    pub route: Option<RouteInfo>,
    /// `response_cost`.
    pub cost: Option<Usd>,
    /// Token usage, where the response reports it.
    pub usage: Option<Usage>,
    /// The `metadata` the call was made with.
    pub metadata: Option<Value>,
}

impl Done {
    /// A direct call's answer from its serialized response: the part of every endpoint's call
    /// future after the call that does not depend on the endpoint. Not generic and never
    /// inlined: one copy for every endpoint's call future instead of one per endpoint (the
    /// package's size; this, with the serializing error and the options, -77 B gzip).
    #[inline(never)]
    pub(crate) fn answered(
        text: serde_json::Result<String>,
        meta: CallMeta,
        cost: Option<Usd>,
        usage: Option<Usage>,
        opts: CallOptions,
    ) -> Result<Self, Error> {
        Ok(Self {
            text: text?,
            meta,
            route: None,
            cost,
            usage,
            metadata: opts.metadata,
        })
    }
}

/// Fires the callbacks for `result` and makes the JS result: the response with
/// `_hidden_params`, or the error.
pub(crate) fn finish(log: &LogCall, result: Result<Done, Error>) -> Result<JsValue, JsValue> {
    let done = result.map_err(|e| {
        log.failure(&e, None, None);
        to_js(e)
    })?;
    if !log.is_empty() {
        let json: Value = serde_json::from_str(&done.text).map_err(json_err)?;
        let id = json["id"].as_str().map(str::to_string);
        let facts = Facts {
            route: done.route.as_ref(),
            metadata: done.metadata.as_ref(),
            cost: done.cost,
            usage: done.usage.as_ref(),
            ..Facts::default()
        };
        log.success(id.as_deref(), &done.meta, facts, Logged::Json(json));
    }
    let hidden = hidden_params(&done.meta, done.route.as_ref(), done.cost);
    with_hidden(done.text, &hidden)
}

/// One endpoint's own part of a call: parse, call (or route), price, serialize. Boxed so that
/// the rest of a call ([`run`]) is compiled once for every endpoint.
pub(crate) type Call = Answer<'static>;

/// A call's future that borrows for `'e` (the router's per-request environment).
pub(crate) type Answer<'e> = Pin<Box<dyn Future<Output = Result<Done, Error>> + 'e>>;

/// What an async export resolves to (or rejects with), boxed: see [`promise`].
pub(crate) type Settles = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// The promise of every async export. `future_to_promise` (and an `async fn` export, which
/// calls it) is generic over the future: each future type brought its own copy of the task,
/// promise-executor and closure glue, about 1 KB of wasm for each of 13 exports. Behind one
/// boxed type they share one copy; the box is one small allocation per call.
pub(crate) fn promise(settles: Settles) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(settles)
}

/// What a JS export of an endpoint other than chat needs to know about it.
pub(crate) struct Export {
    /// LiteLLM's `call_type`.
    pub call_type: &'static str,
    /// The body field logged as `messages`.
    pub input_key: &'static str,
    /// The error message for params that are not an object.
    pub expects: &'static str,
}

/// Runs one call: reads the params and their callbacks, runs `call` on the JSON request, and
/// makes the JS result (see [`finish`]). Not generic, so compiled once.
pub(crate) fn run(
    params: JsValue,
    export: Export,
    call: Box<dyn FnOnce(Value) -> Call>,
) -> js_sys::Promise {
    promise(Box::pin(async move {
        let request = params_json(&params, export.expects);
        let log = LogCall::other(
            &params,
            export.call_type,
            export.input_key,
            request.as_ref().unwrap_or(&Value::Null),
        );
        let result = match request {
            Ok(r) => call(r).await,
            Err(e) => Err(e),
        };
        finish(&log, result)
    }))
}
