//! Langfuse: the public batch ingestion API, `POST {host}/api/public/ingestion` with HTTP Basic
//! auth (public key : secret key) and `{"batch": [event, …], "metadata": {…}}`. Each call is a
//! `trace-create` event (the trace, named `litellm-{call_type}` as LiteLLM names it) and a
//! `generation-create` event (model, parameters, input messages, output message, usage, cost,
//! timing, level `ERROR` with `statusMessage` on failures). Event envelope ids are derived from
//! the call id, so a retried batch is deduplicated by Langfuse. Batches stay under the
//! documented 3.5 MB limit.
//!
//! Settings (explicit, else LiteLLM's variables): `langfuse_public_key` / `LANGFUSE_PUBLIC_KEY`,
//! `langfuse_secret_key` / `LANGFUSE_SECRET_KEY`, `langfuse_host` / `LANGFUSE_HOST`
//! (default `https://cloud.langfuse.com`), `LANGFUSE_RELEASE`, `LANGFUSE_TRACING_ENVIRONMENT`.
//! Caller metadata steers it as in LiteLLM: `trace_id`, `existing_trace_id`, `session_id`,
//! `trace_name`, `trace_user_id`, `generation_name`, `generation_id`, `parent_observation_id`,
//! `version`, `trace_version`, `tags`.

use serde_json::{json, Map, Value};

use super::util::{self, iso8601, str_of};
use crate::http::HttpRequest;
use crate::{Env, Secret};

/// Langfuse's documented batch size limit is 3.5 MB; stay below it.
const MAX_BATCH_BYTES: usize = 3_000_000;

/// Metadata keys that steer Langfuse and are not logged as metadata.
const STEERING: &[&str] = &[
    "trace_id",
    "existing_trace_id",
    "session_id",
    "trace_name",
    "trace_user_id",
    "trace_version",
    "trace_metadata",
    "generation_name",
    "generation_id",
    "parent_observation_id",
    "version",
    "tags",
    "mask_input",
    "mask_output",
];

/// Resolved Langfuse settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL, without a trailing slash.
    pub host: String,
    /// Public key (Basic auth user).
    pub public_key: String,
    /// Secret key (Basic auth password).
    pub secret_key: Secret,
    /// `release` on traces.
    pub release: Option<String>,
    /// `environment` on traces and generations.
    pub environment: Option<String>,
}

impl Config {
    /// Explicit settings first, then the environment. `Err` says what is missing.
    pub fn resolve(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let get = |keys: &[&str], vars: &[&str]| util::setting(explicit, keys, env, vars);
        let public_key = get(
            &["langfuse_public_key", "public_key"],
            &["LANGFUSE_PUBLIC_KEY"],
        );
        let secret_key = get(
            &["langfuse_secret_key", "secret_key"],
            &["LANGFUSE_SECRET_KEY"],
        );
        let (Some(public_key), Some(secret_key)) = (public_key, secret_key) else {
            return Err("set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY".into());
        };
        let host = get(
            &["langfuse_host", "host"],
            &["LANGFUSE_HOST", "LANGFUSE_BASE_URL"],
        )
        .unwrap_or_else(|| "https://cloud.langfuse.com".into());
        // LiteLLM accepts a bare host name and assumes http.
        let host = if host.starts_with("http://") || host.starts_with("https://") {
            host
        } else {
            format!("http://{host}")
        };
        Ok(Self {
            host: util::trim_base(&host),
            public_key,
            secret_key: Secret::new(secret_key),
            release: get(&["langfuse_release", "release"], &["LANGFUSE_RELEASE"]),
            environment: get(
                &["langfuse_environment", "environment"],
                &["LANGFUSE_TRACING_ENVIRONMENT"],
            ),
        })
    }
}

/// Model parameters as Langfuse's `MapValue`s (scalars; anything else as JSON text).
fn model_parameters(p: &Value) -> Value {
    let mut out = Map::new();
    if let Some(m) = p["model_parameters"].as_object() {
        for (k, v) in m {
            let v = match v {
                Value::Null => continue,
                Value::String(_) | Value::Number(_) | Value::Bool(_) => v.clone(),
                other => Value::String(other.to_string()),
            };
            out.insert(k.clone(), v);
        }
    }
    Value::Object(out)
}

fn usage_details(p: &Value) -> Value {
    let usage = &p["usage"];
    let cached = usage["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .or_else(|| usage["cache_read_input_tokens"].as_u64())
        .unwrap_or(0);
    let prompt = p["prompt_tokens"].as_u64().unwrap_or(0);
    // Langfuse counts cached input separately: `input` excludes it.
    let mut d = json!({
        "input": prompt.saturating_sub(cached),
        "output": p["completion_tokens"].as_u64().unwrap_or(0),
        "total": p["total_tokens"].as_u64().unwrap_or(0),
    });
    if cached > 0 {
        d["cache_read_input_tokens"] = json!(cached);
    }
    d
}

/// The `trace-create` and `generation-create` events for one payload.
pub fn events(cfg: &Config, p: &Value) -> Vec<Value> {
    let md = util::metadata(p);
    let call_id = str_of(p, "id").unwrap_or("call").to_string();
    let call_type = str_of(p, "call_type").unwrap_or("completion");
    let existing = str_of(&p["metadata"], "existing_trace_id").map(String::from);
    let trace_id = existing
        .clone()
        .or_else(|| str_of(&p["metadata"], "trace_id").map(String::from))
        .or_else(|| str_of(p, "trace_id").map(String::from))
        .unwrap_or_else(|| call_id.clone());
    let start_ms = util::ms(p, "startTime");
    let end_ms = util::ms(p, "endTime");
    let failed = util::is_failure(p);
    let input = p["messages"].clone();
    let output = if failed {
        Value::Null
    } else {
        util::output_message(p).cloned().unwrap_or(Value::Null)
    };
    let mut clean: Map<String, Value> = md
        .iter()
        .filter(|(k, _)| !STEERING.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let envelope = |kind: &str, body: Value| {
        json!({
            "id": util::uuid_for(&format!("{call_id}:{kind}")),
            "timestamp": iso8601(end_ms),
            "type": kind,
            "body": body,
        })
    };
    let mut out = Vec::with_capacity(2);
    if existing.is_none() {
        let mut trace = json!({
            "id": trace_id,
            "timestamp": iso8601(start_ms),
            "name": str_of(&p["metadata"], "trace_name").map_or_else(|| format!("litellm-{call_type}"), String::from),
            "input": input,
            "output": if failed { Value::String(util::error_message(p)) } else { output.clone() },
            "tags": util::tags(p),
            "metadata": md.get("trace_metadata").cloned().unwrap_or_else(|| json!({})),
        });
        if let Some(u) = util::end_user(p) {
            trace["userId"] = json!(u);
        }
        if let Some(s) = str_of(&p["metadata"], "session_id") {
            trace["sessionId"] = json!(s);
        }
        if let Some(v) =
            str_of(&p["metadata"], "trace_version").or(str_of(&p["metadata"], "version"))
        {
            trace["version"] = json!(v);
        }
        if let Some(r) = &cfg.release {
            trace["release"] = json!(r);
        }
        if let Some(e) = &cfg.environment {
            trace["environment"] = json!(e);
        }
        out.push(envelope("trace-create", trace));
    }
    clean.insert("litellm_call_id".into(), json!(call_id));
    clean.insert("litellm_response_cost".into(), p["response_cost"].clone());
    clean.insert(
        "custom_llm_provider".into(),
        p["custom_llm_provider"].clone(),
    );
    clean.insert("api_base".into(), p["api_base"].clone());
    clean.insert("cache_hit".into(), p["cache_hit"].clone());
    clean.insert("hidden_params".into(), p["hidden_params"].clone());
    if let Some(g) = p["model_group"].as_str() {
        clean.insert("model_group".into(), json!(g));
    }
    let mut generation = json!({
        "id": str_of(&p["metadata"], "generation_id").unwrap_or(&call_id),
        "traceId": trace_id,
        "name": str_of(&p["metadata"], "generation_name").map_or_else(|| format!("litellm-{call_type}"), String::from),
        "startTime": iso8601(start_ms),
        "endTime": iso8601(end_ms),
        "completionStartTime": iso8601(util::ms(p, "completionStartTime").max(start_ms)),
        "model": p["model"],
        "modelParameters": model_parameters(p),
        "input": input,
        "output": output,
        "metadata": clean,
        "level": if failed { "ERROR" } else { "DEFAULT" },
    });
    if failed {
        generation["statusMessage"] = json!(util::error_message(p));
    } else {
        generation["usageDetails"] = usage_details(p);
        if let Some(cost) = p["response_cost"].as_f64() {
            generation["costDetails"] = json!({"total": cost});
        }
    }
    if let Some(parent) = str_of(&p["metadata"], "parent_observation_id") {
        generation["parentObservationId"] = json!(parent);
    }
    if let Some(v) = str_of(&p["metadata"], "version") {
        generation["version"] = json!(v);
    }
    if let Some(e) = &cfg.environment {
        generation["environment"] = json!(e);
    }
    out.push(envelope("generation-create", generation));
    out
}

/// The ingestion requests for `payloads`: as few batches as the size limit allows.
pub fn requests(cfg: &Config, payloads: &[Value]) -> Vec<HttpRequest> {
    let mut batches: Vec<Vec<Value>> = vec![Vec::new()];
    let mut size = 0usize;
    for p in payloads {
        for e in events(cfg, p) {
            let n = e.to_string().len();
            if size + n > MAX_BATCH_BYTES && !batches.last().is_some_and(Vec::is_empty) {
                batches.push(Vec::new());
                size = 0;
            }
            size += n;
            batches.last_mut().expect("non-empty").push(e);
        }
    }
    batches
        .into_iter()
        .filter(|b| !b.is_empty())
        .map(|batch| {
            let body = json!({
                "batch": batch,
                "metadata": {
                    "batch_size": batch.len(),
                    "sdk_integration": "edgellm",
                    "sdk_name": "edgellm",
                    "sdk_version": env!("CARGO_PKG_VERSION"),
                    "public_key": cfg.public_key,
                },
            });
            HttpRequest::post_json(format!("{}/api/public/ingestion", cfg.host), &body).with_header(
                "authorization",
                util::basic_auth(&cfg.public_key, cfg.secret_key.expose()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use std::collections::HashMap;

    fn cfg() -> Config {
        let env: HashMap<String, String> = [
            ("LANGFUSE_PUBLIC_KEY", "pk-lf-test"),
            ("LANGFUSE_SECRET_KEY", "sk-lf-test"),
            ("LANGFUSE_HOST", "http://127.0.0.1:3000/"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Config::resolve(&Map::new(), &env).unwrap()
    }

    #[test]
    fn settings_come_from_explicit_values_then_env() {
        let env: HashMap<String, String> = HashMap::new();
        assert!(Config::resolve(&Map::new(), &env)
            .unwrap_err()
            .contains("LANGFUSE_PUBLIC_KEY"));
        let explicit = json!({"langfuse_public_key": "pk", "langfuse_secret_key": "sk", "langfuse_host": "lf.internal:3000"});
        let c = Config::resolve(explicit.as_object().unwrap(), &env).unwrap();
        assert_eq!(c.host, "http://lf.internal:3000");
        assert_eq!(cfg().host, "http://127.0.0.1:3000");
    }

    #[test]
    fn success_is_a_trace_and_a_generation_with_usage_and_cost() {
        let reqs = requests(&cfg(), &[testdata::success()]);
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.url, "http://127.0.0.1:3000/api/public/ingestion");
        // base64("pk-lf-test:sk-lf-test")
        assert_eq!(
            crate::http::header(&r.headers, "authorization"),
            Some("Basic cGstbGYtdGVzdDpzay1sZi10ZXN0")
        );
        let body = r.json_body().unwrap();
        let batch = body["batch"].as_array().unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(body["metadata"]["batch_size"], 2);
        let (trace, generation) = (&batch[0], &batch[1]);
        assert_eq!(trace["type"], "trace-create");
        assert_eq!(trace["timestamp"], "2023-11-14T22:13:21.250Z");
        assert_eq!(trace["body"]["id"], "call-1");
        assert_eq!(trace["body"]["name"], "litellm-completion");
        assert_eq!(trace["body"]["userId"], "user-7");
        assert_eq!(trace["body"]["sessionId"], "sess-1");
        assert_eq!(trace["body"]["tags"], json!(["prod"]));
        assert_eq!(trace["body"]["input"][1]["content"], "Hi");
        assert_eq!(trace["body"]["output"]["content"], "Hello!");
        let g = &generation["body"];
        assert_eq!(generation["type"], "generation-create");
        assert_eq!(g["traceId"], "call-1");
        assert_eq!(g["model"], "gpt-4o");
        assert_eq!(g["startTime"], "2023-11-14T22:13:20.000Z");
        assert_eq!(g["endTime"], "2023-11-14T22:13:21.250Z");
        assert_eq!(g["modelParameters"]["temperature"], 0.2);
        assert_eq!(
            g["usageDetails"],
            json!({"input": 10, "output": 5, "total": 15})
        );
        assert_eq!(g["costDetails"]["total"], 0.000075);
        assert_eq!(g["level"], "DEFAULT");
        assert_eq!(g["metadata"]["team"], "core");
        assert!(g["metadata"].get("session_id").is_none());
        assert_ne!(trace["id"], generation["id"]);
        // Ids are derived, so a resent batch is recognised as the same events.
        assert_eq!(requests(&cfg(), &[testdata::success()])[0].body, r.body);
    }

    #[test]
    fn failure_is_an_error_level_generation_with_the_message() {
        let body = requests(&cfg(), &[testdata::failure()])[0]
            .json_body()
            .unwrap();
        let g = &body["batch"][1]["body"];
        assert_eq!(g["level"], "ERROR");
        assert_eq!(g["statusMessage"], "Rate limit reached");
        assert!(g["output"].is_null());
        assert!(g.get("usageDetails").is_none());
        assert_eq!(body["batch"][0]["body"]["output"], "Rate limit reached");
    }

    #[test]
    fn existing_trace_gets_only_a_generation() {
        let mut p = testdata::success();
        p["metadata"]["existing_trace_id"] = json!("tr-outer");
        let body = requests(&cfg(), &[p])[0].json_body().unwrap();
        assert_eq!(body["batch"].as_array().unwrap().len(), 1);
        assert_eq!(body["batch"][0]["body"]["traceId"], "tr-outer");
    }

    #[test]
    fn large_batches_are_split() {
        let mut p = testdata::success();
        p["messages"][0]["content"] = json!("x".repeat(1_000_000));
        let payloads: Vec<Value> = (0..4)
            .map(|i| {
                let mut q = p.clone();
                q["id"] = json!(format!("c{i}"));
                q
            })
            .collect();
        let reqs = requests(&cfg(), &payloads);
        assert!(reqs.len() >= 3, "{} batches", reqs.len());
        for r in &reqs {
            assert!(r.body.as_ref().unwrap().len() < 3_500_000);
        }
        let events: usize = reqs
            .iter()
            .map(|r| r.json_body().unwrap()["batch"].as_array().unwrap().len())
            .sum();
        assert_eq!(events, 8);
    }
}
