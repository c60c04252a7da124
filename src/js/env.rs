//! Environment variables for the JS API: what `setEnv()` registered, else Node's `process.env`.
//!
//! Read lazily, one name at a time, when a provider asks for its own variables (the registry's
//! `ProviderInfo::env`), so nothing else in `process.env` is ever read.

use std::cell::RefCell;

use js_sys::Object;
use wasm_bindgen::prelude::*;

use crate::host::Env;
use crate::str_map::StrMap;

thread_local! {
    // A sorted map: the config's `environment_variables` use the same type, so its code is
    // shared, where a `HashMap` brought its own (and a hasher).
    static VARS: RefCell<StrMap<String>> = const { RefCell::new(StrMap::new()) };
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

// One JS call per name: `process.env[name]` read where `process.env` is an object, a string
// value or nothing (a throwing getter or Proxy included). `process` and `process.env` are looked
// up on every read, as either may be replaced. Two `Reflect.get` calls per name, each through
// wasm-bindgen's exception wrapper, were ≈ 1 % of a call's CPU in Node (bench/profile-sdk.mjs).
#[wasm_bindgen(inline_js = r#"
export function edgellm_env_var(name) {
  try {
    const p = globalThis.process;
    const env = p !== null && typeof p === "object" ? p.env : undefined;
    if (env === null || typeof env !== "object") return undefined;
    const v = env[name];
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}
"#)]
extern "C" {
    fn edgellm_env_var(name: &str) -> Option<String>;
}

fn process_env(name: &str) -> Option<String> {
    edgellm_env_var(name)
}

/// Registers environment variables for runtimes without `process.env` (browsers, Workers):
/// `setEnv({ OPENAI_API_KEY: "sk-..." })`. Merges into what was set before; a `null`,
/// `undefined` or empty value removes a name. Non-string values (such as a Worker's KV
/// bindings when passing its whole `env`) are ignored; numbers and booleans are stringified.
pub(crate) fn set_env(vars: &JsValue) -> Result<(), JsValue> {
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
