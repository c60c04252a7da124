//! OpenTelemetry traces over OTLP/HTTP with the JSON encoding (`POST {endpoint}/v1/traces`,
//! `content-type: application/json`), so any OTel collector, Traceloop, or a vendor's OTLP
//! endpoint receives them. One span per call (kind `CLIENT`, named `{operation} {model}`) with
//! the GenAI semantic-convention attributes LiteLLM's OTel logger sets (`gen_ai.system`,
//! `gen_ai.request.*`, `gen_ai.response.*`, `gen_ai.usage.*`, `gen_ai.input.messages`,
//! `gen_ai.output.messages`, `llm.request.type`, `llm.is_streaming`, `llm.user`,
//! `litellm.call_id`, `metadata.*`), Traceloop's indexed `gen_ai.prompt.N.*` /
//! `gen_ai.completion.N.*`, the cost, and status `ERROR` with an `exception` event on failures.
//! A W3C `traceparent` in the call's metadata makes the span a child of the caller's span;
//! otherwise trace and span ids are derived from the call id. All calls go in one export.
//!
//! Two names use it, with LiteLLM's variables:
//! - `traceloop`: `TRACELOOP_BASE_URL` (default `https://api.traceloop.com`, or
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` when only that is set), `TRACELOOP_API_KEY` (bearer),
//!   `TRACELOOP_HEADERS`;
//! - `otel` / `opentelemetry`: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is), else
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_ENDPOINT`, headers from `OTEL_EXPORTER_OTLP_HEADERS` /
//!   `OTEL_HEADERS` (`k=v,k2=v2`, URL-encoded values).
//!
//! `OTEL_SERVICE_NAME` names the resource (default `edgellm`).

use serde_json::{json, Map, Value};

use super::util::{self, str_of};
use crate::http::HttpRequest;
use crate::Env;

/// OTLP span kind `SPAN_KIND_CLIENT`.
const KIND_CLIENT: u8 = 3;
/// OTLP status codes.
const STATUS_OK: u8 = 1;
const STATUS_ERROR: u8 = 2;

/// Resolved OTLP exporter settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The full traces URL.
    pub url: String,
    /// Extra headers (auth).
    pub headers: Vec<(String, String)>,
    /// `service.name`.
    pub service_name: String,
}

/// The traces URL for an OTLP base or full endpoint (LiteLLM's normalisation: a signal path
/// is replaced, a bare base gets `/v1/traces`).
pub fn traces_url(endpoint: &str) -> String {
    let e = util::trim_base(endpoint);
    for signal in ["/v1/traces", "/v1/logs", "/v1/metrics"] {
        if let Some(base) = e.strip_suffix(signal) {
            return format!("{base}/v1/traces");
        }
    }
    format!("{e}/v1/traces")
}

impl Config {
    /// The `traceloop` logger's settings.
    pub fn traceloop(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let base = util::setting(
            explicit,
            &["traceloop_base_url", "base_url", "endpoint"],
            env,
            &["TRACELOOP_BASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"],
        )
        .unwrap_or_else(|| "https://api.traceloop.com".into());
        let mut headers = util::header_list(explicit.get("headers"), env.var("TRACELOOP_HEADERS"));
        let key = util::setting(
            explicit,
            &["traceloop_api_key", "api_key"],
            env,
            &["TRACELOOP_API_KEY"],
        );
        match key {
            Some(k) if !headers.iter().any(|(h, _)| h == "authorization") => {
                headers.push(("authorization".into(), format!("Bearer {k}")));
            }
            None if base.contains("api.traceloop.com") => {
                return Err(
                    "set TRACELOOP_API_KEY (or TRACELOOP_BASE_URL for a local collector)".into(),
                )
            }
            _ => {}
        }
        Ok(Self {
            url: traces_url(&base),
            headers,
            service_name: service_name(explicit, env),
        })
    }

    /// The `otel` logger's settings.
    pub fn otel(explicit: &Map<String, Value>, env: &dyn Env) -> Result<Self, String> {
        let url = if let Some(full) = util::setting(
            explicit,
            &["traces_endpoint"],
            env,
            &["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
        ) {
            full
        } else {
            let base = util::setting(
                explicit,
                &["endpoint"],
                env,
                &["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_ENDPOINT"],
            )
            .ok_or("set OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_ENDPOINT)")?;
            traces_url(&base)
        };
        let env_headers = env
            .var("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
            .or_else(|| env.var("OTEL_EXPORTER_OTLP_HEADERS"))
            .or_else(|| env.var("OTEL_HEADERS"));
        Ok(Self {
            url,
            headers: util::header_list(explicit.get("headers"), env_headers),
            service_name: service_name(explicit, env),
        })
    }
}

fn service_name(explicit: &Map<String, Value>, env: &dyn Env) -> String {
    util::setting(explicit, &["service_name"], env, &["OTEL_SERVICE_NAME"])
        .unwrap_or_else(|| "edgellm".into())
}

/// An OTLP `AnyValue` for a JSON value (int64 as a string, per the proto3 JSON mapping).
fn any_value(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => json!({"boolValue": b}),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!({"intValue": n.to_string()}),
        Value::Number(n) => json!({"doubleValue": n.as_f64()}),
        Value::String(s) => json!({"stringValue": s}),
        Value::Array(a) if a.iter().all(Value::is_string) => {
            json!({"arrayValue": {"values": a.iter().filter_map(any_value).collect::<Vec<_>>()}})
        }
        other => json!({"stringValue": other.to_string()}),
    })
}

struct Attrs(Vec<Value>);

impl Attrs {
    fn set(&mut self, key: &str, v: impl Into<Value>) {
        if let Some(value) = any_value(&v.into()) {
            self.0.push(json!({"key": key, "value": value}));
        }
    }
}

/// A `traceparent` (`00-<trace id>-<span id>-<flags>`) from the call's metadata.
fn traceparent(p: &Value) -> Option<(String, String)> {
    let tp = str_of(&p["metadata"], "traceparent")?;
    let parts: Vec<&str> = tp.split('-').collect();
    let hex_ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (parts.len() == 4 && hex_ok(parts[1], 32) && hex_ok(parts[2], 16))
        .then(|| (parts[1].to_ascii_lowercase(), parts[2].to_ascii_lowercase()))
}

fn message_attrs(attrs: &mut Attrs, prefix: &str, i: usize, m: &Value) {
    attrs.set(&format!("{prefix}.{i}.role"), util::text(&m["role"]));
    if !m["content"].is_null() {
        attrs.set(&format!("{prefix}.{i}.content"), util::text(&m["content"]));
    }
}

/// The span for one call.
pub fn span(p: &Value) -> Value {
    let call_id = str_of(p, "id").unwrap_or("call");
    let (trace_id, parent) = match traceparent(p) {
        Some((t, s)) => (t, Some(s)),
        None => (
            util::hex(&util::derive_bytes(
                &format!("trace:{}", str_of(p, "trace_id").unwrap_or(call_id)),
                16,
            )),
            None,
        ),
    };
    let span_id = util::hex(&util::derive_bytes(&format!("span:{call_id}"), 8));
    let call_type = str_of(p, "call_type").unwrap_or("completion");
    let operation = match call_type {
        "completion" | "acompletion" => "chat",
        other => other,
    };
    let params = &p["model_parameters"];
    let response = &p["response"];
    let mut a = Attrs(Vec::new());
    a.set("gen_ai.operation.name", operation);
    a.set("gen_ai.system", p["custom_llm_provider"].clone());
    a.set("gen_ai.provider.name", p["custom_llm_provider"].clone());
    a.set("gen_ai.request.model", p["model"].clone());
    for (key, param) in [
        ("gen_ai.request.max_tokens", "max_tokens"),
        ("gen_ai.request.temperature", "temperature"),
        ("gen_ai.request.top_p", "top_p"),
    ] {
        a.set(key, params[param].clone());
    }
    a.set("llm.request.type", call_type);
    a.set("llm.is_streaming", (p["stream"] == true).to_string());
    a.set("llm.user", params["user"].clone());
    a.set("litellm.call_id", call_id);
    a.set("gen_ai.response.id", response["id"].clone());
    a.set("gen_ai.response.model", response["model"].clone());
    if !util::is_failure(p) {
        a.set("gen_ai.usage.input_tokens", p["prompt_tokens"].clone());
        a.set("gen_ai.usage.output_tokens", p["completion_tokens"].clone());
        a.set("gen_ai.usage.total_tokens", p["total_tokens"].clone());
        a.set("gen_ai.cost.total_cost", p["response_cost"].clone());
    }
    if let Some(base) = str_of(p, "api_base") {
        a.set("gen_ai.openai.api_base", base);
    }
    a.set("litellm.model_group", p["model_group"].clone());
    for (k, v) in util::metadata(p) {
        if k != "traceparent" {
            a.set(&format!("metadata.{k}"), v);
        }
    }
    if let Some(msgs) = p["messages"].as_array() {
        a.set(
            "gen_ai.input.messages",
            Value::Array(msgs.clone()).to_string(),
        );
        for (i, m) in msgs.iter().enumerate() {
            message_attrs(&mut a, "gen_ai.prompt", i, m);
        }
    }
    if let Some(choices) = response["choices"].as_array() {
        let out: Vec<Value> = choices.iter().map(|c| c["message"].clone()).collect();
        a.set("gen_ai.output.messages", Value::Array(out).to_string());
        let reasons: Vec<Value> = choices
            .iter()
            .filter_map(|c| c["finish_reason"].as_str().map(|s| json!(s)))
            .collect();
        if !reasons.is_empty() {
            a.set("gen_ai.response.finish_reasons", Value::Array(reasons));
        }
        for (i, c) in choices.iter().enumerate() {
            message_attrs(&mut a, "gen_ai.completion", i, &c["message"]);
            a.set(
                &format!("gen_ai.completion.{i}.finish_reason"),
                c["finish_reason"].clone(),
            );
        }
    }
    let start_ns = util::ms(p, "startTime") * 1_000_000;
    let end_ns = util::ms(p, "endTime") * 1_000_000;
    let mut span = json!({
        "traceId": trace_id,
        "spanId": span_id,
        "name": format!("{operation} {}", util::text(&p["model"])),
        "kind": KIND_CLIENT,
        "startTimeUnixNano": start_ns.to_string(),
        "endTimeUnixNano": end_ns.to_string(),
        "status": {"code": STATUS_OK},
    });
    if let Some(parent) = parent {
        span["parentSpanId"] = json!(parent);
    }
    if util::is_failure(p) {
        let class = util::text(&p["error_information"]["error_class"]);
        a.set("error.type", class.clone());
        let message = util::error_message(p);
        span["status"] = json!({"code": STATUS_ERROR, "message": message});
        span["events"] = json!([{
            "name": "exception",
            "timeUnixNano": end_ns.to_string(),
            "attributes": [
                {"key": "exception.type", "value": {"stringValue": class}},
                {"key": "exception.message", "value": {"stringValue": message}},
            ],
        }]);
    }
    span["attributes"] = Value::Array(a.0);
    span
}

/// One OTLP export for all `payloads`.
pub fn requests(cfg: &Config, payloads: &[Value]) -> Vec<HttpRequest> {
    if payloads.is_empty() {
        return Vec::new();
    }
    let body = json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": cfg.service_name}},
            {"key": "telemetry.sdk.name", "value": {"stringValue": "edgellm"}},
            {"key": "telemetry.sdk.version", "value": {"stringValue": env!("CARGO_PKG_VERSION")}},
        ]},
        "scopeSpans": [{
            "scope": {"name": "edgellm", "version": env!("CARGO_PKG_VERSION")},
            "spans": payloads.iter().map(span).collect::<Vec<_>>(),
        }],
    }]});
    let mut req = HttpRequest::post_json(cfg.url.clone(), &body);
    for (k, v) in &cfg.headers {
        req.set_header(k, v.clone());
    }
    vec![req]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn attr<'a>(span: &'a Value, key: &str) -> &'a Value {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map_or(&Value::Null, |a| &a["value"])
    }

    #[test]
    fn endpoints_and_headers_follow_otel_and_traceloop_variables() {
        let none = Map::new();
        let c = Config::otel(
            &none,
            &env(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/"),
                ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=abc"),
            ]),
        )
        .unwrap();
        assert_eq!(c.url, "http://c:4318/v1/traces");
        assert_eq!(
            c.headers,
            vec![("x-honeycomb-team".to_string(), "abc".to_string())]
        );
        let c = Config::otel(&none, &env(&[("OTEL_ENDPOINT", "http://c:4318/v1/logs")])).unwrap();
        assert_eq!(c.url, "http://c:4318/v1/traces");
        let c = Config::otel(
            &none,
            &env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c/custom")]),
        )
        .unwrap();
        assert_eq!(c.url, "http://c/custom");
        assert!(Config::otel(&none, &env(&[])).is_err());
        let c = Config::traceloop(&none, &env(&[("TRACELOOP_API_KEY", "tl-key")])).unwrap();
        assert_eq!(c.url, "https://api.traceloop.com/v1/traces");
        assert_eq!(
            c.headers,
            vec![("authorization".to_string(), "Bearer tl-key".to_string())]
        );
        assert!(Config::traceloop(&none, &env(&[])).is_err());
        let c = Config::traceloop(
            &none,
            &env(&[("TRACELOOP_BASE_URL", "http://127.0.0.1:4318")]),
        )
        .unwrap();
        assert_eq!(c.url, "http://127.0.0.1:4318/v1/traces");
        assert!(c.headers.is_empty());
    }

    #[test]
    fn success_span_carries_gen_ai_attributes() {
        let cfg = Config::otel(
            &Map::new(),
            &env(&[
                ("OTEL_ENDPOINT", "http://c:4318"),
                ("OTEL_SERVICE_NAME", "gw"),
            ]),
        )
        .unwrap();
        let r = &requests(&cfg, &[testdata::success()])[0];
        assert_eq!(
            crate::http::header(&r.headers, "content-type"),
            Some("application/json")
        );
        let body = r.json_body().unwrap();
        assert_eq!(
            body["resourceSpans"][0]["resource"]["attributes"][0]["value"]["stringValue"],
            "gw"
        );
        let s = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"].as_str().unwrap().len(), 32);
        assert_eq!(s["spanId"].as_str().unwrap().len(), 16);
        assert_eq!(s["name"], "chat gpt-4o");
        assert_eq!(s["kind"], 3);
        assert_eq!(s["startTimeUnixNano"], "1700000000000000000");
        assert_eq!(s["endTimeUnixNano"], "1700000001250000000");
        assert_eq!(s["status"]["code"], 1);
        assert_eq!(attr(s, "gen_ai.system")["stringValue"], "openai");
        assert_eq!(attr(s, "gen_ai.request.model")["stringValue"], "gpt-4o");
        assert_eq!(attr(s, "gen_ai.request.temperature")["doubleValue"], 0.2);
        assert_eq!(attr(s, "gen_ai.request.max_tokens")["intValue"], "64");
        assert_eq!(
            attr(s, "gen_ai.response.model")["stringValue"],
            "gpt-4o-2024-08-06"
        );
        assert_eq!(attr(s, "gen_ai.response.id")["stringValue"], "chatcmpl-1");
        assert_eq!(attr(s, "gen_ai.usage.input_tokens")["intValue"], "10");
        assert_eq!(attr(s, "gen_ai.usage.output_tokens")["intValue"], "5");
        assert_eq!(attr(s, "gen_ai.cost.total_cost")["doubleValue"], 0.000075);
        assert_eq!(attr(s, "gen_ai.prompt.1.content")["stringValue"], "Hi");
        assert_eq!(
            attr(s, "gen_ai.completion.0.content")["stringValue"],
            "Hello!"
        );
        assert_eq!(
            attr(s, "gen_ai.response.finish_reasons")["arrayValue"]["values"][0]["stringValue"],
            "stop"
        );
        assert_eq!(attr(s, "llm.user")["stringValue"], "user-7");
        assert_eq!(attr(s, "metadata.team")["stringValue"], "core");
        assert_eq!(attr(s, "litellm.call_id")["stringValue"], "call-1");
        let input: Value = serde_json::from_str(
            attr(s, "gen_ai.input.messages")["stringValue"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(input[1]["content"], "Hi");
    }

    #[test]
    fn failure_span_is_an_error_with_an_exception_event() {
        let s = span(&testdata::failure());
        assert_eq!(s["status"]["code"], 2);
        assert_eq!(s["status"]["message"], "Rate limit reached");
        assert_eq!(s["events"][0]["name"], "exception");
        assert_eq!(attr(&s, "error.type")["stringValue"], "RateLimitError");
        assert!(attr(&s, "gen_ai.usage.input_tokens").is_null());
    }

    #[test]
    fn traceparent_links_to_the_callers_span() {
        let mut p = testdata::stream_success();
        p["metadata"]["traceparent"] =
            json!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        let s = span(&p);
        assert_eq!(s["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(s["parentSpanId"], "00f067aa0ba902b7");
        assert_eq!(attr(&s, "llm.is_streaming")["stringValue"], "true");
        assert!(attr(&s, "metadata.traceparent").is_null());
    }
}
