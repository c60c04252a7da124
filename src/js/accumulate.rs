//! `streamChunkBuilder`: the final `chat.completion` rebuilt from a stream's chunks.

use wasm_bindgen::prelude::*;

use super::completion::json_err;
use super::error::to_js;
use crate::accumulate::Accumulator;
use crate::types::ChatChunk;
use crate::Error;

/// LiteLLM's `stream_chunk_builder`: the `chat.completion` a provider would have answered
/// without streaming, from every chunk of one stream in order. Usage is the stream's own (ask
/// for it with `stream_options: { include_usage: true }`); it is never estimated.
#[wasm_bindgen(js_name = streamChunkBuilder)]
pub fn stream_chunk_builder(chunks: &JsValue) -> Result<JsValue, JsValue> {
    let text = js_sys::JSON::stringify(chunks)
        .ok()
        .and_then(|s| s.as_string())
        .filter(|_| js_sys::Array::is_array(chunks))
        .ok_or_else(|| {
            to_js(Error::bad_request(
                "streamChunkBuilder expects an array of chunks",
            ))
        })?;
    let chunks: Vec<ChatChunk> = serde_json::from_str(&text).map_err(|e| {
        to_js(Error::bad_request(format!(
            "not a chat.completion.chunk: {e}"
        )))
    })?;
    let resp = Accumulator::collect(&chunks);
    let out = serde_json::to_string(&resp).map_err(json_err)?;
    js_sys::JSON::parse(&out)
}
