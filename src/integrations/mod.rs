//! Logging integrations: the observability services LiteLLM's `success_callback` /
//! `failure_callback` / `callbacks` name — `langfuse`, `lunary`, `mlflow`, `helicone`,
//! `promptlayer`, `traceloop` / `otel` (OTLP/HTTP JSON), `slack` (failures and budget alerts)
//! and a generic `webhook` — as pure transforms from LiteLLM's standard logging payload
//! ([`crate::logging::payload`]) to the HTTP requests each service's public ingestion API
//! expects.
//!
//! Pieces, in the order a call goes through them:
//! - [`LoggingSettings`] names the loggers (LiteLLM's keys, plus `callback_settings` and
//!   `turn_off_message_logging`); [`Dispatcher::new`] resolves their credentials from explicit
//!   settings, else LiteLLM's environment variables (through [`crate::Env`]);
//! - a call produces a [`LogEvent`] (streams: once, at their end, via [`sink::LoggedStream`]);
//! - [`Dispatcher::plan`] turns a batch of events into requests, redacting per logger
//!   ([`redact`]) and batching where the API allows (Langfuse, Lunary, OTLP, webhook);
//! - [`send::flush`] sends them through a [`crate::Host`] after the response, with bounded
//!   retries and a per-logger time budget, and returns a [`FlushReport`]; it never fails.
//!
//! ```
//! use edgellm::integrations::{Dispatcher, LoggingSettings, LogEvent};
//! use std::collections::HashMap;
//! let env: HashMap<String, String> = [("LANGFUSE_PUBLIC_KEY", "pk"), ("LANGFUSE_SECRET_KEY", "sk")]
//!     .into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
//! let settings = LoggingSettings { success_callback: vec!["langfuse".into()], ..Default::default() };
//! let d = Dispatcher::new(&settings, &env);
//! let payload = serde_json::json!({"id": "c1", "status": "success", "model": "gpt-4o", "startTime": 1.0, "endTime": 2.0});
//! let plan = d.plan(&[LogEvent::Success(payload)]);
//! assert_eq!(plan.jobs[0].request.url, "https://cloud.langfuse.com/api/public/ingestion");
//! ```

// The service-specific loggers and the gateway's request logging are behind the `integrations`
// feature (default on; the npm build leaves it out and keeps the generic webhook, see
// `dispatch::UNAVAILABLE`).
#[cfg(feature = "integrations")]
pub mod capture;
pub mod dispatch;
pub mod event;
#[cfg(feature = "integrations")]
pub mod gateway;
#[cfg(feature = "integrations")]
pub mod helicone;
pub(crate) mod join;
#[cfg(feature = "integrations")]
pub mod langfuse;
#[cfg(feature = "integrations")]
pub mod lunary;
#[cfg(feature = "integrations")]
pub mod mlflow;
#[cfg(feature = "integrations")]
pub mod otel;
#[cfg(feature = "integrations")]
pub mod promptlayer;
pub mod redact;
pub mod send;
pub mod sink;
#[cfg(feature = "integrations")]
pub mod slack;
pub mod webhook;

#[cfg(test)]
#[cfg_attr(not(feature = "integrations"), allow(dead_code))]
mod testdata;
// Without the service loggers, only the webhook's helpers are used.
#[cfg_attr(not(feature = "integrations"), allow(dead_code))]
mod util;

pub use dispatch::{Dispatcher, Job, LoggerKind, LoggingSettings, Plan, UNAVAILABLE};
pub use event::{BudgetAlert, LogEvent};
pub use send::{flush, FlushReport, LoggerResult, SendOptions};
pub use sink::{LogSink, LoggedStream, Pending};

impl Dispatcher {
    /// The retry and time limits configured for this dispatcher.
    pub fn send_options(&self) -> SendOptions {
        SendOptions {
            timeout_ms: self.timeout_ms,
            max_retries: self.max_retries,
        }
    }
}
