//! The gateway's OpenAPI 3.1 document, generated from the types the code (de)serializes, and
//! the checks that keep it true:
//!
//! - `worker/assets/openapi.json` (served at `/openapi.json`, read by `/docs`) equals what the
//!   types generate; `UPDATE_OPENAPI=1 cargo test -p edgellm-worker --test openapi` rewrites it.
//! - Every documented path reaches its endpoint in the router, and every path the router
//!   answers is documented.
//! - The gateway's own JSON answers parse into the documented bodies.

mod bodies;
mod document;
mod management;
mod management_replies;
mod ops;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use futures_executor::block_on;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use edgellm::testing::MockHost;
use edgellm_worker::app::routes::{self, Endpoint, Matched};
use edgellm_worker::app::{self, Begin, Gateway, Head, Reply};

fn assets_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/openapi.json")
}

fn rendered() -> String {
    let mut text = serde_json::to_string_pretty(&document::document()).expect("json");
    text.push('\n');
    text
}

#[test]
fn committed_openapi_json_matches_the_types() {
    let want = rendered();
    let path = assets_file();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "worker/assets/openapi.json is out of date with the types and routes; run \
         `UPDATE_OPENAPI=1 cargo test -p edgellm-worker --test openapi` and commit it"
    );
}

/// Every `(METHOD, path)` the document lists.
fn documented() -> Vec<(String, String, Value)> {
    let doc = document::document();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.to_ascii_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

fn same_endpoint(a: &Endpoint, b: &Endpoint) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

#[test]
fn every_documented_path_reaches_its_endpoint() {
    let mut checked = 0;
    for op in ops::all() {
        for path in &op.paths {
            let concrete = path.replace("{model}", "my-model");
            match routes::route(op.endpoint.method(), &concrete) {
                Matched::Found(e, _) => assert!(
                    same_endpoint(&e, &op.endpoint),
                    "{path} routes to {e:?}, documented as {:?}",
                    op.endpoint
                ),
                other => panic!(
                    "{} {path} is documented but routes to {other:?}",
                    op.endpoint.method()
                ),
            }
            checked += 1;
        }
    }
    for (method, path) in management::routes() {
        assert!(
            edgellm_worker::keys::api::is_management(path),
            "{method} {path} is documented as a management route but is not one"
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        documented().len(),
        "each documented operation is checked once"
    );
}

/// Paths built from every segment the router knows, with and without the prefixes it accepts.
fn candidate_paths() -> BTreeSet<String> {
    let ops = [
        "chat/completions",
        "completions",
        "embeddings",
        "images/generations",
        "moderations",
        "rerank",
        "models",
        "models/my-model",
        "model/info",
        "health/liveliness",
        "health/liveness",
        "health/readiness",
        "audio/speech",
        "audio/transcriptions",
        "responses",
        "messages",
        "batches",
        "files",
        "assistants",
        "threads",
        "fine_tuning/jobs",
        "health",
        "docs",
        "openapi.json",
        "",
    ];
    let prefixes = [
        "/",
        "/v1/",
        "/openai/deployments/my-model/",
        "/engines/my-model/",
        "/openai/",
    ];
    let mut out = BTreeSet::new();
    for p in prefixes {
        for op in ops {
            out.insert(format!("{p}{op}"));
            if !op.is_empty() {
                out.insert(format!("{p}{op}/"));
            }
        }
    }
    out
}

#[test]
fn every_path_the_router_answers_is_documented() {
    let docs = documented();
    let documented: Vec<(String, String)> = docs
        .iter()
        .map(|(m, p, _)| (m.clone(), p.replace("{model}", "my-model")))
        .collect();
    let mut found = 0;
    for path in candidate_paths() {
        for method in ["GET", "POST"] {
            if let Matched::Found(..) = routes::route(method, &path) {
                found += 1;
                let trimmed = match path.trim_end_matches('/') {
                    "" => "/".to_string(),
                    p => p.to_string(),
                };
                assert!(
                    documented.contains(&(method.to_string(), trimmed.clone())),
                    "the router answers {method} {path}, which /openapi.json does not document"
                );
            }
        }
    }
    assert!(found >= 30, "the sweep reached only {found} routes");
}

#[test]
fn security_follows_the_router() {
    for op in ops::all() {
        for (method, path, doc) in documented() {
            if op.paths.contains(&path) && method == op.endpoint.method() {
                let open = doc["security"] == json!([]);
                assert_eq!(open, op.endpoint.is_public(), "{method} {path}");
            }
        }
    }
}

/// Every `$ref` points at a component, operation ids are unique, and path parameters are
/// declared.
#[test]
fn document_is_self_consistent() {
    let doc = document::document();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|c| refs(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50);
    for r in all {
        let (kind, name) = r
            .strip_prefix("#/components/")
            .and_then(|r| r.split_once('/'))
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(
            doc["components"][kind].get(name).is_some(),
            "dangling $ref {r}"
        );
    }
    let mut ids = BTreeSet::new();
    for (method, path, op) in documented() {
        let id = op["operationId"].as_str().unwrap().to_string();
        assert!(ids.insert(id.clone()), "duplicate operationId {id}");
        let declared: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let in_path: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        assert_eq!(declared, in_path, "{method} {path}");
        assert!(op["responses"]["200"].is_object(), "{method} {path}");
        assert!(op["responses"]["default"].is_object(), "{method} {path}");
    }
    // Shared wire types keep one component per side when their schemas differ.
    assert!(schemas.contains_key("ChatRequest") && schemas.contains_key("ChatResponse"));
    assert_eq!(doc["openapi"], "3.1.0");
}

const CONFIG: &str = r#"
model_list:
  - model_name: demo
    litellm_params:
      model: openai/edgellm-demo
      mock_response: "Hello"
      api_key: os.environ/UPSTREAM_KEY
  - model_name: embed
    litellm_params:
      model: openai/text-embedding-3-small
      api_key: os.environ/UPSTREAM_KEY
      api_base: http://127.0.0.1:9/v1
general_settings:
  master_key: os.environ/MASTER
"#;

fn env() -> HashMap<String, String> {
    [
        ("UPSTREAM_KEY", "sk-upstream-secret"),
        ("MASTER", "sk-master"),
        ("UNSET_WARNING", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn ask(gw: &Gateway, method: &str, path: &str, auth: bool, body: &[u8]) -> Reply {
    let mut headers = vec![];
    if auth {
        headers.push(("authorization".to_string(), "Bearer sk-master".to_string()));
    }
    let head = Head {
        method: method.into(),
        path: path.into(),
        headers,
    };
    match app::begin(Ok(gw), &head) {
        Begin::Done(r) => r,
        Begin::Body {
            endpoint,
            path_model,
            ..
        } => block_on(app::run(
            &MockHost::new(),
            &env(),
            gw,
            endpoint,
            path_model,
            body,
        )),
    }
}

fn parses<T: DeserializeOwned>(r: &Reply, what: &str) -> T {
    let body = r
        .json_body()
        .unwrap_or_else(|| panic!("{what}: no JSON body"));
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{what}: {body} does not match its documented schema: {e}"))
}

#[test]
fn gateway_replies_match_their_documented_bodies() {
    let gw = Gateway::load(CONFIG, "test", &env()).unwrap();
    let r = ask(&gw, "GET", "/v1/models", true, b"");
    assert_eq!(r.status, 200);
    let list: bodies::ModelList = parses(&r, "models");
    assert_eq!(list.data.len(), 2);
    let r = ask(&gw, "GET", "/v1/models/demo", true, b"");
    let _: bodies::ModelCard = parses(&r, "model");
    let r = ask(&gw, "GET", "/v1/model/info", true, b"");
    let info: bodies::ModelInfoList = parses(&r, "model info");
    assert!(!info.data[0].litellm_params.contains_key("api_key"));
    let r = ask(&gw, "GET", "/health/liveliness", false, b"");
    let _: bodies::Liveliness = parses(&r, "liveliness");
    for auth in [false, true] {
        let r = ask(&gw, "GET", "/health/readiness", auth, b"");
        let ready: bodies::Readiness = parses(&r, "readiness");
        assert_eq!(ready.config_warning_messages.is_some(), auth);
    }
    let r = ask(&gw, "GET", "/", false, b"");
    let _: bodies::Root = parses(&r, "root");
    // Errors from each layer: router, auth, body parsing, the model check, the core.
    let chat = br#"{"model": "nope", "messages": [{"role": "user", "content": "Hi"}]}"#;
    for (method, path, auth, body, status) in [
        ("GET", "/v2/nothing", true, &b""[..], 404),
        ("DELETE", "/v1/models", true, b"", 405),
        ("GET", "/v1/models", false, b"", 401),
        ("GET", "/v1/models/nope", true, b"", 404),
        ("POST", "/v1/chat/completions", true, b"{not json", 400),
        (
            "POST",
            "/v1/chat/completions",
            true,
            b"{\"messages\": []}",
            400,
        ),
        ("POST", "/v1/chat/completions", true, chat, 400),
        (
            "POST",
            "/v1/embeddings",
            true,
            b"{\"model\": \"embed\", \"input\": 5}",
            400,
        ),
    ] {
        let r = ask(&gw, method, path, auth, body);
        let e: bodies::ErrorResponse = parses(&r, &format!("{method} {path}"));
        assert!(
            r.status >= 400 && !e.error.message.is_empty(),
            "{method} {path}: {r:?}"
        );
        if status != 400 || r.status == 400 {
            assert_eq!(r.status, status, "{method} {path}: {r:?}");
        }
    }
    let broken = Head {
        method: "GET".into(),
        path: "/health/readiness".into(),
        headers: vec![],
    };
    let Begin::Done(r) = app::begin(Err("bad config"), &broken) else {
        panic!("readiness answers from the head")
    };
    assert_eq!(r.status, 503);
    let _: bodies::ErrorResponse = parses(&r, "readiness with a broken config");
}

/// A chat answer from the demo deployment has every field the serialize-side schema marks
/// required.
#[test]
fn chat_answer_has_the_documented_required_fields() {
    let gw = Gateway::load(CONFIG, "test", &env()).unwrap();
    let body = br#"{"model": "demo", "messages": [{"role": "user", "content": "Hi"}]}"#;
    let r = ask(&gw, "POST", "/v1/chat/completions", true, body);
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json_body().unwrap();
    let doc = document::document();
    let schemas = &doc["components"]["schemas"];
    let required = |name: &str| -> Vec<String> {
        schemas[name]["required"]
            .as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    for field in required("ChatResponse") {
        assert!(
            v.get(&field).is_some(),
            "ChatResponse.{field} missing in {v}"
        );
    }
    let choice_schema = if schemas.get("ChoiceOutput").is_some() {
        "ChoiceOutput"
    } else {
        "Choice"
    };
    for field in required(choice_schema) {
        assert!(
            v["choices"][0].get(&field).is_some(),
            "Choice.{field} missing in {v}"
        );
    }
}
