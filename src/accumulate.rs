//! Rebuilding the final `chat.completion` from its stream (LiteLLM's `stream_chunk_builder`).
//!
//! Feed every [`ChatChunk`] of one stream to an [`Accumulator`], in order, then take the
//! [`ChatResponse`] the provider would have answered without streaming. Unlike LiteLLM's
//! builder, nothing is dropped: every choice index, every tool call (including parallel calls
//! whose pieces interleave), reasoning, refusal and unknown delta fields are kept.
//!
//! Rules:
//! - `id`, `model`, `created` and `system_fingerprint` come from the first chunk that has them
//!   (a non-empty / non-zero value: Azure's first chunk has an empty id and model);
//! - per choice `index`: `content`, `reasoning_content` and `refusal` are concatenated (absent
//!   when never sent; `content` is `null` for a tools-only answer, like OpenAI's non-stream
//!   response); `role` comes from the first delta that has one (default `assistant`);
//!   `finish_reason` is the last one sent; `logprobs` arrays (`content`, `refusal`) are
//!   concatenated;
//! - tool calls are assembled by their `index`: `id`, `type` and function `name` come from the
//!   first piece that has them and later pieces' `arguments` are appended. A piece carrying a
//!   different `id` for an index already in use starts a new call (some OpenAI-compatible
//!   servers send every parallel call at index 0) instead of corrupting the first one's
//!   arguments. Calls are ordered by index, then arrival;
//! - other delta fields (`annotations`, provider extras) are merged into the message's
//!   `extra`: arrays are appended, objects merged key by key, other values replaced by the
//!   latest non-null one; `audio.data` and `audio.transcript` pieces are concatenated;
//! - `usage` is the last usage reported (the usage chunk); other chunk-level fields
//!   (`service_tier`, Azure's `prompt_filter_results`, Perplexity's `citations`, which is
//!   repeated on every chunk) keep their latest non-null value, except OpenAI's per-chunk
//!   `obfuscation` padding, which is dropped.
//!
//! ```
//! use edgellm::accumulate::Accumulator;
//! use edgellm::ChatChunk;
//! let chunks: Vec<ChatChunk> = [
//!     r#"{"id":"c1","created":7,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
//!     r#"{"id":"c1","created":7,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
//!     r#"{"id":"c1","created":7,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
//! ].iter().map(|j| serde_json::from_str(j).unwrap()).collect();
//! let mut acc = Accumulator::new();
//! for c in &chunks {
//!     acc.push(c);
//! }
//! let resp = acc.finish();
//! assert_eq!(resp.choices[0].message.content.as_deref(), Some("Hello"));
//! assert_eq!(resp.usage.unwrap().total_tokens, 5);
//! ```

use serde_json::{Map, Value};

use crate::types::{
    AssistantMessage, ChatChunk, ChatResponse, Choice, ChunkChoice, FinishReason, FunctionCall,
    ToolCall, ToolCallDelta, Usage,
};

/// Chunk-level fields that only make sense on the wire.
const STREAM_ONLY_FIELDS: &[&str] = &["obfuscation"];

/// Builds the final [`ChatResponse`] of a stream from its chunks.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    id: String,
    created: i64,
    model: String,
    system_fingerprint: Option<String>,
    usage: Option<Usage>,
    extra: Map<String, Value>,
    /// In order of first appearance; looked up by `index` (few choices, linear scan).
    choices: Vec<ChoiceAcc>,
    chunks: usize,
}

#[derive(Debug, Clone, Default)]
struct ChoiceAcc {
    index: u32,
    role: Option<String>,
    content: Option<String>,
    reasoning_content: Option<String>,
    refusal: Option<String>,
    tool_calls: Vec<ToolAcc>,
    finish_reason: Option<FinishReason>,
    logprobs: Option<Value>,
    extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default)]
struct ToolAcc {
    index: u32,
    id: String,
    kind: Option<String>,
    name: String,
    arguments: String,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// The response built from `chunks` (LiteLLM's `stream_chunk_builder`).
    pub fn collect<'a>(chunks: impl IntoIterator<Item = &'a ChatChunk>) -> ChatResponse {
        let mut acc = Self::new();
        for c in chunks {
            acc.push(c);
        }
        acc.finish()
    }

    /// Adds the next chunk of the stream.
    pub fn push(&mut self, chunk: &ChatChunk) {
        self.chunks += 1;
        if self.id.is_empty() && !chunk.id.is_empty() {
            self.id.clone_from(&chunk.id);
        }
        if self.model.is_empty() && !chunk.model.is_empty() {
            self.model.clone_from(&chunk.model);
        }
        if self.created == 0 {
            self.created = chunk.created;
        }
        if self.system_fingerprint.is_none() {
            self.system_fingerprint
                .clone_from(&chunk.system_fingerprint);
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        for (k, v) in &chunk.extra {
            if !v.is_null() && !STREAM_ONLY_FIELDS.contains(&k.as_str()) {
                self.extra.insert(k.clone(), v.clone());
            }
        }
        for c in &chunk.choices {
            self.choice(c.index).push(c);
        }
    }

    /// How many chunks were pushed.
    pub fn chunk_count(&self) -> usize {
        self.chunks
    }

    /// The usage reported so far.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The response as accumulated so far (the stream may still be going).
    pub fn response(&self) -> ChatResponse {
        self.clone().finish()
    }

    /// The final response. Choices are ordered by index.
    pub fn finish(self) -> ChatResponse {
        // Loops, here and in `ChoiceAcc::finish`, not `map(…).collect()`: its in-place
        // specializations were 0.1 KB of the gzipped package.
        let mut choices = Vec::with_capacity(self.choices.len());
        for c in self.choices {
            choices.push(c.finish());
        }
        crate::sort::sort_by(&mut choices, |a, b| a.index.cmp(&b.index));
        ChatResponse {
            id: self.id,
            created: self.created,
            model: self.model,
            choices,
            usage: self.usage,
            system_fingerprint: self.system_fingerprint,
            extra: self.extra,
            ..ChatResponse::default()
        }
    }

    fn choice(&mut self, index: u32) -> &mut ChoiceAcc {
        let pos = match self.choices.iter().position(|c| c.index == index) {
            Some(pos) => pos,
            None => {
                self.choices.push(ChoiceAcc {
                    index,
                    ..ChoiceAcc::default()
                });
                self.choices.len() - 1
            }
        };
        &mut self.choices[pos]
    }
}

impl ChoiceAcc {
    fn push(&mut self, c: &ChunkChoice) {
        let d = &c.delta;
        if self.role.is_none() {
            self.role.clone_from(&d.role);
        }
        append(&mut self.content, d.content.as_deref());
        append(&mut self.reasoning_content, d.reasoning_content.as_deref());
        append(&mut self.refusal, d.refusal.as_deref());
        for t in d.tool_calls.iter().flatten() {
            self.tool_call(t);
        }
        if c.finish_reason.is_some() {
            self.finish_reason.clone_from(&c.finish_reason);
        }
        if let Some(lp) = c.logprobs.as_ref().filter(|v| !v.is_null()) {
            match &mut self.logprobs {
                Some(acc) => merge(acc, lp),
                None => self.logprobs = Some(lp.clone()),
            }
        }
        for (k, v) in d.extra.iter().filter(|(_, v)| !v.is_null()) {
            match self.extra.get_mut(k) {
                Some(acc) if k == "audio" => merge_audio(acc, v),
                Some(acc) => merge(acc, v),
                None => {
                    self.extra.insert(k.clone(), v.clone());
                }
            }
        }
    }

    fn tool_call(&mut self, t: &ToolCallDelta) {
        let new_id = t.id.as_deref().filter(|id| !id.is_empty());
        // The latest call with this index takes the piece, unless the piece names another call.
        let pos = self
            .tool_calls
            .iter()
            .rposition(|c| c.index == t.index)
            .filter(|&p| match new_id {
                Some(id) => {
                    let cur = &self.tool_calls[p].id;
                    cur.is_empty() || cur == id
                }
                None => true,
            });
        let call = match pos {
            Some(p) => &mut self.tool_calls[p],
            None => {
                self.tool_calls.push(ToolAcc {
                    index: t.index,
                    ..ToolAcc::default()
                });
                self.tool_calls.last_mut().expect("just pushed")
            }
        };
        if let (true, Some(id)) = (call.id.is_empty(), new_id) {
            call.id = id.to_string();
        }
        if call.kind.is_none() {
            call.kind.clone_from(&t.kind);
        }
        if let Some(f) = &t.function {
            if let (true, Some(name)) = (call.name.is_empty(), f.name.as_deref()) {
                call.name = name.to_string();
            }
            if let Some(args) = &f.arguments {
                call.arguments.push_str(args);
            }
        }
    }

    fn finish(mut self) -> Choice {
        // Stable: calls sharing an index keep their arrival order.
        crate::sort::sort_by(&mut self.tool_calls, |a, b| a.index.cmp(&b.index));
        let mut tool_calls = Vec::with_capacity(self.tool_calls.len());
        for c in self.tool_calls {
            tool_calls.push(ToolCall {
                id: c.id,
                kind: c.kind.unwrap_or_else(|| "function".into()),
                function: FunctionCall {
                    name: c.name,
                    arguments: c.arguments,
                },
            });
        }
        let content = match self.content {
            Some(s) if s.is_empty() && !tool_calls.is_empty() => None,
            other => other,
        };
        Choice {
            index: self.index,
            message: AssistantMessage {
                role: self.role.unwrap_or_else(|| "assistant".into()),
                content,
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                reasoning_content: self.reasoning_content,
                refusal: self.refusal,
                extra: self.extra,
            },
            finish_reason: self.finish_reason,
            logprobs: self.logprobs,
        }
    }
}

fn append(acc: &mut Option<String>, piece: Option<&str>) {
    if let Some(p) = piece {
        acc.get_or_insert_with(String::new).push_str(p);
    }
}

/// Arrays are appended, objects merged key by key, nulls ignored, anything else replaced.
fn merge(acc: &mut Value, new: &Value) {
    match (acc, new) {
        (_, Value::Null) => {}
        (Value::Array(a), Value::Array(b)) => a.extend(b.iter().cloned()),
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// OpenAI streams audio output as pieces of base64 `data` and of `transcript`.
fn merge_audio(acc: &mut Value, new: &Value) {
    let (Value::Object(a), Value::Object(b)) = (&mut *acc, new) else {
        merge(acc, new);
        return;
    };
    for (k, v) in b {
        match (k.as_str(), a.get_mut(k), v) {
            ("data" | "transcript", Some(Value::String(s)), Value::String(piece)) => {
                s.push_str(piece)
            }
            (_, Some(slot), v) => merge(slot, v),
            (_, None, v) => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn chunk(v: Value) -> ChatChunk {
        serde_json::from_value(v).unwrap()
    }

    fn build(chunks: &[Value]) -> ChatResponse {
        let chunks: Vec<ChatChunk> = chunks.iter().cloned().map(chunk).collect();
        Accumulator::collect(&chunks)
    }

    #[test]
    fn text_stream_with_usage_chunk() {
        let r = build(&[
            json!({"id":"chatcmpl-1","created":1700,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","service_tier":"default","obfuscation":"xq",
                   "choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}]}),
            json!({"id":"chatcmpl-1","created":1700,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","obfuscation":"ab",
                   "choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}),
            json!({"id":"chatcmpl-1","created":1700,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}),
            json!({"id":"chatcmpl-1","created":1700,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
            json!({"id":"chatcmpl-1","created":1700,"model":"gpt-4o-2024-08-06","choices":[],
                   "usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"completion_tokens_details":{"reasoning_tokens":0}}}),
        ]);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({
                "id":"chatcmpl-1","object":"chat.completion","created":1700,"model":"gpt-4o-2024-08-06",
                "system_fingerprint":"fp_1","service_tier":"default",
                "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],
                "usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"completion_tokens_details":{"reasoning_tokens":0}}
            })
        );
    }

    #[test]
    fn interleaved_parallel_tool_calls() {
        let tc = |i: u32, first: bool, args: &str| {
            let mut t = json!({"index": i, "function": {"arguments": args}});
            if first {
                t["id"] = json!(format!("call_{i}"));
                t["type"] = json!("function");
                t["function"]["name"] = json!(if i == 0 { "get_weather" } else { "get_time" });
            }
            json!({"id":"c","model":"m","created":1,"choices":[{"index":0,"delta":{"tool_calls":[t]}}]})
        };
        let r = build(&[
            json!({"id":"c","model":"m","created":1,"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}),
            tc(0, true, ""),
            tc(1, true, ""),
            tc(0, false, "{\"city\":"),
            tc(1, false, "{\"tz\":"),
            tc(1, false, "\"UTC\"}"),
            tc(0, false, "\"Paris\"}"),
            // Both pieces in one delta, in reverse index order.
            json!({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[
                {"index":1,"function":{"arguments":""}},{"index":0,"function":{"arguments":""}}]}}]}),
            json!({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
        ]);
        let m = &r.choices[0].message;
        assert_eq!(m.content, None);
        let calls = m.tool_calls.as_ref().unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (
                calls[0].id.as_str(),
                calls[0].kind.as_str(),
                calls[0].function.name.as_str()
            ),
            ("call_0", "function", "get_weather")
        );
        assert_eq!(calls[0].function.arguments, "{\"city\":\"Paris\"}");
        assert_eq!(
            (calls[1].id.as_str(), calls[1].function.name.as_str()),
            ("call_1", "get_time")
        );
        assert_eq!(calls[1].function.arguments, "{\"tz\":\"UTC\"}");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    }

    #[test]
    fn tool_call_id_and_name_repeated_on_every_piece_are_not_concatenated() {
        let piece = |args: &str| {
            json!({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[
                {"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":args}}]}}]})
        };
        let r = build(&[piece("{\"a\""), piece(":1}")]);
        let calls = r.choices[0].message.tool_calls.clone().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].id, "call_a");
        assert_eq!(calls[0].function.name, "f");
        assert_eq!(calls[0].function.arguments, "{\"a\":1}");
    }

    #[test]
    fn parallel_calls_all_sent_at_index_zero_are_kept_apart() {
        let whole = |id: &str, name: &str, args: &str| {
            json!({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[
                {"index":0,"id":id,"type":"function","function":{"name":name,"arguments":args}}]}}]})
        };
        let r = build(&[
            whole("call_1", "a", "{}"),
            whole("call_2", "b", "{\"x\":"),
            json!({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"2}"}}]}}]}),
        ]);
        let calls = r.choices[0].message.tool_calls.clone().unwrap();
        let got: Vec<_> = calls
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.function.name.as_str(),
                    c.function.arguments.as_str(),
                )
            })
            .collect();
        assert_eq!(got, [("call_1", "a", "{}"), ("call_2", "b", "{\"x\":2}")]);
    }

    #[test]
    fn tool_call_without_id_or_name_is_kept() {
        let r = build(&[
            json!({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":3,"function":{"arguments":"{\"q\":1}"}}]},"finish_reason":"tool_calls"}]}),
        ]);
        let calls = r.choices[0].message.tool_calls.clone().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].function.arguments, "{\"q\":1}");
        assert_eq!(calls[0].kind, "function");
    }

    #[test]
    fn multiple_choices_interleaved_and_out_of_order() {
        let d = |i: u32, content: &str, finish: Value| json!({"id":"c","choices":[{"index":i,"delta":{"content":content},"finish_reason":finish}]});
        let r = build(&[
            d(1, "B1", Value::Null),
            d(0, "A1", Value::Null),
            json!({"id":"c","choices":[
                {"index":0,"delta":{"content":"A2"},"finish_reason":"length"},
                {"index":1,"delta":{"content":"B2"},"finish_reason":null}]}),
            d(1, "", json!("stop")),
        ]);
        assert_eq!(r.choices.len(), 2);
        assert_eq!(r.choices[0].index, 0);
        assert_eq!(r.choices[0].message.content.as_deref(), Some("A1A2"));
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));
        assert_eq!(r.choices[1].message.content.as_deref(), Some("B1B2"));
        assert_eq!(r.choices[1].finish_reason, Some(FinishReason::Stop));
    }

    #[test]
    fn reasoning_refusal_logprobs_and_extras() {
        let r = build(&[
            json!({"id":"c","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Let me "}}]}),
            json!({"id":"c","choices":[{"index":0,"delta":{"reasoning_content":"think."}}]}),
            json!({"id":"c","choices":[{"index":0,"delta":{"refusal":"I can't"},
                   "logprobs":{"content":null,"refusal":[{"token":"I","logprob":-0.1}]}}]}),
            json!({"id":"c","choices":[{"index":0,"delta":{"refusal":" help.","annotations":[{"type":"url_citation","n":1}]},
                   "logprobs":{"content":null,"refusal":[{"token":" can't","logprob":-0.2}]}}]}),
            json!({"id":"c","choices":[{"index":0,"delta":{"annotations":[{"type":"url_citation","n":2}],
                   "audio":{"id":"audio_1","transcript":"Hi","data":"AAA"}}}]}),
            json!({"id":"c","choices":[{"index":0,"delta":{"audio":{"transcript":" you","data":"BBB","expires_at":9}},
                   "finish_reason":"stop"}]}),
        ]);
        let m = &r.choices[0].message;
        assert_eq!(m.reasoning_content.as_deref(), Some("Let me think."));
        assert_eq!(m.refusal.as_deref(), Some("I can't help."));
        assert_eq!(m.content, None);
        assert_eq!(
            r.choices[0].logprobs,
            Some(
                json!({"content":null,"refusal":[{"token":"I","logprob":-0.1},{"token":" can't","logprob":-0.2}]})
            )
        );
        assert_eq!(
            m.extra["annotations"],
            json!([{"type":"url_citation","n":1},{"type":"url_citation","n":2}])
        );
        assert_eq!(
            m.extra["audio"],
            json!({"id":"audio_1","transcript":"Hi you","data":"AAABBB","expires_at":9})
        );
    }

    #[test]
    fn identity_comes_from_the_first_chunk_that_has_it() {
        let r = build(&[
            // Azure: prompt filter results first, with no id/model.
            json!({"id":"","model":"","created":0,"choices":[],"prompt_filter_results":[{"prompt_index":0}]}),
            json!({"id":"chatcmpl-9","model":"gpt-4o","created":5,"system_fingerprint":"fp","citations":["a"],"choices":[{"index":0,"delta":{"content":"x"}}]}),
            json!({"id":"other","model":"other","created":6,"system_fingerprint":"fp2","citations":["a","b"],"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
        ]);
        assert_eq!(
            (r.id.as_str(), r.model.as_str(), r.created),
            ("chatcmpl-9", "gpt-4o", 5)
        );
        assert_eq!(r.system_fingerprint.as_deref(), Some("fp"));
        assert!(r.extra.contains_key("prompt_filter_results"));
        assert_eq!(r.extra["citations"], json!(["a", "b"]));
    }

    #[test]
    fn snapshot_and_counters() {
        let mut acc = Accumulator::new();
        assert_eq!(acc.chunk_count(), 0);
        acc.push(&chunk(
            json!({"id":"c","choices":[{"index":0,"delta":{"content":"a"}}]}),
        ));
        assert_eq!(
            acc.response().choices[0].message.content.as_deref(),
            Some("a")
        );
        acc.push(&chunk(
            json!({"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}),
        ));
        assert_eq!(acc.chunk_count(), 2);
        assert_eq!(acc.usage().unwrap().total_tokens, 2);
        let r = acc.finish();
        assert_eq!(r.choices[0].message.content.as_deref(), Some("a"));
        assert_eq!(r.choices[0].finish_reason, None);
        assert_eq!(r.object, "chat.completion");
    }

    #[test]
    fn empty_text_answer_keeps_empty_content() {
        let r = build(&[
            json!({"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"length"}]}),
        ]);
        assert_eq!(r.choices[0].message.content.as_deref(), Some(""));
    }
}
