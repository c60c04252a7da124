//! A generic webhook (LiteLLM's generic API logger): the standard logging payloads, POSTed as a
//! JSON array (default), as NDJSON, or one request per payload (`log_format`: `json_array`,
//! `ndjson`, `single`). Budget alerts go as one JSON object each (LiteLLM's `WebhookEvent`).
//!
//! Settings: `endpoint` / `GENERIC_LOGGER_ENDPOINT` (or `WEBHOOK_URL`), `headers` /
//! `GENERIC_LOGGER_HEADERS` (`k=v,k2=v2`), `log_format`.

use serde_json::{Map, Value};

use super::util;
use crate::http::HttpRequest;
use crate::Env;

/// How payloads are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One request, a JSON array of payloads.
    JsonArray,
    /// One request, one JSON payload per line.
    Ndjson,
    /// One request per payload.
    Single,
}

/// Resolved webhook settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to POST.
    pub url: String,
    /// Extra headers (auth).
    pub headers: Vec<(String, String)>,
    /// Body format.
    pub format: Format,
}

impl Config {
    /// Explicit settings first, then LiteLLM's variables.
    pub fn resolve(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let url = util::setting(
            explicit,
            &["endpoint", "url", "webhook_url"],
            env,
            &["GENERIC_LOGGER_ENDPOINT", "WEBHOOK_URL"],
        )
        .ok_or("set GENERIC_LOGGER_ENDPOINT")?;
        let format = match explicit.get("log_format").and_then(Value::as_str) {
            None | Some("json_array") => Format::JsonArray,
            Some("ndjson") => Format::Ndjson,
            Some("single") => Format::Single,
            Some(other) => {
                return Err(format!(
                    "log_format `{other}` is not one of json_array, ndjson, single"
                ))
            }
        };
        Ok(Self {
            url,
            headers: util::header_list(explicit.get("headers"), env.var("GENERIC_LOGGER_HEADERS")),
            format,
        })
    }

    fn post(&self, body: Vec<u8>, content_type: &str) -> HttpRequest {
        let mut r = HttpRequest::post_json(self.url.clone(), &Value::Null);
        r.body = Some(body);
        r.set_header("content-type", content_type);
        for (k, v) in &self.headers {
            r.set_header(k, v.clone());
        }
        r
    }
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("a Value always serializes")
}

/// The requests for call payloads.
pub fn requests(cfg: &Config, payloads: &[Value]) -> Vec<HttpRequest> {
    if payloads.is_empty() {
        return Vec::new();
    }
    match cfg.format {
        Format::JsonArray => vec![cfg.post(
            json_bytes(&Value::Array(payloads.to_vec())),
            "application/json",
        )],
        Format::Ndjson => {
            let mut body = Vec::new();
            for p in payloads {
                body.extend(json_bytes(p));
                body.push(b'\n');
            }
            vec![cfg.post(body, "application/x-ndjson")]
        }
        Format::Single => alert_requests(cfg, payloads),
    }
}

/// One request per alert object (and per payload in the `single` format).
pub fn alert_requests(cfg: &Config, alerts: &[Value]) -> Vec<HttpRequest> {
    alerts
        .iter()
        .map(|a| cfg.post(json_bytes(a), "application/json"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use serde_json::json;
    use std::collections::HashMap;

    fn cfg(format: &str) -> Config {
        let env: HashMap<String, String> = [
            (
                "GENERIC_LOGGER_ENDPOINT".to_string(),
                "http://127.0.0.1:8080/logs".to_string(),
            ),
            (
                "GENERIC_LOGGER_HEADERS".to_string(),
                "Authorization=Bearer wh-1".to_string(),
            ),
        ]
        .into();
        let explicit = json!({"log_format": format});
        Config::resolve(explicit.as_object().unwrap(), &env).unwrap()
    }

    #[test]
    fn json_array_batches_payloads() {
        let reqs = requests(
            &cfg("json_array"),
            &[testdata::success(), testdata::failure()],
        );
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].url, "http://127.0.0.1:8080/logs");
        assert_eq!(
            crate::http::header(&reqs[0].headers, "authorization"),
            Some("Bearer wh-1")
        );
        let b = reqs[0].json_body().unwrap();
        assert_eq!(b[0]["status"], "success");
        assert_eq!(b[0]["total_tokens"], 15);
        assert_eq!(b[1]["error_information"]["error_class"], "RateLimitError");
    }

    #[test]
    fn ndjson_and_single() {
        let r = &requests(&cfg("ndjson"), &[testdata::success(), testdata::failure()])[0];
        let text = String::from_utf8(r.body.clone().unwrap()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            crate::http::header(&r.headers, "content-type"),
            Some("application/x-ndjson")
        );
        assert_eq!(
            requests(&cfg("single"), &[testdata::success(), testdata::failure()]).len(),
            2
        );
        let env: HashMap<String, String> =
            [("WEBHOOK_URL".to_string(), "http://h".to_string())].into();
        let bad = json!({"log_format": "xml"});
        assert!(Config::resolve(bad.as_object().unwrap(), &env).is_err());
    }
}
