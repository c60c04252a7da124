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

use serde_json::{Map, Value};

use super::request::RESPONSE_FORMAT_TOOL;
use super::response::{finish_reason, parse_error, usage_from};
use crate::decode::Frame;
use crate::provider::native::{
    role_delta, signature_delta, text_delta as piece, tool_delta, Block, Blocks, ChunkHead,
};
use crate::provider::StreamDecoder;
use crate::types::{ChatChunk, Delta, FinishReason, WireJson};
use crate::{Error, ErrorKind, Result};

/// A text delta event as Anthropic writes it, up to the block index and from the index to the
/// text's opening quote, and the end after its closing quote.
const TEXT_DELTA: [&str; 3] = [
    r#"{"type":"content_block_delta","index":"#,
    r#","delta":{"type":"text_delta","text":""#,
    r#""}}"#,
];

/// The `text` of a text delta event laid out as [`TEXT_DELTA`], quotes included, as it stands
/// in `data`.
fn quoted_text(data: &str) -> Option<&str> {
    let rest = data.strip_prefix(TEXT_DELTA[0])?;
    // A JSON integer (no leading zero): what else a JSON reader would reject.
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (digits > 1 && rest.starts_with('0')) {
        return None;
    }
    let text = rest[digits..]
        .strip_prefix(TEXT_DELTA[1])?
        .strip_suffix(TEXT_DELTA[2])?;
    // The quotes around `text` end `TEXT_DELTA[1]` and begin `TEXT_DELTA[2]`.
    let end = data.len() - TEXT_DELTA[2].len() + 1;
    Some(&data[end - text.len() - 2..end])
}

/// The text of a text delta event laid out as [`TEXT_DELTA`], when it holds no escape and no
/// control character: its JSON string text is then the text itself, and also exactly what
/// serde_json writes for it (which escapes only quotes, backslashes and control characters).
fn plain_text_delta(data: &str) -> Option<&str> {
    let quoted = quoted_text(data)?;
    let text = &quoted[1..quoted.len() - 1];
    text.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\')
        .then_some(text)
}

/// The text of `data` when it is a text delta event: for the layout of [`TEXT_DELTA`] (as
/// Anthropic writes every one) as it stands or its JSON string unescaped, without parsing the
/// event; for any other layout, read from its `Value`. (A typed serde read here was ~3.7 KB of
/// wasm for its two structs.)
fn text_delta(data: &str) -> Option<std::borrow::Cow<'_, str>> {
    if let Some(text) = plain_text_delta(data) {
        return Some(text.into());
    }
    if let Some(quoted) = quoted_text(data) {
        // A quote inside that is not escaped leaves text after the string: not this layout.
        if let Ok(Value::String(text)) = serde_json::from_str(quoted) {
            return Some(text.into());
        }
    }
    if !data.contains(r#""text_delta""#) {
        return None;
    }
    let v: Value = serde_json::from_str(data).ok()?;
    let delta = v.get("delta")?;
    if v.get("type")?.as_str()? != "content_block_delta"
        || delta.get("type")?.as_str()? != "text_delta"
    {
        return None;
    }
    match delta.get("text") {
        None => Some("".into()),
        Some(Value::String(text)) => Some(text.clone().into()),
        Some(_) => None,
    }
}

/// A text delta's text: as it stands in the event ([`plain_text_delta`]), or read.
enum TextJson<'a> {
    Plain(&'a str),
    Text(std::borrow::Cow<'a, str>),
}

impl TextJson<'_> {
    fn is_empty(&self) -> bool {
        match self {
            TextJson::Plain(t) => t.is_empty(),
            TextJson::Text(t) => t.is_empty(),
        }
    }
}

/// Appends a text chunk's JSON: the template's `head`, `text` as a JSON string, its `tail`.
fn write_text_json(out: &mut Vec<u8>, head: &str, text: &str, tail: &str) {
    out.extend_from_slice(head.as_bytes());
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
    out.extend_from_slice(tail.as_bytes());
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
    head: ChunkHead,
    usage: Map<String, Value>,
    /// Server tools, redacted thinking, citations-only blocks, anything new: [`Block::Ignored`].
    blocks: Blocks,
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
            head: ChunkHead {
                created,
                ..Default::default()
            },
            usage: Map::new(),
            blocks: Blocks::default(),
            tool_calls: 0,
            json_tool_seen: false,
            stop_reason: None,
            stopped: false,
            usage_sent: false,
            text_wire: None,
        }
    }

    /// A chunk carrying `text` as content, with its JSON text (`wire`) written from the
    /// stream's template ([`MessagesStream::text_template`]) instead of serialized per chunk.
    fn text_chunk(&mut self, text: &str) -> ChatChunk {
        let mut chunk = self.head.chunk(piece(text, false), None);
        if let Some((head, tail)) = self.text_template() {
            let mut wire = Vec::with_capacity(head.len() + text.len() + 2 + tail.len());
            write_text_json(&mut wire, head, text, tail);
            if let Ok(wire) = std::str::from_utf8(&wire) {
                chunk.wire = WireJson::new(wire);
            }
        }
        chunk
    }

    /// This stream's text chunk as JSON around its `content` string: text deltas are nearly
    /// all of a stream's chunks, so theirs is written from this instead of serialized each
    /// time. It is the text chunk serialized once with an empty content, so a text's JSON
    /// string between `head` and `tail` gives exactly what serializing the chunk writes.
    fn text_template(&mut self) -> Option<(&str, &str)> {
        if self.text_wire.is_none() {
            let empty = self.head.chunk(piece("", false), None);
            // `"content":""` occurs once: quotes inside JSON strings are escaped. (No other
            // occurrence starts after the first: `rfind` would bring a reverse searcher.)
            const HOLE: &str = r#""content":"""#;
            self.text_wire = serde_json::to_string(&empty).ok().and_then(|json| {
                let at = json
                    .find(HOLE)
                    .filter(|&at| !json[at + 1..].contains(HOLE))?;
                let split = at + HOLE.len() - 2;
                Some((json[..split].to_string(), json[split + 2..].to_string()))
            });
        }
        self.text_wire
            .as_ref()
            .map(|(head, tail)| (head.as_str(), tail.as_str()))
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
        self.head
            .push_usage(out, usage_from(&Value::Object(self.usage.clone())));
    }

    fn block_start(&mut self, index: u64, block: &Value, out: &mut Vec<ChatChunk>) {
        let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
        let b = match kind {
            "text" => {
                let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                if !text.is_empty() {
                    self.head.push(out, piece(text, false), None);
                }
                Block::Text
            }
            "thinking" => {
                let text = block.get("thinking").and_then(Value::as_str).unwrap_or("");
                if !text.is_empty() {
                    self.head.push(out, piece(text, true), None);
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
                    let id = block.get("id").and_then(Value::as_str);
                    self.head
                        .push(out, tool_delta(i, true, id, Some(name), ""), None);
                    Block::Tool(i)
                }
            }
            _ => Block::Ignored,
        };
        self.blocks.set(index, b);
    }

    fn block_delta(&mut self, index: u64, delta: &Value, out: &mut Vec<ChatChunk>) {
        let block = self.blocks.get(index).unwrap_or(Block::Ignored);
        let s = |k: &str| delta.get(k).and_then(Value::as_str).unwrap_or("");
        let d = match (delta.get("type").and_then(Value::as_str), block) {
            (Some("text_delta"), _) if !s("text").is_empty() => {
                let chunk = self.text_chunk(s("text"));
                out.push(chunk);
                return;
            }
            (Some("thinking_delta"), _) if !s("thinking").is_empty() => piece(s("thinking"), true),
            (Some("signature_delta"), _) if !s("signature").is_empty() => {
                // LiteLLM's shape: the signature travels as a thinking block so that a client can
                // send the thinking back on the next turn.
                signature_delta(s("signature"))
            }
            (Some("input_json_delta"), Block::Tool(i)) if !s("partial_json").is_empty() => {
                tool_delta(i, false, None, None, s("partial_json"))
            }
            (Some("input_json_delta"), Block::JsonContent) if !s("partial_json").is_empty() => {
                piece(s("partial_json"), false)
            }
            _ => return,
        };
        self.head.push(out, d, None);
    }
}

impl StreamDecoder for MessagesStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
        let data = frame.data.trim();
        if data.is_empty() {
            return Ok(());
        }
        // Text deltas, nearly every event of a stream, are read without building a `Value`.
        if let Some(text) = text_delta(data) {
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
                self.head.id = m.get("id").and_then(Value::as_str).unwrap_or("").into();
                self.head.model = m.get("model").and_then(Value::as_str).unwrap_or("").into();
                self.text_wire = None;
                self.merge_usage(m.get("usage"));
                self.head.push(out, role_delta(), None);
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
                    self.head.push(out, Delta::default(), Some(f));
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

    /// A text delta's chunk goes straight from the event's text to `out` through the text
    /// template: no chunk, no copy of the text in between. Any other event is decoded.
    fn write_sse(&mut self, _event: Option<&str>, data: &str, out: &mut Vec<u8>) -> bool {
        let data = data.trim();
        let text = match plain_text_delta(data) {
            Some(text) => TextJson::Plain(text),
            // Other layouts of a text delta (escapes in the text, keys in another order).
            None => match text_delta(data) {
                Some(text) => TextJson::Text(text),
                None => return false,
            },
        };
        if text.is_empty() {
            // `on_frame` gives no chunk for it either.
            return true;
        }
        let Some((head, tail)) = self.text_template() else {
            return false;
        };
        out.extend_from_slice(b"data: ");
        match text {
            TextJson::Plain(json) => {
                out.extend_from_slice(head.as_bytes());
                out.push(b'"');
                out.extend_from_slice(json.as_bytes());
                out.push(b'"');
                out.extend_from_slice(tail.as_bytes());
            }
            TextJson::Text(text) => write_text_json(out, head, &text, tail),
        }
        out.extend_from_slice(b"\n\n");
        true
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
    use crate::types::ToolCallDelta;
    use serde_json::json;

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

    // -- SSE output (`ChatStream::into_sse`): text deltas are written without chunks.

    use std::cell::Cell;
    use std::rc::Rc;

    use futures_executor::block_on;
    use futures_util::StreamExt;

    use crate::decode::Framing;
    use crate::stream::{ChatStream, SseEvents};

    /// The decoder, counting the events it decodes into chunks.
    struct Counted(MessagesStream, Rc<Cell<usize>>);

    impl StreamDecoder for Counted {
        fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
            self.1.set(self.1.get() + 1);
            self.0.on_frame(frame, out)
        }
        fn write_sse(&mut self, event: Option<&str>, data: &str, out: &mut Vec<u8>) -> bool {
            self.0.write_sse(event, data, out)
        }
        fn finish(&mut self, out: &mut Vec<ChatChunk>) -> Result<()> {
            self.0.finish(out)
        }
    }

    fn chat_stream(
        pieces: &[&[u8]],
        show_usage: bool,
        json_mode: bool,
    ) -> (ChatStream, Rc<Cell<usize>>) {
        let pieces: Vec<Result<Vec<u8>>> = pieces.iter().map(|p| Ok(p.to_vec())).collect();
        let decoded = Rc::new(Cell::new(0));
        let decoder = Counted(MessagesStream::new(json_mode, 1), decoded.clone());
        let s = ChatStream::from_body(
            Box::pin(futures_util::stream::iter(pieces)),
            Framing::Sse,
            Box::new(decoder),
            show_usage,
            "anthropic",
            "claude-test",
        );
        (s, decoded)
    }

    fn marker(e: &Error) -> String {
        format!("ERROR {:?} {}\n", e.kind(), e.message())
    }

    /// What an SSE encoder writes for the typed chunks, each serialized (not its wire text).
    fn typed(pieces: &[&[u8]], show_usage: bool, json_mode: bool) -> String {
        let (s, _) = chat_stream(pieces, show_usage, json_mode);
        block_on(s.collect::<Vec<_>>())
            .into_iter()
            .map(|r| match r {
                Ok(mut c) => {
                    c.wire = WireJson::default();
                    String::from_utf8(SseEvents::of_chunk(&c).into_bytes()).unwrap()
                }
                Err(e) => marker(&e),
            })
            .collect()
    }

    /// What `into_sse` yields, and how many events were decoded into chunks.
    fn direct(pieces: &[&[u8]], show_usage: bool, json_mode: bool) -> (String, usize) {
        let (s, decoded) = chat_stream(pieces, show_usage, json_mode);
        let out = block_on(s.into_sse().collect::<Vec<_>>())
            .into_iter()
            .map(|r| match r {
                Ok(e) => String::from_utf8(e.into_bytes()).unwrap(),
                Err(e) => marker(&e),
            })
            .collect();
        (out, decoded.get())
    }

    /// SSE output equals the typed chunks' for every split of `body` (two pieces, 1-byte
    /// pieces); returns the events decoded into chunks for the whole body.
    fn sse_agrees(body: &[u8], json_mode: bool) -> usize {
        let mut decoded = 0;
        for show_usage in [false, true] {
            let want = typed(&[body], show_usage, json_mode);
            let whole = direct(&[body], show_usage, json_mode);
            assert_eq!(whole.0, want, "{}", String::from_utf8_lossy(body));
            decoded = whole.1;
            for i in 0..=body.len() {
                let (out, _) = direct(&[&body[..i], &body[i..]], show_usage, json_mode);
                assert_eq!(out, want, "split at {i}");
            }
            let bytes: Vec<&[u8]> = body.chunks(1).collect();
            assert_eq!(
                direct(&bytes, show_usage, json_mode).0,
                want,
                "1-byte pieces"
            );
        }
        decoded
    }

    fn sse(events: &[String]) -> Vec<u8> {
        events
            .iter()
            .map(|data| {
                let v: Value = serde_json::from_str(data).unwrap();
                format!("event: {}\ndata: {data}\n\n", v["type"].as_str().unwrap())
            })
            .collect::<String>()
            .into_bytes()
    }

    fn text_delta(index: u32, text: &str) -> String {
        format!(
            r#"{{"type":"content_block_delta","index":{index},"delta":{{"type":"text_delta","text":{}}}}}"#,
            serde_json::to_string(text).unwrap()
        )
    }

    #[test]
    fn sse_output_writes_text_deltas_as_their_chunks_encode() {
        let mut events: Vec<String> = vec![
            START.into(),
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#
                .into(),
        ];
        let texts = [
            "Hello",
            " world, ünïcödé ✓ 🦊",
            "",
            "a \"quoted\" \\ line\nbreak",
            "tab\there \u{1} \u{7f} \u{2028}",
            "</script>",
            "{\"}}",
        ];
        events.extend(texts.iter().map(|t| text_delta(0, t)));
        events.extend([
            text_delta(12, "index 12"),
            // Escapes serde_json writes otherwise, other key orders, spaces: read, then written.
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"caf\u00e9 \/ \ud83e\udd8a"}}"#.into(),
            r#"{"delta":{"text":"x","type":"text_delta"},"type":"content_block_delta","index":0}"#.into(),
            r#"{"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "y"}}"#.into(),
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"z","extra":1}}"#.into(),
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}"#.into(),
            r#"{"type":"content_block_stop","index":0}"#.into(),
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"thinking","thinking":""}}"#.into(),
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"hm"}}"#.into(),
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}}"#.into(),
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"#.into(),
            r#"{"type":"ping"}"#.into(),
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#.into(),
            r#"{"type":"message_stop"}"#.into(),
        ]);
        let decoded = sse_agrees(&sse(&events), false);
        // Every text delta, as laid out or read, was written without decoding (`Counted` sees
        // only the events decoded into chunks).
        let text_deltas = texts.len() + 6;
        assert_eq!(decoded, events.len() - text_deltas);

        // A second `message_start` (another id and model) gets its own template.
        let restart = START
            .replace("msg_1", "msg_2")
            .replace(r#""model":"m""#, r#""model":"m2""#);
        let body = sse(&[
            START.into(),
            text_delta(0, "a"),
            restart,
            text_delta(0, "b"),
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#.into(),
        ]);
        sse_agrees(&body, false);
        assert!(typed(&[&body], false, false).contains(r#""id":"msg_2""#));

        // A delta the typed read rejects is an error either way, after what came before.
        for bad in [
            r#"{"type":"content_block_delta","index":01,"delta":{"type":"text_delta","text":"x"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"#,
        ] {
            let body = [
                sse(&[START.into(), text_delta(0, "a")]),
                format!("event: content_block_delta\ndata: {bad}\n\n").into_bytes(),
            ]
            .concat();
            sse_agrees(&body, false);
            assert!(typed(&[&body], false, false).contains("ERROR"), "{bad}");
        }
    }

    #[test]
    fn sse_output_of_the_fixture_streams_is_what_their_chunks_encode_to() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/anthropic");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let Ok(body) = std::fs::read(entry.unwrap().path().join("upstream.stream")) else {
                continue;
            };
            for json_mode in [false, true] {
                sse_agrees(&body, json_mode);
            }
            seen += 1;
        }
        assert!(seen >= 4, "{seen} fixture streams");
    }
}
