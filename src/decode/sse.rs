//! Server-sent events (WHATWG HTML §9.2.6 "Parsing an event stream"), parsed incrementally.
//!
//! ```text
//! stream        = [ bom ] *event
//! event         = *( comment / field ) end-of-line
//! comment       = colon *any-char end-of-line
//! field         = 1*name-char [ colon [ space ] *any-char ] end-of-line
//! end-of-line   = ( cr lf / cr / lf )
//! ```
//!
//! What the parser guarantees, whatever way the bytes are split into pushes:
//! - lines end in CR, LF or CRLF; a CRLF split across two pushes is one line end;
//! - a UTF-8 byte-order mark is skipped only as the first bytes of the stream;
//! - `:` lines are comments; `data:x` and `data: x` are the same (one leading space is
//!   dropped); a line without a colon is a field with an empty value (`data` alone appends an
//!   empty line); `data` lines of one event are joined with `\n`; `retry:` with only ASCII
//!   digits sets [`SseParser::retry`]; `id:` persists across events unless it contains NUL;
//! - a block without `data` lines dispatches nothing (its `event:` is forgotten); an empty
//!   `event:` is the default type and is reported as `None`;
//! - invalid UTF-8 is replaced with U+FFFD, never a panic. Bytes are buffered until a whole
//!   line is present, and CR/LF never occur inside a multi-byte sequence, so a code point
//!   split across pushes is decoded whole.
//!
//! **End of stream** ([`SseParser::finish`]): the spec discards an event not followed by a
//! blank line. We dispatch it instead when it has data, and a final line without a line end
//! counts as a line. Many servers close right after `data: [DONE]` or the last JSON line, and
//! dropping it would lose a complete message; a line cut mid-JSON is not silently dropped
//! either: it reaches the provider's decoder, which fails with a decode error, and a decoder
//! that never saw its completion signal fails in its own `finish`.
//!
//! Complete lines are read straight from the pushed slice; only a line split across pushes
//! is copied into a buffer that is reused, so steady-state parsing allocates only the
//! dispatched event's strings.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// `event:` field, if any.
    pub event: Option<String>,
    /// `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` seen so far in the stream, if any.
    pub id: Option<String>,
}

/// Incremental SSE parser.
///
/// ```
/// use edgellm::decode::SseParser;
/// let mut p = SseParser::default();
/// let mut events = Vec::new();
/// p.push(b"event: delta\r\ndata: {\"a\"", |e| events.push(e));
/// p.push(b":1}\r\n\r\ndata: [DONE]", |e| events.push(e));
/// p.finish(|e| events.push(e));
/// assert_eq!(events[0].event.as_deref(), Some("delta"));
/// assert_eq!(events[0].data, "{\"a\":1}");
/// assert_eq!(events[1].data, "[DONE]");
/// ```
#[derive(Debug, Default)]
pub struct SseParser {
    /// The start of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// The previous push ended in CR: a leading LF in the next push belongs to it.
    skip_lf: bool,
    /// The first line has been seen (the BOM can only precede it).
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    retry: Option<u64>,
}

impl SseParser {
    /// A parser taking over a stream at an event boundary after its first line (another
    /// reader cut the events before): a byte-order mark is no longer skipped. The last event id
    /// is not known, so events carry the ids set from here on.
    pub fn mid_stream() -> Self {
        Self {
            started: true,
            ..Self::default()
        }
    }

    /// Feeds bytes; calls `emit` for each completed event.
    pub fn push(&mut self, mut bytes: &[u8], mut emit: impl FnMut(SseEvent)) {
        if self.skip_lf {
            if let Some((&first, rest)) = bytes.split_first() {
                self.skip_lf = false;
                if first == b'\n' {
                    bytes = rest;
                }
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', bytes) {
            if self.line.is_empty() {
                self.on_line(&bytes[..end], &mut emit);
            } else {
                // Taken out and put back so the buffer keeps its capacity for the next split line.
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(&bytes[..end]);
                self.on_line(&line, &mut emit);
                line.clear();
                self.line = line;
            }
            let cr = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            if cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
        }
        self.line.extend_from_slice(bytes);
    }

    /// End of input: a last line without its line end is still a line, and a last event
    /// without its blank line is still dispatched if it has data (see the module docs for
    /// why this departs from the spec). The parser is then reset for a new stream.
    pub fn finish(&mut self, mut emit: impl FnMut(SseEvent)) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.on_line(&line, &mut emit);
        }
        self.dispatch(&mut emit);
        *self = Self {
            retry: self.retry,
            ..Self::default()
        };
    }

    /// The reconnection time in ms from the last valid `retry:` field, if any.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The last event id buffer (`id:`), if set.
    pub fn last_event_id(&self) -> Option<&str> {
        self.id.as_deref()
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
        let (name, value) = match memchr::memchr(b':', line) {
            Some(p) => {
                let v = &line[p + 1..];
                (&line[..p], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&utf8(value));
                self.has_data = true;
            }
            // An empty type means the default (`message`), which we report as no type.
            b"event" if value.is_empty() => self.event = None,
            b"event" => self.event = Some(utf8(value).into_owned()),
            b"id" if !value.contains(&0) => self.id = Some(utf8(value).into_owned()),
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits but too large for u64: ignored, like any other invalid value.
                if let Ok(ms) = std::str::from_utf8(value).unwrap_or("").parse() {
                    self.retry = Some(ms);
                }
            }
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

/// UTF-8 with invalid sequences replaced. `from_utf8` first: std's lossy decoder checks byte
/// by byte and was ~70% of parse time on valid input, the strict one has an ASCII fast path.
pub(super) fn utf8(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
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

    fn data(evs: &[SseEvent]) -> Vec<&str> {
        evs.iter().map(|e| e.data.as_str()).collect()
    }

    /// Every 2-piece split and 1-byte pieces must give what one piece gives.
    fn all_splits(bytes: &[u8]) -> Vec<SseEvent> {
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
    fn cr_lf_and_crlf_line_ends_mix() {
        let evs = all_splits(b"data: a\rdata: b\n\ndata: c\r\n\r\ndata: d\r\rdata: e\n\r\n");
        assert_eq!(data(&evs), ["a\nb", "c", "d", "e"]);
    }

    #[test]
    fn cr_then_cr_is_two_line_ends_even_across_pushes() {
        // CR ends the line; the second CR is a blank line (dispatch), not part of a CRLF.
        let evs = parse_all(&[b"data: a\r", b"\r", b"data: b\n\n"]);
        assert_eq!(data(&evs), ["a", "b"]);
    }

    #[test]
    fn crlf_split_does_not_produce_an_extra_blank_line() {
        // If the LF after a pushed-off CR were a blank line, "a" and "b" would be two events.
        let evs = parse_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        assert_eq!(data(&evs), ["a\nb"]);
    }

    #[test]
    fn empty_pushes_keep_a_pending_cr() {
        let evs = parse_all(&[b"data: a\r", b"", b"", b"\ndata: b\n\n"]);
        assert_eq!(data(&evs), ["a\nb"]);
    }

    #[test]
    fn utf8_split_across_pushes() {
        let bytes = "data: héllo 😀\n\n".as_bytes();
        let evs = all_splits(bytes);
        assert_eq!(evs[0].data, "héllo 😀");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_a_panic() {
        let evs = all_splits(b"data: a\xff\xfeb\xe2\x82\n\nevent: \xc3\ndata: \xf0\x9f\x98\n\n");
        assert_eq!(evs[0].data, "a\u{fffd}\u{fffd}b\u{fffd}");
        assert_eq!(evs[1].event.as_deref(), Some("\u{fffd}"));
        assert_eq!(evs[1].data, "\u{fffd}");
    }

    #[test]
    fn bom_is_skipped_only_at_stream_start() {
        let evs = all_splits(b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\ndata: c\n\n");
        // The second BOM makes the field name "\u{feff}data", which is unknown and ignored.
        assert_eq!(data(&evs), ["a", "c"]);
        let evs = all_splits(b"\xEF\xBB\xBF\n\xEF\xBB\xBFdata: x\n\n");
        assert!(evs.is_empty(), "{evs:?}");
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let evs = all_splits(b": ping\n:\nfoo: bar\nfoo\ndata: x\n: inside\n\n");
        assert_eq!(data(&evs), ["x"]);
    }

    #[test]
    fn one_leading_space_is_dropped_and_no_more() {
        let evs = all_splits(b"data:x\n\ndata: x\n\ndata:  x\n\ndata:x:y\n\n");
        assert_eq!(data(&evs), ["x", "x", " x", "x:y"]);
    }

    #[test]
    fn field_without_colon_has_an_empty_value() {
        let evs = all_splits(b"data\ndata\n\ndata\n\nevent\ndata: x\n\n");
        assert_eq!(data(&evs), ["\n", "", "x"]);
        assert_eq!(evs[2].event, None);
    }

    #[test]
    fn block_without_data_dispatches_nothing_and_forgets_its_event() {
        let evs = all_splits(b"event: ping\n\ndata: x\n\nevent: e\nid: 1\n\n\n\n");
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].event, None);
        assert_eq!(evs[0].data, "x");
    }

    #[test]
    fn id_persists_and_nul_ids_are_ignored() {
        let evs = all_splits(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\0\ndata: c\n\nid\ndata: d\n\n");
        let ids: Vec<_> = evs.iter().map(|e| e.id.as_deref()).collect();
        assert_eq!(ids, [Some("1"), Some("1"), Some("1"), Some("")]);
    }

    #[test]
    fn retry_takes_only_ascii_digits() {
        let mut p = SseParser::default();
        p.push(b"retry: 1500\n", |_| {});
        assert_eq!(p.retry(), Some(1500));
        for bad in [
            &b"retry: 15x\n"[..],
            b"retry: -1\n",
            b"retry:\n",
            b"retry: 99999999999999999999999\n",
            b"retry:  20\n",
        ] {
            p.push(bad, |_| {});
            assert_eq!(p.retry(), Some(1500), "{}", String::from_utf8_lossy(bad));
        }
        p.push(b"retry:0\n\n", |_| panic!("retry alone is not an event"));
        assert_eq!(p.retry(), Some(0));
    }

    #[test]
    fn last_event_without_blank_line_is_dispatched() {
        assert_eq!(
            data(&all_splits(b"data: a\n\ndata: [DONE]\n")),
            ["a", "[DONE]"]
        );
        assert_eq!(
            data(&all_splits(b"data: a\n\ndata: [DONE]")),
            ["a", "[DONE]"]
        );
        assert_eq!(data(&all_splits(b"data: a\r\ndata: b\r")), ["a\nb"]);
        // Nothing left to dispatch: a trailing event line without data.
        assert_eq!(data(&all_splits(b"data: a\n\nevent: x\n")), ["a"]);
    }

    #[test]
    fn line_cut_mid_json_reaches_the_decoder() {
        let evs = all_splits(b"data: {\"a\":1}\n\ndata: {\"choices\":[{\"del");
        assert_eq!(data(&evs), ["{\"a\":1}", "{\"choices\":[{\"del"]);
        assert!(serde_json::from_str::<serde_json::Value>(&evs[1].data).is_err());
    }

    #[test]
    fn finish_resets_for_a_new_stream() {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        p.push(b"event: e\ndata: a", |e| out.push(e));
        p.finish(|e| out.push(e));
        p.finish(|e| out.push(e));
        assert_eq!(out.len(), 1);
        p.push(b"\xEF\xBB\xBFdata: b\n\n", |e| out.push(e));
        assert_eq!(out[1].data, "b");
        assert_eq!(out[1].event, None);
    }

    #[test]
    fn long_line_across_many_pushes() {
        let payload = "x".repeat(10_000);
        let text = format!("data: {payload}\r\n\r\n");
        let pieces: Vec<&[u8]> = text.as_bytes().chunks(7).collect();
        let evs = parse_all(&pieces);
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].data, payload);
    }
}
