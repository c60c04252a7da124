//! The records kept in KV (keys, users, teams, spend logs) and LiteLLM's request fields for
//! them. Records hold no plaintext key: a key is stored under, and known by, its SHA-256.
//! Money is [`Usd`] here and becomes LiteLLM's float dollars only in responses.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use edgellm::cost::Usd;
use edgellm::Error;

use super::counter::{Limits, Snapshot};
use super::time;

/// KV name of a key record.
pub fn key_kv(hash: &str) -> String {
    format!("key:{hash}")
}

/// KV name of a user record.
pub fn user_kv(id: &str) -> String {
    format!("user:{id}")
}

/// KV name of a team record.
pub fn team_kv(id: &str) -> String {
    format!("team:{id}")
}

/// Durable Object name of a key's counters.
pub fn key_counter(hash: &str) -> String {
    format!("key:{hash}")
}

/// Durable Object name of a user's counters.
pub fn user_counter(id: &str) -> String {
    format!("user:{id}")
}

/// Durable Object name of a team's counters.
pub fn team_counter(id: &str) -> String {
    format!("team:{id}")
}

/// Durable Object name of the gateway-wide spend counter.
pub const GLOBAL_COUNTER: &str = "global";

/// Budget, rate limits and model access: the fields keys, users and teams share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Allowed models (empty: all).
    #[serde(default)]
    pub models: Vec<String>,
    /// Spend allowed per period.
    #[serde(default)]
    pub max_budget: Option<Usd>,
    /// Spend at which a budget alert goes out (`soft_budget_crossed`); nothing is refused.
    #[serde(default)]
    pub soft_budget: Option<Usd>,
    /// Budget period.
    #[serde(default)]
    pub budget_duration: Option<String>,
    /// Requests per minute.
    #[serde(default)]
    pub rpm_limit: Option<u64>,
    /// Tokens per minute.
    #[serde(default)]
    pub tpm_limit: Option<u64>,
    /// Calls in flight.
    #[serde(default)]
    pub max_parallel_requests: Option<u64>,
    /// Refuses everything while set.
    #[serde(default)]
    pub blocked: bool,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

/// A virtual key (KV `key:<sha256>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// SHA-256 of the key (LiteLLM's `token`).
    pub token: String,
    /// `sk-...` and the key's last 4 characters.
    pub key_name: String,
    /// A name for it.
    #[serde(default)]
    pub key_alias: Option<String>,
    /// Owner.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Team.
    #[serde(default)]
    pub team_id: Option<String>,
    /// Expiry.
    #[serde(default)]
    pub expires_ms: Option<u64>,
    /// Limits and metadata.
    #[serde(flatten)]
    pub policy: Policy,
    /// Created.
    pub created_ms: u64,
    /// Last changed.
    pub updated_ms: u64,
}

impl KeyRecord {
    /// The counter limits for this key.
    pub fn limits(&self) -> Limits {
        let label = self.key_alias.as_deref().map_or_else(
            || format!("Key={}", self.key_name),
            |a| format!("Key={a} ({})", self.key_name),
        );
        limits(
            &self.policy,
            Some(label),
            self.key_alias.clone(),
            self.expires_ms,
            self.user_id.clone(),
            self.team_id.clone(),
        )
    }

    /// LiteLLM's key object (`/key/info` `info`, `/key/list` with `return_full_object`), with
    /// the live counters.
    pub fn to_json(&self, live: Option<&Snapshot>) -> Value {
        let mut v = policy_json(&self.policy, live);
        let o = v.as_object_mut().expect("object");
        o.insert("token".into(), json!(self.token));
        o.insert("key_name".into(), json!(self.key_name));
        o.insert("key_alias".into(), json!(self.key_alias));
        o.insert("user_id".into(), json!(self.user_id));
        o.insert("team_id".into(), json!(self.team_id));
        o.insert("expires".into(), json!(self.expires_ms.map(time::iso)));
        o.insert("created_at".into(), json!(time::iso(self.created_ms)));
        o.insert("updated_at".into(), json!(time::iso(self.updated_ms)));
        v
    }
}

/// A user (KV `user:<id>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Id.
    pub user_id: String,
    /// E-mail.
    #[serde(default)]
    pub user_email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub user_alias: Option<String>,
    /// LiteLLM role name (`internal_user`, `proxy_admin`, …), kept as given.
    #[serde(default)]
    pub user_role: Option<String>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Limits and metadata.
    #[serde(flatten)]
    pub policy: Policy,
    /// Created.
    pub created_ms: u64,
    /// Last changed.
    pub updated_ms: u64,
}

impl UserRecord {
    /// The counter limits for this user.
    pub fn limits(&self) -> Limits {
        limits(
            &self.policy,
            Some(format!("User={}", self.user_id)),
            self.user_alias.clone(),
            None,
            None,
            None,
        )
    }

    /// LiteLLM's user object.
    pub fn to_json(&self, live: Option<&Snapshot>) -> Value {
        let mut v = policy_json(&self.policy, live);
        let o = v.as_object_mut().expect("object");
        o.insert("user_id".into(), json!(self.user_id));
        o.insert("user_email".into(), json!(self.user_email));
        o.insert("user_alias".into(), json!(self.user_alias));
        o.insert("user_role".into(), json!(self.user_role));
        o.insert("teams".into(), json!(self.teams));
        o.insert("created_at".into(), json!(time::iso(self.created_ms)));
        o.insert("updated_at".into(), json!(time::iso(self.updated_ms)));
        v
    }
}

/// A team (KV `team:<id>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamRecord {
    /// Id.
    pub team_id: String,
    /// Display name.
    #[serde(default)]
    pub team_alias: Option<String>,
    /// LiteLLM's `members_with_roles`, kept as given.
    #[serde(default)]
    pub members_with_roles: Vec<Value>,
    /// Limits and metadata.
    #[serde(flatten)]
    pub policy: Policy,
    /// Created.
    pub created_ms: u64,
    /// Last changed.
    pub updated_ms: u64,
}

impl TeamRecord {
    /// The counter limits for this team.
    pub fn limits(&self) -> Limits {
        limits(
            &self.policy,
            Some(format!("Team={}", self.team_id)),
            self.team_alias.clone(),
            None,
            None,
            None,
        )
    }

    /// LiteLLM's team object.
    pub fn to_json(&self, live: Option<&Snapshot>) -> Value {
        let mut v = policy_json(&self.policy, live);
        let o = v.as_object_mut().expect("object");
        o.insert("team_id".into(), json!(self.team_id));
        o.insert("team_alias".into(), json!(self.team_alias));
        o.insert("members_with_roles".into(), json!(self.members_with_roles));
        o.insert("created_at".into(), json!(time::iso(self.created_ms)));
        o.insert("updated_at".into(), json!(time::iso(self.updated_ms)));
        v
    }
}

fn limits(
    p: &Policy,
    label: Option<String>,
    alias: Option<String>,
    expires_ms: Option<u64>,
    user_id: Option<String>,
    team_id: Option<String>,
) -> Limits {
    Limits {
        models: p.models.clone(),
        max_budget: p.max_budget,
        budget_duration: p.budget_duration.clone(),
        rpm_limit: p.rpm_limit,
        tpm_limit: p.tpm_limit,
        max_parallel_requests: p.max_parallel_requests,
        expires_ms,
        blocked: p.blocked,
        user_id,
        team_id,
        label,
        soft_budget: p.soft_budget,
        alias,
        metadata: p.metadata.clone(),
    }
}

/// Exact dollars as text (`"0.000123450000"`): JSON numbers are floats in most clients.
pub fn exact(u: Usd) -> String {
    u.to_string().trim_start_matches('$').to_string()
}

fn policy_json(p: &Policy, live: Option<&Snapshot>) -> Value {
    let spend = live.map_or(Usd::ZERO, |s| s.spend);
    json!({
        "models": p.models,
        "max_budget": p.max_budget.map(Usd::to_f64),
        "soft_budget": p.soft_budget.map(Usd::to_f64),
        "budget_duration": p.budget_duration,
        "budget_reset_at": live.and_then(|s| s.budget_reset_at_ms).map(time::iso),
        "rpm_limit": p.rpm_limit,
        "tpm_limit": p.tpm_limit,
        "max_parallel_requests": p.max_parallel_requests,
        "blocked": p.blocked,
        "metadata": p.metadata,
        "spend": spend.to_f64(),
        "spend_exact": exact(spend),
        "spend_total_exact": exact(live.map_or(Usd::ZERO, |s| s.total_spend)),
        "reserved_exact": exact(live.map_or(Usd::ZERO, |s| s.reserved)),
        "model_spend": live.map(|s| s.model_spend.iter().map(|(k, v)| (k.clone(), json!(v.to_f64()))).collect::<Map<_, _>>()).unwrap_or_default(),
        "rpm_current": live.map_or(0, |s| s.rpm_used),
        "tpm_current": live.map_or(0, |s| s.tpm_used),
        "requests": live.map_or(0, |s| s.requests),
        "prompt_tokens": live.map_or(0, |s| s.prompt_tokens),
        "completion_tokens": live.map_or(0, |s| s.completion_tokens),
    })
}

/// The longest string field a management request may set (see [`Fields::string`]).
pub const MAX_FIELD_BYTES: usize = 256;

/// A request body's fields, with typed access and LiteLLM's validation messages.
#[derive(Debug)]
pub struct Fields<'a>(pub &'a Map<String, Value>);

fn invalid(field: &str, what: &str) -> Error {
    Error::bad_request(format!("`{field}` must be {what}")).with_param(field)
}

impl Fields<'_> {
    /// Whether the body names `field` (even as null: an update that clears it).
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    /// A string (null and absent are `None`) of at most [`MAX_FIELD_BYTES`] bytes without
    /// control characters: ids become Workers KV names (at most 512 bytes) and `key_alias` goes
    /// into KV metadata (at most 1024 bytes), whose limits would otherwise fail the request
    /// with a 500 from the store.
    pub fn string(&self, field: &str) -> Result<Option<String>, Error> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() > MAX_FIELD_BYTES => Err(invalid(
                field,
                &format!("at most {MAX_FIELD_BYTES} bytes long"),
            )),
            Some(Value::String(s)) if s.chars().any(char::is_control) => {
                Err(invalid(field, "a string without control characters"))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(invalid(field, "a string")),
        }
    }

    /// A non-negative integer.
    pub fn uint(&self, field: &str) -> Result<Option<u64>, Error> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .or_else(|| {
                    v.as_f64()
                        .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                        .map(|f| f as u64)
                })
                .map(Some)
                .ok_or_else(|| invalid(field, "a non-negative integer")),
        }
    }

    /// Dollars (a JSON number, or a decimal string for exact amounts).
    pub fn usd(&self, field: &str) -> Result<Option<Usd>, Error> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Usd::parse(s.trim())
                .map(Some)
                .ok_or_else(|| invalid(field, "a non-negative number of dollars")),
            Some(v) => v
                .as_f64()
                .and_then(Usd::from_f64)
                .map(Some)
                .ok_or_else(|| invalid(field, "a non-negative number of dollars")),
        }
    }

    /// A boolean.
    pub fn bool(&self, field: &str) -> Result<Option<bool>, Error> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            _ => Err(invalid(field, "true or false")),
        }
    }

    /// A list of strings.
    pub fn strings(&self, field: &str) -> Result<Option<Vec<String>>, Error> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(String::from))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| invalid(field, "a list of strings")),
            _ => Err(invalid(field, "a list of strings")),
        }
    }

    /// An object.
    pub fn object(&self, field: &str) -> Result<Option<Map<String, Value>>, Error> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            _ => Err(invalid(field, "an object")),
        }
    }

    /// A duration (`30s`, `30m`, `30h`, `30d`) in ms.
    pub fn duration(&self, field: &str) -> Result<Option<u64>, Error> {
        match self.string(field)? {
            None => Ok(None),
            Some(s) => time::duration_ms(&s).map(Some).ok_or_else(|| {
                invalid(
                    field,
                    "a duration such as \"30s\", \"30m\", \"30h\" or \"30d\"",
                )
            }),
        }
    }

    /// Applies the shared budget/limit fields present in the body to `p` (absent ones stay).
    pub fn apply_policy(&self, p: &mut Policy) -> Result<(), Error> {
        if self.has("models") {
            p.models = self.strings("models")?.unwrap_or_default();
        }
        if self.has("max_budget") {
            p.max_budget = self.usd("max_budget")?;
        }
        if self.has("soft_budget") {
            p.soft_budget = self.usd("soft_budget")?;
        }
        if self.has("budget_duration") {
            if let Some(d) = self.string("budget_duration")? {
                if time::duration_ms(&d).is_none() {
                    return Err(invalid(
                        "budget_duration",
                        "a duration such as \"30d\" or \"1h\"",
                    ));
                }
                p.budget_duration = Some(d);
            } else {
                p.budget_duration = None;
            }
        }
        for (field, slot) in [
            ("rpm_limit", &mut p.rpm_limit),
            ("tpm_limit", &mut p.tpm_limit),
            ("max_parallel_requests", &mut p.max_parallel_requests),
        ] {
            if self.has(field) {
                *slot = self.uint(field)?;
            }
        }
        if self.has("blocked") {
            p.blocked = self.bool("blocked")?.unwrap_or(false);
        }
        if self.has("metadata") {
            p.metadata = self.object("metadata")?.unwrap_or_default();
        }
        Ok(())
    }
}

/// One request in the spend log (LiteLLM's `LiteLLM_SpendLogs` row, without prompts and
/// responses). KV `log:<inverted time>:<request id>`, newest first in a listing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpendLog {
    /// Request id (`x-litellm-call-id`).
    pub request_id: String,
    /// `acompletion`, `aembedding`, `atext_completion`, …
    pub call_type: String,
    /// SHA-256 of the key.
    pub api_key: String,
    /// Cost in dollars.
    pub spend: f64,
    /// Cost, exact (`"0.000012000000"`).
    pub spend_exact: String,
    /// Prompt + completion tokens.
    pub total_tokens: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Start (ISO 8601).
    #[serde(rename = "startTime")]
    pub start_time: String,
    /// End (ISO 8601; for streams, when the stream ended).
    #[serde(rename = "endTime")]
    pub end_time: String,
    /// The model requested.
    pub model: String,
    /// The deployment that answered (`model_info.id`).
    pub model_id: String,
    /// The model group that answered.
    pub model_group: String,
    /// The deployment's provider model.
    pub deployment: String,
    /// The deployment's api_base (no credentials).
    #[serde(default)]
    pub api_base: Option<String>,
    /// The key's user.
    #[serde(default)]
    pub user: Option<String>,
    /// The key's team.
    #[serde(default)]
    pub team_id: Option<String>,
    /// The key's alias.
    #[serde(default)]
    pub key_alias: Option<String>,
    /// `success` or `failure`.
    pub status: String,
    /// The error, for failures.
    #[serde(default)]
    pub error: Option<String>,
    /// HTTP status answered.
    pub http_status: u16,
    /// Whether it was streamed.
    #[serde(default)]
    pub stream: bool,
}

/// KV name of a spend-log entry: sorts newest first.
pub fn log_kv(end_ms: u64, request_id: &str) -> String {
    format!(
        "log:{:013}:{request_id}",
        9_999_999_999_999u64.saturating_sub(end_ms)
    )
}

/// The end time encoded in a spend-log KV name.
pub fn log_kv_time(name: &str) -> Option<u64> {
    let inv: u64 = name.strip_prefix("log:")?.get(..13)?.parse().ok()?;
    Some(9_999_999_999_999 - inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_litellm_bodies() {
        let body = json!({"models": ["gpt"], "max_budget": 10.5, "soft_budget": "7.25", "budget_duration": "30d", "rpm_limit": 5,
                          "tpm_limit": null, "metadata": {"team": "x"}, "duration": "1h", "blocked": false});
        let f = Fields(body.as_object().unwrap());
        let mut p = Policy {
            tpm_limit: Some(9),
            ..Default::default()
        };
        f.apply_policy(&mut p).unwrap();
        assert_eq!(p.models, ["gpt"]);
        assert_eq!(p.max_budget, Usd::parse("10.5"));
        assert_eq!(p.soft_budget, Usd::parse("7.25"));
        assert_eq!(p.metadata["team"], "x");
        assert_eq!((p.rpm_limit, p.tpm_limit), (Some(5), None));
        assert_eq!(f.duration("duration").unwrap(), Some(3_600_000));
        for bad in [
            json!({"max_budget": -1}),
            json!({"rpm_limit": 1.5}),
            json!({"models": "gpt"}),
            json!({"budget_duration": "soon"}),
        ] {
            let e = Fields(bad.as_object().unwrap())
                .apply_policy(&mut p)
                .unwrap_err();
            assert_eq!(e.kind(), edgellm::ErrorKind::BadRequest, "{bad}");
        }
        let exact = json!({"max_budget": "0.000000000001"});
        assert_eq!(
            Fields(exact.as_object().unwrap())
                .usd("max_budget")
                .unwrap(),
            Some(Usd::from_pico(1))
        );
    }

    #[test]
    fn records_round_trip_and_render() {
        let k = KeyRecord {
            token: "ab".repeat(32),
            key_name: "sk-...wxyz".into(),
            key_alias: Some("ci".into()),
            user_id: Some("u1".into()),
            expires_ms: Some(1_700_000_000_000),
            policy: Policy {
                max_budget: Usd::parse("2"),
                ..Default::default()
            },
            ..Default::default()
        };
        let text = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<KeyRecord>(&text).unwrap(), k);
        let j = k.to_json(None);
        assert_eq!(j["max_budget"], 2.0);
        assert_eq!(j["expires"], "2023-11-14T22:13:20.000Z");
        assert_eq!(j["spend"], 0.0);
        let l = k.limits();
        assert_eq!(l.label.as_deref(), Some("Key=ci (sk-...wxyz)"));
        assert_eq!(l.user_id.as_deref(), Some("u1"));
        assert_eq!(l.alias.as_deref(), Some("ci"));
        let t = TeamRecord {
            team_id: "t1".into(),
            team_alias: Some("core".into()),
            policy: Policy {
                soft_budget: Usd::parse("1"),
                metadata: json!({"cost_center": "42"}).as_object().unwrap().clone(),
                ..Default::default()
            },
            ..Default::default()
        };
        let tl = t.limits();
        assert_eq!(tl.alias.as_deref(), Some("core"));
        assert_eq!(tl.soft_budget, Usd::parse("1"));
        assert_eq!(tl.metadata["cost_center"], "42");
        assert_eq!(t.to_json(None)["soft_budget"], 1.0);
    }

    #[test]
    fn log_names_sort_newest_first() {
        let a = log_kv(1_700_000_000_000, "a");
        let b = log_kv(1_700_000_000_001, "b");
        assert!(b < a);
        assert_eq!(log_kv_time(&a), Some(1_700_000_000_000));
    }
}
