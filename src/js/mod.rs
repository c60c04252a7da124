//! The JS API, exported with wasm-bindgen. Thin: it converts values and calls [`crate::engine`].
//!
//! The npm package (`pkg/`) wraps these exports: it turns rejections into error classes,
//! `ChunkStream` into an async-iterable `ReadableStream`, and loads the wasm per runtime.

mod completion;
mod cost;
mod env;
mod error;
mod router;
mod stream;

use wasm_bindgen::prelude::*;

use crate::provider::registry;

/// The edgellm version (the crate's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The OpenAI parameters the provider of `model` accepts (LiteLLM's
/// `get_supported_openai_params`), or `null` when the provider is unknown.
#[wasm_bindgen(js_name = getSupportedOpenAIParams)]
pub fn get_supported_openai_params(
    model: &str,
    custom_llm_provider: Option<String>,
) -> Option<Vec<String>> {
    let (provider, model) = registry::resolve(model, custom_llm_provider.as_deref()).ok()?;
    Some(
        provider
            .supported_params(&model)
            .into_iter()
            .map(String::from)
            .collect(),
    )
}
