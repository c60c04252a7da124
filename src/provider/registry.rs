//! THE provider table. Every lookup (model prefix, docs table, env var names, worker secrets)
//! derives from [`PROVIDERS`]; adding an OpenAI-compatible provider is one row here.

use super::openai_compat::{Auth, Compat, Hooks, Quirks, DEFAULT, OPENAI_ONLY};
use super::{Capabilities, Provider, ProviderInfo, Target};
use crate::{Error, ErrorKind, Result};

const CHAT_ONLY: Capabilities = Capabilities {
    chat: true,
    stream: true,
    tools: true,
    vision: false,
    embeddings: false,
    images: false,
    text_completion: &[],
    moderation: false,
    rerank: false,
};

/// One table row.
// NOTE: rows live in a `static`, never moved around, so the size difference between a
// `Compat` row and a reference costs nothing at run time.
#[allow(clippy::large_enum_variant)]
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
///
/// Sources for each row: the provider's OpenAI-compatibility docs and LiteLLM's
/// `get_llm_provider_logic.py` / `llms/<id>/chat/transformation.py` (base URL, key and base
/// variable names, parameter lists).
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
                // The models OpenAI serves on /v1/completions; everything else is chat-only.
                text_completion: &["gpt-3.5-turbo-instruct", "davinci-002", "babbage-002"],
                moderation: true,
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
                // vLLM, llama.cpp, LM Studio, … serve /v1/completions for every model.
                text_completion: &[""],
                ..CHAT_ONLY
            },
        },
        auth: Auth::Optional,
        quirks: Quirks { ..DEFAULT.quirks },
        ..DEFAULT
    }),
    Entry::Compat(super::azure::AZURE),
    Entry::Compat(super::azure::AZURE_AI),
    Entry::Native(&super::ollama::OLLAMA),
    Entry::Native(&super::ollama::OLLAMA_CHAT),
    Entry::Native(&super::gemini::GEMINI),
    Entry::Native(&super::vertex_ai::VERTEX_AI),
    Entry::Native(&super::cohere::COHERE),
    Entry::Native(&super::voyage::VOYAGE),
    Entry::Native(&super::jina_ai::JINA_AI),
    Entry::Native(&super::anthropic::Anthropic),
    Entry::Native(&super::bedrock::Bedrock),
    // https://docs.x.ai/docs/api-reference — reasoning models reject stop/penalties.
    Entry::Compat(Compat {
        info: info(
            "xai",
            "xAI",
            "https://api.x.ai/v1",
            &["XAI_API_KEY", "XAI_API_BASE"],
            Capabilities {
                images: true,
                ..VISION
            },
        ),
        unsupported: Some(&[
            "functions",
            "function_call",
            "web_search_options",
            "modalities",
            "audio",
            "prediction",
            "service_tier",
            "store",
            "metadata",
            "verbosity",
            "safety_identifier",
            "prompt_cache_key",
            "prompt_cache_retention",
        ]),
        unsupported_for: &[
            (
                "grok-3-mini",
                &["stop", "presence_penalty", "frequency_penalty"],
            ),
            ("grok-4", &["stop", "presence_penalty", "frequency_penalty"]),
            (
                "grok-code-fast",
                &["stop", "presence_penalty", "frequency_penalty"],
            ),
        ],
        quirks: Quirks {
            max_completion_tokens_as_max_tokens: true,
            strip_tool_strict: true,
            strip_message_name: true,
            reasoning_tokens_outside_completion: true,
            ..DEFAULT.quirks
        },
        ..DEFAULT
    }),
    // https://openrouter.ai/docs/api-reference/overview — optional attribution headers.
    Entry::Compat(Compat {
        info: info(
            "openrouter",
            "OpenRouter",
            "https://openrouter.ai/api/v1",
            &[
                "OPENROUTER_API_KEY",
                "OPENROUTER_API_BASE",
                "OR_SITE_URL",
                "OR_APP_NAME",
            ],
            VISION,
        ),
        headers: &[
            ("http-referer", "{OR_SITE_URL}"),
            ("x-title", "{OR_APP_NAME}"),
        ],
        quirks: Quirks {
            reasoning_field: Some("reasoning"),
            ..DEFAULT.quirks
        },
        ..DEFAULT
    }),
    // https://console.groq.com/docs/openai — logprobs, logit_bias, top_logprobs and
    // messages[].name are rejected with a 400; streamed usage arrives in `x_groq.usage`.
    Entry::Compat(Compat {
        info: info(
            "groq",
            "Groq",
            "https://api.groq.com/openai/v1",
            &["GROQ_API_KEY", "GROQ_API_BASE"],
            VISION,
        ),
        unsupported: Some(&[
            "logprobs",
            "logit_bias",
            "top_logprobs",
            "modalities",
            "audio",
            "prediction",
            "store",
            "web_search_options",
            "verbosity",
            "safety_identifier",
            "prompt_cache_key",
            "prompt_cache_retention",
        ]),
        quirks: Quirks {
            strip_message_name: true,
            usage_at: Some("/x_groq/usage"),
            ..DEFAULT.quirks
        },
        ..DEFAULT
    }),
    // https://docs.api.nvidia.com/nim/reference — OpenAI-compatible NIM endpoints.
    Entry::Compat(Compat {
        info: info(
            "nvidia_nim",
            "NVIDIA NIM",
            "https://integrate.api.nvidia.com/v1",
            &["NVIDIA_NIM_API_KEY", "NVIDIA_NIM_API_BASE"],
            Capabilities {
                embeddings: true,
                ..VISION
            },
        ),
        unsupported: Some(OPENAI_ONLY),
        ..DEFAULT
    }),
    // https://novita.ai/docs/guides/llm-api — OpenAI-compatible at /v3/openai.
    Entry::Compat(Compat {
        info: info(
            "novita",
            "Novita AI",
            "https://api.novita.ai/v3/openai",
            &["NOVITA_API_KEY", "NOVITA_API_BASE"],
            CHAT_ONLY,
        ),
        unsupported: Some(OPENAI_ONLY),
        ..DEFAULT
    }),
    // https://api-docs.deepseek.com — LiteLLM's default base is the /beta superset.
    Entry::Compat(Compat {
        info: info(
            "deepseek",
            "DeepSeek",
            "https://api.deepseek.com/beta",
            &["DEEPSEEK_API_KEY", "DEEPSEEK_API_BASE"],
            CHAT_ONLY,
        ),
        unsupported: Some(&[
            "n",
            "logit_bias",
            "seed",
            "user",
            "parallel_tool_calls",
            "reasoning_effort",
            "functions",
            "function_call",
            "modalities",
            "audio",
            "prediction",
            "service_tier",
            "store",
            "metadata",
            "web_search_options",
            "verbosity",
            "safety_identifier",
            "prompt_cache_key",
            "prompt_cache_retention",
        ]),
        quirks: Quirks {
            max_completion_tokens_as_max_tokens: true,
            ..DEFAULT.quirks
        },
        ..DEFAULT
    }),
    // https://docs.together.ai/docs/openai-api-compatibility
    Entry::Compat(Compat {
        info: info(
            "together_ai",
            "Together AI",
            "https://api.together.xyz/v1",
            &[
                "TOGETHER_API_KEY",
                "TOGETHER_AI_API_KEY",
                "TOGETHERAI_API_KEY",
                "TOGETHER_AI_TOKEN",
                "TOGETHER_AI_API_BASE",
            ],
            Capabilities {
                embeddings: true,
                images: true,
                rerank: true,
                ..VISION
            },
        ),
        unsupported: Some(OPENAI_ONLY),
        ..DEFAULT
    }),
    // https://docs.fireworks.ai/api-reference/post-chatcompletions — models live under
    // `accounts/<account>/models/`; LiteLLM maps tool_choice "required" to "any".
    Entry::Compat(Compat {
        info: info(
            "fireworks_ai",
            "Fireworks AI",
            "https://api.fireworks.ai/inference/v1",
            &[
                "FIREWORKS_API_KEY",
                "FIREWORKS_AI_API_KEY",
                "FIREWORKSAI_API_KEY",
                "FIREWORKS_AI_TOKEN",
                "FIREWORKS_API_BASE",
            ],
            Capabilities {
                embeddings: true,
                ..VISION
            },
        ),
        unsupported: Some(&[
            "logit_bias",
            "functions",
            "function_call",
            "modalities",
            "audio",
            "prediction",
            "service_tier",
            "store",
            "metadata",
            "web_search_options",
            "verbosity",
            "safety_identifier",
            "prompt_cache_key",
            "prompt_cache_retention",
        ]),
        quirks: Quirks {
            max_completion_tokens_as_max_tokens: true,
            tool_choice_required_as_any: true,
            ..DEFAULT.quirks
        },
        hooks: Hooks {
            model: Some(fireworks_model),
            ..DEFAULT.hooks
        },
        ..DEFAULT
    }),
    // https://docs.perplexity.ai/api-reference/chat-completions-post — no tool calling.
    Entry::Compat(Compat {
        info: info(
            "perplexity",
            "Perplexity",
            "https://api.perplexity.ai",
            &[
                "PERPLEXITYAI_API_KEY",
                "PERPLEXITY_API_KEY",
                "PERPLEXITY_API_BASE",
            ],
            NO_TOOLS,
        ),
        unsupported: Some(&[
            "n",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "functions",
            "function_call",
            "logit_bias",
            "logprobs",
            "top_logprobs",
            "seed",
            "user",
            "modalities",
            "audio",
            "prediction",
            "service_tier",
            "store",
            "metadata",
            "verbosity",
            "safety_identifier",
            "prompt_cache_key",
            "prompt_cache_retention",
        ]),
        ..DEFAULT
    }),
    // https://inference-docs.cerebras.ai/resources/openai — penalties and logit_bias are not
    // supported.
    Entry::Compat(Compat {
        info: info(
            "cerebras",
            "Cerebras",
            "https://api.cerebras.ai/v1",
            &["CEREBRAS_API_KEY", "CEREBRAS_API_BASE"],
            CHAT_ONLY,
        ),
        unsupported: Some(&[
            "frequency_penalty",
            "presence_penalty",
            "logit_bias",
            "functions",
            "function_call",
            "modalities",
            "audio",
            "prediction",
            "store",
            "metadata",
            "web_search_options",
            "verbosity",
            "safety_identifier",
            "prompt_cache_key",
            "prompt_cache_retention",
        ]),
        ..DEFAULT
    }),
    // https://deepinfra.com/docs/advanced/openai_api
    Entry::Compat(Compat {
        info: info(
            "deepinfra",
            "DeepInfra",
            "https://api.deepinfra.com/v1/openai",
            &["DEEPINFRA_API_KEY", "DEEPINFRA_API_BASE"],
            Capabilities {
                embeddings: true,
                ..VISION
            },
        ),
        unsupported: Some(OPENAI_ONLY),
        quirks: Quirks {
            max_completion_tokens_as_max_tokens: true,
            ..DEFAULT.quirks
        },
        ..DEFAULT
    }),
    // https://docs.sambanova.ai/cloud/docs/capabilities/openai-compatibility
    Entry::Compat(Compat {
        info: info(
            "sambanova",
            "SambaNova",
            "https://api.sambanova.ai/v1",
            &["SAMBANOVA_API_KEY", "SAMBANOVA_API_BASE"],
            CHAT_ONLY,
        ),
        unsupported: Some(&[
            "logprobs",
            "top_logprobs",
            "n",
            "presence_penalty",
            "frequency_penalty",
            "logit_bias",
            "seed",
            "functions",
            "function_call",
            "modalities",
            "audio",
            "prediction",
            "service_tier",
            "store",
            "metadata",
            "web_search_options",
            "verbosity",
            "safety_identifier",
            "prompt_cache_key",
            "prompt_cache_retention",
        ]),
        quirks: Quirks {
            max_completion_tokens_as_max_tokens: true,
            ..DEFAULT.quirks
        },
        ..DEFAULT
    }),
    // https://docs.mistral.ai/api/#tag/chat — `random_seed` for seed, `any` for required tool
    // use, no logprobs/logit_bias/user; LiteLLM drops `name` (issue 6696).
    Entry::Compat(MISTRAL),
    Entry::Compat(Compat {
        info: info(
            "codestral",
            "Codestral (Mistral)",
            "https://codestral.mistral.ai/v1",
            &["CODESTRAL_API_KEY", "CODESTRAL_API_BASE"],
            CHAT_ONLY,
        ),
        ..MISTRAL
    }),
    // https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/
    Entry::Compat(Compat {
        info: info(
            "cloudflare",
            "Cloudflare Workers AI",
            "https://api.cloudflare.com/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/v1",
            &["CLOUDFLARE_API_KEY", "CLOUDFLARE_ACCOUNT_ID"],
            CHAT_ONLY,
        ),
        unsupported: Some(OPENAI_ONLY),
        ..DEFAULT
    }),
    // https://docs.github.com/en/github-models — LiteLLM's default base.
    Entry::Compat(Compat {
        info: info(
            "github",
            "GitHub Models",
            "https://models.inference.ai.azure.com",
            &["GITHUB_API_KEY", "GITHUB_API_BASE"],
            VISION,
        ),
        ..DEFAULT
    }),
    // https://docs.databricks.com/en/machine-learning/model-serving/score-foundation-models.html
    // — base is `https://<workspace>/serving-endpoints`, model is the endpoint name.
    Entry::Compat(Compat {
        info: info(
            "databricks",
            "Databricks",
            "",
            &["DATABRICKS_API_KEY", "DATABRICKS_API_BASE"],
            VISION,
        ),
        unsupported: Some(OPENAI_ONLY),
        ..DEFAULT
    }),
    // https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html
    Entry::Compat(Compat {
        info: ProviderInfo {
            auth: "Bearer (optional)",
            ..info(
                "hosted_vllm",
                "vLLM",
                "",
                &["HOSTED_VLLM_API_KEY", "HOSTED_VLLM_API_BASE"],
                Capabilities {
                    embeddings: true,
                    rerank: true,
                    // vLLM serves /v1/completions for every model.
                    text_completion: &[""],
                    ..VISION
                },
            )
        },
        auth: Auth::Optional,
        quirks: Quirks {
            reasoning_field: Some("reasoning"),
            ..DEFAULT.quirks
        },
        ..DEFAULT
    }),
    // https://lmstudio.ai/docs/app/api/endpoints/openai — server default port 1234.
    Entry::Compat(Compat {
        info: ProviderInfo {
            auth: "Bearer (optional)",
            ..info(
                "lm_studio",
                "LM Studio",
                "http://localhost:1234/v1",
                &["LM_STUDIO_API_KEY", "LM_STUDIO_API_BASE"],
                Capabilities {
                    embeddings: true,
                    text_completion: &[""],
                    ..CHAT_ONLY
                },
            )
        },
        auth: Auth::Optional,
        ..DEFAULT
    }),
    // https://github.com/Mozilla-Ocho/llamafile — LiteLLM's default http://127.0.0.1:8080/v1.
    Entry::Compat(Compat {
        info: ProviderInfo {
            auth: "Bearer (optional)",
            ..info(
                "llamafile",
                "llamafile",
                "http://127.0.0.1:8080/v1",
                &["LLAMAFILE_API_KEY", "LLAMAFILE_API_BASE"],
                Capabilities {
                    embeddings: true,
                    text_completion: &[""],
                    ..CHAT_ONLY
                },
            )
        },
        auth: Auth::Optional,
        ..DEFAULT
    }),
    // See `huggingface.rs`.
    Entry::Compat(Compat {
        info: info(
            "huggingface",
            "Hugging Face",
            super::huggingface::ROUTER_BASE,
            &[
                "HF_TOKEN",
                "HUGGINGFACE_API_KEY",
                "HF_API_BASE",
                "HUGGINGFACE_API_BASE",
            ],
            VISION,
        ),
        hooks: Hooks {
            url: Some(super::huggingface::url),
            model: Some(super::huggingface::model),
            ..DEFAULT.hooks
        },
        ..DEFAULT
    }),
    Entry::Compat(simple(
        "featherless_ai",
        "Featherless AI",
        "https://api.featherless.ai/v1",
        &["FEATHERLESS_AI_API_KEY", "FEATHERLESS_AI_API_BASE"],
    )),
    Entry::Compat(simple(
        "nebius",
        "Nebius AI Studio",
        "https://api.studio.nebius.ai/v1",
        &["NEBIUS_API_KEY", "NEBIUS_API_BASE"],
    )),
    Entry::Compat(simple(
        "hyperbolic",
        "Hyperbolic",
        "https://api.hyperbolic.xyz/v1",
        &["HYPERBOLIC_API_KEY", "HYPERBOLIC_API_BASE"],
    )),
    Entry::Compat(simple(
        "lambda_ai",
        "Lambda",
        "https://api.lambda.ai/v1",
        &["LAMBDA_API_KEY", "LAMBDA_API_BASE"],
    )),
    Entry::Compat(simple(
        "moonshot",
        "Moonshot AI (Kimi)",
        "https://api.moonshot.ai/v1",
        &["MOONSHOT_API_KEY", "MOONSHOT_API_BASE"],
    )),
    Entry::Compat(simple(
        "dashscope",
        "Alibaba DashScope (Qwen)",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        &["DASHSCOPE_API_KEY", "DASHSCOPE_API_BASE"],
    )),
    Entry::Compat(simple(
        "volcengine",
        "Volcengine Ark",
        "https://ark.cn-beijing.volces.com/api/v3",
        &["VOLCENGINE_API_KEY", "VOLCENGINE_API_BASE"],
    )),
    Entry::Compat(simple(
        "nscale",
        "Nscale",
        "https://inference.api.nscale.com/v1",
        &["NSCALE_API_KEY", "NSCALE_API_BASE"],
    )),
    Entry::Compat(simple(
        "galadriel",
        "Galadriel",
        "https://api.galadriel.com/v1",
        &["GALADRIEL_API_KEY", "GALADRIEL_API_BASE"],
    )),
    Entry::Compat(simple(
        "ovhcloud",
        "OVHcloud AI Endpoints",
        "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1",
        &["OVHCLOUD_API_KEY", "OVHCLOUD_API_BASE"],
    )),
    Entry::Compat(simple(
        "scaleway",
        "Scaleway Generative APIs",
        "https://api.scaleway.ai/v1",
        &["SCW_SECRET_KEY"],
    )),
    // https://docs.litellm.ai/docs/providers/gradient_ai — serverless inference by default;
    // an agent endpoint (GRADIENT_AI_AGENT_ENDPOINT) gets `/api/v1/chat/completions`.
    Entry::Compat(Compat {
        hooks: Hooks {
            url: Some(gradient_url),
            ..DEFAULT.hooks
        },
        ..simple(
            "gradient_ai",
            "DigitalOcean Gradient AI",
            "https://inference.do-ai.run/v1",
            &["GRADIENT_AI_API_KEY", "GRADIENT_AI_AGENT_ENDPOINT"],
        )
    }),
    Entry::Compat(simple(
        "baseten",
        "Baseten Model APIs",
        "https://inference.baseten.co/v1",
        &["BASETEN_API_KEY", "BASETEN_API_BASE"],
    )),
    Entry::Compat(simple(
        "friendliai",
        "FriendliAI",
        "https://api.friendli.ai/serverless/v1",
        &["FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN", "FRIENDLI_API_BASE"],
    )),
    Entry::Compat(simple(
        "meta_llama",
        "Meta Llama API",
        "https://api.llama.com/compat/v1",
        &["LLAMA_API_KEY", "LLAMA_API_BASE"],
    )),
    Entry::Compat(simple(
        "ai21_chat",
        "AI21 (Jamba)",
        "https://api.ai21.com/studio/v1",
        &["AI21_API_KEY", "AI21_API_BASE"],
    )),
    Entry::Compat(simple(
        "empower",
        "Empower",
        "https://app.empower.dev/api/v1",
        &["EMPOWER_API_KEY", "EMPOWER_API_BASE"],
    )),
];

const VISION: Capabilities = Capabilities {
    vision: true,
    ..CHAT_ONLY
};

const NO_TOOLS: Capabilities = Capabilities {
    tools: false,
    ..CHAT_ONLY
};

/// A description with Bearer auth.
const fn info(
    id: &'static str,
    name: &'static str,
    default_base: &'static str,
    env: &'static [&'static str],
    caps: Capabilities,
) -> ProviderInfo {
    ProviderInfo {
        id,
        name,
        default_base,
        env,
        auth: "Bearer",
        caps,
    }
}

/// A plain OpenAI-compatible host: Bearer key, chat at `/chat/completions`, OpenAI's own
/// extras (audio, predictions, stored completions, …) refused unless dropped.
const fn simple(
    id: &'static str,
    name: &'static str,
    default_base: &'static str,
    env: &'static [&'static str],
) -> Compat {
    Compat {
        info: info(id, name, default_base, env, CHAT_ONLY),
        unsupported: Some(OPENAI_ONLY),
        ..DEFAULT
    }
}

const MISTRAL: Compat = Compat {
    info: info(
        "mistral",
        "Mistral AI",
        "https://api.mistral.ai/v1",
        &["MISTRAL_API_KEY", "MISTRAL_API_BASE"],
        Capabilities {
            embeddings: true,
            ..VISION
        },
    ),
    unsupported: Some(&[
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "functions",
        "function_call",
        "reasoning_effort",
        "modalities",
        "audio",
        "service_tier",
        "store",
        "metadata",
        "web_search_options",
        "verbosity",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
    ]),
    renames: &[("seed", "random_seed")],
    quirks: Quirks {
        max_completion_tokens_as_max_tokens: true,
        tool_choice_required_as_any: true,
        strip_message_name: true,
        // NOTE: Mistral validates request fields strictly (`extra_forbidden`) and always ends
        // a stream with usage, so `stream_options` is neither needed nor accepted.
        no_stream_options: true,
        ..DEFAULT.quirks
    },
    ..DEFAULT
};

/// Fireworks serves its catalog under `accounts/fireworks/models/` (LiteLLM adds the prefix
/// to bare names).
fn fireworks_model(target: &Target) -> String {
    if target.model.starts_with("accounts/") {
        target.model.clone()
    } else {
        format!("accounts/fireworks/models/{}", target.model)
    }
}

fn gradient_url(row: &Compat, target: &Target) -> Result<String> {
    let base = row.base(target)?;
    if target.api_base.as_deref().is_some_and(|b| !b.is_empty()) {
        Ok(format!("{base}/api/v1/chat/completions"))
    } else {
        Ok(format!("{base}/chat/completions"))
    }
}

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

/// The OpenAI chat parameters `model`'s provider accepts (LiteLLM's
/// `get_supported_openai_params`). Parameters outside this list fail with
/// [`ErrorKind::UnsupportedParams`] unless `drop_params` is set.
///
/// ```
/// let p = edgellm::provider::supported_openai_params("groq/llama-3.3-70b-versatile").unwrap();
/// assert!(p.contains(&"tools") && !p.contains(&"logprobs"));
/// ```
pub fn supported_openai_params(model: &str) -> Result<Vec<&'static str>> {
    let (provider, model) = resolve(model, None)?;
    Ok(provider.supported_params(&model))
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
        // Cohere's embed and rerank models (LiteLLM's `cohere_embedding_models`, rerank list).
        ("embed-english-", "cohere"),
        ("embed-multilingual-", "cohere"),
        ("embed-v4", "cohere"),
        ("rerank-v3", "cohere"),
        ("rerank-english-", "cohere"),
        ("rerank-multilingual-", "cohere"),
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
