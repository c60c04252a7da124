//! The streaming pipeline: body bytes → [`Deframer`] → provider [`StreamDecoder`] → chunks.
//!
//! Pull-based: each `poll_next` pulls at most what is needed from the body, so a JS
//! `ReadableStream` pulling from it gets backpressure for free, and dropping the stream drops
//! the body, which aborts the request.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::FusedStream;
use futures_util::Stream;

use crate::decode::{Deframer, Frame, Framing};
use crate::http::BodyStream;
use crate::provider::StreamDecoder;
use crate::types::{ChatChunk, TextCompletionResponse, Usage};
use crate::{Error, Result};

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
}

type ChunkHook = Box<dyn FnMut(&ChatChunk)>;
type EndHook = Box<dyn FnOnce(Result<Option<Usage>, &Error>)>;

/// Where chunks come from while the body is still being read; `None` in [`ChatStream`] once
/// it ended (or for ready chunks), which also drops the body and so cancels the request.
struct Pipeline {
    body: BodyStream,
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
            let Some(Pipeline {
                body,
                deframer,
                decoder,
                provider,
                model,
            }) = &mut this.source
            else {
                return Poll::Ready(this.end(Ok(())));
            };
            let step: Result<bool> = match body.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => {
                    deframer.push(&bytes, &mut this.frames).map(|_| false)
                }
                Poll::Ready(Some(Err(e))) => Err(e),
                Poll::Ready(None) => deframer.finish(&mut this.frames).map(|_| true),
            };
            let result = step.and_then(|at_end| {
                for f in this.frames.drain(..) {
                    decoder.on_frame(&f, &mut this.chunks)?;
                }
                if at_end {
                    decoder.finish(&mut this.chunks)?;
                }
                Ok(at_end)
            });
            this.pending.extend(this.chunks.drain(..));
            match result {
                Ok(false) => {}
                Ok(true) => this.source = None,
                Err(e) => {
                    // What was decoded before the error is delivered first, then the error.
                    this.frames.clear();
                    this.deferred_error = Some(e.in_context(provider, model));
                    this.source = None;
                }
            }
        }
    }
}

impl FusedStream for ChatStream {
    fn is_terminated(&self) -> bool {
        self.finished && self.pending.is_empty()
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
}
