//! The price table: `prices.tsv` (embedded), plus models registered at run time.
//!
//! Rows are keyed `provider/model` with the model as the provider knows it
//! (`openai/gpt-4o`, `bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0`). Prices are parsed from
//! decimal text straight into integer pico-dollars, so no float ever touches the table.
//!
//! The embedded text is never parsed whole: its data lines are sorted by key (bytewise;
//! `gen_prices.py` writes them so and [`builtin_errors`] checks it), and a lookup walks its
//! provider's rows for the key's line and parses that one row. Parsing all ~1000 rows into a map on
//! first use cost most of a cold process's first call (and every Worker isolate's first
//! request); a table of Rust structs would have made the wasm several times bigger than the
//! gzipped text. What ships is a compact form of the file made at compile time (`COMPACT`):
//! rows grouped by provider, without the comments, each model coded against the one before.

use std::cell::RefCell;
use std::sync::RwLock;

use serde_json::{Map, Value};

use super::money::Usd;
use crate::provider::registry;
use crate::str_map::StrMap;
use crate::types::Put;
use crate::{Error, ErrorKind, Result};

const PRICES_TSV: &str = include_str!("prices.tsv");

/// Where the data lines of [`PRICES_TSV`] begin: after the `#` comments and the header line.
/// Computed at compile time, so a lookup starts searching at once.
const DATA_START: usize = data_start(PRICES_TSV.as_bytes());

/// The offset just past the first line that is not a `#` comment (the header), or the end.
const fn data_start(text: &[u8]) -> usize {
    let mut i = 0;
    while i < text.len() {
        let header = text[i] != b'#';
        while i < text.len() && text[i] != b'\n' {
            i += 1;
        }
        i += 1; // past the newline
        if header {
            return if i < text.len() { i } else { text.len() };
        }
    }
    text.len()
}

/// What kind of endpoint a model serves (LiteLLM's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Chat completions.
    Chat,
    /// Legacy text completions.
    Completion,
    /// Embeddings.
    Embedding,
    /// Image generation.
    ImageGeneration,
    /// Speech to text.
    AudioTranscription,
    /// Text to speech.
    AudioSpeech,
    /// Moderation.
    Moderation,
    /// Reranking.
    Rerank,
}

impl Mode {
    /// LiteLLM's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Chat => "chat",
            Mode::Completion => "completion",
            Mode::Embedding => "embedding",
            Mode::ImageGeneration => "image_generation",
            Mode::AudioTranscription => "audio_transcription",
            Mode::AudioSpeech => "audio_speech",
            Mode::Moderation => "moderation",
            Mode::Rerank => "rerank",
        }
    }

    /// Parses LiteLLM's name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "chat" | "responses" => Mode::Chat,
            "completion" => Mode::Completion,
            "embedding" => Mode::Embedding,
            "image_generation" => Mode::ImageGeneration,
            "audio_transcription" => Mode::AudioTranscription,
            "audio_speech" => Mode::AudioSpeech,
            "moderation" | "moderations" => Mode::Moderation,
            "rerank" => Mode::Rerank,
            _ => return None,
        })
    }

    /// Whether calls in this mode are priced per token in and out.
    pub fn is_token_priced(self) -> bool {
        matches!(self, Mode::Chat | Mode::Completion | Mode::Embedding)
    }
}

/// Prices that replace the base ones for the whole call once the prompt is longer than
/// `above_tokens` (Gemini 2.5 Pro and Claude Sonnet 4's long-context rates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// The prompt size (tokens) above which the tier applies.
    pub above_tokens: u64,
    /// Per input token.
    pub input: Option<Usd>,
    /// Per output token.
    pub output: Option<Usd>,
    /// Per cached input token read.
    pub cache_read: Option<Usd>,
    /// Per input token written to the cache.
    pub cache_write: Option<Usd>,
}

/// One model's prices and limits. Token prices are per token, in pico-dollars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    /// `provider/model`.
    pub key: String,
    /// Provider id (LiteLLM's `litellm_provider`).
    pub provider: String,
    /// Endpoint kind.
    pub mode: Mode,
    /// Context window (input tokens).
    pub max_input_tokens: Option<u64>,
    /// Output limit.
    pub max_output_tokens: Option<u64>,
    /// Per input token.
    pub input: Option<Usd>,
    /// Per output token.
    pub output: Option<Usd>,
    /// Per cached input token read (defaults to `input`).
    pub cache_read: Option<Usd>,
    /// Per input token written to the cache (defaults to `input`).
    pub cache_write: Option<Usd>,
    /// Per reasoning token, when priced apart from output.
    pub reasoning: Option<Usd>,
    /// Per audio input token.
    pub audio_input: Option<Usd>,
    /// Per audio output token.
    pub audio_output: Option<Usd>,
    /// Per generated image.
    pub per_image: Option<Usd>,
    /// Per second of audio or of call time.
    pub per_second: Option<Usd>,
    /// Per input character (text-to-speech).
    pub per_character: Option<Usd>,
    /// Long-context prices.
    pub tier: Option<Tier>,
}

impl ModelPrice {
    /// An entry with no prices.
    pub fn empty(key: impl Into<String>, provider: impl Into<String>, mode: Mode) -> Self {
        Self {
            key: key.into(),
            provider: provider.into(),
            mode,
            max_input_tokens: None,
            max_output_tokens: None,
            input: None,
            output: None,
            cache_read: None,
            cache_write: None,
            reasoning: None,
            audio_input: None,
            audio_output: None,
            per_image: None,
            per_second: None,
            per_character: None,
            tier: None,
        }
    }

    /// LiteLLM's `get_model_info` shape: per-token prices as float dollars per token.
    pub fn to_litellm_json(&self) -> Value {
        let mut m = Map::new();
        let usd = |u: Usd| Value::from(u.to_f64());
        let per_token = |u: Usd| Value::from(u.pico() as f64 / 1e12);
        m.put("key", self.key.clone().into());
        m.put("litellm_provider", self.provider.clone().into());
        m.put("mode", self.mode.as_str().into());
        let max = self.max_output_tokens.or(self.max_input_tokens);
        m.put("max_tokens", max.into());
        m.put("max_input_tokens", self.max_input_tokens.into());
        m.put("max_output_tokens", self.max_output_tokens.into());
        for (name, v) in [
            ("input_cost_per_token", self.input),
            ("output_cost_per_token", self.output),
            ("cache_read_input_token_cost", self.cache_read),
            ("cache_creation_input_token_cost", self.cache_write),
            ("output_cost_per_reasoning_token", self.reasoning),
            ("input_cost_per_audio_token", self.audio_input),
            ("output_cost_per_audio_token", self.audio_output),
            ("input_cost_per_character", self.per_character),
        ] {
            if let Some(v) = v {
                m.insert(name.into(), per_token(v));
            }
        }
        if let Some(v) = self.per_image {
            m.put("output_cost_per_image", usd(v));
        }
        if let Some(v) = self.per_second {
            m.put("input_cost_per_second", usd(v));
        }
        if let Some(t) = &self.tier {
            let k = tier_suffix(t.above_tokens);
            for (name, v) in [
                ("input_cost_per_token", t.input),
                ("output_cost_per_token", t.output),
                ("cache_read_input_token_cost", t.cache_read),
                ("cache_creation_input_token_cost", t.cache_write),
            ] {
                if let Some(v) = v {
                    m.insert(format!("{name}{k}"), per_token(v));
                }
            }
        }
        Value::Object(m)
    }

    /// Applies the fields of a LiteLLM-shaped entry (`input_cost_per_token` in float dollars per
    /// token, `max_tokens`, `mode`, …) on top of `self`.
    pub fn merge_litellm_json(&mut self, entry: &Map<String, Value>) -> Result<()> {
        let bad = |k: &str, what: &str| {
            Error::bad_request(format!("model info field `{k}` must be {what}")).with_param(k)
        };
        for (k, v) in entry {
            if v.is_null() {
                continue;
            }
            let price = || {
                v.as_f64()
                    .and_then(Usd::from_f64)
                    .ok_or_else(|| bad(k, "a non-negative number"))
            };
            let count = || v.as_u64().ok_or_else(|| bad(k, "a non-negative integer"));
            match k.as_str() {
                "litellm_provider" => {
                    self.provider = v.as_str().ok_or_else(|| bad(k, "a string"))?.to_string()
                }
                "mode" => {
                    self.mode = v
                        .as_str()
                        .and_then(Mode::parse)
                        .ok_or_else(|| bad(k, "a known mode such as `chat`"))?
                }
                "max_input_tokens" => self.max_input_tokens = Some(count()?),
                "max_output_tokens" => self.max_output_tokens = Some(count()?),
                "max_tokens" => {
                    if self.max_output_tokens.is_none() {
                        self.max_output_tokens = Some(count()?)
                    }
                }
                "input_cost_per_token" => self.input = Some(price()?),
                "output_cost_per_token" => self.output = Some(price()?),
                "cache_read_input_token_cost" => self.cache_read = Some(price()?),
                "cache_creation_input_token_cost" => self.cache_write = Some(price()?),
                "output_cost_per_reasoning_token" => self.reasoning = Some(price()?),
                "input_cost_per_audio_token" => self.audio_input = Some(price()?),
                "output_cost_per_audio_token" => self.audio_output = Some(price()?),
                "output_cost_per_image" => self.per_image = Some(price()?),
                "input_cost_per_second" => self.per_second = Some(price()?),
                "input_cost_per_character" => self.per_character = Some(price()?),
                other => {
                    if let Some((field, above)) = parse_tier_key(other) {
                        let t = self.tier.get_or_insert(Tier {
                            above_tokens: above,
                            input: None,
                            output: None,
                            cache_read: None,
                            cache_write: None,
                        });
                        t.above_tokens = above;
                        let p = Some(price()?);
                        match field {
                            "input_cost_per_token" => t.input = p,
                            "output_cost_per_token" => t.output = p,
                            "cache_read_input_token_cost" => t.cache_read = p,
                            _ => t.cache_write = p,
                        }
                    }
                    // Other LiteLLM fields (supports_*, source, …) describe, not price: ignored.
                }
            }
        }
        Ok(())
    }
}

fn tier_suffix(above: u64) -> String {
    format!("_above_{}k_tokens", above / 1000)
}

/// `input_cost_per_token_above_200k_tokens` → (`input_cost_per_token`, 200000).
fn parse_tier_key(k: &str) -> Option<(&str, u64)> {
    let (field, rest) = k.split_once("_above_")?;
    let n: u64 = rest.strip_suffix("k_tokens")?.parse().ok()?;
    matches!(
        field,
        "input_cost_per_token"
            | "output_cost_per_token"
            | "cache_read_input_token_cost"
            | "cache_creation_input_token_cost"
    )
    .then_some((field, n * 1000))
}

/// Column order of `prices.tsv` (the header line is checked against it).
pub const COLUMNS: &[&str] = &[
    "key",
    "mode",
    "max_in",
    "max_out",
    "in",
    "out",
    "cache_read",
    "cache_write",
    "reasoning",
    "audio_in",
    "audio_out",
    "image",
    "second",
    "char",
    "tier",
    "tier_in",
    "tier_out",
    "tier_cache_read",
    "tier_cache_write",
];

/// Parses one data line of `prices.tsv`.
pub fn parse_row(line: &str) -> std::result::Result<ModelPrice, String> {
    parse_cells(line).map_err(|e| row_error(line, e))
}

/// Why [`parse_cells`] rejected a row; [`row_error`] words it. The lookups drop it unread, so
/// the wasm carries no message text or formatting for it.
enum RowError {
    /// More cells than [`COLUMNS`].
    Cells(usize),
    /// No key.
    Key,
    /// A key without `provider/`.
    Provider,
    /// No known mode.
    Mode,
    /// Column `i` is not an integer.
    Int(usize),
    /// Column `i` is not a price.
    Price(usize),
}

/// The message for `e`, an error of the row `line`.
fn row_error(line: &str, e: RowError) -> String {
    let cells: Vec<&str> = line.split('\t').collect();
    match e {
        RowError::Cells(n) => format!("{n} cells, expected at most {}", COLUMNS.len()),
        RowError::Key => "empty key".to_string(),
        RowError::Provider => "key is not provider/model".to_string(),
        RowError::Mode => format!(
            "bad mode {:?}",
            cells.get(1).copied().filter(|c| !c.is_empty())
        ),
        RowError::Int(i) => format!("{}: bad integer {:?}", COLUMNS[i], cells[i]),
        RowError::Price(i) => format!("{}: bad price {:?}", COLUMNS[i], cells[i]),
    }
}

/// [`parse_row`] without the words.
fn parse_cells(line: &str) -> std::result::Result<ModelPrice, RowError> {
    let cells: Vec<&str> = line.split('\t').collect();
    if cells.len() > COLUMNS.len() {
        return Err(RowError::Cells(cells.len()));
    }
    let cell = |i: usize| cells.get(i).copied().filter(|c| !c.is_empty());
    let key = cell(0).ok_or(RowError::Key)?;
    let (provider, _) = key.split_once('/').ok_or(RowError::Provider)?;
    let mode = cell(1).and_then(Mode::parse).ok_or(RowError::Mode)?;
    let int = |i: usize| -> std::result::Result<Option<u64>, RowError> {
        cell(i)
            .map(|c| c.parse().map_err(|_| RowError::Int(i)))
            .transpose()
    };
    let per_m = |i: usize| -> std::result::Result<Option<Usd>, RowError> {
        cell(i)
            .map(|c| Usd::parse_per_million(c).ok_or(RowError::Price(i)))
            .transpose()
    };
    let usd = |i: usize| -> std::result::Result<Option<Usd>, RowError> {
        cell(i)
            .map(|c| Usd::parse(c).ok_or(RowError::Price(i)))
            .transpose()
    };
    let tier = match int(14)? {
        Some(above_tokens) => Some(Tier {
            above_tokens,
            input: per_m(15)?,
            output: per_m(16)?,
            cache_read: per_m(17)?,
            cache_write: per_m(18)?,
        }),
        None => None,
    };
    Ok(ModelPrice {
        key: key.to_string(),
        provider: provider.to_string(),
        mode,
        max_input_tokens: int(2)?,
        max_output_tokens: int(3)?,
        input: per_m(4)?,
        output: per_m(5)?,
        cache_read: per_m(6)?,
        cache_write: per_m(7)?,
        reasoning: per_m(8)?,
        audio_input: per_m(9)?,
        audio_output: per_m(10)?,
        per_image: usd(11)?,
        per_second: usd(12)?,
        per_character: per_m(13)?,
        tier,
    })
}

/// Parses the whole table text: `(line number, error)` for every bad line.
pub fn parse_table(text: &str) -> (Vec<ModelPrice>, Vec<(usize, String)>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut header_seen = false;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if line.split('\t').collect::<Vec<_>>() != COLUMNS {
                errors.push((i + 1, "header does not match COLUMNS".to_string()));
            }
            continue;
        }
        match parse_row(line) {
            Ok(r) => rows.push(r),
            Err(e) => errors.push((i + 1, e)),
        }
    }
    (rows, errors)
}

/// The key of a table line: the text before the first tab.
fn line_key(line: &str) -> &str {
    line.split_once('\t').map_or(line, |(k, _)| k)
}

/// The data lines of the embedded table, sorted by key (what [`COMPACT`] is built from).
#[cfg(test)]
fn builtin_data() -> &'static str {
    &PRICES_TSV[DATA_START..]
}

/// The sizes of [`COMPACT`]: its text and its number of groups.
const COMPACT_SIZE: (usize, usize) =
    compact_into(PRICES_TSV.as_bytes(), DATA_START, &mut [], &mut []);

/// The table as the wasm carries it, made from [`PRICES_TSV`] at compile time: one group of
/// lines per provider, and the offset of each group's first line. The `#` comments and the
/// header stay out (they are for people and [`builtin_errors`]). A group is a line with the
/// provider id, then one line per row, in key order (a provider's rows are adjacent and sorted by
/// model because the keys are sorted and a provider id has no `/`):
/// - one byte, `' '` plus how many leading bytes the model shares with the row before (0 for a
///   group's first row), then the rest of the model;
/// - the row's cells from their tab on, with an empty mode cell for `chat`, left out when they
///   are the row before's (model aliases: `-latest`, dated and regional names).
///
/// Against the file as it is, the npm package is 1,036 B smaller gzipped for the groups, the
/// comments and the empty `chat` (2026-11-26), and another 464 B for the shared model prefixes
/// and repeated cells (gzip codes those as back-references of a few bytes each). A lookup walks
/// its provider's group, which is at most a few hundred rows and remembered per key
/// ([`builtin_get`]).
const COMPACT: ([u8; COMPACT_SIZE.0], [usize; COMPACT_SIZE.1]) =
    compact(PRICES_TSV.as_bytes(), DATA_START);

/// [`COMPACT`]'s text.
const COMPACT_TEXT: &str = match std::str::from_utf8(&COMPACT.0) {
    Ok(s) => s,
    Err(_) => panic!("prices.tsv is not UTF-8"),
};

/// The offset in [`COMPACT_TEXT`] of each group's first line.
const GROUP_STARTS: &[usize] = &COMPACT.1;

/// The end of the line starting at `i` (its `\n`, or the end of `text`).
const fn line_end(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && text[i] != b'\n' {
        i += 1;
    }
    i
}

/// The offset of the `/` ending the provider id of the line `text[i..end]`.
const fn provider_end(text: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && text[i] != b'/' && text[i] != b'\t' {
        i += 1;
    }
    assert!(
        i < end && text[i] == b'/',
        "prices.tsv: a row key without `provider/`"
    );
    i
}

/// The offset of the tab ending the key of the line `text[..end]`, looking from `i` on.
const fn key_end(text: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && text[i] != b'\t' {
        i += 1;
    }
    assert!(i < end, "prices.tsv: a row without a mode");
    i
}

/// How many leading bytes the byte ranges `a` and `b` of `text` share.
const fn shared_len(text: &[u8], a: (usize, usize), b: (usize, usize)) -> usize {
    let mut n = 0;
    while a.0 + n < a.1 && b.0 + n < b.1 && text[a.0 + n] == text[b.0 + n] {
        n += 1;
    }
    n
}

/// Whether the byte ranges `a` and `b` of `text` hold the same bytes.
const fn same(text: &[u8], a: (usize, usize), b: (usize, usize)) -> bool {
    a.1 - a.0 == b.1 - b.0 && shared_len(text, a, b) == a.1 - a.0
}

/// Where the mode cell of the row `text[slash + 1..end]` starts if it is `chat`, else `end`:
/// [`compact`] leaves that cell empty (most rows are chat models) and [`full_line`] puts it back.
const fn chat_cell(text: &[u8], slash: usize, end: usize) -> usize {
    let cell = key_end(text, slash, end) + 1;
    let after = cell + 4;
    if after <= end
        && text[cell] == b'c'
        && text[cell + 1] == b'h'
        && text[cell + 2] == b'a'
        && text[cell + 3] == b't'
        && (after == end || text[after] == b'\t')
    {
        cell
    } else {
        end
    }
}

/// Writes `text[from..to]` at `out[o..]` (as far as `out` reaches) and returns the end.
const fn put(out: &mut [u8], mut o: usize, text: &[u8], mut from: usize, to: usize) -> usize {
    while from < to {
        if o < out.len() {
            out[o] = text[from];
        }
        o += 1;
        from += 1;
    }
    o
}

/// Writes `byte` at `out[o]` (if `out` reaches) and returns the next offset.
const fn put_byte(out: &mut [u8], o: usize, byte: u8) -> usize {
    if o < out.len() {
        out[o] = byte;
    }
    o + 1
}

/// Writes the data lines `text[start..]` in [`COMPACT`]'s form to `out` and its group starts to
/// `groups`, as far as they reach, and returns the lengths of both: with empty slices it
/// measures them.
const fn compact_into(
    text: &[u8],
    start: usize,
    out: &mut [u8],
    groups: &mut [usize],
) -> (usize, usize) {
    let (mut o, mut g) = (0, 0);
    // The row before's provider id, model and cells, as byte ranges of `text`.
    let (mut provider, mut model, mut cells) = ((0, 0), (0, 0), (0, 0));
    let mut i = start;
    while i < text.len() {
        let end = line_end(text, i);
        let slash = provider_end(text, i, end);
        let tab = key_end(text, slash, end);
        if g == 0 || !same(text, provider, (i, slash)) {
            if g < groups.len() {
                groups[g] = o;
            }
            g += 1;
            o = put(out, o, text, i, slash);
            o = put_byte(out, o, b'\n');
            provider = (i, slash);
            // Empty: a group's first row shares nothing and has its own cells.
            (model, cells) = ((0, 0), (0, 0));
        }
        let shared = shared_len(text, model, (slash + 1, tab));
        assert!(
            shared <= 94,
            "prices.tsv: models share over 94 leading bytes"
        );
        o = put_byte(out, o, b' ' + shared as u8);
        o = put(out, o, text, slash + 1 + shared, tab);
        if !same(text, cells, (tab, end)) {
            let chat = chat_cell(text, slash, end);
            o = put(out, o, text, tab, chat);
            if chat < end {
                o = put(out, o, text, chat + 4, end);
            }
        }
        o = put_byte(out, o, b'\n');
        (model, cells) = ((slash + 1, tab), (tab, end));
        i = end + 1;
    }
    (o, g)
}

/// The data lines `text[start..]` grouped by provider (see [`COMPACT`]).
const fn compact<const N: usize, const G: usize>(
    text: &[u8],
    start: usize,
) -> ([u8; N], [usize; G]) {
    let mut out = [0; N];
    let mut groups = [0; G];
    compact_into(text, start, &mut out, &mut groups);
    (out, groups)
}

/// Group `i` of [`COMPACT`]: the provider id and its rows.
fn builtin_group(i: usize) -> (&'static str, &'static str) {
    let end = GROUP_STARTS
        .get(i + 1)
        .copied()
        .unwrap_or(COMPACT_TEXT.len());
    COMPACT_TEXT[GROUP_STARTS[i]..end]
        .split_once('\n')
        .unwrap_or_default()
}

/// Calls `f` with the model and the cells (from their tab on) of each row of a group of
/// [`COMPACT`], in order, until it returns `Some`.
fn find_row<T>(rows: &str, mut f: impl FnMut(&str, &str) -> Option<T>) -> Option<T> {
    let (mut model, mut cells) = (String::new(), "");
    for line in rows.lines() {
        let (head, own) = line.find('\t').map_or((line, ""), |t| line.split_at(t));
        model.truncate(usize::from(head.as_bytes()[0] - b' '));
        model.push_str(&head[1..]);
        if !own.is_empty() {
            cells = own;
        }
        if let Some(found) = f(&model, cells) {
            return Some(found);
        }
    }
    None
}

/// A row of [`COMPACT`] as the `prices.tsv` line it was made from.
fn full_line(provider: &str, model: &str, cells: &str) -> String {
    let rest = &cells[1..];
    let mode = if rest.is_empty() || rest.starts_with('\t') {
        "chat"
    } else {
        ""
    };
    format!("{provider}/{model}\t{mode}{rest}")
}

/// The rows of `provider` in [`COMPACT`], if the table has any.
fn builtin_rows(provider: &str) -> Option<&'static str> {
    (0..GROUP_STARTS.len())
        .map(builtin_group)
        .find_map(|(p, rows)| (p == provider).then_some(rows))
}

/// The built-in row for `key` (`provider/model`), parsed from its line alone.
fn builtin_search(key: &str) -> Option<ModelPrice> {
    let (provider, model) = key.split_once('/')?;
    let line = find_row(builtin_rows(provider)?, |m, cells| {
        (m == model).then(|| full_line(provider, m, cells))
    })?;
    parse_cells(&line).ok()
}

/// How many built-in lookups (hits and misses) [`builtin_get`] remembers. A gateway prices a
/// handful of models, each through a few candidate keys; past this the memo starts over, so
/// memory stays bounded whatever names callers send.
const BUILTIN_MEMO_CAP: usize = 64;

thread_local! {
    // The embedded table never changes, so a key's answer never goes stale (registered models
    // are looked up before this and never stored here). Per thread: wasm has one.
    // A list searched in order, not a HashMap: the handful of short keys a process prices
    // compare about as fast as one key hashes (a length check, then a memcmp), and the
    // HashMap's hashing, random keys and rehashing were ≈ 30 more wasm functions for V8 to
    // compile on a process's first priced call (Node cold start, bench/FINDINGS.md).
    static BUILTIN_MEMO: RefCell<Vec<(String, Option<ModelPrice>)>> =
        const { RefCell::new(Vec::new()) };
}

/// The remembered answer for `key`: `Some(None)` for a remembered miss.
fn builtin_memo_get(key: &str) -> Option<Option<ModelPrice>> {
    BUILTIN_MEMO.with(|m| {
        m.borrow()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    })
}

/// [`builtin_search`], remembered per key: searching and parsing the row on every priced call
/// was ≈ 2 % of a gateway request's CPU (bench/FINDINGS.md).
fn builtin_get(key: &str) -> Option<ModelPrice> {
    if let Some(hit) = builtin_memo_get(key) {
        return hit;
    }
    let found = builtin_search(key);
    BUILTIN_MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= BUILTIN_MEMO_CAP {
            m.clear();
        }
        m.push((key.to_string(), found.clone()));
    });
    found
}

#[cfg(test)]
fn builtin_memo_len() -> usize {
    BUILTIN_MEMO.with(|m| m.borrow().len())
}

/// Problems with the table text: bad lines, and keys out of order or repeated (the compact table
/// needs a provider's rows together and each key once, so it needs them strictly ascending).
/// `(line number, error)`.
pub fn table_errors(text: &str) -> Vec<(usize, String)> {
    let mut errors = parse_table(text).1;
    let mut prev: Option<&str> = None;
    let mut header_seen = false;
    // `split_inclusive`, not `lines()`: `lines()` would hide a CRLF ending, which the search (it
    // splits at `\n` only) would take as part of the last cell.
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if !header_seen {
            header_seen = !line.starts_with('#');
            if header_seen && !line.split('\t').eq(COLUMNS.iter().copied()) {
                errors.push((i + 1, "header does not match COLUMNS".to_string()));
            }
            continue;
        }
        if line.ends_with('\r') {
            errors.push((i + 1, "line ends with a carriage return".to_string()));
        }
        if line.is_empty() || line.starts_with('#') {
            // `parse_table` skips these, but a blank or comment line among the data would break
            // the ordering the search relies on.
            errors.push((i + 1, "blank or comment line among the rows".to_string()));
            continue;
        }
        let key = line_key(line);
        if let Some(p) = prev.filter(|p| *p >= key) {
            errors.push((i + 1, format!("key {key:?} is not after {p:?}")));
        }
        prev = Some(key);
    }
    errors.sort();
    errors.dedup();
    errors
}

/// Lines of the embedded table that failed to parse or are out of order.
pub fn builtin_errors() -> Vec<(usize, String)> {
    table_errors(PRICES_TSV)
}

/// Models registered at run time; they shadow the built-in rows. Process-wide like LiteLLM's
/// `litellm.model_cost` (one isolate in wasm).
static REGISTERED: RwLock<StrMap<ModelPrice>> = RwLock::new(StrMap::new());

fn registered_get(key: &str) -> Option<ModelPrice> {
    REGISTERED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .cloned()
}

fn get_key(key: &str) -> Option<ModelPrice> {
    registered_get(key).or_else(|| builtin_get(key))
}

/// Cross-region inference profile prefixes on Bedrock model ids (`us.anthropic.claude-…`); AWS
/// bills them at the source model's price.
const BEDROCK_REGION_PREFIXES: &[&str] =
    &["us.", "eu.", "apac.", "jp.", "au.", "global.", "us-gov."];

/// Finds the price entry for `model`, given the provider if known.
///
/// `model` may carry its provider prefix (`groq/llama-3.1-8b-instant`), be a bare well-known name
/// (`gpt-4o`) or a name registered with [`register_model`].
///
/// ```
/// let p = edgellm::cost::lookup("gpt-4o-mini", None).unwrap();
/// assert_eq!(p.key, "openai/gpt-4o-mini");
/// let p = edgellm::cost::lookup("claude-3-5-haiku-20241022", Some("anthropic")).unwrap();
/// assert_eq!(p.provider, "anthropic");
/// ```
pub fn lookup(model: &str, provider: Option<&str>) -> Option<ModelPrice> {
    // The candidate keys in order of preference, each looked up as soon as it is made: the
    // first one usually matches (cost runs once per call).
    if let Some(p) = provider.filter(|p| !p.is_empty()) {
        let bare = model.strip_prefix(p).and_then(|m| m.strip_prefix('/'));
        let bare = bare.unwrap_or(model);
        if let Some(found) = get_key(&format!("{p}/{bare}")) {
            return Some(found);
        }
        match p {
            "bedrock" => {
                // `bedrock/converse/<id>` and `bedrock/invoke/<id>` pick an API, not a model.
                let id = ["converse/", "invoke/"]
                    .iter()
                    .find_map(|r| bare.strip_prefix(r))
                    .unwrap_or(bare);
                if let Some(found) = get_key(&format!("bedrock/{id}")) {
                    return Some(found);
                }
                for r in BEDROCK_REGION_PREFIXES {
                    if let Some(base) = id.strip_prefix(r) {
                        if let Some(found) = get_key(&format!("bedrock/{base}")) {
                            return Some(found);
                        }
                    }
                }
            }
            // Fireworks serves its own models as `accounts/fireworks/models/<name>`; LiteLLM
            // accepts the short name.
            "fireworks_ai" if !bare.starts_with("accounts/") => {
                let long = format!("fireworks_ai/accounts/fireworks/models/{bare}");
                if let Some(found) = get_key(&long) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    if let Some(found) = get_key(model) {
        return Some(found);
    }
    if provider.is_none() {
        if let Some(p) = registry::infer(model) {
            return get_key(&format!("{p}/{model}"));
        }
    }
    None
}

/// Like [`lookup`], with LiteLLM's error when the model is unknown.
pub fn lookup_or_err(model: &str, provider: Option<&str>) -> Result<ModelPrice> {
    lookup(model, provider).ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "model `{model}` (provider `{}`) has no price in edgellm's table: pass \
                 `input_cost_per_token`/`output_cost_per_token` or call `registerModel`",
                provider.unwrap_or("unknown")
            ),
        )
        .with_model(model)
    })
}

/// Adds or updates models, LiteLLM's `register_model`: `{"model-name": {"input_cost_per_token":
/// 1e-6, "output_cost_per_token": 2e-6, "litellm_provider": "openrouter", "mode": "chat",
/// "max_tokens": 8192}}`. Fields of an existing entry that are not given are kept.
/// Returns the keys registered.
///
/// ```
/// let keys = edgellm::cost::register_model(&serde_json::json!({
///     "my-org/my-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
///                         "litellm_provider": "openai_like", "mode": "chat"}
/// })).unwrap();
/// assert_eq!(keys, ["openai_like/my-org/my-model"]);
/// let p = edgellm::cost::lookup("my-org/my-model", Some("openai_like")).unwrap();
/// assert_eq!(p.input.unwrap().pico(), 1_000_000);
/// ```
pub fn register_model(models: &Value) -> Result<Vec<String>> {
    let Value::Object(models) = models else {
        return Err(Error::bad_request(
            "register_model takes an object of model name → model info",
        ));
    };
    let mut staged = Vec::new();
    for (name, entry) in models {
        let Value::Object(entry) = entry else {
            return Err(Error::bad_request(format!(
                "model info for `{name}` must be an object"
            )));
        };
        let provider = entry
            .get("litellm_provider")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                name.split_once('/')
                    .filter(|(p, _)| is_known_provider(p))
                    .map(|(p, _)| p.to_string())
            })
            .or_else(|| registry::infer(name).map(str::to_string));
        let key = match &provider {
            Some(p) => {
                let bare = name
                    .strip_prefix(p.as_str())
                    .and_then(|m| m.strip_prefix('/'));
                format!("{p}/{}", bare.unwrap_or(name))
            }
            None => name.clone(),
        };
        let mut price = get_key(&key).unwrap_or_else(|| {
            ModelPrice::empty(
                key.clone(),
                provider.clone().unwrap_or_default(),
                Mode::Chat,
            )
        });
        price.merge_litellm_json(entry)?;
        staged.push((key, price));
    }
    let mut reg = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    let keys = staged.iter().map(|(k, _)| k.clone()).collect();
    // The last entry for a key wins, as it did inserting one by one.
    reg.extend(staged);
    Ok(keys)
}

/// Whether `id` is a registered provider or one that the table prices.
fn is_known_provider(id: &str) -> bool {
    registry::get(id).is_some() || builtin_rows(id).is_some()
}

/// Every built-in row (tests, docs).
pub fn all_builtin() -> impl Iterator<Item = ModelPrice> {
    let mut all = Vec::new();
    for i in 0..GROUP_STARTS.len() {
        let (provider, rows) = builtin_group(i);
        find_row(rows, |model, cells| {
            all.extend(parse_cells(&full_line(provider, model, cells)).ok());
            None::<()>
        });
    }
    all.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_parses_all_columns() {
        let r = parse_row(
            "gemini/x\tchat\t1048576\t65535\t1.25\t10\t0.3125\t\t\t\t\t0.039\t0.0001\t\t200000\t2.5\t15",
        )
        .unwrap();
        assert_eq!(r.provider, "gemini");
        assert_eq!(r.input, Some(Usd::from_pico(1_250_000)));
        assert_eq!(r.cache_read, Some(Usd::from_pico(312_500)));
        assert_eq!(r.per_image, Some(Usd::from_pico(39_000_000_000)));
        assert_eq!(r.per_second, Some(Usd::from_pico(100_000_000)));
        let t = r.tier.unwrap();
        assert_eq!(t.above_tokens, 200_000);
        assert_eq!(t.output, Some(Usd::from_pico(15_000_000)));
        assert!(parse_row("nokey\tchat").is_err());
        assert!(parse_row("a/b\tnope").is_err());
        assert!(parse_row("a/b\tchat\tx").is_err());
    }

    /// Each column lands in its own field, and of several bad cells the same one is reported
    /// (tier columns first, then the limits, then the prices left to right).
    #[test]
    fn row_columns_map_to_fields_and_errors_keep_their_order() {
        let cells = [
            "p/m",
            "embedding",
            "11",
            "12",
            "4",
            "5",
            "6",
            "7",
            "8",
            "9",
            "10",
            "1.5",
            "2.5",
            "13",
            "1000",
            "15",
            "16",
            "17",
            "18",
        ];
        let r = parse_row(&cells.join("\t")).unwrap();
        let m = |n: u64| Some(Usd::from_pico(n * 1_000_000));
        let want = ModelPrice {
            key: "p/m".into(),
            provider: "p".into(),
            mode: Mode::Embedding,
            max_input_tokens: Some(11),
            max_output_tokens: Some(12),
            input: m(4),
            output: m(5),
            cache_read: m(6),
            cache_write: m(7),
            reasoning: m(8),
            audio_input: m(9),
            audio_output: m(10),
            per_image: Usd::parse("1.5"),
            per_second: Usd::parse("2.5"),
            per_character: m(13),
            tier: Some(Tier {
                above_tokens: 1000,
                input: m(15),
                output: m(16),
                cache_read: m(17),
                cache_write: m(18),
            }),
        };
        assert_eq!(r, want);
        let bad = |cols: &[usize]| {
            let mut c = cells.map(str::to_string);
            for &i in cols {
                c[i] = "x".into();
            }
            parse_row(&c.join("\t")).unwrap_err()
        };
        assert_eq!(bad(&[2, 4, 16]), "tier_out: bad price \"x\"");
        assert_eq!(bad(&[3, 4]), "max_out: bad integer \"x\"");
        assert_eq!(bad(&[5, 11]), "out: bad price \"x\"");
        assert_eq!(bad(&[12, 13]), "second: bad price \"x\"");
        assert_eq!(bad(&[14, 2]), "tier: bad integer \"x\"");
        // Without a tier, its price cells are not read.
        let mut no_tier = cells.map(str::to_string);
        no_tier[14] = String::new();
        no_tier[15] = "x".into();
        assert_eq!(parse_row(&no_tier.join("\t")).unwrap().tier, None);
    }

    #[test]
    fn litellm_json_round_trips() {
        let p = builtin_get("gemini/gemini-2.5-pro").unwrap();
        let j = p.to_litellm_json();
        assert_eq!(j["input_cost_per_token"], 1.25e-6);
        assert_eq!(j["input_cost_per_token_above_200k_tokens"], 2.5e-6);
        let mut q = ModelPrice::empty(p.key.clone(), "", Mode::Embedding);
        q.merge_litellm_json(j.as_object().unwrap()).unwrap();
        assert_eq!(q, p);
    }

    /// A small table in the embedded one's layout: comments, header, sorted rows.
    const SMALL: &str = "# comment\n# another\n\
        key\tmode\tmax_in\tmax_out\tin\tout\tcache_read\tcache_write\treasoning\taudio_in\t\
        audio_out\timage\tsecond\tchar\ttier\ttier_in\ttier_out\ttier_cache_read\ttier_cache_write\n\
        a/x\tchat\t1\n\
        a/x-mini\tchat\t1\n\
        a/x-mini2\tchat\t2\n\
        a/xa\tchat\t3\n\
        b/@cf/m\tembedding\t4\n\
        b/z:0\tchat\t5\n\
        c/y\trerank\t6\n";

    fn small_data() -> &'static str {
        &SMALL[data_start(SMALL.as_bytes())..]
    }

    #[test]
    fn data_start_skips_comments_and_header() {
        assert!(small_data().starts_with("a/x\tchat\t1\n"));
        assert!(
            builtin_data().starts_with("ai21_chat/"),
            "{}",
            &builtin_data()[..40]
        );
        assert_eq!(data_start(b"# only comments\n"), 16);
        assert_eq!(data_start(b"key\tmode"), 8);
        assert_eq!(data_start(b""), 0);
    }

    #[test]
    fn group_rows_are_found_by_model_and_nothing_else() {
        let (text, starts) = compact::<70, 3>(SMALL.as_bytes(), data_start(SMALL.as_bytes()));
        let text = std::str::from_utf8(&text).unwrap();
        let rows = text[starts[0]..starts[1]].split_once('\n').unwrap().1;
        let find = |model: &str| find_row(rows, |m, cells| (m == model).then(|| cells.to_string()));
        assert_eq!(find("x").as_deref(), Some("\t\t1"));
        assert_eq!(find("x-mini").as_deref(), Some("\t\t1"));
        assert_eq!(find("x-mini2").as_deref(), Some("\t\t2"));
        assert_eq!(find("xa").as_deref(), Some("\t\t3"));
        for missing in ["", "a", "x-", "x-min", "x-minii", "xb", "x\tchat"] {
            assert_eq!(find(missing), None, "{missing:?}");
        }
        assert_eq!(find_row("", |_, _| Some(())), None);
        assert!(builtin_rows("openai").is_some());
        assert!(builtin_rows("baseten").is_some());
        assert!(builtin_rows("no_such_provider").is_none());
        assert!(builtin_rows("opena").is_none());
    }

    #[test]
    fn builtin_memo_answers_like_the_search_and_stays_bounded() {
        let key = "openai/gpt-4o-mini";
        let want = builtin_search(key);
        assert!(want.is_some());
        assert_eq!(builtin_get(key), want);
        assert_eq!(builtin_memo_get(key), Some(want.clone()));
        // Served from the memo: a second answer is the same row.
        assert_eq!(builtin_get(key), want);
        assert_eq!(builtin_get("openai/no-such-model~"), None);
        assert_eq!(builtin_memo_get("openai/no-such-model~"), Some(None));
        for i in 0..3 * BUILTIN_MEMO_CAP {
            assert_eq!(builtin_get(&format!("nope/{i}")), None);
            assert!(builtin_memo_len() <= BUILTIN_MEMO_CAP);
        }
        assert_eq!(builtin_get(key), want);
    }

    #[test]
    fn registered_model_shadows_a_remembered_builtin_row() {
        let key = "openrouter/openai/gpt-4o-2024-05-13";
        let builtin = lookup(key, None).unwrap();
        assert_eq!(lookup(key, None).unwrap(), builtin);
        let fresh = builtin.input.unwrap().pico() + 7_000;
        let entry = serde_json::json!({ key: {
            "litellm_provider": "openrouter", "mode": "chat",
            "input_cost_per_token": fresh as f64 / 1e12, "output_cost_per_token": 1e-6,
        }});
        register_model(&entry).unwrap();
        let got = lookup(key, None).unwrap();
        REGISTERED.write().unwrap().remove(key);
        assert_eq!(got.input.unwrap().pico(), fresh);
        assert_eq!(lookup(key, None).unwrap(), builtin);
    }

    /// Two names for one key in a registration (read in key order: `openai/…` last), and a
    /// later registration of the same key: the last one wins each time (as repeated map inserts did), other keys stay.
    #[test]
    fn registering_a_key_again_replaces_it() {
        let price =
            |v: f64| serde_json::json!({"litellm_provider": "openai", "input_cost_per_token": v});
        let keys = register_model(&serde_json::json!({
            "h50-reg-dup": price(1e-6), "openai/h50-reg-dup": price(2e-6), "h50-reg-other": price(3e-6),
        }))
        .unwrap();
        assert_eq!(
            keys,
            [
                "openai/h50-reg-dup",
                "openai/h50-reg-other",
                "openai/h50-reg-dup"
            ]
        );
        let input = |k: &str| lookup(k, None).unwrap().input.unwrap().pico();
        assert_eq!(input("openai/h50-reg-dup"), 2_000_000);
        register_model(&serde_json::json!({"openai/h50-reg-dup": price(4e-6)})).unwrap();
        assert_eq!(input("openai/h50-reg-dup"), 4_000_000);
        assert_eq!(input("openai/h50-reg-other"), 3_000_000);
        let mut reg = REGISTERED.write().unwrap();
        reg.remove("openai/h50-reg-dup");
        reg.remove("openai/h50-reg-other");
    }

    /// The compact form holds exactly the data lines: putting each group's provider back in
    /// front of its rows gives the text it was made from, and the sizes computed first fit.
    #[test]
    fn compact_table_reassembles_to_the_data_lines() {
        let mut back = String::new();
        let mut providers = Vec::new();
        for i in 0..GROUP_STARTS.len() {
            let (provider, rows) = builtin_group(i);
            providers.push(provider);
            find_row(rows, |model, cells| {
                back.push_str(&full_line(provider, model, cells));
                back.push('\n');
                None::<()>
            });
        }
        assert_eq!(back, builtin_data());
        assert_eq!(COMPACT_TEXT.len(), COMPACT_SIZE.0);
        // One group per provider, in key order.
        assert!(providers.windows(2).all(|w| w[0] < w[1]), "{providers:?}");
        assert!(providers.len() > 30, "{}", providers.len());
        let (small, groups) = compact_into(
            SMALL.as_bytes(),
            data_start(SMALL.as_bytes()),
            &mut [],
            &mut [],
        );
        assert_eq!(groups, 3);
        let (text, starts) = compact::<70, 3>(SMALL.as_bytes(), data_start(SMALL.as_bytes()));
        assert_eq!(small, 70);
        assert_eq!(
            std::str::from_utf8(&text).unwrap(),
            "a\n x\t\t1\n!-mini\n&2\t\t2\n!a\t\t3\nb\n @cf/m\tembedding\t4\n z:0\t\t5\nc\n y\trerank\t6\n"
        );
        assert_eq!(starts, [0, 27, 56]);
    }

    #[test]
    fn every_builtin_row_is_found_by_its_key() {
        let mut n = 0;
        for line in builtin_data().lines() {
            let key = line_key(line);
            let want = parse_row(line).unwrap();
            assert_eq!(builtin_get(key).as_ref(), Some(&want), "{key}");
            // A longer key that is not in the table must not match this row.
            let longer = format!("{key}~");
            assert!(builtin_get(&longer).is_none(), "{longer}");
            n += 1;
        }
        assert!(n >= 300, "{n} rows");
        assert_eq!(all_builtin().count(), n);
    }

    /// Every way a row can be wrong, in the words `table_errors` shows (the lookups, through
    /// `parse_cells`, never make them).
    #[test]
    fn row_errors_say_what_is_wrong() {
        let err = |l: &str| parse_row(l).unwrap_err();
        let with = |i: usize, c: &str| {
            let mut cells = vec![""; i + 1];
            cells[0] = "p/m";
            cells[1] = "chat";
            cells[i] = c;
            err(&cells.join("\t"))
        };
        let long = format!("p/m\tchat{}", "\t".repeat(19));
        assert_eq!(err(&long), "21 cells, expected at most 19");
        assert_eq!(err("\tchat"), "empty key");
        assert_eq!(err("pm\tchat"), "key is not provider/model");
        assert_eq!(err("p/m\tchats"), "bad mode Some(\"chats\")");
        assert_eq!(err("p/m"), "bad mode None");
        assert_eq!(with(2, "1.5"), "max_in: bad integer \"1.5\"");
        assert_eq!(with(4, "x"), "in: bad price \"x\"");
        assert_eq!(with(11, "x"), "image: bad price \"x\"");
        assert_eq!(with(13, "x"), "char: bad price \"x\"");
    }

    #[test]
    fn table_errors_catch_disorder_duplicates_and_gaps() {
        assert_eq!(table_errors(SMALL), vec![]);
        let swapped = SMALL
            .replace("a/xa\tchat\t3\n", "")
            .replace("c/y", "a/xa\tchat\t3\nc/y");
        let e = table_errors(&swapped);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].1.contains("not after"), "{e:?}");
        let dup = SMALL.replace("a/xa\t", "a/x-mini\t");
        assert!(table_errors(&dup)
            .iter()
            .any(|(_, m)| m.contains("not after")));
        let gap = SMALL.replace("b/z:0", "\nb/z:0");
        assert!(table_errors(&gap).iter().any(|(_, m)| m.contains("blank")));
        let crlf = SMALL.replace("b/z:0\tchat\t5\n", "b/z:0\tchat\t5\r\n");
        assert!(table_errors(&crlf)
            .iter()
            .any(|(_, m)| m.contains("carriage return")));
        let header = SMALL.replace("key\tmode\t", "key\tmodes\t");
        assert!(table_errors(&header)
            .iter()
            .any(|(_, m)| m.contains("header")));
    }

    #[test]
    fn bedrock_region_prefix_is_stripped() {
        let p = lookup(
            "us.anthropic.claude-3-5-sonnet-20241022-v2:0",
            Some("bedrock"),
        )
        .unwrap();
        assert_eq!(p.key, "bedrock/anthropic.claude-3-5-sonnet-20241022-v2:0");
    }
}
