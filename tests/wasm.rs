//! `FetchHost` in Node, against a fake `globalThis.fetch` (no network): request shape, body
//! streaming, abort when the body is dropped, error classification, timeouts, timers and
//! WebCrypto signing. Run: `source tools/env.sh && wasm_cargo test --test wasm`.
#![cfg(all(target_arch = "wasm32", feature = "fetch"))]

use edgellm::http::{HttpRequest, Method};
use edgellm::wasm::FetchHost;
use edgellm::{ErrorKind, Host};
use futures_util::StreamExt;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
const realFetch = globalThis.fetch;
export function fakeFetch(mode, chunks) {
  const state = { calls: [], aborted: false, reason: undefined };
  globalThis.fetch = (url, init) => {
    state.calls.push({ url, method: init.method, headers: [...new Headers(init.headers)],
                       body: init.body ? new TextDecoder().decode(init.body) : null });
    // Like a real fetch: the request ends when the caller's signal (if any) aborts or when the
    // response body is cancelled (Fetch standard: cancelling the body terminates the fetch).
    const inner = new AbortController();
    const signal = inner.signal;
    signal.addEventListener("abort", () => { state.aborted = true; state.reason = signal.reason; });
    if (init.signal) init.signal.addEventListener("abort", () => inner.abort(init.signal.reason));
    if (mode === "typeerror") return Promise.reject(new TypeError("fetch failed"));
    if (mode === "aborterror") return Promise.reject(new DOMException("The operation was aborted.", "AbortError"));
    if (mode === "hang") return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    let i = 0;
    const body = new ReadableStream({
      pull(c) {
        if (i < chunks.length) c.enqueue(new TextEncoder().encode(chunks[i++]));
        else if (mode === "stall") return new Promise((_, reject) => signal.addEventListener("abort", () => { c.error(signal.reason); reject(signal.reason); }));
        else c.close();
      },
      cancel(reason) { state.cancelled = true; inner.abort(reason); },
    }, { highWaterMark: 0 });
    return Promise.resolve(new Response(body, { status: 201, headers: { "x-one": "1", "content-type": "text/plain" } }));
  };
  return state;
}
export function restoreFetch() { globalThis.fetch = realFetch; }
export function json(v) { return JSON.stringify(v); }
export async function newRsaKey() {
  const k = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true, ["sign", "verify"]);
  return { pkcs8: new Uint8Array(await crypto.subtle.exportKey("pkcs8", k.privateKey)), publicKey: k.publicKey };
}
export function verify(publicKey, sig, data) {
  return crypto.subtle.verify("RSASSA-PKCS1-v1_5", publicKey, sig, data);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = fakeFetch)]
    fn fake_fetch(mode: &str, chunks: Vec<String>) -> JsValue;
    #[wasm_bindgen(js_name = restoreFetch)]
    fn restore_fetch();
    fn json(v: &JsValue) -> String;
    #[wasm_bindgen(js_name = newRsaKey)]
    fn new_rsa_key() -> js_sys::Promise;
    fn verify(public_key: &JsValue, sig: &[u8], data: &[u8]) -> js_sys::Promise;
}

fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &key.into()).unwrap()
}

fn request() -> HttpRequest {
    HttpRequest::post_json(
        "https://api.example.test/v1/chat",
        &serde_json::json!({"model": "m", "x": 1}),
    )
    .with_header("authorization", "Bearer sk-test")
}

/// Lets pending promise callbacks (abort listeners, cancel) run.
async fn tick() {
    FetchHost.sleep(5).await;
}

#[wasm_bindgen_test]
async fn sends_the_request_and_streams_the_body() {
    let state = fake_fetch("ok", vec!["hel".into(), "lo".into()]);
    let resp = FetchHost.send(request(), None).await.unwrap();
    assert_eq!(resp.status, 201);
    assert!(resp.headers().contains(&("x-one".into(), "1".into())));
    let body = resp.bytes().await.unwrap();
    assert_eq!(body, b"hello");
    let calls = json(&get(&state, "calls"));
    let calls: serde_json::Value = serde_json::from_str(&calls).unwrap();
    assert_eq!(calls[0]["url"], "https://api.example.test/v1/chat");
    assert_eq!(calls[0]["method"], "POST");
    assert_eq!(calls[0]["body"], r#"{"model":"m","x":1}"#);
    let headers = calls[0]["headers"].as_array().unwrap();
    assert!(headers.contains(&serde_json::json!(["authorization", "Bearer sk-test"])));
    assert!(headers.contains(&serde_json::json!(["content-type", "application/json"])));
    tick().await;
    assert_eq!(
        get(&state, "aborted"),
        JsValue::FALSE,
        "a fully read body is not aborted"
    );
    restore_fetch();
}

#[wasm_bindgen_test]
async fn dropping_the_body_aborts_the_request() {
    let state = fake_fetch("stall", vec!["first".into()]);
    let resp = FetchHost.send(request(), None).await.unwrap();
    let mut body = resp.body;
    assert_eq!(body.next().await.unwrap().unwrap(), b"first");
    assert_eq!(get(&state, "aborted"), JsValue::FALSE);
    drop(body);
    tick().await;
    assert_eq!(get(&state, "aborted"), JsValue::TRUE);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn type_error_is_connection_and_abort_error_is_cancelled() {
    fake_fetch("typeerror", vec![]);
    let e = FetchHost.send(request(), None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection);
    assert!(e.message().contains("fetch failed"), "{e}");
    fake_fetch("aborterror", vec![]);
    let e = FetchHost.send(request(), Some(10_000)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn no_headers_in_time_is_a_timeout_and_aborts() {
    let state = fake_fetch("hang", vec![]);
    let t0 = FetchHost.now_ms();
    let e = FetchHost.send(request(), Some(50)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert!(FetchHost.now_ms() - t0 >= 45);
    assert_eq!(get(&state, "aborted"), JsValue::TRUE);
    assert_eq!(
        get(&get(&state, "reason"), "name").as_string().as_deref(),
        Some("TimeoutError")
    );
    restore_fetch();
}

#[wasm_bindgen_test]
async fn a_stalled_body_is_a_timeout() {
    let state = fake_fetch("stall", vec!["a".into()]);
    let resp = FetchHost.send(request(), Some(50)).await.unwrap();
    let mut body = resp.body;
    assert_eq!(body.next().await.unwrap().unwrap(), b"a");
    let e = body.next().await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(get(&state, "aborted"), JsValue::TRUE);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn an_invalid_header_is_a_bad_request() {
    fake_fetch("ok", vec![]);
    let mut req = request();
    req.method = Method::Get;
    req.body = None;
    let req = req.with_header("x-bad", "line\nbreak");
    let e = FetchHost.send(req, None).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadRequest);
    restore_fetch();
}

#[wasm_bindgen_test]
async fn sleep_clock_and_random() {
    let t0 = FetchHost.now_ms();
    assert!(t0 > 1_600_000_000_000);
    FetchHost.sleep(40).await;
    let waited = FetchHost.now_ms() - t0;
    assert!((35..2000).contains(&waited), "slept {waited} ms");
    let r: Vec<f64> = (0..100).map(|_| FetchHost.random()).collect();
    assert!(r.iter().all(|x| (0.0..1.0).contains(x)));
    assert!(r.iter().any(|x| *x != r[0]));
}

#[wasm_bindgen_test]
async fn a_dropped_sleep_does_not_fire() {
    // If the cleared timer still fired, its callback would run into a freed closure and throw.
    let sleep = FetchHost.sleep(10);
    drop(sleep);
    FetchHost.sleep(30).await;
}

#[wasm_bindgen_test]
async fn signs_rs256_with_webcrypto() {
    let key = JsFuture::from(new_rsa_key()).await.unwrap();
    let pkcs8 = js_sys::Uint8Array::new(&get(&key, "pkcs8")).to_vec();
    let data = b"header.payload";
    let sig = FetchHost.sign_rs256(&pkcs8, data).await.unwrap();
    assert_eq!(sig.len(), 256);
    let ok = JsFuture::from(verify(&get(&key, "publicKey"), &sig, data))
        .await
        .unwrap();
    assert_eq!(ok, JsValue::TRUE);
    let e = FetchHost.sign_rs256(b"not a key", data).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication);
}
