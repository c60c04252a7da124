//! Which OpenAI parameters a provider accepts (the package's `getSupportedOpenAIParams`,
//! through [`super::cost::lookup`]).

use crate::provider::{self, registry};

/// The OpenAI parameters the provider of `model` accepts (LiteLLM's
/// `get_supported_openai_params`), or `None` when the provider is unknown.
pub(crate) fn supported_openai_params(
    model: &str,
    custom_llm_provider: Option<&str>,
) -> Option<Vec<&'static str>> {
    match custom_llm_provider {
        None => provider::supported_openai_params(model).ok(),
        Some(id) => {
            let (p, model) = registry::resolve(model, Some(id)).ok()?;
            Some(p.supported_params(&model))
        }
    }
}
