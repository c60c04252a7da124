//! Server-sent events (WHATWG HTML §9.2), parsed incrementally.
//!
//! ```text
//! stream        = [ bom ] *event
//! event         = *( comment / field ) end-of-line
//! comment       = colon *any-char end-of-line
//! field         = 1*name-char [ colon [ space ] *any-char ] end-of-line
//! end-of-line   = ( cr lf / cr / lf )
//! ```
//! Lines may end in CR, LF or CRLF, and a CRLF may be split across two pushes. Bytes are
//! buffered until a whole line is present, so a UTF-8 code point split across pushes is
//! decoded whole.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// `event:` field, if any.
    pub event: Option<String>,
    /// `data:` lines joined with `\n`.
    pub data: String,
    /// `id:` field, if any.
    pub id: Option<String>,
}

/// Incremental SSE parser.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    skip_lf: bool,
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl SseParser {
    /// Feeds bytes; calls `emit` for each completed event.
    pub fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(SseEvent)) {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if self.skip_lf {
                self.skip_lf = false;
                if b == b'\n' {
                    start = i + 1;
                    continue;
                }
            }
            if b == b'\n' || b == b'\r' {
                self.line.extend_from_slice(&bytes[start..i]);
                start = i + 1;
                self.skip_lf = b == b'\r';
                let line = std::mem::take(&mut self.line);
                self.on_line(&line, &mut emit);
            }
        }
        self.line.extend_from_slice(&bytes[start..]);
    }

    /// End of input: a final event without its blank line is still dispatched.
    pub fn finish(&mut self, mut emit: impl FnMut(SseEvent)) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.on_line(&line, &mut emit);
        }
        self.dispatch(&mut emit);
    }

    fn on_line(&mut self, mut line: &[u8], emit: &mut impl FnMut(SseEvent)) {
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                line = rest;
            }
        }
        if line.is_empty() {
            self.dispatch(emit);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&c| c == b':') {
            Some(p) => {
                let v = &line[p + 1..];
                (&line[..p], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = Some(value.into_owned()),
            b"id" if !value.contains('\0') => self.id = Some(value.into_owned()),
            _ => {}
        }
    }

    fn dispatch(&mut self, emit: &mut impl FnMut(SseEvent)) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        emit(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, |e| out.push(e));
        }
        p.finish(|e| out.push(e));
        out
    }

    #[test]
    fn crlf_split_across_pushes_and_multiline_data() {
        let evs = parse_all(&[
            b"event: a\r",
            b"\ndata: x\r\ndata: y\r\n\r\n: comment\n\ndata:z",
        ]);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].event.as_deref(), Some("a"));
        assert_eq!(evs[0].data, "x\ny");
        assert_eq!(evs[1].data, "z");
    }

    #[test]
    fn utf8_split_across_pushes() {
        let bytes = "data: héllo\n\n".as_bytes();
        let evs = parse_all(&[&bytes[..8], &bytes[8..]]);
        assert_eq!(evs[0].data, "héllo");
    }
}
