//! `cli/providers.json`: what the quick-start command (`npx edgellm-gateway --model …`) needs to
//! name missing provider keys before it starts, found by running the providers' own request
//! builders (no I/O) rather than written by hand:
//!
//! - `credentials`: for each provider, the smallest sets of environment variables that let it
//!   build a chat request without an authentication error (`[]`: it needs none; absent: the
//!   probe could not tell, e.g. the provider needs an `api_base` first);
//! - `bare`: model-name prefixes the registry infers a provider from (`gpt-` → `openai`),
//!   recovered by asking `registry::infer` about every model of the price table.
//!
//! `UPDATE_CLI_PROVIDERS=1 cargo test -p edgellm-worker --test cli_providers` rewrites it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{json, Value};

use edgellm::provider::{registry, target_for, Provider};
use edgellm::types::{EmbeddingRequest, RerankDocument, RerankRequest};
use edgellm::{CallOptions, ChatRequest, ErrorKind};

/// Whether a variable holds a credential (as opposed to an endpoint, version, region or
/// project, which the probe fills in so that only credentials are missing).
fn is_credential(name: &str) -> bool {
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "CREDENTIALS",
        "ACCESS_KEY_ID",
        "PASSWORD",
    ]
    .iter()
    .any(|s| name.contains(s))
}

fn setting_value(name: &str) -> &'static str {
    if name.contains("BASE") || name.contains("ENDPOINT") || name.ends_with("_URL") {
        "https://provider.example.test/v1"
    } else if name.contains("VERSION") {
        "2024-10-21"
    } else if name.contains("REGION") {
        "us-east-1"
    } else if name.contains("LOCATION") {
        "us-central1"
    } else {
        "example"
    }
}

/// Would a request build with `env`? `Some(true)`: yes; `Some(false)`: an authentication
/// error; `None`: neither (the target could not be built, or the provider fails for another
/// reason). Chat first, then embeddings and rerank for providers without chat.
fn builds(p: &dyn Provider, env: &HashMap<String, String>) -> Option<bool> {
    let model = "probe-model";
    let target = target_for(p, model, &CallOptions::default(), env, 1_700_000_000_000).ok()?;
    let attempts = [
        p.chat_request(&ChatRequest::user(model, "hi"), &target)
            .map(drop),
        p.embedding_request(&EmbeddingRequest::new(model, &["hi"]), &target)
            .map(drop),
        p.rerank_request(&rerank(model), &target).map(drop),
    ];
    attempts.into_iter().find_map(|r| match r {
        Ok(()) => Some(true),
        Err(e) if e.kind() == ErrorKind::Authentication => Some(false),
        Err(_) => None,
    })
}

fn rerank(model: &str) -> RerankRequest {
    RerankRequest {
        model: model.into(),
        query: "q".into(),
        documents: vec![RerankDocument::Text("d".into())],
        ..RerankRequest::default()
    }
}

/// The smallest sets of credential variables that satisfy `p` (singles, then pairs).
fn credentials(p: &dyn Provider) -> Option<Vec<Vec<String>>> {
    let info = p.info();
    let settings: HashMap<String, String> = info
        .env
        .iter()
        .filter(|n| !is_credential(n))
        .map(|n| (n.to_string(), setting_value(n).to_string()))
        .collect();
    if builds(p, &settings)? {
        return Some(Vec::new());
    }
    let creds: Vec<&str> = info
        .env
        .iter()
        .copied()
        .filter(|n| is_credential(n))
        .collect();
    let with = |names: &[&str]| {
        let mut env = settings.clone();
        for n in names {
            let v = if n.contains("CREDENTIALS") {
                "{}"
            } else {
                "sk-probe-1234"
            };
            env.insert(n.to_string(), v.to_string());
        }
        builds(p, &env) == Some(true)
    };
    let mut sets: Vec<Vec<String>> = creds
        .iter()
        .filter(|n| with(&[n]))
        .map(|n| vec![n.to_string()])
        .collect();
    for (i, a) in creds.iter().enumerate() {
        for b in &creds[i + 1..] {
            let covered = sets
                .iter()
                .any(|s| s.len() == 1 && (s[0] == *a || s[0] == *b));
            if !covered && with(&[a, b]) {
                sets.push(vec![a.to_string(), b.to_string()]);
            }
        }
    }
    (!sets.is_empty()).then_some(sets)
}

/// Prefixes `registry::infer` resolves, from the price table's model names.
fn bare_prefixes() -> BTreeMap<String, String> {
    let table = include_str!("../../src/cost/prices.tsv");
    let mut out = BTreeMap::new();
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let key = line.split('\t').next().unwrap_or_default();
        let bare = key.split_once('/').map_or(key, |(_, m)| m);
        if registry::infer(bare).is_none() {
            continue;
        }
        let shortest = (1..=bare.len())
            .filter(|&i| bare.is_char_boundary(i))
            .map(|i| &bare[..i])
            .find_map(|p| registry::infer(p).map(|id| (p, id)));
        if let Some((prefix, id)) = shortest {
            out.insert(prefix.to_string(), id.to_string());
        }
    }
    out
}

fn render() -> String {
    let mut providers = serde_json::Map::new();
    for entry in registry::PROVIDERS {
        let p = entry.provider();
        let info = p.info();
        let mut row = json!({"name": info.name});
        if let Some(c) = credentials(p) {
            row["credentials"] = json!(c);
        }
        providers.insert(info.id.to_string(), row);
    }
    let doc = json!({
        "generated": "by worker/tests/cli_providers.rs from the provider registry; UPDATE_CLI_PROVIDERS=1 cargo test -p edgellm-worker --test cli_providers rewrites it",
        "providers": providers,
        "bare": bare_prefixes(),
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap();
    text.push('\n');
    text
}

#[test]
fn cli_providers_json_matches_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/providers.json");
    let want = render();
    if std::env::var_os("UPDATE_CLI_PROVIDERS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "cli/providers.json is out of date with the provider registry; run \
         `UPDATE_CLI_PROVIDERS=1 cargo test -p edgellm-worker --test cli_providers`"
    );
}

#[test]
fn the_probe_finds_the_keys_providers_document() {
    let doc: Value = serde_json::from_str(&render()).unwrap();
    let creds = |id: &str| doc["providers"][id]["credentials"].clone();
    assert_eq!(creds("anthropic"), json!([["ANTHROPIC_API_KEY"]]));
    assert_eq!(creds("openai"), json!([["OPENAI_API_KEY"]]));
    assert_eq!(creds("groq"), json!([["GROQ_API_KEY"]]));
    assert_eq!(creds("ollama"), json!([]));
    assert_eq!(creds("voyage")[0][0], "VOYAGE_API_KEY");
    assert_eq!(doc["bare"]["claude-"], "anthropic");
    assert_eq!(doc["bare"]["gpt-"], "openai");
}
