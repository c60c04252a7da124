//! Newline-delimited JSON (Ollama's streaming format), incrementally.
//!
//! Lines end in LF; a CR before it (CRLF) is JSON whitespace and trimmed with the rest. Blank
//! lines are skipped, a UTF-8 byte-order mark is skipped at the start of the stream, invalid
//! UTF-8 is replaced with U+FFFD, and a last line without its LF is still a frame (so a line
//! cut mid-JSON reaches the decoder and fails there, instead of vanishing). Whole lines are
//! read straight from the pushed slice; only a line split across pushes is buffered.

use super::Frame;
use crate::Result;

/// Splits bytes into lines; each non-blank line is one frame.
///
/// ```
/// use edgellm::decode::{Frame, NdjsonParser};
/// let mut p = NdjsonParser::default();
/// let mut frames = Vec::new();
/// p.push(b"{\"a\":1}\r\n\n{\"b\"", &mut frames).unwrap();
/// p.push(b":2}", &mut frames).unwrap();
/// p.finish(&mut frames).unwrap();
/// assert_eq!(frames, [Frame { event: None, data: "{\"a\":1}".into() },
///                     Frame { event: None, data: "{\"b\":2}".into() }]);
/// ```
#[derive(Debug, Default)]
pub struct NdjsonParser {
    /// The start of a line whose LF has not arrived yet.
    line: Vec<u8>,
    /// The first line has been seen (the BOM can only precede it).
    started: bool,
}

impl NdjsonParser {
    /// Feeds bytes; appends completed lines to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<Frame>) -> Result<()> {
        while let Some(end) = memchr::memchr(b'\n', bytes) {
            if self.line.is_empty() {
                self.emit(&bytes[..end], out);
            } else {
                self.line.extend_from_slice(&bytes[..end]);
                let line = std::mem::take(&mut self.line);
                self.emit(&line, out);
                // Put back (emptied) so the buffer keeps its capacity for the next split line.
                self.line = line;
                self.line.clear();
            }
            bytes = &bytes[end + 1..];
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// End of input: a last line without newline is still a frame. The parser is then reset
    /// for a new stream.
    pub fn finish(&mut self, out: &mut Vec<Frame>) -> Result<()> {
        let line = std::mem::take(&mut self.line);
        self.emit(&line, out);
        self.started = false;
        Ok(())
    }

    fn emit(&mut self, mut line: &[u8], out: &mut Vec<Frame>) {
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = rest;
            }
        }
        let text = trim_json_ws(line);
        if !text.is_empty() {
            out.push(Frame {
                event: None,
                data: super::sse::utf8(text).into_owned(),
            });
        }
    }
}

/// Strips JSON's insignificant whitespace (RFC 8259 §2: space, tab, LF, CR) from both ends.
fn trim_json_ws(mut s: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    while let Some((first, rest)) = s.split_first() {
        if !ws(first) {
            break;
        }
        s = rest;
    }
    while let Some((last, rest)) = s.split_last() {
        if !ws(last) {
            break;
        }
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<String> {
        let mut p = NdjsonParser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out).unwrap();
        }
        p.finish(&mut out).unwrap();
        assert!(out.iter().all(|f| f.event.is_none()));
        out.into_iter().map(|f| f.data).collect()
    }

    fn all_splits(bytes: &[u8]) -> Vec<String> {
        let whole = parse_all(&[bytes]);
        for i in 0..=bytes.len() {
            assert_eq!(
                parse_all(&[&bytes[..i], &bytes[i..]]),
                whole,
                "split at {i}"
            );
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(parse_all(&bytewise), whole, "1-byte pieces");
        whole
    }

    #[test]
    fn crlf_blank_lines_and_last_line_without_newline() {
        let lines = all_splits(b"{\"a\":1}\r\n\r\n\n  \t\r\n{\"b\":2}\n{\"c\":3}");
        assert_eq!(lines, ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn trailing_cr_without_lf_at_the_end() {
        assert_eq!(all_splits(b"{\"a\":1}\r"), ["{\"a\":1}"]);
    }

    #[test]
    fn bom_only_at_stream_start() {
        let lines = all_splits(b"\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF{\"b\":2}\n");
        assert_eq!(lines[0], "{\"a\":1}");
        // A BOM later is not whitespace: the line is kept, and the decoder rejects it.
        assert_eq!(lines[1], "\u{feff}{\"b\":2}");
    }

    #[test]
    fn utf8_split_and_invalid_utf8() {
        let lines = all_splits("{\"t\":\"héllo 😀\"}\n".as_bytes());
        assert_eq!(lines, ["{\"t\":\"héllo 😀\"}"]);
        let lines = all_splits(b"{\"t\":\"\xff\xe2\x82\"}\n");
        assert_eq!(lines, ["{\"t\":\"\u{fffd}\u{fffd}\"}"]);
    }

    #[test]
    fn line_cut_mid_json_is_still_a_frame() {
        let lines = all_splits(b"{\"a\":1}\n{\"message\":{\"cont");
        assert_eq!(lines.len(), 2);
        assert!(serde_json::from_str::<serde_json::Value>(&lines[1]).is_err());
    }

    #[test]
    fn nothing_at_all() {
        assert!(all_splits(b"").is_empty());
        assert!(all_splits(b"\n\r\n \n").is_empty());
    }
}
