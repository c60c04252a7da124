//! Split-invariance of stream deframing: however the body arrives in pieces, the frames (and
//! the decoded chunks) are the same as from one piece.
//!
//! Streams: realistic OpenAI, Anthropic and Ollama bodies written inline below, plus every
//! `tests/fixtures/<provider>/<scenario>/upstream.stream` present when the test runs, framed by
//! its `upstream_response.json` content type. Each is fed split at every byte boundary (two
//! pieces), as 1-byte pieces, and split at seeded pseudo-random points.

use std::fs;
use std::path::{Path, PathBuf};

use edgellm::decode::{deframe, Frame, Framing};
use edgellm::http::BodyStream;
use edgellm::provider::openai_compat::OpenAiStream;
use edgellm::stream::ChatStream;
use edgellm::types::ChatChunk;
use futures_util::StreamExt;
use serde_json::Value;

/// Seeded pseudo-random multi-splits per stream.
const RANDOM_SPLITS: u64 = 200;

const OPENAI_TEXT: &str = concat!(
    ": keep-alive\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    "\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{"content":"Bonjour, ça va ? 😀 日本語"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
    "\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}"#,
    "\n\n",
    r#"data: {"id":"chatcmpl-A1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}"#,
    "\n\n",
    "data: [DONE]\n\n",
);

/// Parallel tool calls with interleaved argument pieces, CRLF line ends (as some proxies send).
const OPENAI_TOOLS_CRLF: &str = concat!(
    r#"data: {"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1727000001,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}"#,
    "\r\n\r\n",
    r#"data: {"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1727000001,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_def","type":"function","function":{"name":"get_time","arguments":""}}]},"finish_reason":null}]}"#,
    "\r\n\r\n",
    r#"data: {"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1727000001,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Zürich\"}"}}]},"finish_reason":null}]}"#,
    "\r\n\r\n",
    r#"data: {"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1727000001,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"tz\": \"CET\"}"}}]},"finish_reason":null}]}"#,
    "\r\n\r\n",
    r#"data: {"id":"chatcmpl-T1","object":"chat.completion.chunk","created":1727000001,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    "\r\n\r\n",
    "data: [DONE]\r\n\r\n",
);

/// Anthropic Messages streaming, shaped like the examples in Anthropic's streaming docs
/// (ping, thinking, text and tool_use blocks, `input_json_delta`).
const ANTHROPIC: &str = r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_01Xyz","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2}}}

event: ping
data: {"type": "ping"}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"L'utilisateur veut la météo…"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Okay, let's check the weather in 東京"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"Tokyo"}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}

"#;

/// Ollama `/api/chat` streaming (NDJSON), last line without its newline.
const OLLAMA: &str = concat!(
    r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":"The"},"done":false}"#,
    "\n",
    r#"{"model":"llama3.2","created_at":"2023-08-04T08:52:19.385406455-07:00","message":{"role":"assistant","content":" sky is blue — ☀"},"done":false}"#,
    "\r\n\n",
    r#"{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":282,"eval_duration":4535599000}"#,
);

/// splitmix64: a tiny seeded generator, enough for reproducible split points.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn deframe_pieces(framing: Framing, pieces: &[&[u8]]) -> Vec<Frame> {
    deframe(framing, pieces.iter().copied()).expect("recorded streams deframe without error")
}

/// Sorted, distinct cut points in `1..len`, up to `max` of them.
fn random_cuts(rng: &mut SplitMix, len: usize, max: usize) -> Vec<usize> {
    if len < 2 {
        return Vec::new();
    }
    let n = 1 + rng.below(max);
    let mut cuts: Vec<usize> = (0..n).map(|_| 1 + rng.below(len - 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

fn pieces_at<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &c in cuts {
        out.push(&bytes[start..c]);
        start = c;
    }
    out.push(&bytes[start..]);
    out
}

/// Asserts split-invariance of `bytes` under `framing` and returns the frames.
fn assert_split_invariant(name: &str, framing: Framing, bytes: &[u8]) -> Vec<Frame> {
    let whole = deframe_pieces(framing, &[bytes]);
    for i in 0..=bytes.len() {
        let got = deframe_pieces(framing, &[&bytes[..i], &bytes[i..]]);
        assert_eq!(got, whole, "{name}: split at byte {i}");
    }
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(
        deframe_pieces(framing, &bytewise),
        whole,
        "{name}: 1-byte pieces"
    );
    let seed = bytes.len() as u64 ^ 0x5EED;
    let mut rng = SplitMix(seed);
    for round in 0..RANDOM_SPLITS {
        let cuts = random_cuts(&mut rng, bytes.len(), 32);
        let got = deframe_pieces(framing, &pieces_at(bytes, &cuts));
        assert_eq!(
            got, whole,
            "{name}: seed {seed:#x} round {round}, cuts {cuts:?}"
        );
    }
    whole
}

fn body_of(pieces: Vec<Vec<u8>>) -> BodyStream {
    Box::pin(futures_util::stream::iter(pieces.into_iter().map(Ok)))
}

/// The whole pipeline (deframer + OpenAI decoder + ChatStream) over `pieces`.
fn openai_chunks(pieces: Vec<Vec<u8>>) -> Vec<ChatChunk> {
    let stream = ChatStream::from_body(
        body_of(pieces),
        Framing::Sse,
        Box::new(OpenAiStream::default()),
        true,
        "openai",
        "gpt-test",
    );
    futures_executor::block_on(stream.collect::<Vec<_>>())
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .expect("a complete recorded stream decodes without error")
}

fn data_of(frames: &[Frame]) -> Vec<&str> {
    frames.iter().map(|f| f.data.as_str()).collect()
}

#[test]
fn openai_text_stream_is_split_invariant() {
    let frames = assert_split_invariant("openai text", Framing::Sse, OPENAI_TEXT.as_bytes());
    assert_eq!(frames.len(), 5);
    assert_eq!(frames[4].data, "[DONE]");
    assert!(frames.iter().all(|f| f.event.is_none()));
    assert!(frames[1].data.contains("ça va ? 😀 日本語"));
}

#[test]
fn openai_tool_stream_with_crlf_is_split_invariant() {
    let frames = assert_split_invariant("openai tools", Framing::Sse, OPENAI_TOOLS_CRLF.as_bytes());
    assert_eq!(frames.len(), 6);
    assert!(frames.iter().all(|f| !f.data.contains('\r')));
    assert!(frames[2].data.contains("Zürich"));
}

#[test]
fn anthropic_stream_is_split_invariant() {
    let frames = assert_split_invariant("anthropic", Framing::Sse, ANTHROPIC.as_bytes());
    let events: Vec<_> = frames.iter().map(|f| f.event.as_deref().unwrap()).collect();
    assert_eq!(
        events,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    for f in &frames {
        let v: Value = serde_json::from_str(&f.data).expect("every data is JSON");
        assert_eq!(v["type"], f.event.as_deref().unwrap());
    }
}

#[test]
fn line_end_styles_give_the_same_frames() {
    let lf = assert_split_invariant("anthropic", Framing::Sse, ANTHROPIC.as_bytes());
    for (style, eol) in [("CRLF", "\r\n"), ("CR", "\r")] {
        let text = ANTHROPIC.replace('\n', eol);
        let frames =
            assert_split_invariant(&format!("anthropic {style}"), Framing::Sse, text.as_bytes());
        assert_eq!(frames, lf, "{style}");
    }
    // Multi-line data: a CRLF split between CR and LF must not end the event early.
    let multi = "event: e\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n";
    let frames = assert_split_invariant("multi-line CRLF", Framing::Sse, multi.as_bytes());
    assert_eq!(data_of(&frames), ["{\"a\":\n1}"]);
    assert_eq!(frames[0].event.as_deref(), Some("e"));
}

#[test]
fn ollama_ndjson_is_split_invariant() {
    let frames = assert_split_invariant("ollama", Framing::Ndjson, OLLAMA.as_bytes());
    assert_eq!(frames.len(), 3);
    for f in &frames {
        serde_json::from_str::<Value>(&f.data).expect("every line is JSON");
    }
    assert!(frames[1].data.ends_with("\"done\":false}"));
    assert!(data_of(&frames)[2].contains("\"done\":true"));
}

#[test]
fn openai_chunks_do_not_depend_on_body_pieces() {
    for (name, text) in [("text", OPENAI_TEXT), ("tools", OPENAI_TOOLS_CRLF)] {
        let bytes = text.as_bytes();
        let whole = openai_chunks(vec![bytes.to_vec()]);
        assert!(whole.len() >= 4, "{name}");
        let bytewise = openai_chunks(bytes.chunks(1).map(<[u8]>::to_vec).collect());
        assert_eq!(bytewise, whole, "{name}: 1-byte pieces");
        let mut rng = SplitMix(0xC0FFEE);
        for round in 0..50 {
            let cuts = random_cuts(&mut rng, bytes.len(), 16);
            let pieces = pieces_at(bytes, &cuts)
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            assert_eq!(openai_chunks(pieces), whole, "{name}: round {round}");
        }
    }
}

#[test]
fn bom_and_comment_prefixed_streams_are_split_invariant() {
    let mut bytes = b"\xEF\xBB\xBF: hello\r\n\r\nretry: 3000\r\n".to_vec();
    bytes.extend_from_slice(OPENAI_TEXT.as_bytes());
    let frames = assert_split_invariant("bom", Framing::Sse, &bytes);
    assert_eq!(frames.len(), 5);
}

#[test]
fn invalid_utf8_streams_are_split_invariant() {
    let bytes = b"data: \xff\xfe ok \xe6\x97\n\ndata: \xf0\x9f\x98\x80\xf0\x9f\n\n";
    let frames = assert_split_invariant("invalid utf-8", Framing::Sse, bytes);
    assert_eq!(
        data_of(&frames),
        ["\u{fffd}\u{fffd} ok \u{fffd}", "😀\u{fffd}"]
    );
    let frames = assert_split_invariant("invalid utf-8 ndjson", Framing::Ndjson, &bytes[6..]);
    assert_eq!(frames.len(), 2);
}

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every `<provider>/<scenario>/upstream.stream`, sorted.
fn fixture_streams() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in fs::read_dir(fixtures_root())
        .into_iter()
        .flatten()
        .flatten()
    {
        for s in fs::read_dir(p.path()).into_iter().flatten().flatten() {
            let f = s.path().join("upstream.stream");
            if f.is_file() {
                out.push(f);
            }
        }
    }
    out.sort();
    out
}

/// The framing a fixture declares through its response content type.
fn fixture_framing(stream: &Path, bytes: &[u8]) -> Framing {
    let resp = stream.with_file_name("upstream_response.json");
    let declared = fs::read(&resp)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| {
            // A retry scenario queues several replies; the streamed one is the last.
            let v = match v {
                Value::Array(mut a) => a.pop()?,
                v => v,
            };
            let headers = v.get("headers")?.as_object()?.clone();
            headers.into_iter().find_map(|(k, v)| {
                k.eq_ignore_ascii_case("content-type")
                    .then(|| v.as_str().map(str::to_ascii_lowercase))
                    .flatten()
            })
        });
    match declared.as_deref() {
        Some(ct) if ct.contains("event-stream") && !ct.contains("amazon") => Framing::Sse,
        Some(ct) if ct.contains("ndjson") || ct.contains("jsonl") => Framing::Ndjson,
        Some(ct) if ct.contains("amazon.eventstream") => Framing::AwsEventStream,
        // Undeclared: text that starts like JSON is NDJSON, other text is SSE.
        _ if std::str::from_utf8(bytes).is_err() => Framing::AwsEventStream,
        _ if bytes.trim_ascii_start().starts_with(b"{") => Framing::Ndjson,
        _ => Framing::Sse,
    }
}

#[test]
fn every_fixture_stream_is_split_invariant() {
    let streams = fixture_streams();
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    for path in &streams {
        let bytes = fs::read(path).unwrap();
        let name = path
            .strip_prefix(fixtures_root())
            .unwrap_or(path)
            .display()
            .to_string();
        let framing = fixture_framing(path, &bytes);
        let frames = assert_split_invariant(&name, framing, &bytes);
        assert!(
            !frames.is_empty() || bytes.is_empty(),
            "{name}: no frames from {} bytes",
            bytes.len()
        );
        *checked.entry(format!("{framing:?}")).or_default() += 1;
    }
    eprintln!("{} fixture streams checked: {checked:?}", streams.len());
}
