//! Lunary: `POST {api_url}/v1/runs/ingest` with `Authorization: Bearer <public key>` and
//! `{"events": [...]}` (Lunary's ingestion endpoint, which its SDKs call). A call is an `llm`
//! run: a `start` event (model as `name`, input messages, params, metadata, tags, user) and an
//! `end` event (output, `tokensUsage`) or an `error` event (`error.message`). Any number of
//! calls go in one request.
//!
//! Settings: `lunary_public_key` / `LUNARY_PUBLIC_KEY` (LiteLLM's name; `LUNARY_APP_ID` is its
//! legacy alias), `lunary_api_url` / `LUNARY_API_URL` (default `https://api.lunary.ai`).
//! Run ids must be UUIDs in Lunary: call ids that are not are mapped to stable UUIDs.

use serde_json::{json, Map, Value};

use super::util::{self, iso8601, str_of};
use crate::http::HttpRequest;
use crate::{Env, Secret};

/// Resolved Lunary settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// API base URL.
    pub api_url: String,
    /// The project's public key.
    pub public_key: Secret,
}

impl Config {
    /// Explicit settings first, then the environment.
    pub fn resolve(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let key = util::setting(
            explicit,
            &["lunary_public_key", "public_key"],
            env,
            &["LUNARY_PUBLIC_KEY", "LUNARY_APP_ID"],
        )
        .ok_or("set LUNARY_PUBLIC_KEY")?;
        let api_url = util::setting(
            explicit,
            &["lunary_api_url", "api_url"],
            env,
            &["LUNARY_API_URL"],
        )
        .unwrap_or_else(|| "https://api.lunary.ai".into());
        Ok(Self {
            api_url: util::trim_base(&api_url),
            public_key: Secret::new(key),
        })
    }
}

/// Scalar request parameters (Lunary's `params`); `tools` kept as given, as LiteLLM does.
fn params(p: &Value) -> Value {
    let mut out = Map::new();
    if let Some(m) = p["model_parameters"].as_object() {
        for (k, v) in m {
            if matches!(k.as_str(), "user" | "extra_body" | "extra_headers") || v.is_null() {
                continue;
            }
            let v = match v {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => v.clone(),
                other if k == "tools" => other.clone(),
                other => Value::String(other.to_string()),
            };
            out.insert(k.clone(), v);
        }
    }
    Value::Object(out)
}

/// LiteLLM's `parse_messages`: one message alone, several as a list, each reduced to role,
/// content and tool calls.
fn messages(v: &Value) -> Value {
    let clean = |m: &Value| {
        let mut o = json!({"role": m["role"], "content": m["content"]});
        if m["tool_calls"].as_array().is_some_and(|a| !a.is_empty()) {
            o["tool_calls"] = m["tool_calls"].clone();
        }
        o
    };
    match v.as_array() {
        Some(a) if a.len() == 1 => clean(&a[0]),
        Some(a) => Value::Array(a.iter().map(clean).collect()),
        None => v.clone(),
    }
}

/// The start and end (or error) events of one call.
pub fn events(p: &Value) -> Vec<Value> {
    let run_id = util::uuid_for(str_of(p, "id").unwrap_or("call"));
    let md = util::metadata(p);
    let mut metadata = md.clone();
    metadata.insert("litellm_call_id".into(), p["id"].clone());
    metadata.insert(
        "custom_llm_provider".into(),
        p["custom_llm_provider"].clone(),
    );
    metadata.insert("response_cost".into(), p["response_cost"].clone());
    metadata.insert("response_time".into(), p["response_time"].clone());
    let mut start = json!({
        "type": "llm",
        "event": "start",
        "runId": run_id,
        "name": p["model"],
        "input": messages(&p["messages"]),
        "timestamp": iso8601(util::ms(p, "startTime")),
        "runtime": "edgellm",
        "metadata": metadata,
        "params": params(p),
    });
    if let Some(parent) = str_of(&p["metadata"], "parent_run_id") {
        start["parentRunId"] = json!(util::uuid_for(parent));
    }
    if let Some(u) = util::end_user(p) {
        start["userId"] = json!(u);
    }
    let tags = util::tags(p);
    if !tags.is_empty() {
        start["tags"] = json!(tags);
    }
    let end_ts = iso8601(util::ms(p, "endTime"));
    let end = if util::is_failure(p) {
        json!({
            "type": "llm",
            "event": "error",
            "runId": run_id,
            "timestamp": end_ts,
            "runtime": "edgellm",
            "error": {"message": util::error_message(p), "stack": p["error_str"]},
        })
    } else {
        let output = p["response"]["choices"]
            .as_array()
            .map(|cs| Value::Array(cs.iter().map(|c| c["message"].clone()).collect()))
            .unwrap_or(Value::Null);
        json!({
            "type": "llm",
            "event": "end",
            "runId": run_id,
            "timestamp": end_ts,
            "runtime": "edgellm",
            "output": messages(&output),
            "tokensUsage": {
                "prompt": p["prompt_tokens"].as_u64().unwrap_or(0),
                "completion": p["completion_tokens"].as_u64().unwrap_or(0),
            },
        })
    };
    vec![start, end]
}

/// One ingestion request for all `payloads`.
pub fn requests(cfg: &Config, payloads: &[Value]) -> Vec<HttpRequest> {
    if payloads.is_empty() {
        return Vec::new();
    }
    let events: Vec<Value> = payloads.iter().flat_map(events).collect();
    vec![HttpRequest::post_json(
        format!("{}/v1/runs/ingest", cfg.api_url),
        &json!({"events": events}),
    )
    .with_header(
        "authorization",
        format!("Bearer {}", cfg.public_key.expose()),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use std::collections::HashMap;

    fn cfg() -> Config {
        let env: HashMap<String, String> = [(
            "LUNARY_PUBLIC_KEY".to_string(),
            "lunary-pk-test".to_string(),
        )]
        .into();
        Config::resolve(&Map::new(), &env).unwrap()
    }

    #[test]
    fn success_is_a_start_and_an_end_event() {
        let reqs = requests(&cfg(), &[testdata::success(), testdata::failure()]);
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.url, "https://api.lunary.ai/v1/runs/ingest");
        assert_eq!(
            crate::http::header(&r.headers, "authorization"),
            Some("Bearer lunary-pk-test")
        );
        let body = r.json_body().unwrap();
        let ev = body["events"].as_array().unwrap();
        assert_eq!(ev.len(), 4);
        let (start, end) = (&ev[0], &ev[1]);
        assert_eq!(start["type"], "llm");
        assert_eq!(start["event"], "start");
        assert_eq!(start["name"], "gpt-4o");
        assert_eq!(start["userId"], "user-7");
        assert_eq!(start["tags"], json!(["prod"]));
        assert_eq!(start["input"][1], json!({"role": "user", "content": "Hi"}));
        assert_eq!(start["params"]["temperature"], 0.2);
        assert!(start["params"].get("user").is_none());
        assert_eq!(start["timestamp"], "2023-11-14T22:13:20.000Z");
        assert_eq!(start["metadata"]["response_cost"], 0.000075);
        assert_eq!(end["event"], "end");
        assert_eq!(end["runId"], start["runId"]);
        assert_eq!(
            end["output"],
            json!({"role": "assistant", "content": "Hello!"})
        );
        assert_eq!(end["tokensUsage"], json!({"prompt": 10, "completion": 5}));
        assert_eq!(end["timestamp"], "2023-11-14T22:13:21.250Z");
        // A UUID, as Lunary's run table requires.
        assert_eq!(start["runId"].as_str().unwrap().len(), 36);
        let err = &ev[3];
        assert_eq!(err["event"], "error");
        assert_eq!(err["error"]["message"], "Rate limit reached");
    }

    #[test]
    fn missing_key_is_reported() {
        let env: HashMap<String, String> = HashMap::new();
        assert!(Config::resolve(&Map::new(), &env).is_err());
        assert!(requests(&cfg(), &[]).is_empty());
    }
}
