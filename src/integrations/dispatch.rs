//! Which loggers run for which events, with which settings, and the HTTP requests that result.
//!
//! [`LoggingSettings`] is LiteLLM's configuration surface: `success_callback`,
//! `failure_callback`, `callbacks` (both), `turn_off_message_logging`, and per-logger
//! `callback_settings` (`{"langfuse": {"message_logging": false, "langfuse_host": "…"}}`).
//! [`Dispatcher::new`] resolves each named logger's settings once (explicit values, then the
//! environment); [`Dispatcher::plan`] turns a batch of events into [`Job`]s, applying redaction
//! per logger and batching where the service's API takes batches. Nothing here does I/O:
//! [`super::send::flush`] sends the plan.

use serde_json::{Map, Value};

use super::event::{BudgetAlert, LogEvent};
use super::redact;
use super::send::LoggerResult;
use super::webhook;
#[cfg(feature = "integrations")]
use super::{helicone, langfuse, lunary, mlflow, otel, promptlayer, slack};
use crate::http::HttpRequest;
use crate::{Env, Error, Result};

/// A logging integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LoggerKind {
    /// Langfuse (batch ingestion API).
    Langfuse,
    /// Lunary (runs ingest API).
    Lunary,
    /// MLflow (traces REST API).
    Mlflow,
    /// Helicone (async logging API).
    Helicone,
    /// PromptLayer (log-request API).
    PromptLayer,
    /// Traceloop (OTLP/HTTP JSON).
    Traceloop,
    /// Any OpenTelemetry collector (OTLP/HTTP JSON).
    Otel,
    /// Slack incoming webhook (failures and budget alerts).
    Slack,
    /// Generic JSON webhook.
    Webhook,
}

impl LoggerKind {
    /// The kind for a LiteLLM callback name (case-insensitive), if supported.
    ///
    /// ```
    /// use edgellm::integrations::LoggerKind;
    /// assert_eq!(LoggerKind::from_name("Langfuse"), Some(LoggerKind::Langfuse));
    /// assert_eq!(LoggerKind::from_name("generic_api"), Some(LoggerKind::Webhook));
    /// assert_eq!(LoggerKind::from_name("prometheus"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "langfuse" => Self::Langfuse,
            "lunary" => Self::Lunary,
            "mlflow" => Self::Mlflow,
            "helicone" => Self::Helicone,
            "promptlayer" => Self::PromptLayer,
            "traceloop" => Self::Traceloop,
            "otel" | "opentelemetry" => Self::Otel,
            "slack" => Self::Slack,
            "webhook" | "generic" | "generic_api" => Self::Webhook,
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Langfuse => "langfuse",
            Self::Lunary => "lunary",
            Self::Mlflow => "mlflow",
            Self::Helicone => "helicone",
            Self::PromptLayer => "promptlayer",
            Self::Traceloop => "traceloop",
            Self::Otel => "otel",
            Self::Slack => "slack",
            Self::Webhook => "webhook",
        }
    }

    /// Whether it takes successful calls (Slack alerts on failures only).
    fn logs_success(self) -> bool {
        self != Self::Slack
    }

    /// Slack alerts on LLM API failures; a call the gateway refused by policy is none.
    fn logs_refusals(self) -> bool {
        self != Self::Slack
    }
}

/// LiteLLM's logging configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggingSettings {
    /// Loggers for successful calls.
    pub success_callback: Vec<String>,
    /// Loggers for failed calls.
    pub failure_callback: Vec<String>,
    /// Loggers for both.
    pub callbacks: Vec<String>,
    /// Redact prompts and outputs for every logger.
    pub turn_off_message_logging: bool,
    /// Per-logger settings by name: explicit credentials/endpoints and `message_logging`.
    pub callback_settings: Map<String, Value>,
    /// Time allowed to each logger for one flush (all its requests and retries), ms.
    pub timeout_ms: u64,
    /// Retries of a transient failure (connection error, timeout, 408, 429, 5xx).
    pub max_retries: u32,
    /// How long the SDK collects finished calls before sending them as one batch, ms.
    pub flush_interval_ms: u64,
}

impl Default for LoggingSettings {
    fn default() -> Self {
        Self {
            success_callback: Vec::new(),
            failure_callback: Vec::new(),
            callbacks: Vec::new(),
            turn_off_message_logging: false,
            callback_settings: Map::new(),
            timeout_ms: 10_000,
            max_retries: 2,
            flush_interval_ms: 50,
        }
    }
}

fn names(v: &Value, key: &str) -> Result<Vec<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        // Functions (JS callbacks) are handled by the caller; only names count here.
        Some(Value::Array(a)) => Ok(a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect()),
        Some(_) => {
            Err(Error::bad_request(format!("`{key}` must be a list of names")).with_param(key))
        }
    }
}

impl LoggingSettings {
    /// Reads the settings from an object with LiteLLM's keys (`success_callback`,
    /// `failure_callback`, `callbacks`, `turn_off_message_logging`, `callback_settings`) plus
    /// `logging_timeout` (seconds), `logging_max_retries` and `logging_flush_interval`
    /// (seconds). Missing keys keep defaults.
    ///
    /// ```
    /// let s = edgellm::integrations::LoggingSettings::from_json(&serde_json::json!({
    ///     "success_callback": ["langfuse"], "turn_off_message_logging": true, "logging_timeout": 2.5,
    /// })).unwrap();
    /// assert_eq!(s.success_callback, ["langfuse"]);
    /// assert_eq!(s.timeout_ms, 2500);
    /// ```
    pub fn from_json(v: &Value) -> Result<Self> {
        let mut s = Self {
            success_callback: names(v, "success_callback")?,
            failure_callback: names(v, "failure_callback")?,
            callbacks: names(v, "callbacks")?,
            ..Self::default()
        };
        s.merge(v)?;
        Ok(s)
    }

    /// Applies the non-list keys of `v` over these settings.
    pub fn merge(&mut self, v: &Value) -> Result<()> {
        match &v["turn_off_message_logging"] {
            Value::Null => {}
            Value::Bool(b) => self.turn_off_message_logging = *b,
            Value::String(s) => self.turn_off_message_logging = s.eq_ignore_ascii_case("true"),
            _ => {
                return Err(
                    Error::bad_request("`turn_off_message_logging` must be a boolean")
                        .with_param("turn_off_message_logging"),
                )
            }
        }
        match &v["callback_settings"] {
            Value::Null => {}
            Value::Object(m) => {
                for (k, v) in m {
                    self.callback_settings
                        .insert(k.to_ascii_lowercase(), v.clone());
                }
            }
            _ => {
                return Err(Error::bad_request("`callback_settings` must be an object")
                    .with_param("callback_settings"))
            }
        }
        if let Some(secs) = v["logging_timeout"].as_f64() {
            self.timeout_ms = (secs.max(0.0) * 1000.0) as u64;
        }
        if let Some(n) = v["logging_max_retries"].as_u64() {
            self.max_retries = n.min(10) as u32;
        }
        if let Some(secs) = v["logging_flush_interval"].as_f64() {
            self.flush_interval_ms = (secs.clamp(0.0, 60.0) * 1000.0) as u64;
        }
        Ok(())
    }

    /// Whether any logger is named at all.
    pub fn is_empty(&self) -> bool {
        self.success_callback.is_empty()
            && self.failure_callback.is_empty()
            && self.callbacks.is_empty()
    }
}

/// A resolved logger's destination. Without the `integrations` feature only the generic webhook
/// is built in; other named loggers are reported as skipped ([`UNAVAILABLE`]).
#[derive(Debug, Clone)]
enum Target {
    #[cfg(feature = "integrations")]
    Langfuse(langfuse::Config),
    #[cfg(feature = "integrations")]
    Lunary(lunary::Config),
    #[cfg(feature = "integrations")]
    Mlflow(mlflow::Config),
    #[cfg(feature = "integrations")]
    Helicone(helicone::Config),
    #[cfg(feature = "integrations")]
    PromptLayer(promptlayer::Config),
    #[cfg(feature = "integrations")]
    Otlp(otel::Config),
    #[cfg(feature = "integrations")]
    Slack(slack::Config),
    Webhook(webhook::Config),
}

#[derive(Debug, Clone)]
struct Logger {
    kind: LoggerKind,
    on_success: bool,
    on_failure: bool,
    redact: bool,
    target: Target,
}

fn resolve(
    kind: LoggerKind,
    explicit: &Map<String, Value>,
    env: &dyn Env,
) -> std::result::Result<Target, String> {
    Ok(match kind {
        LoggerKind::Webhook => Target::Webhook(webhook::Config::resolve(explicit, env)?),
        #[cfg(feature = "integrations")]
        LoggerKind::Langfuse => Target::Langfuse(langfuse::Config::resolve(explicit, env)?),
        #[cfg(feature = "integrations")]
        LoggerKind::Lunary => Target::Lunary(lunary::Config::resolve(explicit, env)?),
        #[cfg(feature = "integrations")]
        LoggerKind::Mlflow => Target::Mlflow(mlflow::Config::resolve(explicit, env)?),
        #[cfg(feature = "integrations")]
        LoggerKind::Helicone => Target::Helicone(helicone::Config::resolve(explicit, env)?),
        #[cfg(feature = "integrations")]
        LoggerKind::PromptLayer => {
            Target::PromptLayer(promptlayer::Config::resolve(explicit, env)?)
        }
        #[cfg(feature = "integrations")]
        LoggerKind::Traceloop => Target::Otlp(otel::Config::traceloop(explicit, env)?),
        #[cfg(feature = "integrations")]
        LoggerKind::Otel => Target::Otlp(otel::Config::otel(explicit, env)?),
        #[cfg(feature = "integrations")]
        LoggerKind::Slack => Target::Slack(slack::Config::resolve(explicit, env)?),
        #[cfg(not(feature = "integrations"))]
        _ => return Err(UNAVAILABLE.to_string()),
    })
}

/// Why a named logger other than `webhook` does not run in a build without the `integrations`
/// feature (the npm package: the service-specific loggers would add ~19 KB gzip to every
/// browser download, for what a callback function or the generic webhook does).
pub const UNAVAILABLE: &str = "this logging integration is not in this build (the npm package includes only `webhook`, to stay small): pass a function as success_callback / failure_callback, use `webhook` (GENERIC_LOGGER_ENDPOINT), log through the edgellm gateway (litellm_settings.success_callback in its config), or build edgellm with the cargo feature `integrations`";

/// A second request that depends on the first one's answer.
#[derive(Debug, Clone)]
pub enum FollowUp {
    /// MLflow: upload the spans to the artifact location StartTraceV3 returned.
    #[cfg(feature = "integrations")]
    MlflowUpload(mlflow::Config, mlflow::Upload),
}

impl FollowUp {
    /// The follow-up request for the first response's body.
    #[cfg_attr(not(feature = "integrations"), allow(unused_variables))]
    pub fn request(&self, first_body: &[u8]) -> std::result::Result<HttpRequest, String> {
        #[cfg(feature = "integrations")]
        match self {
            FollowUp::MlflowUpload(cfg, up) => mlflow::upload(cfg, first_body, up),
        }
        #[cfg(not(feature = "integrations"))]
        match *self {}
    }
}

/// One delivery: a request (and possibly a dependent second one) for one logger.
#[derive(Debug, Clone)]
pub struct Job {
    /// The logger's name.
    pub logger: &'static str,
    /// Events carried (shared out evenly when a batch had to be split).
    pub events: usize,
    /// The request.
    pub request: HttpRequest,
    /// What to send once `request` succeeded.
    pub then: Option<FollowUp>,
}

/// The deliveries for a batch of events, and the loggers that could not run.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Requests to send.
    pub jobs: Vec<Job>,
    /// Loggers named but not runnable (unknown name, missing credentials), as failed results.
    pub skipped: Vec<LoggerResult>,
}

/// The loggers configured for a call or a gateway.
#[derive(Debug, Clone, Default)]
pub struct Dispatcher {
    loggers: Vec<Logger>,
    skipped: Vec<LoggerResult>,
    /// Per-logger time budget for one flush, ms.
    pub timeout_ms: u64,
    /// Retries of transient failures.
    pub max_retries: u32,
}

impl Dispatcher {
    /// Resolves the named loggers. Unknown names and loggers without credentials are kept as
    /// skipped results (reported on every flush that has events for them), never errors.
    pub fn new(settings: &LoggingSettings, env: &dyn Env) -> Self {
        let mut d = Dispatcher {
            timeout_ms: settings.timeout_ms,
            max_retries: settings.max_retries,
            ..Default::default()
        };
        let mut seen: Vec<(String, bool, bool)> = Vec::new();
        let lists = [
            (&settings.success_callback, true, false),
            (&settings.failure_callback, false, true),
            (&settings.callbacks, true, true),
        ];
        for (list, success, failure) in lists {
            for name in list {
                let key = name.trim().to_ascii_lowercase();
                match seen.iter_mut().find(|(n, _, _)| *n == key) {
                    Some(entry) => {
                        entry.1 |= success;
                        entry.2 |= failure;
                    }
                    None => seen.push((key, success, failure)),
                }
            }
        }
        for (name, on_success, on_failure) in seen {
            let Some(kind) = LoggerKind::from_name(&name) else {
                d.skipped.push(LoggerResult::skipped(
                    &name,
                    "not a logging integration edgellm supports (langfuse, lunary, mlflow, helicone, promptlayer, traceloop, otel, slack, webhook)",
                ));
                continue;
            };
            let explicit = settings
                .callback_settings
                .get(kind.name())
                .or_else(|| settings.callback_settings.get(&name))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let message_logging = explicit.get("message_logging").and_then(Value::as_bool);
            match resolve(kind, &explicit, env) {
                Ok(target) => d.loggers.push(Logger {
                    kind,
                    on_success: on_success && kind.logs_success(),
                    on_failure,
                    redact: settings.turn_off_message_logging || message_logging == Some(false),
                    target,
                }),
                Err(why) => d.skipped.push(LoggerResult::skipped(kind.name(), &why)),
            }
        }
        d
    }

    /// Whether no logger will ever run or report.
    pub fn is_empty(&self) -> bool {
        self.loggers.is_empty() && self.skipped.is_empty()
    }

    /// The names of the loggers that will run.
    pub fn logger_names(&self) -> Vec<&'static str> {
        self.loggers.iter().map(|l| l.kind.name()).collect()
    }

    /// The deliveries for `events`.
    pub fn plan(&self, events: &[LogEvent]) -> Plan {
        let mut plan = Plan::default();
        if events.is_empty() {
            return plan;
        }
        plan.skipped = self.skipped.clone();
        for l in &self.loggers {
            let mut payloads: Vec<Value> = Vec::new();
            let mut alerts = Vec::new();
            for e in events {
                match e {
                    LogEvent::Success(p) if l.on_success => payloads.push(p.clone()),
                    LogEvent::Failure(p) if l.on_failure => payloads.push(p.clone()),
                    LogEvent::Refused(p) if l.on_failure && l.kind.logs_refusals() => {
                        payloads.push(p.clone())
                    }
                    LogEvent::Budget(a) => alerts.push(&**a),
                    _ => {}
                }
            }
            if l.redact {
                payloads = payloads.iter().map(redact::payload).collect();
            }
            plan.jobs.extend(jobs(l, &payloads, &alerts));
        }
        plan
    }
}

/// The deliveries of one logger for a batch of (already redacted) payloads and budget alerts.
fn jobs(l: &Logger, payloads: &[Value], alerts: &[&BudgetAlert]) -> Vec<Job> {
    let n = payloads.len();
    let simple = |reqs: Vec<HttpRequest>, per_request: bool| -> Vec<Job> {
        let count = reqs.len();
        reqs.into_iter()
            .map(|request| Job {
                logger: l.kind.name(),
                events: if per_request { 1 } else { n / count.max(1) },
                request,
                then: None,
            })
            .collect()
    };
    match &l.target {
        #[cfg(feature = "integrations")]
        Target::Langfuse(c) => simple(langfuse::requests(c, payloads), false),
        #[cfg(feature = "integrations")]
        Target::Lunary(c) => simple(lunary::requests(c, payloads), false),
        #[cfg(feature = "integrations")]
        Target::Helicone(c) => simple(helicone::requests(c, payloads), true),
        #[cfg(feature = "integrations")]
        Target::PromptLayer(c) => simple(promptlayer::requests(c, payloads), true),
        #[cfg(feature = "integrations")]
        Target::Otlp(c) => simple(otel::requests(c, payloads), false),
        #[cfg(feature = "integrations")]
        Target::Mlflow(c) => payloads
            .iter()
            .map(|p| {
                let (request, up) = mlflow::start(c, p);
                Job {
                    logger: l.kind.name(),
                    events: 1,
                    request,
                    then: Some(FollowUp::MlflowUpload(c.clone(), up)),
                }
            })
            .collect(),
        #[cfg(feature = "integrations")]
        Target::Slack(c) => {
            let mut texts: Vec<String> = payloads.iter().map(slack::failure_text).collect();
            texts.extend(alerts.iter().map(|a| slack::budget_text(a)));
            simple(slack::requests(c, &texts), true)
        }
        Target::Webhook(c) => {
            let mut jobs = simple(
                webhook::requests(c, payloads),
                c.format == webhook::Format::Single,
            );
            let alert_json: Vec<Value> = alerts.iter().map(|a| a.to_json()).collect();
            jobs.extend(simple(webhook::alert_requests(c, &alert_json), true));
            jobs
        }
    }
}

#[cfg(all(test, feature = "integrations"))]
mod tests {
    use super::*;
    use crate::integrations::testdata;
    use serde_json::json;
    use std::collections::HashMap;

    fn env() -> HashMap<String, String> {
        [
            ("LANGFUSE_PUBLIC_KEY", "pk"),
            ("LANGFUSE_SECRET_KEY", "sk"),
            ("LUNARY_PUBLIC_KEY", "lk"),
            ("SLACK_WEBHOOK_URL", "http://slack.test/hook"),
            ("GENERIC_LOGGER_ENDPOINT", "http://hook.test/logs"),
            ("MLFLOW_TRACKING_URI", "http://mlflow.test"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn settings(v: Value) -> LoggingSettings {
        LoggingSettings::from_json(&v).unwrap()
    }

    #[test]
    fn success_and_failure_lists_select_loggers() {
        let d = Dispatcher::new(
            &settings(
                json!({"success_callback": ["langfuse", "slack"], "failure_callback": ["langfuse", "slack", "lunary"]}),
            ),
            &env(),
        );
        assert_eq!(d.logger_names(), ["langfuse", "slack", "lunary"]);
        let ok = d.plan(&[LogEvent::Success(testdata::success())]);
        let names: Vec<_> = ok.jobs.iter().map(|j| j.logger).collect();
        // Slack alerts on failures only; Lunary is a failure logger here.
        assert_eq!(names, ["langfuse"]);
        let bad = d.plan(&[LogEvent::Failure(testdata::failure())]);
        let names: Vec<_> = bad.jobs.iter().map(|j| j.logger).collect();
        assert_eq!(names, ["langfuse", "slack", "lunary"]);
    }

    #[test]
    fn callbacks_cover_both_and_batches_stay_batched() {
        let d = Dispatcher::new(
            &settings(json!({"callbacks": ["LANGFUSE", "webhook"]})),
            &env(),
        );
        let plan = d.plan(&[
            LogEvent::Success(testdata::success()),
            LogEvent::Failure(testdata::failure()),
            LogEvent::Success(testdata::stream_success()),
        ]);
        assert_eq!(plan.jobs.len(), 2);
        assert_eq!(
            plan.jobs[0].request.json_body().unwrap()["batch"]
                .as_array()
                .unwrap()
                .len(),
            6
        );
        assert_eq!(plan.jobs[0].events, 3);
        assert_eq!(
            plan.jobs[1]
                .request
                .json_body()
                .unwrap()
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn unknown_and_unconfigured_loggers_are_reported_not_raised() {
        let d = Dispatcher::new(
            &settings(json!({"success_callback": ["prometheus", "helicone", "langfuse"]})),
            &env(),
        );
        assert_eq!(d.logger_names(), ["langfuse"]);
        let plan = d.plan(&[LogEvent::Success(testdata::success())]);
        assert_eq!(plan.jobs.len(), 1);
        let skipped: Vec<_> = plan
            .skipped
            .iter()
            .map(|r| (r.logger.as_str(), r.error.clone().unwrap()))
            .collect();
        assert_eq!(skipped[0].0, "prometheus");
        assert_eq!(skipped[1].0, "helicone");
        assert!(skipped[1].1.contains("HELICONE_API_KEY"));
        assert!(d.plan(&[]).jobs.is_empty() && d.plan(&[]).skipped.is_empty());
    }

    #[test]
    fn redaction_is_global_or_per_logger() {
        let s = settings(json!({
            "success_callback": ["langfuse", "webhook"],
            "callback_settings": {"webhook": {"message_logging": false}},
        }));
        let plan = Dispatcher::new(&s, &env()).plan(&[LogEvent::Success(testdata::success())]);
        let lf = String::from_utf8(plan.jobs[0].request.body.clone().unwrap()).unwrap();
        let wh = String::from_utf8(plan.jobs[1].request.body.clone().unwrap()).unwrap();
        assert!(lf.contains("Hello!") && lf.contains("\"Hi\""));
        assert!(!wh.contains("Hello!") && !wh.contains("\"Hi\"") && wh.contains(redact::REDACTED));
        let mut s = s;
        s.turn_off_message_logging = true;
        let plan = Dispatcher::new(&s, &env()).plan(&[LogEvent::Success(testdata::success())]);
        let lf = String::from_utf8(plan.jobs[0].request.body.clone().unwrap()).unwrap();
        assert!(!lf.contains("Hello!") && lf.contains("\"total\":15"));
    }

    #[test]
    fn explicit_settings_override_the_environment() {
        let s = settings(json!({
            "success_callback": ["langfuse"],
            "callback_settings": {"langfuse": {"langfuse_host": "http://127.0.0.1:1", "langfuse_public_key": "pk2", "langfuse_secret_key": "sk2"}},
        }));
        let plan = Dispatcher::new(&s, &env()).plan(&[LogEvent::Success(testdata::success())]);
        assert_eq!(
            plan.jobs[0].request.url,
            "http://127.0.0.1:1/api/public/ingestion"
        );
    }

    #[test]
    fn mlflow_jobs_carry_their_upload_and_budget_alerts_reach_slack_and_webhook() {
        let d = Dispatcher::new(
            &settings(json!({"callbacks": ["mlflow", "slack", "webhook"]})),
            &env(),
        );
        let alert = crate::integrations::BudgetAlert {
            event: "budget_crossed".into(),
            event_group: "team".into(),
            event_message: "Budget Crossed for team".into(),
            spend: 3.0,
            max_budget: Some(2.0),
            ..Default::default()
        };
        let plan = d.plan(&[
            LogEvent::Success(testdata::success()),
            LogEvent::Budget(Box::new(alert)),
        ]);
        let names: Vec<_> = plan.jobs.iter().map(|j| j.logger).collect();
        assert_eq!(names, ["mlflow", "slack", "webhook", "webhook"]);
        assert!(matches!(
            plan.jobs[0].then,
            Some(FollowUp::MlflowUpload(..))
        ));
        assert!(plan.jobs[1].request.json_body().unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("budget_alerts"));
        assert_eq!(
            plan.jobs[3].request.json_body().unwrap()["event"],
            "budget_crossed"
        );
    }

    #[test]
    fn refused_calls_reach_failure_loggers_but_not_slack() {
        let d = Dispatcher::new(
            &settings(json!({"failure_callback": ["slack", "webhook"]})),
            &env(),
        );
        let plan = d.plan(&[LogEvent::Refused(testdata::failure())]);
        let names: Vec<_> = plan.jobs.iter().map(|j| j.logger).collect();
        assert_eq!(names, ["webhook"]);
        assert_eq!(
            plan.jobs[0].request.json_body().unwrap()[0]["status"],
            "failure"
        );
        // An LLM API failure still alerts Slack.
        let plan = d.plan(&[LogEvent::Failure(testdata::failure())]);
        let names: Vec<_> = plan.jobs.iter().map(|j| j.logger).collect();
        assert_eq!(names, ["slack", "webhook"]);
    }

    #[test]
    fn settings_parse_like_litellm() {
        let s = settings(
            json!({"success_callback": "langfuse", "turn_off_message_logging": "True", "logging_max_retries": 99}),
        );
        assert_eq!(s.success_callback, ["langfuse"]);
        assert!(s.turn_off_message_logging);
        assert_eq!(s.max_retries, 10);
        assert!(LoggingSettings::from_json(&json!({"callbacks": 3})).is_err());
        assert!(LoggingSettings::default().is_empty());
    }
}

#[cfg(all(test, not(feature = "integrations")))]
mod without_integrations {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn service_loggers_are_skipped_saying_how_to_get_them_and_webhook_runs() {
        let s = LoggingSettings::from_json(
            &serde_json::json!({"success_callback": ["langfuse", "webhook", "prometheus"]}),
        )
        .unwrap();
        let env: HashMap<String, String> = [(
            "GENERIC_LOGGER_ENDPOINT".to_string(),
            "http://hook.test/logs".to_string(),
        )]
        .into();
        let d = Dispatcher::new(&s, &env);
        assert_eq!(d.logger_names(), ["webhook"]);
        let plan = d.plan(&[LogEvent::Success(serde_json::json!({"id": "c1"}))]);
        assert_eq!(plan.jobs.len(), 1);
        assert_eq!(plan.jobs[0].request.url, "http://hook.test/logs");
        assert_eq!(plan.skipped[0].logger, "langfuse");
        assert_eq!(plan.skipped[0].error.as_deref(), Some(UNAVAILABLE));
        assert_eq!(plan.skipped[1].logger, "prometheus");
    }
}
