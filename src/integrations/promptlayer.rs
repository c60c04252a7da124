//! PromptLayer: `POST {base}/log-request` with `X-API-KEY` (PromptLayer's custom-logging API;
//! LiteLLM still posts to the older `/rest/track-request`). Input and output are Prompt
//! Blueprint chat templates: `{type: "chat", messages: [{role, content: [{type: "text",
//! text}], tool_calls?}]}`. Also sent: provider, model, `api_type: "chat-completions"`,
//! parameters, ISO start/end times, token counts, `price`, tags (`metadata.pl_tags` as in
//! LiteLLM, plus `metadata.tags`), metadata as strings, and `status` `SUCCESS` / `ERROR` with
//! `error_type` and `error_message` for failures. One request per call.
//!
//! Settings: `promptlayer_api_key` / `PROMPTLAYER_API_KEY`, `promptlayer_api_base` /
//! `PROMPTLAYER_API_BASE` (default `https://api.promptlayer.com`).

use serde_json::{json, Map, Value};

use super::util::{self, iso8601};
use crate::http::HttpRequest;
use crate::{Env, Secret};

/// Resolved PromptLayer settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// API base.
    pub api_base: String,
    /// API key.
    pub api_key: Secret,
}

impl Config {
    /// Explicit settings first, then the environment.
    pub fn resolve(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let key = util::setting(
            explicit,
            &["promptlayer_api_key", "api_key"],
            env,
            &["PROMPTLAYER_API_KEY"],
        )
        .ok_or("set PROMPTLAYER_API_KEY")?;
        let base = util::setting(
            explicit,
            &["promptlayer_api_base", "api_base"],
            env,
            &["PROMPTLAYER_API_BASE"],
        )
        .unwrap_or_else(|| "https://api.promptlayer.com".into());
        Ok(Self {
            api_base: util::trim_base(&base),
            api_key: Secret::new(key),
        })
    }
}

/// OpenAI content (string or parts) as Blueprint content blocks.
fn content(v: &Value) -> Value {
    match v {
        Value::String(s) => json!([{"type": "text", "text": s}]),
        Value::Array(parts) => Value::Array(
            parts
                .iter()
                .map(|part| match part["type"].as_str() {
                    Some("text") => json!({"type": "text", "text": part["text"]}),
                    _ => part.clone(),
                })
                .collect(),
        ),
        _ => json!([]),
    }
}

/// An OpenAI message as a Blueprint message.
fn message(m: &Value) -> Value {
    let mut out = json!({"role": m["role"], "content": content(&m["content"])});
    for key in ["name", "tool_call_id"] {
        if let Some(v) = m.get(key).filter(|v| !v.is_null()) {
            out[key] = v.clone();
        }
    }
    if let Some(calls) = m["tool_calls"].as_array().filter(|a| !a.is_empty()) {
        out["tool_calls"] = Value::Array(calls.clone());
    }
    out
}

fn chat(messages: impl Iterator<Item = Value>) -> Value {
    json!({"type": "chat", "messages": messages.collect::<Vec<_>>()})
}

/// PromptLayer's documented `error_type` values this gateway can tell apart.
fn error_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "RateLimited" => "PROVIDER_RATE_LIMIT",
        "Timeout" => "PROVIDER_TIMEOUT",
        "BudgetExceeded" => "PROVIDER_QUOTA_LIMIT",
        _ => return None,
    })
}

/// The log body for one call.
pub fn body(p: &Value) -> Value {
    let md = util::metadata(p);
    let mut tags: Vec<String> = md
        .get("pl_tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    tags.extend(util::tags(p));
    let metadata: Map<String, Value> = md
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "pl_tags" | "tags") && !v.is_null())
        .map(|(k, v)| (k.clone(), Value::String(util::text(v))))
        .collect();
    let input = chat(p["messages"].as_array().into_iter().flatten().map(message));
    let output = chat(util::output_message(p).into_iter().map(message));
    let mut body = json!({
        "provider": p["custom_llm_provider"],
        "model": p["model"],
        "api_type": "chat-completions",
        "input": input,
        "output": output,
        "request_start_time": iso8601(util::ms(p, "startTime")),
        "request_end_time": iso8601(util::ms(p, "endTime")),
        "parameters": p["model_parameters"],
        "tags": tags,
        "metadata": metadata,
        "input_tokens": p["prompt_tokens"].as_u64().unwrap_or(0),
        "output_tokens": p["completion_tokens"].as_u64().unwrap_or(0),
        "price": p["response_cost"].as_f64().unwrap_or(0.0),
        "status": "SUCCESS",
    });
    if util::is_failure(p) {
        body["status"] = json!("ERROR");
        body["error_message"] = json!(util::error_message(p));
        if let Some(t) = p["error_information"]["error_kind"]
            .as_str()
            .and_then(error_type)
        {
            body["error_type"] = json!(t);
        }
    }
    body
}

/// One request per call.
pub fn requests(cfg: &Config, payloads: &[Value]) -> Vec<HttpRequest> {
    payloads
        .iter()
        .map(|p| {
            HttpRequest::post_json(format!("{}/log-request", cfg.api_base), &body(p))
                .with_header("x-api-key", cfg.api_key.expose())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use std::collections::HashMap;

    fn cfg() -> Config {
        let env: HashMap<String, String> =
            [("PROMPTLAYER_API_KEY".to_string(), "pl-test".to_string())].into();
        Config::resolve(&Map::new(), &env).unwrap()
    }

    #[test]
    fn success_is_a_blueprint_chat_log() {
        let mut p = testdata::success();
        p["metadata"]["pl_tags"] = json!(["exp-1"]);
        let r = &requests(&cfg(), &[p])[0];
        assert_eq!(r.url, "https://api.promptlayer.com/log-request");
        assert_eq!(
            crate::http::header(&r.headers, "x-api-key"),
            Some("pl-test")
        );
        let b = r.json_body().unwrap();
        assert_eq!(b["provider"], "openai");
        assert_eq!(b["model"], "gpt-4o");
        assert_eq!(b["input"]["type"], "chat");
        assert_eq!(
            b["input"]["messages"][1],
            json!({"role": "user", "content": [{"type": "text", "text": "Hi"}]})
        );
        assert_eq!(
            b["output"]["messages"][0]["content"],
            json!([{"type": "text", "text": "Hello!"}])
        );
        assert_eq!(b["request_start_time"], "2023-11-14T22:13:20.000Z");
        assert_eq!(b["input_tokens"], 10);
        assert_eq!(b["output_tokens"], 5);
        assert_eq!(b["price"], 0.000075);
        assert_eq!(b["tags"], json!(["exp-1", "prod"]));
        assert_eq!(b["metadata"]["team"], "core");
        assert!(b["metadata"].get("pl_tags").is_none());
        assert_eq!(b["status"], "SUCCESS");
        assert_eq!(b["parameters"]["temperature"], 0.2);
    }

    #[test]
    fn failure_has_status_and_error_type() {
        let b = body(&testdata::failure());
        assert_eq!(b["status"], "ERROR");
        assert_eq!(b["error_type"], "PROVIDER_RATE_LIMIT");
        assert_eq!(b["error_message"], "Rate limit reached");
        assert_eq!(b["output"]["messages"], json!([]));
    }

    #[test]
    fn tool_calls_survive() {
        let mut p = testdata::success();
        p["response"]["choices"][0]["message"] = json!({"role": "assistant", "content": null,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]});
        let b = body(&p);
        assert_eq!(
            b["output"]["messages"][0]["tool_calls"][0]["function"]["name"],
            "f"
        );
        assert_eq!(b["output"]["messages"][0]["content"], json!([]));
    }
}
