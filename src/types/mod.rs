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

pub use chat::*;
pub use embedding::*;
pub(crate) use fields::Put;
pub use image::*;
pub use moderation::*;
pub use rerank::*;
pub use response::*;
pub use text_completion::*;
