//! # edgellm gateway
//!
//! An OpenAI-compatible LLM endpoint on Cloudflare Workers, configured by a LiteLLM
//! `config.yaml`: `POST /v1/chat/completions` (streaming as SSE), `/v1/completions`,
//! `/v1/embeddings`, `/v1/images/generations`, `/v1/moderations`, `/v1/rerank`, `GET /v1/models`,
//! `/v1/model/info` and LiteLLM's health probes, with the master key, CORS and LiteLLM's
//! response headers. See `worker/README.md`.
//!
//! Layout: [`app`] is the gateway as plain Rust over the core's `Host` and `Env` traits (tested
//! natively with `MockHost`); `edge` (wasm32 only) converts Worker requests and responses;
//! [`yaml`] reads the config. Provider translation, streaming, retries and errors all come from
//! the `edgellm` core.

pub mod app;
pub mod keys;
pub mod yaml;

#[cfg(target_arch = "wasm32")]
mod disconnect;
#[cfg(target_arch = "wasm32")]
mod drive;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod keys_edge;
#[cfg(target_arch = "wasm32")]
mod logs;
#[cfg(target_arch = "wasm32")]
mod stream_body;

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    req: worker::worker_sys::web_sys::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::worker_sys::web_sys::Response> {
    edge::handle(req, env, ctx, edge::Preread::No).await
}

/// The fetch entry for a request whose body `worker/js/entry.mjs` already read: `body` is
/// `request.arrayBuffer()`'s result when `read` is true, else what it rejected with. Answers as
/// [`fetch`] does (a `worker::Error` is a plain 500, as `#[event(fetch)]` makes it).
#[cfg(target_arch = "wasm32")]
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = worker::wasm_bindgen,
    wasm_bindgen_futures = worker::wasm_bindgen_futures,
    js_sys = worker::js_sys
)]
pub async fn fetch_read(
    req: worker::worker_sys::web_sys::Request,
    env: worker::Env,
    ctx: worker::worker_sys::Context,
    body: worker::wasm_bindgen::JsValue,
    read: bool,
) -> Result<worker::wasm_bindgen::JsValue, worker::wasm_bindgen::JsValue> {
    use worker::wasm_bindgen::JsCast;
    let pre = if read {
        edge::Preread::Read(body.unchecked_into())
    } else {
        edge::Preread::Failed(body)
    };
    answer(req, env, worker::Context::new(ctx), pre).await
}

/// [`edge::handle`]'s answer as the JS entry takes it: a `worker::Error` is logged and answered
/// as a plain 500, as `#[event(fetch)]` makes it.
#[cfg(target_arch = "wasm32")]
async fn answer(
    req: worker::worker_sys::web_sys::Request,
    env: worker::Env,
    ctx: worker::Context,
    pre: edge::Preread,
) -> Result<worker::wasm_bindgen::JsValue, worker::wasm_bindgen::JsValue> {
    let response = match edge::handle(req, env, ctx, pre).await {
        Ok(r) => r,
        Err(e) => {
            worker::console_error!("{}", &e);
            worker::Response::error("INTERNAL SERVER ERROR", 500)
                .map_err(worker::wasm_bindgen::JsValue::from)?
                .into()
        }
    };
    Ok(response.into())
}

/// The fetch entry `worker/js/entry.mjs` uses: answers as [`fetch_read`] (`pre` 1, `body` read)
/// or [`fetch`] (`pre` 0) would, but through `resolve` / `reject` instead of a promise, the
/// request's task run by `drive` rather than by `wasm_bindgen_futures` (fewer promise and
/// microtask hops per request; the same futures). `pre` 2: `body` is what reading it rejected
/// with.
#[cfg(target_arch = "wasm32")]
#[worker::wasm_bindgen::prelude::wasm_bindgen(
    wasm_bindgen = worker::wasm_bindgen,
    wasm_bindgen_futures = worker::wasm_bindgen_futures,
    js_sys = worker::js_sys
)]
pub fn fetch_driven(
    req: worker::worker_sys::web_sys::Request,
    env: worker::Env,
    ctx: worker::worker_sys::Context,
    body: worker::wasm_bindgen::JsValue,
    pre: u8,
    resolve: worker::js_sys::Function,
    reject: worker::js_sys::Function,
) {
    use worker::wasm_bindgen::JsCast;
    let pre = match pre {
        1 => edge::Preread::Read(body.unchecked_into()),
        2 => edge::Preread::Failed(body),
        _ => edge::Preread::No,
    };
    drive::spawn(
        answer(req, env, worker::Context::new(ctx), pre),
        resolve,
        reject,
    );
}

/// The path of an already-serialized WHATWG URL (`Request.url`), without query or fragment and
/// without reparsing: what `worker::Request::path` gives, without building a `worker::Request`.
#[cfg(any(target_arch = "wasm32", test))]
pub(crate) fn path_from_url(url: &str) -> String {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None if url.starts_with('/') => return url.to_string(),
        None => return format!("/{url}"),
    };
    match rest.find('/') {
        Some(i) => {
            // `?` and `#` inside the path are always percent-encoded in a serialized URL.
            let path = &rest[i..];
            path[..path.find(['?', '#']).unwrap_or(path.len())].to_string()
        }
        None => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::path_from_url;

    #[test]
    fn path_from_url_matches_url_path() {
        for (url, path) in [
            ("https://example.com/", "/"),
            ("https://example.com", "/"),
            (
                "https://example.com/v1/chat/completions",
                "/v1/chat/completions",
            ),
            ("https://example.com/foo?a=1&b=/x", "/foo"),
            ("https://example.com/foo#/frag?x", "/foo"),
            ("https://example.com:8080/foo", "/foo"),
            ("https://example.com/a%3F%23%2Fb?c", "/a%3F%23%2Fb"),
            ("http://127.0.0.1:8787/v1/models?x=1", "/v1/models"),
        ] {
            assert_eq!(path_from_url(url), path, "{url}");
        }
    }
}
