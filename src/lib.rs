//! # edgellm
//!
//! A LiteLLM-class LLM SDK and gateway core: call 40+ providers with OpenAI's request and
//! response format, from Rust or — compiled to WebAssembly — from browsers, Node and
//! Cloudflare Workers.
//!
//! The core is **sans-IO**: providers are pure transforms between OpenAI types and each
//! provider's wire format ([`provider`]), streams are decoded from bytes by state machines
//! ([`decode`], [`stream`]), and the one I/O loop ([`engine`]) talks to the outside world only
//! through the small [`Host`] trait (fetch, timers, clock, randomness). On wasm the host is
//! `fetch` + `AbortController` + `setTimeout`; in tests it is [`testing::MockHost`].
//!
//! | feature | default | enables |
//! | --- | --- | --- |
//! | `fetch` | yes | the wasm `fetch` host (`wasm32` only) |
//! | `js` | yes | the JS API exported with wasm-bindgen (`wasm32` only) |
//! | `integrations` | yes | the service-specific logging integrations and the gateway's request logging ([`integrations`]; without it only the generic webhook logger) |
//!
//! ```
//! use edgellm::{provider::registry, provider::Provider, ChatRequest, CallOptions, Secret};
//! let (provider, model) = registry::resolve("openai/gpt-4o", None).unwrap();
//! let opts = CallOptions { api_key: Some(Secret::new("sk-test")), ..Default::default() };
//! let target = edgellm::provider::target_for(provider, &model, &opts, &edgellm::host::NoEnv, 0).unwrap();
//! let http = provider.chat_request(&ChatRequest::user("openai/gpt-4o", "Hello"), &target).unwrap();
//! assert_eq!(http.url, "https://api.openai.com/v1/chat/completions");
//! assert_eq!(http.json_body().unwrap()["model"], "gpt-4o");
//! ```

pub mod accumulate;
pub mod auth;
pub mod aws;
pub mod budget;
pub mod config;
pub mod cost;
pub mod decode;
pub mod engine;
pub mod error;
pub mod host;
pub mod http;
pub mod integrations;
#[cfg(all(target_arch = "wasm32", feature = "js"))]
mod js;
pub mod logging;
pub mod mock;
pub mod modality;
mod num;
pub mod options;
pub mod provider;
pub mod retry;
pub mod router;
mod sort;
pub mod str_map;
pub mod stream;
pub mod testing;
pub mod types;
#[cfg(all(target_arch = "wasm32", feature = "fetch"))]
pub mod wasm;

pub use error::{Error, ErrorKind, Result};
pub use host::{Env, Host};
pub use options::{CallOptions, Secret};
pub use types::{ChatChunk, ChatRequest, ChatResponse};
