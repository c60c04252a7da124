//! Pieces the native providers' translators (Anthropic, Bedrock, Cohere, Gemini, Ollama) share.
//!
//! Each decoder and builder used to write these inline: a `Delta { …, ..Default::default() }`,
//! a one-choice `ChatChunk` and its push at every event kind, a `HashMap` instance per decoder
//! for its block → tool-call index. As one non-generic function each, the wasm holds one copy
//! (the npm package's size budget, issue 8); what they build is unchanged.

use serde_json::{Map, Value};

use crate::provider::build::{obj, s};
use crate::provider::{check_params, openai_compat::OPENAI_PARAMS, Target};
use crate::types::{
    AssistantMessage, ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta,
    FinishReason, FunctionCall, FunctionCallDelta, Message, PromptTokensDetails, Put, Role,
    ToolCall, ToolCallDelta, Usage,
};
use crate::{Error, Result};

/// What every chunk of one stream carries besides its delta.
#[derive(Debug, Default)]
pub(crate) struct ChunkHead {
    /// Chunk id.
    pub(crate) id: String,
    /// Model name.
    pub(crate) model: String,
    /// Unix seconds.
    pub(crate) created: i64,
}

impl ChunkHead {
    /// Appends [`ChunkHead::chunk`].
    #[inline(never)]
    pub(crate) fn push(
        &self,
        out: &mut Vec<ChatChunk>,
        delta: Delta,
        finish: Option<FinishReason>,
    ) {
        out.push(self.chunk(delta, finish));
    }

    /// A chunk with one choice (index 0) holding `delta` and `finish`.
    #[inline(never)]
    pub(crate) fn chunk(&self, delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        let mut c = self.bare();
        c.choices.push(ChunkChoice {
            index: 0,
            delta,
            finish_reason: finish,
            logprobs: None,
        });
        c
    }

    /// Appends the choice-less chunk carrying the stream's usage.
    #[inline(never)]
    pub(crate) fn push_usage(&self, out: &mut Vec<ChatChunk>, usage: Usage) {
        let mut c = self.bare();
        c.usage = Some(usage);
        out.push(c);
    }

    /// A chunk with this head and nothing else.
    pub(crate) fn bare(&self) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            created: self.created,
            model: self.model.clone(),
            ..Default::default()
        }
    }
}

/// A delta carrying a piece of text: the answer's (`content`) or, with `reasoning`, the
/// model's thinking (`reasoning_content`).
#[inline(never)]
pub(crate) fn text_delta(text: &str, reasoning: bool) -> Delta {
    let mut d = Delta::default();
    let slot = if reasoning {
        &mut d.reasoning_content
    } else {
        &mut d.content
    };
    *slot = Some(text.to_owned());
    d
}

/// A delta carrying answer text and thinking text (either may be `None`).
#[inline(never)]
pub(crate) fn texts_delta(content: Option<String>, reasoning: Option<String>) -> Delta {
    Delta {
        content,
        reasoning_content: reasoning,
        ..Default::default()
    }
}

/// A stream's first delta: the role, with empty content.
#[inline(never)]
pub(crate) fn role_delta() -> Delta {
    Delta {
        role: Some("assistant".to_owned()),
        content: Some(String::new()),
        ..Default::default()
    }
}

/// A thinking block's signature, in LiteLLM's shape: it travels as a `thinking_blocks` entry so
/// that a client can send the thinking back on the next turn.
#[inline(never)]
pub(crate) fn signature_delta(signature: &str) -> Delta {
    let block = obj([
        ("type", s("thinking")),
        ("thinking", s("")),
        ("signature", s(signature)),
    ]);
    let mut d = Delta::default();
    d.extra.put("thinking_blocks", Value::Array(vec![block]));
    d
}

/// A delta carrying one tool-call piece: `arguments` always, `type: "function"` when `typed`
/// (a call's first piece), id and name when given.
#[inline(never)]
pub(crate) fn tool_delta(
    index: u32,
    typed: bool,
    id: Option<&str>,
    name: Option<&str>,
    args: &str,
) -> Delta {
    Delta {
        tool_calls: Some(vec![tool_call_delta(index, typed, id, name, args)]),
        ..Default::default()
    }
}

/// One tool-call piece, as [`tool_delta`] wraps it (a delta may carry several).
#[inline(never)]
pub(crate) fn tool_call_delta(
    index: u32,
    typed: bool,
    id: Option<&str>,
    name: Option<&str>,
    args: &str,
) -> ToolCallDelta {
    ToolCallDelta {
        index,
        id: id.map(str::to_owned),
        kind: typed.then(|| "function".to_owned()),
        function: Some(FunctionCallDelta {
            name: name.map(str::to_owned),
            arguments: Some(args.to_owned()),
        }),
    }
}

/// A BadRequest on `messages`: `messages[<i>]: <what>`.
#[inline(never)]
pub(crate) fn bad_message(i: usize, what: &str) -> Error {
    Error::bad_request(format!("messages[{i}]: {what}")).with_param("messages")
}

/// `{"type": "object", "properties": {}}`, with `"additionalProperties": true` when `open`
/// (any object: the JSON-mode tool's schema).
#[inline(never)]
pub(crate) fn object_schema(open: bool) -> Value {
    let mut o = Map::new();
    o.put("type", s("object"));
    o.put("properties", Value::Object(Map::new()));
    if open {
        o.put("additionalProperties", Value::Bool(true));
    }
    Value::Object(o)
}

/// `{"name": name, "description": description}` (no `description` when `None`): how every
/// native provider declares a tool, before its own schema key.
#[inline(never)]
pub(crate) fn named(name: &str, description: Option<&str>) -> Map<String, Value> {
    let mut o = Map::new();
    o.put("name", s(name));
    if let Some(d) = description {
        o.put("description", s(d));
    }
    o
}

/// An OpenAI sampling parameter of a [`ChatRequest`], for [`put_params`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param {
    Temperature,
    TopP,
    N,
    /// `max_completion_tokens`, else `max_tokens`.
    MaxTokens,
    /// As a list.
    Stop,
    Seed,
    PresencePenalty,
    FrequencyPenalty,
    Logprobs,
    TopLogprobs,
    /// A provider-specific parameter, passed through as given.
    Extra(&'static str),
}

/// Puts each parameter of `names` that `req` sets into `out`, under the provider's name.
#[inline(never)]
pub(crate) fn put_params(req: &ChatRequest, out: &mut Map<String, Value>, names: &[(Param, &str)]) {
    for (p, key) in names {
        let v = match *p {
            Param::Temperature => req.temperature.map(Value::from),
            Param::TopP => req.top_p.map(Value::from),
            Param::N => req.n.map(Value::from),
            Param::MaxTokens => req.output_limit().map(Value::from),
            Param::Stop => req.stop.as_ref().map(|s| Value::from(s.to_vec())),
            Param::Seed => req.seed.map(Value::from),
            Param::PresencePenalty => req.presence_penalty.map(Value::from),
            Param::FrequencyPenalty => req.frequency_penalty.map(Value::from),
            Param::Logprobs => req.logprobs.map(Value::from),
            Param::TopLogprobs => req.top_logprobs.map(Value::from),
            Param::Extra(k) => req.extra.get(k).cloned(),
        };
        if let Some(v) = v {
            out.put(key, v);
        }
    }
}

/// An error's message: the provider's `message` when it gave one, else the body's text (its
/// first 2,000 characters), else `HTTP <status>` for an empty body.
#[inline(never)]
pub(crate) fn error_text(message: Option<&str>, status: u16, body: &[u8]) -> String {
    if let Some(m) = message {
        return m.to_owned();
    }
    let t = String::from_utf8_lossy(body);
    if t.trim().is_empty() {
        format!("HTTP {status}")
    } else {
        t.chars().take(2000).collect()
    }
}

/// A function tool call of a response.
#[inline(never)]
pub(crate) fn tool_call(id: String, name: &str, arguments: String) -> ToolCall {
    ToolCall {
        id,
        kind: "function".to_owned(),
        function: FunctionCall {
            name: name.to_owned(),
            arguments,
        },
    }
}

/// JSON mode (LiteLLM's `_convert_tool_response_to_message`): the input of the forced
/// `response_format` tool, when the model called it, is the answer, so it joins `text`; with no
/// other call left, a `tool_calls` finish becomes `stop`.
pub(crate) fn json_answer(
    text: &mut String,
    json: Option<String>,
    no_other_call: bool,
    finish: &mut Option<FinishReason>,
) {
    if let Some(j) = json {
        text.push_str(&j);
        if no_other_call && *finish == Some(FinishReason::ToolCalls) {
            *finish = Some(FinishReason::Stop);
        }
    }
}

/// An answer's message: `tool_calls` only when there are calls, LiteLLM's `thinking_blocks`
/// only when there are blocks.
#[inline(never)]
pub(crate) fn assistant(
    content: Option<String>,
    reasoning: Option<String>,
    calls: Vec<ToolCall>,
    thinking_blocks: Vec<Value>,
) -> AssistantMessage {
    let mut extra = Map::new();
    if !thinking_blocks.is_empty() {
        extra.put("thinking_blocks", Value::Array(thinking_blocks));
    }
    AssistantMessage {
        content,
        tool_calls: (!calls.is_empty()).then_some(calls),
        reasoning_content: reasoning,
        extra,
        ..Default::default()
    }
}

/// Records prompt-cache tokens on `u`: `read` as OpenAI's `prompt_tokens_details.cached_tokens`
/// and, with `write` (Anthropic's and Converse's counts), as `cache_read_input_tokens` and
/// `cache_creation_input_tokens` too.
#[inline(never)]
pub(crate) fn set_cache(u: &mut Usage, read: u64, write: Option<u64>) {
    u.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(read),
        ..Default::default()
    });
    if let Some(w) = write {
        u.cache_creation_input_tokens = Some(w);
        u.cache_read_input_tokens = Some(read);
    }
}

/// A response with one choice (index 0).
#[inline(never)]
pub(crate) fn one_choice(
    id: String,
    model: String,
    created: i64,
    message: AssistantMessage,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
) -> ChatResponse {
    ChatResponse {
        id,
        created,
        model,
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: finish,
            logprobs: None,
        }],
        usage,
        ..Default::default()
    }
}

/// Checks `req`'s parameters against `supported` plus the keys of `req.extra` that are not
/// OpenAI parameters (provider-specific extras pass through unchecked), and returns those keys.
#[inline(never)]
pub(crate) fn check_with_extras(
    req: &mut ChatRequest,
    supported: &[&str],
    target: &Target,
) -> Result<Vec<String>> {
    let mut extras = Vec::new();
    for k in req.extra.keys() {
        if !OPENAI_PARAMS.contains(&k.as_str()) {
            extras.push(k.clone());
        }
    }
    let mut all = supported.to_vec();
    for k in &extras {
        all.push(k.as_str());
    }
    check_params(req, &all, target)?;
    Ok(extras)
}

/// The system and developer messages, and the rest, each in order.
#[inline(never)]
pub(crate) fn split_system(messages: &[Message]) -> (Vec<&Message>, Vec<&Message>) {
    let (mut system, mut rest) = (Vec::new(), Vec::new());
    for m in messages {
        match m.role {
            Role::System | Role::Developer => system.push(m),
            _ => rest.push(m),
        }
    }
    (system, rest)
}

/// Whether any message holds a tool call or a tool result (Anthropic and Converse then need
/// `tools` in the request).
pub(crate) fn has_tool_blocks(messages: &[Message]) -> bool {
    messages.iter().any(|m| {
        m.tool_calls.as_ref().is_some_and(|t| !t.is_empty())
            || matches!(m.role, Role::Tool | Role::Function)
    })
}

/// A tool call's `arguments` as the JSON input block Anthropic and Converse take (`{}` when
/// blank), or a BadRequest naming message `i`.
#[inline(never)]
pub(crate) fn call_input(tc: &ToolCall, i: usize) -> Result<Value> {
    let args = tc.function.arguments.trim();
    if args.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_str(args).map_err(|e| {
        Error::bad_request(format!(
            "messages[{i}]: tool call `{}` has arguments that are not JSON: {e}",
            tc.id
        ))
        .with_param("messages")
    })
}

/// `(media type, base64 data)` of a base64 `data:` URL.
pub(crate) fn split_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    Some((meta.strip_suffix(";base64")?, data))
}

/// Conversation turns with consecutive turns of one role merged (Anthropic, Converse and
/// Gemini require alternating roles).
#[derive(Debug, Default)]
pub(crate) struct Turns(Vec<(&'static str, Vec<Value>)>);

impl Turns {
    /// Adds a turn's blocks (none: no turn).
    #[inline(never)]
    pub(crate) fn push(&mut self, role: &'static str, mut blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((r, prev)) if *r == role => prev.append(&mut blocks),
            _ => self.0.push((role, blocks)),
        }
    }

    /// The turns as `{"role": …, <content_key>: [blocks]}` objects.
    #[inline(never)]
    pub(crate) fn into_values(self, content_key: &str) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.0.len());
        for (role, blocks) in self.0 {
            out.push(obj([
                ("role", s(role)),
                (content_key, Value::Array(blocks)),
            ]));
        }
        out
    }
}

/// `v.retain(keep)`, shared: each `Vec::retain` closure is its own copy of the removal loop.
#[inline(never)]
pub(crate) fn retain_values(v: &mut Vec<Value>, keep: &dyn Fn(&Value) -> bool) {
    let mut i = 0;
    while i < v.len() {
        if keep(&v[i]) {
            i += 1;
        } else {
            v.remove(i);
        }
    }
}

/// The value for `key` in a `(key, value)` table: string matches as data, not as a compare
/// chain per arm.
#[inline(never)]
pub(crate) fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// What a streamed content block turned into, by the provider's block index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Block {
    /// Answer text.
    Text,
    /// Thinking text.
    Thinking,
    /// A client tool call, with its OpenAI index.
    Tool(u32),
    /// The JSON-mode tool: its input streams as content.
    JsonContent,
    /// Anything not surfaced.
    Ignored,
}

/// The blocks of one stream by index: a list, as a stream has a few (a `HashMap` per
/// decoder was a hash table instance each in the wasm).
#[derive(Debug, Default)]
pub(crate) struct Blocks(Vec<(u64, Block)>);

impl Blocks {
    /// The block at `index`, if it started.
    pub(crate) fn get(&self, index: u64) -> Option<Block> {
        self.0.iter().find(|(i, _)| *i == index).map(|(_, b)| *b)
    }

    /// Records (or replaces) the block at `index`.
    #[inline(never)]
    pub(crate) fn set(&mut self, index: u64, block: Block) {
        match self.0.iter_mut().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = block,
            None => self.0.push((index, block)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_hold_what_they_name() {
        let d = text_delta("hi", false);
        assert_eq!(
            d,
            Delta {
                content: Some("hi".into()),
                ..Default::default()
            }
        );
        assert_eq!(
            texts_delta(Some("a".into()), Some("r".into())),
            Delta {
                content: Some("a".into()),
                reasoning_content: Some("r".into()),
                ..Default::default()
            }
        );
        let d = text_delta("hm", true);
        assert_eq!(d.reasoning_content.as_deref(), Some("hm"));
        assert!(d.content.is_none());
        let d = tool_delta(2, true, Some("c1"), Some("f"), "");
        let t = &d.tool_calls.unwrap()[0];
        assert_eq!(
            (t.index, t.id.as_deref(), t.kind.as_deref()),
            (2, Some("c1"), Some("function"))
        );
        let f = t.function.as_ref().unwrap();
        assert_eq!(
            (f.name.as_deref(), f.arguments.as_deref()),
            (Some("f"), Some(""))
        );
        let d = tool_delta(0, false, None, None, "{");
        let t = &d.tool_calls.unwrap()[0];
        assert!(t.id.is_none() && t.kind.is_none());
        assert_eq!(t.function.as_ref().unwrap().arguments.as_deref(), Some("{"));
    }

    #[test]
    fn chunks_carry_the_head() {
        let h = ChunkHead {
            id: "x".into(),
            model: "m".into(),
            created: 7,
        };
        let mut out = Vec::new();
        h.push(&mut out, text_delta("a", false), Some(FinishReason::Stop));
        h.push_usage(&mut out, Usage::new(1, 2));
        assert_eq!(
            (out[0].id.as_str(), out[0].model.as_str(), out[0].created),
            ("x", "m", 7)
        );
        assert_eq!(out[0].choices.len(), 1);
        assert_eq!(out[0].choices[0].finish_reason, Some(FinishReason::Stop));
        assert!(out[1].choices.is_empty());
        assert_eq!(out[1].usage.as_ref().unwrap().total_tokens, 3);
    }

    #[test]
    fn turns_merge_consecutive_roles() {
        let mut t = Turns::default();
        t.push("user", vec![s("a")]);
        t.push("user", vec![s("b")]);
        t.push("model", Vec::new());
        t.push("model", vec![s("c")]);
        assert_eq!(
            Value::Array(t.into_values("parts")),
            serde_json::json!([{"role": "user", "parts": ["a", "b"]}, {"role": "model", "parts": ["c"]}])
        );
        assert_eq!(
            split_data_url("data:image/png;base64,QUJD"),
            Some(("image/png", "QUJD"))
        );
        assert_eq!(split_data_url("data:image/png,QUJD"), None);
    }

    #[test]
    fn error_text_falls_back_to_the_body_then_the_status() {
        assert_eq!(error_text(Some("m"), 500, b"x"), "m");
        assert_eq!(error_text(None, 502, b"bad gateway"), "bad gateway");
        assert_eq!(error_text(None, 503, b"  \n"), "HTTP 503");
        assert_eq!(
            error_text(None, 500, "é".repeat(2100).as_bytes())
                .chars()
                .count(),
            2000
        );
    }

    #[test]
    fn assistant_leaves_out_what_is_empty() {
        let m = assistant(Some("a".into()), None, Vec::new(), Vec::new());
        assert_eq!(
            (
                m.content.as_deref(),
                m.tool_calls.is_none(),
                m.extra.is_empty()
            ),
            (Some("a"), true, true)
        );
        let m = assistant(
            None,
            Some("r".into()),
            vec![tool_call("c".into(), "f", "{}".into())],
            vec![s("b")],
        );
        assert_eq!(m.tool_calls.unwrap()[0].function.name, "f");
        assert_eq!(m.reasoning_content.as_deref(), Some("r"));
        assert_eq!(m.extra["thinking_blocks"], serde_json::json!(["b"]));
    }

    #[test]
    fn set_cache_fills_both_representations() {
        let mut u = Usage::new(10, 1);
        set_cache(&mut u, 4, None);
        assert_eq!(u.cached_tokens(), 4);
        assert!(u.cache_creation_input_tokens.is_none() && u.cache_read_input_tokens.is_none());
        set_cache(&mut u, 5, Some(2));
        assert_eq!(
            (
                u.prompt_tokens_details.as_ref().unwrap().cached_tokens,
                u.cache_read_input_tokens,
                u.cache_creation_input_tokens
            ),
            (Some(5), Some(5), Some(2))
        );
    }

    #[test]
    fn small_builders() {
        assert_eq!(
            Value::Object(named("f", Some("d"))),
            serde_json::json!({"name": "f", "description": "d"})
        );
        assert_eq!(
            Value::Object(named("f", None)),
            serde_json::json!({"name": "f"})
        );
        let e = bad_message(3, "no `x`");
        assert_eq!(
            (e.message(), e.param()),
            ("messages[3]: no `x`", Some("messages"))
        );
        assert_eq!(
            object_schema(false),
            serde_json::json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            object_schema(true),
            serde_json::json!({"type": "object", "properties": {}, "additionalProperties": true})
        );
    }

    #[test]
    fn lookup_finds_the_first_match() {
        let t = [("a", "1"), ("b", "2"), ("b", "3")];
        assert_eq!(lookup(&t, "b"), Some("2"));
        assert_eq!(lookup(&t, "c"), None);
    }

    #[test]
    fn blocks_are_kept_by_index() {
        let mut b = Blocks::default();
        assert_eq!(b.get(3), None);
        b.set(3, Block::Tool(0));
        b.set(1, Block::Text);
        b.set(3, Block::JsonContent);
        assert_eq!(b.get(3), Some(Block::JsonContent));
        assert_eq!(b.get(1), Some(Block::Text));
    }
}
