//! Sending a [`Plan`]: all loggers at once, each within its own time budget, transient failures
//! retried a bounded number of times with backoff. [`flush`] never fails: a logger that errors,
//! refuses or hangs becomes a failed [`LoggerResult`] in the [`FlushReport`].

use futures_util::future::{self, Either};
use serde_json::Value;

use super::dispatch::{Job, Plan};
use crate::host::Host;
use crate::http::{self, HttpRequest};
use crate::provider::build::{obj, s};
use crate::ErrorKind;

/// First retry delay; doubles per retry.
const BACKOFF_MS: u64 = 250;
/// Longest `Retry-After` honoured inside a flush.
const MAX_RETRY_AFTER_MS: u64 = 5_000;
/// How much of an error body a report quotes.
const MAX_ERROR_BODY: usize = 300;

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggerResult {
    /// Logger name.
    pub logger: String,
    /// Delivered.
    pub ok: bool,
    /// Events it carried.
    pub events: usize,
    /// HTTP requests sent (retries and follow-ups included).
    pub requests: u32,
    /// The last HTTP status received.
    pub status: Option<u16>,
    /// Why it failed.
    pub error: Option<String>,
    /// Time spent, ms (host clock).
    pub elapsed_ms: u64,
}

impl LoggerResult {
    /// A logger that could not run at all.
    pub fn skipped(logger: &str, why: &str) -> Self {
        Self {
            logger: logger.to_string(),
            ok: false,
            events: 0,
            requests: 0,
            status: None,
            error: Some(why.to_string()),
            elapsed_ms: 0,
        }
    }

    /// As JSON (what the JS API and the gateway's logs show).
    pub fn to_json(&self) -> Value {
        obj([
            ("logger", s(&self.logger)),
            ("ok", Value::from(self.ok)),
            ("events", Value::from(self.events)),
            ("requests", Value::from(self.requests)),
            ("status", Value::from(self.status)),
            ("error", Value::from(self.error.clone())),
            ("elapsed_ms", Value::from(self.elapsed_ms)),
        ])
    }
}

/// The outcome of a flush: one result per delivery and per skipped logger.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlushReport {
    /// Results, deliveries first.
    pub results: Vec<LoggerResult>,
}

impl FlushReport {
    /// Whether every delivery succeeded and no logger was skipped.
    pub fn ok(&self) -> bool {
        self.results.iter().all(|r| r.ok)
    }

    /// The failed results.
    pub fn failures(&self) -> impl Iterator<Item = &LoggerResult> {
        self.results.iter().filter(|r| !r.ok)
    }

    /// As a JSON array.
    pub fn to_json(&self) -> Value {
        Value::Array(self.results.iter().map(LoggerResult::to_json).collect())
    }
}

/// Retry and time limits for one flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// Per-logger budget (all requests and retries of one delivery), ms.
    pub timeout_ms: u64,
    /// Retries of transient failures.
    pub max_retries: u32,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            max_retries: 2,
        }
    }
}

/// Whether a status is worth retrying.
fn transient_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || status >= 500
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t: String = text.chars().take(MAX_ERROR_BODY).collect();
    t.trim().to_string()
}

/// Sends one request with retries until `deadline_ms`. Ok: the response body.
async fn deliver<H: Host>(
    host: &H,
    req: &HttpRequest,
    opts: SendOptions,
    deadline_ms: u64,
    r: &mut LoggerResult,
) -> Result<Vec<u8>, String> {
    let mut attempt = 0u32;
    loop {
        let left = deadline_ms.saturating_sub(host.now_ms());
        if left == 0 {
            return Err(format!("no time left after {} request(s)", r.requests));
        }
        r.requests += 1;
        let (retry_after, err) = match host.send(req.clone(), Some(left)).await {
            Ok(resp) => {
                r.status = Some(resp.status);
                let status = resp.status;
                let retry_after = http::retry_after_ms(resp.headers());
                let body = resp.bytes().await.unwrap_or_default();
                if (200..300).contains(&status) {
                    return Ok(body);
                }
                let err = format!("HTTP {status}: {}", snippet(&body));
                if !transient_status(status) {
                    return Err(err);
                }
                (retry_after, err)
            }
            Err(e) => {
                let err = e.to_string();
                if !matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout) {
                    return Err(err);
                }
                (None, err)
            }
        };
        if attempt >= opts.max_retries {
            return Err(err);
        }
        let wait = retry_after
            .map(|ms| ms.min(MAX_RETRY_AFTER_MS))
            .unwrap_or(BACKOFF_MS << attempt.min(16));
        if host.now_ms() + wait >= deadline_ms {
            return Err(err);
        }
        host.sleep(wait).await;
        attempt += 1;
    }
}

async fn run_job<H: Host>(host: &H, job: Job, opts: SendOptions) -> LoggerResult {
    let start = host.now_ms();
    let deadline = start + opts.timeout_ms;
    let mut r = LoggerResult {
        logger: job.logger.to_string(),
        ok: false,
        events: job.events,
        requests: 0,
        status: None,
        error: None,
        elapsed_ms: 0,
    };
    let mut outcome = deliver(host, &job.request, opts, deadline, &mut r).await;
    if let (Ok(body), Some(then)) = (&outcome, &job.then) {
        outcome = match then.request(body) {
            Ok(next) => deliver(host, &next, opts, deadline, &mut r).await,
            Err(e) => Err(e),
        };
    }
    r.ok = outcome.is_ok();
    r.error = outcome.err();
    r.elapsed_ms = host.now_ms().saturating_sub(start);
    r
}

/// Sends every job of `plan` concurrently. Each logger gets `opts.timeout_ms` in all; one
/// that has not finished by then is reported as timed out and abandoned (its request is
/// dropped, which aborts it). Returns when every logger finished or timed out.
pub async fn flush<H: Host>(host: &H, plan: Plan, opts: SendOptions) -> FlushReport {
    let Plan { jobs, skipped } = plan;
    let runs = jobs.into_iter().map(|job| {
        let (logger, events) = (job.logger, job.events);
        let start = host.now_ms();
        async move {
            let work = Box::pin(run_job(host, job, opts));
            // The host's own timeout bounds each request; this bounds the whole delivery,
            // including a body that trickles in forever.
            let limit = Box::pin(host.sleep(opts.timeout_ms.saturating_add(50)));
            match future::select(work, limit).await {
                Either::Left((r, _)) => r,
                Either::Right(((), _)) => LoggerResult {
                    logger: logger.to_string(),
                    ok: false,
                    events,
                    requests: 1,
                    status: None,
                    error: Some(format!("timed out after {} ms", opts.timeout_ms)),
                    elapsed_ms: host.now_ms().saturating_sub(start),
                },
            }
        }
    });
    let mut results = super::join::join_all(runs).await;
    results.extend(skipped);
    FlushReport { results }
}

#[cfg(all(test, feature = "integrations"))]
mod tests {
    use super::*;
    use crate::http::HttpResponse;
    use crate::integrations::dispatch::{Dispatcher, LoggingSettings};
    use crate::integrations::{testdata, LogEvent};
    use crate::testing::{MockHost, Reply};
    use crate::Result;
    use futures_executor::block_on;
    use std::collections::HashMap;

    fn plan(names: &[&str]) -> Plan {
        let env: HashMap<String, String> = [
            ("LANGFUSE_PUBLIC_KEY", "pk"),
            ("LANGFUSE_SECRET_KEY", "sk"),
            ("MLFLOW_TRACKING_URI", "http://mlflow.test"),
            ("GENERIC_LOGGER_ENDPOINT", "http://hook.test"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = LoggingSettings {
            success_callback: names.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        Dispatcher::new(&s, &env).plan(&[LogEvent::Success(testdata::success())])
    }

    #[test]
    fn success_is_one_request() {
        let host = MockHost::new().reply(Reply::json(207, &serde_json::json!({"successes": []})));
        let report = block_on(flush(&host, plan(&["langfuse"]), SendOptions::default()));
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.results[0].requests, 1);
        assert_eq!(report.results[0].status, Some(207));
        assert_eq!(host.requests.borrow().len(), 1);
    }

    #[test]
    fn transient_failures_are_retried_a_bounded_number_of_times() {
        let host = MockHost::new()
            .reply(Reply::json(503, &serde_json::json!({})))
            .reply(Reply::connection_error())
            .reply(Reply::json(200, &serde_json::json!({})));
        let report = block_on(flush(&host, plan(&["langfuse"]), SendOptions::default()));
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.results[0].requests, 3);
        assert_eq!(*host.sleeps.borrow(), vec![250, 500]);

        let host = MockHost::new();
        for _ in 0..10 {
            host.push(Reply::json(500, &serde_json::json!({"error": "down"})));
        }
        let opts = SendOptions {
            timeout_ms: 60_000,
            max_retries: 2,
        };
        let report = block_on(flush(&host, plan(&["langfuse"]), opts));
        let r = &report.results[0];
        assert!(!r.ok);
        assert_eq!(r.requests, 3);
        assert!(r.error.as_deref().unwrap().starts_with("HTTP 500"), "{r:?}");
    }

    #[test]
    fn client_errors_are_not_retried_and_retry_after_is_honoured() {
        let host =
            MockHost::new().reply(Reply::json(401, &serde_json::json!({"message": "bad key"})));
        let report = block_on(flush(&host, plan(&["langfuse"]), SendOptions::default()));
        assert_eq!(report.results[0].requests, 1);
        assert!(report.results[0]
            .error
            .as_deref()
            .unwrap()
            .contains("bad key"));

        let host = MockHost::new()
            .reply(Reply::bytes(
                429,
                vec![("retry-after".into(), "2".into())],
                b"{}",
                64,
            ))
            .reply(Reply::json(200, &serde_json::json!({})));
        let report = block_on(flush(&host, plan(&["langfuse"]), SendOptions::default()));
        assert!(report.ok());
        assert_eq!(*host.sleeps.borrow(), vec![2000]);
    }

    #[test]
    fn the_deadline_bounds_retries() {
        let host = MockHost::new();
        for _ in 0..5 {
            host.push(Reply::connection_error());
        }
        let opts = SendOptions {
            timeout_ms: 400,
            max_retries: 5,
        };
        let report = block_on(flush(&host, plan(&["langfuse"]), opts));
        // 250 ms backoff fits in 400 ms, the next 500 ms does not.
        assert_eq!(report.results[0].requests, 2);
        assert!(!report.results[0].ok);
    }

    #[test]
    fn mlflow_uploads_to_the_returned_location() {
        let host = MockHost::new()
            .reply(Reply::json(200, &serde_json::json!({"trace": {"trace_info": {"tags": {"mlflow.artifactLocation": "mlflow-artifacts:/0/traces/tr-1/artifacts"}}}})))
            .reply(Reply::json(200, &serde_json::json!({})));
        let report = block_on(flush(&host, plan(&["mlflow"]), SendOptions::default()));
        assert!(report.ok(), "{report:?}");
        let reqs = host.requests.borrow();
        assert_eq!(reqs[1].method, crate::http::Method::Put);
        assert_eq!(reqs[1].url, "http://mlflow.test/api/2.0/mlflow-artifacts/artifacts/0/traces/tr-1/artifacts/traces.json");
        assert_eq!(report.results[0].requests, 2);
    }

    /// A host whose requests never answer (a hung logger) and whose clock is real enough:
    /// `sleep` returns at once, advancing time.
    struct HangingHost(MockHost);

    impl Host for HangingHost {
        async fn send(&self, req: HttpRequest, _t: Option<u64>) -> Result<HttpResponse> {
            self.0.requests.borrow_mut().push(req);
            future::pending::<Result<HttpResponse>>().await
        }
        async fn sleep(&self, ms: u64) {
            self.0.sleep(ms).await
        }
        fn now_ms(&self) -> u64 {
            self.0.now_ms()
        }
        fn random(&self) -> f64 {
            0.5
        }
    }

    #[test]
    fn a_hanging_logger_is_reported_and_others_still_deliver() {
        let host = HangingHost(MockHost::new());
        let opts = SendOptions {
            timeout_ms: 1_000,
            max_retries: 2,
        };
        let report = block_on(flush(&host, plan(&["langfuse", "unknown-thing"]), opts));
        assert_eq!(report.results.len(), 2);
        assert!(report.results[0]
            .error
            .as_deref()
            .unwrap()
            .contains("timed out after 1000 ms"));
        assert!(!report.results[1].ok);
        assert_eq!(report.failures().count(), 2);
    }
}
