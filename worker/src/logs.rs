//! Logging at the Worker edge: which loggers a request's calls go to (the config's
//! `litellm_settings.success_callback` / `failure_callback` / `callbacks`, `callback_settings`,
//! `general_settings.alerting`, credentials from Worker secrets), and their delivery after the
//! response through `ctx.waitUntil`, so that a slow or dead logger never delays a response.
//! The logic is `edgellm::integrations::gateway` (tested natively); this file only binds it to
//! the Worker's clock, headers and `Context`.

use std::rc::Rc;

use worker::{console_warn, js_sys, Context};

use edgellm::integrations::capture::Caller;
use edgellm::integrations::gateway::{self, RequestLog};
use edgellm::integrations::Dispatcher;
use edgellm::wasm::FetchHost;

use crate::app::{auth, Gateway, Head};

/// The log of one request: off unless the config names a logger.
pub fn request_log(gw: Option<&Gateway>, head: &Head, request_id: &str) -> RequestLog {
    let Some(gw) = gw else {
        return RequestLog::off();
    };
    if !gw.logging() {
        return RequestLog::off();
    }
    let settings = &gw.config().general_settings;
    let caller = Caller {
        key: auth::presented_key(|h| head.header(h), settings.key_header_name.as_deref())
            .map(String::from),
        ip: head.header("cf-connecting-ip").map(String::from),
        ..Caller::default()
    };
    RequestLog::new(request_id, caller, Rc::new(|| js_sys::Date::now() as u64))
}

/// Sends what `log` recorded once the response is on its way (streams: once they ended);
/// failures are reported in the Worker's logs.
pub fn deliver(ctx: &Context, log: RequestLog, gw: Option<&Gateway>, env: &dyn edgellm::Env) {
    let Some(gw) = gw else {
        return;
    };
    if !log.is_on() || log.sink().is_idle() {
        return;
    }
    // Credentials are read now (the config's environment_variables over Worker secrets).
    let env = edgellm::config::layered_env(gw.config(), env);
    let dispatcher = Dispatcher::new(&gateway::settings(gw.config()), &env);
    ctx.wait_until(async move {
        let report = log.deliver(&FetchHost::new(), &dispatcher).await;
        for r in report.failures() {
            console_warn!(
                "edgellm: logging to {} failed ({} event(s)): {}",
                r.logger,
                r.events,
                r.error.as_deref().unwrap_or("unknown error")
            );
        }
    });
}
