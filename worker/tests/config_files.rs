//! The config files the repository ships load without errors or warnings, and every model
//! they name resolves to a provider.

use std::collections::HashMap;

use edgellm::provider::registry;
use edgellm_worker::app::Gateway;

fn env_for(text: &str) -> HashMap<String, String> {
    text.split("os.environ/")
        .skip(1)
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let value = if name.ends_with("_BASE") {
                "https://example.test".to_string()
            } else {
                format!("sk-test-{}", name.to_lowercase())
            };
            (name, value)
        })
        .collect()
}

fn check(path: &str, text: &str) -> Gateway {
    let gw = Gateway::load(text, path, &env_for(text)).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(gw.warnings().is_empty(), "{path}: {:?}", gw.warnings());
    let cfg = gw.config();
    assert!(!cfg.model_list.is_empty(), "{path}");
    for d in &cfg.model_list {
        registry::resolve(d.model(), None)
            .unwrap_or_else(|e| panic!("{path}: {} does not resolve: {e}", d.model()));
    }
    gw
}

#[test]
fn example_config_is_clean() {
    let gw = check(
        "examples/config.yaml",
        include_str!("../../examples/config.yaml"),
    );
    let cfg = gw.config();
    assert_eq!(cfg.resolve_model("gpt-4o").unwrap().deployments.len(), 2);
    assert_eq!(cfg.fallbacks_for("gpt-4o"), vec!["claude-sonnet"]);
    assert_eq!(cfg.num_retries(), Some(2));
    assert!(cfg.general_settings.master_key.is_some());
}

#[test]
fn default_config_is_clean_and_keyless() {
    let text = include_str!("../config.default.yaml");
    assert!(!text.contains("os.environ/"));
    let gw = check("worker/config.default.yaml", text);
    assert!(gw.config().general_settings.master_key.is_none());
    assert!(gw.config().resolve_model("edgellm-demo").is_some());
}
