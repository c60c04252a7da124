//! Builds the OpenAPI 3.1 document: paths from the route descriptions ([`super::ops`],
//! [`super::management`]), schemas from the types the code (de)serializes. Request schemas are
//! generated for deserialization (what the gateway accepts), response schemas for
//! serialization (what it writes), so `#[serde(default)]` fields are optional in requests and
//! present in responses.

use std::collections::BTreeMap;

use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use edgellm::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, ImageRequest,
    ImageResponse, ModerationRequest, ModerationResponse, RerankRequest, RerankResponse,
    TextCompletionRequest, TextCompletionResponse,
};
use edgellm_worker::app::VERSION;

use super::bodies;
use super::management;
use super::ops::{self, Body, Op};

const REF: &str = "#/components/schemas/";

fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.contract = contract;
            s.meta_schema = None;
        })
        .into_generator()
}

/// Adds `T` (and what it refers to) to `generator`'s definitions under its own name.
pub fn add<T: JsonSchema>(generator: &mut SchemaGenerator) {
    let schema = T::json_schema(generator);
    generator
        .definitions_mut()
        .insert(T::schema_name().into_owned(), schema.to_value());
}

fn request_schemas() -> Map<String, Value> {
    let mut g = generator(Contract::Deserialize);
    add::<ChatRequest>(&mut g);
    add::<TextCompletionRequest>(&mut g);
    add::<EmbeddingRequest>(&mut g);
    add::<ImageRequest>(&mut g);
    add::<ModerationRequest>(&mut g);
    add::<RerankRequest>(&mut g);
    management::add_requests(&mut g);
    g.take_definitions(true)
}

fn response_schemas() -> Map<String, Value> {
    let mut g = generator(Contract::Serialize);
    add::<ChatResponse>(&mut g);
    add::<ChatChunk>(&mut g);
    add::<TextCompletionResponse>(&mut g);
    add::<EmbeddingResponse>(&mut g);
    add::<ImageResponse>(&mut g);
    add::<ModerationResponse>(&mut g);
    add::<RerankResponse>(&mut g);
    add::<bodies::ErrorResponse>(&mut g);
    add::<bodies::ModelList>(&mut g);
    add::<bodies::ModelCard>(&mut g);
    add::<bodies::ModelInfoList>(&mut g);
    add::<bodies::Liveliness>(&mut g);
    add::<bodies::Readiness>(&mut g);
    add::<bodies::Root>(&mut g);
    management::add_responses(&mut g);
    g.take_definitions(true)
}

/// Rewrites `$ref`s to renamed components.
fn rename_refs(v: &mut Value, renamed: &BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref") {
                if let Some(new) = r.strip_prefix(REF).and_then(|n| renamed.get(n)) {
                    *r = format!("{REF}{new}");
                }
            }
            m.values_mut().for_each(|c| rename_refs(c, renamed));
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rename_refs(c, renamed)),
        _ => {}
    }
}

/// Gives integer formats their bounds, so that generated examples fit the Rust types (a `u32`
/// field refuses 2^40 with a 400, which is right, but says nothing about the endpoint).
fn bound_integers(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let bounds: Option<(i128, i128)> = match m.get("format").and_then(Value::as_str) {
                Some("uint8") => Some((0, u8::MAX.into())),
                Some("uint16") => Some((0, u16::MAX.into())),
                Some("uint32") => Some((0, u32::MAX.into())),
                Some("uint64") => Some((0, u64::MAX.into())),
                Some("int32") => Some((i32::MIN.into(), i32::MAX.into())),
                Some("int64") => Some((i64::MIN.into(), i64::MAX.into())),
                _ => None,
            };
            if let Some((lo, hi)) = bounds {
                m.entry("minimum").or_insert_with(|| json!(lo as i64));
                if let Ok(hi) = u64::try_from(hi) {
                    m.entry("maximum").or_insert_with(|| json!(hi));
                }
            }
            m.values_mut().for_each(bound_integers);
        }
        Value::Array(a) => a.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// Both sets in one map. A type used on both sides whose schemas differ (a field that is
/// optional on input but always written) gets its response form as `<Name>Output`.
fn merge(requests: Map<String, Value>, mut responses: Map<String, Value>) -> Map<String, Value> {
    let renamed: BTreeMap<String, String> = responses
        .iter()
        .filter(|(k, v)| requests.get(*k).is_some_and(|r| r != *v))
        .map(|(k, _)| (k.clone(), format!("{k}Output")))
        .collect();
    for (old, new) in &renamed {
        let v = responses.remove(old).expect("listed above");
        responses.insert(new.clone(), v);
    }
    responses
        .values_mut()
        .for_each(|v| rename_refs(v, &renamed));
    let mut all = requests;
    all.extend(responses);
    all.values_mut().for_each(bound_integers);
    all
}

/// What the gateway itself asks of `model` in the request components: a non-blank string
/// (`handlers::check_model`), with the default filled in where there is one.
fn gateway_model_rules(schemas: &mut Map<String, Value>) {
    for op in ops::all() {
        let Body::Json {
            schema,
            model_default,
            ..
        } = op.body
        else {
            continue;
        };
        let s = schemas.get_mut(schema).expect("request component");
        let model = &mut s["properties"]["model"];
        model["pattern"] = json!("\\S");
        if let Some(d) = model_default {
            model["default"] = json!(d);
            if let Some(req) = s["required"].as_array_mut() {
                req.retain(|f| f != "model");
            }
        }
    }
}

/// Emptiness rules the core checks by hand after deserializing (`options.rs` for `messages`,
/// `modality/parse.rs` for the others), so that valid examples are not refused for them.
fn non_empty_rules(schemas: &mut Map<String, Value>) {
    schemas["ChatRequest"]["properties"]["messages"]["minItems"] = json!(1);
    for name in ["Prompt", "EmbeddingInput"] {
        for branch in schemas[name]["anyOf"]
            .as_array_mut()
            .expect("untagged enum")
        {
            match branch["type"].as_str() {
                // An empty prompt is valid for completions (the model starts from nothing).
                Some("string") if name == "EmbeddingInput" => branch["minLength"] = json!(1),
                Some("array") => {
                    branch["minItems"] = json!(1);
                    match branch["items"]["type"].as_str() {
                        Some("string") => branch["items"]["minLength"] = json!(1),
                        Some("array") => branch["items"]["minItems"] = json!(1),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
    let rerank = &mut schemas["RerankRequest"]["properties"];
    rerank["query"]["minLength"] = json!(1);
    rerank["documents"]["minItems"] = json!(1);
}

/// `<Name>ForDeployment`: the body where the path names the model (Azure's
/// `/openai/deployments/{model}/…`, `/engines/{model}/…`), so `model` may be left out.
fn deployment_variant(schemas: &mut Map<String, Value>, name: &str) -> String {
    let variant = format!("{name}ForDeployment");
    if !schemas.contains_key(&variant) {
        let mut s = schemas[name].clone();
        if let Some(req) = s["required"].as_array_mut() {
            req.retain(|f| f != "model");
        }
        s["description"] = json!(format!(
            "{} The model comes from the path; a `model` in the body is ignored.",
            s["description"].as_str().unwrap_or_default()
        ));
        schemas.insert(variant.clone(), s);
    }
    variant
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{REF}{name}") })
}

fn request_id_header() -> Value {
    json!({"x-request-id": {"$ref": "#/components/headers/RequestId"}})
}

/// The error responses operations share, by name: (name, description).
const ERRORS: &[(&str, &str)] = &[
    ("BadRequest", "Invalid JSON, a missing or invalid parameter, a parameter the provider does not support, or a context window exceeded."),
    ("Unauthorized", "No key, a wrong key, or (model calls) the provider refused the gateway's credentials."),
    ("NotFound", "No such model (or key, user, team) on this gateway."),
    ("TooLarge", "The body is larger than `general_settings.max_request_size_mb`."),
    ("RateLimited", "Rate limited (by the provider or a key's limits), or every deployment of the group is cooling down."),
    ("ConfigError", "The config did not load."),
    ("Error", "Any other error, with the status of its kind (OpenAI's and LiteLLM's classes): 402 budget, 403, 405 wrong method, 408 timeout, 422, 500, 502, 503 provider unavailable, …"),
];

/// A reference to the shared error response `name` (one of [`ERRORS`]).
pub fn error_response(name: &str) -> Value {
    assert!(
        ERRORS.iter().any(|(n, _)| *n == name),
        "unknown error response {name}"
    );
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn error_responses() -> Value {
    let all: Map<String, Value> = ERRORS
        .iter()
        .map(|(name, description)| {
            let r = json!({
                "description": description,
                "headers": request_id_header(),
                "content": {"application/json": {"schema": schema_ref("ErrorResponse")}}
            });
            (name.to_string(), r)
        })
        .collect();
    Value::Object(all)
}

/// A 200 with a JSON body of component `name`.
pub fn ok_response(description: &str, name: &str) -> Value {
    json!({
        "description": description,
        "headers": request_id_header(),
        "content": {"application/json": {"schema": schema_ref(name)}}
    })
}

/// Which alias a path is, for its `operationId` and summary.
fn alias_of(path: &str) -> Option<(&'static str, &'static str)> {
    if path.starts_with("/openai/deployments/") {
        Some((
            "Deployment",
            "Azure OpenAI style: the model is the deployment in the path.",
        ))
    } else if path.starts_with("/engines/") {
        Some((
            "Engine",
            "LiteLLM's engines route: the model is in the path.",
        ))
    } else if path == "/health/liveness" {
        Some(("Liveness", "The same probe under LiteLLM's other spelling."))
    } else if !path.starts_with("/v1/") && !path.starts_with("/health/") && path != "/" {
        Some((
            "Unversioned",
            "The same operation without the `/v1` prefix.",
        ))
    } else {
        None
    }
}

fn operation(op: &Op, path: &str, schemas: &mut Map<String, Value>) -> Value {
    let alias = alias_of(path);
    let mut o = Map::new();
    o.insert(
        "operationId".into(),
        json!(format!("{}{}", op.id, alias.map_or("", |a| a.0))),
    );
    o.insert("tags".into(), json!([op.tag]));
    o.insert("summary".into(), json!(op.summary));
    let description = match alias {
        Some((_, why)) => format!("{} {why}", op.description),
        None => op.description.to_string(),
    };
    o.insert("description".into(), json!(description));
    if op.endpoint.is_public() {
        o.insert("security".into(), json!([]));
    }
    if path.contains("{model}") {
        o.insert(
            "parameters".into(),
            json!([{
                "name": "model",
                "in": "path",
                "required": true,
                "description": "A model group (`model_name`) of the config; percent-encode `/`.",
                "schema": {"type": "string", "minLength": 1}
            }]),
        );
    }
    let mut responses = Map::new();
    match op.body {
        Body::Json {
            schema,
            stream_chunk,
            ..
        } => {
            let body_schema = if path.contains("{model}") {
                deployment_variant(schemas, schema)
            } else {
                schema.to_string()
            };
            o.insert(
                "requestBody".into(),
                json!({
                    "required": true,
                    "content": {"application/json": {"schema": schema_ref(&body_schema)}}
                }),
            );
            let mut ok = ok_response("The result, in OpenAI's shape.", op.response);
            if let Some(chunk) = stream_chunk {
                ok["content"]["text/event-stream"] = json!({
                    "schema": {
                        "type": "string",
                        "description": format!("With `stream: true`: Server-Sent Events, one `data: <{chunk} JSON>` per chunk, then `data: [DONE]`. An error after the first chunk arrives as a `data: {{\"error\": …}}` event.")
                    }
                });
                ok["description"] = json!(format!(
                    "The result (`{}`), or with `stream: true` a stream of `{chunk}` events.",
                    op.response
                ));
            }
            responses.insert("200".into(), ok);
            responses.insert("400".into(), error_response("BadRequest"));
            responses.insert("401".into(), error_response("Unauthorized"));
            responses.insert("404".into(), error_response("NotFound"));
            responses.insert("413".into(), error_response("TooLarge"));
            responses.insert("429".into(), error_response("RateLimited"));
        }
        Body::None => {
            responses.insert("200".into(), ok_response(op.summary, op.response));
            if !op.endpoint.is_public() {
                responses.insert("401".into(), error_response("Unauthorized"));
            }
            if path.contains("{model}") {
                responses.insert("404".into(), error_response("NotFound"));
            }
            if op.id == "readiness" {
                responses.insert("503".into(), error_response("ConfigError"));
            }
        }
    }
    responses.insert("default".into(), error_response("Error"));
    o.insert("responses".into(), Value::Object(responses));
    Value::Object(o)
}

const DESCRIPTION: &str = "An OpenAI-compatible LLM gateway on Cloudflare Workers, configured by a LiteLLM `config.yaml`. \
Send OpenAI requests with `model` set to a model group of the config (`GET /v1/models` lists them); \
the gateway routes them to the configured providers, with retries, fallbacks and cooldowns.\n\n\
**Keys.** With a master key (`general_settings.master_key` or `LITELLM_MASTER_KEY`) every route but the \
health probes needs it, or a virtual key from `/key/generate`, as `Authorization: Bearer <key>`, \
`x-api-key` or `api-key`. Without a master key the gateway is open.\n\n\
**Errors** are OpenAI's `{\"error\": {\"message\", \"type\", \"param\", \"code\"}}` with the status OpenAI's SDKs map to \
the right exception class. Every response carries `x-request-id`; routed calls add LiteLLM's \
`x-litellm-model-id`, `x-litellm-model-group`, `x-litellm-attempted-retries`, `x-litellm-response-cost`, ….\n\n\
This document is generated from the Rust types the gateway (de)serializes (`worker/tests/openapi/`).";

/// The whole document.
pub fn document() -> Value {
    let mut schemas = merge(request_schemas(), response_schemas());
    gateway_model_rules(&mut schemas);
    non_empty_rules(&mut schemas);
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for op in ops::all() {
        let method = op.endpoint.method().to_ascii_lowercase();
        for path in &op.paths {
            let operation = operation(&op, path, &mut schemas);
            paths
                .entry(path.clone())
                .or_default()
                .insert(method.clone(), operation);
        }
    }
    for (path, method, operation) in management::operations() {
        paths
            .entry(path.to_string())
            .or_default()
            .insert(method.to_ascii_lowercase(), operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "edgellm gateway",
            "version": VERSION,
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"}
        },
        "tags": [
            {"name": "chat", "description": "Chat completions (streaming as Server-Sent Events)."},
            {"name": "completions", "description": "Legacy text completions."},
            {"name": "embeddings", "description": "Embeddings."},
            {"name": "images", "description": "Image generation."},
            {"name": "moderations", "description": "Moderation."},
            {"name": "rerank", "description": "Reranking (Cohere's shape)."},
            {"name": "models", "description": "The configured model groups and deployments."},
            {"name": "health", "description": "Probes; no key needed."},
            {"name": "keys", "description": "Virtual keys (LiteLLM's `/key/*`); master key only."},
            {"name": "users", "description": "Internal users (`/user/*`); master key only."},
            {"name": "teams", "description": "Teams (`/team/*`); master key only."},
            {"name": "spend", "description": "Spend logs and totals (`/spend/*`, `/global/spend*`); master key only."}
        ],
        "security": [{"bearer": []}, {"x-api-key": []}, {"api-key": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The master key or a virtual key: `Authorization: Bearer <key>` (OpenAI clients)."
                },
                "x-api-key": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-api-key",
                    "description": "The same key as Anthropic clients send it."
                },
                "api-key": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "api-key",
                    "description": "The same key as Azure OpenAI clients send it."
                }
            },
            "headers": {
                "RequestId": {
                    "description": "The request's id: the caller's `x-request-id` when it is a plain token, else a new UUID. Also in `x-litellm-call-id`.",
                    "required": true,
                    "schema": {"type": "string"}
                }
            },
            "responses": error_responses(),
            "schemas": schemas
        }
    })
}
