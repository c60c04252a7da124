//! The gateway itself, free of Worker types: a request head and body in, a [`Reply`] out,
//! with I/O through an [`edgellm::Host`] and the environment through an [`edgellm::Env`]. The
//! Worker edge (`crate::edge`) only converts; native tests drive this with `MockHost`.
//!
//! A request goes through three steps so that nothing is read before it is allowed:
//! [`begin`] (CORS preflight, route, health probes, config errors, auth), then the edge reads
//! the body up to [`Begin::Body`]'s limit, then [`run`]. [`finish`] adds the headers every
//! response carries (`x-request-id`, CORS, duration).

pub mod auth;
pub mod cors;
mod handlers;
pub mod reply;
pub mod routes;
pub mod sse;

use serde_json::{json, Value};

use edgellm::config::ProxyConfig;
use edgellm::router::Router;
use edgellm::{Env, Error, ErrorKind, Host};

pub use reply::{Body, ByteStream, Reply};
use routes::{Endpoint, Matched};

/// Default request body cap (LiteLLM's `max_request_size_mb` overrides it).
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// This gateway's version, for `x-litellm-version` and the readiness probe.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A loaded configuration and what the gateway keeps for it per isolate: the Router (with its
/// deployment health: cooldowns, latencies, usage) and the secrets to scrub.
#[derive(Debug)]
pub struct Gateway {
    /// The router over the checked config.
    pub router: Router,
    /// Where the config came from (for the readiness probe and logs).
    pub source: String,
    secrets: Vec<String>,
    warnings: Vec<String>,
    /// Whether the config names any logger (`edgellm::integrations::gateway::settings`), so a
    /// request without loggers does not build the settings to find out.
    logging: bool,
}

/// Parameter names whose values are credentials (scrubbed from every message we send).
fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["key", "secret", "token", "credential", "password"]
        .iter()
        .any(|s| n.contains(s))
        && !n.ends_with("_name")
        && !n.ends_with("key_header_name")
}

impl Gateway {
    /// Parses a config (YAML, or JSON) and checks it; `env` resolves `os.environ/` references.
    pub fn load(text: &str, source: &str, env: &dyn Env) -> Result<Self, String> {
        let value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| format!("invalid JSON config: {e}"))?
        } else {
            crate::yaml::parse(text)?
        };
        let config = ProxyConfig::from_value(value, env).map_err(|e| e.message().to_string())?;
        let mut secrets: Vec<String> = Vec::new();
        for d in &config.model_list {
            for (k, v) in &d.litellm_params {
                if let (true, Some(s)) = (is_secret_name(k), v.as_str()) {
                    secrets.push(s.to_string());
                }
            }
        }
        for (k, v) in &config.environment_variables {
            if is_secret_name(k) {
                secrets.push(v.clone());
            }
        }
        if let Some(mk) = &config.general_settings.master_key {
            secrets.push(mk.expose().to_string());
        }
        {
            let layered = edgellm::config::layered_env(&config, env);
            for entry in edgellm::provider::registry::PROVIDERS {
                for name in entry.provider().info().env {
                    if is_secret_name(name) {
                        secrets.extend(layered.var(name));
                    }
                }
            }
        }
        secrets.retain(|s| s.len() >= 4);
        secrets.sort();
        secrets.dedup();
        let warnings = config.warnings.clone();
        let logging = !edgellm::integrations::gateway::settings(&config).is_empty();
        let router = Router::new(config).map_err(|e| e.message().to_string())?;
        Ok(Self {
            router,
            source: source.to_string(),
            secrets,
            warnings,
            logging,
        })
    }

    /// Whether the config names a logger (success, failure or generic callbacks, or Slack
    /// alerting).
    pub fn logging(&self) -> bool {
        self.logging
    }

    /// What the config sets that has no effect here: the config's own warnings and the
    /// gateway's (logged once per isolate, listed by the readiness probe).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The checked config.
    pub fn config(&self) -> &ProxyConfig {
        self.router.config()
    }

    /// The request body cap in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.config()
            .general_settings
            .max_request_size_mb
            .map_or(DEFAULT_MAX_BODY, |mb| (mb * 1024.0 * 1024.0) as usize)
    }

    /// Credentials that must never appear in a response or a log line.
    pub fn secrets(&self) -> Vec<&str> {
        self.secrets.iter().map(String::as_str).collect()
    }
}

/// The parts of a request [`begin`] looks at.
#[derive(Debug, Clone)]
pub struct Head {
    /// Uppercase method.
    pub method: String,
    /// Path, without the query string.
    pub path: String,
    /// Headers with lowercase names.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The outcome of [`begin`].
#[derive(Debug)]
pub enum Begin {
    /// Answered without a body.
    Done(Reply),
    /// Read the body (at most `limit` bytes, else answer [`too_large`]) and call [`run`].
    Body {
        /// The endpoint.
        endpoint: Endpoint,
        /// The model named in the path (Azure style), which wins over the body's.
        path_model: Option<String>,
        /// Body cap in bytes.
        limit: usize,
    },
}

fn with_status(status: u16, e: &Error) -> Reply {
    let mut r = Reply::error(e);
    r.status = status;
    r
}

/// The 413 reply for a body over `limit` bytes.
pub fn too_large(limit: usize) -> Reply {
    with_status(
        413,
        &Error::bad_request(format!(
            "request body is larger than {limit} bytes (general_settings.max_request_size_mb)"
        ))
        .with_code("request_too_large"),
    )
}

fn config_error(msg: &str) -> Error {
    Error::new(
        ErrorKind::InternalServer,
        format!("the gateway's config is invalid: {msg}"),
    )
    .with_code("config_error")
}

/// Routing, health probes, config errors and auth: everything decided from the head.
pub fn begin(gw: Result<&Gateway, &str>, head: &Head) -> Begin {
    begin_as(gw, head, false)
}

/// [`begin`] for a request whose key `crate::keys` has already verified as a virtual key
/// (`virtual_key`), so the master-key check is skipped.
pub fn begin_as(gw: Result<&Gateway, &str>, head: &Head, virtual_key: bool) -> Begin {
    let default_cors;
    let cors = match gw {
        Ok(g) => &g.config().general_settings.cors,
        // Built only when there is no config: its four allocations were per request.
        Err(_) => {
            default_cors = edgellm::config::Cors::default();
            &default_cors
        }
    };
    if head.method == "OPTIONS" {
        return Begin::Done(cors::preflight(
            cors,
            head.header("origin"),
            head.header("access-control-request-method"),
            head.header("access-control-request-headers"),
        ));
    }
    let (endpoint, path_model) = match routes::route(&head.method, &head.path) {
        Matched::Found(e, m) => (e, m),
        Matched::NotFound => {
            let e = Error::new(
                ErrorKind::NotFound,
                format!("Invalid URL ({} {})", head.method, head.path),
            )
            .with_code("invalid_url");
            return Begin::Done(Reply::error(&e));
        }
        Matched::WrongMethod(allowed) => {
            let e = Error::bad_request(format!(
                "{} is not allowed on {}; use {allowed}",
                head.method, head.path
            ))
            .with_code("method_not_allowed");
            return Begin::Done(
                with_status(405, &e).with_header("allow", format!("{allowed}, OPTIONS")),
            );
        }
    };
    if endpoint == Endpoint::Liveliness {
        return Begin::Done(Reply::json(200, &json!("I'm alive!")));
    }
    let gw = match gw {
        Ok(g) => g,
        Err(msg) => {
            let e = config_error(msg);
            let status = if endpoint == Endpoint::Readiness {
                503
            } else {
                500
            };
            return Begin::Done(with_status(status, &e));
        }
    };
    let settings = &gw.config().general_settings;
    let key = auth::presented_key(|h| head.header(h), settings.key_header_name.as_deref());
    let authorized = if virtual_key {
        Ok(())
    } else {
        auth::check(settings.master_key.as_ref(), key)
    };
    match (&endpoint, authorized) {
        (Endpoint::Readiness, ok) => return Begin::Done(readiness(gw, ok.is_ok())),
        (Endpoint::Root, _) => return Begin::Done(root()),
        (_, Err(e)) => return Begin::Done(Reply::error(&e)),
        (_, Ok(())) => {}
    }
    if endpoint.has_body() {
        return Begin::Body {
            endpoint,
            path_model,
            limit: gw.max_body_bytes(),
        };
    }
    Begin::Done(match endpoint {
        Endpoint::Models => handlers::models(gw),
        Endpoint::Model(m) => handlers::model(gw, &m),
        Endpoint::ModelInfo => handlers::model_info(gw),
        _ => unreachable!("body-less endpoints are handled above"),
    })
}

fn readiness(gw: &Gateway, authorized: bool) -> Reply {
    let mut body = json!({
        "status": "healthy",
        "db": "Not connected",
        "cache": null,
        "edgellm_version": VERSION,
        "config_source": gw.source,
        "models": gw.config().model_names().len(),
        "config_warnings": gw.warnings().len(),
    });
    if authorized {
        body["config_warning_messages"] = json!(gw.warnings());
    }
    Reply::json(200, &body)
}

fn root() -> Reply {
    Reply::json(
        200,
        &json!({
            "name": "edgellm gateway",
            "version": VERSION,
            "openai_compatible": ["POST /v1/chat/completions", "POST /v1/completions", "POST /v1/embeddings",
                "POST /v1/images/generations", "POST /v1/moderations", "POST /v1/rerank", "GET /v1/models",
                "GET /v1/model/info"],
            "health": ["GET /health/liveliness", "GET /health/readiness"],
        }),
    )
}

/// Runs a body endpoint. `env` is the host's environment (the config's
/// `environment_variables` are layered on top here).
pub async fn run<H: Host>(
    host: &H,
    env: &dyn Env,
    gw: &Gateway,
    endpoint: Endpoint,
    path_model: Option<String>,
    body: &[u8],
) -> Reply {
    let log = edgellm::integrations::gateway::RequestLog::off();
    run_logged(host, env, gw, endpoint, path_model, body, &log).await
}

/// [`run`], recording the request's calls in `log` for the configured loggers
/// (`litellm_settings.success_callback`, …; see `edgellm::integrations::gateway`).
pub async fn run_logged<H: Host>(
    host: &H,
    env: &dyn Env,
    gw: &Gateway,
    endpoint: Endpoint,
    path_model: Option<String>,
    body: &[u8],
    log: &edgellm::integrations::gateway::RequestLog,
) -> Reply {
    let env = edgellm::config::layered_env(gw.config(), env);
    let cx = handlers::Cx {
        host,
        env: &env,
        gw,
        log,
    };
    match handlers::run(&cx, endpoint, path_model, body).await {
        Ok(reply) => reply,
        Err(e) => {
            let msg = reply::scrub(e.message(), &gw.secrets());
            let mut json = e.to_openai_json();
            json["error"]["message"] = Value::String(msg);
            let mut r = Reply::error(&e);
            r.body = Body::Full(serde_json::to_vec(&json).expect("json"));
            r
        }
    }
}

/// Adds what every response carries: `x-request-id`, `x-litellm-call-id`,
/// `x-litellm-version`, `x-litellm-response-duration-ms` and CORS.
pub fn finish(
    reply: &mut Reply,
    gw: Option<&Gateway>,
    head: &Head,
    request_id: &str,
    duration_ms: u64,
) {
    reply
        .headers
        .push(("x-request-id".into(), request_id.into()));
    reply
        .headers
        .push(("x-litellm-call-id".into(), request_id.into()));
    reply
        .headers
        .push(("x-litellm-version".into(), VERSION.into()));
    reply.headers.push((
        "x-litellm-response-duration-ms".into(),
        duration_ms.to_string(),
    ));
    if head.method != "OPTIONS" {
        let default_cors;
        let cors = match gw {
            Some(g) => &g.config().general_settings.cors,
            None => {
                default_cors = edgellm::config::Cors::default();
                &default_cors
            }
        };
        cors::decorate(reply, cors, head.header("origin"));
    }
}

/// The id for a request: the caller's `x-request-id` when it is a sane token, else a new
/// UUIDv4 from `random` (values in `[0, 1)`).
pub fn request_id(incoming: Option<&str>, mut random: impl FnMut() -> f64) -> String {
    if let Some(id) = incoming {
        let ok = !id.is_empty()
            && id.len() <= 128
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            return id.to_string();
        }
    }
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(4) {
        let r = (random() * 4_294_967_296.0) as u32;
        chunk.copy_from_slice(&r.to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(HEX[usize::from(b >> 4)] as char);
        id.push(HEX[usize::from(b & 0x0f)] as char);
    }
    id
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod wire_tests;
