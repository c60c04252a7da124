//! The streaming pipeline: body bytes → [`Deframer`] → provider [`StreamDecoder`] → chunks.
//!
//! Pull-based: each `poll_next` pulls at most what is needed from the body, so a JS
//! `ReadableStream` pulling from it gets backpressure for free, and dropping the stream drops
//! the body, which aborts the request.
//!
//! SSE bodies are cut into events by [`cut::SseCutter`] and decoded one event at a time, so a
//! gateway can take the rest of a stream as SSE bytes ([`ChatStream::into_sse`]): events that
//! it would write exactly as the upstream sent them are then forwarded without being decoded.

mod cut;

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::FusedStream;
use futures_util::Stream;

use crate::decode::{Deframer, Frame, Framing, SseParser};
use crate::http::BodyStream;
use crate::provider::StreamDecoder;
use crate::types::{ChatChunk, TextCompletionResponse, Usage};
use crate::{Error, Result};

use cut::{Cut, SseCutter};

/// How stream encoders write a chunk's JSON (an SSE `data:` line, an element of a JS batch):
/// a [`ChatChunk`] that still has the text it arrived as is written as that text, without
/// serializing its fields again; anything else is serialized.
pub trait EncodeJson: serde::Serialize {
    /// Appends the JSON (one line) to `out`.
    fn encode_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

impl EncodeJson for ChatChunk {
    fn encode_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match self.wire.get() {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(())
            }
            None => serde_json::to_writer(out, self),
        }
    }
}

impl EncodeJson for TextCompletionResponse {}

impl EncodeJson for serde_json::Value {}

/// What an SSE encoder writes for a stream item: a value is one `data: {json}\n\n` event,
/// [`SseEvents`] are events already framed.
pub trait WriteSse {
    /// Appends the item's events to `out`.
    fn write_sse(self, out: &mut Vec<u8>);
}

impl<T: EncodeJson> WriteSse for T {
    fn write_sse(self, out: &mut Vec<u8>) {
        write_event(&self, out);
    }
}

fn write_event<T: EncodeJson>(value: &T, out: &mut Vec<u8>) {
    out.extend_from_slice(b"data: ");
    value.encode_json(out).expect("chunks serialize");
    out.extend_from_slice(b"\n\n");
}

/// Whole SSE events (`data: …\n\n`, no `[DONE]`), ready to write: what
/// [`ChatStream::into_sse`] yields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvents(Vec<u8>);

impl SseEvents {
    /// The event for one chunk.
    pub fn of_chunk(chunk: &ChatChunk) -> Self {
        let mut out = Vec::new();
        write_event(chunk, &mut out);
        Self(out)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Appends the events' JSON texts to `out`, separated by commas (what goes between the
    /// brackets of a JSON array of the chunks). The SDK hands a batch of chunks to JS this way.
    ///
    /// ```
    /// # use edgellm::stream::SseEvents;
    /// # use edgellm::types::ChatChunk;
    /// let chunk: ChatChunk = serde_json::from_str(
    ///     r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}"#,
    /// ).unwrap();
    /// let mut out = b"[".to_vec();
    /// SseEvents::of_chunk(&chunk).write_json(&mut out).unwrap();
    /// out.push(b']');
    /// let back: Vec<ChatChunk> = serde_json::from_slice(&out).unwrap();
    /// assert_eq!(back, vec![chunk]);
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) -> Result<()> {
        let mut rest = self.0.as_slice();
        let mut first = true;
        while !rest.is_empty() {
            // An event's JSON is one line: JSON text holds no raw newline.
            let event = rest
                .strip_prefix(b"data: ")
                .and_then(|r| memchr::memchr(b'\n', r).map(|end| r.split_at(end)))
                .and_then(|(json, tail)| Some((json, tail.strip_prefix(b"\n\n")?)));
            let Some((json, tail)) = event else {
                return Err(Error::decode("a stream event is not `data: {json}`"));
            };
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(json);
            first = false;
            rest = tail;
        }
        Ok(())
    }
}

impl WriteSse for SseEvents {
    fn write_sse(self, out: &mut Vec<u8>) {
        if out.is_empty() {
            *out = self.0;
        } else {
            out.extend_from_slice(&self.0);
        }
    }
}

/// A stream of OpenAI `chat.completion.chunk`s. Ends after the last chunk or after one error.
pub struct ChatStream {
    source: Option<Pipeline>,
    pending: VecDeque<ChatChunk>,
    frames: Vec<Frame>,
    chunks: Vec<ChatChunk>,
    show_usage: bool,
    usage: Option<Usage>,
    finished: bool,
    deferred_error: Option<Error>,
    on_chunk: Option<ChunkHook>,
    on_end: Option<EndHook>,
    /// The decoder returned a plain event's own text as its chunk's wire text: it rewrites
    /// nothing, so later plain events may go out as sent ([`ChatStream::into_sse`]).
    certified: bool,
    /// `[DONE]` was cut: the decoder ignores what follows, and so does forwarding.
    after_done: bool,
}

type ChunkHook = Box<dyn FnMut(&ChatChunk)>;
type EndHook = Box<dyn FnOnce(Result<Option<Usage>, &Error>)>;

/// Where chunks come from while the body is still being read; `None` in [`ChatStream`] once
/// it ended (or for ready chunks), which also drops the body and so cancels the request.
struct Pipeline {
    body: BodyStream,
    /// SSE bodies: events cut before any parsing (see [`cut`]); the deframer takes over for
    /// the bytes the cutter hands on.
    cutter: Option<SseCutter>,
    /// The deframer has been given bytes (an SSE one started mid-stream if the cutter had cut
    /// any before).
    deframing: bool,
    deframer: Deframer,
    decoder: Box<dyn StreamDecoder>,
    provider: String,
    model: String,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("pending", &self.pending.len())
            .field("finished", &self.finished)
            .finish()
    }
}

/// What one step of decoding did.
enum Step {
    /// Decoded (or forwarded) what was buffered or what one body read brought.
    Progress,
    /// The body has nothing yet.
    Pending,
}

impl ChatStream {
    /// Decodes `body` with `framing` and `decoder`. `show_usage` keeps the usage-only chunk
    /// (the caller asked for `stream_options.include_usage`); otherwise usage is still
    /// recorded for cost but not shown.
    pub fn from_body(
        body: BodyStream,
        framing: Framing,
        decoder: Box<dyn StreamDecoder>,
        show_usage: bool,
        provider: &str,
        model: &str,
    ) -> Self {
        Self::with_source(
            Some(Pipeline {
                body,
                cutter: (framing == Framing::Sse).then(SseCutter::default),
                deframing: false,
                deframer: Deframer::new(framing),
                decoder,
                provider: provider.into(),
                model: model.into(),
            }),
            VecDeque::new(),
            show_usage,
        )
    }

    /// A stream of ready chunks (mock responses, tests).
    pub fn from_chunks(chunks: Vec<ChatChunk>, show_usage: bool) -> Self {
        Self::with_source(None, chunks.into(), show_usage)
    }

    fn with_source(
        source: Option<Pipeline>,
        pending: VecDeque<ChatChunk>,
        show_usage: bool,
    ) -> Self {
        Self {
            source,
            pending,
            frames: Vec::new(),
            chunks: Vec::new(),
            show_usage,
            usage: None,
            finished: false,
            deferred_error: None,
            on_chunk: None,
            on_end: None,
            certified: false,
            after_done: false,
        }
    }

    /// Calls `f` with every chunk delivered (accumulators, loggers).
    pub fn on_chunk(mut self, f: impl FnMut(&ChatChunk) + 'static) -> Self {
        self.on_chunk = Some(Box::new(f));
        self
    }

    /// Calls `f` once when the stream ends: with the final usage on success, with the error
    /// otherwise. Not called if the stream is dropped before its end (cancelled).
    pub fn on_end(mut self, f: impl FnOnce(Result<Option<Usage>, &Error>) + 'static) -> Self {
        self.on_end = Some(Box::new(f));
        self
    }

    /// The usage reported so far (final after the stream ended).
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The rest of this stream as SSE events, the same bytes an SSE encoder writes for its
    /// chunks (`data: {json}\n\n` each; no `[DONE]`, errors as items), with the same usage,
    /// hooks and end. Events that would be written exactly as the upstream sent them (a
    /// decoder that rewrites nothing, see [`cut`]) are forwarded without decoding; everything
    /// else (usage, errors, the last chunk, other SSE shapes) is decoded as usual. With an
    /// [`on_chunk`](ChatStream::on_chunk) hook every chunk is decoded for it.
    pub fn into_sse(self) -> ChatSse {
        ChatSse(self)
    }

    fn deliver(&mut self, mut chunk: ChatChunk) -> Option<ChatChunk> {
        if !self.show_usage {
            if let Some(u) = chunk.usage.take() {
                chunk.wire.clear();
                self.usage = Some(u);
                // Only the usage-only chunk goes; an empty-choices chunk without usage (Azure's
                // first chunk with `prompt_filter_results`) is content the caller may want.
                if chunk.choices.is_empty() {
                    return None;
                }
            }
        } else if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        if let Some(f) = &mut self.on_chunk {
            f(&chunk);
        }
        Some(chunk)
    }

    fn end(&mut self, result: Result<(), Error>) -> Option<Result<ChatChunk>> {
        self.finished = true;
        self.source = None;
        match result {
            Ok(()) => {
                if let Some(f) = self.on_end.take() {
                    f(Ok(self.usage.clone()));
                }
                None
            }
            Err(e) => {
                if let Some(f) = self.on_end.take() {
                    f(Err(&e));
                }
                Some(Err(e))
            }
        }
    }

    /// Decodes what is buffered, else reads the body once. Decoded chunks go to `pending`.
    /// With `forward` (SSE output), plain events of a certified decoder are appended to it as
    /// sent instead, and every cut buffered is taken; without, decoding stops at the first
    /// event that gave a chunk (so that the rest can still be forwarded).
    fn step(&mut self, cx: &mut Context<'_>, forward: Option<&mut Vec<u8>>) -> Step {
        // Taken out while decoding (the chunks go through `self`), put back unless it ended.
        let Some(mut p) = self.source.take() else {
            return Step::Progress;
        };
        let (step, result) = self.step_with(&mut p, cx, forward);
        match result {
            Ok(false) => self.source = Some(p),
            Ok(true) => {}
            Err(e) => {
                // What was decoded before the error is delivered first, then the error.
                self.frames.clear();
                self.deferred_error = Some(e.in_context(&p.provider, &p.model));
            }
        }
        step
    }

    fn step_with(
        &mut self,
        p: &mut Pipeline,
        cx: &mut Context<'_>,
        mut forward: Option<&mut Vec<u8>>,
    ) -> (Step, Result<bool>) {
        let mut result: Result<bool> = Ok(false);
        let mut progressed = false;
        if let Some(cutter) = &mut p.cutter {
            cutter.classify = forward.is_some() && self.on_chunk.is_none();
            loop {
                let cut_any = cutter.cut_any();
                // Plain events are then forwarded as sent, and so can go as one run.
                cutter.runs = cutter.classify && self.certified;
                let Some(cut) = cutter.next() else { break };
                progressed = true;
                let r = match cut {
                    Cut::Plain { event, payload } => {
                        if self.after_done {
                            continue;
                        }
                        match forward.as_deref_mut() {
                            Some(out) if self.certified => {
                                out.extend_from_slice(event);
                                continue;
                            }
                            _ => {}
                        }
                        // UTF-8: checked by the cutter.
                        let payload = std::str::from_utf8(payload).unwrap_or_default();
                        let r = decode(&mut *p.decoder, None, payload, &mut self.chunks);
                        if !self.certified
                            && self.on_chunk.is_none()
                            && matches!(&self.chunks[..], [c] if c.wire.get() == Some(payload))
                        {
                            self.certified = true;
                        }
                        r
                    }
                    Cut::Event(data) | Cut::Named { data, .. } => {
                        let event = match cut {
                            Cut::Named { event, .. } => Some(event),
                            _ => None,
                        };
                        // A decoder that writes this event's chunks itself (no usage in them)
                        // builds none; only SSE output without a chunk hook can take that.
                        if let Some(out) = forward.as_deref_mut() {
                            if !self.after_done
                                && self.on_chunk.is_none()
                                && p.decoder.write_sse(event, data, out)
                            {
                                continue;
                            }
                        }
                        if cut::is_done(data) {
                            self.after_done = true;
                        }
                        decode(&mut *p.decoder, event, data, &mut self.chunks)
                    }
                    Cut::Raw(bytes) => {
                        if !p.deframing {
                            p.deframing = true;
                            if cut_any {
                                p.deframer = Deframer::Sse(SseParser::mid_stream());
                            }
                        }
                        p.deframer.push(bytes, &mut self.frames).and_then(|()| {
                            self.frames
                                .drain(..)
                                .try_for_each(|f| p.decoder.on_frame(&f, &mut self.chunks))
                        })
                    }
                };
                // `push_back`, not `extend`: `VecDeque::extend` brought 0.28 KB of gzipped
                // package (its iterator writers and `reserve`) for these two moves.
                for c in self.chunks.drain(..) {
                    self.pending.push_back(c);
                }
                if let Err(e) = r {
                    result = Err(e);
                    break;
                }
                if forward.is_none() && !self.pending.is_empty() {
                    return (Step::Progress, Ok(false));
                }
                if let Some(out) = forward.as_deref_mut() {
                    self.encode_pending(out);
                }
            }
        }
        if result.is_ok() && !progressed {
            result = match p.body.as_mut().poll_next(cx) {
                Poll::Pending => return (Step::Pending, Ok(false)),
                Poll::Ready(Some(Ok(bytes))) => match &mut p.cutter {
                    Some(cutter) => {
                        if let Some(out) = forward {
                            // Mostly forwarded as is: one allocation, not one per doubling.
                            out.reserve(bytes.len());
                        }
                        cutter.feed(bytes);
                        Ok(false)
                    }
                    None => p.deframer.push(&bytes, &mut self.frames).map(|()| false),
                },
                Poll::Ready(Some(Err(e))) => Err(e),
                Poll::Ready(None) => {
                    let rest = p.cutter.as_mut().and_then(|c| {
                        let cut_any = c.cut_any();
                        c.finish().map(|rest| (rest, cut_any))
                    });
                    let pushed = match rest {
                        Some((rest, cut_any)) => {
                            if !p.deframing && cut_any {
                                p.deframer = Deframer::Sse(SseParser::mid_stream());
                            }
                            p.deframer.push(rest, &mut self.frames)
                        }
                        None => Ok(()),
                    };
                    pushed
                        .and_then(|()| p.deframer.finish(&mut self.frames))
                        .map(|()| true)
                }
            };
            result = result.and_then(|at_end| {
                for f in self.frames.drain(..) {
                    p.decoder.on_frame(&f, &mut self.chunks)?;
                }
                if at_end {
                    p.decoder.finish(&mut self.chunks)?;
                }
                Ok(at_end)
            });
            for c in self.chunks.drain(..) {
                self.pending.push_back(c);
            }
        }
        (Step::Progress, result)
    }

    /// Delivers the decoded chunks into `out` as SSE events.
    fn encode_pending(&mut self, out: &mut Vec<u8>) {
        while let Some(c) = self.pending.pop_front() {
            if let Some(c) = self.deliver(c) {
                write_event(&c, out);
            }
        }
    }

    fn poll_sse(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<SseEvents>>> {
        let mut out = Vec::new();
        loop {
            self.encode_pending(&mut out);
            if self.finished || self.deferred_error.is_some() || self.source.is_none() {
                if !out.is_empty() {
                    return Poll::Ready(Some(Ok(SseEvents(out))));
                }
                if self.finished {
                    return Poll::Ready(None);
                }
                let end = match self.deferred_error.take() {
                    Some(e) => self.end(Err(e)),
                    None => self.end(Ok(())),
                };
                return Poll::Ready(end.map(|r| r.map(|_| SseEvents::default())));
            }
            if let Step::Pending = self.step(cx, Some(&mut out)) {
                return if out.is_empty() {
                    Poll::Pending
                } else {
                    Poll::Ready(Some(Ok(SseEvents(out))))
                };
            }
            if out.len() >= 64 * 1024 {
                return Poll::Ready(Some(Ok(SseEvents(out))));
            }
        }
    }
}

/// Decodes one event's data (and type).
fn decode(
    decoder: &mut dyn StreamDecoder,
    event: Option<&str>,
    data: &str,
    out: &mut Vec<ChatChunk>,
) -> Result<()> {
    decoder.on_frame(
        &Frame {
            event: event.map(str::to_string),
            data: data.to_string(),
        },
        out,
    )
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            while let Some(c) = this.pending.pop_front() {
                if let Some(c) = this.deliver(c) {
                    return Poll::Ready(Some(Ok(c)));
                }
            }
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(e) = this.deferred_error.take() {
                return Poll::Ready(this.end(Err(e)));
            }
            if this.source.is_none() {
                return Poll::Ready(this.end(Ok(())));
            }
            if let Step::Pending = this.step(cx, None) {
                return Poll::Pending;
            }
        }
    }
}

impl FusedStream for ChatStream {
    fn is_terminated(&self) -> bool {
        self.finished && self.pending.is_empty()
    }
}

/// A [`ChatStream`] as SSE events ([`ChatStream::into_sse`]). Ends after the last events or
/// after one error.
#[derive(Debug)]
pub struct ChatSse(ChatStream);

impl ChatSse {
    /// The usage reported so far (final after the stream ended).
    pub fn usage(&self) -> Option<&Usage> {
        self.0.usage()
    }
}

impl Stream for ChatSse {
    type Item = Result<SseEvents>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_sse(cx)
    }
}

impl FusedStream for ChatSse {
    fn is_terminated(&self) -> bool {
        self.0.is_terminated()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use futures_executor::block_on;
    use futures_util::StreamExt;

    use super::*;
    use crate::provider::openai_compat::OpenAiStream;
    use crate::ErrorKind;

    #[test]
    fn sse_events_write_their_json_as_array_items() {
        let mut events = SseEvents::default();
        for text in ["a", "b\\nc"] {
            let chunk: ChatChunk = serde_json::from_str(&chunk_json(text, None)).unwrap();
            events
                .0
                .extend_from_slice(SseEvents::of_chunk(&chunk).as_bytes());
        }
        let mut out = b"[".to_vec();
        events.write_json(&mut out).unwrap();
        out.push(b']');
        let back: Vec<ChatChunk> = serde_json::from_slice(&out).unwrap();
        let texts: Vec<_> = back
            .iter()
            .map(|c| c.choices[0].delta.content.clone())
            .collect();
        assert_eq!(texts, [Some("a".to_string()), Some("b\nc".to_string())]);

        let mut out = Vec::new();
        assert!(SseEvents::default().write_json(&mut out).is_ok());
        assert!(out.is_empty());
        for bad in [
            &b"data:{}\n\n"[..],
            b"data: {}\n",
            b"event: x\ndata: {}\n\n",
        ] {
            let err = SseEvents(bad.to_vec()).write_json(&mut out).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Decode, "{bad:?}");
        }
    }

    fn chunk_json(content: &str, finish: Option<&str>) -> String {
        let finish = finish.map_or("null".to_string(), |f| format!("\"{f}\""));
        format!(
            r#"{{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{"content":"{content}"}},"finish_reason":{finish}}}]}}"#
        )
    }

    const USAGE_CHUNK: &str = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#;

    fn sse(events: &[&str]) -> Vec<u8> {
        events
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .collect::<String>()
            .into_bytes()
    }

    fn body(pieces: Vec<Result<Vec<u8>>>) -> BodyStream {
        Box::pin(futures_util::stream::iter(pieces))
    }

    fn stream_of(pieces: Vec<Result<Vec<u8>>>, show_usage: bool) -> ChatStream {
        ChatStream::from_body(
            body(pieces),
            Framing::Sse,
            Box::new(OpenAiStream::default()),
            show_usage,
            "openai",
            "gpt-test",
        )
    }

    fn contents(items: &[Result<ChatChunk>]) -> Vec<String> {
        items
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|c| c.choices.iter().filter_map(|ch| ch.delta.content.clone()))
            .collect()
    }

    fn full_body() -> Vec<u8> {
        sse(&[
            &chunk_json("Hel", None),
            &chunk_json("lo", None),
            &chunk_json("!", Some("stop")),
            USAGE_CHUNK,
            "[DONE]",
        ])
    }

    #[test]
    fn chunks_arrive_in_order_however_the_body_is_split() {
        let bytes = full_body();
        for split in [1, 2, 7, 64, bytes.len()] {
            let pieces = bytes.chunks(split).map(|c| Ok(c.to_vec())).collect();
            let items: Vec<_> = block_on(stream_of(pieces, true).collect());
            assert_eq!(items.len(), 4, "split {split}");
            assert_eq!(contents(&items), ["Hel", "lo", "!"], "split {split}");
            let last = items[3].as_ref().unwrap();
            assert!(last.choices.is_empty());
            assert_eq!(last.usage.as_ref().unwrap().total_tokens, 7);
        }
    }

    /// Returns `Pending` (after waking itself) before every piece, like a network body.
    struct Trickle(VecDeque<Result<Vec<u8>>>, bool);

    impl Stream for Trickle {
        type Item = Result<Vec<u8>>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.1 = !self.1;
            if self.1 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.0.pop_front())
        }
    }

    #[test]
    fn pending_body_is_polled_again() {
        let pieces = full_body().chunks(5).map(|c| Ok(c.to_vec())).collect();
        let s = ChatStream::from_body(
            Box::pin(Trickle(pieces, false)),
            Framing::Sse,
            Box::new(OpenAiStream::default()),
            false,
            "openai",
            "gpt-test",
        );
        let items: Vec<_> = block_on(s.collect());
        assert_eq!(contents(&items), ["Hel", "lo", "!"]);
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn transport_error_mid_stream_delivers_earlier_chunks_then_one_error() {
        let first = sse(&[&chunk_json("a", None), &chunk_json("b", None)]);
        let ended = Rc::new(RefCell::new(Vec::new()));
        let log = ended.clone();
        let mut s = stream_of(
            vec![
                Ok(first),
                // A partial event before the error must not leak out as a chunk.
                Ok(b"data: {\"id\":\"c1\",\"choi".to_vec()),
                Err(Error::new(ErrorKind::Connection, "connection reset")),
                Ok(sse(&[&chunk_json("never", Some("stop"))])),
            ],
            true,
        )
        .on_end(move |r| log.borrow_mut().push(r.map_err(|e| e.kind())));
        let items: Vec<_> = block_on(async {
            let mut v = Vec::new();
            while let Some(item) = s.next().await {
                v.push(item);
            }
            v
        });
        assert_eq!(contents(&items), ["a", "b"]);
        assert_eq!(items.len(), 3);
        let err = items[2].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection);
        assert_eq!(err.provider(), Some("openai"));
        assert_eq!(err.model(), Some("gpt-test"));
        assert!(block_on(s.next()).is_none());
        assert!(s.is_terminated());
        assert_eq!(*ended.borrow(), [Err(ErrorKind::Connection)]);
    }

    #[test]
    fn decode_error_mid_push_delivers_the_frames_before_it() {
        let mut bytes = sse(&[&chunk_json("a", None)]);
        bytes.extend_from_slice(b"data: {not json}\n\n");
        bytes.extend(sse(&[&chunk_json("b", Some("stop")), "[DONE]"]));
        let items: Vec<_> = block_on(stream_of(vec![Ok(bytes)], true).collect());
        assert_eq!(contents(&items), ["a"]);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].as_ref().unwrap_err().kind(), ErrorKind::Decode);
    }

    #[test]
    fn upstream_error_event_is_the_error() {
        let bytes = sse(&[
            &chunk_json("a", None),
            r#"{"error":{"message":"overloaded","type":"server_error","code":"503"}}"#,
        ]);
        let items: Vec<_> = block_on(stream_of(vec![Ok(bytes)], true).collect());
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(err.provider(), Some("openai"));
    }

    #[test]
    fn hidden_usage_is_stripped_but_recorded() {
        let with_usage_on_content = r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
        let bytes = sse(&[with_usage_on_content, USAGE_CHUNK, "[DONE]"]);
        let mut s = stream_of(vec![Ok(bytes.clone())], false);
        let items: Vec<ChatChunk> = block_on(s.by_ref().collect::<Vec<_>>())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(items[0].choices[0].delta.content.as_deref(), Some("x"));
        assert!(items[0].usage.is_none());
        assert_eq!(s.usage().unwrap().total_tokens, 7);

        let mut s = stream_of(vec![Ok(bytes)], true);
        let items: Vec<ChatChunk> = block_on(s.by_ref().collect::<Vec<_>>())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].usage.as_ref().unwrap().total_tokens, 2);
        assert_eq!(items[1].usage.as_ref().unwrap().total_tokens, 7);
        assert_eq!(s.usage().unwrap().total_tokens, 7);
    }

    #[test]
    fn only_usage_only_chunks_are_dropped_when_usage_is_hidden() {
        // Whatever a decoder lets through, an empty-choices chunk without usage (Azure's
        // `prompt_filter_results`) is not a usage chunk and reaches the caller.
        let chunks: Vec<ChatChunk> = [
            r#"{"id":"","choices":[],"prompt_filter_results":[{"prompt_index":0}]}"#.to_string(),
            chunk_json("a", Some("stop")),
            USAGE_CHUNK.to_string(),
        ]
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
        let mut s = ChatStream::from_chunks(chunks, false);
        let items: Vec<ChatChunk> = block_on(s.by_ref().collect::<Vec<_>>())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].extra.contains_key("prompt_filter_results"));
        assert_eq!(s.usage().unwrap().total_tokens, 7);
    }

    #[test]
    fn on_end_is_called_once_with_the_final_usage() {
        for show_usage in [false, true] {
            let calls = Rc::new(RefCell::new(Vec::new()));
            let log = calls.clone();
            let seen = Rc::new(Cell::new(0));
            let count = seen.clone();
            let mut s = stream_of(vec![Ok(full_body())], show_usage)
                .on_chunk(move |_| count.set(count.get() + 1))
                .on_end(move |r| log.borrow_mut().push(r.map_err(|e| e.kind())));
            let n = block_on(s.by_ref().count());
            assert!(block_on(s.next()).is_none());
            assert!(block_on(s.next()).is_none());
            assert_eq!(seen.get(), n);
            assert_eq!(n, if show_usage { 4 } else { 3 });
            let calls = calls.borrow();
            assert_eq!(calls.len(), 1);
            assert_eq!(calls[0].as_ref().unwrap().as_ref().unwrap().total_tokens, 7);
        }
    }

    #[test]
    fn dropping_early_does_not_call_on_end() {
        let called = Rc::new(Cell::new(false));
        let flag = called.clone();
        let mut s = stream_of(vec![Ok(full_body())], true).on_end(move |_| flag.set(true));
        assert!(block_on(s.next()).unwrap().is_ok());
        drop(s);
        assert!(!called.get());
    }

    #[test]
    fn stream_cut_before_completion_is_an_error_after_its_chunks() {
        let cut_cases: [&[u8]; 3] = [
            // Clean event boundary, no finish_reason, no [DONE].
            &sse(&[&chunk_json("a", None)]),
            // Cut inside the JSON of the next event: a decode error, not silence.
            b"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"id\":\"c1\",\"cho",
            // Cut inside "[DONE]".
            b"data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DO",
        ];
        for (i, bytes) in cut_cases.iter().enumerate() {
            let items: Vec<_> = block_on(stream_of(vec![Ok(bytes.to_vec())], true).collect());
            assert_eq!(contents(&items), ["a"], "case {i}");
            assert_eq!(items.len(), 2, "case {i}");
            let kind = items[1].as_ref().unwrap_err().kind();
            assert!(
                matches!(kind, ErrorKind::BadGateway | ErrorKind::Decode),
                "case {i}: {kind:?}"
            );
        }
        // Finished by finish_reason (no [DONE]), or by [DONE] (no finish_reason): complete.
        for bytes in [
            sse(&[&chunk_json("a", Some("stop"))]),
            sse(&[&chunk_json("a", None), "[DONE]"]),
        ] {
            let items: Vec<_> = block_on(stream_of(vec![Ok(bytes)], true).collect());
            assert_eq!(items.len(), 1);
            assert!(items[0].is_ok());
        }
    }

    fn encoded(c: &ChatChunk) -> String {
        let mut out = Vec::new();
        c.encode_json(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn chunks_are_encoded_as_they_came_unless_usage_was_stripped() {
        let plain = chunk_json("a", None);
        let with_usage = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
        let bytes = sse(&[&plain, with_usage, "[DONE]"]);
        let shown: Vec<String> =
            block_on(stream_of(vec![Ok(bytes.clone())], true).collect::<Vec<_>>())
                .iter()
                .map(|r| encoded(r.as_ref().unwrap()))
                .collect();
        assert_eq!(shown, [plain.as_str(), with_usage]);
        // Hidden usage is taken off the chunk, so its text no longer says what it holds.
        let hidden: Vec<String> = block_on(stream_of(vec![Ok(bytes)], false).collect::<Vec<_>>())
            .iter()
            .map(|r| encoded(r.as_ref().unwrap()))
            .collect();
        assert_eq!(hidden[0], plain);
        let v: serde_json::Value = serde_json::from_str(&hidden[1]).unwrap();
        assert!(v.get("usage").is_none(), "{v}");
        assert_eq!(v["choices"][0]["delta"]["content"], "x");
    }

    #[test]
    fn chunks_without_wire_text_are_serialized() {
        let c: ChatChunk = serde_json::from_str(&chunk_json("a", None)).unwrap();
        assert_eq!(c.wire.get(), None);
        assert_eq!(encoded(&c), serde_json::to_string(&c).unwrap());
        let v = serde_json::json!({"k": [1, "x"]});
        let mut out = Vec::new();
        v.encode_json(&mut out).unwrap();
        assert_eq!(out, br#"{"k":[1,"x"]}"#);
    }

    #[test]
    fn ready_chunks_follow_the_same_usage_rules() {
        let chunks: Vec<ChatChunk> = [chunk_json("a", Some("stop")), USAGE_CHUNK.to_string()]
            .iter()
            .map(|j| serde_json::from_str(j).unwrap())
            .collect();
        let ended = Rc::new(Cell::new(0));
        let e = ended.clone();
        let mut s = ChatStream::from_chunks(chunks, false).on_end(move |r| {
            e.set(e.get() + 1);
            assert_eq!(r.unwrap().unwrap().total_tokens, 7);
        });
        let items: Vec<_> = block_on(s.by_ref().collect());
        assert_eq!(items.len(), 1);
        assert_eq!(ended.get(), 1);
        assert!(s.is_terminated());
    }

    // -- SSE output (`into_sse`): the bytes an SSE encoder writes for the decoded chunks.

    /// What an SSE encoder writes for `items`, with an error as a marker line.
    fn written(items: Vec<Result<Vec<u8>>>) -> String {
        items
            .into_iter()
            .map(|r| match r {
                Ok(b) => String::from_utf8(b).unwrap(),
                Err(e) => format!("ERROR {:?} {}\n", e.kind(), e.message()),
            })
            .collect()
    }

    type Ends = Rc<RefCell<Vec<std::result::Result<Option<u64>, ErrorKind>>>>;

    fn ended() -> (
        Ends,
        impl FnOnce(std::result::Result<Option<Usage>, &Error>),
    ) {
        let ends: Ends = Rc::default();
        let log = ends.clone();
        (
            ends,
            move |r: std::result::Result<Option<Usage>, &Error>| {
                log.borrow_mut()
                    .push(r.map(|u| u.map(|u| u.total_tokens)).map_err(|e| e.kind()))
            },
        )
    }

    /// The typed stream, every chunk encoded.
    fn via_chunks(
        pieces: Vec<Result<Vec<u8>>>,
        decoder: OpenAiStream,
        show_usage: bool,
    ) -> (String, Vec<std::result::Result<Option<u64>, ErrorKind>>) {
        let (ends, hook) = ended();
        let s = ChatStream::from_body(
            Box::pin(Trickle(pieces.into(), false)),
            Framing::Sse,
            Box::new(decoder),
            show_usage,
            "openai",
            "gpt-test",
        )
        .on_end(hook);
        let items = block_on(s.collect::<Vec<_>>());
        let out = written(
            items
                .into_iter()
                .map(|r| {
                    r.map(|c| {
                        let mut out = Vec::new();
                        c.write_sse(&mut out);
                        out
                    })
                })
                .collect(),
        );
        let ends = ends.borrow().clone();
        (out, ends)
    }

    /// `typed` chunks taken as chunks (a router's first), the rest through `into_sse`.
    fn via_sse(
        pieces: Vec<Result<Vec<u8>>>,
        decoder: OpenAiStream,
        show_usage: bool,
        typed: usize,
    ) -> (
        String,
        Vec<std::result::Result<Option<u64>, ErrorKind>>,
        bool,
    ) {
        let (ends, hook) = ended();
        let mut s = ChatStream::from_body(
            Box::pin(Trickle(pieces.into(), false)),
            Framing::Sse,
            Box::new(decoder),
            show_usage,
            "openai",
            "gpt-test",
        )
        .on_end(hook);
        let mut items = Vec::new();
        for _ in 0..typed {
            match block_on(s.next()) {
                Some(r) => items.push(r.map(|c| SseEvents::of_chunk(&c).into_bytes())),
                None => break,
            }
        }
        let mut sse = s.into_sse();
        items.extend(
            block_on(sse.by_ref().collect::<Vec<_>>())
                .into_iter()
                .map(|r| r.map(SseEvents::into_bytes)),
        );
        assert!(sse.is_terminated());
        let certified = sse.0.certified;
        let ends = ends.borrow().clone();
        (written(items), ends, certified)
    }

    fn splits(bytes: &[u8]) -> Vec<Vec<Result<Vec<u8>>>> {
        let mut out: Vec<Vec<Result<Vec<u8>>>> = (0..=bytes.len())
            .map(|i| vec![Ok(bytes[..i].to_vec()), Ok(bytes[i..].to_vec())])
            .collect();
        out.push(bytes.chunks(1).map(|c| Ok(c.to_vec())).collect());
        out
    }

    /// SSE output equals the encoded chunks, with the same end, for every split, whether the
    /// first chunk was taken typed or not.
    fn sse_agrees(bytes: &[u8], show_usage: bool, rewriting: bool) -> bool {
        let decoder = || {
            if rewriting {
                let mut row = crate::provider::openai_compat::DEFAULT;
                row.quirks.reasoning_field = Some("reasoning");
                OpenAiStream::new(row)
            } else {
                OpenAiStream::default()
            }
        };
        let want = via_chunks(vec![Ok(bytes.to_vec())], decoder(), show_usage);
        let mut certified = false;
        for pieces in splits(bytes) {
            let again = || {
                pieces
                    .iter()
                    .map(|r| Ok(r.as_ref().unwrap().clone()))
                    .collect()
            };
            assert_eq!(via_chunks(again(), decoder(), show_usage), want);
            for typed in [0, 1] {
                let (out, ends, c) = via_sse(again(), decoder(), show_usage, typed);
                assert_eq!((&out, &ends), (&want.0, &want.1), "typed {typed}");
                certified |= c;
            }
        }
        certified
    }

    #[test]
    fn sse_output_is_what_the_chunks_encode_to() {
        let bodies = [
            full_body(),
            sse(&[
                &chunk_json("a", None),
                &chunk_json("b", None),
                &chunk_json("c", Some("stop")),
                "[DONE]",
            ]),
            // Events after [DONE] are ignored.
            sse(&[&chunk_json("a", None), "[DONE]", &chunk_json("late", None)]),
            // Mid-stream error event.
            sse(&[
                &chunk_json("a", None),
                &chunk_json("b", None),
                r#"{"error":{"message":"overloaded","type":"server_error","code":"503"}}"#,
            ]),
            // Not JSON: a decode error after what came before.
            [
                sse(&[&chunk_json("a", None), &chunk_json("b", None)]),
                b"data: {not json}\n\n".to_vec(),
                sse(&[&chunk_json("c", Some("stop"))]),
            ]
            .concat(),
            // Cut mid-event / without an end.
            [
                sse(&[&chunk_json("a", None), &chunk_json("b", None)]),
                b"data: {\"id\":\"c1\",\"cho".to_vec(),
            ]
            .concat(),
            sse(&[&chunk_json("a", None), &chunk_json("b", None)]),
            // Other SSE shapes part way (comments, CRLF, event types).
            [
                sse(&[&chunk_json("a", None)]),
                b": ping\n\n".to_vec(),
                sse(&[&chunk_json("b", None)]),
                format!("data: {}\r\n\r\n", chunk_json("c", None)).into_bytes(),
                sse(&[&chunk_json("d", Some("stop")), "[DONE]"]),
            ]
            .concat(),
            // Chunks a decoder rewrites or drops: empty finish reason, missing fields, empty choices.
            sse(&[
                &chunk_json("a", None),
                r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"b"},"finish_reason":null}]}"#,
                r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}"#,
                &chunk_json("c", None),
                &chunk_json("d", Some("")),
                USAGE_CHUNK,
            ]),
        ];
        for bytes in &bodies {
            for show_usage in [false, true] {
                for rewriting in [false, true] {
                    let certified = sse_agrees(bytes, show_usage, rewriting);
                    assert!(
                        !(rewriting && certified),
                        "a rewriting decoder is never bypassed"
                    );
                }
            }
        }
        assert!(
            sse_agrees(&full_body(), false, false),
            "plain events were forwarded"
        );
    }

    #[test]
    fn sse_output_forwards_a_read_of_plain_events_as_one_item() {
        let events: Vec<String> = (0..50)
            .map(|i| chunk_json(&format!("w{i}"), None))
            .collect();
        let refs: Vec<&str> = events.iter().map(String::as_str).collect();
        let mut body = sse(&refs);
        let pieces = vec![
            Ok(body.clone()),
            Ok(sse(&[&chunk_json("z", Some("stop")), "[DONE]"])),
        ];
        let s = ChatStream::from_body(
            Box::pin(Trickle(pieces.into(), false)),
            Framing::Sse,
            Box::new(OpenAiStream::default()),
            false,
            "openai",
            "gpt-test",
        );
        let mut s = s.into_sse();
        let items: Vec<_> = block_on(s.by_ref().collect::<Vec<_>>());
        // One item per read: the first event is decoded (certifying the decoder), the rest of
        // the read forwarded with it.
        assert_eq!(items.len(), 2);
        assert!(s.0.certified);
        body.extend(sse(&[&chunk_json("z", Some("stop"))]));
        let all: Vec<u8> = items
            .into_iter()
            .flat_map(|r| r.unwrap().into_bytes())
            .collect();
        assert_eq!(all, body);
    }
}
