//! Cohere v2 chat stream (SSE; the event type is both the SSE `event:` and the JSON `type`):
//! `message-start` (id) → `content-start` / `content-delta` / `content-end` (text or thinking),
//! `tool-plan-delta`, `tool-call-start` (id, name) / `tool-call-delta` (argument pieces) /
//! `tool-call-end`, `citation-start` / `citation-end`, `message-end` (finish reason, usage), and
//! possibly `data: [DONE]`.

use serde_json::Value;

use super::{finish_reason, usage};
use crate::decode::Frame;
use crate::provider::build::at;
use crate::provider::native::{text_delta, texts_delta, tool_delta, ChunkHead};
use crate::provider::{StreamDecoder, Target};
use crate::types::{ChatChunk, Delta};
use crate::{Error, ErrorKind, Result};

/// Decoder for one Cohere stream.
#[derive(Debug)]
pub struct CohereStream {
    head: ChunkHead,
    role_sent: bool,
    /// Cohere's tool-call index → ours (stable, dense from 0).
    tool_index: Vec<u64>,
    ended: bool,
}

impl CohereStream {
    /// A decoder for a stream answering a call to `target`.
    pub fn new(target: &Target) -> Self {
        Self {
            head: ChunkHead {
                id: format!("chatcmpl-{}", target.now_ms),
                model: target.model.clone(),
                created: (target.now_ms / 1000) as i64,
            },
            role_sent: false,
            tool_index: Vec::new(),
            ended: false,
        }
    }

    fn emit(
        &mut self,
        out: &mut Vec<ChatChunk>,
        mut delta: Delta,
        finish: Option<crate::types::FinishReason>,
    ) {
        if !self.role_sent {
            delta.role = Some("assistant".into());
            self.role_sent = true;
        }
        self.head.push(out, delta, finish);
    }

    fn our_index(&mut self, cohere_index: u64) -> u32 {
        match self.tool_index.iter().position(|i| *i == cohere_index) {
            Some(p) => p as u32,
            None => {
                self.tool_index.push(cohere_index);
                (self.tool_index.len() - 1) as u32
            }
        }
    }
}

fn text_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    at(v, ptr).and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl StreamDecoder for CohereStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
        let data = frame.data.trim();
        if data.is_empty() || data == "[DONE]" || self.ended {
            return Ok(());
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| Error::decode(format!("invalid Cohere stream event: {e}")))?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(frame.event.as_deref())
            .unwrap_or_default();
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message-start" => {
                if let Some(id) = v.get("id").and_then(Value::as_str) {
                    self.head.id = id.to_string();
                }
            }
            "content-start" | "content-delta" => {
                let text = text_at(&v, "/delta/message/content/text");
                let thinking = text_at(&v, "/delta/message/content/thinking");
                if text.is_some() || thinking.is_some() {
                    let delta = texts_delta(text.map(String::from), thinking.map(String::from));
                    self.emit(out, delta, None);
                }
            }
            "tool-plan-delta" => {
                if let Some(t) = text_at(&v, "/delta/message/tool_plan") {
                    self.emit(out, text_delta(t, false), None);
                }
            }
            "tool-call-start" => {
                let call = at(&v, "/delta/message/tool_calls");
                let id = call.and_then(|c| c.get("id")).and_then(Value::as_str);
                let name = call
                    .and_then(|c| at(c, "/function/name"))
                    .and_then(Value::as_str);
                let args = call
                    .and_then(|c| at(c, "/function/arguments"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let idx = self.our_index(index);
                self.emit(out, tool_delta(idx, true, id, name, args), None);
            }
            "tool-call-delta" => {
                if let Some(a) = text_at(&v, "/delta/message/tool_calls/function/arguments") {
                    let idx = self.our_index(index);
                    self.emit(out, tool_delta(idx, false, None, None, a), None);
                }
            }
            "message-end" => {
                self.ended = true;
                let reason = at(&v, "/delta/finish_reason")
                    .and_then(Value::as_str)
                    .unwrap_or("COMPLETE");
                let finish = finish_reason(reason)?;
                self.emit(out, Delta::default(), Some(finish));
                if let Some(u) = at(&v, "/delta/usage").and_then(usage) {
                    self.head.push_usage(out, u);
                }
            }
            "content-end" | "tool-call-end" | "citation-start" | "citation-end" | "debug" => {}
            _ => {
                if let Some(m) = v.get("message").and_then(Value::as_str) {
                    // An error object in place of an event.
                    return Err(Error::new(ErrorKind::InternalServer, m.to_string()));
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<ChatChunk>) -> Result<()> {
        if self.ended {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::BadGateway,
                "Cohere stream ended before message-end",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::FinishReason;
    use serde_json::json;

    fn run(events: &[Value]) -> (Vec<ChatChunk>, Result<()>) {
        let t = Target {
            model: "command-a-03-2025".into(),
            now_ms: 1_700_000_000_000,
            ..Default::default()
        };
        let mut d = CohereStream::new(&t);
        let mut out = Vec::new();
        for e in events {
            let f = Frame {
                event: e.get("type").and_then(Value::as_str).map(String::from),
                data: e.to_string(),
            };
            if let Err(e) = d.on_frame(&f, &mut out) {
                return (out, Err(e));
            }
        }
        let r = d.finish(&mut out);
        (out, r)
    }

    #[test]
    fn text_stream_with_usage() {
        let (c, r) = run(&[
            json!({"id": "abc", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}),
            json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}),
            json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hi"}}}}),
            json!({"type": "content-end", "index": 0}),
            json!({"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {"billed_units": {"input_tokens": 1, "output_tokens": 1}, "tokens": {"input_tokens": 5, "output_tokens": 1}}}}),
        ]);
        r.unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].id, "abc");
        assert_eq!(c[0].choices[0].delta.role.as_deref(), Some("assistant"));
        assert_eq!(c[1].choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(c[2].usage.as_ref().unwrap().prompt_tokens, 5);
    }

    #[test]
    fn tool_calls_stream_with_plan() {
        let (c, r) = run(&[
            json!({"id": "t", "type": "message-start", "delta": {"message": {"role": "assistant"}}}),
            json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will"}}}),
            json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": "w_1", "type": "function", "function": {"name": "w", "arguments": ""}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "{\"c\":"}}}}}),
            json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": "1}"}}}}}),
            json!({"type": "tool-call-end", "index": 0}),
            json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL"}}),
        ]);
        r.unwrap();
        assert_eq!(c[0].choices[0].delta.content.as_deref(), Some("I will"));
        let t = &c[1].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert_eq!((t.index, t.id.as_deref()), (0, Some("w_1")));
        let a = &c[3].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert_eq!(
            a.function.as_ref().unwrap().arguments.as_deref(),
            Some("1}")
        );
        assert_eq!(c[4].choices[0].finish_reason, Some(FinishReason::ToolCalls));
    }

    #[test]
    fn truncation_and_generation_error() {
        let (_, r) = run(&[json!({"id": "x", "type": "message-start"})]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::BadGateway);
        let (_, r) = run(&[json!({"type": "message-end", "delta": {"finish_reason": "ERROR"}})]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InternalServer);
    }
}
