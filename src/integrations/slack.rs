//! Slack: an incoming-webhook message (`POST <webhook url>` with `{"text": "..."}`) for each
//! failed call and each budget alert, worded like LiteLLM's Slack alerting (`Alert type:
//! \`llm_exceptions\``, level, time, message, model, API base). Successful calls send nothing.
//!
//! Settings: `slack_webhook_url` / `SLACK_WEBHOOK_URL` (LiteLLM's variable).

use serde_json::{json, Map, Value};

use super::event::BudgetAlert;
use super::util::{self, str_of};
use crate::http::HttpRequest;
use crate::{Env, Secret};

/// How much of the prompt an alert quotes.
const MAX_QUOTE: usize = 500;

/// Resolved Slack settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The incoming-webhook URL (a secret: it authorises posting).
    pub webhook_url: Secret,
}

impl Config {
    /// Explicit settings first, then the environment.
    pub fn resolve(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let url = util::setting(
            explicit,
            &["slack_webhook_url", "webhook_url"],
            env,
            &["SLACK_WEBHOOK_URL"],
        )
        .ok_or("set SLACK_WEBHOOK_URL")?;
        Ok(Self {
            webhook_url: Secret::new(url),
        })
    }
}

fn quote(s: &str) -> String {
    if s.chars().count() <= MAX_QUOTE {
        return s.to_string();
    }
    s.chars().take(MAX_QUOTE).chain("…".chars()).collect()
}

fn frame(alert_type: &str, at_ms: u64, message: &str) -> String {
    format!(
        "Alert type: `{alert_type}`\nLevel: `High`\nTimestamp: `{}`\n\nMessage: {message}",
        util::clock(at_ms)
    )
}

/// The alert text for a failed call.
pub fn failure_text(p: &Value) -> String {
    let mut msg = format!(
        "LLM API call failed: `{}`\n\nModel: `{}`",
        util::error_message(p),
        util::text(&p["model"]),
    );
    let provider = str_of(p, "custom_llm_provider")
        .or_else(|| str_of(&p["error_information"], "llm_provider"));
    if let Some(provider) = provider {
        msg.push_str(&format!("\nProvider: `{provider}`"));
    }
    if let Some(group) = str_of(p, "model_group") {
        msg.push_str(&format!("\nModel group: `{group}`"));
    }
    if let Some(base) = str_of(p, "api_base") {
        msg.push_str(&format!("\nAPI Base: `{base}`"));
    }
    if let Some(status) = p["error_information"]["status_code"].as_u64() {
        msg.push_str(&format!("\nStatus: `{status}`"));
    }
    msg.push_str(&format!(
        "\nMessages: `{}`",
        quote(&p["messages"].to_string())
    ));
    if let Some(alias) = str_of(&p["metadata"], "user_api_key_alias") {
        msg.push_str(&format!("\nKey alias: `{alias}`"));
    }
    if let Some(team) = str_of(&p["metadata"], "user_api_key_team_alias")
        .or(str_of(&p["metadata"], "user_api_key_team_id"))
    {
        msg.push_str(&format!("\nTeam: `{team}`"));
    }
    msg.push_str(&format!("\nCall id: `{}`", util::text(&p["id"])));
    frame("llm_exceptions", util::ms(p, "endTime"), &msg)
}

/// The alert text for a budget alert.
pub fn budget_text(a: &BudgetAlert) -> String {
    let mut msg = a.event_message.clone();
    msg.push_str(&format!("\n\nSpend: `${}`", a.spend));
    if let Some(max) = a.max_budget {
        msg.push_str(&format!("\nMax Budget: `${max}`"));
    }
    if let Some(soft) = a.soft_budget {
        msg.push_str(&format!("\nSoft Budget: `${soft}`"));
    }
    for (label, v) in [
        ("User ID", &a.user_id),
        ("Team ID", &a.team_id),
        ("Team Alias", &a.team_alias),
        ("Key Alias", &a.key_alias),
        ("Customer ID", &a.customer_id),
        ("Token", &a.token),
    ] {
        if let Some(v) = v {
            msg.push_str(&format!("\n{label}: `{v}`"));
        }
    }
    frame("budget_alerts", a.at_ms, &msg)
}

/// One webhook message per text.
pub fn requests(cfg: &Config, texts: &[String]) -> Vec<HttpRequest> {
    texts
        .iter()
        .map(|t| HttpRequest::post_json(cfg.webhook_url.expose(), &json!({"text": t})))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use std::collections::HashMap;

    #[test]
    fn failure_alert_names_the_error_and_the_model() {
        let env: HashMap<String, String> = [(
            "SLACK_WEBHOOK_URL".to_string(),
            "https://hooks.slack.com/services/T0/B0/x".to_string(),
        )]
        .into();
        let cfg = Config::resolve(&Map::new(), &env).unwrap();
        let text = failure_text(&testdata::failure());
        let r = &requests(&cfg, &[text])[0];
        assert_eq!(r.url, "https://hooks.slack.com/services/T0/B0/x");
        let t = r.json_body().unwrap()["text"].as_str().unwrap().to_string();
        assert!(
            t.starts_with("Alert type: `llm_exceptions`\nLevel: `High`\nTimestamp: `22:13:21`"),
            "{t}"
        );
        assert!(t.contains("LLM API call failed: `Rate limit reached`"));
        assert!(t.contains("Model: `gpt-4o`"));
        assert!(t.contains("Status: `429`"));
        assert!(t.contains("Call id: `call-3`"));
    }

    #[test]
    fn budget_alert_lists_the_spend() {
        let a = BudgetAlert {
            event: "budget_crossed".into(),
            event_group: "key".into(),
            event_message: "Budget Crossed for key".into(),
            spend: 10.5,
            max_budget: Some(10.0),
            key_alias: Some("ci".into()),
            at_ms: 1_700_000_000_000,
            ..Default::default()
        };
        let t = budget_text(&a);
        assert!(t.starts_with("Alert type: `budget_alerts`"));
        assert!(t.contains("Budget Crossed for key\n\nSpend: `$10.5`\nMax Budget: `$10`"));
        assert!(t.contains("Key Alias: `ci`"));
    }

    #[test]
    fn long_prompts_are_cut() {
        let mut p = testdata::failure();
        p["messages"][0]["content"] = json!("y".repeat(5000));
        assert!(failure_text(&p).len() < 2000);
    }
}
