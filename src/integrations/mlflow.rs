//! MLflow: each call becomes an MLflow trace, logged through the tracking server's REST API the
//! way MLflow's own TypeScript SDK exports traces:
//!
//! 1. `POST {tracking_uri}/api/3.0/mlflow/traces` (StartTraceV3) with `{"trace": {"trace_info":
//!    {...}}}`: trace id `tr-<hex>`, experiment location, request time, duration, state
//!    `OK`/`ERROR`, request/response previews, `trace_metadata` (schema version 3, token usage,
//!    user, session) and tags (`mlflow.traceName`);
//! 2. `PUT {tracking_uri}/api/2.0/mlflow-artifacts/artifacts/<location>/traces.json` with the
//!    span data, where `<location>` comes from the `mlflow.artifactLocation` tag the server
//!    returns (`mlflow-artifacts:/0/traces/tr-…/artifacts`).
//!
//! The span is the one LiteLLM's MLflow logger creates: `litellm-{call_type}`, type `LLM`,
//! inputs (messages and parameters), outputs (the response), `mlflow.chat.tokenUsage`, cost,
//! and an `exception` event on failures. Attribute values are JSON-encoded strings, as MLflow
//! stores them.
//!
//! Settings: `mlflow_tracking_uri` / `MLFLOW_TRACKING_URI` (required: an `http(s)` server),
//! `mlflow_experiment_id` / `MLFLOW_EXPERIMENT_ID` (default `0`), `MLFLOW_TRACKING_TOKEN`
//! (bearer) or `MLFLOW_TRACKING_USERNAME` + `MLFLOW_TRACKING_PASSWORD` (basic).

use serde_json::{json, Map, Value};

use super::util::{self, iso8601, str_of};
use crate::http::{HttpRequest, Method};
use crate::Env;

/// MLflow truncates previews to this many characters.
const PREVIEW_CHARS: usize = 1000;

/// Resolved MLflow settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Tracking server URL, without a trailing slash.
    pub tracking_uri: String,
    /// Experiment the traces go to.
    pub experiment_id: String,
    /// `authorization` header value, if the server needs one.
    pub auth: Option<String>,
}

impl Config {
    /// Explicit settings first, then MLflow's variables.
    pub fn resolve(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let get = |keys: &[&str], vars: &[&str]| util::setting(explicit, keys, env, vars);
        let uri = get(
            &["mlflow_tracking_uri", "tracking_uri"],
            &["MLFLOW_TRACKING_URI"],
        )
        .ok_or("set MLFLOW_TRACKING_URI")?;
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(format!(
                "MLFLOW_TRACKING_URI must be an http(s) tracking server, not `{uri}`"
            ));
        }
        let auth = match (
            get(
                &["mlflow_tracking_token", "token"],
                &["MLFLOW_TRACKING_TOKEN"],
            ),
            get(
                &["mlflow_tracking_username", "username"],
                &["MLFLOW_TRACKING_USERNAME"],
            ),
            get(
                &["mlflow_tracking_password", "password"],
                &["MLFLOW_TRACKING_PASSWORD"],
            ),
        ) {
            (Some(t), _, _) => Some(format!("Bearer {t}")),
            (None, Some(u), Some(p)) => Some(util::basic_auth(&u, &p)),
            _ => None,
        };
        Ok(Self {
            tracking_uri: util::trim_base(&uri),
            experiment_id: get(
                &["mlflow_experiment_id", "experiment_id"],
                &["MLFLOW_EXPERIMENT_ID"],
            )
            .unwrap_or_else(|| "0".into()),
            auth,
        })
    }

    fn request(&self, method: Method, url: String, body: &Value) -> HttpRequest {
        let mut r = HttpRequest::post_json(url, body);
        r.method = method;
        if let Some(a) = &self.auth {
            r.set_header("authorization", a.clone());
        }
        r
    }
}

/// What the second step needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// The MLflow trace id (`tr-…`).
    pub trace_id: String,
    /// The `traces.json` content.
    pub trace_data: Value,
}

fn preview(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= PREVIEW_CHARS {
        return s;
    }
    s.chars()
        .take(PREVIEW_CHARS - 3)
        .chain("...".chars())
        .collect()
}

/// LiteLLM's span inputs: the messages plus tools/stream/tool_choice/user when set.
fn inputs(p: &Value) -> Value {
    let mut i = json!({"messages": p["messages"]});
    for k in ["tools", "functions", "stream", "tool_choice", "user"] {
        let v = &p["model_parameters"][k];
        if !v.is_null() && *v != false {
            i[k] = v.clone();
        }
    }
    i
}

fn attr(v: &Value) -> Value {
    Value::String(v.to_string())
}

/// The StartTraceV3 request and the trace data to upload once the server answered.
pub fn start(cfg: &Config, p: &Value) -> (HttpRequest, Upload) {
    let call_id = str_of(p, "id").unwrap_or("call");
    let otel_trace = util::derive_bytes(
        &format!("trace:{}", str_of(p, "trace_id").unwrap_or(call_id)),
        16,
    );
    let span_id = util::derive_bytes(&format!("span:{call_id}"), 8);
    let trace_id = format!("tr-{}", util::hex(&otel_trace));
    let call_type = str_of(p, "call_type").unwrap_or("completion");
    let name = format!("litellm-{call_type}");
    let failed = util::is_failure(p);
    let start_ms = util::ms(p, "startTime");
    let end_ms = util::ms(p, "endTime").max(start_ms);
    let inputs = inputs(p);
    let outputs = if failed {
        Value::Null
    } else {
        p["response"].clone()
    };
    let usage = json!({
        "input_tokens": p["prompt_tokens"],
        "output_tokens": p["completion_tokens"],
        "total_tokens": p["total_tokens"],
    });
    let mut metadata = json!({
        "mlflow.trace_schema.version": "3",
        "mlflow.traceInputs": preview(&inputs),
        "mlflow.traceOutputs": preview(&outputs),
    });
    if !failed {
        metadata["mlflow.trace.tokenUsage"] = json!(usage.to_string());
    }
    if let Some(u) = util::end_user(p) {
        metadata["mlflow.trace.user"] = json!(u);
    }
    if let Some(s) = str_of(&p["metadata"], "session_id") {
        metadata["mlflow.trace.session"] = json!(s);
    }
    let mut tags = json!({"mlflow.traceName": name});
    for t in util::tags(p) {
        let (k, v) = t.split_once(':').unwrap_or((&t, ""));
        tags[k] = json!(v);
    }
    let trace_info = json!({
        "trace_id": trace_id,
        "client_request_id": call_id,
        "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": cfg.experiment_id}},
        "request_preview": preview(&inputs),
        "response_preview": if failed { String::new() } else { preview(&outputs) },
        "request_time": iso8601(start_ms),
        "execution_duration": format!("{}s", (end_ms - start_ms) as f64 / 1000.0),
        "state": if failed { "ERROR" } else { "OK" },
        "trace_metadata": metadata,
        "tags": tags,
        "assessments": [],
    });
    let mut attributes = json!({
        "mlflow.traceRequestId": attr(&json!(trace_id)),
        "mlflow.spanType": attr(&json!("LLM")),
        "mlflow.spanInputs": attr(&inputs),
        "litellm_call_id": attr(&json!(call_id)),
        "call_type": attr(&json!(call_type)),
        "model": attr(&p["model"]),
        "custom_llm_provider": attr(&p["custom_llm_provider"]),
        "api_base": attr(&p["api_base"]),
        "cache_hit": attr(&p["cache_hit"]),
        "response_cost": attr(&p["response_cost"]),
        "metadata": attr(&p["metadata"]),
    });
    if !failed {
        attributes["mlflow.spanOutputs"] = attr(&outputs);
        attributes["mlflow.chat.tokenUsage"] = attr(&usage);
    }
    let mut events = Vec::new();
    if failed {
        events.push(json!({
            "name": "exception",
            "time_unix_nano": end_ms * 1_000_000,
            "attributes": {
                "exception.type": util::text(&p["error_information"]["error_class"]),
                "exception.message": util::error_message(p),
            },
        }));
    }
    let span = json!({
        "trace_id": util::base64(&otel_trace),
        "span_id": util::base64(&span_id),
        "parent_span_id": "",
        "name": name,
        "start_time_unix_nano": start_ms * 1_000_000,
        "end_time_unix_nano": end_ms * 1_000_000,
        "status": if failed {
            json!({"code": "STATUS_CODE_ERROR", "message": util::error_message(p)})
        } else {
            json!({"code": "STATUS_CODE_OK", "message": ""})
        },
        "attributes": attributes,
        "events": events,
    });
    let req = cfg.request(
        Method::Post,
        format!("{}/api/3.0/mlflow/traces", cfg.tracking_uri),
        &json!({"trace": {"trace_info": trace_info}}),
    );
    (
        req,
        Upload {
            trace_id,
            trace_data: json!({"spans": [span]}),
        },
    )
}

/// The artifact upload for a StartTraceV3 response body.
pub fn upload(cfg: &Config, start_response: &[u8], up: &Upload) -> Result<HttpRequest, String> {
    let v: Value = serde_json::from_slice(start_response)
        .map_err(|e| format!("StartTraceV3 answered with invalid JSON: {e}"))?;
    let location = v["trace"]["trace_info"]["tags"]["mlflow.artifactLocation"]
        .as_str()
        .ok_or("StartTraceV3 response has no mlflow.artifactLocation tag")?;
    let path = location.strip_prefix("mlflow-artifacts:").ok_or_else(|| {
        format!(
            "trace artifacts go to `{location}`, which the tracking server does not serve; \
                 run `mlflow server` with artifact serving (the default)"
        )
    })?;
    // `mlflow-artifacts:/0/…` or `mlflow-artifacts://host:port/0/…`: keep the path.
    let path = match path.strip_prefix("//") {
        Some(rest) => rest.find('/').map_or("", |i| &rest[i..]),
        None => path,
    };
    Ok(cfg.request(
        Method::Put,
        format!(
            "{}/api/2.0/mlflow-artifacts/artifacts{}/traces.json",
            cfg.tracking_uri,
            path.trim_end_matches('/')
        ),
        &up.trace_data,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use std::collections::HashMap;

    fn cfg() -> Config {
        let env: HashMap<String, String> = [
            ("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000/"),
            ("MLFLOW_EXPERIMENT_ID", "7"),
            ("MLFLOW_TRACKING_TOKEN", "mlf-token"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Config::resolve(&Map::new(), &env).unwrap()
    }

    #[test]
    fn settings() {
        let env: HashMap<String, String> = [(
            "MLFLOW_TRACKING_URI".to_string(),
            "file:///tmp/mlruns".to_string(),
        )]
        .into();
        assert!(Config::resolve(&Map::new(), &env)
            .unwrap_err()
            .contains("http"));
        let env: HashMap<String, String> = [
            ("MLFLOW_TRACKING_URI".to_string(), "http://m".to_string()),
            ("MLFLOW_TRACKING_USERNAME".to_string(), "u".to_string()),
            ("MLFLOW_TRACKING_PASSWORD".to_string(), "p".to_string()),
        ]
        .into();
        let c = Config::resolve(&Map::new(), &env).unwrap();
        assert_eq!(c.experiment_id, "0");
        assert_eq!(c.auth.as_deref(), Some("Basic dTpw"));
    }

    #[test]
    fn start_trace_then_upload_spans() {
        let (req, up) = start(&cfg(), &testdata::success());
        assert_eq!(req.url, "http://127.0.0.1:5000/api/3.0/mlflow/traces");
        assert_eq!(req.method, Method::Post);
        assert_eq!(
            crate::http::header(&req.headers, "authorization"),
            Some("Bearer mlf-token")
        );
        let b = req.json_body().unwrap();
        let info = &b["trace"]["trace_info"];
        assert_eq!(info["trace_id"], up.trace_id);
        assert!(up.trace_id.starts_with("tr-") && up.trace_id.len() == 35);
        assert_eq!(info["client_request_id"], "call-1");
        assert_eq!(info["trace_location"]["type"], "MLFLOW_EXPERIMENT");
        assert_eq!(
            info["trace_location"]["mlflow_experiment"]["experiment_id"],
            "7"
        );
        assert_eq!(info["request_time"], "2023-11-14T22:13:20.000Z");
        assert_eq!(info["execution_duration"], "1.25s");
        assert_eq!(info["state"], "OK");
        assert_eq!(info["trace_metadata"]["mlflow.trace_schema.version"], "3");
        let usage: Value = serde_json::from_str(
            info["trace_metadata"]["mlflow.trace.tokenUsage"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            usage,
            json!({"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})
        );
        assert_eq!(info["trace_metadata"]["mlflow.trace.user"], "user-7");
        assert_eq!(info["tags"]["mlflow.traceName"], "litellm-completion");
        assert_eq!(info["tags"]["prod"], "");
        for v in info["trace_metadata"].as_object().unwrap().values() {
            assert!(v.is_string());
        }

        let answer = json!({"trace": {"trace_info": {"trace_id": up.trace_id,
            "tags": {"mlflow.artifactLocation": format!("mlflow-artifacts:/7/traces/{}/artifacts", up.trace_id)}}}});
        let put = upload(&cfg(), answer.to_string().as_bytes(), &up).unwrap();
        assert_eq!(put.method, Method::Put);
        assert_eq!(
            put.url,
            format!("http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/7/traces/{}/artifacts/traces.json", up.trace_id)
        );
        let data = put.json_body().unwrap();
        let span = &data["spans"][0];
        assert_eq!(span["name"], "litellm-completion");
        assert_eq!(span["status"]["code"], "STATUS_CODE_OK");
        assert_eq!(span["start_time_unix_nano"], 1_700_000_000_000_000_000u64);
        assert_eq!(span["attributes"]["mlflow.spanType"], "\"LLM\"");
        assert_eq!(
            span["attributes"]["mlflow.traceRequestId"],
            format!("\"{}\"", up.trace_id)
        );
        let inputs: Value =
            serde_json::from_str(span["attributes"]["mlflow.spanInputs"].as_str().unwrap())
                .unwrap();
        assert_eq!(inputs["messages"][1]["content"], "Hi");
        assert_eq!(inputs["user"], "user-7");
        let outputs: Value =
            serde_json::from_str(span["attributes"]["mlflow.spanOutputs"].as_str().unwrap())
                .unwrap();
        assert_eq!(outputs["choices"][0]["message"]["content"], "Hello!");
        // 16-byte trace id and 8-byte span id, base64.
        assert_eq!(span["trace_id"].as_str().unwrap().len(), 24);
        assert_eq!(span["span_id"].as_str().unwrap().len(), 12);
    }

    #[test]
    fn failure_is_an_error_trace_with_an_exception_event() {
        let (req, up) = start(&cfg(), &testdata::failure());
        assert_eq!(
            req.json_body().unwrap()["trace"]["trace_info"]["state"],
            "ERROR"
        );
        let span = &up.trace_data["spans"][0];
        assert_eq!(span["status"]["code"], "STATUS_CODE_ERROR");
        assert_eq!(
            span["events"][0]["attributes"]["exception.message"],
            "Rate limit reached"
        );
        assert!(span["attributes"].get("mlflow.spanOutputs").is_none());
    }

    #[test]
    fn upload_needs_a_served_artifact_location() {
        let (_, up) = start(&cfg(), &testdata::success());
        let s3 = json!({"trace": {"trace_info": {"tags": {"mlflow.artifactLocation": "s3://b/0/traces/x"}}}});
        assert!(upload(&cfg(), s3.to_string().as_bytes(), &up)
            .unwrap_err()
            .contains("s3://"));
        assert!(upload(&cfg(), b"nope", &up).is_err());
        let remote = json!({"trace": {"trace_info": {"tags": {"mlflow.artifactLocation": "mlflow-artifacts://h:5000/0/traces/t/artifacts"}}}});
        let put = upload(&cfg(), remote.to_string().as_bytes(), &up).unwrap();
        assert!(put
            .url
            .ends_with("/api/2.0/mlflow-artifacts/artifacts/0/traces/t/artifacts/traces.json"));
    }
}
