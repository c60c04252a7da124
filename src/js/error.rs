//! [`Error`] → a JS `Error` carrying the class name and OpenAI's fields. The npm wrapper
//! (`pkg/errors.js`) turns it into an instance of that class (`RateLimitError`, …); used
//! without the wrapper, it is still a plain `Error` with the same fields.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::Error;

fn set(target: &JsValue, key: &str, value: JsValue) {
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(target, &key.into(), &value);
}

fn opt(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

/// The JS exception for `e`: `name` is the class (`ErrorKind::js_class`), `edgellmKind` the
/// Rust kind, plus `status`, `type`, `code`, `param`, `llm_provider`, `model`, `retryAfterMs`.
pub(crate) fn to_js(e: Error) -> JsValue {
    let kind = e.kind();
    let err = js_sys::Error::new(e.message());
    err.set_name(kind.js_class());
    let v: JsValue = err.into();
    set(&v, "edgellmKind", format!("{kind:?}").into());
    set(&v, "status", e.status().into());
    set(&v, "type", kind.openai_type().into());
    set(&v, "code", e.code().into());
    set(&v, "param", opt(e.param()));
    set(&v, "llm_provider", opt(e.provider()));
    set(&v, "model", opt(e.model()));
    set(
        &v,
        "retryAfterMs",
        e.retry_after_ms()
            .map_or(JsValue::NULL, |ms| JsValue::from_f64(ms as f64)),
    );
    v
}
