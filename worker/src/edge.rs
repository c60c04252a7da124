//! The Worker edge: `Request` → [`Head`] + body, [`Reply`] → `Response`, the config cached per
//! isolate, Worker vars and secrets as the [`edgellm::Env`], and the core's `fetch` host.

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::{StreamExt, TryStreamExt};
use worker::js_sys;
use worker::wasm_bindgen::JsValue;
use worker::{
    console_log, console_warn, Context, Env, Headers, Request, Response, ResponseBuilder,
};

use edgellm::wasm::FetchHost;
use edgellm::Host;

use crate::app::{self, Begin, Body, Gateway, Head, Reply};

/// Worker vars and secrets (both are string properties of `env`). Numbers and booleans from
/// `[vars]` read as their text.
struct WorkerEnv(JsValue);

impl edgellm::Env for WorkerEnv {
    fn var(&self, name: &str) -> Option<String> {
        let v = js_sys::Reflect::get(&self.0, &JsValue::from_str(name)).ok()?;
        let s = if let Some(s) = v.as_string() {
            s
        } else if let Some(n) = v.as_f64() {
            n.to_string()
        } else {
            v.as_bool()?.to_string()
        };
        (!s.is_empty()).then_some(s)
    }
}

/// The name of the global the JS entry sets to the bundled config text.
const BUNDLED: &str = "__EDGELLM_CONFIG__";

type Loaded = Rc<Result<Gateway, String>>;

thread_local! {
    /// The config text last loaded and its result: parsed once per isolate, again only if the
    /// text changes.
    static CACHE: RefCell<Option<(String, Loaded)>> = const { RefCell::new(None) };
}

fn config_text(env: &WorkerEnv) -> Option<(String, &'static str)> {
    use edgellm::Env as _;
    if let Some(t) = env.var("EDGELLM_CONFIG") {
        return Some((t, "EDGELLM_CONFIG"));
    }
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(BUNDLED))
        .ok()?
        .as_string()
        .map(|t| (t, "bundled config"))
}

fn gateway(env: &WorkerEnv) -> Loaded {
    let Some((text, source)) = config_text(env) else {
        return Rc::new(Err(
            "no config: set the EDGELLM_CONFIG var, or build with scripts/build-worker.sh --config FILE".into(),
        ));
    };
    CACHE.with(|cache| {
        if let Some((cached, loaded)) = cache.borrow().as_ref() {
            if *cached == text {
                return loaded.clone();
            }
        }
        let loaded = Rc::new(Gateway::load(&text, source, env));
        match loaded.as_ref() {
            Ok(gw) => {
                console_log!(
                    "edgellm: loaded {source}: {} deployments, {} model names",
                    gw.config().model_list.len(),
                    gw.config().model_names().len()
                );
                for w in gw.warnings() {
                    console_warn!("edgellm: config warning: {w}");
                }
            }
            Err(e) => console_warn!("edgellm: config error ({source}): {e}"),
        }
        *cache.borrow_mut() = Some((text, loaded.clone()));
        loaded
    })
}

/// Reads the body, refusing more than `limit` bytes (by `content-length`, and while reading
/// for chunked bodies) without buffering past the limit.
pub(crate) async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, Reply> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(app::too_large(limit));
    }
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Reply::fail(
                edgellm::ErrorKind::BadRequest,
                format!("could not read the request body: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(app::too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Header values must be visible ASCII; anything else (a model name with accents) is
/// replaced rather than failing the whole response.
fn header_safe(v: &str) -> String {
    v.chars()
        .map(|c| {
            if c == '\t' || (' '..='~').contains(&c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

fn to_response(reply: Reply) -> worker::Result<Response> {
    let headers = Headers::new();
    for (k, v) in &reply.headers {
        headers.append(k, &header_safe(v))?;
    }
    let builder = ResponseBuilder::new()
        .with_status(reply.status)
        .with_headers(headers);
    Ok(match reply.body {
        Body::Empty => builder.empty(),
        Body::Full(bytes) => builder.fixed(bytes),
        Body::Stream(s) => {
            builder.from_stream(s.map_err(|e| worker::Error::RustError(e.to_string())))?
        }
    })
}

/// Handles one request.
pub async fn handle(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let ctx = std::rc::Rc::new(ctx);
    let started = js_sys::Date::now();
    let host = FetchHost::new();
    let wenv = WorkerEnv(env.clone().into());
    let head = Head {
        method: req.inner().method().to_ascii_uppercase(),
        path: req.path(),
        headers: req
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
    };
    let request_id = app::request_id(head.header("x-request-id"), || host.random());
    if head.path == "/__edgellm/panic" {
        use edgellm::Env as _;
        // A test hook for the JS entry's panic recovery; off unless the operator sets the var.
        if wenv.var("EDGELLM_DEBUG_PANIC_ROUTE").as_deref() == Some("1") {
            panic!("edgellm: panic requested through /__edgellm/panic");
        }
    }
    let loaded = gateway(&wenv);
    let gw = loaded.as_ref().as_ref().map_err(String::as_str);
    // The loggers' deliveries start after the response (`ctx.waitUntil`).
    let log = crate::logs::request_log(gw.ok(), &head, &request_id);
    // Virtual keys (`crate::keys`): management routes and requests with a non-master key.
    let keyed = crate::keys_edge::handle(
        &mut req,
        &env,
        ctx.clone(),
        &host,
        &wenv,
        gw,
        &head,
        &request_id,
        &log,
    )
    .await;
    let begun = match keyed {
        Some(r) => Begin::Done(r),
        None => app::begin(gw, &head),
    };
    let mut reply = match begun {
        Begin::Done(r) => r,
        Begin::Body {
            endpoint,
            path_model,
            limit,
        } => match (read_body(&mut req, limit).await, gw) {
            (Ok(body), Ok(gw)) => {
                app::run_logged(&host, &wenv, gw, endpoint, path_model, &body, &log).await
            }
            (Err(r), _) => r,
            (Ok(_), Err(e)) => Reply::fail(edgellm::ErrorKind::InternalServer, e.to_string()),
        },
    };
    crate::logs::deliver(&ctx, log, gw.ok(), &wenv);
    let ms = (js_sys::Date::now() - started).max(0.0) as u64;
    app::finish(&mut reply, gw.ok(), &head, &request_id, ms);
    // Opt-in: a console line per request costs ~5 % of a non-stream request's CPU (bench/).
    if edgellm::Env::var(&wenv, "EDGELLM_ACCESS_LOG").as_deref() == Some("1") {
        console_log!(
            "{} {} {} {}ms group={} id={}",
            head.method,
            head.path,
            reply.status,
            ms,
            reply.header("x-litellm-model-group").unwrap_or("-"),
            request_id
        );
    }
    to_response(reply)
}
