//! Anthropic streaming (SSE) → OpenAI `chat.completion.chunk`s.
//!
//! Event flow (<https://docs.claude.com/en/docs/build-with-claude/streaming>): `message_start`,
//! then per content block `content_block_start`, `content_block_delta`s (`text_delta`,
//! `input_json_delta`, `thinking_delta`, `signature_delta`, `citations_delta`),
//! `content_block_stop`; then `message_delta` (stop reason, cumulative usage) and
//! `message_stop`. `ping` may come anywhere; an `error` event (e.g. `overloaded_error`) can
//! arrive after the 200 and ends the stream with that error.
//!
//! Tool calls come out in OpenAI's shape: a stable `index` per `tool_use` block, numbered from 0
//! among tool calls (not among all blocks), the first delta carrying `id`, `type` and `name`,
//! then every `partial_json` fragment as `arguments` — none is dropped or reordered.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::request::RESPONSE_FORMAT_TOOL;
use super::response::{finish_reason, parse_error, usage_from};
use crate::decode::Frame;
use crate::provider::StreamDecoder;
use crate::types::{
    ChatChunk, ChunkChoice, Delta, FinishReason, FunctionCallDelta, Put, ToolCallDelta, WireJson,
};
use crate::{Error, ErrorKind, Result};

/// What a content block turned into.
/// A `content_block_delta` event as far as a text delta needs it (other fields are skipped).
#[derive(serde::Deserialize)]
struct TextDeltaEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    delta: TextDelta<'a>,
}

#[derive(serde::Deserialize)]
struct TextDelta<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow, default)]
    text: std::borrow::Cow<'a, str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    /// A client tool call, with its OpenAI index.
    Tool(u32),
    /// The JSON-mode tool: its input streams as content.
    JsonContent,
    /// Server tools, redacted thinking, citations-only blocks, anything new: not surfaced.
    Ignored,
}

/// The stream decoder for the Messages API. Public so that other platforms serving the same
/// event stream (Anthropic on Vertex AI) reuse it.
///
/// ```
/// use edgellm::{decode::Frame, provider::{anthropic::MessagesStream, StreamDecoder}};
/// let mut d = MessagesStream::new(false, 1_700_000_000);
/// let mut out = Vec::new();
/// for data in [
///     r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":5,"output_tokens":1}}}"#,
///     r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
///     r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
///     r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
///     r#"{"type":"message_stop"}"#,
/// ] {
///     d.on_frame(&Frame { event: None, data: data.into() }, &mut out).unwrap();
/// }
/// d.finish(&mut out).unwrap();
/// assert_eq!(out[1].choices[0].delta.content.as_deref(), Some("Hi"));
/// assert_eq!(out.last().unwrap().usage.as_ref().unwrap().total_tokens, 7);
/// ```
#[derive(Debug)]
pub struct MessagesStream {
    json_mode: bool,
    created: i64,
    id: String,
    model: String,
    usage: Map<String, Value>,
    blocks: HashMap<u64, Block>,
    tool_calls: u32,
    json_tool_seen: bool,
    stop_reason: Option<String>,
    stopped: bool,
    usage_sent: bool,
    /// A text chunk's JSON around its `content` string (see [`MessagesStream::text_chunk`]).
    text_wire: Option<(String, String)>,
}

impl MessagesStream {
    /// A decoder for one stream. `json_mode`: the request used the JSON `response_format` tool,
    /// whose input is streamed as content. `created`: Unix seconds for every chunk.
    pub fn new(json_mode: bool, created: i64) -> Self {
        Self {
            json_mode,
            created,
            id: String::new(),
            model: String::new(),
            usage: Map::new(),
            blocks: HashMap::new(),
            tool_calls: 0,
            json_tool_seen: false,
            stop_reason: None,
            stopped: false,
            usage_sent: false,
            text_wire: None,
        }
    }

    /// A chunk carrying `text` as content, with its JSON text (`wire`) written from a template
    /// instead of serialized per chunk: text deltas are nearly all of a stream's chunks. The
    /// template is this stream's text chunk serialized once with an empty content, so the bytes
    /// are exactly what serializing each chunk writes (the text escaped by serde_json too).
    fn text_chunk(&mut self, text: &str) -> ChatChunk {
        let mut chunk = self.chunk(
            Delta {
                content: Some(text.into()),
                ..Default::default()
            },
            None,
        );
        if self.text_wire.is_none() {
            let mut empty = chunk.clone();
            empty.choices[0].delta.content = Some(String::new());
            // `"content":""` occurs once: quotes inside JSON strings are escaped.
            const HOLE: &str = r#""content":"""#;
            self.text_wire = serde_json::to_string(&empty).ok().and_then(|json| {
                let at = json.find(HOLE).filter(|&at| json.rfind(HOLE) == Some(at))?;
                let split = at + HOLE.len() - 2;
                Some((json[..split].to_string(), json[split + 2..].to_string()))
            });
        }
        if let (Some((head, tail)), Ok(text)) = (&self.text_wire, serde_json::to_string(text)) {
            chunk.wire = WireJson::new(&[head.as_str(), &text, tail].concat());
        }
        chunk
    }

    fn chunk(&self, delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: finish,
                logprobs: None,
            }],
            ..Default::default()
        }
    }

    fn merge_usage(&mut self, u: Option<&Value>) {
        if let Some(Value::Object(u)) = u {
            for (k, v) in u {
                if !v.is_null() {
                    self.usage.insert(k.clone(), v.clone());
                }
            }
        }
    }

    fn usage_chunk(&mut self, out: &mut Vec<ChatChunk>) {
        if self.usage_sent {
            return;
        }
        self.usage_sent = true;
        out.push(ChatChunk {
            id: self.id.clone(),
            created: self.created,
            model: self.model.clone(),
            usage: Some(usage_from(&Value::Object(self.usage.clone()))),
            ..Default::default()
        });
    }

    fn block_start(&mut self, index: u64, block: &Value, out: &mut Vec<ChatChunk>) {
        let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
        let b = match kind {
            "text" => {
                let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                if !text.is_empty() {
                    out.push(self.chunk(
                        Delta {
                            content: Some(text.into()),
                            ..Default::default()
                        },
                        None,
                    ));
                }
                Block::Text
            }
            "thinking" => {
                let text = block.get("thinking").and_then(Value::as_str).unwrap_or("");
                if !text.is_empty() {
                    out.push(self.chunk(
                        Delta {
                            reasoning_content: Some(text.into()),
                            ..Default::default()
                        },
                        None,
                    ));
                }
                Block::Thinking
            }
            "tool_use" => {
                let name = block.get("name").and_then(Value::as_str).unwrap_or("");
                if self.json_mode && name == RESPONSE_FORMAT_TOOL && !self.json_tool_seen {
                    self.json_tool_seen = true;
                    Block::JsonContent
                } else {
                    let i = self.tool_calls;
                    self.tool_calls += 1;
                    out.push(self.chunk(
                        Delta {
                            tool_calls: Some(vec![ToolCallDelta {
                                index: i,
                                id: block.get("id").and_then(Value::as_str).map(Into::into),
                                kind: Some("function".into()),
                                function: Some(FunctionCallDelta {
                                    name: Some(name.into()),
                                    arguments: Some(String::new()),
                                }),
                            }]),
                            ..Default::default()
                        },
                        None,
                    ));
                    Block::Tool(i)
                }
            }
            _ => Block::Ignored,
        };
        self.blocks.insert(index, b);
    }

    fn block_delta(&mut self, index: u64, delta: &Value, out: &mut Vec<ChatChunk>) {
        let block = self.blocks.get(&index).copied().unwrap_or(Block::Ignored);
        let s = |k: &str| delta.get(k).and_then(Value::as_str).unwrap_or("");
        let d = match (delta.get("type").and_then(Value::as_str), block) {
            (Some("text_delta"), _) if !s("text").is_empty() => {
                let chunk = self.text_chunk(s("text"));
                out.push(chunk);
                return;
            }
            (Some("thinking_delta"), _) if !s("thinking").is_empty() => Delta {
                reasoning_content: Some(s("thinking").into()),
                ..Default::default()
            },
            (Some("signature_delta"), _) if !s("signature").is_empty() => {
                // LiteLLM's shape: the signature travels as a thinking block so that a client can
                // send the thinking back on the next turn.
                let mut extra = Map::new();
                extra.put(
                    "thinking_blocks",
                    json!([{"type": "thinking", "thinking": "", "signature": s("signature")}]),
                );
                Delta {
                    extra,
                    ..Default::default()
                }
            }
            (Some("input_json_delta"), Block::Tool(i)) if !s("partial_json").is_empty() => Delta {
                tool_calls: Some(vec![ToolCallDelta {
                    index: i,
                    function: Some(FunctionCallDelta {
                        name: None,
                        arguments: Some(s("partial_json").into()),
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            (Some("input_json_delta"), Block::JsonContent) if !s("partial_json").is_empty() => {
                Delta {
                    content: Some(s("partial_json").into()),
                    ..Default::default()
                }
            }
            _ => return,
        };
        out.push(self.chunk(d, None));
    }
}

impl StreamDecoder for MessagesStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
        let data = frame.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        // Text deltas, nearly every event of a stream, are read without building a `Value`.
        if let Ok(TextDeltaEvent {
            kind: "content_block_delta",
            delta:
                TextDelta {
                    kind: "text_delta",
                    text,
                },
        }) = serde_json::from_str(data)
        {
            if !text.is_empty() {
                let chunk = self.text_chunk(&text);
                out.push(chunk);
            }
            return Ok(());
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| Error::decode(format!("invalid Anthropic stream event: {e}")))?;
        let etype = v
            .get("type")
            .and_then(Value::as_str)
            .or(frame.event.as_deref())
            .unwrap_or("");
        match etype {
            "message_start" => {
                let m = v.get("message").unwrap_or(&Value::Null);
                self.id = m.get("id").and_then(Value::as_str).unwrap_or("").into();
                self.model = m.get("model").and_then(Value::as_str).unwrap_or("").into();
                self.text_wire = None;
                self.merge_usage(m.get("usage"));
                out.push(self.chunk(
                    Delta {
                        role: Some("assistant".into()),
                        content: Some(String::new()),
                        ..Default::default()
                    },
                    None,
                ));
            }
            "content_block_start" => {
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                let block = v.get("content_block").cloned().unwrap_or(Value::Null);
                self.block_start(index, &block, out);
            }
            "content_block_delta" => {
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                self.block_delta(index, v.get("delta").unwrap_or(&Value::Null), out);
            }
            "message_delta" => {
                self.merge_usage(v.get("usage"));
                if let Some(r) = v
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                {
                    self.stop_reason = Some(r.to_string());
                    let mut f = finish_reason(r);
                    if f == FinishReason::ToolCalls && self.json_tool_seen && self.tool_calls == 0 {
                        f = FinishReason::Stop;
                    }
                    out.push(self.chunk(Delta::default(), Some(f)));
                }
            }
            "message_stop" => {
                self.stopped = true;
                self.usage_chunk(out);
            }
            "error" => {
                return Err(parse_error(200, &Vec::new(), data.as_bytes()));
            }
            // ping, content_block_stop, and event types added later.
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<ChatChunk>) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        if self.stop_reason.is_some() {
            // Everything arrived but the closing `message_stop`: nothing is missing.
            self.usage_chunk(out);
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::BadGateway,
            "Anthropic stream ended before the message finished (no stop_reason, no message_stop)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[&str], json_mode: bool) -> (Vec<ChatChunk>, Result<()>) {
        let mut d = MessagesStream::new(json_mode, 1);
        let mut out = Vec::new();
        for e in events {
            if let Err(err) = d.on_frame(
                &Frame {
                    event: None,
                    data: (*e).into(),
                },
                &mut out,
            ) {
                return (out, Err(err));
            }
        }
        let r = d.finish(&mut out);
        (out, r)
    }

    const START: &str = r#"{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":10,"cache_read_input_tokens":2,"output_tokens":1}}}"#;

    #[test]
    fn text_chunks_carry_the_json_serializing_them_writes() {
        let texts = [
            "ok",
            "a \"quoted\" \\ line\nbreak",
            "tab\there \u{1}",
            "héllo ✓ 🦊",
            "</script>",
        ];
        let mut events = vec![START.to_string()];
        events.push(
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
                .into(),
        );
        for t in texts {
            let delta = json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": t}});
            events.push(delta.to_string());
        }
        events.push(r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#.into());
        events.push(r#"{"type":"message_stop"}"#.into());
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        let (out, r) = run(&refs, false);
        r.unwrap();
        let text_chunks: Vec<_> = out
            .iter()
            .filter(|c| {
                c.choices
                    .first()
                    .is_some_and(|ch| ch.delta.content.as_deref().is_some_and(|s| !s.is_empty()))
            })
            .collect();
        assert_eq!(text_chunks.len(), texts.len());
        for (c, t) in text_chunks.iter().zip(texts) {
            assert_eq!(c.choices[0].delta.content.as_deref(), Some(t));
            let wire = c.wire.get().expect("a text chunk has its JSON");
            let mut plain = (*c).clone();
            plain.wire = WireJson::default();
            assert_eq!(wire, serde_json::to_string(&plain).unwrap(), "{t:?}");
        }
        // Other chunks are serialized as before.
        assert!(out
            .iter()
            .filter(|c| !text_chunks.iter().any(|t| std::ptr::eq(*t, *c)))
            .all(|c| c.wire.get().is_none()));
    }

    #[test]
    fn tool_calls_are_indexed_among_tools_and_never_dropped() {
        let (out, r) = run(
            &[
                START,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ok"}}"#,
                r#"{"type":"content_block_stop","index":0}"#,
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}}"#,
                r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t2","name":"g","input":{}}}"#,
                r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#,
                r#"{"type":"message_stop"}"#,
            ],
            false,
        );
        r.unwrap();
        let tc: Vec<&ToolCallDelta> = out
            .iter()
            .flat_map(|c| c.choices.iter())
            .flat_map(|c| c.delta.tool_calls.iter().flatten())
            .collect();
        assert_eq!(tc.len(), 5);
        assert_eq!((tc[0].index, tc[0].id.as_deref()), (0, Some("t1")));
        let args: String = tc
            .iter()
            .filter(|t| t.index == 0)
            .filter_map(|t| t.function.as_ref()?.arguments.clone())
            .collect();
        assert_eq!(args, "{\"a\":1}");
        assert_eq!((tc[3].index, tc[3].id.as_deref()), (1, Some("t2")));
        let last = out.last().unwrap();
        assert!(last.choices.is_empty());
        let u = last.usage.as_ref().unwrap();
        assert_eq!((u.prompt_tokens, u.completion_tokens), (12, 9));
        assert_eq!(
            out[out.len() - 2].choices[0].finish_reason,
            Some(FinishReason::ToolCalls)
        );
    }

    #[test]
    fn error_event_mid_stream_and_truncation() {
        let (out, r) = run(
            &[
                START,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ],
            false,
        );
        assert_eq!(out.len(), 1);
        let e = r.unwrap_err();
        assert_eq!((e.kind(), e.status()), (ErrorKind::ServiceUnavailable, 529));
        let (_, r) = run(&[START], false);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::BadGateway);
    }

    #[test]
    fn thinking_and_json_mode() {
        let (out, r) = run(
            &[
                START,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s"}}"#,
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"json_tool_call","input":{}}}"#,
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"x\":1}"}}"#,
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}"#,
            ],
            true,
        );
        r.unwrap();
        assert_eq!(
            out[1].choices[0].delta.reasoning_content.as_deref(),
            Some("hm")
        );
        assert_eq!(
            out[2].choices[0].delta.extra["thinking_blocks"][0]["signature"],
            "s"
        );
        assert_eq!(
            out[3].choices[0].delta.content.as_deref(),
            Some("{\"x\":1}")
        );
        assert_eq!(out[4].choices[0].finish_reason, Some(FinishReason::Stop));
        assert!(out[5].usage.is_some());
    }
}
