//! OpenAI wire types (serde). Requests keep unknown fields in `extra`; provider strings are open enums.

mod chat;
mod embedding;
mod fields;
mod image;
mod moderation;
mod rerank;
mod response;
#[cfg(feature = "schema")]
mod schema;
mod text_completion;
mod untagged;
#[cfg(test)]
mod wire_bytes;

pub use chat::*;
pub use embedding::*;
// `FromValue`: the JS layer (wasm only) takes parsed `Value`s into these types by move.
#[cfg_attr(not(target_arch = "wasm32"), allow(unused_imports))]
pub(crate) use fields::FromValue;
pub(crate) use fields::Put;
pub(crate) use fields::{json_text, to_value_via_text};
pub use image::*;
pub use moderation::*;
pub use rerank::*;
pub use response::*;
pub use text_completion::*;
