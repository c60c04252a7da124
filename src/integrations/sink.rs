//! Collecting one request's log events, including those that only exist after the response was
//! returned (a stream ends later). The gateway hands [`LogSink::settled`] to `ctx.waitUntil`:
//! it resolves once every [`Pending`] event has arrived or been dropped, so the Worker stays
//! alive exactly as long as logging needs and the response never waits for it.
//!
//! [`LoggedStream`] wraps a chat stream: it passes chunks through untouched, accumulates them,
//! and at the end (or on an error, or when dropped early) produces the call's single log event
//! with the full output.

use std::cell::RefCell;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_util::Stream;

use super::event::LogEvent;
use crate::accumulate::Accumulator;
use crate::types::{ChatChunk, ChatResponse};
use crate::{Error, Result};

#[derive(Default)]
struct State {
    events: Vec<LogEvent>,
    pending: usize,
    waker: Option<Waker>,
}

/// The events of one request (single-threaded: Workers and browsers run one thread).
#[derive(Clone, Default)]
pub struct LogSink(Rc<RefCell<State>>);

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.borrow();
        f.debug_struct("LogSink")
            .field("events", &s.events.len())
            .field("pending", &s.pending)
            .finish()
    }
}

impl LogSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an event.
    pub fn push(&self, e: LogEvent) {
        self.0.borrow_mut().events.push(e);
    }

    /// Announces an event that will come later (or never: dropping the guard releases it).
    pub fn hold(&self) -> Pending {
        self.0.borrow_mut().pending += 1;
        Pending {
            sink: Some(self.clone()),
        }
    }

    /// Whether nothing was logged and nothing is awaited.
    pub fn is_idle(&self) -> bool {
        let s = self.0.borrow();
        s.events.is_empty() && s.pending == 0
    }

    /// Waits until no event is pending, then takes every event.
    pub async fn settled(&self) -> Vec<LogEvent> {
        poll_fn(|cx: &mut Context<'_>| {
            let mut s = self.0.borrow_mut();
            if s.pending == 0 {
                Poll::Ready(std::mem::take(&mut s.events))
            } else {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    fn release(&self, e: Option<LogEvent>) {
        let waker = {
            let mut s = self.0.borrow_mut();
            if let Some(e) = e {
                s.events.push(e);
            }
            s.pending = s.pending.saturating_sub(1);
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// An event still to come. [`Pending::complete`] delivers it; dropping the guard gives up.
#[derive(Debug)]
pub struct Pending {
    sink: Option<LogSink>,
}

impl Pending {
    /// Delivers the event.
    pub fn complete(mut self, e: LogEvent) {
        if let Some(sink) = self.sink.take() {
            sink.release(Some(e));
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            sink.release(None);
        }
    }
}

/// How a logged stream ended.
#[derive(Debug)]
pub enum StreamEnd<'a> {
    /// Every chunk arrived; the accumulated response.
    Done(Box<ChatResponse>),
    /// The stream failed.
    Failed(&'a Error),
    /// The consumer dropped the stream before its end (client gone).
    Abandoned,
}

type Finish = Box<dyn FnOnce(StreamEnd<'_>) -> Option<LogEvent>>;

/// A chat stream that logs once, at its end, with the full output.
pub struct LoggedStream<S> {
    inner: S,
    acc: Accumulator,
    finish: Option<(Finish, Pending)>,
}

impl<S> std::fmt::Debug for LoggedStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedStream")
            .field("chunks", &self.acc.chunk_count())
            .field("logged", &self.finish.is_none())
            .finish()
    }
}

impl<S> LoggedStream<S> {
    /// Wraps `inner`; `finish` turns the end into the event delivered to `pending`.
    pub fn new(
        inner: S,
        pending: Pending,
        finish: impl FnOnce(StreamEnd<'_>) -> Option<LogEvent> + 'static,
    ) -> Self {
        Self {
            inner,
            acc: Accumulator::new(),
            finish: Some((Box::new(finish), pending)),
        }
    }

    /// Passes `inner` through without logging.
    pub fn passthrough(inner: S) -> Self {
        Self {
            inner,
            acc: Accumulator::new(),
            finish: None,
        }
    }

    fn end(&mut self, how: StreamEnd<'_>) {
        if let Some((finish, pending)) = self.finish.take() {
            match finish(how) {
                Some(e) => pending.complete(e),
                None => drop(pending),
            }
        }
    }
}

impl<S> Stream for LoggedStream<S>
where
    S: Stream<Item = Result<ChatChunk>> + Unpin,
{
    type Item = Result<ChatChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if this.finish.is_some() {
                    this.acc.push(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.end(StreamEnd::Failed(&e));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                if this.finish.is_some() {
                    let done = std::mem::take(&mut this.acc).finish();
                    this.end(StreamEnd::Done(Box::new(done)));
                }
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S> Drop for LoggedStream<S> {
    fn drop(&mut self) {
        self.end(StreamEnd::Abandoned);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use futures_util::{stream, StreamExt};
    use serde_json::json;
    use std::future::Future;

    fn chunk(text: &str) -> ChatChunk {
        serde_json::from_value(
            json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]}),
        )
        .unwrap()
    }

    fn logged(
        items: Vec<Result<ChatChunk>>,
        sink: &LogSink,
    ) -> LoggedStream<stream::Iter<std::vec::IntoIter<Result<ChatChunk>>>> {
        LoggedStream::new(stream::iter(items), sink.hold(), |end| {
            Some(match end {
                StreamEnd::Done(r) => LogEvent::Success(
                    json!({"status": "success", "output": r.choices[0].message.content.clone()}),
                ),
                StreamEnd::Failed(e) => {
                    LogEvent::Failure(json!({"status": "failure", "error": e.message()}))
                }
                StreamEnd::Abandoned => {
                    LogEvent::Failure(json!({"status": "failure", "error": "abandoned"}))
                }
            })
        })
    }

    #[test]
    fn a_finished_stream_logs_once_with_the_full_output() {
        let sink = LogSink::new();
        let s = logged(vec![Ok(chunk("Hel")), Ok(chunk("lo"))], &sink);
        assert!(!sink.is_idle());
        let out: Vec<_> = block_on(s.collect::<Vec<_>>());
        assert_eq!(out.len(), 2);
        let events = block_on(sink.settled());
        assert_eq!(
            events,
            vec![LogEvent::Success(
                json!({"status": "success", "output": "Hello"})
            )]
        );
        assert!(sink.is_idle());
    }

    #[test]
    fn errors_and_early_drops_are_logged_as_failures() {
        let sink = LogSink::new();
        let s = logged(
            vec![
                Ok(chunk("a")),
                Err(Error::new(crate::ErrorKind::Connection, "cut")),
            ],
            &sink,
        );
        let _ = block_on(s.collect::<Vec<_>>());
        let events = block_on(sink.settled());
        assert_eq!(events[0].payload().unwrap()["error"], "cut");

        let sink = LogSink::new();
        let mut s = logged(vec![Ok(chunk("a")), Ok(chunk("b"))], &sink);
        let _ = block_on(s.next());
        drop(s);
        assert_eq!(
            block_on(sink.settled())[0].payload().unwrap()["error"],
            "abandoned"
        );
    }

    #[test]
    fn settled_waits_for_pending_events() {
        let sink = LogSink::new();
        sink.push(LogEvent::Success(json!({"n": 1})));
        let later = sink.hold();
        let waiting = sink.clone();
        let mut fut = Box::pin(waiting.settled());
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        later.complete(LogEvent::Success(json!({"n": 2})));
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(events) => assert_eq!(events.len(), 2),
            Poll::Pending => panic!("still pending"),
        }
        // A guard that is dropped releases the wait without an event.
        let sink = LogSink::new();
        drop(sink.hold());
        assert!(block_on(sink.settled()).is_empty());
    }
}
