//! The Worker edge: `Request` → [`Head`] + body, [`Reply`] → `Response`, the config cached per
//! isolate, Worker vars and secrets as the [`edgellm::Env`], and the core's `fetch` host.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::StreamExt;
use worker::js_sys;
use worker::wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;
use worker::{console_log, console_warn, Context, Env, Request};

use edgellm::wasm::{FetchHost, JsIds};
use edgellm::Host;

use crate::app::{self, Begin, Body, Gateway, Head, Reply};

// Headers cross between JS and wasm as one string, `name NUL value NUL …` (NUL cannot occur in
// a header name or value), instead of one call and two string copies per header: per-header
// calls were ≈ 6 % of a non-stream request's CPU (bench/FINDINGS.md). The response's headers are
// appended to the response's own `Headers` (the same guard and rules as an init's), not to a
// `Headers` the constructor then copies: 15 → 11 µs for 10 headers in workerd, where a list of
// pairs as the init was slower still (26 µs; sequence conversion) and an object would merge
// repeated names. The body comes as a view of wasm memory, not a copy: the constructor copies a
// `BufferSource` body at once (Fetch standard: "a copy of the bytes held by object"; workerd
// does), so no JS `ArrayBuffer` is made and freed per response (≈ 1 µs in workerd).
#[wasm_bindgen(wasm_bindgen = worker::wasm_bindgen, inline_js = r#"
// The head's parts are written into one array kept for the isolate and joined once: no string
// per `+` (V8 makes a new one each), no flattening of them when the result crosses into wasm,
// and no closure or array per request (V8 heap per request 7.5 → 6.9 KB with the changes in
// src/wasm/fetch.rs and worker/js/entry.mjs; bench/prototypes/heap-alloc.mjs).
const HEAD = [];
let headLength = 0;
function headPut(v, k) {
  HEAD[headLength++] = k;
  HEAD[headLength++] = v;
}
export function edgellm_head(request) {
  HEAD[0] = request.method;
  HEAD[1] = request.url;
  headLength = 2;
  request.headers.forEach(headPut);
  HEAD.length = headLength;
  const s = HEAD.join("\0");
  // Emptied, not dropped: the array stays for the next request, the request's strings (its
  // Authorization value too) do not.
  HEAD.fill("");
  return s;
}
const templates = [];
export function edgellm_define_template(id, stable) {
  const t = new Headers();
  const s = stable.split("\0");
  for (let i = 0; i + 1 < s.length; i += 2) t.append(s[i], s[i + 1]);
  templates[id] = t;
}
export function edgellm_response(status, template, flat, body) {
  let init;
  if (template < 0) init = { status };
  else {
    const t = templates[template];
    if (t === undefined) throw new Error(`edgellm: response template ${template} was never defined`);
    init = { status, headers: t };
  }
  const response = new Response(body ?? null, init);
  const headers = response.headers;
  // Scanned rather than `split`: no array of the parts per response.
  for (let i = 0, k; (k = flat.indexOf("\0", i)) >= 0; ) {
    let j = flat.indexOf("\0", k + 1);
    if (j < 0) j = flat.length;
    headers.append(flat.slice(i, k), flat.slice(k + 1, j));
    i = j + 1;
  }
  return response;
}
"#)]
extern "C" {
    fn edgellm_head(request: &web_sys::Request) -> String;
    /// Makes `stable` (`name NUL value NUL …`) the `Headers` template `id` names in
    /// [`edgellm_response`].
    #[wasm_bindgen(catch)]
    fn edgellm_define_template(id: u32, stable: &str) -> Result<(), JsValue>;
    /// `template` is a [`template_id`], or -1 for none.
    #[wasm_bindgen(catch)]
    fn edgellm_response(
        status: u16,
        template: i32,
        flat: &str,
        body: Option<&[u8]>,
    ) -> Result<web_sys::Response, JsValue>;
    /// [`edgellm_response`] with a `ReadableStream` body (`crate::stream_body`'s).
    #[wasm_bindgen(catch, js_name = edgellm_response)]
    fn edgellm_stream_response(
        status: u16,
        template: i32,
        flat: &str,
        body: &JsValue,
    ) -> Result<web_sys::Response, JsValue>;
}

/// The request's method, URL and headers, from one call: `method NUL url`, then for each header
/// `NUL name NUL value` (NUL occurs in none of them; a serialized URL percent-encodes it).
fn head_of(req: &web_sys::Request) -> Head {
    let flat = edgellm_head(req);
    let mut parts = flat.splitn(3, '\0');
    let method = parts.next().unwrap_or_default().to_ascii_uppercase();
    let path = crate::path_from_url(parts.next().unwrap_or_default());
    Head {
        method,
        path,
        headers: split_headers(parts.next().unwrap_or_default()),
    }
}

/// Splits the headers of [`edgellm_head`]'s string; names are already lowercase (fetch's
/// `Headers` iterates them so).
fn split_headers(flat: &str) -> Vec<(String, String)> {
    let mut parts = flat.split('\0');
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
        out.push((k.to_ascii_lowercase(), v.to_string()));
    }
    out
}

/// Worker vars and secrets (both are string properties of `env`). Numbers and booleans from
/// `[vars]` read as their text.
///
/// Lookups are remembered per isolate for as long as the runtime passes the same `env` object
/// (bindings are fixed for an isolate's life): each `Reflect.get` plus two string copies was
/// ≈ 2 % of a non-stream request's CPU, and a request reads several names.
struct WorkerEnv {
    js: JsValue,
    seen: Rc<RefCell<HashMap<String, Option<String>>>>,
    /// What [`bound`] found for this `env` object, shared by every request that gets it.
    bound: Rc<RefCell<Option<Bound>>>,
}

type EnvCache = Rc<RefCell<HashMap<String, Option<String>>>>;

/// What a request learns from the bindings alone, so it is fixed for one `env` object: the
/// loaded config, whether the virtual-key layer's bindings exist, and whether the access log is
/// on. Looking these up per request (`Reflect.get` of the config var, its length, a `===` with
/// the cached text, and two binding lookups with their type checks) was ≈ 2 % of a non-stream
/// request's CPU.
#[derive(Clone)]
struct Bound {
    gateway: Loaded,
    keys_on: bool,
    /// `EDGELLM_ACCESS_LOG` is `1`.
    access_log: bool,
}

type PerEnv = (JsValue, EnvCache, Rc<RefCell<Option<Bound>>>);

thread_local! {
    static ENV_CACHE: RefCell<Option<PerEnv>> = const { RefCell::new(None) };
}

impl WorkerEnv {
    fn new(js: JsValue) -> Self {
        let (seen, bound) = ENV_CACHE.with(|c| {
            if let Some((cached, seen, bound)) = c.borrow().as_ref() {
                if *cached == js {
                    return (seen.clone(), bound.clone());
                }
            }
            let (seen, bound) = (EnvCache::default(), Rc::default());
            *c.borrow_mut() = Some((js.clone(), seen.clone(), Rc::clone(&bound)));
            (seen, bound)
        });
        Self { js, seen, bound }
    }

    fn read(&self, name: &str) -> Option<String> {
        let v = js_sys::Reflect::get(&self.js, &JsValue::from_str(name)).ok()?;
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

impl edgellm::Env for WorkerEnv {
    fn var(&self, name: &str) -> Option<String> {
        if let Some(v) = self.seen.borrow().get(name) {
            return v.clone();
        }
        let v = self.read(name);
        self.seen.borrow_mut().insert(name.to_string(), v.clone());
        v
    }
}

/// The name of the global the JS entry sets to the bundled config text.
const BUNDLED: &str = "__EDGELLM_CONFIG__";

type Loaded = Rc<Result<Gateway, String>>;

thread_local! {
    /// The config text last loaded (as the JS string it came in) and its result: parsed once
    /// per isolate, again only if the text changes. The JS string is kept so that the check per
    /// request is one `===` in JS (the same string, or one equal to it), not a copy of the whole
    /// config into wasm.
    static CACHE: RefCell<Option<(JsValue, Loaded)>> = const { RefCell::new(None) };
}

/// The config text as a JS string, and where it came from.
fn config_text(env: &WorkerEnv) -> Option<(JsValue, &'static str)> {
    use edgellm::Env as _;
    let var = js_sys::Reflect::get(&env.js, &JsValue::from_str("EDGELLM_CONFIG")).ok();
    if let Some(v) = var.filter(|v| v.is_string() && js_sys::JsString::from(v.clone()).length() > 0)
    {
        return Some((v, "EDGELLM_CONFIG"));
    }
    // A number or boolean var reads as its text, like every other var.
    if let Some(t) = env.var("EDGELLM_CONFIG") {
        return Some((JsValue::from_str(&t), "EDGELLM_CONFIG"));
    }
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(BUNDLED))
        .ok()
        .filter(JsValue::is_string)
        .map(|t| (t, "bundled config"))
}

/// What this request's `env` gives ([`Bound`]): looked up on the first request that brings
/// this `env` object, then reused.
fn bound(wenv: &WorkerEnv, env: &Env) -> Bound {
    if let Some(b) = wenv.bound.borrow().as_ref() {
        return b.clone();
    }
    let gateway = gateway(wenv);
    // The same binding checks `keys_edge::handle` starts with, before paying for a
    // `worker::Request`.
    let keys_on = gateway.is_ok()
        && env.kv(crate::keys_edge::KV_BINDING).is_ok()
        && env
            .durable_object(crate::keys_edge::COUNTERS_BINDING)
            .is_ok();
    let access_log = edgellm::Env::var(wenv, "EDGELLM_ACCESS_LOG").as_deref() == Some("1");
    let b = Bound {
        gateway,
        keys_on,
        access_log,
    };
    *wenv.bound.borrow_mut() = Some(b.clone());
    b
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
        let parsed = text.as_string().unwrap_or_default();
        let loaded = Rc::new(Gateway::load(&parsed, source, env));
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
/// for chunked bodies) without buffering past the limit. `pre` is the body when the JS entry
/// already read it (answered exactly as reading it here would be).
///
/// A body with a `content-length` is read with one `arrayBuffer()` (the runtime holds it to that
/// length); only a chunked body goes through a reader, which costs a promise per chunk and a
/// `releaseLock` (≈ 8 % of a non-stream request's CPU, bench/FINDINGS.md).
pub(crate) async fn read_body(
    req: &mut Request,
    limit: usize,
    pre: Preread,
) -> Result<Vec<u8>, Reply> {
    let declared = req.inner().headers().get("content-length").ok().flatten();
    read_raw_body(req.inner(), declared.as_deref(), limit, pre).await
}

/// A request body the JS entry (`worker/js/entry.mjs`) read before calling into wasm, so the
/// request's task does not wait on a promise of its own for it (each wait through
/// wasm-bindgen-futures is two callbacks, a `queueMicrotask` and a poll of the whole task).
pub(crate) enum Preread {
    /// Not read: the body is read here, when the route wants it.
    No,
    /// `request.arrayBuffer()`'s result.
    Read(js_sys::ArrayBuffer),
    /// What `request.arrayBuffer()` rejected with.
    Failed(JsValue),
}

/// [`read_body`] straight from the runtime's request, so the common path never builds a
/// `worker::Request` (its conversion reads `request.cf`, ≈ 3 % of a non-stream request's CPU).
/// A [`Preread`] body answers exactly as reading it here would have.
/// `content_length` is the request's `content-length` header.
async fn read_raw_body(
    req: &web_sys::Request,
    content_length: Option<&str>,
    limit: usize,
    pre: Preread,
) -> Result<Vec<u8>, Reply> {
    let declared = declared_length(content_length);
    if let Some(n) = declared.filter(|&n| n > limit as u64) {
        if matches!(pre, Preread::No) {
            drain_unread(req, Some(n), limit + DRAIN_MAX_BYTES).await;
        }
        return Err(app::too_large(limit));
    }
    let unreadable = |e: String| {
        Reply::fail(
            edgellm::ErrorKind::BadRequest,
            format!("could not read the request body: {e}"),
        )
    };
    let js_unreadable = |e: JsValue| {
        unreadable(
            e.as_string()
                .unwrap_or_else(|| "failed to read array buffer from request".into()),
        )
    };
    let pre = match pre {
        Preread::No => None,
        Preread::Read(buf) => Some(buf.into()),
        Preread::Failed(e) => return Err(js_unreadable(e)),
    };
    if declared.is_some() || pre.is_some() {
        let buf = match pre {
            Some(buf) => buf,
            None => {
                let buf = req.array_buffer().map_err(js_unreadable)?;
                worker::wasm_bindgen_futures::JsFuture::from(buf)
                    .await
                    .map_err(js_unreadable)?
            }
        };
        let body = js_sys::Uint8Array::new(&buf).to_vec();
        // The runtime enforces the declared length; this guards against one that does not.
        if body.len() > limit {
            return Err(app::too_large(limit));
        }
        return Ok(body);
    }
    // Chunked bodies are rare: reuse `worker::Request`'s stream reader for them.
    let mut wreq = Request::from(<web_sys::Request as Clone>::clone(req));
    let Ok(mut stream) = wreq.stream() else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| unreadable(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            drain(&mut stream).await;
            return Err(app::too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// At most this much of a body past the size limit is read and dropped before the 413.
const DRAIN_MAX_BYTES: usize = 4 << 20;
/// ... and only while each piece arrives within this many milliseconds.
const DRAIN_WAIT_MS: u64 = 50;

/// Reads and drops the rest of a refused body while it keeps coming. workerd closes a
/// connection whose request body was not read to the end, without a `connection: close`, so a
/// client that sends its next request on that connection (a keep-alive pool) gets a reset.
/// A client that stops sending gets its answer after one wait.
async fn drain(stream: &mut worker::ByteStream) {
    let host = FetchHost::new();
    let mut dropped = 0usize;
    while dropped <= DRAIN_MAX_BYTES {
        let wait = std::pin::pin!(host.sleep(DRAIN_WAIT_MS));
        match futures_util::future::select(stream.next(), wait).await {
            futures_util::future::Either::Left((Some(Ok(chunk)), _)) => dropped += chunk.len(),
            _ => break,
        }
    }
}

/// The request's declared body length, from its `content-length` header.
fn declared_length(content_length: Option<&str>) -> Option<u64> {
    content_length.and_then(|v| v.trim().parse::<u64>().ok())
}

/// Reads and drops a body nothing read before the answer (a 413, or an answer decided from the
/// head: 401, 404, 405, a virtual-key layer's refusal), with [`drain`]'s bounds, so that workerd
/// keeps the connection. A declared length past `max_declared` is not read at all: the answer
/// goes at once and the connection may close (HTTP/1.1 allows it, RFC 9112 §9.6).
async fn drain_unread(req: &web_sys::Request, declared: Option<u64>, max_declared: usize) {
    if declared.is_some_and(|n| n > max_declared as u64) {
        return;
    }
    // `body` is null for a request without one (a GET): nothing to wait for then.
    if let Some(body) = req.body() {
        drain(&mut worker::ByteStream::from(body)).await;
    }
}

/// Header values must be visible ASCII; anything else (a model name with accents) is
/// replaced rather than failing the whole response.
fn push_header_safe(out: &mut String, v: &str) {
    if v.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) {
        out.push_str(v);
        return;
    }
    out.extend(v.chars().map(|c| {
        if c == '\t' || (' '..='~').contains(&c) {
            c
        } else {
            '?'
        }
    }));
}

/// One header as the JS response builders take them: `name NUL value NUL`.
fn push_flat(out: &mut String, k: &str, v: &str) {
    out.push_str(k);
    out.push('\0');
    push_header_safe(out, v);
    out.push('\0');
}

/// Reply headers whose values repeat from one request to the next (per deployment): the content
/// type, LiteLLM's routing headers and the version. [`edgellm_response`] copies them from a
/// `Headers` kept per distinct set of them ([`template_id`]), and appends only the others: in
/// workerd a response with 8 headers copied from a `Headers` and 4 appended took 9.5 µs, with 12
/// appended 12 µs.
const STABLE_HEADERS: [&str; 8] = [
    "content-type",
    "x-litellm-model-id",
    "x-litellm-model-group",
    "x-litellm-model-name",
    "x-litellm-model-api-base",
    "x-litellm-attempted-retries",
    "x-litellm-attempted-fallbacks",
    "x-litellm-version",
];

/// `headers` as [`edgellm_response`] takes them: those named in [`STABLE_HEADERS`], then the
/// rest, each as [`push_flat`] writes it. Only headers of different names change order,
/// which changes nothing a `Headers` holds (same-name values keep their order: a name is
/// wholly on one side).
fn split_stable(headers: &[(String, String)]) -> (String, String) {
    let mut stable = String::with_capacity(256);
    let mut rest = String::with_capacity(256);
    for (k, v) in headers {
        let out = if STABLE_HEADERS.iter().any(|s| k.eq_ignore_ascii_case(s)) {
            &mut stable
        } else {
            &mut rest
        };
        push_flat(out, k, v);
    }
    (stable, rest)
}

thread_local! {
    /// The stable-header sets defined as JS templates by [`edgellm_define_template`].
    static TEMPLATES: JsIds<String> = const { JsIds::new() };
}

/// The template id of the stable headers `stable` ([`split_stable`]'s first string), defining
/// it on the JS side first if it is new; -1 when there are none. The set crosses into JS once,
/// not per response: its `TextDecoder` pass and the `Map` lookup by it in JS were ≈ 0.5 % of a
/// non-stream request's CPU samples (bench/profile-worker.mjs).
fn template_id(stable: String) -> Result<i32, JsValue> {
    if stable.is_empty() {
        return Ok(-1);
    }
    TEMPLATES
        .with(|sets| {
            sets.id(
                |s| *s == stable,
                || stable.clone(),
                |id, s| edgellm_define_template(id, s),
            )
        })
        .map(|id| id as i32)
}

fn to_response(reply: Reply, request: &web_sys::Request) -> worker::Result<web_sys::Response> {
    let body = match reply.body {
        Body::Empty => None,
        Body::Full(bytes) => Some(bytes),
        Body::Stream(s) => {
            // A chat stream the JS side can pump (`crate::stream_body`), else `from_stream`.
            // Its headers go as other answers' do (`split_stable`), not as a `Headers` made
            // with one append per header per stream.
            let status = reply.status;
            let headers = &reply.headers;
            let s = match crate::stream_body::respond(s, request, |body| {
                let (stable, rest) = split_stable(headers);
                let template = template_id(stable)?;
                edgellm_stream_response(status, template, &rest, body).map_err(worker::Error::from)
            }) {
                Ok(response) => return response,
                Err(s) => s,
            };
            let headers = worker::Headers::new();
            for (k, v) in &reply.headers {
                let mut safe = String::new();
                push_header_safe(&mut safe, v);
                headers.append(k, &safe)?;
            }
            let response = worker::ResponseBuilder::new()
                .with_status(reply.status)
                .with_headers(headers)
                .from_stream(futures_util::TryStreamExt::map_err(
                    crate::disconnect::EndOnDisconnect::new(s, request),
                    |e| worker::Error::RustError(e.to_string()),
                ))?;
            return Ok(response.into());
        }
    };
    let (stable, rest) = split_stable(&reply.headers);
    let template = template_id(stable).map_err(worker::Error::from)?;
    edgellm_response(reply.status, template, &rest, body.as_deref()).map_err(worker::Error::from)
}

/// Handles one request.
///
/// Takes the runtime's request rather than a `worker::Request`, whose conversion reads
/// `request.cf` (≈ 3 % of a non-stream request's CPU) though nothing here uses it; one is built
/// only for the virtual-key layer, when its bindings exist.
///
/// `pre` is the body when the JS entry already read it; whichever reads the body first, the
/// virtual-key layer or the gateway, takes it (a body can be read once, as before).
pub async fn handle(
    req: web_sys::Request,
    env: Env,
    ctx: Context,
    pre: Preread,
) -> worker::Result<web_sys::Response> {
    let ctx = std::rc::Rc::new(ctx);
    let pre = std::cell::Cell::new(Some(pre));
    let started = js_sys::Date::now();
    let host = FetchHost::new();
    let wenv = WorkerEnv::new(env.clone().into());
    let head = head_of(&req);
    let request_id = app::request_id(head.header("x-request-id"), || host.random());
    if head.path == "/__edgellm/panic" {
        use edgellm::Env as _;
        // A test hook for the JS entry's panic recovery; off unless the operator sets the var.
        if wenv.var("EDGELLM_DEBUG_PANIC_ROUTE").as_deref() == Some("1") {
            panic!("edgellm: panic requested through /__edgellm/panic");
        }
    }
    let Bound {
        gateway: loaded,
        keys_on,
        access_log,
    } = bound(&wenv, &env);
    let gw = loaded.as_ref().as_ref().map_err(String::as_str);
    // The loggers' deliveries start after the response (`ctx.waitUntil`).
    let log = crate::logs::request_log(gw.ok(), &head, &request_id);
    // Virtual keys (`crate::keys`): management routes and requests with a non-master key.
    let keyed = if keys_on {
        let mut wreq = Request::from(<web_sys::Request as Clone>::clone(&req));
        crate::keys_edge::handle(
            &mut wreq,
            &env,
            ctx.clone(),
            &host,
            &wenv,
            gw,
            &head,
            &request_id,
            &log,
            &pre,
        )
        .await
    } else {
        None
    };
    let begun = match keyed {
        Some(r) => Begin::Done(r),
        None => app::begin(gw, &head),
    };
    let mut reply = match begun {
        Begin::Done(r) => {
            // Nothing took the body (the entry did not read it, nor did a layer here): it is
            // dropped before the answer. A body read as usual never comes this way.
            if let Some(Preread::No) = pre.take() {
                drain_unread(
                    &req,
                    declared_length(head.header("content-length")),
                    DRAIN_MAX_BYTES,
                )
                .await;
            }
            r
        }
        Begin::Body {
            endpoint,
            path_model,
            limit,
        } => match (
            read_raw_body(
                &req,
                head.header("content-length"),
                limit,
                pre.take().unwrap_or(Preread::No),
            )
            .await,
            gw,
        ) {
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
    if access_log {
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
    to_response(reply, &req)
}
