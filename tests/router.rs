//! Retries, timeouts, fallbacks, cooldowns and load balancing, with a fake clock
//! ([`MockHost`]) and canned upstream replies. Every count here is exact.

use std::cell::Cell;
use std::rc::Rc;

use edgellm::config::ProxyConfig;
use edgellm::engine;
use edgellm::host::{Host, NoEnv};
use edgellm::http::Headers;
use edgellm::router::health::{Health, MINUTE_MS};
use edgellm::router::strategy::{pick, PickContext};
use edgellm::router::{CallPolicy, PickInput, Planner, Policy, Router, Step, Strategy};
use edgellm::testing::{MockHost, Reply};
use edgellm::{options, Error, ErrorKind};
use futures_executor::block_on;
use futures_util::StreamExt;
use serde_json::{json, Value};

// -- Setup & Fixtures

fn ok(text: &str) -> Reply {
    Reply::json(
        200,
        &json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        }),
    )
}

fn fail(status: u16, code: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"message": format!("upstream {status}"), "type": "x", "code": code}}),
    )
}

fn rate_limited(retry_after_s: &str) -> Reply {
    Reply::Response {
        status: 429,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("retry-after".into(), retry_after_s.into()),
        ],
        pieces: vec![br#"{"error":{"message":"slow down","code":"rate_limit_exceeded"}}"#.to_vec()],
    }
}

fn timeout() -> Reply {
    Reply::Fail(Error::new(
        ErrorKind::Timeout,
        "request timed out after 1000 ms",
    ))
}

fn sse(chunks: &[&str], done: bool) -> Reply {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    let headers: Headers = vec![("content-type".into(), "text/event-stream".into())];
    Reply::bytes(200, headers, body.as_bytes(), 7)
}

fn chunk(text: &str, finish: Option<&str>) -> String {
    json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
           "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]})
    .to_string()
}

/// A deployment of `group` at `http://<host>.test/v1`.
fn dep(group: &str, host: &str) -> Value {
    json!({"model_name": group, "litellm_params": {
        "model": "openai/gpt-4o", "api_key": "sk-test-router",
        "api_base": format!("http://{host}.test/v1")}, "model_info": {"id": host}})
}

fn router(v: Value) -> Router {
    Router::from_value(v, &NoEnv).expect("valid router config")
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Hello"}]})
}

/// The deployment hosts the mock upstream saw, in order.
fn hosts(h: &MockHost) -> Vec<String> {
    h.requests
        .borrow()
        .iter()
        .map(|r| {
            r.url
                .trim_start_matches("http://")
                .split('.')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn text(r: &edgellm::router::RoutedCompletion) -> String {
    r.completion.response.choices[0]
        .message
        .content
        .clone()
        .unwrap_or_default()
}

// -- Engine-level retries (`completion({..., num_retries, timeout})`)

fn engine_call(h: &MockHost, extra: Value) -> edgellm::Result<engine::Completion> {
    let mut body = json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
                          "api_key": "sk-test-engine"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (req, opts) = options::parse_chat(body).unwrap();
    block_on(engine::completion(h, &NoEnv, req, opts))
}

#[test]
fn engine_num_retries_n_means_at_most_n_plus_1_requests() {
    for n in 0..4u32 {
        let h = MockHost::new();
        for _ in 0..10 {
            h.push(fail(500, "server_error"));
        }
        let e = engine_call(&h, json!({"num_retries": n})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InternalServer);
        assert_eq!(h.requests.borrow().len(), n as usize + 1, "num_retries {n}");
        // Exponential backoff from 500 ms with ±25 % jitter: retry i waits 500·2^i ± 25 %.
        let sleeps = h.sleeps.borrow();
        assert_eq!(sleeps.len(), n as usize);
        for (i, s) in sleeps.iter().enumerate() {
            let base = 500u64 << i;
            assert!(
                (base * 3 / 4..=base * 5 / 4).contains(s),
                "sleep {i} = {s} ms outside {base} ± 25 %"
            );
        }
    }
}

#[test]
fn engine_retry_succeeds_and_honours_retry_after() {
    let h = MockHost::new();
    h.push(rate_limited("3"));
    h.push(fail(503, "overloaded"));
    h.push(ok("third time"));
    let c = engine_call(&h, json!({"num_retries": 2})).unwrap();
    assert_eq!(c.meta.attempts, 3);
    assert_eq!(h.sleeps.borrow()[0], 3000, "Retry-After: 3 → 3 s");
    assert_eq!(
        c.response.choices[0].message.content.as_deref(),
        Some("third time")
    );
}

#[test]
fn engine_does_not_retry_requests_that_cannot_succeed() {
    for (status, code, kind) in [
        (400, "invalid_request", ErrorKind::BadRequest),
        (
            400,
            "context_length_exceeded",
            ErrorKind::ContextWindowExceeded,
        ),
        (401, "invalid_api_key", ErrorKind::Authentication),
        (404, "model_not_found", ErrorKind::NotFound),
    ] {
        let h = MockHost::new().reply(fail(status, code)).reply(ok("never"));
        let e = engine_call(&h, json!({"num_retries": 3})).unwrap_err();
        assert_eq!(e.kind(), kind);
        assert_eq!(h.requests.borrow().len(), 1, "{status} {code} was retried");
    }
}

#[test]
fn engine_timeout_is_retried_then_raises_api_timeout_error() {
    let h = MockHost::new()
        .reply(timeout())
        .reply(timeout())
        .reply(timeout());
    let e = engine_call(&h, json!({"num_retries": 2, "timeout": 1})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.kind().js_class(), "APITimeoutError");
    assert_eq!(h.requests.borrow().len(), 3);
}

/// A host whose first `cuts` successful responses lose their connection mid-body.
struct CutBodyHost {
    inner: MockHost,
    cuts: Cell<u32>,
}

impl Host for CutBodyHost {
    async fn send(
        &self,
        req: edgellm::http::HttpRequest,
        timeout_ms: Option<u64>,
    ) -> edgellm::Result<edgellm::http::HttpResponse> {
        let mut resp = self.inner.send(req, timeout_ms).await?;
        if self.cuts.get() > 0 && resp.status == 200 {
            self.cuts.set(self.cuts.get() - 1);
            let pieces: Vec<edgellm::Result<Vec<u8>>> = vec![
                Ok(b"{\"id\":".to_vec()),
                Err(Error::new(ErrorKind::Connection, "connection reset")),
            ];
            resp.body = Box::pin(futures_util::stream::iter(pieces));
        }
        Ok(resp)
    }
    async fn sleep(&self, ms: u64) {
        self.inner.sleep(ms).await
    }
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
    fn random(&self) -> f64 {
        self.inner.random()
    }
}

#[test]
fn engine_retries_a_body_cut_mid_read_within_the_same_budget() {
    let host = CutBodyHost {
        inner: MockHost::new().reply(ok("a")).reply(ok("b")).reply(ok("c")),
        cuts: Cell::new(1),
    };
    let (req, opts) = options::parse_chat(json!({"model": "openai/gpt-4o", "api_key": "sk-test",
        "messages": [{"role": "user", "content": "Hi"}], "num_retries": 1}))
    .unwrap();
    let c = block_on(engine::completion(&host, &NoEnv, req.clone(), opts.clone())).unwrap();
    assert_eq!(c.response.choices[0].message.content.as_deref(), Some("b"));
    assert_eq!(c.meta.attempts, 2);

    let host = CutBodyHost {
        inner: MockHost::new().reply(ok("a")).reply(ok("b")).reply(ok("c")),
        cuts: Cell::new(5),
    };
    let e = block_on(engine::completion(&host, &NoEnv, req, opts)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert_eq!(
        host.inner.requests.borrow().len(),
        2,
        "num_retries 1: two requests, no more"
    );
}

// -- Router retries

#[test]
fn router_num_retries_counts_exactly_per_group() {
    for n in 0..4u32 {
        let r = router(json!({"model_list": [dep("g", "a")], "num_retries": n}));
        let h = MockHost::new();
        for _ in 0..10 {
            h.push(fail(500, "server_error"));
        }
        let e = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InternalServer);
        assert_eq!(h.requests.borrow().len(), n as usize + 1, "num_retries {n}");
    }
}

#[test]
fn per_call_num_retries_wins_over_router_default() {
    let r = router(json!({"model_list": [dep("g", "a")], "num_retries": 5}));
    let h = MockHost::new();
    for _ in 0..10 {
        h.push(fail(502, "bad_gateway"));
    }
    let mut req = chat("g");
    req["num_retries"] = json!(1);
    block_on(r.completion(&h, &NoEnv, req)).unwrap_err();
    assert_eq!(h.requests.borrow().len(), 2);
}

#[test]
fn retry_goes_to_another_deployment_without_waiting() {
    let r = router(json!({"model_list": [dep("g", "a"), dep("g", "b")], "num_retries": 1}));
    let h = MockHost::new()
        .reply(fail(500, "x"))
        .reply(ok("from the other"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    let seen = hosts(&h);
    assert_eq!(seen.len(), 2);
    assert_ne!(
        seen[0], seen[1],
        "the retry must pick the deployment that did not fail"
    );
    assert!(
        h.sleeps.borrow().is_empty(),
        "another healthy deployment: no backoff"
    );
    assert_eq!(done.route.retries, 1);
    assert_eq!(done.route.requests, 2);
    assert_eq!(done.route.deployment_id, seen[1]);
}

#[test]
fn single_deployment_retry_backs_off_and_honours_retry_after() {
    let r = router(json!({"model_list": [dep("g", "a")], "num_retries": 2}));
    let h = MockHost::new()
        .reply(rate_limited("2"))
        .reply(fail(500, "x"))
        .reply(ok("ok"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(text(&done), "ok");
    let sleeps = h.sleeps.borrow().clone();
    assert_eq!(sleeps.len(), 2);
    assert_eq!(sleeps[0], 2000, "Retry-After: 2");
    assert!(
        (750..=1250).contains(&sleeps[1]),
        "second retry ≈ 1 s: {}",
        sleeps[1]
    );
}

#[test]
fn retry_policy_overrides_num_retries_per_error_class() {
    let r = router(json!({"model_list": [dep("g", "a")], "num_retries": 0,
        "retry_policy": {"RateLimitErrorRetries": 3, "InternalServerErrorRetries": 1}}));
    let h = MockHost::new();
    for _ in 0..10 {
        h.push(rate_limited("0"));
    }
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert_eq!(h.requests.borrow().len(), 4);
    // Four failures > allowed_fails (3): the deployment now cools down.
    assert!(r.health().is_cooling_down("a", h.now_ms()));

    let r = router(json!({"model_list": [dep("g", "a")], "num_retries": 0,
        "retry_policy": {"RateLimitErrorRetries": 3, "InternalServerErrorRetries": 1}}));
    let h = MockHost::new();
    for _ in 0..10 {
        h.push(fail(500, "x"));
    }
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert_eq!(h.requests.borrow().len(), 2);
}

#[test]
fn bad_requests_are_not_retried_by_the_router() {
    let r = router(json!({"model_list": [dep("g", "a"), dep("g", "b")], "num_retries": 3}));
    let h = MockHost::new()
        .reply(fail(400, "invalid_value"))
        .reply(ok("x"));
    let e = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    assert_eq!(h.requests.borrow().len(), 1);
}

#[test]
fn timeouts_are_retried_by_the_router() {
    let r = router(json!({"model_list": [dep("g", "a")], "num_retries": 1, "timeout": 0.5}));
    let h = MockHost::new().reply(timeout()).reply(ok("late but fine"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(text(&done), "late but fine");
}

// -- Fallbacks

#[test]
fn fallbacks_walk_the_chain_in_order() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1"), dep("c", "c1")],
        "num_retries": 0,
        "fallbacks": [{"a": ["b", "c"]}]
    }));
    let h = MockHost::new()
        .reply(fail(500, "x"))
        .reply(fail(503, "x"))
        .reply(ok("from c"));
    let done = block_on(r.completion(&h, &NoEnv, chat("a"))).unwrap();
    assert_eq!(hosts(&h), ["a1", "b1", "c1"]);
    assert_eq!(text(&done), "from c");
    assert_eq!(done.route.model_group, "c");
    assert_eq!(done.route.requested_model, "a");
    assert_eq!(done.route.fallbacks, 1);
}

#[test]
fn each_fallback_group_gets_its_own_retries_and_fallbacks_depth_first() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1"), dep("c", "c1"), dep("d", "d1")],
        "num_retries": 1,
        "fallbacks": [{"a": ["b", "c"]}, {"b": ["d"]}]
    }));
    let h = MockHost::new();
    for _ in 0..6 {
        h.push(fail(500, "x"));
    }
    h.push(ok("from c"));
    let done = block_on(r.completion(&h, &NoEnv, chat("a"))).unwrap();
    // a twice, b twice, then b's own fallback d twice, then a's next fallback c.
    assert_eq!(hosts(&h), ["a1", "a1", "b1", "b1", "d1", "d1", "c1"]);
    assert_eq!(done.route.requests, 7);
}

#[test]
fn all_fallbacks_failing_raise_the_last_error() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1")],
        "num_retries": 0, "fallbacks": [{"a": ["b"]}]
    }));
    let h = MockHost::new().reply(fail(500, "x")).reply(fail(503, "y"));
    let e = block_on(r.completion(&h, &NoEnv, chat("a"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
}

#[test]
fn max_fallbacks_bounds_the_depth_and_cycles_are_skipped() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1"), dep("c", "c1")],
        "num_retries": 0, "max_fallbacks": 1,
        "fallbacks": [{"a": ["b"]}, {"b": ["c", "a"]}]
    }));
    let h = MockHost::new();
    for _ in 0..5 {
        h.push(fail(500, "x"));
    }
    block_on(r.completion(&h, &NoEnv, chat("a"))).unwrap_err();
    assert_eq!(hosts(&h), ["a1", "b1"], "depth 1 stops at b");

    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1"), dep("c", "c1")],
        "num_retries": 0, "fallbacks": [{"a": ["b"]}, {"b": ["a", "c"]}]
    }));
    let h = MockHost::new();
    for _ in 0..5 {
        h.push(fail(500, "x"));
    }
    block_on(r.completion(&h, &NoEnv, chat("a"))).unwrap_err();
    assert_eq!(hosts(&h), ["a1", "b1", "c1"], "a is not tried twice");
}

#[test]
fn context_window_errors_use_context_window_fallbacks() {
    let r = router(json!({
        "model_list": [dep("small", "s"), dep("big", "b"), dep("other", "o")],
        "num_retries": 3,
        "fallbacks": [{"small": ["other"]}],
        "context_window_fallbacks": [{"small": ["big"]}]
    }));
    let h = MockHost::new()
        .reply(fail(400, "context_length_exceeded"))
        .reply(ok("big window"));
    let done = block_on(r.completion(&h, &NoEnv, chat("small"))).unwrap();
    assert_eq!(
        hosts(&h),
        ["s", "b"],
        "no retry, straight to the bigger model"
    );
    assert_eq!(text(&done), "big window");
}

#[test]
fn content_policy_errors_use_content_policy_fallbacks() {
    let r = router(json!({
        "model_list": [dep("strict", "s"), dep("lenient", "l"), dep("other", "o")],
        "num_retries": 2,
        "fallbacks": [{"strict": ["other"]}],
        "content_policy_fallbacks": [{"strict": ["lenient"]}]
    }));
    let h = MockHost::new()
        .reply(fail(400, "content_policy_violation"))
        .reply(ok("answered"));
    block_on(r.completion(&h, &NoEnv, chat("strict"))).unwrap();
    assert_eq!(hosts(&h), ["s", "l"]);
}

#[test]
fn context_window_error_without_dedicated_chain_uses_generic_fallbacks() {
    let r = router(json!({
        "model_list": [dep("small", "s"), dep("other", "o")],
        "num_retries": 0, "fallbacks": [{"small": ["other"]}]
    }));
    let h = MockHost::new()
        .reply(fail(400, "context_length_exceeded"))
        .reply(ok("x"));
    block_on(r.completion(&h, &NoEnv, chat("small"))).unwrap();
    assert_eq!(hosts(&h), ["s", "o"]);
}

#[test]
fn plain_bad_request_does_not_fall_back() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1")],
        "num_retries": 0, "fallbacks": [{"a": ["b"]}]
    }));
    let h = MockHost::new()
        .reply(fail(400, "invalid_value"))
        .reply(ok("x"));
    block_on(r.completion(&h, &NoEnv, chat("a"))).unwrap_err();
    assert_eq!(hosts(&h), ["a1"]);
}

#[test]
fn default_and_per_call_fallbacks() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1"), dep("c", "c1")],
        "num_retries": 0, "default_fallbacks": ["c"]
    }));
    let h = MockHost::new().reply(fail(500, "x")).reply(ok("x"));
    block_on(r.completion(&h, &NoEnv, chat("a"))).unwrap();
    assert_eq!(hosts(&h), ["a1", "c1"]);

    let h = MockHost::new().reply(fail(500, "x")).reply(ok("x"));
    let mut req = chat("a");
    req["fallbacks"] = json!(["b"]);
    block_on(r.completion(&h, &NoEnv, req)).unwrap();
    assert_eq!(
        hosts(&h),
        ["a1", "b1"],
        "per-call fallbacks replace the router's"
    );

    let h = MockHost::new().reply(fail(500, "x")).reply(ok("x"));
    let mut req = chat("a");
    req["disable_fallbacks"] = json!(true);
    block_on(r.completion(&h, &NoEnv, req)).unwrap_err();
    assert_eq!(hosts(&h), ["a1"]);
}

#[test]
fn unknown_model_is_a_bad_request() {
    let r = router(json!({"model_list": [dep("a", "a1")]}));
    let e = block_on(r.completion(&MockHost::new(), &NoEnv, chat("nope"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    assert!(e.message().contains("Invalid model name"));
}

// -- Cooldowns

#[test]
fn deployment_cools_down_after_allowed_fails_and_comes_back() {
    let r = router(json!({
        "model_list": [dep("g", "a")],
        "num_retries": 0, "allowed_fails": 1, "cooldown_time": 5
    }));
    let h = MockHost::new();
    h.push(fail(500, "x"));
    h.push(fail(500, "x"));
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert!(
        !r.health().is_cooling_down("a", h.now_ms()),
        "1 fail ≤ allowed_fails"
    );
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert_eq!(
        r.health().cooldown_remaining_ms("a", h.now_ms()),
        Some(5000)
    );

    // While cooling down: 429 "No deployments available", no upstream request.
    let e = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.status(), 429);
    assert!(
        e.message().starts_with("No deployments available"),
        "{}",
        e.message()
    );
    assert_eq!(e.retry_after_ms(), Some(5000));
    assert_eq!(h.requests.borrow().len(), 2);

    h.advance(4999);
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert_eq!(h.requests.borrow().len(), 2, "still cooling at 4.999 s");
    h.advance(1);
    h.push(ok("back"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(text(&done), "back");
}

#[test]
fn cooled_down_deployment_is_skipped_and_group_falls_back_when_all_cool() {
    let r = router(json!({
        "model_list": [dep("g", "a"), dep("g", "b"), dep("f", "f1")],
        "num_retries": 0, "allowed_fails": 0, "cooldown_time": 10,
        "fallbacks": [{"g": ["f"]}]
    }));
    let h = MockHost::new();
    // First call: whichever deployment is picked fails and cools down; fallback answers.
    h.push(fail(500, "x"));
    h.push(ok("fallback"));
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    let first = hosts(&h)[0].clone();
    assert!(r.health().is_cooling_down(&first, h.now_ms()));
    // Every later call avoids it.
    for _ in 0..5 {
        h.push(ok("healthy"));
        block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    }
    let later: Vec<String> = hosts(&h)[2..].to_vec();
    assert!(later.iter().all(|x| *x != first), "{later:?}");
    // The other fails too: the whole group cools, and the fallback group answers directly.
    h.push(fail(500, "x"));
    h.push(ok("fallback"));
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    h.push(ok("fallback again"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(done.route.model_group, "f");
    assert_eq!(hosts(&h).last().unwrap(), "f1");
}

#[test]
fn bad_requests_never_cool_a_deployment_down() {
    let r = router(json!({"model_list": [dep("g", "a")], "num_retries": 0, "allowed_fails": 0}));
    let h = MockHost::new();
    for _ in 0..3 {
        h.push(fail(400, "invalid_value"));
        block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    }
    assert!(!r.health().is_cooling_down("a", h.now_ms()));
}

// -- Load balancing (pure strategy picks)

fn config(v: Value) -> ProxyConfig {
    Router::from_value(v, &NoEnv).unwrap().config().clone()
}

/// xorshift64*: the same generator as MockHost, separate stream.
fn draws(seed: u64) -> impl FnMut() -> f64 {
    let mut x = seed;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn simple_shuffle_follows_weights_within_tolerance() {
    let mut a = dep("g", "a");
    a["litellm_params"]["weight"] = json!(1);
    let mut b = dep("g", "b");
    b["litellm_params"]["weight"] = json!(3);
    let c = dep("g", "c"); // no weight: 0 when others have one (LiteLLM)
    let cfg = config(json!({"model_list": [a, b, c]}));
    let deps: Vec<_> = cfg.model_list.iter().collect();
    let health = Health::new();
    let mut next = draws(42);
    let n = 20_000;
    let mut counts = [0usize; 3];
    for _ in 0..n {
        let cx = PickContext {
            health: &health,
            now_ms: 0,
            draw: next(),
            input_tokens: 0,
            latency_buffer: 0.0,
        };
        counts[pick(Strategy::SimpleShuffle, &deps, &cx).unwrap()] += 1;
    }
    let share = |i: usize| counts[i] as f64 / n as f64;
    // Expected 25 % / 75 % / 0; tolerance ±2 points (≈ 6σ at n = 20 000).
    assert!((share(0) - 0.25).abs() < 0.02, "{counts:?}");
    assert!((share(1) - 0.75).abs() < 0.02, "{counts:?}");
    assert_eq!(counts[2], 0);
}

#[test]
fn simple_shuffle_weighs_by_rpm_when_no_weight() {
    let mut a = dep("g", "a");
    a["litellm_params"]["rpm"] = json!(100);
    let mut b = dep("g", "b");
    b["litellm_params"]["rpm"] = json!(900);
    let cfg = config(json!({"model_list": [a, b]}));
    let deps: Vec<_> = cfg.model_list.iter().collect();
    let health = Health::new();
    let mut next = draws(7);
    let n = 10_000;
    let hits_a = (0..n)
        .filter(|_| {
            let cx = PickContext {
                health: &health,
                now_ms: 0,
                draw: next(),
                input_tokens: 0,
                latency_buffer: 0.0,
            };
            pick(Strategy::SimpleShuffle, &deps, &cx) == Some(0)
        })
        .count();
    assert!((hits_a as f64 / n as f64 - 0.1).abs() < 0.02, "{hits_a}");
}

#[test]
fn least_busy_picks_fewest_in_flight() {
    let cfg = config(json!({"model_list": [dep("g", "a"), dep("g", "b"), dep("g", "c")]}));
    let deps: Vec<_> = cfg.model_list.iter().collect();
    let mut health = Health::new();
    health.record_start("a", 0);
    health.record_start("a", 0);
    health.record_start("c", 0);
    let cx = |draw| PickContext {
        health: &health,
        now_ms: 0,
        draw,
        input_tokens: 0,
        latency_buffer: 0.0,
    };
    for d in [0.0, 0.5, 0.99] {
        assert_eq!(pick(Strategy::LeastBusy, &deps, &cx(d)), Some(1));
    }
}

#[test]
fn latency_based_prefers_fast_and_untried_deployments() {
    let cfg = config(json!({"model_list": [dep("g", "a"), dep("g", "b"), dep("g", "c")]}));
    let deps: Vec<_> = cfg.model_list.iter().collect();
    let mut health = Health::new();
    health.record_success("a", 900, Some(10)); // 90 ms/token
    health.record_success("b", 300, Some(10)); // 30 ms/token
    health.record_success("c", 500, Some(10));
    fn cx(health: &Health, draw: f64, latency_buffer: f64) -> PickContext<'_> {
        PickContext {
            health,
            now_ms: 0,
            draw,
            input_tokens: 0,
            latency_buffer,
        }
    }
    assert_eq!(
        pick(Strategy::LatencyBased, &deps, &cx(&health, 0.9, 0.0)),
        Some(1)
    );
    // A timeout penalises the fastest one.
    health.record_failure(
        "b",
        &Error::new(ErrorKind::Timeout, "t"),
        0,
        &Default::default(),
    );
    assert_eq!(
        pick(Strategy::LatencyBased, &deps, &cx(&health, 0.9, 0.0)),
        Some(2)
    );
    // With a 100 % buffer, a (90) is within 2 × c (50): the low draw picks it.
    assert_eq!(
        pick(Strategy::LatencyBased, &deps, &cx(&health, 0.0, 1.0)),
        Some(0)
    );
    assert_eq!(
        pick(Strategy::LatencyBased, &deps, &cx(&health, 0.99, 1.0)),
        Some(2)
    );
}

#[test]
fn usage_based_respects_rpm_and_tpm_limits() {
    let mut a = dep("g", "a");
    a["litellm_params"]["rpm"] = json!(2);
    let mut b = dep("g", "b");
    b["litellm_params"]["tpm"] = json!(1000);
    let cfg = config(json!({"model_list": [a, b]}));
    let deps: Vec<_> = cfg.model_list.iter().collect();
    let mut health = Health::new();
    health.record_tokens("b", 0, 600);
    health.record_start("b", 0);
    let cx = |health: &Health, tokens| {
        let c = PickContext {
            health,
            now_ms: 10,
            draw: 0.5,
            input_tokens: tokens,
            latency_buffer: 0.0,
        };
        pick(Strategy::UsageBased, &deps, &c)
    };
    assert_eq!(cx(&health, 10), Some(0), "a used 0 tokens");
    health.record_start("a", 5);
    health.record_start("a", 5);
    assert_eq!(cx(&health, 10), Some(1), "a at its rpm");
    assert_eq!(cx(&health, 500), None, "b would exceed its tpm");
    // Next minute: counters reset.
    let c = PickContext {
        health: &health,
        now_ms: MINUTE_MS,
        draw: 0.5,
        input_tokens: 500,
        latency_buffer: 0.0,
    };
    assert!(pick(Strategy::UsageBased, &deps, &c).is_some());
}

#[test]
fn usage_based_router_answers_429_when_every_deployment_is_at_its_limit() {
    let mut a = dep("g", "a");
    a["litellm_params"]["rpm"] = json!(1);
    let r = router(
        json!({"model_list": [a], "routing_strategy": "usage-based-routing-v2",
                          "num_retries": 0}),
    );
    let h = MockHost::new().reply(ok("one"));
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    let e = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.message().starts_with("No deployments available"));
    h.advance(MINUTE_MS);
    h.push(ok("two"));
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
}

#[test]
fn cost_based_picks_the_cheapest_deployment() {
    let mut mini = dep("g", "mini");
    mini["litellm_params"]["model"] = json!("openai/gpt-4o-mini");
    let mut own = dep("g", "own");
    own["litellm_params"]["model"] = json!("openai/my-finetune");
    own["litellm_params"]["input_cost_per_token"] = json!(0.0000001);
    own["litellm_params"]["output_cost_per_token"] = json!(0.0000001);
    let cfg = config(json!({"model_list": [dep("g", "big"), mini, own]}));
    let deps: Vec<_> = cfg.model_list.iter().collect();
    let health = Health::new();
    let cx = PickContext {
        health: &health,
        now_ms: 0,
        draw: 0.3,
        input_tokens: 0,
        latency_buffer: 0.0,
    };
    assert_eq!(pick(Strategy::CostBased, &deps, &cx), Some(2));
    assert_eq!(pick(Strategy::CostBased, &deps[..2], &cx), Some(1));
}

#[test]
fn order_tiers_are_tried_before_higher_orders() {
    let mut a = dep("g", "primary");
    a["litellm_params"]["order"] = json!(1);
    let mut b = dep("g", "backup");
    b["litellm_params"]["order"] = json!(2);
    let r = router(json!({"model_list": [b, a], "num_retries": 1, "allowed_fails": 0}));
    let h = MockHost::new();
    for _ in 0..4 {
        h.push(ok("x"));
        block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    }
    assert!(hosts(&h).iter().all(|x| x == "primary"));
    h.push(fail(500, "x"));
    h.push(ok("backup answered"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(done.route.deployment_id, "backup");
}

// -- Planner tables (pure, fake clock)

#[test]
fn planner_table_single_deployment() {
    let cfg = config(json!({"model_list": [dep("g", "a")]}));
    let policy = Policy {
        num_retries: 2,
        ..Policy::default()
    };
    let mut health = Health::new();
    let mut p = Planner::new(&cfg, &policy, CallPolicy::default(), "g").unwrap();
    fn cx(h: &Health, now: u64) -> PickInput<'_> {
        PickInput {
            health: h,
            now_ms: now,
            pick_draw: 0.5,
            jitter_draw: 0.5,
            input_tokens: 0,
        }
    }
    let Step::Call(a0) = p.start(&cx(&health, 0)) else {
        panic!()
    };
    assert_eq!((a0.wait_ms, a0.retry), (0, 0));
    let e = Error::new(ErrorKind::ServiceUnavailable, "x");
    health.record_failure("a", &e, 0, &policy.cooldown);
    let Step::Call(a1) = p.after_failure(&a0, e.clone(), &cx(&health, 0)) else {
        panic!()
    };
    assert_eq!(
        (a1.wait_ms, a1.retry),
        (500, 1),
        "jitter 0.5 → exactly 500 ms"
    );
    let Step::Call(a2) = p.after_failure(&a1, e.clone(), &cx(&health, 500)) else {
        panic!()
    };
    assert_eq!((a2.wait_ms, a2.retry), (1000, 2));
    assert_eq!(
        p.after_failure(&a2, e.clone(), &cx(&health, 1500)),
        Step::Fail(e)
    );
    assert_eq!(p.requests(), 3);
}

#[test]
fn planner_backoff_bounds_for_extreme_jitter() {
    let cfg = config(json!({"model_list": [dep("g", "a")]}));
    let policy = Policy {
        num_retries: 6,
        ..Policy::default()
    };
    for (jitter, factor) in [(0.0, 0.75), (0.999_999, 1.25)] {
        let health = Health::new();
        let mut p = Planner::new(&cfg, &policy, CallPolicy::default(), "g").unwrap();
        let cx = PickInput {
            health: &health,
            now_ms: 0,
            pick_draw: 0.1,
            jitter_draw: jitter,
            input_tokens: 0,
        };
        let Step::Call(mut a) = p.start(&cx) else {
            panic!()
        };
        let mut waits = Vec::new();
        while let Step::Call(next) =
            p.after_failure(&a, Error::new(ErrorKind::InternalServer, "x"), &cx)
        {
            waits.push(next.wait_ms);
            a = next;
        }
        let expected: Vec<u64> = [500u64, 1000, 2000, 4000, 8000, 8000]
            .iter()
            .map(|b| (*b as f64 * factor) as u64)
            .collect();
        for (w, e) in waits.iter().zip(&expected) {
            assert!(w.abs_diff(*e) <= 1, "{waits:?} vs {expected:?}");
        }
        assert_eq!(waits.len(), 6);
    }
}

// -- Streams

#[test]
fn stream_falls_back_before_the_first_chunk_only() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1")],
        "num_retries": 0, "fallbacks": [{"a": ["b"]}]
    }));
    let h = MockHost::new();
    // a1: the stream is cut before any chunk → counts as a failure → fallback to b.
    h.push(sse(&[], false));
    h.push(sse(
        &[&chunk("Hel", None), &chunk("lo", Some("stop"))],
        true,
    ));
    let s = block_on(r.completion_stream(&h, &NoEnv, chat("a"))).unwrap();
    assert_eq!(s.route.model_group, "b");
    let items: Vec<_> = block_on(s.stream.collect::<Vec<_>>());
    let text: String = items
        .iter()
        .map(|c| {
            c.as_ref().unwrap().choices[0]
                .delta
                .content
                .clone()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(text, "Hello");
    assert_eq!(hosts(&h), ["a1", "b1"]);
}

#[test]
fn stream_error_after_first_chunk_ends_the_stream_without_fallback() {
    let r = router(json!({
        "model_list": [dep("a", "a1"), dep("b", "b1")],
        "num_retries": 2, "fallbacks": [{"a": ["b"]}]
    }));
    let h = MockHost::new();
    h.push(sse(&[&chunk("partial", None)], false)); // cut mid-stream
    h.push(ok("never used"));
    let ended = Rc::new(Cell::new(0));
    let e2 = ended.clone();
    let s = block_on(r.completion_stream(&h, &NoEnv, chat("a"))).unwrap();
    let stream = s.stream.on_end(move |r| {
        assert!(r.is_err());
        e2.set(e2.get() + 1);
    });
    let items: Vec<_> = block_on(stream.collect::<Vec<_>>());
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0].as_ref().unwrap().choices[0]
            .delta
            .content
            .as_deref(),
        Some("partial")
    );
    assert!(items[1].is_err());
    assert_eq!(ended.get(), 1);
    assert_eq!(
        hosts(&h),
        ["a1"],
        "no retry or fallback after the first chunk"
    );
    assert_eq!(r.health().in_flight("a1"), 0);
}

#[test]
fn stream_retries_on_429_before_first_chunk_and_reports_usage_at_end() {
    let r = router(json!({"model_list": [dep("g", "a")], "num_retries": 1}));
    let h = MockHost::new();
    h.push(rate_limited("1"));
    let usage = json!({"id": "c", "object": "chat.completion.chunk", "created": 1,
                       "model": "gpt-4o", "choices": [],
                       "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}})
    .to_string();
    h.push(sse(&[&chunk("Hi", Some("stop")), &usage], true));
    let s = block_on(r.completion_stream(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(h.sleeps.borrow().as_slice(), [1000]);
    assert_eq!(
        r.health().in_flight("a"),
        1,
        "held while the stream is read"
    );
    let got = Rc::new(Cell::new(0u64));
    let g2 = got.clone();
    let (meta, opts) = (s.meta.clone(), s.options.clone());
    let stream = s.stream.on_end(move |end| {
        let u = end.unwrap().unwrap();
        g2.set(u.total_tokens);
        let usd = edgellm::cost::stream_cost(&meta, Some(&u), &opts).unwrap();
        assert_eq!(usd.pico(), 7 * 2_500_000 + 3 * 10_000_000);
    });
    let items: Vec<_> = block_on(stream.collect::<Vec<_>>());
    assert_eq!(
        items.len(),
        1,
        "usage chunk hidden: the caller did not ask for it"
    );
    assert_eq!(got.get(), 10);
    assert_eq!(r.health().in_flight("a"), 0);
    assert_eq!(r.health().usage("a", h.now_ms()).1, 10);
}

// -- Cost through the router

#[test]
fn routed_completion_is_priced_at_the_deployment_price() {
    let mut d = dep("g", "a");
    d["litellm_params"]["input_cost_per_token"] = json!(0.000001);
    d["litellm_params"]["output_cost_per_token"] = json!(0.000002);
    let r = router(json!({"model_list": [d, dep("h", "b")]}));
    let h = MockHost::new().reply(ok("x")).reply(ok("y"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(
        done.response_cost.unwrap().pico(),
        10 * 1_000_000 + 5 * 2_000_000
    );
    let done = block_on(r.completion(&h, &NoEnv, chat("h"))).unwrap();
    assert_eq!(
        done.response_cost.unwrap().pico(),
        10 * 2_500_000 + 5 * 10_000_000
    );
    // Overrides never reach the provider.
    let body = h.requests.borrow()[0].json_body().unwrap();
    assert!(body.get("input_cost_per_token").is_none());
    assert!(body.get("num_retries").is_none());
}

#[test]
fn base_model_prices_an_azure_style_deployment_name() {
    let r = router(
        json!({"model_list": [{"model_name": "g", "litellm_params": {
        "model": "openai/my-deployment", "api_key": "sk-test", "api_base": "http://a.test/v1"},
        "model_info": {"id": "a", "base_model": "gpt-4o-mini"}}]}),
    );
    let h = MockHost::new().reply(ok("x"));
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(
        done.response_cost.unwrap().pico(),
        10 * 150_000 + 5 * 600_000
    );
}

#[test]
fn mock_response_deployments_route_without_network() {
    let r = router(json!({"model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o",
            "mock_response": "litellm.RateLimitError"}, "model_info": {"id": "bad"}},
        {"model_name": "f", "litellm_params": {"model": "openai/gpt-4o-mini",
            "mock_response": "fine"}, "model_info": {"id": "good"}}],
        "num_retries": 1, "fallbacks": [{"g": ["f"]}]}));
    let h = MockHost::new();
    let done = block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    assert_eq!(text(&done), "fine");
    assert_eq!(done.route.requests, 3, "g twice (1 retry), then f");
    assert!(h.requests.borrow().is_empty());
}

#[test]
fn sdk_kwargs_without_effect_are_reported_not_dropped() {
    let r = router(
        json!({"model_list": [dep("g", "a")], "redis_host": "localhost",
                          "request_timeout": 7}),
    );
    assert!(
        r.warnings().iter().any(|w| w.contains("redis_host")),
        "{:?}",
        r.warnings()
    );
    assert_eq!(r.config().timeout_ms(), Some(7000));
}

#[test]
fn proxy_config_shape_is_accepted() {
    let env: std::collections::HashMap<String, String> =
        [("KEY_A".to_string(), "sk-test-from-env".to_string())].into();
    let r = Router::from_value(
        json!({
            "model_list": [{"model_name": "g", "litellm_params": {
                "model": "openai/gpt-4o", "api_key": "os.environ/KEY_A",
                "api_base": "http://a.test/v1"}}],
            "router_settings": {"routing_strategy": "least-busy", "num_retries": 4,
                                "allowed_fails": 7, "cooldown_time": 2}
        }),
        &env,
    )
    .unwrap();
    assert_eq!(r.policy().strategy, Strategy::LeastBusy);
    assert_eq!(r.policy().num_retries, 4);
    assert_eq!(r.policy().cooldown.allowed_fails, 7);
    assert_eq!(r.policy().cooldown.cooldown_ms, 2000);
    let h = MockHost::new().reply(ok("x"));
    block_on(r.completion(&h, &NoEnv, chat("g"))).unwrap();
    let auth = h.requests.borrow()[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.clone());
    assert_eq!(auth.as_deref(), Some("Bearer sk-test-from-env"));
}
