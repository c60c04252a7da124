//! What a virtual-key request adds to the gateway's logging (`edgellm::integrations::gateway`):
//!
//! - the caller as LiteLLM names it in every payload's metadata: `user_api_key_hash` (the
//!   key's SHA-256, never the key), `user_api_key_alias`, `user_api_key_user_id`,
//!   `user_api_key_team_id`, `user_api_key_team_alias`, `user_api_key_metadata` and
//!   `user_api_key_team_metadata`, taken from the counters the request was admitted at (they
//!   carry their record's alias and metadata, so no record is read per request);
//! - refusals (budget, rate limits, access) as failure events, as LiteLLM logs its proxy-level
//!   auth errors to the failure callbacks;
//! - budget alerts (LiteLLM's `budget_alerts`: `soft_budget_crossed`, `threshold_crossed` at
//!   85% and 95% of `max_budget`, `budget_crossed`) for the levels a counter reports reached,
//!   which it reports once per level and budget period.

use serde_json::Value;

use edgellm::integrations::capture::Caller;
use edgellm::integrations::BudgetAlert;
use edgellm::{Error, ErrorKind};

use super::counter::{Crossing, Level, Limits};
use super::model;
use crate::app::Reply;

/// The alias in a key's counter label (`Key=alias (sk-...abcd)`), for counters configured
/// before limits carried the alias.
pub fn alias_of(label: Option<&str>) -> Option<String> {
    let (alias, _) = label?.strip_prefix("Key=")?.rsplit_once(" (")?;
    Some(alias.to_string())
}

/// `base` (the presented key, the client's address) with what the key's and its team's
/// counters know. Either may be unknown (a key refused as unknown, a team that refused).
pub fn caller(base: &Caller, key: Option<&Limits>, team: Option<&Limits>) -> Caller {
    let Some(key) = key else {
        return base.clone();
    };
    let team_id = key.team_id.clone();
    let team = team.filter(|_| team_id.is_some());
    Caller {
        key_alias: key.alias.clone().or_else(|| alias_of(key.label.as_deref())),
        user_id: key.user_id.clone(),
        team_alias: team.and_then(|t| t.alias.clone()),
        key_metadata: Some(Value::Object(key.metadata.clone())),
        team_metadata: team.map(|t| Value::Object(t.metadata.clone())),
        team_id,
        ..base.clone()
    }
}

/// The error a refusal reply is logged with, from its status and LiteLLM error `type`.
pub fn refusal_error(reply: &Reply) -> Error {
    let body = reply.json_body().unwrap_or(Value::Null);
    let err = &body["error"];
    let kind = match (reply.status, err["type"].as_str()) {
        (_, Some("budget_exceeded")) => ErrorKind::BudgetExceeded,
        (401, _) => ErrorKind::Authentication,
        (403, _) => ErrorKind::PermissionDenied,
        (429, _) => ErrorKind::RateLimited,
        (503, _) => ErrorKind::ServiceUnavailable,
        (s, _) if s >= 500 => ErrorKind::InternalServer,
        _ => ErrorKind::BadRequest,
    };
    let message = err["message"]
        .as_str()
        .map_or_else(|| format!("HTTP {}", reply.status), String::from);
    let mut e = Error::new(kind, message).with_status(reply.status);
    if let Some(t) = err["type"].as_str() {
        e = e.with_code(t);
    }
    e
}

/// LiteLLM's `event_group` for a counter name (`key:…`, `user:…`, `team:…`, `global`).
pub fn event_group(counter: &str) -> &'static str {
    match counter.split_once(':').map(|(kind, _)| kind) {
        Some("user") => "user",
        Some("team") => "team",
        Some("key") => "key",
        _ if counter == model::GLOBAL_COUNTER => "proxy",
        _ => "key",
    }
}

fn capitalized(group: &str) -> String {
    let mut c = group.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// The alert for a level the counter `counter` reached, on a request by `who` with the key
/// whose hash is `key_hash`. The wording is LiteLLM's (`Key Budget: Budget Crossed`, …).
pub fn alert(counter: &str, c: &Crossing, who: &Caller, key_hash: &str, at_ms: u64) -> BudgetAlert {
    let group = event_group(counter);
    let usd = |u: Option<edgellm::cost::Usd>| u.map(edgellm::cost::Usd::to_f64);
    let max = usd(c.max_budget).unwrap_or_default();
    let entity = capitalized(group);
    let event_message = match c.level {
        Level::SoftBudget => format!(
            "{entity} Budget: Soft Budget Crossed\nTotal Soft Budget: `{}`",
            usd(c.soft_budget).unwrap_or_default()
        ),
        Level::Threshold85 => format!("{entity} Budget: 15% Threshold Crossed"),
        Level::Threshold95 => format!("{entity} Budget: 5% Threshold Crossed"),
        Level::MaxBudget => {
            let mut m = format!("{entity} Budget: Budget Crossed\nTotal Budget: `{max}`");
            if let Some(r) = c.refused {
                let left = c.max_budget.unwrap_or_default().saturating_sub(c.spend);
                m.push_str(&format!(
                    "\nA call that may cost up to `{}` was refused: `{}` is left.",
                    r.to_f64(),
                    left.to_f64()
                ));
            }
            m
        }
    };
    BudgetAlert {
        event: c.level.event().into(),
        event_group: group.into(),
        event_message,
        spend: c.spend.to_f64(),
        max_budget: usd(c.max_budget),
        soft_budget: usd(c.soft_budget),
        token: Some(key_hash.to_string()),
        user_id: who.user_id.clone(),
        team_id: who.team_id.clone(),
        team_alias: who.team_alias.clone(),
        key_alias: who.key_alias.clone(),
        customer_id: None,
        at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgellm::cost::Usd;
    use serde_json::json;

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    fn key_limits() -> Limits {
        Limits {
            alias: Some("ci".into()),
            user_id: Some("u1".into()),
            team_id: Some("t1".into()),
            metadata: json!({"env": "prod"}).as_object().unwrap().clone(),
            ..Default::default()
        }
    }

    #[test]
    fn the_caller_names_key_user_and_team_but_never_the_key() {
        let base = Caller {
            key: Some("sk-plaintext-1".into()),
            ip: Some("203.0.113.7".into()),
            ..Default::default()
        };
        let team = Limits {
            alias: Some("core".into()),
            metadata: json!({"cost_center": "42"}).as_object().unwrap().clone(),
            ..Default::default()
        };
        let c = caller(&base, Some(&key_limits()), Some(&team));
        let md = c.metadata();
        assert_eq!(md["user_api_key_alias"], "ci");
        assert_eq!(md["user_api_key_user_id"], "u1");
        assert_eq!(md["user_api_key_team_id"], "t1");
        assert_eq!(md["user_api_key_team_alias"], "core");
        assert_eq!(md["user_api_key_metadata"], json!({"env": "prod"}));
        assert_eq!(
            md["user_api_key_team_metadata"],
            json!({"cost_center": "42"})
        );
        assert_eq!(md["requester_ip_address"], "203.0.113.7");
        assert_eq!(
            md["user_api_key_hash"],
            super::super::secret::hash_key("sk-plaintext-1")
        );
        assert!(!Value::Object(md).to_string().contains("sk-plaintext-1"));
        // Unknown key: only what the request says.
        assert_eq!(caller(&base, None, Some(&team)), base);
        // Older counters: the alias from the label; no team without a team id.
        let old = Limits {
            label: Some("Key=legacy (sk-...abcd)".into()),
            ..Default::default()
        };
        let c = caller(&base, Some(&old), Some(&team));
        assert_eq!(c.key_alias.as_deref(), Some("legacy"));
        assert_eq!((c.team_alias, c.team_metadata), (None, None));
        assert_eq!(alias_of(Some("User=u1")), None);
    }

    #[test]
    fn refusals_log_as_their_error_class() {
        let budget = super::super::errors::proxy_error(
            400,
            "budget_exceeded",
            "Budget has been exceeded!",
            None,
        );
        let e = refusal_error(&budget);
        assert_eq!(e.kind(), ErrorKind::BudgetExceeded);
        assert_eq!((e.status(), e.code()), (400, "budget_exceeded"));
        assert_eq!(e.message(), "Budget has been exceeded!");
        let cases = [
            (401, "auth_error", ErrorKind::Authentication),
            (429, "throttling_error", ErrorKind::RateLimited),
            (503, "service_unavailable", ErrorKind::ServiceUnavailable),
        ];
        for (status, kind, want) in cases {
            let r = super::super::errors::proxy_error(status, kind, "no", None);
            assert_eq!(refusal_error(&r).kind(), want, "{status}");
        }
    }

    #[test]
    fn alerts_use_litellm_events_and_groups() {
        let who = caller(&Caller::default(), Some(&key_limits()), None);
        let c = Crossing {
            level: Level::MaxBudget,
            spend: usd("0.15"),
            max_budget: Some(usd("0.2")),
            soft_budget: None,
            refused: Some(usd("0.09")),
        };
        let a = alert("key:abc", &c, &who, "abc", 1_700_000_000_000);
        assert_eq!(
            (a.event.as_str(), a.event_group.as_str()),
            ("budget_crossed", "key")
        );
        assert!(a
            .event_message
            .starts_with("Key Budget: Budget Crossed\nTotal Budget: `0.2`"));
        assert!(a
            .event_message
            .contains("may cost up to `0.09` was refused: `0.05` is left"));
        assert_eq!((a.spend, a.max_budget), (0.15, Some(0.2)));
        assert_eq!(a.token.as_deref(), Some("abc"));
        assert_eq!(a.key_alias.as_deref(), Some("ci"));
        assert_eq!(a.team_id.as_deref(), Some("t1"));
        let soft = Crossing {
            level: Level::SoftBudget,
            soft_budget: Some(usd("0.1")),
            refused: None,
            ..c.clone()
        };
        let a = alert("team:t1", &soft, &who, "abc", 0);
        assert_eq!(
            (a.event.as_str(), a.event_group.as_str()),
            ("soft_budget_crossed", "team")
        );
        assert_eq!(
            a.event_message,
            "Team Budget: Soft Budget Crossed\nTotal Soft Budget: `0.1`"
        );
        let t = Crossing {
            level: Level::Threshold95,
            ..c
        };
        let a = alert("user:u1", &t, &who, "abc", 0);
        assert_eq!(
            (a.event.as_str(), a.event_message.as_str()),
            ("threshold_crossed", "User Budget: 5% Threshold Crossed")
        );
        assert_eq!(event_group(model::GLOBAL_COUNTER), "proxy");
    }
}
