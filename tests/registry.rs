//! Guards on the provider table: well-formed rows, LiteLLM's variable names, model-string
//! resolution for every id, and the parameter lists `supported_openai_params` reports.

use edgellm::provider::registry::{self, PROVIDERS};
use edgellm::provider::supported_openai_params;
use edgellm::ErrorKind;

/// The goal: at least 45 chat providers in the table.
const MIN_PROVIDERS: usize = 45;

#[test]
fn table_is_large_and_well_formed() {
    // -- Setup & Fixtures
    let mut ids = std::collections::HashSet::new();
    // -- Exec & Check
    for e in PROVIDERS {
        let info = e.provider().info();
        assert!(ids.insert(info.id), "duplicate id {}", info.id);
        assert!(!info.name.is_empty(), "{}: no display name", info.id);
        assert!(!info.auth.is_empty(), "{}: no auth description", info.id);
        assert!(
            !info.caps.chat || info.caps.stream,
            "{}: a chat provider must stream",
            info.id
        );
        let base = info.default_base;
        assert!(
            base.is_empty()
                || ((base.starts_with("https://") || base.starts_with("http://"))
                    && !base.ends_with('/')
                    && !base.contains(' ')),
            "{}: bad default base {base:?}",
            info.id
        );
    }
    let chat = PROVIDERS
        .iter()
        .filter(|e| e.provider().info().caps.chat)
        .count();
    assert!(
        chat >= MIN_PROVIDERS,
        "{chat} chat providers, want at least {MIN_PROVIDERS}"
    );
}

#[test]
fn env_var_names_match_litellm() {
    let want: &[(&str, &[&str])] = &[
        ("xai", &["XAI_API_KEY"]),
        ("openrouter", &["OPENROUTER_API_KEY", "OPENROUTER_API_BASE"]),
        ("groq", &["GROQ_API_KEY"]),
        ("nvidia_nim", &["NVIDIA_NIM_API_KEY", "NVIDIA_NIM_API_BASE"]),
        ("novita", &["NOVITA_API_KEY"]),
        ("deepseek", &["DEEPSEEK_API_KEY"]),
        ("together_ai", &["TOGETHERAI_API_KEY"]),
        ("fireworks_ai", &["FIREWORKS_AI_API_KEY"]),
        ("perplexity", &["PERPLEXITYAI_API_KEY"]),
        ("mistral", &["MISTRAL_API_KEY"]),
        (
            "cloudflare",
            &["CLOUDFLARE_API_KEY", "CLOUDFLARE_ACCOUNT_ID"],
        ),
        ("github", &["GITHUB_API_KEY"]),
        ("databricks", &["DATABRICKS_API_KEY", "DATABRICKS_API_BASE"]),
        ("hosted_vllm", &["HOSTED_VLLM_API_BASE"]),
        ("lm_studio", &["LM_STUDIO_API_BASE"]),
        ("huggingface", &["HF_TOKEN"]),
        (
            "azure",
            &["AZURE_API_KEY", "AZURE_API_BASE", "AZURE_API_VERSION"],
        ),
        ("azure_ai", &["AZURE_AI_API_KEY", "AZURE_AI_API_BASE"]),
        ("ollama", &["OLLAMA_API_BASE"]),
        ("ollama_chat", &["OLLAMA_API_BASE"]),
    ];
    for (id, vars) in want {
        let e = registry::get(id).unwrap_or_else(|| panic!("provider {id} missing"));
        for v in *vars {
            assert!(
                e.provider().info().env.contains(v),
                "{id} does not read {v} (reads {:?})",
                e.provider().info().env
            );
        }
    }
}

#[test]
fn every_id_resolves_as_a_model_prefix() {
    for e in PROVIDERS {
        let id = e.provider().info().id;
        let (p, m) = registry::resolve(&format!("{id}/org/some-model"), None).unwrap();
        assert_eq!(p.info().id, id);
        assert_eq!(
            m, "org/some-model",
            "{id}: the rest after the first `/` is the model"
        );
    }
    let Err(e) = registry::resolve("nosuchprovider/x", None) else {
        panic!("an unknown prefix must not resolve");
    };
    assert_eq!(e.kind(), ErrorKind::BadRequest);
}

#[test]
fn supported_params_follow_each_providers_docs() {
    let openai = supported_openai_params("openai/gpt-4o").unwrap();
    assert!(openai.contains(&"logprobs") && openai.contains(&"tools"));
    let groq = supported_openai_params("groq/llama-3.3-70b-versatile").unwrap();
    for p in ["logprobs", "logit_bias", "top_logprobs"] {
        assert!(!groq.contains(&p), "groq rejects {p}");
    }
    assert!(groq.contains(&"tools") && groq.contains(&"temperature"));
    let grok4 = supported_openai_params("xai/grok-4").unwrap();
    assert!(!grok4.contains(&"stop") && !grok4.contains(&"frequency_penalty"));
    assert!(supported_openai_params("xai/grok-3")
        .unwrap()
        .contains(&"stop"));
    let pplx = supported_openai_params("perplexity/sonar").unwrap();
    assert!(!pplx.contains(&"tools"));
    let ollama = supported_openai_params("ollama/llama3.2").unwrap();
    assert!(!ollama.contains(&"tools") && ollama.contains(&"max_tokens"));
    assert!(supported_openai_params("ollama_chat/llama3.2")
        .unwrap()
        .contains(&"tools"));
    assert!(supported_openai_params("gpt-4o-mini")
        .unwrap()
        .contains(&"seed"));
    assert_eq!(
        supported_openai_params("unknown-model-x")
            .unwrap_err()
            .kind(),
        ErrorKind::BadRequest
    );
}
