//! Environment variables for the JS API: what `setEnv()` registered, else Node's `process.env`.
//!
//! Read lazily, one name at a time, when a provider asks for its own variables (the registry's
//! `ProviderInfo::env`), so nothing else in `process.env` is ever read.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::host::Env;

thread_local! {
    static VARS: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}

/// `setEnv()` values first, then `process.env` where it exists (Node, Bun, Deno's Node
/// compatibility, Workers with `nodejs_compat`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct JsEnv;

impl Env for JsEnv {
    fn var(&self, name: &str) -> Option<String> {
        VARS.with(|v| v.borrow().get(name).cloned())
            .or_else(|| process_env(name))
            .filter(|v| !v.is_empty())
    }
}

thread_local! {
    /// `process` and the key `"env"`, once `process` was found: a provider reads each of its
    /// variables on every call, and looking `process` up again (with the JS strings for both
    /// keys) was most of the cost. `process.env` itself is read each time, as it may be replaced.
    static PROCESS: RefCell<Option<(JsValue, JsValue)>> = const { RefCell::new(None) };
}

fn process_env(name: &str) -> Option<String> {
    PROCESS.with(|cell| {
        if cell.borrow().is_none() {
            let process = Reflect::get(&js_sys::global(), &"process".into()).ok()?;
            if !process.is_object() {
                return None;
            }
            *cell.borrow_mut() = Some((process, JsValue::from_str("env")));
        }
        // Shared borrows only while JS runs (a getter may call back in).
        let p = cell.borrow();
        let (process, env_key) = p.as_ref()?;
        let env = Reflect::get(process, env_key).ok()?;
        if !env.is_object() {
            return None;
        }
        Reflect::get(&env, &name.into()).ok()?.as_string()
    })
}

/// Registers environment variables for runtimes without `process.env` (browsers, Workers):
/// `setEnv({ OPENAI_API_KEY: "sk-..." })`. Merges into what was set before; a `null`,
/// `undefined` or empty value removes a name. Non-string values (such as a Worker's KV
/// bindings when passing its whole `env`) are ignored; numbers and booleans are stringified.
#[wasm_bindgen(js_name = setEnv)]
pub fn set_env(vars: &JsValue) -> Result<(), JsValue> {
    if vars.is_null() || vars.is_undefined() {
        return Ok(());
    }
    if !vars.is_object() {
        return Err(js_sys::TypeError::new("setEnv expects an object of strings").into());
    }
    let entries = Object::entries(vars.unchecked_ref());
    VARS.with(|map| {
        let mut map = map.borrow_mut();
        for entry in entries.iter() {
            let pair: js_sys::Array = entry.unchecked_into();
            let Some(name) = pair.get(0).as_string() else {
                continue;
            };
            let value = pair.get(1);
            if value.is_null() || value.is_undefined() {
                map.remove(&name);
                continue;
            }
            let text = value
                .as_string()
                .or_else(|| value.as_f64().map(|n| n.to_string()))
                .or_else(|| value.as_bool().map(|b| b.to_string()));
            match text {
                Some(s) if !s.is_empty() => {
                    map.insert(name, s);
                }
                Some(_) => {
                    map.remove(&name);
                }
                None => {}
            }
        }
    });
    Ok(())
}
