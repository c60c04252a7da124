//! The JSON bodies the gateway writes itself (with `json!`, not from a core type): the error
//! envelope, the model list, model info and the health probes. `deny_unknown_fields` plus the
//! replies tests in `main.rs` (the gateway's real answers must parse into these) keep them from
//! drifting from the handlers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// OpenAI's error envelope, on every 4xx/5xx answer.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorDetail,
}

/// `error`: what OpenAI's SDKs read to pick the exception class.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Human-readable; credentials are scrubbed from it.
    pub message: String,
    /// OpenAI's `type`: `invalid_request_error`, `authentication_error`, `permission_error`,
    /// `rate_limit_error`, `api_error`, `budget_exceeded`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The offending parameter, when one is known.
    pub param: Option<String>,
    /// Machine-readable code (`invalid_api_key`, `context_length_exceeded`, `model_not_found`, …).
    pub code: Option<String>,
}

/// `GET /v1/models`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelList {
    /// Always `list`.
    pub object: String,
    /// One entry per model group.
    pub data: Vec<ModelCard>,
}

/// A model group, as OpenAI describes a model.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    /// The `model_name` to send.
    pub id: String,
    /// Always `model`.
    pub object: String,
    /// Unix seconds (fixed: the config has no creation time).
    pub created: i64,
    /// Always `edgellm`.
    pub owned_by: String,
}

/// `GET /v1/model/info`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelInfoList {
    /// One entry per deployment.
    pub data: Vec<ModelInfoEntry>,
}

/// One deployment.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelInfoEntry {
    /// Its model group.
    pub model_name: String,
    /// Its `litellm_params` without credentials.
    pub litellm_params: Map<String, Value>,
    /// The price table's entry for its model, overlaid with the config's `model_info` and
    /// the deployment `id`.
    pub model_info: Map<String, Value>,
}

/// `GET /health/liveliness`: the text `I'm alive!` as a JSON string.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Liveliness(pub String);

/// `GET /health/readiness`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Readiness {
    /// `healthy`.
    pub status: String,
    /// Always `Not connected` (the gateway has no database).
    pub db: String,
    /// Always `null`.
    pub cache: Option<Value>,
    /// Gateway version.
    pub edgellm_version: String,
    /// Where the config came from (`EDGELLM_CONFIG` or `bundled config`).
    pub config_source: String,
    /// Number of model groups.
    pub models: u64,
    /// Number of config warnings.
    pub config_warnings: u64,
    /// The warnings themselves (only for the master key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_warning_messages: Option<Vec<String>>,
}

/// `GET /`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Root {
    /// `edgellm gateway`.
    pub name: String,
    /// Gateway version.
    pub version: String,
    /// The OpenAI-compatible routes, as `METHOD /path`.
    pub openai_compatible: Vec<String>,
    /// The health probes, as `METHOD /path`.
    pub health: Vec<String>,
}
