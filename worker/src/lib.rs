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
mod edge;
#[cfg(target_arch = "wasm32")]
mod keys_edge;
#[cfg(target_arch = "wasm32")]
mod logs;

#[cfg(target_arch = "wasm32")]
#[worker::event(fetch)]
async fn fetch(
    req: worker::Request,
    env: worker::Env,
    ctx: worker::Context,
) -> worker::Result<worker::worker_sys::web_sys::Response> {
    edge::handle(req, env, ctx).await
}
