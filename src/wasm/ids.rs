//! [`JsIds`]: values that repeat from one request to the next (per deployment: an upstream URL
//! and its headers, a set of reply headers) cross into JS once and are named by a small id after
//! that, so a request passes a number instead of strings that JS would decode and split again.

use std::cell::RefCell;

use wasm_bindgen::JsValue;

/// At most this many values are kept; past it the ids start over (a caller whose values change
/// per request, such as a signed header, would otherwise grow the list without bound).
const MAX: usize = 64;

/// The values defined on the JS side, each at its id. A value is defined before its id is first
/// used, and again after the list starts over, so an id in use always names the value it was
/// defined with (the JS list only grows or is overwritten at an id; a fresh wasm instance starts
/// with an empty list here). Keep one in a `thread_local!`.
///
/// ```ignore
/// thread_local! { static SETS: JsIds<String> = const { JsIds::new() }; }
/// let id = SETS.with(|s| s.id(|v| *v == set, || set.clone(), |id, v| define_in_js(id, v)))?;
/// ```
#[derive(Debug)]
pub struct JsIds<T> {
    values: RefCell<Vec<T>>,
}

impl<T> JsIds<T> {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            values: RefCell::new(Vec::new()),
        }
    }

    /// The id of the value `is` matches; if there is none, the value `make` gives, defined in
    /// JS by `define` (and recorded only once JS has it: a failed definition leaves nothing
    /// that names it).
    pub fn id(
        &self,
        is: impl Fn(&T) -> bool,
        make: impl FnOnce() -> T,
        define: impl FnOnce(u32, &T) -> Result<(), JsValue>,
    ) -> Result<u32, JsValue> {
        let mut values = self.values.borrow_mut();
        if let Some(id) = values.iter().position(is) {
            return Ok(id as u32);
        }
        if values.len() >= MAX {
            values.clear();
        }
        let id = values.len() as u32;
        let value = make();
        define(id, &value)?;
        values.push(value);
        Ok(id)
    }
}

impl<T> Default for JsIds<T> {
    fn default() -> Self {
        Self::new()
    }
}
