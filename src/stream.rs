//! The streaming pipeline: body bytes → [`Deframer`] → provider [`StreamDecoder`] → chunks.
//!
//! Pull-based: each `poll_next` pulls at most what is needed from the body, so a JS
//! `ReadableStream` pulling from it gets backpressure for free, and dropping the stream drops
//! the body, which aborts the request.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;

use crate::decode::{Deframer, Frame, Framing};
use crate::http::BodyStream;
use crate::provider::StreamDecoder;
use crate::types::{ChatChunk, Usage};
use crate::{Error, Result};

/// A stream of OpenAI `chat.completion.chunk`s. Ends after the last chunk or after one error.
pub struct ChatStream {
    source: Source,
    pending: VecDeque<ChatChunk>,
    frames: Vec<Frame>,
    chunks: Vec<ChatChunk>,
    show_usage: bool,
    usage: Option<Usage>,
    finished: bool,
    deferred_error: Option<Error>,
    on_chunk: Option<Box<dyn FnMut(&ChatChunk)>>,
    on_end: Option<Box<dyn FnOnce(Result<Option<Usage>, &Error>)>>,
}

enum Source {
    Body {
        body: BodyStream,
        deframer: Deframer,
        decoder: Box<dyn StreamDecoder>,
        provider: String,
        model: String,
    },
    Ready,
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
            Source::Body {
                body,
                deframer: Deframer::new(framing),
                decoder,
                provider: provider.into(),
                model: model.into(),
            },
            VecDeque::new(),
            show_usage,
        )
    }

    /// A stream of ready chunks (mock responses, tests).
    pub fn from_chunks(chunks: Vec<ChatChunk>, show_usage: bool) -> Self {
        Self::with_source(Source::Ready, chunks.into(), show_usage)
    }

    fn with_source(source: Source, pending: VecDeque<ChatChunk>, show_usage: bool) -> Self {
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
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        if !self.show_usage {
            chunk.usage = None;
            if chunk.choices.is_empty() {
                return None;
            }
        }
        if let Some(f) = &mut self.on_chunk {
            f(&chunk);
        }
        Some(chunk)
    }

    fn end(&mut self, result: Result<(), Error>) -> Option<Result<ChatChunk>> {
        self.finished = true;
        self.source = Source::Ready;
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
            let Source::Body {
                body,
                deframer,
                decoder,
                provider,
                model,
            } = &mut this.source
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
                Ok(true) => this.source = Source::Ready,
                Err(e) => {
                    // What was decoded before the error is delivered first, then the error.
                    this.frames.clear();
                    this.deferred_error = Some(e.in_context(provider, model));
                    this.source = Source::Ready;
                }
            }
        }
    }
}
