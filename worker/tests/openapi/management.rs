//! LiteLLM's management API as the gateway serves it (`worker/src/keys/api.rs`): virtual keys,
//! users, teams and spend. Those handlers read their bodies field by field and write their
//! answers with `json!`, so the bodies are described here by types, and `main.rs` drives the
//! real handlers (in-memory stores) and requires every answer to round-trip through them
//! unchanged: a field added, dropped or retyped there fails the test.

// The request types are only read through their schemas.
#![allow(dead_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::document::{error_response, ok_response};

/// Budget and limit fields shared by keys, users and teams (`Fields::apply_policy`). Absent
/// fields keep their value on update; `null` clears them.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PolicyFields {
    /// Model groups the holder may call (empty: all). `*` allows all, a trailing `*` is a
    /// prefix (`openai/*`), `all-team-models` defers to the team.
    pub models: Option<Vec<String>>,
    /// Spend allowed per budget period, in dollars (a number, or a decimal string for an exact
    /// amount).
    pub max_budget: Option<Dollars>,
    /// Spend at which a `soft_budget_crossed` alert goes out (nothing is refused), in dollars.
    pub soft_budget: Option<Dollars>,
    /// Budget period: `30s`, `30m`, `30h`, `30d`. Without it the budget never resets.
    pub budget_duration: Option<String>,
    /// Requests per minute.
    pub rpm_limit: Option<u64>,
    /// Tokens per minute.
    pub tpm_limit: Option<u64>,
    /// Requests in flight at once.
    pub max_parallel_requests: Option<u64>,
    /// Refuse every request while true.
    pub blocked: Option<bool>,
    /// Free-form metadata, kept as given.
    pub metadata: Option<Map<String, Value>>,
}

/// Dollars: a JSON number, or a decimal string for an exact amount.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Dollars {
    /// A float amount.
    Number(f64),
    /// An exact decimal (`"12.50"`).
    Exact(String),
}

/// `POST /key/generate`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyGenerateRequest {
    /// A key of your own (`sk-…`, at least 8 characters, no spaces); a random one otherwise.
    pub key: Option<String>,
    /// A display name.
    pub key_alias: Option<String>,
    /// The owner; created (without a budget) when it does not exist.
    pub user_id: Option<String>,
    /// The team whose budget and limits also apply.
    pub team_id: Option<String>,
    /// Lifetime: `30s`, `30m`, `30h`, `30d`. Without it the key does not expire.
    pub duration: Option<String>,
    /// Budget and limits.
    #[serde(flatten)]
    pub policy: PolicyFields,
}

/// `POST /key/update`: the fields present change, the others stay.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyUpdateRequest {
    /// The key (or its hash).
    pub key: String,
    /// A display name.
    pub key_alias: Option<String>,
    /// The owner.
    pub user_id: Option<String>,
    /// The team.
    pub team_id: Option<String>,
    /// A new lifetime from now.
    pub duration: Option<String>,
    /// Budget and limits.
    #[serde(flatten)]
    pub policy: PolicyFields,
}

/// `POST /key/block`, `POST /key/unblock`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyRef {
    /// The key (or its hash).
    pub key: String,
}

/// `POST /key/delete`: all named keys exist, or none is deleted.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyDeleteRequest {
    /// Keys or key hashes.
    pub keys: Option<Vec<String>>,
    /// Key aliases (every key with the alias).
    pub key_aliases: Option<Vec<String>>,
}

/// `POST /user/new`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UserNewRequest {
    /// Id (a new UUID when absent).
    pub user_id: Option<String>,
    /// E-mail.
    pub user_email: Option<String>,
    /// Display name.
    pub user_alias: Option<String>,
    /// LiteLLM role name, kept as given.
    pub user_role: Option<String>,
    /// Teams.
    pub teams: Option<Vec<String>>,
    /// Create a key for the user too (default true); `key_alias`, `duration`, `models` and
    /// `team_id` apply to it.
    pub auto_create_key: Option<bool>,
    /// Alias of the key created with the user.
    pub key_alias: Option<String>,
    /// Lifetime of the key created with the user.
    pub duration: Option<String>,
    /// Team of the key created with the user.
    pub team_id: Option<String>,
    /// Budget and limits of the user.
    #[serde(flatten)]
    pub policy: PolicyFields,
}

/// `POST /team/new`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TeamNewRequest {
    /// Id (a new UUID when absent).
    pub team_id: Option<String>,
    /// Display name.
    pub team_alias: Option<String>,
    /// LiteLLM's `members_with_roles`, kept as given.
    pub members_with_roles: Option<Vec<Value>>,
    /// Budget and limits of the team.
    #[serde(flatten)]
    pub policy: PolicyFields,
}

/// Limits and live counters, as every key, user and team object carries them.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PolicyView {
    /// Allowed model groups (empty: all).
    pub models: Vec<String>,
    /// Dollars per budget period.
    pub max_budget: Option<f64>,
    /// Dollars at which a budget alert goes out.
    pub soft_budget: Option<f64>,
    /// Budget period.
    pub budget_duration: Option<String>,
    /// When the current budget period ends (ISO 8601).
    pub budget_reset_at: Option<String>,
    /// Requests per minute.
    pub rpm_limit: Option<u64>,
    /// Tokens per minute.
    pub tpm_limit: Option<u64>,
    /// Requests in flight at once.
    pub max_parallel_requests: Option<u64>,
    /// Refused while true.
    pub blocked: bool,
    /// Metadata as given.
    pub metadata: Map<String, Value>,
    /// Spend in the current budget period (dollars).
    pub spend: f64,
    /// The same, exact.
    pub spend_exact: String,
    /// Spend since creation, exact.
    pub spend_total_exact: String,
    /// Reserved for calls in flight, exact.
    pub reserved_exact: String,
    /// Spend by model group (dollars).
    pub model_spend: Map<String, Value>,
    /// Requests in the last minute.
    pub rpm_current: u64,
    /// Tokens in the last minute.
    pub tpm_current: u64,
    /// Requests since creation.
    pub requests: u64,
    /// Input tokens since creation.
    pub prompt_tokens: u64,
    /// Output tokens since creation.
    pub completion_tokens: u64,
}

/// A virtual key (`/key/info`'s `info`, `/key/update`, `/key/block`). The key itself is only
/// returned once, by `/key/generate`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct KeyObject {
    /// SHA-256 of the key (hex): its id.
    pub token: String,
    /// The key abbreviated (`sk-...abcd`).
    pub key_name: String,
    /// Display name.
    pub key_alias: Option<String>,
    /// Owner.
    pub user_id: Option<String>,
    /// Team.
    pub team_id: Option<String>,
    /// Expiry (ISO 8601), or null.
    pub expires: Option<String>,
    /// Created (ISO 8601).
    pub created_at: String,
    /// Last changed (ISO 8601).
    pub updated_at: String,
    /// Limits and live counters.
    #[serde(flatten)]
    pub policy: PolicyView,
    /// `/key/update` echoes the key it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `/key/generate`: the new key (shown this once) and its object.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct KeyGenerateResponse {
    /// The new key: store it, it is not shown again.
    pub key: String,
    /// Its hash (the id for `/key/info`, `/key/delete`).
    pub token_id: String,
    /// The lifetime asked for.
    pub duration: Option<String>,
    /// SHA-256 of the key (hex).
    pub token: String,
    /// The key abbreviated.
    pub key_name: String,
    /// Display name.
    pub key_alias: Option<String>,
    /// Owner.
    pub user_id: Option<String>,
    /// Team.
    pub team_id: Option<String>,
    /// Expiry (ISO 8601), or null.
    pub expires: Option<String>,
    /// Created (ISO 8601).
    pub created_at: String,
    /// Last changed (ISO 8601).
    pub updated_at: String,
    /// Limits and live counters.
    #[serde(flatten)]
    pub policy: PolicyView,
}

/// `GET /key/info`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct KeyInfoResponse {
    /// The key or hash asked about.
    pub key: String,
    /// The key.
    pub info: KeyObject,
}

/// `GET /key/list`: hashes, or key objects with `return_full_object=true`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct KeyListResponse {
    /// Newest first.
    pub keys: Vec<KeyListEntry>,
    /// Keys matching the filters.
    pub total_count: u64,
    /// This page (from 1).
    pub current_page: u64,
    /// Pages of `size`.
    pub total_pages: u64,
}

/// A `/key/list` entry.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum KeyListEntry {
    /// The key's hash.
    Hash(String),
    /// The key object.
    Full(Box<KeyObject>),
}

/// `POST /key/delete`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct KeyDeleteResponse {
    /// The keys named in `keys`.
    pub deleted_keys: Vec<String>,
    /// The aliases named in `key_aliases`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_key_aliases: Option<Vec<String>>,
}

/// A user.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct UserObject {
    /// Id.
    pub user_id: String,
    /// E-mail.
    pub user_email: Option<String>,
    /// Display name.
    pub user_alias: Option<String>,
    /// Role name.
    pub user_role: Option<String>,
    /// Teams.
    pub teams: Vec<String>,
    /// Created (ISO 8601).
    pub created_at: String,
    /// Last changed (ISO 8601).
    pub updated_at: String,
    /// Limits and live counters.
    #[serde(flatten)]
    pub policy: PolicyView,
    /// The key created with the user (`auto_create_key`), shown this once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Abbreviation of that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Its expiry (ISO 8601; null when it does not expire). Present with the key only.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub expires: Option<Value>,
    /// Its hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Its hash, under LiteLLM's other name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
}

/// A field that may be `null` but, when absent, stays absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// `GET /user/info`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct UserInfoResponse {
    /// Id.
    pub user_id: String,
    /// The user.
    pub user_info: UserObject,
    /// The user's keys.
    pub keys: Vec<KeyObject>,
    /// The user's teams.
    pub teams: Vec<TeamObject>,
}

/// A team.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TeamObject {
    /// Id.
    pub team_id: String,
    /// Display name.
    pub team_alias: Option<String>,
    /// Members as given.
    pub members_with_roles: Vec<Value>,
    /// Created (ISO 8601).
    pub created_at: String,
    /// Last changed (ISO 8601).
    pub updated_at: String,
    /// Limits and live counters.
    #[serde(flatten)]
    pub policy: PolicyView,
}

/// `GET /team/info`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TeamInfoResponse {
    /// Id.
    pub team_id: String,
    /// The team.
    pub team_info: TeamObject,
    /// The team's keys.
    pub keys: Vec<KeyObject>,
    /// Always empty (no memberships table).
    pub team_memberships: Vec<Value>,
}

/// One request in the spend log (LiteLLM's `LiteLLM_SpendLogs` row, without prompts and
/// responses).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendLogEntry {
    /// The request's `x-request-id`.
    pub request_id: String,
    /// `acompletion`, `aembedding`, …
    pub call_type: String,
    /// Hash of the virtual key.
    pub api_key: String,
    /// Cost in dollars.
    pub spend: f64,
    /// The same, exact.
    pub spend_exact: String,
    /// Tokens.
    pub total_tokens: u64,
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Start (ISO 8601).
    #[serde(rename = "startTime")]
    pub start_time: String,
    /// End (ISO 8601).
    #[serde(rename = "endTime")]
    pub end_time: String,
    /// The provider's model.
    pub model: String,
    /// The deployment's `model_info.id`.
    pub model_id: String,
    /// The model group.
    pub model_group: String,
    /// The deployment's `litellm_params.model`.
    pub deployment: String,
    /// Endpoint base, without credentials.
    pub api_base: Option<String>,
    /// The key's user.
    pub user: Option<String>,
    /// The key's team.
    pub team_id: Option<String>,
    /// The key's alias.
    pub key_alias: Option<String>,
    /// `success` or `failure`.
    pub status: String,
    /// The error, for failures.
    pub error: Option<String>,
    /// The status answered.
    pub http_status: u16,
    /// Whether it streamed.
    pub stream: bool,
}

/// `GET /spend/logs`: newest first.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct SpendLogs(pub Vec<SpendLogEntry>);

/// `GET /global/spend`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalSpend {
    /// Dollars since the gateway started counting.
    pub spend: f64,
    /// The same, exact.
    pub spend_exact: String,
    /// Always null (no gateway-wide budget).
    pub max_budget: Option<f64>,
    /// Requests.
    pub requests: u64,
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Output tokens.
    pub completion_tokens: u64,
    /// Tokens in the last minute.
    pub tpm_current: u64,
}

/// A `/global/spend/logs` row.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendPeriod {
    /// The day (`YYYY-MM-DD`) or, with `granularity=hour`, the hour (ISO 8601).
    pub date: String,
    /// Dollars.
    pub spend: f64,
    /// The same, exact.
    pub spend_exact: String,
    /// Requests.
    pub requests: u64,
    /// Tokens.
    pub total_tokens: u64,
}

/// `GET /global/spend/logs`: the last 7 days, oldest first.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct SpendPeriods(pub Vec<SpendPeriod>);

/// Adds the request bodies to the (deserialize-side) generator.
pub fn add_requests(g: &mut schemars::SchemaGenerator) {
    use super::document::add;
    add::<KeyGenerateRequest>(g);
    add::<KeyUpdateRequest>(g);
    add::<KeyRef>(g);
    add::<KeyDeleteRequest>(g);
    add::<UserNewRequest>(g);
    add::<TeamNewRequest>(g);
}

/// Adds the response bodies to the (serialize-side) generator.
pub fn add_responses(g: &mut schemars::SchemaGenerator) {
    use super::document::add;
    add::<KeyGenerateResponse>(g);
    add::<KeyObject>(g);
    add::<KeyInfoResponse>(g);
    add::<KeyListResponse>(g);
    add::<KeyDeleteResponse>(g);
    add::<UserObject>(g);
    add::<UserInfoResponse>(g);
    add::<TeamObject>(g);
    add::<TeamInfoResponse>(g);
    add::<SpendLogs>(g);
    add::<GlobalSpend>(g);
    add::<SpendPeriods>(g);
}

/// A query parameter.
fn query(name: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": schema})
}

fn string() -> Value {
    json!({"type": "string"})
}

struct Route {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    params: Vec<Value>,
    response: &'static str,
    not_found: bool,
}

fn table() -> Vec<Route> {
    let key_q = || query("key", true, string(), "The key or its hash.");
    let r = |method, path, id, tag, summary, body, params, response, not_found| Route {
        method,
        path,
        id,
        tag,
        summary,
        body,
        params,
        response,
        not_found,
    };
    vec![
        r(
            "POST",
            "/key/generate",
            "generateKey",
            "keys",
            "Create a virtual key",
            Some("KeyGenerateRequest"),
            vec![],
            "KeyGenerateResponse",
            false,
        ),
        r(
            "POST",
            "/key/update",
            "updateKey",
            "keys",
            "Change a key's fields",
            Some("KeyUpdateRequest"),
            vec![],
            "KeyObject",
            true,
        ),
        r(
            "POST",
            "/key/delete",
            "deleteKeys",
            "keys",
            "Delete keys (all or none)",
            Some("KeyDeleteRequest"),
            vec![],
            "KeyDeleteResponse",
            true,
        ),
        r(
            "POST",
            "/key/block",
            "blockKey",
            "keys",
            "Block a key",
            Some("KeyRef"),
            vec![],
            "KeyObject",
            true,
        ),
        r(
            "POST",
            "/key/unblock",
            "unblockKey",
            "keys",
            "Unblock a key",
            Some("KeyRef"),
            vec![],
            "KeyObject",
            true,
        ),
        r(
            "GET",
            "/key/info",
            "keyInfo",
            "keys",
            "Describe a key (a virtual key may ask about itself)",
            None,
            vec![key_q()],
            "KeyInfoResponse",
            true,
        ),
        r(
            "GET",
            "/key/list",
            "listKeys",
            "keys",
            "List keys, newest first",
            None,
            vec![
                query(
                    "page",
                    false,
                    json!({"type": "integer", "minimum": 1}),
                    "Page, from 1.",
                ),
                query(
                    "size",
                    false,
                    json!({"type": "integer", "minimum": 1, "maximum": 1000}),
                    "Keys per page (10).",
                ),
                query("user_id", false, string(), "Only this user's keys."),
                query("team_id", false, string(), "Only this team's keys."),
                query("key_alias", false, string(), "Only keys with this alias."),
                query(
                    "return_full_object",
                    false,
                    json!({"type": "boolean"}),
                    "Key objects instead of hashes.",
                ),
            ],
            "KeyListResponse",
            false,
        ),
        r(
            "POST",
            "/user/new",
            "newUser",
            "users",
            "Create a user (and a key for it)",
            Some("UserNewRequest"),
            vec![],
            "UserObject",
            false,
        ),
        r(
            "GET",
            "/user/info",
            "userInfo",
            "users",
            "Describe a user with its keys and teams",
            None,
            vec![query("user_id", true, string(), "The user.")],
            "UserInfoResponse",
            true,
        ),
        r(
            "POST",
            "/team/new",
            "newTeam",
            "teams",
            "Create a team",
            Some("TeamNewRequest"),
            vec![],
            "TeamObject",
            false,
        ),
        r(
            "GET",
            "/team/info",
            "teamInfo",
            "teams",
            "Describe a team with its keys",
            None,
            vec![query("team_id", true, string(), "The team.")],
            "TeamInfoResponse",
            true,
        ),
        r(
            "GET",
            "/spend/logs",
            "spendLogs",
            "spend",
            "The spend log, newest first",
            None,
            vec![
                query(
                    "api_key",
                    false,
                    string(),
                    "Only this key's requests (key or hash).",
                ),
                query("user_id", false, string(), "Only this user's requests."),
                query("team_id", false, string(), "Only this team's requests."),
                query("request_id", false, string(), "Only this request."),
                query(
                    "start_date",
                    false,
                    json!({"type": "string", "format": "date"}),
                    "From this day (`YYYY-MM-DD` or ISO 8601).",
                ),
                query(
                    "end_date",
                    false,
                    json!({"type": "string", "format": "date"}),
                    "To this day, inclusive.",
                ),
                query(
                    "limit",
                    false,
                    json!({"type": "integer", "minimum": 1, "maximum": 10000}),
                    "At most this many entries (100).",
                ),
            ],
            "SpendLogs",
            false,
        ),
        r(
            "GET",
            "/global/spend",
            "globalSpend",
            "spend",
            "Total spend of the gateway",
            None,
            vec![],
            "GlobalSpend",
            false,
        ),
        r(
            "GET",
            "/global/spend/logs",
            "globalSpendLogs",
            "spend",
            "Spend per day (or hour) over the last 7 days",
            None,
            vec![query(
                "granularity",
                false,
                json!({"type": "string", "enum": ["day", "hour"]}),
                "`hour` for hourly rows.",
            )],
            "SpendPeriods",
            false,
        ),
    ]
}

/// The documented management routes, the dashboard page included.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = table().iter().map(|r| (r.method, r.path)).collect();
    v.push(("GET", "/ui"));
    v
}

/// `GET /ui`: an HTML page, not JSON; it asks for the master key itself.
fn dashboard() -> Value {
    json!({
        "operationId": "spendDashboard",
        "tags": ["spend"],
        "summary": "The spend dashboard (HTML)",
        "description": "A self-contained page that asks for the master key and shows spend per key, user, team and model from the management API.",
        "security": [],
        "responses": {
            "200": {
                "description": "The page.",
                "content": {"text/html": {"schema": {"type": "string"}}}
            },
            "default": error_response("Error")
        }
    })
}

/// `(path, method, operation)` for each route.
pub fn operations() -> Vec<(&'static str, &'static str, Value)> {
    table()
        .into_iter()
        .map(|r| {
            let mut responses = Map::new();
            responses.insert("200".into(), ok_response(r.summary, r.response));
            responses.insert("400".into(), error_response("BadRequest"));
            responses.insert("401".into(), error_response("Unauthorized"));
            if r.not_found {
                responses.insert("404".into(), error_response("NotFound"));
            }
            responses.insert("default".into(), error_response("Error"));
            let mut op = json!({
                "operationId": r.id,
                "tags": [r.tag],
                "summary": r.summary,
                "description": format!("LiteLLM's `{} {}`. Master key only; 400 when the gateway has no master key (virtual keys need one).", r.method, r.path),
                "responses": responses,
            });
            if !r.params.is_empty() {
                op["parameters"] = Value::Array(r.params);
            }
            if let Some(body) = r.body {
                op["requestBody"] = json!({
                    "required": true,
                    "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{body}")}}}
                });
            }
            (r.path, r.method, op)
        })
        .chain([("/ui", "GET", dashboard())])
        .collect()
}
