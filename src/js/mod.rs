//! The JS API, exported with wasm-bindgen. Thin: it converts values and calls [`crate::engine`],
//! [`crate::modality`] and [`crate::router`].
//!
//! The npm package (`pkg/`) wraps these exports: it turns rejections into error classes,
//! `ChunkStream` into an async-iterable `ReadableStream`, and loads the wasm per runtime.

mod accumulate;
mod callbacks;
mod completion;
mod cost;
mod env;
mod error;
mod info;
mod logging;
mod modality;
mod respond;
mod router;
mod stream;
