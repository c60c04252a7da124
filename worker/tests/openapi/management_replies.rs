//! The management handlers' real answers (in-memory stores, `MockHost`) against the types in
//! [`super::management`]: each answer must parse and serialize back to exactly itself, so a
//! field the handlers add, drop or retype shows up here.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_executor::block_on;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use edgellm::testing::{MockHost, Reply as Canned};
use edgellm_worker::app::{self, Begin, Gateway, Head, Reply};
use edgellm_worker::keys::counter::{CounterState, Op, Outcome};
use edgellm_worker::keys::store::{Counters, Kv, Listed, Page};
use edgellm_worker::keys::Keys;

use super::bodies::ErrorResponse;
use super::management as m;

const MASTER: &str = "sk-master-openapi";

const CONFIG: &str = r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-upstream
      api_base: http://127.0.0.1:9/v1
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
general_settings:
  master_key: sk-master-openapi
"#;

/// KV in a map (the crate's own in-memory stores are `cfg(test)`, out of reach of this target).
#[derive(Clone, Default)]
struct MemKv(Rc<RefCell<BTreeMap<String, Entry>>>);

/// A value and its listing metadata.
type Entry = (String, Option<Value>);

impl Kv for MemKv {
    async fn get(&self, name: &str) -> edgellm::Result<Option<String>> {
        Ok(self.0.borrow().get(name).map(|(v, _)| v.clone()))
    }
    async fn put(
        &self,
        name: &str,
        value: &str,
        metadata: Option<Value>,
        _ttl_s: Option<u64>,
    ) -> edgellm::Result<()> {
        self.0
            .borrow_mut()
            .insert(name.into(), (value.into(), metadata));
        Ok(())
    }
    async fn delete(&self, name: &str) -> edgellm::Result<()> {
        self.0.borrow_mut().remove(name);
        Ok(())
    }
    async fn list(
        &self,
        prefix: &str,
        _cursor: Option<String>,
        _limit: u64,
    ) -> edgellm::Result<Page> {
        let entries = self
            .0
            .borrow()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(name, (_, metadata))| Listed {
                name: name.clone(),
                metadata: metadata.clone(),
            })
            .collect();
        Ok(Page {
            entries,
            cursor: None,
        })
    }
}

/// Counter objects in a map, one op at a time.
#[derive(Clone, Default)]
struct MemCounters(Rc<RefCell<HashMap<String, CounterState>>>);

impl Counters for MemCounters {
    async fn call(&self, name: &str, op: &Op) -> edgellm::Result<Outcome> {
        Ok(self
            .0
            .borrow_mut()
            .entry(name.into())
            .or_default()
            .apply(op.clone())
            .0)
    }
}

type Spawned = Rc<RefCell<Vec<Pin<Box<dyn Future<Output = ()>>>>>>;

struct World {
    host: Rc<MockHost>,
    gw: Gateway,
    keys: Keys<MemKv, MemCounters>,
    spawned: Spawned,
    n: Cell<u8>,
}

impl World {
    fn new() -> Self {
        let host = Rc::new(MockHost::new());
        let clock = host.clone();
        let spawned: Spawned = Rc::default();
        let sink = spawned.clone();
        World {
            gw: Gateway::load(CONFIG, "test", &HashMap::new()).unwrap(),
            keys: Keys {
                kv: MemKv::default(),
                counters: MemCounters::default(),
                spawn: Rc::new(move |f| sink.borrow_mut().push(f)),
                clock: Rc::new(move || edgellm::Host::now_ms(&*clock)),
                log_ttl_s: edgellm_worker::keys::DEFAULT_LOG_TTL_S,
            },
            host,
            spawned,
            n: Cell::new(0),
        }
    }

    fn call(&self, method: &str, target: &str, key: &str, body: Option<Value>) -> Reply {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let head = Head {
            method: method.into(),
            path: path.into(),
            headers: vec![("authorization".into(), format!("Bearer {key}"))],
        };
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let for_keys = bytes.clone();
        let env = HashMap::new();
        let n = self.n.get().wrapping_add(1);
        self.n.set(n);
        let handled = block_on(self.keys.handle(
            &*self.host,
            &env,
            &self.gw,
            &head,
            query,
            "req-openapi",
            &move || [n; 32],
            move |_| async move { Ok(for_keys) },
        ));
        let reply = handled.unwrap_or_else(|| match app::begin(Ok(&self.gw), &head) {
            Begin::Done(r) => r,
            Begin::Body {
                endpoint,
                path_model,
                ..
            } => block_on(app::run(
                &*self.host,
                &env,
                &self.gw,
                endpoint,
                path_model,
                &bytes,
            )),
        });
        // Spend booking that outlives the response.
        let pending: Vec<_> = self.spawned.borrow_mut().drain(..).collect();
        for f in pending {
            block_on(f);
        }
        reply
    }

    fn admin(&self, method: &str, target: &str, body: Option<Value>) -> Value {
        let r = self.call(method, target, MASTER, body);
        assert_eq!(r.status, 200, "{method} {target}: {r:?}");
        r.json_body().unwrap()
    }
}

/// `value` parses as `T` and serializes back to itself.
fn round_trips<T: DeserializeOwned + Serialize>(value: &Value, what: &str) {
    let parsed: T = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("{what}: {value} does not parse as documented: {e}"));
    let back = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        &back, value,
        "{what}: the documented type loses or changes fields"
    );
}

#[test]
fn management_replies_match_their_documented_bodies() {
    let w = World::new();
    let generated = w.admin(
        "POST",
        "/key/generate",
        Some(
            json!({"key_alias": "ci", "models": ["gpt"], "max_budget": 5, "duration": "30d",
                    "metadata": {"team": "x"}}),
        ),
    );
    round_trips::<m::KeyGenerateResponse>(&generated, "/key/generate");
    let key = generated["key"].as_str().unwrap().to_string();
    let updated = w.admin(
        "POST",
        "/key/update",
        Some(json!({"key": key, "rpm_limit": 100})),
    );
    round_trips::<m::KeyObject>(&updated, "/key/update");
    for path in ["/key/block", "/key/unblock"] {
        let v = w.admin("POST", path, Some(json!({"key": key})));
        round_trips::<m::KeyObject>(&v, path);
    }
    let info = w.admin("GET", &format!("/key/info?key={key}"), None);
    round_trips::<m::KeyInfoResponse>(&info, "/key/info");
    for q in ["", "?return_full_object=true"] {
        let v = w.admin("GET", &format!("/key/list{q}"), None);
        round_trips::<m::KeyListResponse>(&v, "/key/list");
    }
    let user = w.admin(
        "POST",
        "/user/new",
        Some(json!({"user_id": "u1", "max_budget": "1.5"})),
    );
    round_trips::<m::UserObject>(&user, "/user/new");
    let team = w.admin(
        "POST",
        "/team/new",
        Some(json!({"team_id": "t1", "team_alias": "T"})),
    );
    round_trips::<m::TeamObject>(&team, "/team/new");
    w.admin(
        "POST",
        "/key/generate",
        Some(json!({"user_id": "u1", "team_id": "t1"})),
    );
    let v = w.admin("GET", "/user/info?user_id=u1", None);
    round_trips::<m::UserInfoResponse>(&v, "/user/info");
    let v = w.admin("GET", "/team/info?team_id=t1", None);
    round_trips::<m::TeamInfoResponse>(&v, "/team/info");

    // One call on the virtual key, so that the spend log and totals have a row.
    w.host.push(Canned::json(
        200,
        &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}),
    ));
    let chat =
        json!({"model": "gpt", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5});
    let r = w.call("POST", "/v1/chat/completions", &key, Some(chat));
    assert_eq!(r.status, 200, "{r:?}");
    let logs = w.admin("GET", "/spend/logs", None);
    assert_eq!(logs.as_array().map(Vec::len), Some(1), "{logs}");
    round_trips::<m::SpendLogs>(&logs, "/spend/logs");
    let v = w.admin("GET", "/global/spend", None);
    round_trips::<m::GlobalSpend>(&v, "/global/spend");
    for q in ["", "?granularity=hour"] {
        let v = w.admin("GET", &format!("/global/spend/logs{q}"), None);
        assert!(!v.as_array().unwrap().is_empty(), "{v}");
        round_trips::<m::SpendPeriods>(&v, "/global/spend/logs");
    }
    let v = w.admin("POST", "/key/delete", Some(json!({"keys": [key]})));
    round_trips::<m::KeyDeleteResponse>(&v, "/key/delete");

    // Their errors are OpenAI's envelope too.
    for (method, target, key) in [
        ("GET", "/key/info?key=sk-nope-nope", MASTER),
        ("GET", "/key/list", "sk-not-the-master"),
        ("POST", "/key/info", MASTER),
    ] {
        let r = w.call(method, target, key, None);
        assert!(r.status >= 400, "{method} {target}: {r:?}");
        round_trips::<ErrorResponse>(&r.json_body().unwrap(), target);
    }
}

/// Every management path the handlers answer (anything but their "Invalid URL" 404) is
/// documented, under the method they accept.
#[test]
fn every_management_route_is_documented() {
    let w = World::new();
    let documented = m::routes();
    let prefixes = [
        "/key/",
        "/user/",
        "/team/",
        "/spend/",
        "/global/",
        "/global/spend/",
        "/organization/",
        "/customer/",
    ];
    let names = [
        "generate",
        "update",
        "delete",
        "block",
        "unblock",
        "info",
        "list",
        "new",
        "logs",
        "spend",
        "regenerate",
        "member_add",
        "member_delete",
        "calculate",
        "keys",
        "users",
        "tags",
        "report",
        "reset",
        "refresh",
        "models",
        "health",
        "aliases",
        "daily/activity",
        "bulk_update",
        "available",
        "logs/v2",
        "spend/logs",
        "spend/report",
        "teams",
        "provider",
        "end_users",
    ];
    let mut answered = 0;
    for prefix in prefixes {
        for name in names {
            let path = format!("{prefix}{name}");
            for method in ["GET", "POST"] {
                let r = w.call(method, &path, MASTER, Some(json!({})));
                let invalid = r.status == 404
                    && r.json_body().is_some_and(|b| {
                        b["error"]["message"]
                            .as_str()
                            .is_some_and(|s| s.starts_with("Invalid URL"))
                    });
                if invalid {
                    continue;
                }
                answered += 1;
                let allowed = if r.status == 405 {
                    r.header("allow")
                        .unwrap_or_default()
                        .split(',')
                        .next()
                        .unwrap()
                        .trim()
                        .to_string()
                } else {
                    method.to_string()
                };
                assert!(
                    documented.iter().any(|(m, p)| *m == allowed && *p == path),
                    "the management API answers {method} {path} ({}), which /openapi.json does not document",
                    r.status
                );
            }
        }
    }
    assert!(
        answered >= documented.len(),
        "the sweep reached only {answered} answers"
    );
}
