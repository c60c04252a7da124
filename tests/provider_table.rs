//! Renders the provider table in `docs/providers.md` from the registry and fails when the
//! committed file differs. `UPDATE_DOCS=1 cargo test --test provider_table` rewrites it.

use std::fmt::Write as _;
use std::path::Path;

use edgellm::provider::registry::{Entry, PROVIDERS};

fn yes(b: bool) -> &'static str {
    if b {
        "✓"
    } else {
        "—"
    }
}

fn render() -> String {
    let mut out = String::new();
    out.push_str("# Providers\n\n");
    out.push_str(
        "<!-- Generated from src/provider/registry.rs by tests/provider_table.rs; \
         run `UPDATE_DOCS=1 cargo test --test provider_table` after changing the table. -->\n\n",
    );
    let _ = writeln!(
        out,
        "{} providers. Call any of them with the model string `<id>/<model>` \
         (LiteLLM's convention); credentials come from the call (`api_key`, `api_base`, \
         `api_version`) or from the environment variables listed, first match wins.\n",
        PROVIDERS.len()
    );
    out.push_str(
        "| id | provider | kind | default endpoint | environment | auth | tools | vision |\n",
    );
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for e in PROVIDERS {
        let info = e.provider().info();
        let kind = match e {
            Entry::Compat(_) => "OpenAI-compatible",
            Entry::Native(_) => "native",
        };
        let base = if info.default_base.is_empty() {
            "`api_base` required".to_string()
        } else {
            format!("`{}`", info.default_base)
        };
        let env = if info.env.is_empty() {
            "—".to_string()
        } else {
            info.env
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            info.id,
            info.name,
            kind,
            base,
            env,
            info.auth,
            yes(info.caps.tools),
            yes(info.caps.vision)
        );
    }
    out
}

#[test]
fn docs_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/providers.md");
    let want = render();
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &want).expect("write docs/providers.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/providers.md is out of date with the registry; run \
         `UPDATE_DOCS=1 cargo test --test provider_table` and commit the result"
    );
}
