//! Incremental, sans-IO decoding of streamed response bodies into frames.
//!
//! Bytes arrive in arbitrary pieces; a [`Deframer`] turns them into whole [`Frame`]s for the
//! provider's [`StreamDecoder`](crate::provider::StreamDecoder), whatever the framing:
//! server-sent events, newline-delimited JSON, or AWS's binary event stream.

mod eventstream;
mod ndjson;
mod sse;

pub use eventstream::{crc32, encode_event_message, EventStreamParser};
pub use ndjson::NdjsonParser;
pub use sse::{SseEvent, SseParser};

use crate::Result;

/// One framed message of a stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// The event type: SSE `event:` field, or the AWS `:event-type` / `:exception-type` header.
    pub event: Option<String>,
    /// The payload text (SSE `data:` lines joined by `\n`, an NDJSON line, an AWS payload).
    pub data: String,
}

impl From<SseEvent> for Frame {
    fn from(ev: SseEvent) -> Self {
        Frame {
            event: ev.event,
            data: ev.data,
        }
    }
}

/// How a provider frames its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `text/event-stream`.
    Sse,
    /// One JSON document per line (Ollama).
    Ndjson,
    /// `application/vnd.amazon.eventstream` (Bedrock).
    AwsEventStream,
}

/// A framing-specific incremental parser.
#[derive(Debug)]
pub enum Deframer {
    /// SSE.
    Sse(SseParser),
    /// NDJSON.
    Ndjson(NdjsonParser),
    /// AWS event stream.
    AwsEventStream(EventStreamParser),
}

impl Deframer {
    /// A parser for `framing`.
    pub fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Deframer::Sse(SseParser::default()),
            Framing::Ndjson => Deframer::Ndjson(NdjsonParser::default()),
            Framing::AwsEventStream => Deframer::AwsEventStream(EventStreamParser::default()),
        }
    }

    /// Feeds bytes; appends every completed frame to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Frame>) -> Result<()> {
        match self {
            Deframer::Sse(p) => {
                p.push(bytes, |ev| out.push(ev.into()));
                Ok(())
            }
            Deframer::Ndjson(p) => p.push(bytes, out),
            Deframer::AwsEventStream(p) => p.push(bytes, out),
        }
    }

    /// End of input: flushes a trailing frame that had no terminator (see [`SseParser::finish`]
    /// for what that means for a stream cut mid-event).
    pub fn finish(&mut self, out: &mut Vec<Frame>) -> Result<()> {
        match self {
            Deframer::Sse(p) => {
                p.finish(|ev| out.push(ev.into()));
                Ok(())
            }
            Deframer::Ndjson(p) => p.finish(out),
            Deframer::AwsEventStream(p) => p.finish(out),
        }
    }
}

/// Deframes a whole body given as `pieces`: what a stream of those pushes followed by
/// [`Deframer::finish`] yields. The result does not depend on how the body is split.
///
/// ```
/// use edgellm::decode::{deframe, Framing};
/// let frames = deframe(Framing::Sse, [&b"data: a\r"[..], b"\n\r\ndata: b"]).unwrap();
/// assert_eq!(frames.iter().map(|f| f.data.as_str()).collect::<Vec<_>>(), ["a", "b"]);
/// ```
pub fn deframe<'a>(
    framing: Framing,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<Frame>> {
    let mut deframer = Deframer::new(framing);
    let mut out = Vec::new();
    for piece in pieces {
        deframer.push(piece, &mut out)?;
    }
    deframer.finish(&mut out)?;
    Ok(out)
}
