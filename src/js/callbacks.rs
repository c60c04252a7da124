//! Success and failure callbacks for every call of the JS API (LiteLLM's `success_callback` /
//! `failure_callback`): functions given per call (in the params) or module-wide
//! (`setCallbacks`), called as `(kwargs, response, startTime, endTime)` with
//! `kwargs.response_cost`, `kwargs.call_type` and `kwargs.standard_logging_object`; for streams
//! once the stream ended. Logger names among them go to `super::logging`. Fire-and-forget:
//! what a callback throws or rejects is swallowed.
//!
//! The core payload ([`crate::logging::payload`]) is built around a chat request; for the
//! other call types the function callbacks get it with LiteLLM's values for those calls:
//! `messages` is the call's input (`input`, `prompt` or `query`) and `response` its response.

use std::cell::RefCell;

use js_sys::{Array, Function, Reflect};
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

use super::cost::from_json;
use super::error::to_js;
use super::logging::Names;
use crate::cost::Usd;
use crate::engine::CallMeta;
use crate::logging::{self, CallRecord, Outcome};
use crate::options::{self, OPTION_KEYS};
use crate::router::RouteInfo;
use crate::types::{ChatRequest, ChatResponse, Usage};
use crate::Error;

/// Callback functions for one call.
#[derive(Debug, Clone, Default)]
struct Callbacks {
    success: Vec<Function>,
    failure: Vec<Function>,
    /// Logger names among the callbacks (`"langfuse"`, …): see `super::logging`.
    names: Names,
}

thread_local! {
    // `const`: no lazy-initialization code per thread-local (nor for `super::logging`'s).
    static GLOBAL: RefCell<Callbacks> = const {
        RefCell::new(Callbacks {
            success: Vec::new(),
            failure: Vec::new(),
            names: Names::NONE,
        })
    };
}

fn functions(v: &JsValue) -> Vec<Function> {
    if let Some(f) = v.dyn_ref::<Function>() {
        return vec![f.clone()];
    }
    if Array::is_array(v) {
        // Names of LiteLLM's integrations ("langfuse", …) are `Names`, not functions.
        return Array::from(v)
            .iter()
            .filter_map(|x| x.dyn_into::<Function>().ok())
            .collect();
    }
    Vec::new()
}

impl Callbacks {
    /// The callbacks in `config` (`success_callback`, `failure_callback`).
    fn from_config(config: &JsValue) -> Self {
        let get = |k: &str| Reflect::get(config, &k.into()).unwrap_or(JsValue::UNDEFINED);
        Callbacks {
            success: functions(&get("success_callback")),
            failure: functions(&get("failure_callback")),
            names: Names::from_values(&get("success_callback"), &get("failure_callback")),
        }
    }

    /// The callbacks in `params` plus the module-wide ones.
    fn for_call(params: &JsValue) -> Self {
        let mut cb = if params.is_object() {
            Self::from_config(params)
        } else {
            Self::default()
        };
        GLOBAL.with(|g| {
            let g = g.borrow();
            cb.success.extend(g.success.iter().cloned());
            cb.failure.extend(g.failure.iter().cloned());
            cb.names.extend(&g.names);
        });
        cb
    }

    fn is_empty(&self) -> bool {
        self.success.is_empty() && self.failure.is_empty() && self.names.is_empty()
    }

    fn has_failure(&self) -> bool {
        !self.failure.is_empty() || self.names.has_failure()
    }
}

/// Sets the module-wide callbacks (LiteLLM's `litellm.success_callback` /
/// `litellm.failure_callback`): `setCallbacks({ success_callback: [fn], failure_callback: [fn] })`.
/// Replaces what was set before; entries that are neither functions nor logger names are
/// ignored. They apply to every call: `completion`, `embedding`, `imageGeneration`,
/// `textCompletion`, `moderation`, `rerank`, and the Router's.
pub(crate) fn set_callbacks(config: &JsValue) {
    let cb = if config.is_object() {
        Callbacks::from_config(config)
    } else {
        Callbacks::default()
    };
    GLOBAL.with(|g| *g.borrow_mut() = cb);
}

fn call_id() -> String {
    let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{a:08x}-{b:08x}")
}

/// Milliseconds since the epoch (the JS clock).
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A successful call's response, for its callbacks.
pub(crate) enum Logged<'a> {
    /// A chat completion (the core payload carries it).
    Chat(&'a ChatResponse),
    /// Any other response, as JSON.
    Json(Value),
}

/// Where a success was routed and how it was called, for its callbacks.
#[derive(Clone, Copy, Default)]
pub(crate) struct Facts<'a> {
    /// The router's facts, for routed calls.
    pub route: Option<&'a RouteInfo>,
    /// The `metadata` the call was made with (the deployment's merged in, for routed calls);
    /// else the request's.
    pub metadata: Option<&'a Value>,
    /// `response_cost`.
    pub cost: Option<Usd>,
    /// Usage (a stream's final usage, or what the response reports).
    pub usage: Option<&'a Usage>,
    /// For streams: when the first chunk arrived (`meta.end_ms` then is the end).
    pub completion_start_ms: Option<u64>,
}

/// One call being logged: its callbacks and what its logs need from the request. Build it
/// before the call (it reads the callback functions from the params) and report the outcome
/// with [`LogCall::success`] or [`LogCall::failure`].
pub(crate) struct LogCall {
    callbacks: Callbacks,
    call_type: &'static str,
    /// The request in the shape the core payload takes: the chat request, or for other
    /// calls the model and the parameters other than the input.
    request: ChatRequest,
    /// LiteLLM's `messages` for calls other than chat: their input.
    input: Option<Value>,
    metadata: Option<Value>,
    stream: bool,
    start_ms: u64,
}

impl LogCall {
    /// A chat call (`call_type` "completion"); `request` is the params as JSON.
    pub(crate) fn chat(params: &JsValue, request: &Value) -> Self {
        let callbacks = Callbacks::for_call(params);
        let req = if callbacks.is_empty() {
            // Nothing listens: nothing to prepare.
            bare_request(&Value::Null, Map::new())
        } else {
            // A request the call rejects may not parse; it is logged with its model only.
            options::parse_chat(request.clone())
                .map_or_else(|_| bare_request(request, Map::new()), |(r, _)| r)
        };
        Self {
            stream: req.is_stream(),
            callbacks,
            call_type: "completion",
            request: req,
            input: None,
            metadata: request.get("metadata").cloned(),
            start_ms: now_ms(),
        }
    }

    /// A call of another type: `input_key` names the body field LiteLLM logs as `messages`.
    pub(crate) fn other(
        params: &JsValue,
        call_type: &'static str,
        input_key: &str,
        request: &Value,
    ) -> Self {
        let callbacks = Callbacks::for_call(params);
        let mut extra = Map::new();
        if let Some(obj) = request.as_object().filter(|_| !callbacks.is_empty()) {
            for (k, v) in obj {
                let skip = k == "model" || k == input_key || OPTION_KEYS.contains(&k.as_str());
                if !skip {
                    extra.insert(k.clone(), v.clone());
                }
            }
        }
        let req = bare_request(request, extra);
        Self {
            stream: request.get("stream").and_then(Value::as_bool) == Some(true),
            callbacks,
            call_type,
            request: req,
            input: Some(request.get(input_key).cloned().unwrap_or(Value::Null)),
            metadata: request.get("metadata").cloned(),
            start_ms: now_ms(),
        }
    }

    /// Marks the call as a stream (`stream: true` in its logs).
    pub(crate) fn streaming(mut self) -> Self {
        self.stream = true;
        self
    }

    /// Whether anything listens (functions or logger names).
    pub(crate) fn is_empty(&self) -> bool {
        self.callbacks.is_empty()
    }

    /// Reports a success. `id` is the response's id, where it has one.
    pub(crate) fn success(
        &self,
        id: Option<&str>,
        meta: &CallMeta,
        facts: Facts<'_>,
        response: Logged<'_>,
    ) {
        if self.callbacks.is_empty() {
            return;
        }
        let end_ms = now_ms();
        let generated;
        let id = match id.filter(|s| !s.is_empty()) {
            Some(id) => id,
            None => {
                generated = call_id();
                &generated
            }
        };
        let rec = CallRecord {
            stream: self.stream,
            route: facts.route,
            metadata: facts.metadata.or(self.metadata.as_ref()),
            completion_start_ms: facts.completion_start_ms,
            cost: facts.cost,
            ..CallRecord::new(id, self.call_type, &self.request, meta)
        };
        let (chat, json) = match response {
            Logged::Chat(r) => (Some(r), None),
            Logged::Json(v) => (None, Some(v)),
        };
        let outcome = Outcome::Success {
            response: chat,
            usage: facts.usage,
        };
        self.fire(&rec, &outcome, end_ms, json);
    }

    /// Reports a failure. `meta` holds what is known of where the call went (a stream that
    /// failed after it started); else only the model and the times are logged.
    pub(crate) fn failure(&self, e: &Error, meta: Option<&CallMeta>, route: Option<&RouteInfo>) {
        if !self.callbacks.has_failure() {
            return;
        }
        let end_ms = now_ms();
        let meta = meta.cloned().unwrap_or_else(|| {
            CallMeta::new(
                e.provider().unwrap_or_default(),
                e.model().unwrap_or(&self.request.model),
                self.start_ms,
                end_ms,
            )
        });
        let id = call_id();
        let rec = CallRecord {
            stream: self.stream,
            route,
            metadata: self.metadata.as_ref(),
            ..CallRecord::new(&id, self.call_type, &self.request, &meta)
        };
        self.fire(&rec, &Outcome::Failure(e), end_ms, None);
    }

    /// Calls the logger names and the success or failure functions with LiteLLM's arguments.
    fn fire(
        &self,
        rec: &CallRecord<'_>,
        outcome: &Outcome<'_>,
        end_ms: u64,
        response: Option<Value>,
    ) {
        self.callbacks.names.log(rec, outcome, end_ms);
        let fns = match outcome {
            Outcome::Success { .. } => &self.callbacks.success,
            Outcome::Failure(_) => &self.callbacks.failure,
        };
        if fns.is_empty() {
            return;
        }
        let mut payload = logging::payload(rec, outcome);
        if let Some(input) = &self.input {
            payload["messages"] = input.clone();
        }
        if let Some(r) = &response {
            payload["response"] = r.clone();
        }
        let mut kwargs = logging::callback_kwargs(rec, &payload);
        if let Some(input) = &self.input {
            // LiteLLM's kwargs carry the input of these calls as `input` too.
            kwargs["input"] = input.clone();
        }
        let response = match outcome {
            Outcome::Success { response: chat, .. } => match (&response, chat) {
                (Some(v), _) => from_json(v).unwrap_or(JsValue::NULL),
                (None, Some(r)) => crate::types::to_value_via_text(r)
                    .ok()
                    .and_then(|v| from_json(&v).ok())
                    .unwrap_or(JsValue::NULL),
                (None, None) => JsValue::NULL,
            },
            Outcome::Failure(e) => to_js((*e).clone()),
        };
        let Ok(kwargs) = from_json(&kwargs) else {
            return;
        };
        let args = Array::of4(
            &kwargs,
            &response,
            &js_sys::Date::new(&JsValue::from_f64(rec.meta.start_ms as f64)),
            &js_sys::Date::new(&JsValue::from_f64(end_ms as f64)),
        );
        for f in fns {
            // A throwing callback must not break the call; a rejecting one must not surface as
            // an unhandled rejection.
            if let Ok(ret) = f.apply(&JsValue::NULL, &args) {
                if ret.is_instance_of::<js_sys::Promise>() {
                    if let Ok(catch) = Reflect::get(&ret, &"catch".into()) {
                        let swallow = Closure::once_into_js(|_: JsValue| {});
                        if let Some(catch) = catch.dyn_ref::<Function>() {
                            let _ = catch.call1(&ret, &swallow);
                        }
                    }
                }
            }
        }
    }
}

/// A logged request with only `request`'s model and `extra`: one copy of the large
/// `ChatRequest` default, not one per use.
#[inline(never)]
fn bare_request(request: &Value, extra: Map<String, Value>) -> ChatRequest {
    ChatRequest {
        model: request["model"].as_str().unwrap_or_default().to_string(),
        extra,
        ..Default::default()
    }
}
