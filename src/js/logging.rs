//! String callbacks for the JS API (`success_callback: ["langfuse"]`, LiteLLM's names) and the
//! logging exports: `setLoggingSettings`, `flushLogging`.
//!
//! A finished call only queues its payload (built synchronously, a few µs); a task started with
//! `spawn_local` sends the queue after the flush interval (50 ms by default), so calls that end
//! together share a batch and the caller never waits for a logger. `flushLogging()` resolves
//! when everything queued so far was delivered or given up on, with the delivery reports: await
//! it before a short-lived process exits, and pass it to `ctx.waitUntil` in a Worker.

use std::cell::RefCell;

use js_sys::{Array, Function};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::cost::{from_json, to_json};
use super::env::JsEnv;
use super::error::to_js;
use crate::host::Host;
use crate::integrations::{flush, Dispatcher, FlushReport, LogEvent, LoggingSettings};
use crate::logging::{self, CallRecord, Outcome};
use crate::wasm::FetchHost;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(text: &str);
}

/// The logger names of one call, from its `success_callback` / `failure_callback` (strings
/// among the functions) plus the module-wide ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Names {
    success: Vec<String>,
    failure: Vec<String>,
}

/// The strings in a callback value (a name, or a list mixing names and functions).
fn strings(v: &JsValue) -> Vec<String> {
    if let Some(s) = v.as_string() {
        return vec![s];
    }
    if Array::is_array(v) {
        return Array::from(v)
            .iter()
            .filter_map(|x| x.as_string())
            .collect();
    }
    Vec::new()
}

impl Names {
    /// No names (a constant, for thread-local initializers).
    pub(crate) const NONE: Self = Self {
        success: Vec::new(),
        failure: Vec::new(),
    };

    /// The names in a `success_callback` and a `failure_callback` value.
    pub(crate) fn from_values(success: &JsValue, failure: &JsValue) -> Self {
        Self {
            success: strings(success),
            failure: strings(failure),
        }
    }

    /// Adds `other`'s names that are not here yet.
    pub(crate) fn extend(&mut self, other: &Names) {
        for (mine, theirs) in [
            (&mut self.success, &other.success),
            (&mut self.failure, &other.failure),
        ] {
            for n in theirs {
                if !mine.iter().any(|m| m.eq_ignore_ascii_case(n)) {
                    mine.push(n.clone());
                }
            }
        }
    }

    /// Whether no logger is named.
    pub(crate) fn is_empty(&self) -> bool {
        self.success.is_empty() && self.failure.is_empty()
    }

    /// Whether a logger is named for failures.
    pub(crate) fn has_failure(&self) -> bool {
        !self.failure.is_empty()
    }

    /// Queues the call for the named loggers. `end_ms` is when the call ended (for streams:
    /// the end of the stream, later than `rec.meta.end_ms`, the first chunk).
    pub(crate) fn log(&self, rec: &CallRecord<'_>, outcome: &Outcome<'_>, end_ms: u64) {
        let wanted = match outcome {
            Outcome::Success { .. } => &self.success,
            Outcome::Failure(_) => &self.failure,
        };
        if wanted.is_empty() {
            return;
        }
        let mut meta = rec.meta.clone();
        meta.end_ms = meta.end_ms.max(end_ms);
        let rec = CallRecord {
            meta: &meta,
            completion_start_ms: rec
                .completion_start_ms
                .or((rec.stream && end_ms > rec.meta.end_ms).then_some(rec.meta.end_ms)),
            ..rec.clone()
        };
        let event = LogEvent::from_payload(logging::payload(&rec, outcome));
        QUEUE.with(|q| q.borrow_mut().push((self.clone(), event)));
        schedule();
    }
}

/// What `setLoggingSettings` set: everything but the names.
#[derive(Default)]
struct Flushes {
    /// A send task is scheduled and has not taken the queue yet.
    scheduled: bool,
    /// Send tasks not finished.
    running: usize,
    /// `flushLogging()` promises to resolve when idle.
    waiters: Vec<Function>,
    /// Reports since the last `flushLogging()` resolved.
    reports: Vec<Value>,
}

thread_local! {
    static SETTINGS: RefCell<LoggingSettings> = RefCell::new(LoggingSettings::default());
    static QUEUE: RefCell<Vec<(Names, LogEvent)>> = const { RefCell::new(Vec::new()) };
    static FLUSHES: RefCell<Flushes> = const {
        RefCell::new(Flushes {
            scheduled: false,
            running: 0,
            waiters: Vec::new(),
            reports: Vec::new(),
        })
    };
}

/// A copy of the module-wide settings. One reader for every use: each closure passed to
/// `LocalKey::with` is a copy of it in the wasm.
fn settings() -> LoggingSettings {
    SETTINGS.with(|s| s.borrow().clone())
}

/// Keeps the reports of this many deliveries for the next `flushLogging()`.
const MAX_KEPT_REPORTS: usize = 1000;

fn schedule() {
    let start = FLUSHES.with(|f| {
        let mut f = f.borrow_mut();
        if f.scheduled {
            return false;
        }
        f.scheduled = true;
        f.running += 1;
        true
    });
    if start {
        wasm_bindgen_futures::spawn_local(send_queue());
    }
}

/// Groups queued events by their logger names (one dispatcher per distinct set).
fn take_groups() -> Vec<(Names, Vec<LogEvent>)> {
    let queued = QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()));
    let mut groups: Vec<(Names, Vec<LogEvent>)> = Vec::new();
    for (names, event) in queued {
        match groups.iter_mut().find(|(n, _)| *n == names) {
            Some((_, events)) => events.push(event),
            None => groups.push((names, vec![event])),
        }
    }
    groups
}

async fn send_group(names: Names, events: Vec<LogEvent>) -> FlushReport {
    let mut settings = settings();
    settings.success_callback = names.success;
    settings.failure_callback = names.failure;
    let dispatcher = Dispatcher::new(&settings, &JsEnv);
    let plan = dispatcher.plan(&events);
    flush(&FetchHost, plan, dispatcher.send_options()).await
}

async fn send_queue() {
    // Calls that end within the flush interval share one batch.
    let wait = settings().flush_interval_ms;
    FetchHost.sleep(wait).await;
    FLUSHES.with(|f| f.borrow_mut().scheduled = false);
    let groups = take_groups();
    let reports =
        crate::integrations::join::join_all(groups.into_iter().map(|(n, e)| send_group(n, e)))
            .await;
    let waiters = FLUSHES.with(|f| {
        let mut f = f.borrow_mut();
        for report in &reports {
            for r in report.failures() {
                console_warn(&format!(
                    "edgellm: logging to {} failed ({} event(s)): {}",
                    r.logger,
                    r.events,
                    r.error.as_deref().unwrap_or("unknown error")
                ));
            }
            for r in &report.results {
                if f.reports.len() < MAX_KEPT_REPORTS {
                    f.reports.push(r.to_json());
                }
            }
        }
        f.running -= 1;
        let idle = f.running == 0 && !f.scheduled && QUEUE.with(|q| q.borrow().is_empty());
        if idle {
            std::mem::take(&mut f.waiters)
        } else {
            Vec::new()
        }
    });
    if !waiters.is_empty() {
        resolve(waiters);
    }
}

fn resolve(waiters: Vec<Function>) {
    let reports = FLUSHES.with(|f| std::mem::take(&mut f.borrow_mut().reports));
    let value = from_json(&Value::Array(reports)).unwrap_or(JsValue::NULL);
    for w in waiters {
        // A resolve function does not throw.
        let _ = w.call1(&JsValue::UNDEFINED, &value);
    }
}

/// Resolves when every call logged so far has been delivered to its loggers (or they failed
/// or timed out), to the delivery reports since the last `flushLogging()`:
/// `[{ logger, ok, events, requests, status, error, elapsed_ms }]`. Never rejects. In a
/// Worker, `ctx.waitUntil(flushLogging())` keeps the isolate alive for the deliveries.
pub(crate) fn flush_logging() -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve_fn, _reject| {
        let idle = FLUSHES.with(|f| {
            let mut f = f.borrow_mut();
            let idle = f.running == 0 && QUEUE.with(|q| q.borrow().is_empty());
            if !idle {
                f.waiters.push(resolve_fn.clone());
            }
            idle
        });
        if idle {
            resolve(vec![resolve_fn]);
        }
    })
}

/// Module-wide logging settings (LiteLLM's module globals and proxy `callback_settings`):
/// `setLoggingSettings({ turn_off_message_logging, callback_settings: { langfuse: {
/// langfuse_public_key, langfuse_secret_key, langfuse_host, message_logging }, … },
/// logging_timeout, logging_max_retries, logging_flush_interval })`, where `logging_timeout`
/// is the seconds each logger gets per flush (default 10), `logging_max_retries` the retries
/// of a transient failure (default 2) and `logging_flush_interval` how long finished calls are
/// collected into one batch before sending (seconds, default 0.05). Replaces what was set before. Logger names go in `success_callback` /
/// `failure_callback` (per call, or module-wide with `setCallbacks`).
pub(crate) fn set_logging_settings(settings: JsValue) -> Result<(), JsValue> {
    let v = if settings.is_null() || settings.is_undefined() {
        Value::Object(Default::default())
    } else {
        to_json(&settings, "logging settings")?
    };
    let mut s = LoggingSettings::default();
    s.merge(&v).map_err(to_js)?;
    SETTINGS.with(|cur| *cur.borrow_mut() = s);
    Ok(())
}

/// The names of the logging integrations string callbacks accept.
pub(crate) fn logging_integrations() -> JsValue {
    let names: js_sys::Array = [
        "langfuse",
        "lunary",
        "mlflow",
        "helicone",
        "promptlayer",
        "traceloop",
        "otel",
        "slack",
        "webhook",
    ]
    .into_iter()
    .map(JsValue::from_str)
    .collect();
    names.into()
}
