//! The endpoints. Each one: parse the body, hand it to the core's [`edgellm::router::Router`]
//! (which picks deployments, merges their `litellm_params`, retries, cools down and falls
//! back), let the core parse and call, and answer in OpenAI's shape with LiteLLM's routing
//! headers. No translation and no routing policy live here.

use serde::Serialize;
use serde_json::{json, Map, Value};

use edgellm::cost::{self, Usd};
use edgellm::engine::{CallMeta, Completion};
use edgellm::modality::{self, Generation};
use edgellm::router::{DeploymentCall, RouteInfo, RouteOutput, RoutedCompletion, RoutedWire};
use edgellm::types::Usage;
use edgellm::{CallOptions, Env, Error, ErrorKind, Host};

use super::reply::Reply;
use super::routes::Endpoint;
use super::sse::Sse;
use super::{is_secret_name, Gateway};
use crate::keys::meter::Meter;
use edgellm::integrations::gateway::{ChatCall, RequestLog};

/// What a handler works with.
pub struct Cx<'a, H> {
    /// I/O.
    pub host: &'a H,
    /// Environment for providers (config `environment_variables` over the host's).
    pub env: &'a dyn Env,
    /// The loaded config and router.
    pub gw: &'a Gateway,
    /// Logging of this request's calls (`litellm_settings.success_callback`, …).
    pub log: &'a RequestLog,
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request(
            "the request body is empty; send a JSON object",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::bad_request("the request body must be a JSON object")),
        Err(e) => Err(
            Error::bad_request(format!("invalid JSON in the request body: {e}"))
                .with_code("invalid_json"),
        ),
    }
}

/// Call options that price a call (`edgellm::cost::PriceOverrides`, and `base_model`, which
/// picks the price-table row): only the config may set them, or a client could make its own
/// calls free and spend past a virtual key's budget.
const PRICING_PARAMS: [&str; 5] = [
    "input_cost_per_token",
    "output_cost_per_token",
    "input_cost_per_second",
    "output_cost_per_second",
    "base_model",
];

/// Whether a `mock_response` value raises a mocked error (`"litellm.RateLimitError"`, see
/// `edgellm::mock`) rather than answering.
fn is_mock_error(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let name = s.strip_prefix("litellm.").unwrap_or(s);
        name.ends_with("Error") || name == "Timeout"
    })
}

/// LiteLLM refuses request-supplied endpoints unless the operator allows them: a client must
/// not point the gateway's credentials at its own server. The same goes for choosing another
/// provider's wire format for a configured deployment (`custom_llm_provider`) and for raising
/// mocked provider errors: both make the deployment fail, and failures count toward its
/// cooldown for every user of the gateway. Pricing is never the client's.
fn guard_client_params(gw: &Gateway, obj: &Map<String, Value>) -> Result<(), Error> {
    for key in PRICING_PARAMS {
        if obj.contains_key(key) {
            return Err(Error::bad_request(format!(
                "`{key}` is not allowed in the request body: prices come from the gateway's config (model_info / litellm_params)"
            ))
            .with_param(key));
        }
    }
    if gw.config().general_settings.allow_client_side_credentials {
        return Ok(());
    }
    for key in ["api_base", "base_url", "user_config", "custom_llm_provider"] {
        if obj.contains_key(key) {
            return Err(Error::bad_request(format!(
                "`{key}` is not allowed in the request body; set general_settings.allow_client_side_credentials: true to allow it"
            ))
            .with_param(key));
        }
    }
    if obj.get("mock_response").is_some_and(is_mock_error) {
        return Err(Error::bad_request(
            "a `mock_response` that raises an error is not allowed in the request body (it would count toward the deployment's cooldown); set general_settings.allow_client_side_credentials: true to allow it",
        )
        .with_param("mock_response"));
    }
    Ok(())
}

fn check_model(obj: &mut Map<String, Value>, default_model: Option<&str>) -> Result<(), Error> {
    match (obj.get("model"), default_model) {
        (Some(Value::String(s)), _) if !s.trim().is_empty() => Ok(()),
        (None | Some(Value::Null), Some(d)) => {
            obj.insert("model".into(), Value::String(d.to_string()));
            Ok(())
        }
        (None | Some(Value::Null), None) => {
            Err(Error::bad_request("missing required parameter `model`").with_param("model"))
        }
        _ => Err(Error::bad_request("`model` must be a non-empty string").with_param("model")),
    }
}

/// `api_base` without credentials that a URL could carry (userinfo, query).
fn public_base(url: &str) -> String {
    let no_query = url.split(['?', '#']).next().unwrap_or_default();
    match no_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            [scheme, "://", host, path].concat()
        }
        None => no_query.to_string(),
    }
}

/// LiteLLM's routing headers.
fn routed(mut reply: Reply, route: &RouteInfo, meta: &CallMeta, cost: Option<Usd>) -> Reply {
    let h = &mut reply.headers;
    h.push(("x-litellm-model-id".into(), route.deployment_id.clone()));
    h.push(("x-litellm-model-group".into(), route.model_group.clone()));
    h.push((
        "x-litellm-model-name".into(),
        route.deployment_model.clone(),
    ));
    if let Some(base) = route.api_base.as_deref().or(meta.api_base.as_deref()) {
        h.push(("x-litellm-model-api-base".into(), public_base(base)));
    }
    h.push((
        "x-litellm-attempted-retries".into(),
        route.retries.to_string(),
    ));
    h.push((
        "x-litellm-attempted-fallbacks".into(),
        route.fallbacks.to_string(),
    ));
    if let Some(c) = cost {
        h.push(("x-litellm-response-cost".into(), c.to_f64_text()));
    }
    if reply.meter.is_none() {
        reply.meter = Some(Meter::finished(route, meta, cost));
    }
    reply
}

/// A 200 JSON reply, serialized straight from the typed response (no `Value` in between: that
/// round trip was a tree of allocations built and dropped per request).
fn ok_json<T: Serialize>(value: &T) -> Result<Reply, Error> {
    let body = serde_json::to_vec(value)
        .map_err(|e| Error::new(ErrorKind::InternalServer, format!("response encoding: {e}")))?;
    Ok(Reply::json_bytes(200, body))
}

fn secrets(gw: &Gateway) -> Vec<String> {
    gw.secrets().into_iter().map(String::from).collect()
}

/// A non-chat call's result for the router's bookkeeping.
struct Out<T> {
    generation: Generation<T>,
    options: CallOptions,
    usage: Option<Usage>,
}

impl<T> RouteOutput for Out<T> {
    fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }
}

/// Options for one planned call, parsed by `parse` from the router's merged body.
fn options_for<R>(
    dc: &DeploymentCall,
    parse: fn(Value) -> edgellm::Result<(R, CallOptions)>,
) -> Result<(R, CallOptions), Error> {
    let (req, mut opts) = parse(Value::Object(dc.body.clone()))?;
    dc.apply_pricing(&mut opts);
    Ok((req, opts))
}

/// Runs a body endpoint.
pub async fn run<H: Host>(
    cx: &Cx<'_, H>,
    endpoint: Endpoint,
    path_model: Option<String>,
    body: &[u8],
) -> Result<Reply, Error> {
    let mut obj = parse_object(body)?;
    if let Some(m) = path_model {
        obj.insert("model".into(), Value::String(m));
    }
    guard_client_params(cx.gw, &obj)?;
    let (host, env, router) = (cx.host, cx.env, &cx.gw.router);
    match endpoint {
        Endpoint::Chat => {
            check_model(&mut obj, None)?;
            chat(cx, obj).await
        }
        Endpoint::TextCompletion => {
            check_model(&mut obj, None)?;
            text_completion(cx, obj).await
        }
        Endpoint::Embeddings => {
            check_model(&mut obj, None)?;
            let r = router
                .route(host, obj, |dc| async move {
                    let (req, opts) = options_for(&dc, modality::parse_embedding)?;
                    let generation = modality::embedding(host, env, req, opts.clone()).await?;
                    let usage = Some(generation.response.usage.clone());
                    Ok(Out {
                        generation,
                        options: opts,
                        usage,
                    })
                })
                .await?;
            let g = &r.output.generation;
            let cost = cost::call_cost(
                &g.meta,
                Some(&g.response.model),
                r.output.usage.as_ref(),
                &r.output.options,
            );
            Ok(routed(ok_json(&g.response)?, &r.route, &g.meta, cost))
        }
        Endpoint::Images => {
            check_model(&mut obj, Some(modality::DEFAULT_IMAGE_MODEL))?;
            let r = router
                .route(host, obj, |dc| async move {
                    let (req, opts) = options_for(&dc, modality::parse_image_generation)?;
                    let generation =
                        modality::image_generation(host, env, req, opts.clone()).await?;
                    Ok(Out {
                        generation,
                        options: opts,
                        usage: None,
                    })
                })
                .await?;
            let g = &r.output.generation;
            Ok(routed(ok_json(&g.response)?, &r.route, &g.meta, None))
        }
        Endpoint::Moderations => {
            check_model(&mut obj, Some("omni-moderation-latest"))?;
            let r = router
                .route(host, obj, |dc| async move {
                    let (req, opts) = options_for(&dc, modality::parse_moderation)?;
                    let generation = modality::moderation(host, env, req, opts.clone()).await?;
                    Ok(Out {
                        generation,
                        options: opts,
                        usage: None,
                    })
                })
                .await?;
            let g = &r.output.generation;
            Ok(routed(ok_json(&g.response)?, &r.route, &g.meta, None))
        }
        Endpoint::Rerank => {
            check_model(&mut obj, None)?;
            let r = router
                .route(host, obj, |dc| async move {
                    let (req, opts) = options_for(&dc, modality::parse_rerank)?;
                    let generation = modality::rerank(host, env, req, opts.clone()).await?;
                    Ok(Out {
                        generation,
                        options: opts,
                        usage: None,
                    })
                })
                .await?;
            let g = &r.output.generation;
            Ok(routed(ok_json(&g.response)?, &r.route, &g.meta, None))
        }
        _ => Err(Error::new(ErrorKind::InternalServer, "not a body endpoint")),
    }
}

async fn chat<H: Host>(cx: &Cx<'_, H>, obj: Map<String, Value>) -> Result<Reply, Error> {
    let router = &cx.gw.router;
    if obj.get("stream").and_then(Value::as_bool) == Some(true) {
        let call = cx.log.chat(&obj);
        let s = call.started(
            router
                .completion_stream(cx.host, cx.env, Value::Object(obj))
                .await,
        )?;
        let meter = Meter::pending(&s.route, &s.meta);
        let stream = s
            .stream
            .on_end(meter.on_stream_end(s.meta.clone(), s.options.clone()));
        let body: super::ByteStream = if cx.log.is_on() {
            // Loggers record the answer's content: every chunk is decoded for them.
            Box::pin(Sse::new(
                call.stream(stream, &s.meta, &s.route, &s.options),
                secrets(cx.gw),
            ))
        } else {
            // The upstream's events go out as sent where nothing rewrites them (decoding and
            // re-framing every chunk was most of a stream's CPU); usage, errors and the end
            // are still decoded, so spend, limits and `[DONE]` are as before.
            // Only the upstream body is waited for: the Worker edge may pump it from JS.
            super::sse::drivable(Box::pin(Sse::new(stream.into_sse(), secrets(cx.gw))))
        };
        let mut reply = Reply::sse(body);
        reply.meter = Some(meter);
        return Ok(routed(reply, &s.route, &s.meta, None));
    }
    // Only a logged call is recorded: without loggers the recorder would be a copy of the
    // request's log (its id and caller) made and dropped per request.
    let call = cx.log.is_on().then(|| cx.log.chat(&obj));
    // The answer as JSON text: an OpenAI-format upstream's body goes out as it came when
    // nothing rewrites it (parsing and re-serializing it was ≈ 6 % of a request's CPU).
    let r = router
        .completion_wire(cx.host, cx.env, Value::Object(obj))
        .await;
    let c = log_wire(call.as_ref(), r)?;
    let RoutedWire {
        completion: w,
        route,
        response_cost,
        ..
    } = c;
    Ok(routed(
        Reply::json_bytes(200, w.body),
        &route,
        &w.meta,
        response_cost,
    ))
}

/// Records a non-stream chat call for the loggers (`call` is there when any is configured:
/// only then is the response read back from its text) and passes the result through.
fn log_wire(call: Option<&ChatCall>, r: Result<RoutedWire, Error>) -> Result<RoutedWire, Error> {
    let Some(call) = call else {
        return r;
    };
    match r {
        Ok(w) => {
            // The text is a chat completion by construction (`engine::completion_wire`).
            if let Ok(response) = w.completion.response() {
                let done = RoutedCompletion {
                    completion: Completion {
                        response,
                        meta: w.completion.meta.clone(),
                    },
                    route: w.route.clone(),
                    options: w.options.clone(),
                    response_cost: w.response_cost,
                };
                // Only the recording matters here; the result is `done` itself.
                let _ = call.completion(Ok(done));
            }
            Ok(w)
        }
        Err(e) => {
            let _ = call.completion(Err(e.clone()));
            Err(e)
        }
    }
}

/// A started text-completion stream and the options it was called with (its pricing), for
/// the router.
struct TextStreamOut(modality::TextStreamCompletion, CallOptions);

impl RouteOutput for TextStreamOut {}

async fn text_completion<H: Host>(cx: &Cx<'_, H>, obj: Map<String, Value>) -> Result<Reply, Error> {
    let (host, env, router) = (cx.host, cx.env, &cx.gw.router);
    if obj.get("stream").and_then(Value::as_bool) == Some(true) {
        // Retries and fallbacks apply until the upstream answered with its headers.
        let r = router
            .route(host, obj, |dc| async move {
                let (req, opts) = options_for(&dc, modality::parse_text_completion)?;
                Ok(TextStreamOut(
                    modality::text_completion_stream(host, env, req, opts.clone()).await?,
                    opts,
                ))
            })
            .await?;
        let (started, opts) = (r.output.0, r.output.1);
        let meter = Meter::pending(&r.route, &started.meta);
        let hook = meter.on_stream_end(started.meta.clone(), opts);
        let stream = started.stream.map_inner(|s| s.on_end(hook));
        let mut reply = Reply::sse(Box::pin(Sse::new(stream, secrets(cx.gw))));
        reply.meter = Some(meter);
        return Ok(routed(reply, &r.route, &started.meta, None));
    }
    let r = router
        .route(host, obj, |dc| async move {
            let (req, opts) = options_for(&dc, modality::parse_text_completion)?;
            let generation = modality::text_completion(host, env, req, opts.clone()).await?;
            let usage = generation.response.usage.clone();
            Ok(Out {
                generation,
                options: opts,
                usage,
            })
        })
        .await?;
    let g = &r.output.generation;
    let cost = cost::call_cost(
        &g.meta,
        Some(&g.response.model),
        r.output.usage.as_ref(),
        &r.output.options,
    );
    Ok(routed(ok_json(&g.response)?, &r.route, &g.meta, cost))
}

/// `GET /v1/models`.
pub fn models(gw: &Gateway) -> Reply {
    let data: Vec<Value> = gw
        .config()
        .model_names()
        .into_iter()
        .map(
            |id| json!({"id": id, "object": "model", "created": 1677610602, "owned_by": "edgellm"}),
        )
        .collect();
    Reply::json(200, &json!({"object": "list", "data": data}))
}

/// `GET /v1/models/{model}`.
pub fn model(gw: &Gateway, name: &str) -> Reply {
    match gw.config().resolve_model(name) {
        Some(_) => Reply::json(
            200,
            &json!({"id": name, "object": "model", "created": 1677610602, "owned_by": "edgellm"}),
        ),
        None => Reply::error(
            &Error::new(
                ErrorKind::NotFound,
                format!("The model `{name}` does not exist on this gateway."),
            )
            .with_param("model"),
        ),
    }
}

/// `GET /v1/model/info`: every deployment, credentials removed, with the price table's
/// entry for its model under the config's own `model_info`.
pub fn model_info(gw: &Gateway) -> Reply {
    let data: Vec<Value> = gw
        .config()
        .model_list
        .iter()
        .map(|d| {
            let params: Map<String, Value> = d
                .litellm_params
                .iter()
                .filter(|(k, _)| !is_secret_name(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut info = match cost::get_model_info(d.model(), None) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            };
            info.extend(d.model_info.clone());
            info.insert("id".into(), Value::String(d.id.clone()));
            json!({"model_name": d.model_name, "litellm_params": params, "model_info": info})
        })
        .collect();
    Reply::json(200, &json!({"data": data}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_errors_are_recognized() {
        for v in [
            json!("litellm.RateLimitError"),
            json!("InternalServerError"),
            json!("litellm.Timeout"),
        ] {
            assert!(is_mock_error(&v), "{v}");
        }
        for v in [json!("Hello"), json!({"id": "x"}), json!(42)] {
            assert!(!is_mock_error(&v), "{v}");
        }
    }

    #[test]
    fn public_base_drops_credentials() {
        assert_eq!(
            public_base("https://user:pw@api.example/v1?key=abc"),
            "https://api.example/v1"
        );
        assert_eq!(
            public_base("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            public_base("https://x.openai.azure.com/openai#frag"),
            "https://x.openai.azure.com/openai"
        );
    }
}
