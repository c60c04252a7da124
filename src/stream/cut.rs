//! Cutting an SSE body at event boundaries without decoding it (sans-IO).
//!
//! A gateway forwarding an OpenAI-format stream writes each chunk as `data: {json}\n\n` with
//! the upstream's own JSON text ([`WireJson`](crate::types::WireJson)). When the upstream
//! already sent exactly those bytes, decoding the chunk only to write the same text again is
//! the whole cost of the stream. [`SseCutter`] finds the events of such a body with byte
//! searches, and tells apart:
//! - [`Cut::Plain`]: one event, `data: {…}\n\n`, whose JSON has every field of a chunk and
//!   none of the fields that make a gateway look at a chunk (a non-null `usage`, `error` or
//!   `finish_reason`, empty `choices`). Its bytes are what the gateway would write for it.
//! - [`Cut::Event`]: any other one-line `data:` event (`[DONE]`, usage, errors, the last
//!   chunk): decode it. [`Cut::Named`]: the same after one `event:` line (Anthropic's events).
//! - [`Cut::Raw`]: bytes in any other SSE shape (other fields, CR line ends, multi-line data, a
//!   byte-order mark, invalid UTF-8). The cutter stops there: these and all later bytes go to
//!   the [`SseParser`](crate::decode::SseParser), which is at an event boundary at that point.
//!
//! For the events it returns, the cutter agrees with the `SseParser`: a block `data: P\n\n`
//! (or `data:P\n\n`) at an event boundary is the event with data `P`; comment lines and blank
//! lines between events dispatch nothing. The JSON is not parsed: the scan follows strings and
//! brackets to find keys, which is enough to route every event that matters to the decoder.

use memchr::memchr2;

/// What the cutter found next (see the module docs).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cut<'a> {
    /// A whole event as sent (`data: P\n\n`), `payload` being `P`.
    Plain {
        /// The event's bytes, which are what a gateway writes for it.
        event: &'a [u8],
        /// Its JSON text (UTF-8).
        payload: &'a [u8],
    },
    /// The data of a one-line event that needs decoding.
    Event(&'a str),
    /// The same, after an `event:` line naming its type (not empty).
    Named {
        /// The type.
        event: &'a str,
        /// The data.
        data: &'a str,
    },
    /// Bytes for the `SseParser`; every later cut is raw too.
    Raw(&'a [u8]),
}

/// Incremental cutter: [`feed`](SseCutter::feed) bytes, take [`next`](SseCutter::next) cuts
/// until `None`, [`finish`](SseCutter::finish) at the end of the body.
#[derive(Debug, Default)]
pub(crate) struct SseCutter {
    buf: Vec<u8>,
    /// Start of what was not cut yet.
    pos: usize,
    /// How far past `pos` the current block was searched for its line end (a long event split
    /// over many reads is not searched again from its start on each one).
    searched: usize,
    raw: bool,
    /// Some bytes were cut (so a parser taking over is past the start of the stream).
    cut_any: bool,
    /// Tell plain events apart (else every one-line event is a [`Cut::Event`]): only a reader
    /// that forwards them needs to know, and the scan is not free.
    pub(crate) classify: bool,
    /// With `classify`: the plain events that follow one another are one [`Cut::Plain`], whose
    /// `event` holds them all and `payload` is the first one's (for a reader that forwards
    /// their bytes and reads no payload): one copy and one turn of its loop per run of events,
    /// not per event.
    pub(crate) runs: bool,
    /// The last plain payload with a `content` string, around that string's text.
    template: Template,
}

impl SseCutter {
    /// Adds body bytes (taken without a copy when nothing is left over from earlier ones).
    pub(crate) fn feed(&mut self, bytes: Vec<u8>) {
        if self.pos == self.buf.len() {
            self.buf = bytes;
            self.pos = 0;
        } else {
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            self.buf.extend_from_slice(&bytes);
        }
    }

    /// Whether a parser taking over from here is past the first line of the stream (a
    /// byte-order mark is only skipped before it).
    pub(crate) fn cut_any(&self) -> bool {
        self.cut_any
    }

    /// The next cut from the bytes fed so far; `None` when more bytes are needed.
    pub(crate) fn next(&mut self) -> Option<Cut<'_>> {
        loop {
            if self.pos == self.buf.len() {
                return None;
            }
            if self.raw {
                let start = self.pos;
                self.pos = self.buf.len();
                return Some(Cut::Raw(&self.buf[start..]));
            }
            let rest = &self.buf[self.pos..];
            match rest[0] {
                // A blank line between events dispatches nothing.
                b'\n' => {
                    self.advance(1);
                    continue;
                }
                // A comment line.
                b':' => match memchr2(b'\n', b'\r', rest) {
                    Some(i) if rest[i] == b'\n' => {
                        self.advance(i + 1);
                        continue;
                    }
                    Some(_) => return Some(self.go_raw()),
                    None => return None,
                },
                _ => {}
            }
            // An `event:` line may come first: Anthropic names every event.
            let mut name = None;
            let mut d = 0;
            if rest[0] == b'e' {
                if !b"event:".starts_with(&rest[..rest.len().min(6)]) {
                    return Some(self.go_raw());
                }
                let e = memchr2(b'\n', b'\r', rest)?;
                if e < 6 || rest[e] == b'\r' {
                    return Some(self.go_raw());
                }
                let at = 6 + usize::from(rest[6] == b' ');
                if std::str::from_utf8(&rest[at..e]).is_err() {
                    return Some(self.go_raw());
                }
                name = Some(at..e);
                d = e + 1;
            }
            let line = &rest[d..];
            if line.len() < 5 {
                return if b"data:".starts_with(line) {
                    None
                } else {
                    Some(self.go_raw())
                };
            }
            if &line[..5] != b"data:" {
                return Some(self.go_raw());
            }
            let from = self.searched.max(d + 5);
            let Some(i) = memchr2(b'\n', b'\r', &rest[from..]).map(|i| i + from) else {
                self.searched = rest.len();
                return None;
            };
            self.searched = i;
            if rest[i] == b'\r' {
                return Some(self.go_raw());
            }
            match rest.get(i + 1) {
                None => return None,
                // More lines in this event (multi-line data, an `id:`…): the parser's business.
                Some(&b) if b != b'\n' => return Some(self.go_raw()),
                Some(_) => {}
            }
            let spaced = rest[d + 5] == b' ';
            let data = d + 5 + usize::from(spaced)..i;
            // `is_plain` checks UTF-8 too. A named event is not what a gateway writes.
            let plain =
                self.classify && spaced && d == 0 && self.template.is_plain(&rest[data.clone()]);
            if !plain && std::str::from_utf8(&rest[data.clone()]).is_err() {
                // The parser replaces invalid sequences.
                return Some(self.go_raw());
            }
            let start = self.pos;
            self.advance(i + 2);
            if plain && self.runs {
                while let Some(n) = self.plain_at(self.pos) {
                    self.advance(n);
                }
            }
            let event = &self.buf[start..self.pos];
            let payload = &event[data];
            // Checked above; the bytes are the same.
            let text = |b| std::str::from_utf8(b).unwrap_or_default();
            return Some(match name {
                _ if plain => Cut::Plain { event, payload },
                // An empty type is the default one, as the parser reports it.
                Some(name) if !name.is_empty() => Cut::Named {
                    event: text(&event[name]),
                    data: text(payload),
                },
                _ => Cut::Event(text(payload)),
            });
        }
    }

    /// End of the body: what is left (an unfinished event) goes to the parser, which knows
    /// how to end a stream cut mid-event.
    pub(crate) fn finish(&mut self) -> Option<&[u8]> {
        let rest = &self.buf[self.pos..];
        self.pos = self.buf.len();
        self.searched = 0;
        (!rest.is_empty()).then_some(rest)
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.searched = 0;
        self.cut_any = true;
    }

    /// The length of the event at `at` if it is a whole plain one (`data: P\n\n`, what
    /// [`next`](SseCutter::next) cuts as [`Cut::Plain`]); `None` for anything else, which
    /// `next` then cuts as usual.
    fn plain_at(&mut self, at: usize) -> Option<usize> {
        let rest = &self.buf[at..];
        if !rest.starts_with(b"data: ") {
            return None;
        }
        // The template's head is the start of a one-line payload (no CR or LF in it), so when
        // the event starts with it the line end is further on.
        let head = &self.template.head;
        let from = match rest.get(6..6 + head.len()) {
            Some(h) if self.template.set && same(h, head) => 6 + head.len(),
            _ => 6,
        };
        if from > 6 {
            // When the text and the template's tail follow the head and the event ends right
            // after them, the payload fits the template: its line end is known without
            // searching for it, and the head is not compared again.
            if let Some(n) = self.template.text_then_tail(&rest[from..]) {
                if rest.get(from + n..from + n + 2) == Some(b"\n\n") {
                    return Some(from + n + 2);
                }
            }
        }
        let i = memchr2(b'\n', b'\r', &rest[from..])? + from;
        if rest[i] != b'\n' || rest.get(i + 1) != Some(&b'\n') {
            return None;
        }
        self.template.is_plain(&rest[6..i]).then_some(i + 2)
    }

    fn go_raw(&mut self) -> Cut<'_> {
        self.raw = true;
        let start = self.pos;
        self.pos = self.buf.len();
        Cut::Raw(&self.buf[start..])
    }
}

/// A plain payload cut around the text of its `content` string: `head` ends with the string's
/// opening quote, `tail` starts with its closing one.
///
/// The chunks of one stream differ, as a rule, only in that text. A payload that is `head`, a
/// valid string text, then `tail` reads, to the scan in [`is_plain`], as the template's payload
/// did: the scan's state at the end of `head` is the same (inside that string), the text keeps
/// it there and ends no escape early, so `tail` is read from the same state too. Its keys and
/// every value outside the string are the template's, so it is plain. Comparing two slices and
/// checking the text costs a fraction of the scan (bench/FINDINGS.md: the scan was most of the
/// cutter's CPU per stream).
#[derive(Debug, Default)]
struct Template {
    head: Vec<u8>,
    tail: Vec<u8>,
    set: bool,
}

impl Template {
    /// [`is_plain`], through the template when `p` fits it; a payload that does not fit and is
    /// plain becomes the template.
    fn is_plain(&mut self, p: &[u8]) -> bool {
        if self.fits(p) {
            return true;
        }
        match plain_scan(p) {
            None => false,
            Some(hole) => {
                if let Some((start, end)) = hole {
                    self.head.clear();
                    self.head.extend_from_slice(&p[..start]);
                    self.tail.clear();
                    self.tail.extend_from_slice(&p[end..]);
                    self.set = true;
                }
                true
            }
        }
    }

    /// With `rest` the bytes after the head, the length of the text and the template's tail
    /// after it (`None` if the tail does not follow the text): the text runs to its first
    /// quote that is not escaped, has no escape running past it, no line end (a payload is one
    /// line) and is UTF-8.
    fn text_then_tail(&self, rest: &[u8]) -> Option<usize> {
        let mut ascii = true;
        let mut i = 0;
        let q = loop {
            match *rest.get(i)? {
                b'"' => break i,
                b'\\' => {
                    // The escaped byte is skipped, so it must be ASCII for the UTF-8 promise.
                    if matches!(rest.get(i + 1)?, b'\n' | b'\r' | 0x80..) {
                        return None;
                    }
                    i += 2;
                }
                b'\n' | b'\r' => return None,
                b => {
                    ascii &= b < 0x80;
                    i += 1;
                }
            }
        };
        let end = q + self.tail.len();
        if !same(rest.get(q..end)?, &self.tail) {
            return None;
        }
        (ascii || std::str::from_utf8(&rest[..q]).is_ok()).then_some(end)
    }

    fn fits(&self, p: &[u8]) -> bool {
        let h = self.head.len();
        self.set
            && p.len() >= h
            && same(&p[..h], &self.head)
            && self.text_then_tail(&p[h..]) == Some(p.len() - h)
    }
}

/// `a == b`, eight bytes at a time. Slice equality is a loop over single bytes in wasm
/// (compiler-builtins' `memcmp`), and comparing each chunk's head with the template's was the
/// largest part of the Worker's CPU for forwarding a stream's plain events (a 100-chunk stream:
/// `Template::is_plain` 3.9 % of the samples in `bench/profile-worker.mjs --mode sse`, 0.9 %
/// with this).
///
/// A plain loop over `split_first_chunk`: at `opt-level = "z"` an iterator version kept its
/// iterators on the stack.
fn same(mut a: &[u8], mut b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    while let (Some((x, ra)), Some((y, rb))) = (a.split_first_chunk(), b.split_first_chunk()) {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return false;
        }
        (a, b) = (ra, rb);
    }
    a == b
}

const ID: u8 = 1;
const OBJECT: u8 = 2;
const CREATED: u8 = 4;
const MODEL: u8 = 8;
const CHOICES: u8 = 16;
const WHOLE: u8 = ID | OBJECT | CREATED | MODEL | CHOICES;

fn skip_ws(p: &[u8], mut i: usize) -> usize {
    while i < p.len() && matches!(p[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Whether `p` (one JSON object) is a chunk that a gateway forwards as it is: it has `id`,
/// `object`, `created`, `model` and a non-empty `choices` at the top level, no non-null
/// `usage`, `error` or `finish_reason` at any depth, and is UTF-8. Conservative: a key written
/// with escapes, unbalanced brackets or an unterminated string make it not plain (the decoder
/// then decides).
///
/// One loop over the bytes: `memchr` per string costs more than it saves on the short strings
/// of a chunk (its setup per call, and no SIMD in wasm).
#[cfg(test)]
fn is_plain(p: &[u8]) -> bool {
    plain_scan(p).is_some()
}

/// [`is_plain`]'s scan: `None` when not plain, else where the text of the first `content`
/// string is (the bytes between its quotes), if there is one.
fn plain_scan(p: &[u8]) -> Option<Option<(usize, usize)>> {
    if p.first() != Some(&b'{') || p.last() != Some(&b'}') {
        return None;
    }
    // Where the first `content` string's opening quote is, then its text.
    let mut hole_quote = usize::MAX;
    let mut hole = None;
    let n = p.len();
    let mut depth = 0u32;
    let mut seen = 0u8;
    let mut ascii = true;
    let mut i = 0;
    while i < n {
        let b = p[i];
        i += 1;
        match b {
            b'"' => {
                let start = i;
                let mut escaped = false;
                loop {
                    let &c = p.get(i)?;
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => {
                            escaped = true;
                            // The escaped byte is skipped: counted for the UTF-8 check.
                            ascii &= p.get(i).is_some_and(|c| *c < 0x80);
                            i += 1;
                        }
                        0x80.. => ascii = false,
                        _ => {}
                    }
                }
                if start - 1 == hole_quote {
                    hole = Some((start, i - 1));
                }
                let colon = skip_ws(p, i);
                if colon >= n || p[colon] != b':' {
                    continue;
                }
                if escaped {
                    // `"us\u0061ge"` is `usage` to a JSON reader.
                    return None;
                }
                let at = skip_ws(p, colon + 1);
                let value = &p[at..];
                match &p[start..i - 1] {
                    b"usage" | b"error" | b"finish_reason" if !value.starts_with(b"null") => {
                        return None;
                    }
                    b"content" if hole.is_none() && value.first() == Some(&b'"') => {
                        hole_quote = at;
                    }
                    _ if depth != 1 => {}
                    b"id" => seen |= ID,
                    b"object" => seen |= OBJECT,
                    b"created" => seen |= CREATED,
                    b"model" => seen |= MODEL,
                    b"choices" => {
                        if value.first() != Some(&b'[')
                            || value.get(skip_ws(value, 1)) == Some(&b']')
                        {
                            return None;
                        }
                        seen |= CHOICES;
                    }
                    _ => {}
                }
                i = colon + 1;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return None;
                }
                depth -= 1;
                if depth == 0 && i != n {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0 && seen == WHOLE && (ascii || std::str::from_utf8(p).is_ok())).then_some(hole)
}

/// Whether `data` is the `[DONE]` sentinel, as the decoders read it (surrounding whitespace
/// trimmed).
pub(crate) fn is_done(data: &str) -> bool {
    data.trim() == "[DONE]"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{deframe, Frame, Framing, SseParser};

    /// Frames as a reader using the cutter sees them: cut events, then the parser for raw bytes.
    fn through_cutter(pieces: &[&[u8]]) -> (Vec<Frame>, Vec<u8>) {
        through_cutter_with(pieces, false)
    }

    /// [`through_cutter`], the cutter cutting runs of plain events or not.
    fn through_cutter_with(pieces: &[&[u8]], runs: bool) -> (Vec<Frame>, Vec<u8>) {
        let mut cutter = SseCutter {
            classify: true,
            runs,
            ..SseCutter::default()
        };
        let mut parser: Option<SseParser> = None;
        let mut frames = Vec::new();
        let mut plain = Vec::new();
        let to_parser = |parser: &mut Option<SseParser>,
                         bytes: &[u8],
                         cut_any: bool,
                         frames: &mut Vec<Frame>| {
            let p = parser.get_or_insert_with(|| {
                if cut_any {
                    SseParser::mid_stream()
                } else {
                    SseParser::default()
                }
            });
            p.push(bytes, |e| frames.push(e.into()));
        };
        for piece in pieces {
            cutter.feed(piece.to_vec());
            loop {
                let cut_any = cutter.cut_any();
                match cutter.next() {
                    None => break,
                    Some(Cut::Plain { event, payload }) => {
                        let payload = std::str::from_utf8(payload).unwrap();
                        let text = std::str::from_utf8(event).unwrap();
                        let events: Vec<&str> = text
                            .strip_suffix("\n\n")
                            .unwrap()
                            .split("\n\n")
                            .map(|e| e.strip_prefix("data: ").unwrap())
                            .collect();
                        assert_eq!(events[0], payload);
                        assert!(runs || events.len() == 1, "a run without runs");
                        plain.extend_from_slice(event);
                        for data in events {
                            frames.push(Frame {
                                event: None,
                                data: data.into(),
                            });
                        }
                    }
                    Some(Cut::Event(data)) => frames.push(Frame {
                        event: None,
                        data: data.into(),
                    }),
                    Some(Cut::Named { event, data }) => frames.push(Frame {
                        event: Some(event.into()),
                        data: data.into(),
                    }),
                    Some(Cut::Raw(bytes)) => {
                        let bytes = bytes.to_vec();
                        to_parser(&mut parser, &bytes, cut_any, &mut frames)
                    }
                }
            }
        }
        let cut_any = cutter.cut_any();
        if let Some(rest) = cutter.finish() {
            let rest = rest.to_vec();
            to_parser(&mut parser, &rest, cut_any, &mut frames);
        }
        if let Some(p) = &mut parser {
            p.finish(|e| frames.push(e.into()));
        }
        (frames, plain)
    }

    /// The cutter plus the parser read what the parser alone reads, however the body is split
    /// (every 2-piece split and 1-byte pieces), and forward the same plain events.
    fn agrees(bytes: &[u8]) -> (Vec<Frame>, Vec<u8>) {
        let want = deframe(Framing::Sse, [bytes]).unwrap();
        let whole = through_cutter(&[bytes]);
        assert_eq!(whole.0, want, "{}", String::from_utf8_lossy(bytes));
        for i in 0..=bytes.len() {
            assert_eq!(
                through_cutter(&[&bytes[..i], &bytes[i..]]),
                whole,
                "split at {i}"
            );
        }
        let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(through_cutter(&bytewise), whole, "1-byte pieces");
        // Runs of plain events read the same too.
        assert_eq!(through_cutter_with(&[bytes], true), whole, "runs");
        for i in 0..=bytes.len() {
            assert_eq!(
                through_cutter_with(&[&bytes[..i], &bytes[i..]], true),
                whole,
                "runs, split at {i}"
            );
        }
        assert_eq!(
            through_cutter_with(&bytewise, true),
            whole,
            "runs, 1-byte pieces"
        );
        whole
    }

    const C1: &str = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"},"logprobs":null,"finish_reason":null}]}"#;
    const C2: &str = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"content":"usage \"error\": {}"},"finish_reason":null}],"usage":null}"#;
    const LAST: &str = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;

    #[test]
    fn plain_chunks_are_cut_as_sent_and_the_rest_is_decoded() {
        let body =
            format!("data: {C1}\n\ndata: {C2}\n\n: keep-alive\n\ndata: {LAST}\n\ndata: [DONE]\n\n");
        let (frames, plain) = agrees(body.as_bytes());
        assert_eq!(frames.len(), 4);
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            format!("data: {C1}\n\ndata: {C2}\n\n")
        );
    }

    #[test]
    fn other_shapes_go_to_the_parser_from_their_event_on() {
        for tail in [
            "event: error\ndata: {\"error\":{\"message\":\"x\"}}\n\n",
            "data: {\"a\":1}\r\n\r\n",
            "data: {\"a\":\ndata: 1}\n\n",
            "id: 7\ndata: x\n\n",
            "\u{feff}data: x\n\n",
            "data: x\rdata: y\r\r",
            ": comment\r\ndata: z\n\n",
            "retry: 5\n\n",
            "dat",
            "data: [DONE]\n",
            "data: [DONE]",
            "data:",
            "\n\n\n",
        ] {
            let body = format!("data: {C1}\n\n{tail}data: {C2}\n\n");
            agrees(body.as_bytes());
            let body = format!("{tail}data: {C1}\n\n");
            agrees(body.as_bytes());
        }
        agrees(b"data: a\xff\n\ndata: b\n\n");
        // UTF-8 in a chunk's strings is forwarded; invalid bytes go to the parser (it replaces them).
        let accented = C1.replace("\"a\"", "\"h\u{e9}llo \u{1f600}\"");
        let (_, plain) = agrees(format!("data: {accented}\n\n").as_bytes());
        assert_eq!(plain, format!("data: {accented}\n\n").into_bytes());
        let mut broken = format!("data: {C1}\n\n").into_bytes();
        let at = broken.windows(3).position(|w| w == b"\"a\"").unwrap() + 1;
        broken.insert(at + 1, 0xff);
        let (frames, plain) =
            agrees(&[broken.clone(), format!("data: {C1}\n\n").into_bytes()].concat());
        assert!(
            plain.is_empty() && frames[0].data.contains('\u{fffd}'),
            "{frames:?}"
        );
        agrees("\u{feff}data: x\n\n".as_bytes());
        agrees(b"");
    }

    #[test]
    fn the_parsers_own_corpus_reads_the_same() {
        for bytes in [
            &b"data: a\rdata: b\n\ndata: c\r\n\r\ndata: d\r\rdata: e\n\r\n"[..],
            "data: héllo 😀\n\n".as_bytes(),
            b"data: a\xff\xfeb\xe2\x82\n\nevent: \xc3\ndata: \xf0\x9f\x98\n\n",
            b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\ndata: c\n\n",
            b": ping\n:\nfoo: bar\nfoo\ndata: x\n: inside\n\n",
            b"data:x\n\ndata: x\n\ndata:  x\n\ndata:x:y\n\n",
            b"data\ndata\n\ndata\n\nevent\ndata: x\n\n",
            b"event: ping\n\ndata: x\n\nevent: e\nid: 1\n\n\n\n",
            b"data: a\n\ndata: [DONE]\n",
            b"data: a\r\ndata: b\r",
            b"data: {\"a\":1}\n\ndata: {\"choices\":[{\"del",
        ] {
            agrees(bytes);
        }
    }

    #[test]
    fn named_events_are_cut_with_their_type() {
        let delta =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}"#;
        let body = format!(
            "event: message_start\ndata: {{\"type\":\"message_start\"}}\n\n\
             event: content_block_delta\ndata: {delta}\n\n: ping\n\nevent:ping\ndata:{{}}\n\n\
             event: \ndata: x\n\nevent:\ndata: y\n\nevent: a:b\ndata: {C1}\n\ndata: {C1}\n\n"
        );
        let (frames, plain) = agrees(body.as_bytes());
        assert_eq!(frames.len(), 7);
        assert_eq!(plain, format!("data: {C1}\n\n").into_bytes());
        let mut cutter = SseCutter::default();
        cutter.feed(body.into_bytes());
        assert_eq!(
            cutter.next(),
            Some(Cut::Named {
                event: "message_start",
                data: r#"{"type":"message_start"}"#
            })
        );
        assert_eq!(
            cutter.next(),
            Some(Cut::Named {
                event: "content_block_delta",
                data: delta
            })
        );
        // Every event of this body is cut: none goes to the parser.
        while let Some(cut) = cutter.next() {
            assert!(!matches!(cut, Cut::Raw(_)), "{cut:?}");
        }
        // Shapes the parser reads otherwise, or that need it, go to it from there on.
        for tail in [
            "event: a\r\ndata: x\n\n",
            "event: a\ndata: x\r\n\r\n",
            "event: a\n\ndata: x\n\n",
            "event: a\nevent: b\ndata: x\n\n",
            "event: a\n: c\ndata: x\n\n",
            "event: a\ndata: x\ndata: y\n\n",
            "event: a\ndata: x\nid: 1\n\n",
            "event\ndata: x\n\n",
            "events: a\ndata: x\n\n",
            "even",
            "event: a",
            "event: a\nda",
            "event: a\ndata: x\n",
        ] {
            agrees(format!("{tail}data: {C1}\n\n").as_bytes());
            agrees(format!("event: e\ndata: {C1}\n\n{tail}").as_bytes());
        }
        agrees(b"event: \xc3\ndata: x\n\nevent: a\ndata: \xff\n\n");
    }

    #[test]
    fn without_classify_every_line_event_is_decoded() {
        let mut cutter = SseCutter::default();
        cutter.feed(format!("data: {C1}\n\ndata: [DONE]\n\n").into_bytes());
        assert_eq!(cutter.next(), Some(Cut::Event(C1)));
        cutter.classify = true;
        assert_eq!(cutter.next(), Some(Cut::Event("[DONE]")));
        cutter.feed(format!("data: {C1}\n\n").into_bytes());
        assert!(matches!(cutter.next(), Some(Cut::Plain { .. })));
        assert_eq!(cutter.next(), None);
    }

    #[test]
    fn what_is_plain() {
        assert!(is_plain(C1.as_bytes()));
        assert!(is_plain(C2.as_bytes()));
        let spaced = r#"{ "id" : "c", "object":"x", "created" : 1, "model":"m", "choices" : [ {"finish_reason" : null} ], "error": null }"#;
        assert!(is_plain(spaced.as_bytes()));
        for not in [
            LAST,
            // Missing fields: serializing adds defaults.
            r#"{"id":"c","created":1,"model":"m","choices":[{"index":0}]}"#,
            r#"{"object":"x","created":1,"model":"m","choices":[{"index":0}]}"#,
            r#"{"id":"c","object":"x","created":1,"choices":[{"index":0}]}"#,
            // A field of a nested object does not count.
            r#"{"id":"c","object":"x","created":1,"choices":[{"index":0,"model":"m"}]}"#,
            // Empty choices (usage-only, Azure's filter results).
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[ ]}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":null}"#,
            // Anything that makes a gateway look: usage, errors, finish reasons (also "").
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0}],"usage":{}}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0}],"error":"x"}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0,"finish_reason":""}]}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"delta":{"error":{}}}]}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0}],"us\u0061ge":{}}"#,
            // Not one object.
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0}]}{}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0}]]}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0}],"x":"}"#,
            r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"index":0}],"x":"\"}"#,
            "[DONE]",
            "",
            "{",
        ] {
            assert!(!is_plain(not.as_bytes()), "{not}");
        }
    }

    #[test]
    fn the_template_reads_what_the_scan_reads() {
        let texts: Vec<Vec<u8>> = [
            "b",
            "",
            "hello world",
            "\\\"",
            "\\\\",
            "\\n\\u00e9",
            "h\u{e9}llo \u{1f600}",
            "\"",
            "a\\",
            "\\",
            "a\"b",
            "\",\"usage\":{\"x\":1},\"y\":\"",
            "\"}],\"usage\":{}}",
            "\\\"},\"finish_reason\":\"stop",
            "x\"}]}{\"a\":\"",
        ]
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .chain([b"a\xffb".to_vec(), b"\xe2\x82".to_vec()])
        .collect();
        let with = |text: &[u8]| {
            let (head, tail) = C1.split_once("\"a\"").unwrap();
            [head.as_bytes(), b"\"", text, b"\"", tail.as_bytes()].concat()
        };
        let others = [
            C1.replace("\"id\":\"c\"", "\"id\":\"d\""),
            C1.replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
            C1.replace("\"model\":\"m\"", "\"mode\":\"m\""),
            C2.to_string(),
            LAST.to_string(),
        ];
        let mut fitted = 0;
        for text in texts
            .iter()
            .cloned()
            .chain(others.iter().map(|o| o.as_bytes().to_vec()))
        {
            let candidate = if text.starts_with(b"{") {
                text
            } else {
                with(&text)
            };
            let mut t = Template::default();
            assert!(t.is_plain(C1.as_bytes()));
            assert!(t.set);
            let fits = t.fits(&candidate);
            fitted += usize::from(fits);
            assert_eq!(
                t.is_plain(&candidate),
                is_plain(&candidate),
                "{}",
                String::from_utf8_lossy(&candidate)
            );
            if fits {
                assert!(is_plain(&candidate));
            }
        }
        // The content-only variations fit (the template is used, not only the scan).
        assert_eq!(fitted, 7);
    }

    #[test]
    fn a_new_shape_of_chunk_becomes_the_template() {
        let mut t = Template::default();
        assert!(t.is_plain(C1.as_bytes()));
        let c2 = C2.replace("usage \\\"error\\\": {}", "x");
        assert!(!t.fits(c2.as_bytes()));
        assert!(t.is_plain(c2.as_bytes()));
        assert!(t.fits(C2.as_bytes()));
        // A chunk without a `content` string keeps the template it had.
        let tool = r#"{"id":"c","object":"x","created":1,"model":"m","choices":[{"delta":{"tool_calls":[]}}]}"#;
        assert!(t.is_plain(tool.as_bytes()));
        assert!(t.fits(C2.as_bytes()));
    }

    #[test]
    fn same_compares_every_byte() {
        let a: Vec<u8> = (0..=40u8).collect();
        for n in 0..a.len() {
            assert!(same(&a[..n], &a[..n]));
            assert!(!same(&a[..n], &a[..n + 1]));
            for i in 0..n {
                let mut b = a[..n].to_vec();
                b[i] ^= 0x20;
                assert!(!same(&a[..n], &b), "{n} {i}");
            }
        }
    }

    #[test]
    fn plain_events_in_a_row_are_one_run() {
        let body = format!(
            "data: {C1}\n\ndata: {C2}\n\ndata: {C1}\n\ndata: {LAST}\n\ndata: {C1}\n\n\ndata: {C1}\n\ndata: [DONE]\n\n"
        );
        let mut cutter = SseCutter {
            classify: true,
            runs: true,
            ..SseCutter::default()
        };
        cutter.feed(body.into_bytes());
        let mut cuts = Vec::new();
        while let Some(cut) = cutter.next() {
            cuts.push(match cut {
                Cut::Plain { event, payload } => {
                    assert!(event.starts_with(b"data: ") && event[6..].starts_with(payload));
                    format!("plain {}", event.split(|&b| b == b'\n').count() / 2)
                }
                Cut::Event(data) if data == LAST => "last".into(),
                other => format!("{other:?}"),
            });
        }
        // The run stops at the event that needs decoding and at a blank line between events;
        // the plain event after either starts the next one.
        assert_eq!(
            cuts,
            ["plain 3", "last", "plain 1", "plain 1", "Event(\"[DONE]\")"]
        );
    }

    #[test]
    fn a_run_reads_each_text_after_the_template_as_the_scan_does() {
        // C1 sets the template; each variant differs only in its text (or right after it), so
        // a run reads it through `fits_after_head`, and must cut what the scan would.
        let with = |text: &str| C1.replace("\"a\"", &format!("\"{text}\""));
        let mut body = format!("data: {C1}\n\n");
        for text in [
            r#"b \"q\" \\"#,
            r"\n\r\t\u00e9",
            "h\u{e9}llo \u{1f600}",
            "",
            r"\\",
        ] {
            body += &format!("data: {}\n\n", with(text));
        }
        let (frames, plain) = agrees(body.as_bytes());
        assert_eq!(frames.len(), 6);
        assert_eq!(plain, body.as_bytes());
        for odd in [
            // A line end in the text: two lines, for the parser.
            format!("data: {}\n\n", with("a\nb")),
            format!("data: {}\n\n", with("a\\\nb")),
            format!("data: {}\n\n", with("a\rb")),
            // An unescaped quote ends the text early: the tail does not follow.
            format!("data: {}\n\n", with("a\"b")),
            // The event does not end right after the tail.
            format!("data: {C1} \n\n"),
            format!("data: {C1}\ndata: x\n\n"),
            format!("data: {C1}\r\n\r\n"),
            // A plain one with a different tail.
            format!("data: {}\n\n", C1.replace(r#""index":0"#, r#""index":1"#)),
        ] {
            agrees(format!("data: {C1}\n\n{odd}data: {C1}\n\n").as_bytes());
        }
        // Different tails that need decoding (the second as long as the template's): not plain.
        for odd in [
            LAST.to_string(),
            C1.replace(r#""finish_reason":null"#, r#""finish_reason":"stop""#),
            C1.replace(r#""finish_reason":null"#, r#""finish_reason":"st""#),
        ] {
            let body = format!("data: {C1}\n\ndata: {odd}\n\ndata: {C1}\n\n");
            let (frames, plain) = agrees(body.as_bytes());
            assert_eq!(frames[1].data, odd);
            assert_eq!(plain, format!("data: {C1}\n\ndata: {C1}\n\n").into_bytes());
        }
        let mut broken = format!("data: {C1}\n\ndata: {}\n\n", with("ab")).into_bytes();
        let at = broken.windows(4).position(|w| w == b"\"ab\"").unwrap() + 2;
        broken[at] = 0xff;
        let (frames, _) = agrees(&broken);
        assert!(frames[1].data.contains('\u{fffd}'), "{frames:?}");
    }

    #[test]
    fn an_invalid_byte_after_a_backslash_is_not_plain() {
        // The scans skip the byte after `\`; a non-ASCII one there must still reach the UTF-8
        // check, in the first chunk (the scan) and in a run after the template.
        for first in [true, false] {
            let mut body = format!("data: {C1}\n\n").into_bytes();
            let bad_at = if first { 0 } else { body.len() };
            if !first {
                body.extend_from_slice(format!("data: {C1}\n\n").as_bytes());
            }
            let at = bad_at
                + body[bad_at..]
                    .windows(3)
                    .position(|w| w == b"\"a\"")
                    .unwrap()
                + 1;
            body.splice(at..at + 1, [b'\\', 0xff]);
            let (frames, plain) = agrees(&body);
            let bad = frames.iter().find(|f| f.data.contains('\u{fffd}'));
            assert!(bad.is_some(), "{frames:?}");
            assert!(
                !plain.windows(2).any(|w| w == [b'\\', 0xff]),
                "forwarded as sent"
            );
        }
    }

    #[test]
    fn a_long_event_over_many_reads_is_searched_once() {
        let payload = format!(
            r#"{{"id":"c","object":"x","created":1,"model":"m","choices":[{{"delta":{{"content":"{}"}}}}]}}"#,
            "x".repeat(10_000)
        );
        let body = format!("data: {payload}\n\n");
        let mut cutter = SseCutter {
            classify: true,
            ..SseCutter::default()
        };
        let mut cuts = 0;
        for piece in body.as_bytes().chunks(7) {
            cutter.feed(piece.to_vec());
            while let Some(cut) = cutter.next() {
                assert!(matches!(cut, Cut::Plain { .. }));
                cuts += 1;
            }
            assert!(cutter.searched <= cutter.buf.len() - cutter.pos);
        }
        assert_eq!(cuts, 1);
        assert!(cutter.finish().is_none());
    }
}
