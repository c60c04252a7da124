//! AWS event stream (`application/vnd.amazon.eventstream`), parsed incrementally.
//!
//! Binary framing (<https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html>,
//! "event stream encoding"; the same framing carries Bedrock's `ConverseStream`):
//!
//! ```text
//! message  = prelude prelude-crc headers payload message-crc
//! prelude  = total-length:u32be headers-length:u32be      ; total includes all 4 parts + CRCs
//! header   = name-length:u8 name:utf8 value-type:u8 value
//! value    = true(0) | false(1) | byte(2):i8 | short(3):i16 | int(4):i32 | long(5):i64
//!          | bytes(6):u16-length bytes | string(7):u16-length utf8 | timestamp(8):i64 ms
//!          | uuid(9):16 bytes
//! CRCs     = CRC-32 (IEEE 802.3, as zlib) of the prelude, and of everything before message-crc
//! ```
//!
//! Each message becomes one [`Frame`]: `:message-type: event` → `event` = `:event-type`;
//! `exception` → `event` = `:exception-type` (e.g. `throttlingException`), `data` = payload;
//! `error` → `event` = `"error"`, `data` = `{"code": :error-code, "message": :error-message}`.

use serde_json::json;

use super::Frame;
use crate::types::json_text;
use crate::{Error, ErrorKind, Result};

/// Messages larger than this are rejected (the service limit is 16 MiB).
const MAX_MESSAGE: usize = 16 * 1024 * 1024;
const PRELUDE: usize = 12;

/// CRC-32 (reflected polynomial 0xEDB88320, as zlib / IEEE 802.3).
///
/// ```
/// assert_eq!(edgellm::decode::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0, bytes)
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in bytes {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// One decoded header value, as far as frames need it.
#[derive(Debug, Clone, PartialEq)]
enum HeaderValue {
    Str(String),
    Other,
}

/// Incremental event-stream parser: bytes in, [`Frame`]s out.
#[derive(Debug, Default)]
pub struct EventStreamParser {
    buf: Vec<u8>,
    /// A framing error found after frames of the same push were produced: reported on the next
    /// call, so that those frames are delivered first whatever the push boundaries were.
    pending_error: Option<Error>,
    failed: bool,
}

fn corrupt(msg: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::BadGateway,
        format!("malformed AWS event stream: {}", msg.into()),
    )
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl EventStreamParser {
    /// Feeds bytes; appends every completed message to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Frame>) -> Result<()> {
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if self.failed {
            return Ok(());
        }
        self.buf.extend_from_slice(bytes);
        let before = out.len();
        if let Err(e) = self.drain(out) {
            self.failed = true;
            self.buf.clear();
            if out.len() > before {
                self.pending_error = Some(e);
                return Ok(());
            }
            return Err(e);
        }
        Ok(())
    }

    /// End of input: leftover bytes mean the stream was cut inside a message.
    pub fn finish(&mut self, _out: &mut Vec<Frame>) -> Result<()> {
        if let Some(e) = self.pending_error.take() {
            return Err(e);
        }
        if !self.failed && !self.buf.is_empty() {
            let n = self.buf.len();
            self.buf.clear();
            return Err(corrupt(format!(
                "stream ended inside a message ({n} bytes left over)"
            )));
        }
        Ok(())
    }

    fn drain(&mut self, out: &mut Vec<Frame>) -> Result<()> {
        let mut start = 0;
        let result = loop {
            let rest = &self.buf[start..];
            if rest.len() < PRELUDE {
                break Ok(());
            }
            let total = be32(&rest[0..4]) as usize;
            let headers_len = be32(&rest[4..8]) as usize;
            if crc32(&rest[0..8]) != be32(&rest[8..12]) {
                break Err(corrupt("prelude CRC mismatch"));
            }
            if total < PRELUDE + 4 + headers_len || total > MAX_MESSAGE {
                break Err(corrupt(format!(
                    "impossible lengths (total {total}, headers {headers_len})"
                )));
            }
            if rest.len() < total {
                break Ok(());
            }
            let msg = &rest[..total];
            if crc32(&msg[..total - 4]) != be32(&msg[total - 4..]) {
                break Err(corrupt("message CRC mismatch"));
            }
            let headers = &msg[PRELUDE..PRELUDE + headers_len];
            let payload = &msg[PRELUDE + headers_len..total - 4];
            match frame(headers, payload) {
                Ok(Some(f)) => out.push(f),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
            start += total;
        };
        self.buf.drain(..start);
        result
    }
}

fn parse_headers(mut h: &[u8]) -> Result<Vec<(String, HeaderValue)>> {
    let mut out = Vec::new();
    let take = |h: &mut &[u8], n: usize| -> Result<Vec<u8>> {
        if h.len() < n {
            return Err(corrupt("header runs past its block"));
        }
        let (a, b) = h.split_at(n);
        *h = b;
        Ok(a.to_vec())
    };
    while !h.is_empty() {
        let name_len = take(&mut h, 1)?[0] as usize;
        let name = String::from_utf8(take(&mut h, name_len)?)
            .map_err(|_| corrupt("header name is not UTF-8"))?;
        let value = match take(&mut h, 1)?[0] {
            0 | 1 => HeaderValue::Other,
            2 => {
                take(&mut h, 1)?;
                HeaderValue::Other
            }
            3 => {
                take(&mut h, 2)?;
                HeaderValue::Other
            }
            4 => {
                take(&mut h, 4)?;
                HeaderValue::Other
            }
            5 | 8 => {
                take(&mut h, 8)?;
                HeaderValue::Other
            }
            9 => {
                take(&mut h, 16)?;
                HeaderValue::Other
            }
            t @ (6 | 7) => {
                let len = take(&mut h, 2)?;
                let bytes = take(&mut h, u16::from_be_bytes([len[0], len[1]]) as usize)?;
                if t == 7 {
                    HeaderValue::Str(
                        String::from_utf8(bytes)
                            .map_err(|_| corrupt("string header is not UTF-8"))?,
                    )
                } else {
                    HeaderValue::Other
                }
            }
            t => return Err(corrupt(format!("unknown header value type {t}"))),
        };
        out.push((name, value));
    }
    Ok(out)
}

fn frame(headers: &[u8], payload: &[u8]) -> Result<Option<Frame>> {
    let headers = parse_headers(headers)?;
    let get = |name: &str| {
        headers.iter().find_map(|(n, v)| match v {
            HeaderValue::Str(s) if n == name => Some(s.clone()),
            _ => None,
        })
    };
    let data = String::from_utf8(payload.to_vec())
        .map_err(|_| corrupt("payload is not UTF-8 (binary payloads are not used by chat)"))?;
    let frame = match get(":message-type").as_deref().unwrap_or("event") {
        "event" => Frame {
            event: get(":event-type"),
            data,
        },
        "exception" => Frame {
            event: get(":exception-type"),
            data,
        },
        "error" => Frame {
            event: Some("error".into()),
            data: json_text(&json!({
                "code": get(":error-code"),
                "message": get(":error-message"),
            })),
        },
        // Unknown message types are skipped, as AWS SDKs do.
        _ => return Ok(None),
    };
    Ok(Some(frame))
}

/// Encodes one message (string headers only): the inverse of the parser, for tests and
/// fixture generation.
///
/// ```
/// use edgellm::decode::{deframe, encode_event_message, Framing};
/// let msg = encode_event_message(&[(":message-type", "event"), (":event-type", "messageStop")], br#"{"stopReason":"end_turn"}"#);
/// let frames = deframe(Framing::AwsEventStream, [&msg[..]]).unwrap();
/// assert_eq!(frames[0].event.as_deref(), Some("messageStop"));
/// ```
pub fn encode_event_message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = PRELUDE + h.len() + payload.len() + 4;
    let mut m = Vec::with_capacity(total);
    m.extend_from_slice(&(total as u32).to_be_bytes());
    m.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let pc = crc32(&m);
    m.extend_from_slice(&pc.to_be_bytes());
    m.extend_from_slice(&h);
    m.extend_from_slice(payload);
    let mc = crc32(&m);
    m.extend_from_slice(&mc.to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pieces: &[&[u8]]) -> (Vec<Frame>, Result<()>) {
        let mut p = EventStreamParser::default();
        let mut out = Vec::new();
        for piece in pieces {
            if let Err(e) = p.push(piece, &mut out) {
                return (out, Err(e));
            }
        }
        let r = p.finish(&mut out);
        (out, r)
    }

    fn sample() -> Vec<u8> {
        let mut body = encode_event_message(
            &[
                (":event-type", "contentBlockDelta"),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            r#"{"contentBlockIndex":0,"delta":{"text":"Hé"},"p":"abcd"}"#.as_bytes(),
        );
        body.extend(encode_event_message(
            &[
                (":exception-type", "throttlingException"),
                (":content-type", "application/json"),
                (":message-type", "exception"),
            ],
            br#"{"message":"Too many requests"}"#,
        ));
        body.extend(encode_event_message(
            &[
                (":message-type", "error"),
                (":error-code", "InternalFailure"),
                (":error-message", "boom"),
            ],
            b"",
        ));
        body
    }

    #[test]
    fn crc_matches_zlib_check_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn aws_documented_minimal_message() {
        // The smallest message: no headers, no payload. Total 16, prelude CRC 0x05c248eb,
        // message CRC 0x7d98c8ff (the AWS SDKs' `int_message` style test vectors).
        let m = encode_event_message(&[], b"");
        assert_eq!(
            m,
            [0, 0, 0, 0x10, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff]
        );
    }

    #[test]
    fn frames_are_the_same_for_every_split() {
        let body = sample();
        let (whole, r) = parse(&[&body]);
        r.unwrap();
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].event.as_deref(), Some("contentBlockDelta"));
        assert!(whole[0].data.contains("Hé"));
        assert_eq!(whole[1].event.as_deref(), Some("throttlingException"));
        assert_eq!(whole[2].event.as_deref(), Some("error"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&whole[2].data).unwrap()["code"],
            "InternalFailure"
        );
        for cut in 0..=body.len() {
            let (got, r) = parse(&[&body[..cut], &body[cut..]]);
            r.unwrap();
            assert_eq!(got, whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(parse(&bytes).0, whole);
    }

    #[test]
    fn corruption_and_truncation_are_errors_after_good_frames() {
        let mut body = sample();
        let first_len = be32(&body[0..4]) as usize;
        // Flip a payload byte of the second message: its message CRC fails.
        body[first_len + 40] ^= 0xFF;
        for cut in [0, first_len, body.len()] {
            let (got, r) = parse(&[&body[..cut], &body[cut..]]);
            assert_eq!(got.len(), 1, "cut {cut}");
            assert_eq!(r.unwrap_err().kind(), ErrorKind::BadGateway);
        }
        // A bad prelude CRC.
        let mut bad = sample();
        bad[9] ^= 1;
        assert!(parse(&[&bad])
            .1
            .unwrap_err()
            .message()
            .contains("prelude CRC"));
        // Truncated.
        let good = sample();
        let (got, r) = parse(&[&good[..good.len() - 3]]);
        assert_eq!(got.len(), 2);
        assert!(r.unwrap_err().message().contains("ended inside"));
    }
}
