//! `streamChunkBuilder`: the final `chat.completion` rebuilt from a stream's chunks; and the
//! same for text-completion streams, for their callbacks.

use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::respond::json_err;
use crate::accumulate::Accumulator;
use serde_json::Value;

use crate::types::{ChatChunk, FromValue, TextCompletionResponse};
use crate::Error;

/// LiteLLM's `stream_chunk_builder`: the `chat.completion` a provider would have answered
/// without streaming, from every chunk of one stream in order. Usage is the stream's own (ask
/// for it with `stream_options: { include_usage: true }`); it is never estimated.
pub(crate) fn stream_chunk_builder(chunks: &JsValue) -> Result<JsValue, JsValue> {
    let text = js_sys::JSON::stringify(chunks)
        .ok()
        .and_then(|s| s.as_string())
        .filter(|_| js_sys::Array::is_array(chunks))
        .ok_or_else(|| {
            to_js(Error::bad_request(
                "streamChunkBuilder expects an array of chunks",
            ))
        })?;
    // Through `Value`: the chunk types' `from_value` code is in the wasm anyway (stream
    // decoders), a second copy of them for `from_str` is not. Taken by move (`FromValue`).
    let chunks: Vec<ChatChunk> = serde_json::from_str::<Value>(&text)
        .and_then(FromValue::from_value)
        .map_err(|e| {
            to_js(Error::bad_request(format!(
                "not a chat.completion.chunk: {e}"
            )))
        })?;
    let resp = Accumulator::collect(&chunks);
    let out = serde_json::to_string(&resp).map_err(json_err)?;
    js_sys::JSON::parse(&out)
}

/// The `text_completion` a provider would have answered without streaming, from the chunks of
/// one text-completion stream (for success callbacks): each choice's text in order, its last
/// `finish_reason`, its logprobs arrays joined, and the stream's usage.
#[derive(Debug, Default)]
pub(crate) struct TextAccumulator {
    response: Option<TextCompletionResponse>,
}

impl TextAccumulator {
    pub(crate) fn push(&mut self, chunk: &TextCompletionResponse) {
        let r = self.response.get_or_insert_with(|| TextCompletionResponse {
            choices: Vec::new(),
            ..chunk.clone()
        });
        if chunk.usage.is_some() {
            r.usage.clone_from(&chunk.usage);
        }
        for c in &chunk.choices {
            // Choices stay ordered by index (a position search: no sort code in the wasm).
            let at = r.choices.partition_point(|a| a.index < c.index);
            match r.choices.get_mut(at).filter(|a| a.index == c.index) {
                None => r.choices.insert(at, c.clone()),
                Some(acc) => {
                    acc.text.push_str(&c.text);
                    if c.finish_reason.is_some() {
                        acc.finish_reason.clone_from(&c.finish_reason);
                    }
                    join_logprobs(&mut acc.logprobs, c.logprobs.as_ref());
                }
            }
        }
    }

    /// The gathered response; `None` for a stream without chunks.
    pub(crate) fn finish(self) -> Option<TextCompletionResponse> {
        self.response
    }
}

/// Appends a chunk's completions-shaped logprobs (`tokens`, `token_logprobs`, `top_logprobs`,
/// `text_offset` arrays) to what was gathered.
fn join_logprobs(acc: &mut Option<Value>, more: Option<&Value>) {
    let Some(Value::Object(more)) = more else {
        return;
    };
    match acc {
        Some(Value::Object(have)) => {
            for (k, v) in more {
                match (have.get_mut(k), v) {
                    (Some(Value::Array(a)), Value::Array(b)) => a.extend(b.iter().cloned()),
                    (None, _) => {
                        have.insert(k.clone(), v.clone());
                    }
                    _ => {}
                }
            }
        }
        _ => *acc = Some(Value::Object(more.clone())),
    }
}
