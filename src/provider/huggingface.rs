//! Hugging Face: the Inference Providers router (OpenAI-compatible) and dedicated Inference
//! Endpoints. The provider itself is a [`Compat`] row in the registry; this file holds the two
//! hooks its URL and model naming need.
//!
//! - Router: <https://huggingface.co/docs/inference-providers/index> —
//!   `POST https://router.huggingface.co/v1/chat/completions`, `model` may carry a
//!   `:provider` suffix to pin the serving provider.
//! - LiteLLM's model strings (`litellm/llms/huggingface/chat/transformation.py`):
//!   `huggingface/<org>/<model>` goes to the router; `huggingface/<provider>/<org>/<model>`
//!   pins a provider; with `api_base` (an Inference Endpoint or TGI server) the URL is the
//!   base plus `/v1/chat/completions` (or `/chat/completions` when the base already ends in
//!   `/v1`, or nothing when it already ends in `/chat/completions`), and the model is sent as
//!   given.
//!
//! Quirks:
//! - LiteLLM looks the provider's own model id up in the Hub's mapping over the network before
//!   each call; the router accepts `<org>/<model>:<provider>` and does that lookup itself, so no
//!   extra request (and no I/O in the core) is needed.

use super::openai_compat::Compat;
use super::Target;
use crate::Result;

/// Router base (the row's default).
pub const ROUTER_BASE: &str = "https://router.huggingface.co/v1";

/// `<provider>/<org>/<model>` → `Some(provider)`; `<org>/<model>` → `None`.
fn pinned_provider(model: &str) -> Option<(&str, &str)> {
    let (first, rest) = model.split_once('/')?;
    rest.contains('/').then_some((first, rest))
}

/// The chat URL: LiteLLM's `_build_chat_completion_url` for an explicit base, the router
/// otherwise.
pub fn url(row: &Compat, target: &Target) -> Result<String> {
    let base = row.base(target)?;
    if target.api_base.as_deref().is_some_and(|b| !b.is_empty()) {
        let mut u = base.trim_end_matches('/').to_string();
        if u.ends_with("/v1") {
            u.push_str("/chat/completions");
        }
        if !u.ends_with("/chat/completions") {
            u.push_str("/v1/chat/completions");
        }
        return Ok(u);
    }
    Ok(format!("{base}/chat/completions"))
}

/// The model sent upstream: `<org>/<model>:<provider>` when a provider is pinned and the
/// router is used; as given otherwise.
pub fn model(target: &Target) -> String {
    let explicit_base = target.api_base.as_deref().is_some_and(|b| !b.is_empty());
    match pinned_provider(&target.model) {
        Some((provider, id)) if !explicit_base => format!("{id}:{provider}"),
        _ => target.model.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(model: &str, base: Option<&str>) -> Target {
        Target {
            model: model.into(),
            api_base: base.map(str::to_string),
            ..Target::default()
        }
    }

    #[test]
    fn endpoint_urls_follow_litellm() {
        let row = Compat {
            info: super::super::ProviderInfo {
                default_base: ROUTER_BASE,
                ..super::super::openai_compat::DEFAULT.info
            },
            ..super::super::openai_compat::DEFAULT
        };
        for (base, want) in [
            (
                "https://x.endpoints.huggingface.cloud",
                "https://x.endpoints.huggingface.cloud/v1/chat/completions",
            ),
            (
                "https://x.endpoints.huggingface.cloud/v1/",
                "https://x.endpoints.huggingface.cloud/v1/chat/completions",
            ),
            (
                "http://tgi:8080/v1/chat/completions",
                "http://tgi:8080/v1/chat/completions",
            ),
        ] {
            assert_eq!(url(&row, &target("tgi", Some(base))).unwrap(), want);
        }
        assert_eq!(
            url(&row, &target("meta-llama/Llama-3.3-70B-Instruct", None)).unwrap(),
            "https://router.huggingface.co/v1/chat/completions"
        );
    }

    #[test]
    fn pinned_provider_becomes_a_suffix() {
        assert_eq!(
            model(&target("together/deepseek-ai/DeepSeek-R1", None)),
            "deepseek-ai/DeepSeek-R1:together"
        );
        assert_eq!(model(&target("Qwen/Qwen3-8B", None)), "Qwen/Qwen3-8B");
        assert_eq!(
            model(&target(
                "together/deepseek-ai/DeepSeek-R1",
                Some("http://x")
            )),
            "together/deepseek-ai/DeepSeek-R1"
        );
    }
}
