//! Incremental, sans-IO decoding of streamed response bodies into frames.
//!
//! Bytes arrive in arbitrary pieces; a [`Deframer`] turns them into whole [`Frame`]s for the
//! provider's [`StreamDecoder`](crate::provider::StreamDecoder), whatever the framing:
//! server-sent events, newline-delimited JSON, or AWS's binary event stream.

mod ndjson;
mod sse;

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
}

impl Deframer {
    /// A parser for `framing`.
    pub fn new(framing: Framing) -> Self {
        match framing {
            Framing::Sse => Deframer::Sse(SseParser::default()),
            Framing::Ndjson => Deframer::Ndjson(NdjsonParser::default()),
            Framing::AwsEventStream => {
                unimplemented!("AWS event stream framing lands with Bedrock")
            }
        }
    }

    /// Feeds bytes; appends every completed frame to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Frame>) -> Result<()> {
        match self {
            Deframer::Sse(p) => {
                p.push(bytes, |ev| {
                    out.push(Frame {
                        event: ev.event,
                        data: ev.data,
                    })
                });
                Ok(())
            }
            Deframer::Ndjson(p) => p.push(bytes, out),
        }
    }

    /// End of input: flushes a trailing frame that had no terminator.
    pub fn finish(&mut self, out: &mut Vec<Frame>) -> Result<()> {
        match self {
            Deframer::Sse(p) => {
                p.finish(|ev| {
                    out.push(Frame {
                        event: ev.event,
                        data: ev.data,
                    })
                });
                Ok(())
            }
            Deframer::Ndjson(p) => p.finish(out),
        }
    }
}
