//! Small lookups: the version, and which OpenAI parameters a provider accepts.

use wasm_bindgen::prelude::*;

use crate::provider::{self, registry};

/// The edgellm version (the crate's).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The OpenAI parameters the provider of `model` accepts (LiteLLM's
/// `get_supported_openai_params`), or `undefined` when the provider is unknown.
#[wasm_bindgen(js_name = getSupportedOpenAIParams)]
pub fn get_supported_openai_params(
    model: &str,
    custom_llm_provider: Option<String>,
) -> Option<Vec<String>> {
    let params = match custom_llm_provider {
        None => provider::supported_openai_params(model).ok()?,
        Some(id) => {
            let (p, model) = registry::resolve(model, Some(&id)).ok()?;
            p.supported_params(&model)
        }
    };
    Some(params.into_iter().map(String::from).collect())
}
