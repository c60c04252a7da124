//! The gateway's logging, as LiteLLM's proxy configures it:
//!
//! ```yaml
//! litellm_settings:
//!   success_callback: ["langfuse"]
//!   failure_callback: ["langfuse", "slack"]
//!   callbacks: ["otel"]
//!   turn_off_message_logging: false
//! callback_settings:
//!   otel: {message_logging: false}
//! general_settings:
//!   alerting: ["slack"]     # failures (and budget alerts) to SLACK_WEBHOOK_URL
//! ```
//!
//! Credentials come from the environment (Worker secrets: `LANGFUSE_PUBLIC_KEY`, …) or from
//! `callback_settings` (`os.environ/NAME` references resolve there too).
//!
//! Per request, a [`RequestLog`] collects what the handlers record (a [`ChatCall`] per chat
//! call: success, failure, or a stream logged at its end); after the response the edge hands
//! [`RequestLog::deliver`] to `ctx.waitUntil`.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::capture::{Caller, ChatCapture};
use super::dispatch::{Dispatcher, LoggingSettings};
use super::event::{BudgetAlert, LogEvent};
use super::send::{flush, FlushReport};
use super::sink::{LogSink, LoggedStream};
use crate::config::ProxyConfig;
use crate::engine::CallMeta;
use crate::host::Host;
use crate::options::CallOptions;
use crate::router::{RouteInfo, RoutedCompletion, RoutedStream, RouterStream};
use crate::Result;

/// The logging settings of a LiteLLM proxy config.
pub fn settings(cfg: &ProxyConfig) -> LoggingSettings {
    let ls = &cfg.litellm_settings;
    let mut s = LoggingSettings {
        success_callback: ls.success_callback.clone(),
        failure_callback: ls.failure_callback.clone(),
        callbacks: ls.callbacks.clone(),
        turn_off_message_logging: ls.turn_off_message_logging.unwrap_or(false),
        callback_settings: cfg
            .callback_settings
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        ..LoggingSettings::default()
    };
    if cfg
        .general_settings
        .alerting
        .iter()
        .any(|a| a.eq_ignore_ascii_case("slack"))
    {
        s.failure_callback.push("slack".into());
    }
    s
}

/// The logging side of one gateway request. Cloning shares the same collection.
#[derive(Clone)]
pub struct RequestLog {
    sink: LogSink,
    caller: Caller,
    call_id: String,
    clock: Rc<dyn Fn() -> u64>,
    on: bool,
}

impl std::fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLog")
            .field("call_id", &self.call_id)
            .field("on", &self.on)
            .field("sink", &self.sink)
            .finish()
    }
}

impl RequestLog {
    /// Logging for the request `call_id` (the gateway's request id, LiteLLM's
    /// `litellm_call_id`). `clock` gives ms since the epoch (stream ends happen after the
    /// handler returned, so it cannot borrow the host).
    pub fn new(call_id: &str, caller: Caller, clock: Rc<dyn Fn() -> u64>) -> Self {
        Self {
            sink: LogSink::new(),
            caller,
            call_id: call_id.to_string(),
            clock,
            on: true,
        }
    }

    /// No logging: every recording is a no-op.
    pub fn off() -> Self {
        Self {
            on: false,
            ..Self::new("", Caller::default(), Rc::new(|| 0))
        }
    }

    /// The same log (same events) for a caller known only later, e.g. a virtual key's
    /// alias, user and team once the key was looked up.
    pub fn with_caller(&self, caller: Caller) -> Self {
        Self {
            caller,
            ..self.clone()
        }
    }

    /// The caller this log names (the base for [`RequestLog::with_caller`]).
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Whether anything is recorded.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// What was recorded (and what is still to come).
    pub fn sink(&self) -> &LogSink {
        &self.sink
    }

    /// Records a budget alert (LiteLLM's `budget_alerts`: Slack and webhook loggers).
    pub fn alert(&self, alert: BudgetAlert) {
        if self.on {
            self.sink.push(LogEvent::Budget(Box::new(alert)));
        }
    }

    /// Starts recording a chat call whose body is `body`.
    pub fn chat(&self, body: &Map<String, Value>) -> ChatCall {
        let capture = self.on.then(|| {
            ChatCapture::new(
                &self.call_id,
                &Value::Object(body.clone()),
                &self.caller,
                (self.clock)(),
            )
        });
        ChatCall {
            capture,
            log: self.clone(),
        }
    }

    /// Waits for the request's events (streams end after the response started) and sends
    /// them. Never fails; the report lists what could not be delivered.
    pub async fn deliver<H: Host>(self, host: &H, dispatcher: &Dispatcher) -> FlushReport {
        if !self.on {
            return FlushReport::default();
        }
        let events = self.sink.settled().await;
        flush(host, dispatcher.plan(&events), dispatcher.send_options()).await
    }
}

/// One chat call being recorded.
#[derive(Debug)]
pub struct ChatCall {
    capture: Option<ChatCapture>,
    log: RequestLog,
}

impl ChatCall {
    /// Records a finished call (or its error) and passes the result through.
    pub fn completion(&self, r: Result<RoutedCompletion>) -> Result<RoutedCompletion> {
        if let Some(c) = &self.capture {
            let now = (self.log.clock)();
            self.log.sink.push(match &r {
                Ok(done) => c.success(done, now),
                Err(e) => c.failure(e, now),
            });
        }
        r
    }

    /// Records that the gateway refused the call before calling any provider (a virtual key's
    /// budget, rate limit or model access): a [`LogEvent::Refused`] failure payload.
    pub fn refused(&self, e: &crate::Error) {
        if let Some(c) = &self.capture {
            if let Some(p) = c.failure(e, (self.log.clock)()).payload() {
                self.log.sink.push(LogEvent::Refused(p.clone()));
            }
        }
    }

    /// Records an error that happened before a stream started, and passes the result through.
    pub fn started(&self, r: Result<RoutedStream>) -> Result<RoutedStream> {
        if let (Some(c), Err(e)) = (&self.capture, &r) {
            self.log.sink.push(c.failure(e, (self.log.clock)()));
        }
        r
    }

    /// Wraps the chunks of a started stream (possibly with end hooks already, e.g. spend
    /// tracking) so that the call is logged once at the stream's end; `meta`, `route` and
    /// `options` are the [`RoutedStream`]'s. Usage and cost come from the stream's final
    /// usage, which the chunks the client sees lack unless it asked for
    /// `stream_options.include_usage`.
    pub fn stream(
        self,
        chunks: RouterStream,
        meta: &CallMeta,
        route: &RouteInfo,
        options: &CallOptions,
    ) -> LoggedStream<RouterStream> {
        match self.capture {
            Some(c) => {
                let usage = Rc::new(RefCell::new(None));
                let seen = usage.clone();
                let chunks = chunks.on_end(move |end| {
                    if let Ok(u) = end {
                        *seen.borrow_mut() = u;
                    }
                });
                c.stream(
                    chunks,
                    meta.clone(),
                    route.clone(),
                    options.clone(),
                    self.log.sink.hold(),
                    self.log.clock.clone(),
                    usage,
                )
            }
            None => LoggedStream::passthrough(chunks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MockHost, Reply};
    use futures_executor::block_on;
    use serde_json::json;
    use std::collections::HashMap;

    fn config(v: Value) -> ProxyConfig {
        let env: HashMap<String, String> =
            [("LF_SECRET".to_string(), "sk-from-secret".to_string())].into();
        ProxyConfig::from_value(v, &env).unwrap()
    }

    #[test]
    fn config_keys_map_to_logging_settings() {
        let cfg = config(json!({
            "model_list": [{"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-x"}}],
            "litellm_settings": {"success_callback": ["langfuse"], "failure_callback": ["langfuse"], "callbacks": ["otel"], "turn_off_message_logging": true},
            "callback_settings": {"Langfuse": {"langfuse_secret_key": "os.environ/LF_SECRET", "message_logging": false}},
            "general_settings": {"alerting": ["slack"]},
        }));
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        let s = settings(&cfg);
        assert_eq!(s.success_callback, ["langfuse"]);
        assert_eq!(s.failure_callback, ["langfuse", "slack"]);
        assert_eq!(s.callbacks, ["otel"]);
        assert!(s.turn_off_message_logging);
        assert_eq!(
            s.callback_settings["langfuse"]["langfuse_secret_key"],
            "sk-from-secret"
        );
    }

    #[test]
    fn a_request_log_records_calls_and_delivers_after() {
        let log = RequestLog::new(
            "req-9",
            Caller {
                key: Some("sk-master".into()),
                ..Default::default()
            },
            Rc::new(|| 1_700_000_000_000),
        );
        let body = json!({"model": "gpt", "messages": [{"role": "user", "content": "Hi"}]});
        let call = log.chat(body.as_object().unwrap());
        let err = crate::Error::new(crate::ErrorKind::RateLimited, "slow down");
        assert!(call.completion(Err(err)).is_err());
        let env: HashMap<String, String> = [(
            "GENERIC_LOGGER_ENDPOINT".to_string(),
            "http://hook.test/logs".to_string(),
        )]
        .into();
        let d = Dispatcher::new(
            &LoggingSettings {
                callbacks: vec!["webhook".into()],
                ..Default::default()
            },
            &env,
        );
        let host = MockHost::new().reply(Reply::json(200, &json!({})));
        let report = block_on(log.clone().deliver(&host, &d));
        assert!(report.ok(), "{report:?}");
        let sent = host.requests.borrow()[0].json_body().unwrap();
        assert_eq!(sent[0]["id"], "req-9");
        assert_eq!(sent[0]["status"], "failure");
        assert_eq!(
            sent[0]["metadata"]["user_api_key_hash"],
            crate::integrations::capture::hash_key("sk-master")
        );
    }

    #[test]
    fn with_caller_shares_the_events() {
        let log = RequestLog::new("r", Caller::default(), Rc::new(|| 5));
        let keyed = log.with_caller(Caller {
            team_alias: Some("core".into()),
            ..Default::default()
        });
        let body = json!({"model": "gpt", "messages": []});
        let _ = keyed
            .chat(body.as_object().unwrap())
            .completion(Err(crate::Error::bad_request("x")));
        let events = block_on(log.sink().settled());
        assert_eq!(
            events[0].payload().unwrap()["metadata"]["user_api_key_team_alias"],
            "core"
        );
    }

    #[test]
    fn refusals_are_failure_payloads_of_their_own_kind() {
        let log = RequestLog::new(
            "r",
            Caller {
                key: Some("sk-virtual".into()),
                ..Default::default()
            },
            Rc::new(|| 7),
        );
        assert_eq!(log.caller().key.as_deref(), Some("sk-virtual"));
        let body = json!({"model": "gpt", "messages": [{"role": "user", "content": "Hi"}]});
        log.chat(body.as_object().unwrap()).refused(
            &crate::Error::new(
                crate::ErrorKind::BudgetExceeded,
                "Budget has been exceeded!",
            )
            .with_status(400),
        );
        let events = block_on(log.sink().settled());
        let LogEvent::Refused(p) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(p["status"], "failure");
        assert_eq!(p["error_information"]["status_code"], 400);
        assert_eq!(p["error_information"]["error_class"], "BudgetExceededError");
        assert_eq!(
            p["metadata"]["user_api_key_hash"],
            crate::integrations::capture::hash_key("sk-virtual")
        );
        // Off: nothing.
        let off = RequestLog::off();
        off.chat(body.as_object().unwrap())
            .refused(&crate::Error::bad_request("x"));
        assert!(off.sink().is_idle());
    }

    #[test]
    fn budget_alerts_reach_slack() {
        let log = RequestLog::new("r", Caller::default(), Rc::new(|| 5));
        log.alert(BudgetAlert {
            event: "budget_crossed".into(),
            event_group: "key".into(),
            event_message: "Budget Crossed for key".into(),
            spend: 2.0,
            max_budget: Some(1.0),
            ..Default::default()
        });
        let env: HashMap<String, String> = [(
            "SLACK_WEBHOOK_URL".to_string(),
            "http://slack.test/h".to_string(),
        )]
        .into();
        let d = Dispatcher::new(
            &LoggingSettings {
                failure_callback: vec!["slack".into()],
                ..Default::default()
            },
            &env,
        );
        let host = MockHost::new().reply(Reply::json(200, &json!({})));
        assert!(block_on(log.deliver(&host, &d)).ok());
        let text = host.requests.borrow()[0].json_body().unwrap()["text"].clone();
        assert!(text.as_str().unwrap().contains("Budget Crossed for key"));
    }

    #[test]
    fn an_off_log_records_nothing() {
        let log = RequestLog::off();
        let body = json!({"model": "gpt", "messages": []});
        let call = log.chat(body.as_object().unwrap());
        let _ = call.completion(Err(crate::Error::bad_request("x")));
        assert!(log.sink().is_idle());
        let d = Dispatcher::default();
        assert!(block_on(log.deliver(&MockHost::new(), &d))
            .results
            .is_empty());
    }
}
