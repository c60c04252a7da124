//! `streamGenerateContent?alt=sse` → `chat.completion.chunk`s.
//!
//! Every SSE event is a whole `GenerateContentResponse` carrying only the new parts; function
//! calls arrive whole (never split across events), so each becomes one tool-call delta with
//! its final arguments. `usageMetadata` is cumulative: the last one seen is the stream's
//! usage, sent as a final choice-less chunk when the body ends. There is no `[DONE]`: the
//! stream is complete once every candidate has reported a `finishReason`.

use serde_json::Value;

use super::response::{
    finish_reason, prompt_blocked, response_id, response_model, split_parts, tool_call_id, usage,
};
use crate::decode::Frame;
use crate::provider::native::{texts_delta, tool_call_delta, ChunkHead};
use crate::provider::{StreamDecoder, Target};
use crate::types::{ChatChunk, ChunkChoice, Usage};
use crate::{Error, ErrorKind, Result};

#[derive(Debug, Default)]
struct CandidateState {
    role_sent: bool,
    /// Tool calls emitted so far (the next delta index).
    calls: u32,
    finished: bool,
}

/// Decoder for one Gemini stream.
#[derive(Debug)]
pub struct GeminiStream {
    target: Target,
    /// Filled from the first event.
    head: Option<ChunkHead>,
    /// By candidate index, in index order: a sorted `Vec`, as a stream has one candidate or a
    /// few (a `BTreeMap` here was 5 KB of wasm for its one key/value type).
    candidates: Vec<(u32, CandidateState)>,
    usage: Option<Usage>,
    /// Tool-call ids are unique across candidates, as in the non-streamed response.
    next_call_id: usize,
}

impl GeminiStream {
    /// A decoder for a stream answering a call to `target`.
    pub fn new(target: &Target) -> Self {
        Self {
            target: target.clone(),
            head: None,
            candidates: Vec::new(),
            usage: None,
            next_call_id: 0,
        }
    }

    fn head(&self) -> &ChunkHead {
        self.head.as_ref().expect("set by the first event")
    }
}

impl StreamDecoder for GeminiStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
        let data = frame.data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(());
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| Error::decode(format!("invalid Gemini stream event: {e}")))?;
        if v.get("error").is_some_and(Value::is_object) {
            return Err(super::error::google_error(200, &[], data.as_bytes()));
        }
        if let Some(e) = prompt_blocked(&v) {
            return Err(e);
        }
        if self.head.is_none() {
            self.head = Some(ChunkHead {
                id: response_id(&v, &self.target),
                model: response_model(&v, &self.target),
                created: (self.target.now_ms / 1000) as i64,
            });
        }
        if let Some(u) = v.get("usageMetadata").and_then(usage) {
            self.usage = Some(u);
        }
        let mut choices = Vec::new();
        let mut failure = None;
        for (pos, c) in v
            .get("candidates")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(pos as u64) as u32;
            let parts = split_parts(c);
            let slot = match self.candidates.binary_search_by_key(&index, |c| c.0) {
                Ok(i) => i,
                Err(i) => {
                    self.candidates
                        .insert(i, (index, CandidateState::default()));
                    i
                }
            };
            let state = &mut self.candidates[slot].1;
            let mut delta = texts_delta(parts.content, parts.reasoning);
            if !parts.calls.is_empty() {
                let mut deltas = Vec::new();
                for (name, args, pid, sig) in parts.calls {
                    let id = tool_call_id(self.next_call_id, pid.as_deref(), sig.as_deref());
                    deltas.push(tool_call_delta(
                        state.calls,
                        true,
                        Some(&id),
                        Some(&name),
                        &args,
                    ));
                    state.calls += 1;
                    self.next_call_id += 1;
                }
                delta.tool_calls = Some(deltas);
            }
            let finish = match c.get("finishReason").and_then(Value::as_str) {
                Some(r) => {
                    state.finished = true;
                    match finish_reason(
                        r,
                        state.calls > 0,
                        c.get("finishMessage").and_then(Value::as_str),
                    ) {
                        Ok(f) => Some(f),
                        Err(e) => {
                            failure.get_or_insert(e);
                            None
                        }
                    }
                }
                None => None,
            };
            let has_delta = delta.content.is_some()
                || delta.reasoning_content.is_some()
                || delta.tool_calls.is_some();
            if !has_delta && finish.is_none() {
                continue;
            }
            if !state.role_sent {
                delta.role = Some("assistant".into());
                state.role_sent = true;
            }
            choices.push(ChunkChoice {
                index,
                delta,
                finish_reason: finish,
                logprobs: None,
            });
        }
        if !choices.is_empty() {
            let mut c = self.head().bare();
            c.choices = choices;
            out.push(c);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn finish(&mut self, out: &mut Vec<ChatChunk>) -> Result<()> {
        let done = !self.candidates.is_empty() && self.candidates.iter().all(|(_, c)| c.finished);
        if !done {
            return Err(Error::new(
                ErrorKind::BadGateway,
                "Gemini stream ended before a finishReason",
            ));
        }
        if let Some(u) = self.usage.take() {
            self.head().push_usage(out, u);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::FinishReason;
    use serde_json::json;

    fn run(events: &[Value]) -> (Vec<ChatChunk>, Result<()>) {
        let t = Target {
            model: "gemini-2.0-flash".into(),
            now_ms: 1_700_000_000_000,
            ..Default::default()
        };
        let mut d = GeminiStream::new(&t);
        let mut out = Vec::new();
        for e in events {
            let f = Frame {
                event: None,
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
    fn text_then_finish_then_usage() {
        let (c, r) = run(&[
            json!({"candidates": [{"content": {"parts": [{"text": "Hel"}], "role": "model"}, "index": 0}],
                "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}, "modelVersion": "gemini-2.0-flash", "responseId": "r1"}),
            json!({"candidates": [{"content": {"parts": [{"text": "lo"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}, "responseId": "r1"}),
        ]);
        r.unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].id, "r1");
        assert_eq!(c[0].choices[0].delta.role.as_deref(), Some("assistant"));
        assert_eq!(c[0].choices[0].delta.content.as_deref(), Some("Hel"));
        assert_eq!(c[1].choices[0].delta.role, None);
        assert_eq!(c[1].choices[0].finish_reason, Some(FinishReason::Stop));
        assert!(c[2].choices.is_empty());
        assert_eq!(c[2].usage.as_ref().unwrap().total_tokens, 5);
    }

    #[test]
    fn tool_calls_get_stable_indices_and_finish_tool_calls() {
        let (c, r) = run(&[
            json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "a", "args": {"x": 1}}}]}, "index": 0}]}),
            json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "b", "args": {}}}]}, "finishReason": "STOP", "index": 0}]}),
        ]);
        r.unwrap();
        let t0 = &c[0].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        let t1 = &c[1].choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert_eq!((t0.index, t0.id.as_deref()), (0, Some("call_0")));
        assert_eq!((t1.index, t1.id.as_deref()), (1, Some("call_1")));
        assert_eq!(
            t0.function.as_ref().unwrap().arguments.as_deref(),
            Some("{\"x\":1}")
        );
        assert_eq!(c[1].choices[0].finish_reason, Some(FinishReason::ToolCalls));
    }

    #[test]
    fn malformed_function_call_is_an_error_after_the_text_so_far() {
        let (c, r) = run(&[
            json!({"candidates": [{"content": {"parts": [{"text": "ok"}]}, "index": 0}]}),
            json!({"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL", "index": 0, "finishMessage": "Malformed function call: f("}]}),
        ]);
        assert_eq!(c.len(), 1);
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadGateway);
        assert_eq!(e.code(), "malformed_function_call");
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let (_, r) =
            run(&[json!({"candidates": [{"content": {"parts": [{"text": "Hel"}]}, "index": 0}]})]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::BadGateway);
        let (_, r) = run(&[]);
        assert!(r.is_err());
    }

    #[test]
    fn in_stream_error_and_prompt_block() {
        let (_, r) = run(&[
            json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}),
        ]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::RateLimited);
        let (_, r) = run(&[json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}})]);
        assert_eq!(r.unwrap_err().kind(), ErrorKind::ContentPolicyViolation);
    }

    /// Candidates are tracked per index, whatever order they arrive in: each keeps its own
    /// role and tool-call numbering, and the stream is complete only when all have finished.
    #[test]
    fn several_candidates_are_tracked_apart() {
        let call = |name: &str| json!({"functionCall": {"name": name, "args": {}}});
        let ev = |cands: Value| json!({ "candidates": cands });
        let first = [
            ev(json!([{"content": {"parts": [call("a")]}, "index": 2},
                      {"content": {"parts": [{"text": "x"}]}, "index": 0}])),
            ev(json!([{"content": {"parts": [call("b")]}, "index": 1},
                      {"content": {"parts": [call("c")]}, "index": 2, "finishReason": "STOP"}])),
            ev(json!([{"index": 0, "finishReason": "STOP"}])),
        ];
        let (c, r) = run(&first);
        // Candidate 1 never finished.
        assert_eq!(r.unwrap_err().kind(), ErrorKind::BadGateway);
        let roles: Vec<(u32, bool)> = c
            .iter()
            .flat_map(|k| {
                k.choices
                    .iter()
                    .map(|ch| (ch.index, ch.delta.role.is_some()))
            })
            .collect();
        assert_eq!(
            roles,
            [(2, true), (0, true), (1, true), (2, false), (0, false)]
        );
        let calls: Vec<(u32, u32, String)> = c
            .iter()
            .flat_map(|k| k.choices.iter())
            .flat_map(|ch| {
                ch.delta
                    .tool_calls
                    .iter()
                    .flatten()
                    .map(move |t| (ch.index, t.index, t.id.clone().unwrap_or_default()))
            })
            .collect();
        assert_eq!(
            calls,
            [
                (2, 0, "call_0".to_string()),
                (1, 0, "call_1".to_string()),
                (2, 1, "call_2".to_string())
            ]
        );
        let mut all = first.to_vec();
        all.push(ev(json!([{"index": 1, "finishReason": "STOP"}])));
        let (c, r) = run(&all);
        r.unwrap();
        let finishes: Vec<(u32, Option<FinishReason>)> = c
            .iter()
            .flat_map(|k| k.choices.iter())
            .filter(|ch| ch.finish_reason.is_some())
            .map(|ch| (ch.index, ch.finish_reason.clone()))
            .collect();
        // Only the candidates that called tools finish with `tool_calls`.
        assert_eq!(
            finishes,
            [
                (2, Some(FinishReason::ToolCalls)),
                (0, Some(FinishReason::Stop)),
                (1, Some(FinishReason::ToolCalls))
            ]
        );
    }

    #[test]
    fn thoughts_stream_as_reasoning_content() {
        let (c, r) = run(&[json!({"candidates": [{"content": {"parts": [
            {"text": "hmm", "thought": true}, {"text": "4"}]}, "finishReason": "STOP", "index": 0}]})]);
        r.unwrap();
        assert_eq!(
            c[0].choices[0].delta.reasoning_content.as_deref(),
            Some("hmm")
        );
        assert_eq!(c[0].choices[0].delta.content.as_deref(), Some("4"));
    }
}
