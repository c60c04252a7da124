//! ConverseStream events → OpenAI `chat.completion.chunk`s.
//!
//! Events (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html>),
//! one per event-stream message, named by `:event-type`: `messageStart`, `contentBlockStart`
//! (only for `toolUse` blocks), `contentBlockDelta` (`text`, `toolUse.input`,
//! `reasoningContent`), `contentBlockStop`, `messageStop` (`stopReason`), `metadata` (`usage`).
//! Exceptions (`throttlingException`, `modelStreamErrorException`, …) end the stream with an
//! error of the matching kind.

use serde_json::Value;

use super::response::{classify, finish_reason, usage_from};
use crate::decode::Frame;
use crate::provider::build::at;
use crate::provider::native::{
    role_delta, signature_delta, text_delta, tool_delta, Block, Blocks, ChunkHead,
};
use crate::provider::StreamDecoder;
use crate::types::{ChatChunk, Delta, FinishReason};
use crate::{Error, ErrorKind, Result};

/// The ConverseStream decoder.
#[derive(Debug)]
pub struct ConverseStream {
    head: ChunkHead,
    json_tool: Option<String>,
    /// Only [`Block::Tool`] and [`Block::JsonContent`].
    blocks: Blocks,
    tool_calls: u32,
    json_seen: bool,
    stopped: bool,
}

impl ConverseStream {
    /// A decoder for one stream; Converse sends no id, model or time, so they come from the call.
    /// `json_tool`: the JSON `response_format` tool, whose input is streamed as content.
    pub fn new(id: String, model: String, created: i64, json_tool: Option<String>) -> Self {
        Self {
            head: ChunkHead { id, model, created },
            json_tool,
            blocks: Blocks::default(),
            tool_calls: 0,
            json_seen: false,
            stopped: false,
        }
    }

    fn new_tool(&mut self, index: u64, name: Option<&str>) -> Block {
        if self.json_tool.is_some() && name == self.json_tool.as_deref() && !self.json_seen {
            self.json_seen = true;
            self.blocks.set(index, Block::JsonContent);
            return Block::JsonContent;
        }
        let i = self.tool_calls;
        self.tool_calls += 1;
        self.blocks.set(index, Block::Tool(i));
        Block::Tool(i)
    }
}

impl StreamDecoder for ConverseStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
        let event = frame.event.as_deref().unwrap_or("");
        let v: Value = if frame.data.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&frame.data)
                .map_err(|e| Error::decode(format!("invalid Bedrock stream event: {e}")))?
        };
        let index = v
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match event {
            "messageStart" => self.head.push(out, role_delta(), None),
            "contentBlockStart" => {
                if let Some(tu) = at(&v, "/start/toolUse") {
                    let id = tu.get("toolUseId").and_then(Value::as_str);
                    let name = tu.get("name").and_then(Value::as_str);
                    if let Block::Tool(i) = self.new_tool(index, name) {
                        let d = tool_delta(i, id.is_some(), id, name, "");
                        self.head.push(out, d, None);
                    }
                }
            }
            "contentBlockDelta" => {
                let d = v.get("delta").unwrap_or(&Value::Null);
                if let Some(t) = d.get("text").and_then(Value::as_str) {
                    if !t.is_empty() {
                        self.head.push(out, text_delta(t, false), None);
                    }
                } else if let Some(input) = at(d, "/toolUse/input").and_then(Value::as_str) {
                    let block = match self.blocks.get(index) {
                        Some(b) => b,
                        // A fragment without its start: still a call, never dropped.
                        None => self.new_tool(index, None),
                    };
                    if input.is_empty() {
                        return Ok(());
                    }
                    let d = match block {
                        Block::Tool(i) => tool_delta(i, false, None, None, input),
                        _ => text_delta(input, false),
                    };
                    self.head.push(out, d, None);
                } else if let Some(rc) = d.get("reasoningContent") {
                    if let Some(t) = rc
                        .get("text")
                        .and_then(Value::as_str)
                        .filter(|t| !t.is_empty())
                    {
                        self.head.push(out, text_delta(t, true), None);
                    } else if let Some(sig) = rc.get("signature").and_then(Value::as_str) {
                        self.head.push(out, signature_delta(sig), None);
                    }
                }
            }
            "messageStop" => {
                self.stopped = true;
                let stop = v
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .unwrap_or("end_turn");
                let mut f = finish_reason(stop);
                if f == FinishReason::ToolCalls && self.json_seen && self.tool_calls == 0 {
                    f = FinishReason::Stop;
                }
                self.head.push(out, Delta::default(), Some(f));
            }
            "metadata" => {
                if let Some(u) = v.get("usage") {
                    self.head.push_usage(out, usage_from(u));
                }
            }
            "error" => {
                let code = v.get("code").and_then(Value::as_str);
                let msg = v
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("stream error");
                return Err(classify(code, 200, msg.into()));
            }
            e if e.ends_with("Exception") => {
                let msg = v
                    .get("message")
                    .or_else(|| v.get("Message"))
                    .and_then(Value::as_str)
                    .unwrap_or(e);
                return Err(classify(Some(e), 200, msg.into()));
            }
            // contentBlockStop and event types added later.
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<ChatChunk>) -> Result<()> {
        if self.stopped {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::BadGateway,
                "Bedrock stream ended before messageStop",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[(&str, &str)], json_tool: Option<&str>) -> (Vec<ChatChunk>, Result<()>) {
        let mut d = ConverseStream::new("id".into(), "m".into(), 1, json_tool.map(Into::into));
        let mut out = Vec::new();
        for (e, data) in events {
            let f = Frame {
                event: Some((*e).into()),
                data: (*data).into(),
            };
            if let Err(err) = d.on_frame(&f, &mut out) {
                return (out, Err(err));
            }
        }
        let r = d.finish(&mut out);
        (out, r)
    }

    #[test]
    fn text_tools_usage() {
        let (out, r) = run(
            &[
                ("messageStart", r#"{"role":"assistant"}"#),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
                ),
                ("contentBlockStop", r#"{"contentBlockIndex":0}"#),
                (
                    "contentBlockStart",
                    r#"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"t1","name":"f"}}}"#,
                ),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"a\""}}}"#,
                ),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":":1}"}}}"#,
                ),
                ("messageStop", r#"{"stopReason":"tool_use"}"#),
                (
                    "metadata",
                    r#"{"usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7},"metrics":{"latencyMs":100}}"#,
                ),
            ],
            None,
        );
        r.unwrap();
        assert_eq!(out[1].choices[0].delta.content.as_deref(), Some("Hi"));
        let tc = out[2].choices[0].delta.tool_calls.as_ref().unwrap();
        assert_eq!((tc[0].index, tc[0].id.as_deref()), (0, Some("t1")));
        assert_eq!(
            out[4].choices[0].delta.tool_calls.as_ref().unwrap()[0]
                .function
                .as_ref()
                .unwrap()
                .arguments
                .as_deref(),
            Some(":1}")
        );
        assert_eq!(
            out[5].choices[0].finish_reason,
            Some(FinishReason::ToolCalls)
        );
        assert_eq!(out[6].usage.as_ref().unwrap().total_tokens, 7);
    }

    #[test]
    fn exceptions_and_truncation() {
        let (out, r) = run(
            &[
                ("messageStart", r#"{"role":"assistant"}"#),
                ("throttlingException", r#"{"message":"Too many requests"}"#),
            ],
            None,
        );
        assert_eq!(out.len(), 1);
        let e = r.unwrap_err();
        assert_eq!((e.kind(), e.status()), (ErrorKind::RateLimited, 429));
        let (_, r) = run(
            &[(
                "modelStreamErrorException",
                r#"{"message":"x","originalStatusCode":500}"#,
            )],
            None,
        );
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InternalServer);
        let (_, r) = run(&[("messageStart", "{}")], None);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::BadGateway);
    }

    #[test]
    fn json_mode_streams_content() {
        let (out, r) = run(
            &[
                (
                    "contentBlockStart",
                    r#"{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t","name":"person"}}}"#,
                ),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":1}"}}}"#,
                ),
                ("messageStop", r#"{"stopReason":"tool_use"}"#),
            ],
            Some("person"),
        );
        r.unwrap();
        assert_eq!(
            out[0].choices[0].delta.content.as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(out[1].choices[0].finish_reason, Some(FinishReason::Stop));
    }
}
