//! OpenAI wire types (serde). Requests keep unknown fields in `extra`; provider strings are open enums.

mod chat;
mod response;

pub use chat::*;
pub use response::*;
