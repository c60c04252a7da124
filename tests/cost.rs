//! The price table's integrity, and exact costs for representative models of each provider.
//! Expected figures are written from the providers' price pages, not read from the table.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use edgellm::cost::{
    self, completion_cost, get_model_info, image_cost, lookup, register_model, Mode, Usd,
};
use edgellm::provider::registry;
use edgellm::types::{CompletionTokensDetails, PromptTokensDetails, Usage};
use serde_json::{json, Value};

const TABLE: &str = include_str!("../src/cost/prices.tsv");

// -- Setup & Fixtures

/// Dollars per million tokens → pico-dollars per token (exact for the figures used here).
fn per_m(usd: f64) -> u64 {
    (usd * 1e6).round() as u64
}

fn usage(prompt: u64, completion: u64) -> Usage {
    Usage::new(prompt, completion)
}

fn cost_of(model: &str, provider: Option<&str>, u: &Usage) -> u64 {
    completion_cost(u, model, provider, &Default::default())
        .unwrap_or_else(|e| panic!("{model}: {e}"))
        .pico()
}

// -- Table integrity

#[test]
fn table_parses_without_errors_or_duplicates() {
    assert_eq!(cost::builtin_errors(), vec![]);
    let (rows, _) = cost::parse_table(TABLE);
    let keys: BTreeSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), rows.len(), "duplicate keys");
    assert!(rows.len() >= 300, "only {} models", rows.len());
    let providers: BTreeSet<&str> = rows.iter().map(|r| r.provider.as_str()).collect();
    assert!(providers.len() >= 20, "{providers:?}");
}

#[test]
fn every_entry_has_the_prices_its_mode_needs() {
    let mut gaps = Vec::new();
    for p in cost::all_builtin() {
        let ok = match p.mode {
            Mode::Chat | Mode::Completion => p.input.is_some() && p.output.is_some(),
            Mode::Embedding => p.input.is_some(),
            Mode::ImageGeneration => p.per_image.is_some() || p.output.is_some(),
            Mode::AudioTranscription => p.per_second.is_some() || p.input.is_some(),
            Mode::AudioSpeech => p.per_character.is_some() || p.input.is_some(),
            Mode::Moderation | Mode::Rerank => true,
        };
        if !ok {
            gaps.push(p.key.clone());
        }
    }
    assert!(gaps.is_empty(), "entries without prices: {gaps:?}");
}

#[test]
fn prices_and_limits_are_consistent() {
    let mut bad = Vec::new();
    let max_token_price = Usd::from_pico(per_m(1000.0)); // $1000 per 1M tokens
    for p in cost::all_builtin() {
        let mut why = Vec::new();
        for (name, v) in [
            ("in", p.input),
            ("out", p.output),
            ("cache_read", p.cache_read),
            ("cache_write", p.cache_write),
            ("reasoning", p.reasoning),
        ] {
            if v.is_some_and(|v| v > max_token_price) {
                why.push(format!("{name} above $1000/1M"));
            }
        }
        if let (Some(cr), Some(i)) = (p.cache_read, p.input) {
            if cr > i {
                why.push("cache read dearer than input".into());
            }
        }
        if let Some(t) = &p.tier {
            if t.above_tokens < 1000 {
                why.push("tier threshold below 1000 tokens".into());
            }
            if t.input.zip(p.input).is_some_and(|(ti, i)| ti < i) {
                why.push("long-context input cheaper than base".into());
            }
            if t.output.zip(p.output).is_some_and(|(to, o)| to < o) {
                why.push("long-context output cheaper than base".into());
            }
        }
        for (name, v) in [
            ("max_in", p.max_input_tokens),
            ("max_out", p.max_output_tokens),
        ] {
            if v.is_some_and(|n| n == 0 || n > 10_000_000) {
                why.push(format!("{name} = {v:?}"));
            }
        }
        if p.per_image.is_some_and(|v| v > Usd::parse("10").unwrap()) {
            why.push("image above $10".into());
        }
        if !why.is_empty() {
            bad.push(format!("{}: {}", p.key, why.join(", ")));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn table_text_has_no_negative_or_float_notation() {
    for (i, line) in TABLE.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("key\t") {
            continue;
        }
        for cell in line.split('\t').skip(2) {
            assert!(
                !cell.starts_with('-') && !cell.contains(['e', 'E']),
                "line {}: {cell:?}",
                i + 1
            );
        }
    }
}

/// Providers whose models run on the caller's own servers or pass the model name through to a
/// user-chosen backend: they have no list price, so their fixture models are not in the table.
const SELF_HOSTED: &[&str] = &[
    "openai_like",
    "ollama",
    "ollama_chat",
    "hosted_vllm",
    "vllm",
    "lm_studio",
    "llamafile",
    "xinference",
    "custom_openai",
    "litellm_proxy",
    "oobabooga",
    "triton",
    "sagemaker",
    "petals",
];

/// Providers without a per-token USD list price we could confirm, each with the reason. A new
/// fixture for any other provider must come with a price row.
const NO_LIST_PRICE: &[(&str, &str)] = &[
    (
        "azure",
        "model strings are user-named deployments: priced through `base_model`",
    ),
    (
        "huggingface",
        "the router bills the inference provider it picks, or endpoint hardware time",
    ),
    (
        "featherless_ai",
        "flat monthly subscription, no per-token price",
    ),
    (
        "meta_llama",
        "Llama API preview: no published per-token price",
    ),
    (
        "github",
        "GitHub Models: free prototyping tier, paid use in multiplier-weighted token units",
    ),
    (
        "nvidia_nim",
        "trial credits on build.nvidia.com, or self-hosted NIM containers",
    ),
    ("scaleway", "priced in EUR; the table is USD only"),
    ("volcengine", "priced in CNY; the table is USD only"),
    ("jina_ai", "embeddings sold as prepaid token packs"),
    ("empower", "no public price page found"),
    ("galadriel", "no public price page found"),
    (
        "novita",
        "price page not retrievable here; add rows when confirmed",
    ),
    (
        "nebius",
        "price page not retrievable here; add rows when confirmed",
    ),
];

#[test]
fn every_model_used_in_fixtures_has_a_price() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let Ok(providers) = fs::read_dir(&root) else {
        return; // no fixtures checked in yet
    };
    let mut missing = BTreeMap::new();
    let mut checked = 0;
    for p in providers.flatten() {
        let Ok(scenarios) = fs::read_dir(p.path()) else {
            continue;
        };
        for s in scenarios.flatten() {
            let Ok(text) = fs::read_to_string(s.path().join("input.json")) else {
                continue;
            };
            let input: Value = serde_json::from_str(&text).unwrap();
            let req = &input["request"];
            let Some(model) = req["model"].as_str() else {
                continue;
            };
            // A call that fails has nothing to price (404 scenarios use made-up models).
            let expected = fs::read_to_string(s.path().join("expected.json")).unwrap_or_default();
            if serde_json::from_str::<Value>(&expected).is_ok_and(|e| e.get("error").is_some()) {
                continue;
            }
            let Ok((provider, bare)) =
                registry::resolve(model, req["custom_llm_provider"].as_str())
            else {
                continue;
            };
            let id = provider.info().id;
            if SELF_HOSTED.contains(&id)
                || NO_LIST_PRICE.iter().any(|(p, _)| *p == id)
                || req.get("input_cost_per_token").is_some()
                || req.get("mock_response").is_some()
            {
                continue;
            }
            checked += 1;
            let priced = if input["call"] == "image_generation" {
                image_cost(
                    &bare,
                    Some(id),
                    Some(req["size"].as_str().unwrap_or("1024x1024")),
                    req["quality"].as_str(),
                    1,
                )
                .is_ok()
                    || lookup(&bare, Some(id)).is_some()
            } else {
                lookup(&bare, Some(id)).is_some()
            };
            if !priced {
                missing.insert(format!("{id}/{bare}"), s.path().display().to_string());
            }
        }
    }
    assert!(checked > 0 || missing.is_empty());
    assert!(
        missing.is_empty(),
        "{} of {checked} fixture models have no price: {missing:#?}",
        missing.len()
    );
}

// -- Exact costs, one or more models per provider

#[test]
fn openai_with_cached_prompt_tokens() {
    // gpt-4o-mini: $0.15 in, $0.075 cached, $0.60 out per 1M.
    let mut u = usage(1000, 500);
    u.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(200),
        ..Default::default()
    });
    assert_eq!(
        cost_of("gpt-4o-mini", None, &u),
        800 * per_m(0.15) + 200 * per_m(0.075) + 500 * per_m(0.60)
    );
    assert_eq!(
        cost_of("gpt-4o", Some("openai"), &usage(1_000_000, 1_000_000)),
        per_m(2.5) * 1_000_000 + per_m(10.0) * 1_000_000
    );
    // o3-mini: reasoning tokens are output tokens at the output price.
    let mut u = usage(100, 1000);
    u.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(800),
        ..Default::default()
    });
    assert_eq!(
        cost_of("o3-mini", Some("openai"), &u),
        100 * per_m(1.1) + 1000 * per_m(4.4)
    );
}

#[test]
fn anthropic_cache_writes_and_reads() {
    // Claude 3.5 Sonnet: $3 in, $3.75 5-minute cache write, $0.30 cache read, $15 out.
    let mut u = usage(10_000, 1_000);
    u.cache_creation_input_tokens = Some(6_000);
    u.cache_read_input_tokens = Some(3_000);
    assert_eq!(
        cost_of("claude-3-5-sonnet-20241022", Some("anthropic"), &u),
        1_000 * per_m(3.0) + 6_000 * per_m(3.75) + 3_000 * per_m(0.30) + 1_000 * per_m(15.0)
    );
    // Claude Haiku 4.5: $1 / $5.
    assert_eq!(
        cost_of("anthropic/claude-haiku-4-5", None, &usage(2000, 100)),
        2000 * per_m(1.0) + 100 * per_m(5.0)
    );
}

#[test]
fn gemini_long_context_tier() {
    // Gemini 2.5 Pro: $1.25 / $10 up to 200k prompt tokens, $2.50 / $15 above.
    assert_eq!(
        cost_of("gemini/gemini-2.5-pro", None, &usage(100_000, 1000)),
        100_000 * per_m(1.25) + 1000 * per_m(10.0)
    );
    assert_eq!(
        cost_of("gemini-2.5-pro", Some("gemini"), &usage(300_000, 1000)),
        300_000 * per_m(2.5) + 1000 * per_m(15.0)
    );
    // Gemini 2.0 Flash on Vertex: $0.10 / $0.40.
    assert_eq!(
        cost_of("gemini-2.0-flash", Some("vertex_ai"), &usage(1000, 1000)),
        1000 * per_m(0.10) + 1000 * per_m(0.40)
    );
}

#[test]
fn open_model_hosts() {
    let cases: &[(&str, &str, f64, f64)] = &[
        ("groq", "llama-3.1-8b-instant", 0.05, 0.08),
        ("groq", "llama-3.3-70b-versatile", 0.59, 0.79),
        ("cerebras", "llama3.1-8b", 0.10, 0.10),
        (
            "together_ai",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            0.88,
            0.88,
        ),
        (
            "fireworks_ai",
            "accounts/fireworks/models/llama-v3p1-8b-instruct",
            0.10,
            0.10,
        ),
        ("deepinfra", "meta-llama/Llama-3.3-70B-Instruct", 0.23, 0.40),
        ("openrouter", "anthropic/claude-3.5-sonnet", 3.0, 15.0),
        ("perplexity", "sonar", 1.0, 1.0),
    ];
    for (provider, model, i, o) in cases {
        assert_eq!(
            cost_of(model, Some(provider), &usage(12_345, 678)),
            12_345 * per_m(*i) + 678 * per_m(*o),
            "{provider}/{model}"
        );
    }
}

#[test]
fn model_vendors() {
    let cases: &[(&str, &str, f64, f64)] = &[
        ("mistral", "mistral-large-latest", 2.0, 6.0),
        ("mistral", "mistral-small-latest", 0.1, 0.3),
        ("xai", "grok-3-mini", 0.30, 0.50),
        ("cohere", "command-r-plus-08-2024", 2.5, 10.0),
        ("openai", "gpt-4.1-mini", 0.40, 1.60),
    ];
    for (provider, model, i, o) in cases {
        assert_eq!(
            cost_of(model, Some(provider), &usage(1000, 1000)),
            1000 * per_m(*i) + 1000 * per_m(*o),
            "{provider}/{model}"
        );
    }
    // DeepSeek (from 2025-09-05): cache hit $0.07, miss $0.56, output $1.68.
    let mut u = usage(1000, 100);
    u.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(600),
        ..Default::default()
    });
    assert_eq!(
        cost_of("deepseek-chat", Some("deepseek"), &u),
        400 * per_m(0.56) + 600 * per_m(0.07) + 100 * per_m(1.68)
    );
}

#[test]
fn cloud_platforms() {
    // Claude 3 Haiku on Bedrock, also through a cross-region inference profile: $0.25 / $1.25.
    let expected = 1000 * per_m(0.25) + 1000 * per_m(1.25);
    assert_eq!(
        cost_of(
            "anthropic.claude-3-haiku-20240307-v1:0",
            Some("bedrock"),
            &usage(1000, 1000)
        ),
        expected
    );
    assert_eq!(
        cost_of(
            "us.anthropic.claude-3-haiku-20240307-v1:0",
            Some("bedrock"),
            &usage(1000, 1000)
        ),
        expected
    );
    // Claude 3.5 Sonnet v2 on Vertex AI: $3 / $15.
    assert_eq!(
        cost_of(
            "claude-3-5-sonnet-v2@20241022",
            Some("vertex_ai"),
            &usage(1000, 1000)
        ),
        1000 * per_m(3.0) + 1000 * per_m(15.0)
    );
    // GPT-4o on Azure (global standard list price): $2.50 / $10.
    assert_eq!(
        cost_of("gpt-4o", Some("azure"), &usage(1000, 1000)),
        1000 * per_m(2.5) + 1000 * per_m(10.0)
    );
}

#[test]
fn embeddings_images_and_audio() {
    // text-embedding-3-large: $0.13 per 1M input tokens.
    assert_eq!(
        cost_of("text-embedding-3-large", Some("openai"), &usage(10_000, 0)),
        10_000 * per_m(0.13)
    );
    assert_eq!(
        cost_of("voyage-3", Some("voyage"), &usage(1000, 0)),
        1000 * per_m(0.06)
    );
    // DALL·E 3: $0.04 standard 1024², $0.12 HD 1024×1792; DALL·E 2 512²: $0.018.
    let img = |m, s, q, n| image_cost(m, Some("openai"), s, q, n).unwrap();
    assert_eq!(
        img("dall-e-3", Some("1024x1024"), None, 3),
        Usd::parse("0.12").unwrap()
    );
    assert_eq!(
        img("dall-e-3", Some("1024x1792"), Some("hd"), 1),
        Usd::parse("0.12").unwrap()
    );
    assert_eq!(
        img("dall-e-2", Some("512x512"), None, 1),
        Usd::parse("0.018").unwrap()
    );
    assert!(image_cost("gpt-4o", Some("openai"), Some("1024x1024"), None, 1).is_err());
    // Whisper: $0.006 per minute.
    let w = lookup("whisper-1", Some("openai")).unwrap();
    assert_eq!(
        w.per_second.unwrap().times(60),
        Usd::parse("0.006").unwrap()
    );
}

#[test]
fn sums_of_many_calls_are_exact() {
    // 10 000 calls of 1 prompt token at $0.15/1M: exactly $0.0015 (floats would drift).
    let one = completion_cost(&usage(1, 0), "gpt-4o-mini", None, &Default::default()).unwrap();
    let total: Usd = std::iter::repeat_n(one, 10_000).sum();
    assert_eq!(total, Usd::parse("0.0015").unwrap());
}

// -- Model info and registration

#[test]
fn get_model_info_has_litellm_fields() {
    let info = get_model_info("claude-3-5-sonnet-20241022", Some("anthropic")).unwrap();
    assert_eq!(info["litellm_provider"], "anthropic");
    assert_eq!(info["mode"], "chat");
    assert_eq!(info["max_input_tokens"], 200_000);
    assert_eq!(info["input_cost_per_token"], 3e-6);
    assert_eq!(info["cache_creation_input_token_cost"], 3.75e-6);
    let e = get_model_info("no-such-model-anywhere", None).unwrap_err();
    assert_eq!(e.kind(), edgellm::ErrorKind::NotFound);
}

#[test]
fn register_model_adds_and_overrides() {
    // A new model, LiteLLM's shape.
    let keys = register_model(&json!({
        "acme/reasoner-x": {"input_cost_per_token": 0.000002, "output_cost_per_token": 0.000008,
                            "litellm_provider": "together_ai", "mode": "chat",
                            "max_input_tokens": 64000}
    }))
    .unwrap();
    assert_eq!(keys, ["together_ai/acme/reasoner-x"]);
    assert_eq!(
        cost_of("acme/reasoner-x", Some("together_ai"), &usage(1000, 1000)),
        1000 * per_m(2.0) + 1000 * per_m(8.0)
    );
    // Overriding one field of an existing model keeps the others.
    register_model(&json!({"groq/llama-3.1-8b-instant": {"output_cost_per_token": 0.0000001}}))
        .unwrap();
    let p = lookup("llama-3.1-8b-instant", Some("groq")).unwrap();
    assert_eq!(p.input, Some(Usd::from_pico(per_m(0.05))));
    assert_eq!(p.output, Some(Usd::from_pico(per_m(0.1))));
    assert_eq!(p.max_input_tokens, Some(128_000));
    // Bad input is rejected whole.
    assert!(register_model(&json!({"x": {"input_cost_per_token": -1}})).is_err());
    assert!(register_model(&json!(["x"])).is_err());
}
