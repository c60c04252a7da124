//! THE provider table. Every lookup (model prefix, docs table, env var names, worker secrets)
//! derives from [`PROVIDERS`]; adding an OpenAI-compatible provider is one row here.

use super::openai_compat::{Auth, Compat, Quirks, DEFAULT};
use super::{Capabilities, Provider, ProviderInfo};
use crate::{Error, ErrorKind, Result};

const CHAT_ONLY: Capabilities = Capabilities {
    chat: true,
    stream: true,
    tools: true,
    vision: false,
    embeddings: false,
    images: false,
};

/// One table row.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    /// An OpenAI-compatible provider.
    Compat(Compat),
    /// A provider with its own protocol module.
    Native(&'static (dyn Provider + Send)),
}

impl Entry {
    /// The provider behind the row.
    pub fn provider(&self) -> &dyn Provider {
        match self {
            Entry::Compat(c) => c,
            Entry::Native(p) => *p,
        }
    }
}

impl std::fmt::Debug for dyn Provider + Send {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Provider({})", self.info().id)
    }
}

/// Every provider.
pub static PROVIDERS: &[Entry] = &[
    Entry::Compat(Compat {
        info: ProviderInfo {
            id: "openai",
            name: "OpenAI",
            default_base: "https://api.openai.com/v1",
            env: &["OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"],
            caps: Capabilities {
                vision: true,
                embeddings: true,
                images: true,
                ..CHAT_ONLY
            },
            ..DEFAULT.info
        },
        ..DEFAULT
    }),
    Entry::Compat(Compat {
        info: ProviderInfo {
            id: "openai_like",
            name: "Any OpenAI-compatible server",
            default_base: "",
            env: &[],
            auth: "Bearer (optional)",
            caps: Capabilities {
                vision: true,
                embeddings: true,
                ..CHAT_ONLY
            },
        },
        auth: Auth::Optional,
        quirks: Quirks { ..DEFAULT.quirks },
        ..DEFAULT
    }),
];

/// The row for a provider id.
pub fn get(id: &str) -> Option<&'static Entry> {
    PROVIDERS.iter().find(|e| e.provider().info().id == id)
}

/// Splits a LiteLLM model string into (provider, provider-side model).
///
/// `groq/llama-3.1-8b-instant` → groq; `openrouter/anthropic/claude-3.5-sonnet` → openrouter with
/// model `anthropic/claude-3.5-sonnet`; a bare `gpt-4o` or `claude-…` is inferred; with
/// `custom_llm_provider` the whole string is the model.
///
/// ```
/// let (p, m) = edgellm::provider::registry::resolve("openai/gpt-4o", None).unwrap();
/// assert_eq!((p.info().id, m.as_str()), ("openai", "gpt-4o"));
/// let (p, _) = edgellm::provider::registry::resolve("gpt-4o-mini", None).unwrap();
/// assert_eq!(p.info().id, "openai");
/// ```
pub fn resolve(
    model: &str,
    custom_llm_provider: Option<&str>,
) -> Result<(&'static dyn Provider, String)> {
    if let Some(id) = custom_llm_provider {
        let e = get(id).ok_or_else(|| unknown_provider(id))?;
        return Ok((e.provider(), model.to_string()));
    }
    if let Some((prefix, rest)) = model.split_once('/') {
        if let Some(e) = get(prefix) {
            if rest.is_empty() {
                return Err(Error::bad_request(format!(
                    "model `{model}` names no model after the provider"
                ))
                .with_param("model"));
            }
            return Ok((e.provider(), rest.to_string()));
        }
    }
    if let Some(id) = infer(model) {
        if let Some(e) = get(id) {
            return Ok((e.provider(), model.to_string()));
        }
    }
    Err(Error::new(
        ErrorKind::BadRequest,
        format!("LLM provider not provided or unknown for model `{model}`. Pass the model as `<provider>/<model>`, e.g. `openai/gpt-4o`, or set `custom_llm_provider`."),
    )
    .with_param("model"))
}

/// Infers the provider of a bare, well-known model name.
pub fn infer(model: &str) -> Option<&'static str> {
    const PREFIXES: &[(&str, &str)] = &[
        ("gpt-", "openai"),
        ("o1", "openai"),
        ("o3", "openai"),
        ("o4", "openai"),
        ("chatgpt-", "openai"),
        ("text-embedding-", "openai"),
        ("dall-e", "openai"),
        ("gpt-image", "openai"),
        ("omni-moderation", "openai"),
        ("text-moderation", "openai"),
        ("claude-", "anthropic"),
        ("gemini-", "gemini"),
        ("command", "cohere"),
        ("mistral-", "mistral"),
        ("codestral", "mistral"),
        ("grok-", "xai"),
        ("deepseek-", "deepseek"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| model.starts_with(p))
        .map(|(_, id)| *id)
}

fn unknown_provider(id: &str) -> Error {
    Error::bad_request(format!("unknown provider `{id}`")).with_param("custom_llm_provider")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for e in PROVIDERS {
            let info = e.provider().info();
            assert!(seen.insert(info.id), "duplicate id {}", info.id);
            assert!(
                info.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                info.id
            );
            for v in info.env {
                assert!(
                    v.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                    "{v}"
                );
            }
            assert!(
                info.default_base.is_empty()
                    || info.default_base.starts_with("https://")
                    || info.default_base.starts_with("http://")
            );
        }
    }
}
