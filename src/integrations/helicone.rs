//! Helicone: the async (manual) logging API, `POST {base}/custom/v1/log` with
//! `Authorization: Bearer <HELICONE_API_KEY>` and `{providerRequest: {url, json, meta},
//! providerResponse: {json, status, headers}, timing: {startTime, endTime, timeToFirstToken}}`.
//! The request json is the OpenAI body (model, messages, parameters) and the response json the
//! OpenAI response, whatever the provider, so Helicone reads every call the same way; failures
//! are logged with the provider's status and an OpenAI-style error body. `meta` carries
//! Helicone's own headers (`Helicone-User-Id`, `Helicone-Session-Id`, `Helicone-Property-*`)
//! from the call's user and metadata. One request per call (the API takes one log at a time).
//!
//! Settings: `helicone_api_key` / `HELICONE_API_KEY`, `helicone_api_base` /
//! `HELICONE_API_BASE` (default `https://api.worker.helicone.ai`).

use serde_json::{json, Map, Value};

use super::util;
use crate::http::HttpRequest;
use crate::{Env, Secret};

/// Resolved Helicone settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Logging API base.
    pub api_base: String,
    /// API key.
    pub api_key: Secret,
}

impl Config {
    /// Explicit settings first, then the environment.
    pub fn resolve(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let key = util::setting(
            explicit,
            &["helicone_api_key", "api_key"],
            env,
            &["HELICONE_API_KEY"],
        )
        .ok_or("set HELICONE_API_KEY")?;
        let base = util::setting(
            explicit,
            &["helicone_api_base", "api_base"],
            env,
            &["HELICONE_API_BASE"],
        )
        .unwrap_or_else(|| "https://api.worker.helicone.ai".into());
        Ok(Self {
            api_base: util::trim_base(&base),
            api_key: Secret::new(key),
        })
    }
}

fn time(ms: u64) -> Value {
    json!({"seconds": ms / 1000, "milliseconds": ms % 1000})
}

/// Helicone's `meta` (header-like strings).
fn meta(p: &Value) -> Value {
    let mut m = Map::new();
    if let Some(u) = util::end_user(p) {
        m.insert("Helicone-User-Id".into(), json!(u));
    }
    for (k, v) in util::metadata(p) {
        match k.as_str() {
            "session_id" => {
                m.insert("Helicone-Session-Id".into(), json!(util::text(&v)));
            }
            // Helicone's own headers pass through as LiteLLM forwards `helicone_*` keys.
            k if k.to_ascii_lowercase().starts_with("helicone-") => {
                m.insert(k.to_string(), json!(util::text(&v)));
            }
            _ if v.is_string() || v.is_number() || v.is_boolean() => {
                m.insert(format!("Helicone-Property-{k}"), json!(util::text(&v)));
            }
            _ => {}
        }
    }
    m.insert(
        "Helicone-Property-Provider".into(),
        json!(util::text(&p["custom_llm_provider"])),
    );
    Value::Object(m)
}

/// The log body for one call.
pub fn body(p: &Value) -> Value {
    let mut request = json!({"model": p["model"], "messages": p["messages"]});
    if let Some(params) = p["model_parameters"].as_object() {
        for (k, v) in params {
            request[k] = v.clone();
        }
    }
    let (status, response) = if util::is_failure(p) {
        let info = &p["error_information"];
        let status = info["status_code"].as_u64().unwrap_or(500);
        let err = json!({"error": {
            "message": util::error_message(p),
            "type": info["error_class"],
            "code": info["error_code"],
        }});
        (status, err)
    } else {
        (200, p["response"].clone())
    };
    let start = util::ms(p, "startTime");
    let mut timing = json!({"startTime": time(start), "endTime": time(util::ms(p, "endTime"))});
    if p["stream"] == true {
        timing["timeToFirstToken"] =
            json!(util::ms(p, "completionStartTime").saturating_sub(start));
    }
    json!({
        "providerRequest": {"url": "custom-model-nopath", "json": request, "meta": meta(p)},
        "providerResponse": {"json": response, "status": status, "headers": {"content-type": "application/json"}},
        "timing": timing,
    })
}

/// One request per call.
pub fn requests(cfg: &Config, payloads: &[Value]) -> Vec<HttpRequest> {
    payloads
        .iter()
        .map(|p| {
            HttpRequest::post_json(format!("{}/custom/v1/log", cfg.api_base), &body(p))
                .with_header("authorization", format!("Bearer {}", cfg.api_key.expose()))
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
            (
                "HELICONE_API_KEY".to_string(),
                "sk-helicone-test".to_string(),
            ),
            (
                "HELICONE_API_BASE".to_string(),
                "http://127.0.0.1:9/".to_string(),
            ),
        ]
        .into();
        Config::resolve(&Map::new(), &env).unwrap()
    }

    #[test]
    fn success_follows_the_manual_logger_shape() {
        let reqs = requests(&cfg(), &[testdata::success()]);
        let r = &reqs[0];
        assert_eq!(r.url, "http://127.0.0.1:9/custom/v1/log");
        assert_eq!(
            crate::http::header(&r.headers, "authorization"),
            Some("Bearer sk-helicone-test")
        );
        let b = r.json_body().unwrap();
        assert_eq!(b["providerRequest"]["url"], "custom-model-nopath");
        assert_eq!(b["providerRequest"]["json"]["model"], "gpt-4o");
        assert_eq!(b["providerRequest"]["json"]["temperature"], 0.2);
        assert_eq!(b["providerRequest"]["json"]["messages"][1]["content"], "Hi");
        assert_eq!(b["providerRequest"]["meta"]["Helicone-User-Id"], "user-7");
        assert_eq!(
            b["providerRequest"]["meta"]["Helicone-Session-Id"],
            "sess-1"
        );
        assert_eq!(
            b["providerRequest"]["meta"]["Helicone-Property-team"],
            "core"
        );
        assert_eq!(b["providerResponse"]["status"], 200);
        assert_eq!(
            b["providerResponse"]["json"]["choices"][0]["message"]["content"],
            "Hello!"
        );
        assert_eq!(b["providerResponse"]["json"]["usage"]["total_tokens"], 15);
        assert_eq!(
            b["timing"],
            json!({"startTime": {"seconds": 1_700_000_000u64, "milliseconds": 0}, "endTime": {"seconds": 1_700_000_001u64, "milliseconds": 250}})
        );
        for v in b["providerRequest"]["meta"].as_object().unwrap().values() {
            assert!(v.is_string(), "meta values are strings: {v}");
        }
    }

    #[test]
    fn failure_and_stream() {
        let b = body(&testdata::failure());
        assert_eq!(b["providerResponse"]["status"], 429);
        assert_eq!(
            b["providerResponse"]["json"]["error"]["message"],
            "Rate limit reached"
        );
        assert_eq!(
            b["providerResponse"]["json"]["error"]["type"],
            "RateLimitError"
        );
        let b = body(&testdata::stream_success());
        assert_eq!(b["timing"]["timeToFirstToken"], 400);
        assert_eq!(b["providerRequest"]["json"]["stream"], true);
    }
}
