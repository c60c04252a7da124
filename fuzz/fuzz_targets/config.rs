//! The gateway's config loader on arbitrary text: `edgellm_worker::app::Gateway::load`, i.e.
//! the YAML reader (`worker/src/yaml.rs`, on `saphyr-parser`) or JSON, then
//! `edgellm::config::ProxyConfig::from_value` and `Router::new`. Errors are fine, panics (and
//! stack overflows on deep nesting) are not; a loaded config answers the questions the gateway
//! asks it per request without panicking.
#![no_main]

use std::collections::BTreeMap;

use edgellm_worker::app::Gateway;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let env: BTreeMap<String, String> = [
        ("MASTER", "sk-master-fuzz"),
        ("OPENAI_API_KEY", "sk-test-openai"),
        ("AZURE_API_BASE", "https://example.openai.azure.com"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // The YAML reader alone, for text the JSON branch of `load` takes (YAML text goes
    // through it inside `load`).
    if text.trim_start().starts_with('{') {
        let _ = edgellm_worker::yaml::parse(&text);
    }
    let Ok(gw) = Gateway::load(&text, "fuzz", &env) else {
        return;
    };
    let _ = gw.max_body_bytes();
    let _ = gw.secrets();
    let cfg = gw.config();
    for name in cfg.model_names() {
        // An alias may name a group that does not exist (LiteLLM accepts that too): None.
        let _ = cfg.resolve_model(&name);
        let _ = cfg.fallbacks_for(&name);
    }
    let _ = cfg.resolve_model("gpt-4o");
});
