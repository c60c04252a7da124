//! Virtual keys end to end on `MockHost` with in-memory KV and counters: the management API,
//! the gate on OpenAI endpoints, spend booking (complete and streamed), budgets, expiry,
//! model allow-lists, rate limits, users and teams.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_executor::block_on;
use futures_util::StreamExt;
use serde_json::{json, Value};

use edgellm::cost::Usd;
use edgellm::integrations::capture::Caller;
use edgellm::integrations::gateway::RequestLog;
use edgellm::integrations::LogEvent;
use edgellm::testing::{MockHost, Reply as Canned};

use super::store::memory::{MemCounters, MemKv};
use super::Keys;
use crate::app::{self, Begin, Body, Gateway, Head, Reply};

const MASTER: &str = "sk-master-1234";

const CONFIG: &str = r#"
model_list:
  - model_name: gpt
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-upstream
      api_base: http://127.0.0.1:9/v1
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: other
    litellm_params:
      model: openai/gpt-4o-mini
      api_key: sk-upstream
      api_base: http://127.0.0.1:9/v1
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
general_settings:
  master_key: sk-master-1234
"#;

type Spawned = Rc<RefCell<Vec<Pin<Box<dyn Future<Output = ()>>>>>>;

struct World {
    host: Rc<MockHost>,
    gw: Gateway,
    keys: Keys<MemKv, MemCounters>,
    spawned: Spawned,
    n: Cell<u8>,
    /// Each call's log, in order.
    logs: RefCell<Vec<RequestLog>>,
}

fn world() -> World {
    let host = Rc::new(MockHost::new());
    let clock_host = host.clone();
    let spawned: Spawned = Rc::default();
    let sink = spawned.clone();
    World {
        gw: Gateway::load(CONFIG, "test", &HashMap::new()).unwrap(),
        keys: Keys {
            kv: MemKv::default(),
            counters: MemCounters::default(),
            spawn: Rc::new(move |f| sink.borrow_mut().push(f)),
            clock: Rc::new(move || edgellm::Host::now_ms(&*clock_host)),
            log_ttl_s: super::DEFAULT_LOG_TTL_S,
        },
        host,
        spawned,
        n: Cell::new(0),
        logs: RefCell::default(),
    }
}

fn usd(s: &str) -> Usd {
    Usd::parse(s).unwrap()
}

/// Upstream chat reply with this usage; costs `p` µ$ + 2`c` µ$ at the test prices.
fn upstream(p: u64, c: u64) -> Canned {
    Canned::json(
        200,
        &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}}),
    )
}

fn cost(p: u64, c: u64) -> Usd {
    Usd::from_pico(p * 1_000_000 + c * 2_000_000)
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20})
}

impl World {
    fn call(&self, method: &str, target: &str, key: Option<&str>, body: Option<Value>) -> Reply {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = vec![];
        if let Some(k) = key {
            headers.push(("authorization".to_string(), format!("Bearer {k}")));
        }
        let head = Head {
            method: method.into(),
            path: path.into(),
            headers,
        };
        let n = self.n.get().wrapping_add(1);
        self.n.set(n);
        let rid = format!("req-{n}");
        let bytes = body
            .map(|b| serde_json::to_vec(&b).unwrap())
            .unwrap_or_default();
        let random = move || [n; 32];
        let env = HashMap::new();
        let body_for_keys = bytes.clone();
        let clock_host = self.host.clone();
        let log = RequestLog::new(
            &rid,
            Caller {
                key: key.map(String::from),
                ..Default::default()
            },
            Rc::new(move || edgellm::Host::now_ms(&*clock_host)),
        );
        self.logs.borrow_mut().push(log.clone());
        let handled = block_on(self.keys.handle_logged(
            &*self.host,
            &env,
            &self.gw,
            &head,
            query,
            &rid,
            &random,
            &log,
            move |_limit| async move { Ok(body_for_keys) },
        ));
        handled.unwrap_or_else(|| match app::begin(Ok(&self.gw), &head) {
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
        })
    }

    fn admin(&self, method: &str, target: &str, body: Option<Value>) -> Value {
        let r = self.call(method, target, Some(MASTER), body);
        assert_eq!(r.status, 200, "{method} {target}: {r:?}");
        r.json_body().unwrap()
    }

    fn generate(&self, body: Value) -> String {
        self.admin("POST", "/key/generate", Some(body))["key"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn info(&self, key: &str) -> Value {
        self.admin("GET", &format!("/key/info?key={key}"), None)["info"].clone()
    }

    fn spend_exact(&self, key: &str) -> Usd {
        Usd::parse(self.info(key)["spend_exact"].as_str().unwrap()).unwrap()
    }

    /// Every event the calls so far recorded (waiting for streams and bookings to end).
    fn events(&self) -> Vec<LogEvent> {
        self.logs
            .borrow()
            .iter()
            .flat_map(|l| block_on(l.sink().settled()))
            .collect()
    }

    fn run_spawned(&self) {
        let tasks: Vec<_> = self.spawned.borrow_mut().drain(..).collect();
        for t in tasks {
            block_on(t);
        }
    }
}

fn error_type(r: &Reply) -> String {
    r.json_body().unwrap()["error"]["type"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn life_of_a_key() {
    let w = world();
    let g = w.admin(
        "POST",
        "/key/generate",
        Some(json!({"key_alias": "ci", "models": ["gpt"], "max_budget": 1, "metadata": {"env": "test"}})),
    );
    let key = g["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk-") && key.len() == 46, "{key}");
    assert_eq!(g["key_name"], format!("sk-...{}", &key[key.len() - 4..]));
    assert_eq!(g["token"], super::secret::hash_key(&key));
    assert_eq!(g["max_budget"], 1.0);
    assert_eq!(g["models"], json!(["gpt"]));

    // The key works as a Bearer key; its spend is the call's exact cost.
    w.host.push(upstream(10, 5));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json_body().unwrap()["choices"][0]["message"]["content"],
        "Hi!"
    );
    let sent = w.host.last_request().unwrap();
    assert_eq!(
        edgellm::http::header(&sent.headers, "authorization"),
        Some("Bearer sk-upstream")
    );
    assert_eq!(
        r.header("x-litellm-key-spend"),
        Some(cost(10, 5).to_f64().to_string().as_str())
    );
    assert_eq!(w.spend_exact(&key), cost(10, 5));
    let info = w.info(&key);
    assert_eq!(
        (info["requests"].as_u64(), info["prompt_tokens"].as_u64()),
        (Some(1), Some(10))
    );
    assert_eq!(info["key_alias"], "ci");
    assert_eq!(info["metadata"], json!({"env": "test"}));

    // The spend log has the request, with the key's hash only.
    let logs = w.admin("GET", &format!("/spend/logs?api_key={key}"), None);
    let log = &logs[0];
    assert_eq!(logs.as_array().unwrap().len(), 1);
    assert_eq!(log["api_key"], super::secret::hash_key(&key));
    assert_eq!(
        (log["model"].as_str(), log["model_group"].as_str()),
        (Some("gpt"), Some("gpt"))
    );
    assert_eq!(log["deployment"], "openai/gpt-4o");
    assert_eq!(log["spend_exact"], "0.000020000000");
    assert_eq!(
        (
            log["prompt_tokens"].as_u64(),
            log["completion_tokens"].as_u64()
        ),
        (Some(10), Some(5))
    );
    assert_eq!(log["status"], "success");
    assert_eq!(log["key_alias"], "ci");

    // No plaintext key anywhere in KV.
    for (name, (value, meta, _)) in w.keys.kv.map.borrow().iter() {
        assert!(!name.contains(&key) && !value.contains(&key), "{name}");
        assert!(!meta.as_ref().is_some_and(|m| m.to_string().contains(&key)));
    }

    // Update: another model allowed, listed, then deleted.
    let u = w.admin(
        "POST",
        "/key/update",
        Some(json!({"key": key, "models": ["gpt", "other"], "rpm_limit": 100})),
    );
    assert_eq!(u["models"], json!(["gpt", "other"]));
    assert_eq!(u["max_budget"], 1.0, "fields not named stay");
    let list = w.admin("GET", "/key/list", None);
    assert_eq!(list["keys"], json!([super::secret::hash_key(&key)]));
    assert_eq!(
        (list["total_count"].as_u64(), list["total_pages"].as_u64()),
        (Some(1), Some(1))
    );
    let full = w.admin("GET", "/key/list?return_full_object=true", None);
    assert_eq!(full["keys"][0]["spend"], cost(10, 5).to_f64());
    let d = w.admin("POST", "/key/delete", Some(json!({"keys": [key]})));
    assert_eq!(d["deleted_keys"], json!([key]));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 401, "{r:?}");
    assert_eq!(error_type(&r), "auth_error");
    assert_eq!(
        w.call("GET", &format!("/key/info?key={key}"), Some(MASTER), None)
            .status,
        404
    );
    assert_eq!(
        w.call(
            "POST",
            "/key/delete",
            Some(MASTER),
            Some(json!({"keys": [key]}))
        )
        .status,
        404
    );
    assert_eq!(
        w.host.requests.borrow().len(),
        1,
        "refused requests never reach the upstream"
    );
}

#[test]
fn management_needs_the_master_key_and_unknown_keys_are_refused() {
    let w = world();
    let key = w.generate(json!({}));
    for k in [None, Some("sk-wrong"), Some(key.as_str())] {
        let r = w.call("POST", "/key/generate", k, Some(json!({})));
        assert_eq!(r.status, 401, "{k:?}");
    }
    // A key may read its own info, not another's.
    let own = w.call("GET", "/key/info", Some(&key), None);
    assert_eq!(own.status, 200, "{own:?}");
    assert_eq!(
        own.json_body().unwrap()["info"]["token"],
        super::secret::hash_key(&key)
    );
    let other = w.generate(json!({}));
    assert_eq!(
        w.call("GET", &format!("/key/info?key={other}"), Some(&key), None)
            .status,
        403
    );
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some("sk-never-generated"),
        Some(chat("gpt")),
    );
    assert_eq!((r.status, error_type(&r)), (401, "auth_error".into()));
    // The master key still goes through the gateway's own path.
    w.host.push(upstream(1, 1));
    assert_eq!(
        w.call(
            "POST",
            "/v1/chat/completions",
            Some(MASTER),
            Some(chat("gpt"))
        )
        .status,
        200
    );
    assert_eq!(
        w.call(
            "POST",
            "/key/generate",
            Some(MASTER),
            Some(json!({"max_budget": -1}))
        )
        .status,
        400
    );
    assert_eq!(
        w.call(
            "POST",
            "/key/generate",
            Some(MASTER),
            Some(json!({"duration": "soon"}))
        )
        .status,
        400
    );
    assert_eq!(
        w.call("GET", "/key/generate", Some(MASTER), None).status,
        405
    );
    assert_eq!(w.call("GET", "/key/nope", Some(MASTER), None).status, 404);
    assert_eq!(w.call("GET", "/ui", None, None).status, 200);
    let preflight = w.call("OPTIONS", "/key/generate", None, None);
    assert_eq!(preflight.status, 204, "{preflight:?}");
}

#[test]
fn model_allow_list_and_filtered_model_list() {
    let w = world();
    let key = w.generate(json!({"models": ["gpt"]}));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("other")),
    );
    assert_eq!(
        (r.status, error_type(&r)),
        (401, "key_model_access_denied".into())
    );
    let msg = r.json_body().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("key not allowed to access model") && msg.contains("Tried to access other"),
        "{msg}"
    );
    let models = w.call("GET", "/v1/models", Some(&key), None);
    assert_eq!(models.status, 200);
    let ids: Vec<Value> = models.json_body().unwrap()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(ids, [json!("gpt")]);
    assert_eq!(
        w.call("GET", "/v1/models/other", Some(&key), None).status,
        401
    );
    assert_eq!(
        w.call("GET", "/v1/models", Some("sk-bad-key"), None).status,
        401
    );
    assert!(w.host.requests.borrow().is_empty());
}

#[test]
fn expiry() {
    let w = world();
    let g = w.admin("POST", "/key/generate", Some(json!({"duration": "30s"})));
    let key = g["key"].as_str().unwrap();
    assert_eq!(g["expires"], super::time::iso(1_700_000_000_000 + 30_000));
    w.host.push(upstream(1, 1));
    assert_eq!(
        w.call("POST", "/v1/chat/completions", Some(key), Some(chat("gpt")))
            .status,
        200
    );
    w.host.advance(30_000);
    let r = w.call("POST", "/v1/chat/completions", Some(key), Some(chat("gpt")));
    assert_eq!((r.status, error_type(&r)), (401, "expired_key".into()));
    assert!(r.json_body().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Authentication Error - Expired Key"));
}

#[test]
fn budget_exhaustion_and_reset() {
    let w = world();
    // Worst case of one call: ~60 prompt bytes × $1e-6 + 20 × $2e-6 ≈ $0.0001.
    let key = w.generate(json!({"max_budget": "0.0002", "budget_duration": "1h"}));
    let mut spent = Usd::ZERO;
    let mut refused = None;
    for i in 0..10 {
        w.host.push(upstream(10, 20));
        let r = w.call(
            "POST",
            "/v1/chat/completions",
            Some(&key),
            Some(chat("gpt")),
        );
        if r.status != 200 {
            refused = Some((i, r));
            break;
        }
        spent += cost(10, 20);
        assert!(spent <= usd("0.0002"));
    }
    let (i, r) = refused.expect("the budget ends the calls");
    assert!(i >= 2, "{i} calls fit");
    assert_eq!((r.status, error_type(&r)), (400, "budget_exceeded".into()));
    assert!(r.json_body().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Budget has been exceeded!"));
    assert_eq!(w.spend_exact(&key), spent);
    // The refused request was never sent.
    assert_eq!(w.host.requests.borrow().len(), i);
    // The refused call left its canned reply queued: the next call gets it.
    w.host.advance(3_600_000);
    assert_eq!(
        w.call(
            "POST",
            "/v1/chat/completions",
            Some(&key),
            Some(chat("gpt"))
        )
        .status,
        200
    );
    assert_eq!(w.spend_exact(&key), cost(10, 20));
    assert!(w.info(&key)["budget_reset_at"].as_str().is_some());
}

#[test]
fn rpm_and_tpm_limits_answer_429_with_retry_after() {
    let w = world();
    let key = w.generate(json!({"rpm_limit": 2}));
    for _ in 0..2 {
        w.host.push(upstream(1, 1));
        assert_eq!(
            w.call(
                "POST",
                "/v1/chat/completions",
                Some(&key),
                Some(chat("gpt"))
            )
            .status,
            200
        );
    }
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!((r.status, error_type(&r)), (429, "throttling_error".into()));
    assert_eq!(r.header("retry-after"), Some("60"));
    w.host.advance(60_000);
    w.host.push(upstream(1, 1));
    assert_eq!(
        w.call(
            "POST",
            "/v1/chat/completions",
            Some(&key),
            Some(chat("gpt"))
        )
        .status,
        200
    );

    let key = w.generate(json!({"tpm_limit": 50}));
    w.host.push(upstream(30, 20));
    assert_eq!(
        w.call(
            "POST",
            "/v1/chat/completions",
            Some(&key),
            Some(chat("gpt"))
        )
        .status,
        200
    );
    w.host.advance(10_000);
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("50"));
    assert!(r.json_body().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Limit type: tokens"));
}

fn sse(pieces: &[&str], usage: (u64, u64)) -> Canned {
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let mut body = chunk(json!({"role": "assistant", "content": ""}), Value::Null);
    for p in pieces {
        body.push_str(&chunk(json!({"content": p}), Value::Null));
    }
    body.push_str(&chunk(json!({}), json!("stop")));
    body.push_str(&format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": [],
               "usage": {"prompt_tokens": usage.0, "completion_tokens": usage.1, "total_tokens": usage.0 + usage.1}})
    ));
    Canned::bytes(
        200,
        vec![("content-type".into(), "text/event-stream".into())],
        body.as_bytes(),
        13,
    )
}

fn read_stream(r: Reply) -> String {
    let Body::Stream(s) = r.body else {
        panic!("not a stream: {r:?}")
    };
    block_on(
        s.map(|b| String::from_utf8(b.unwrap()).unwrap())
            .collect::<Vec<_>>(),
    )
    .concat()
}

#[test]
fn streamed_requests_are_booked_when_the_stream_ends() {
    let w = world();
    let key = w.generate(json!({"max_budget": 1}));
    w.host.push(sse(&["Hel", "lo"], (12, 7)));
    let mut body = chat("gpt");
    body["stream"] = json!(true);
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(body.clone()),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        w.spend_exact(&key),
        Usd::ZERO,
        "not booked before the stream ends"
    );
    assert_eq!(
        w.info(&key)["reserved_exact"]
            .as_str()
            .map(|s| s != "0.000000000000"),
        Some(true)
    );
    let text = read_stream(r);
    assert!(
        text.contains("Hel") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    assert_eq!(w.spend_exact(&key), cost(12, 7));
    assert_eq!(w.info(&key)["reserved_exact"], "0.000000000000");
    let logs = w.admin("GET", "/spend/logs", None);
    assert_eq!(logs[0]["stream"], true);
    assert_eq!(logs[0]["completion_tokens"], 7);

    // A client that goes away mid-stream is charged the reservation (booked in the background).
    w.host.advance(1000);
    w.host.push(sse(&["a", "b", "c"], (12, 7)));
    let r = w.call("POST", "/v1/chat/completions", Some(&key), Some(body));
    let Body::Stream(mut s) = r.body else {
        panic!()
    };
    let first = block_on(s.next()).unwrap().unwrap();
    assert!(String::from_utf8(first).unwrap().starts_with("data: "));
    drop(s);
    assert_eq!(w.spawned.borrow().len(), 1);
    w.run_spawned();
    let info = w.info(&key);
    assert_eq!(info["reserved_exact"], "0.000000000000");
    assert!(Usd::parse(info["spend_exact"].as_str().unwrap()).unwrap() > cost(12, 7) + cost(12, 7));
    let logs = w.admin("GET", "/spend/logs", None);
    assert_eq!(logs[0]["status"], "failure");
    assert!(logs[0]["error"]
        .as_str()
        .unwrap()
        .contains("client disconnected"));
}

#[test]
fn failed_calls_cost_nothing_and_are_logged() {
    let w = world();
    let key = w.generate(json!({"max_budget": 1}));
    w.host.push(Canned::json(
        400,
        &json!({"error": {"message": "bad things", "type": "invalid_request_error"}}),
    ));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 400);
    let info = w.info(&key);
    assert_eq!(
        (
            info["spend_exact"].as_str(),
            info["reserved_exact"].as_str()
        ),
        (Some("0.000000000000"), Some("0.000000000000"))
    );
    let logs = w.admin("GET", "/spend/logs", None);
    assert_eq!(
        (logs[0]["status"].as_str(), logs[0]["http_status"].as_u64()),
        (Some("failure"), Some(400))
    );
    assert!(logs[0]["error"].as_str().unwrap().contains("bad things"));
}

#[test]
fn users_and_teams_have_their_own_budgets() {
    let w = world();
    let user = w.admin(
        "POST",
        "/user/new",
        Some(json!({"user_id": "jane", "max_budget": "0.00011", "user_email": "j@x"})),
    );
    let key = user["key"].as_str().unwrap().to_string();
    assert_eq!(user["user_id"], "jane");
    let team = w.admin(
        "POST",
        "/team/new",
        Some(json!({"team_alias": "research", "models": ["gpt"], "tpm_limit": 1000})),
    );
    let team_id = team["team_id"].as_str().unwrap().to_string();
    assert_eq!(team_id.len(), 36);
    let team_key = w.generate(json!({"team_id": team_id, "user_id": "jane"}));

    // Worst case $0.000108 fits jane's $0.00011; the call costs $0.0001.
    w.host.push(upstream(60, 20));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 200, "{r:?}");
    // What is left of jane's budget is too little for any call, from either of her keys; the
    // error names the user.
    let mut body = chat("gpt");
    body["max_tokens"] = json!(1);
    let r = w.call("POST", "/v1/chat/completions", Some(&team_key), Some(body));
    assert_eq!(
        (r.status, error_type(&r)),
        (400, "budget_exceeded".into()),
        "{r:?}"
    );
    assert!(r.json_body().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("User=jane"));

    // The team's model list applies to its keys.
    let other_user_key = w.generate(json!({"team_id": team_id}));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&other_user_key),
        Some(chat("other")),
    );
    assert_eq!(
        (r.status, error_type(&r)),
        (401, "team_model_access_denied".into())
    );
    w.host.push(upstream(3, 4));
    assert_eq!(
        w.call(
            "POST",
            "/v1/chat/completions",
            Some(&other_user_key),
            Some(chat("gpt"))
        )
        .status,
        200
    );

    let ui = w.admin("GET", "/user/info?user_id=jane", None);
    assert_eq!(ui["user_info"]["spend_exact"], "0.000100000000");
    assert_eq!(ui["keys"].as_array().unwrap().len(), 2);
    let ti = w.admin("GET", &format!("/team/info?team_id={team_id}"), None);
    assert_eq!(ti["team_info"]["spend_exact"], "0.000011000000");
    assert_eq!(ti["team_info"]["team_alias"], "research");
    assert_eq!(ti["keys"].as_array().unwrap().len(), 2);
    assert_eq!(
        w.call("GET", "/user/info?user_id=nobody", Some(MASTER), None)
            .status,
        404
    );

    let g = w.admin("GET", "/global/spend", None);
    assert_eq!(g["spend_exact"], "0.000111000000");
    assert_eq!(g["requests"], 2);
    let days = w.admin("GET", "/global/spend/logs", None);
    assert_eq!(days[0]["date"], "2023-11-14");
    assert_eq!(days[0]["spend_exact"], "0.000111000000");
}

#[test]
fn spend_logs_filter_and_page() {
    let w = world();
    let a = w.generate(json!({}));
    let b = w.generate(json!({}));
    for (k, p) in [(&a, 1), (&b, 2), (&a, 3)] {
        w.host.push(upstream(p, 0));
        assert_eq!(
            w.call("POST", "/v1/chat/completions", Some(k), Some(chat("gpt")))
                .status,
            200
        );
        w.host.advance(1000);
    }
    let all = w.admin("GET", "/spend/logs", None);
    let tokens: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["prompt_tokens"].as_u64().unwrap())
        .collect();
    assert_eq!(tokens, [3, 2, 1], "newest first");
    let hash_a = super::secret::hash_key(&a);
    assert_eq!(
        w.admin("GET", &format!("/spend/logs?api_key={hash_a}"), None)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        w.admin("GET", "/spend/logs?limit=1", None)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        w.admin("GET", "/spend/logs?start_date=2023-11-15", None)
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        w.admin("GET", "/spend/logs?end_date=2023-11-14", None)
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        w.call("GET", "/spend/logs?start_date=soon", Some(MASTER), None)
            .status,
        400
    );
    let page = w.admin("GET", "/key/list?size=1&page=2", None);
    assert_eq!(
        (
            page["keys"].as_array().unwrap().len(),
            page["total_pages"].as_u64()
        ),
        (1, Some(2))
    );
}

#[test]
fn embeddings_and_streamed_text_completions_are_booked() {
    let w = world();
    let key = w.generate(json!({}));
    w.host.push(Canned::json(
        200,
        &json!({"object": "list", "model": "gpt-4o", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                "usage": {"prompt_tokens": 8, "total_tokens": 8}}),
    ));
    let r = w.call(
        "POST",
        "/v1/embeddings",
        Some(&key),
        Some(json!({"model": "gpt", "input": "hello"})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(w.spend_exact(&key), cost(8, 0));
    let logs = w.admin("GET", "/spend/logs", None);
    assert_eq!(
        (
            logs[0]["call_type"].as_str(),
            logs[0]["prompt_tokens"].as_u64()
        ),
        (Some("aembedding"), Some(8))
    );

    w.host.advance(1000);
    // For OpenAI deployments the core runs text completions through chat completions.
    w.host.push(sse(&["Hel", "lo"], (4, 2)));
    let r = w.call(
        "POST",
        "/v1/completions",
        Some(&key),
        Some(json!({"model": "gpt", "prompt": "Say hello", "max_tokens": 5, "stream": true})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let text = read_stream(r);
    let url = w.host.last_request().unwrap().url;
    assert!(text.contains("Hel"), "{url}: {text}");
    assert_eq!(w.spend_exact(&key), cost(8, 0) + cost(4, 2));
    let logs = w.admin("GET", "/spend/logs", None);
    assert_eq!(
        (logs[0]["call_type"].as_str(), logs[0]["stream"].as_bool()),
        (Some("atext_completion"), Some(true))
    );
}

fn alerts(events: &[LogEvent]) -> Vec<&edgellm::integrations::BudgetAlert> {
    events
        .iter()
        .filter_map(|e| match e {
            LogEvent::Budget(a) => Some(&**a),
            _ => None,
        })
        .collect()
}

#[test]
fn virtual_key_calls_are_logged_with_the_key_user_and_team() {
    let w = world();
    let team = w.admin(
        "POST",
        "/team/new",
        Some(json!({"team_id": "t-core", "team_alias": "core", "metadata": {"cost_center": "42"}})),
    );
    assert_eq!(team["team_alias"], "core");
    let key = w.generate(
        json!({"key_alias": "ci-bot", "user_id": "jane", "team_id": "t-core",
                                "metadata": {"env": "prod"}, "max_budget": 1}),
    );
    let hash = super::secret::hash_key(&key);
    w.host.push(upstream(10, 20));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let mut body = chat("gpt");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    w.host.push(sse(&["Hel", "lo"], (12, 7)));
    let r = w.call("POST", "/v1/chat/completions", Some(&key), Some(body));
    assert!(read_stream(r).ends_with("data: [DONE]\n\n"));
    let events = w.events();
    let payloads: Vec<&Value> = events.iter().filter_map(LogEvent::payload).collect();
    assert_eq!(payloads.len(), 2, "{events:?}");
    for (p, stream) in payloads.iter().zip([false, true]) {
        assert_eq!(p["status"], "success");
        assert_eq!(p["stream"], stream);
        let md = &p["metadata"];
        assert_eq!(md["user_api_key_hash"], hash);
        assert_eq!(md["user_api_key_alias"], "ci-bot");
        assert_eq!(md["user_api_key_user_id"], "jane");
        assert_eq!(md["user_api_key_team_id"], "t-core");
        assert_eq!(md["user_api_key_team_alias"], "core");
        assert_eq!(md["user_api_key_metadata"], json!({"env": "prod"}));
        assert_eq!(
            md["user_api_key_team_metadata"],
            json!({"cost_center": "42"})
        );
        assert!(
            !p.to_string().contains(&key),
            "the key itself is never logged"
        );
    }
    assert_eq!(payloads[1]["completion_tokens"], 7);
    assert!(alerts(&events).is_empty());
}

#[test]
fn refusals_are_logged_as_refused_calls_with_the_key() {
    let w = world();
    let key = w.generate(json!({"key_alias": "narrow", "models": ["other"]}));
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 401);
    // An unknown key: logged with its hash only.
    let r = w.call(
        "POST",
        "/v1/chat/completions",
        Some("sk-nope-0000"),
        Some(chat("gpt")),
    );
    assert_eq!(r.status, 401);
    let events = w.events();
    let refused: Vec<&Value> = events
        .iter()
        .filter_map(|e| match e {
            LogEvent::Refused(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 2, "{events:?}");
    assert_eq!(refused[0]["status"], "failure");
    assert_eq!(
        refused[0]["error_information"]["error_code"],
        "key_model_access_denied"
    );
    assert_eq!(refused[0]["error_information"]["status_code"], 401);
    assert_eq!(refused[0]["metadata"]["user_api_key_alias"], "narrow");
    assert_eq!(
        refused[1]["metadata"]["user_api_key_hash"],
        super::secret::hash_key("sk-nope-0000")
    );
    assert!(refused[1]["metadata"].get("user_api_key_alias").is_none());
    assert!(!format!("{refused:?}").contains(&key));
}

#[test]
fn budget_exhaustion_alerts_once() {
    let w = world();
    // Calls cost $0.00005 and reserve about $0.0001: the third fits, the fourth cannot.
    let key = w
        .generate(json!({"key_alias": "ci-bot", "max_budget": "0.0002", "soft_budget": "0.00004"}));
    let hash = super::secret::hash_key(&key);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        w.host.push(upstream(10, 20));
        let r = w.call(
            "POST",
            "/v1/chat/completions",
            Some(&key),
            Some(chat("gpt")),
        );
        statuses.push(r.status);
    }
    let refused = statuses.iter().filter(|s| **s == 400).count();
    assert!(refused >= 2, "{statuses:?}");
    let events = w.events();
    let alerts = alerts(&events);
    let kinds: Vec<&str> = alerts.iter().map(|a| a.event.as_str()).collect();
    assert_eq!(
        kinds,
        ["soft_budget_crossed", "budget_crossed"],
        "{alerts:?}"
    );
    let exhausted = alerts[1];
    assert_eq!(exhausted.event_group, "key");
    assert_eq!(exhausted.token.as_deref(), Some(hash.as_str()));
    assert_eq!(exhausted.key_alias.as_deref(), Some("ci-bot"));
    assert_eq!(exhausted.max_budget, Some(0.0002));
    assert!(exhausted
        .event_message
        .starts_with("Key Budget: Budget Crossed"));
    // Each refusal is a failure event, none of them an alert of its own.
    let refusals = events
        .iter()
        .filter(|e| matches!(e, LogEvent::Refused(_)))
        .count();
    assert_eq!(refusals, refused);
}

#[test]
fn user_and_team_budgets_alert_as_their_group_and_streams_alert_at_their_end() {
    let w = world();
    w.admin(
        "POST",
        "/team/new",
        Some(json!({"team_id": "t1", "team_alias": "research", "max_budget": "0.001"})),
    );
    let key = w.generate(json!({"team_id": "t1"}));
    let mut body = chat("gpt");
    body["stream"] = json!(true);
    // $0.00088 of the team's $0.001: 88%.
    w.host.push(sse(&["a"], (80, 400)));
    let r = w.call("POST", "/v1/chat/completions", Some(&key), Some(body));
    assert_eq!(r.status, 200);
    let log = w.logs.borrow().last().unwrap().clone();
    assert!(
        !log.sink().is_idle(),
        "the booking at the stream's end is awaited"
    );
    assert!(read_stream(r).ends_with("[DONE]\n\n"));
    let events = block_on(log.sink().settled());
    let a = alerts(&events);
    assert_eq!(a.len(), 1, "{events:?}");
    assert_eq!(
        (a[0].event.as_str(), a[0].event_group.as_str()),
        ("threshold_crossed", "team")
    );
    assert_eq!(a[0].team_alias.as_deref(), Some("research"));
    assert_eq!(a[0].event_message, "Team Budget: 15% Threshold Crossed");
}
