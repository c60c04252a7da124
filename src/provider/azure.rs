//! Azure OpenAI (`azure/<deployment>`) and Azure AI Foundry (`azure_ai/<model>`).
//!
//! Both speak OpenAI's chat protocol, so both are [`Compat`] rows; this module holds the rows
//! and the code their URLs and auth need.
//!
//! Azure OpenAI — <https://learn.microsoft.com/azure/ai-foundry/openai/reference>:
//! - `POST {AZURE_API_BASE}/openai/deployments/{deployment}/chat/completions?api-version=…`;
//!   with `api_version` `v1`/`latest`/`preview` the v1 API:
//!   `POST {base}/openai/v1/chat/completions` with the deployment as `model`.
//! - Auth: `api-key: <key>`, or `Authorization: Bearer <Entra ID token>` with
//!   `azure_ad_token` (call option) or `AZURE_AD_TOKEN`.
//! - Variables as LiteLLM reads them: `AZURE_API_KEY` (or `AZURE_OPENAI_API_KEY`),
//!   `AZURE_API_BASE`, `AZURE_API_VERSION` (default LiteLLM's `2025-02-01-preview`).
//!
//! Quirks:
//! - Content filtering: a refused prompt is a 400 with `error.code = "content_filter"` and
//!   `error.innererror.code = "ResponsibleAIPolicyViolation"` →
//!   [`ErrorKind::ContentPolicyViolation`](crate::ErrorKind::ContentPolicyViolation) (read from
//!   those codes by the shared OpenAI error parser); a filtered completion ends with
//!   `finish_reason: "content_filter"`, passed through.
//! - Streams start with a chunk that has no choices, only `prompt_filter_results`; it is
//!   skipped by the shared decoder.
//!
//! Azure AI Foundry — LiteLLM `litellm/llms/azure_ai/chat/transformation.py`:
//! `AZURE_AI_API_BASE` is required; hosts under `*.services.ai.azure.com` get
//! `/models/chat/completions`, others `/chat/completions`; `api-version` is added when given;
//! `*.services.ai.azure.com` and `*.openai.azure.com` hosts take `api-key`, others Bearer.
//! Text-only content lists are sent as strings.

use super::openai_compat::{Compat, Quirks, DEFAULT};
use super::{Capabilities, ProviderInfo, Target};
use crate::http::HttpRequest;
use crate::{Error, Result};

/// LiteLLM's `AZURE_DEFAULT_API_VERSION`.
pub const DEFAULT_API_VERSION: &str = "2025-02-01-preview";

const CAPS: Capabilities = Capabilities {
    chat: true,
    stream: true,
    tools: true,
    vision: true,
    embeddings: true,
    images: true,
    text_completion: &[],
    moderation: false,
    rerank: false,
};

/// The Azure OpenAI row.
pub const AZURE: Compat = Compat {
    info: ProviderInfo {
        id: "azure",
        name: "Azure OpenAI",
        default_base: "",
        env: &[
            "AZURE_API_KEY",
            "AZURE_OPENAI_API_KEY",
            "AZURE_API_BASE",
            "AZURE_API_VERSION",
            "AZURE_AD_TOKEN",
        ],
        auth: "api-key (or Entra ID Bearer)",
        caps: CAPS,
    },
    hooks: super::openai_compat::Hooks {
        url: Some(azure_url),
        auth: Some(azure_auth),
        model: None,
    },
    ..DEFAULT
};

/// The Azure AI Foundry row.
pub const AZURE_AI: Compat = Compat {
    info: ProviderInfo {
        id: "azure_ai",
        name: "Azure AI Foundry",
        default_base: "",
        env: &["AZURE_AI_API_KEY", "AZURE_AI_API_BASE"],
        auth: "api-key or Bearer (by host)",
        caps: Capabilities {
            images: false,
            ..CAPS
        },
    },
    quirks: Quirks {
        content_parts_as_string: true,
        ..DEFAULT.quirks
    },
    hooks: super::openai_compat::Hooks {
        url: Some(ai_url),
        auth: Some(ai_auth),
        model: None,
    },
    ..DEFAULT
};

fn is_v1(version: &str) -> bool {
    matches!(version, "v1" | "latest" | "preview")
}

/// `{base}/openai/deployments/{deployment}/chat/completions?api-version=…`, or the v1 API.
fn azure_url(row: &Compat, target: &Target) -> Result<String> {
    let base = row.base(target)?;
    check_base(&base)?;
    let version = target
        .api_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_API_VERSION);
    if is_v1(version) {
        let root = super::trim_end(super::trim_end(&base, "/openai/v1"), "/openai");
        let query = if version == "preview" {
            "?api-version=preview"
        } else {
            ""
        };
        return Ok(format!("{root}/openai/v1/chat/completions{query}"));
    }
    let root = super::trim_end(&base, "/openai");
    let deployment = encode_path(&target.model);
    Ok(format!(
        "{root}/openai/deployments/{deployment}/chat/completions?api-version={}",
        encode_query(version)
    ))
}

/// The Entra ID token, if one was given (option `azure_ad_token`, or `AZURE_AD_TOKEN` when no
/// key is set).
fn ad_token(target: &Target) -> Option<String> {
    if let Some(t) = target.setting("azure_ad_token") {
        return Some(t.to_string());
    }
    let env_token = target.setting("AZURE_AD_TOKEN")?;
    let has_key_var = ["AZURE_API_KEY", "AZURE_OPENAI_API_KEY"]
        .iter()
        .any(|v| target.setting(v).is_some());
    let key = target.api_key.as_ref().map(|k| k.expose());
    // `target_for` takes AZURE_AD_TOKEN as the key when no key variable is set; it is a
    // bearer token, not an `api-key`.
    (!has_key_var && key == Some(env_token)).then(|| env_token.to_string())
}

fn azure_auth(_row: &Compat, target: &Target, http: &mut HttpRequest) -> Result<()> {
    if let Some(token) = ad_token(target) {
        http.set_header("authorization", format!("Bearer {token}"));
        return Ok(());
    }
    let key = target.require_key("AZURE_API_KEY (or pass `azure_ad_token`)")?;
    http.set_header("api-key", key);
    Ok(())
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    host.rsplit_once('@')
        .map_or(host, |(_, h)| h)
        .split(':')
        .next()
        .unwrap_or("")
}

fn uses_api_key_header(base: &str) -> bool {
    let host = host_of(base);
    host.ends_with(".services.ai.azure.com") || host.ends_with(".openai.azure.com")
}

/// LiteLLM's `AzureAIStudioConfig.get_complete_url`.
fn ai_url(row: &Compat, target: &Target) -> Result<String> {
    let base = row.base(target)?;
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p.trim_end_matches('/'), Some(q)),
        None => (base.as_str(), None),
    };
    let ending = if path.contains("services.ai.azure.com") {
        "/models/chat/completions"
    } else {
        "/chat/completions"
    };
    let mut url = if path.ends_with(ending) {
        path.to_string()
    } else {
        format!("{path}{ending}")
    };
    let mut params: Vec<String> = query
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if let Some(v) = target.api_version.as_deref().filter(|v| !v.is_empty()) {
        if !params.iter().any(|p| p.starts_with("api-version=")) {
            params.push(format!("api-version={}", encode_query(v)));
        }
    }
    if !params.is_empty() {
        url.push('?');
        url.push_str(&params.join("&"));
    }
    Ok(url)
}

fn ai_auth(row: &Compat, target: &Target, http: &mut HttpRequest) -> Result<()> {
    let key = target.require_key(row.key_var())?;
    if uses_api_key_header(&row.base(target)?) {
        http.set_header("api-key", key);
    } else {
        http.set_header("authorization", format!("Bearer {key}"));
    }
    Ok(())
}

fn encode_path(s: &str) -> String {
    percent_encode(s, |c| c.is_ascii_alphanumeric() || "-._~".contains(c))
}

fn encode_query(s: &str) -> String {
    percent_encode(s, |c| c.is_ascii_alphanumeric() || "-._~".contains(c))
}

fn percent_encode(s: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Rejects an Azure base that already names a deployment (a common misconfiguration that
/// would otherwise produce a doubled path and a confusing 404).
pub fn check_base(base: &str) -> Result<()> {
    if base.contains("/openai/deployments/") {
        return Err(Error::bad_request(
            "`api_base` for azure is the resource endpoint (https://<resource>.openai.azure.com), without /openai/deployments/…",
        )
        .with_param("api_base"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Secret;
    use serde_json::Value;

    fn target(model: &str, base: &str, version: Option<&str>) -> Target {
        Target {
            provider: "azure".into(),
            model: model.into(),
            api_base: Some(base.into()),
            api_version: version.map(str::to_string),
            api_key: Some(Secret::new("k")),
            ..Target::default()
        }
    }

    #[test]
    fn deployment_url_and_v1_url() {
        let t = target("my gpt", "https://r.openai.azure.com/", Some("2024-10-21"));
        assert_eq!(
            azure_url(&AZURE, &t).unwrap(),
            "https://r.openai.azure.com/openai/deployments/my%20gpt/chat/completions?api-version=2024-10-21"
        );
        let t = target("gpt-4o", "https://r.openai.azure.com/openai/v1", Some("v1"));
        assert_eq!(
            azure_url(&AZURE, &t).unwrap(),
            "https://r.openai.azure.com/openai/v1/chat/completions"
        );
        let t = target("gpt-4o", "https://r.openai.azure.com", None);
        assert!(azure_url(&AZURE, &t)
            .unwrap()
            .ends_with("?api-version=2025-02-01-preview"));
    }

    #[test]
    fn ad_token_from_env_is_bearer_but_key_wins() {
        let mut t = target("d", "https://r.openai.azure.com", None);
        t.api_key = Some(Secret::new("tok"));
        t.extra
            .insert("AZURE_AD_TOKEN".into(), Value::String("tok".into()));
        let mut http = HttpRequest::post_json("u", &Value::Null);
        azure_auth(&AZURE, &t, &mut http).unwrap();
        assert_eq!(
            crate::http::header(&http.headers, "authorization"),
            Some("Bearer tok")
        );
        t.extra
            .insert("AZURE_API_KEY".into(), Value::String("key".into()));
        t.api_key = Some(Secret::new("key"));
        let mut http = HttpRequest::post_json("u", &Value::Null);
        azure_auth(&AZURE, &t, &mut http).unwrap();
        assert_eq!(crate::http::header(&http.headers, "api-key"), Some("key"));
    }

    #[test]
    fn foundry_paths_and_auth_follow_the_host() {
        let t = target(
            "m",
            "https://x.services.ai.azure.com",
            Some("2024-05-01-preview"),
        );
        assert_eq!(
            ai_url(&AZURE_AI, &t).unwrap(),
            "https://x.services.ai.azure.com/models/chat/completions?api-version=2024-05-01-preview"
        );
        let t = target(
            "m",
            "https://my-endpoint.eastus2.inference.ml.azure.com/v1",
            None,
        );
        assert_eq!(
            ai_url(&AZURE_AI, &t).unwrap(),
            "https://my-endpoint.eastus2.inference.ml.azure.com/v1/chat/completions"
        );
        assert!(uses_api_key_header(
            "https://x.services.ai.azure.com/models"
        ));
        assert!(!uses_api_key_header("https://x.inference.ml.azure.com"));
        assert!(check_base("https://r.openai.azure.com/openai/deployments/x").is_err());
    }
}
