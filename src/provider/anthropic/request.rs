//! OpenAI chat request → Anthropic Messages API body (`POST /v1/messages`).
//!
//! Reference: <https://docs.claude.com/en/api/messages>. What LiteLLM does and we match:
//! system/developer messages are hoisted into `system` (a list of text blocks, `cache_control`
//! kept), consecutive messages of one role are merged (tool results become `tool_result` blocks
//! of a user turn), `max_tokens` defaults to the model's output limit, `stop` → `stop_sequences`,
//! `user` → `metadata.user_id`, tools → `input_schema`, `tool_choice` → `auto|any|tool|none`,
//! `parallel_tool_calls: false` → `disable_parallel_tool_use`, `reasoning_effort` → a thinking
//! budget, and JSON `response_format` → one forced tool (see [`RESPONSE_FORMAT_TOOL`]).

use serde_json::{Map, Value};

use crate::provider::build::{obj, s, strs};
use crate::provider::native::{
    bad_message, call_input, check_with_extras, has_tool_blocks, named, object_schema,
    split_data_url, split_system, Turns,
};
use crate::provider::Target;
use crate::types::{
    ChatRequest, Content, ContentPart, Message, Put, ResponseFormat, Role, ToolChoice,
};
use crate::{Error, Result};

/// Name of the tool that carries a JSON `response_format` (LiteLLM's `RESPONSE_FORMAT_TOOL_NAME`).
///
/// JSON mode is emulated with one forced tool whose `input_schema` is the requested schema,
/// as Anthropic's tool-use guide describes for JSON output; the tool's input is returned as the
/// message content. This works on every Claude model and on every platform that serves the
/// Messages API (Vertex AI, Bedrock invoke), unlike native structured outputs
/// (`output_config.format`), which only some models accept.
pub const RESPONSE_FORMAT_TOOL: &str = "json_tool_call";

/// Used when a model has no entry in [`default_max_tokens`] (LiteLLM's
/// `DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS`).
pub const FALLBACK_MAX_TOKENS: u32 = 4096;

/// Added to a thinking budget to get `max_tokens` when the caller set none (LiteLLM's
/// `DEFAULT_MAX_TOKENS` in `update_optional_params_with_thinking_tokens`).
const THINKING_HEADROOM: u32 = 4096;

/// The OpenAI parameters the Messages API can express (LiteLLM's
/// `AnthropicConfig.get_supported_openai_params`, plus `stream_options`, which only steers the
/// usage chunk).
pub const SUPPORTED_PARAMS: &[&str] = &[
    "stream_options",
    "stop",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "user",
    "reasoning_effort",
];

/// The model's maximum output tokens, sent as `max_tokens` when the caller gives none (the
/// Messages API requires it). LiteLLM reads the same number from its model map.
///
/// ```
/// use edgellm::provider::anthropic::default_max_tokens;
/// assert_eq!(default_max_tokens("claude-3-5-sonnet-20241022"), 8192);
/// assert_eq!(default_max_tokens("claude-sonnet-4-5-20250929"), 64000);
/// assert_eq!(default_max_tokens("some-unknown-model"), 4096);
/// ```
pub fn default_max_tokens(model: &str) -> u32 {
    // Longest, most specific prefixes first: `claude-opus-4-5` before `claude-opus-4`.
    const TABLE: &[(&str, u32)] = &[
        ("claude-3-haiku", 4096),
        ("claude-3-opus", 4096),
        ("claude-3-sonnet", 4096),
        ("claude-3-5-", 8192),
        ("claude-3-7-sonnet", 64000),
        ("claude-opus-4-6", 128000),
        ("claude-opus-4-7", 128000),
        ("claude-sonnet-4-6", 128000),
        ("claude-opus-4-5", 64000),
        ("claude-opus-4", 32000),
        ("claude-sonnet-4", 64000),
        ("claude-haiku-4", 64000),
    ];
    let m = bare_model(model);
    TABLE
        .iter()
        .find(|(p, _)| m.starts_with(p))
        .map(|(_, n)| *n)
        .unwrap_or(FALLBACK_MAX_TOKENS)
}

/// Strips platform prefixes so `anthropic.claude-3-5-sonnet-…` (Bedrock) and
/// `claude-3-5-sonnet@…` (Vertex) find their row.
fn bare_model(model: &str) -> &str {
    let m = model.rsplit('/').next().unwrap_or(model);
    match m.find("claude-") {
        Some(i) => &m[i..],
        None => m,
    }
}

/// Whether the model decides its own thinking budget (`thinking: {type: "adaptive"}` plus
/// `output_config.effort`), as LiteLLM treats Claude 4.6 and later.
fn adaptive_thinking(model: &str) -> bool {
    let m = bare_model(model);
    ["-4-6", "-4-7", "-4.6", "-4.7"]
        .iter()
        .any(|v| m.contains(v))
}

/// `reasoning_effort` → `thinking` (LiteLLM's `_map_reasoning_effort` budgets: minimal 1024 —
/// Anthropic's minimum — low 1024, medium 2048, high 4096, xhigh 8192, max 16384).
///
/// Returns `(thinking, output_config)`; `None` for `"none"`. Shared with Bedrock's Claude models.
pub(crate) fn thinking_for_effort(
    effort: &str,
    model: &str,
) -> Result<Option<(Value, Option<Value>)>> {
    let budget = match effort {
        "none" => return Ok(None),
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        "xhigh" => 8192,
        "max" => 16384,
        other => {
            return Err(Error::bad_request(format!(
                "invalid reasoning_effort `{other}`: use none, minimal, low, medium, high, xhigh or max"
            ))
            .with_param("reasoning_effort"))
        }
    };
    if adaptive_thinking(model) {
        let effort = if effort == "minimal" { "low" } else { effort };
        return Ok(Some((
            obj([("type", s("adaptive"))]),
            Some(obj([("effort", s(effort))])),
        )));
    }
    Ok(Some((
        obj([
            ("type", s("enabled")),
            ("budget_tokens", Value::from(budget)),
        ]),
        None,
    )))
}

/// Builds the Messages API body for `req` against `target.model`, checking parameters first.
///
/// The result includes `"model"` and, when `req.stream` is true, `"stream": true`.
/// For **Anthropic on Vertex AI** remove `model` and add
/// `"anthropic_version": "vertex-2023-10-16"`; everything else is identical. Parameters that are
/// not OpenAI parameters (`top_k`, `thinking`, `service_tier`, …) are forwarded unchanged, as
/// LiteLLM forwards provider-specific parameters.
///
/// ```
/// use edgellm::{ChatRequest, provider::{anthropic, Target}};
/// let mut req = ChatRequest::user("anthropic/claude-3-5-haiku-20241022", "Hi");
/// req.messages.insert(0, edgellm::types::Message::text(edgellm::types::Role::System, "Be brief."));
/// let target = Target { provider: "anthropic".into(), model: "claude-3-5-haiku-20241022".into(), ..Default::default() };
/// let body = anthropic::messages_body(&req, &target).unwrap();
/// assert_eq!(body["system"][0]["text"], "Be brief.");
/// assert_eq!(body["messages"][0]["content"][0]["text"], "Hi");
/// assert_eq!(body["max_tokens"], 8192);
/// ```
pub fn messages_body(req: &ChatRequest, target: &Target) -> Result<Value> {
    let mut req = req.clone();
    // Provider-specific extras pass through; only OpenAI parameters are checked.
    let passthrough = check_with_extras(&mut req, SUPPORTED_PARAMS, target)?;

    let model = target.model.as_str();
    let mut body = Map::new();
    body.put("model", s(model));

    let (system, rest) = split_system(&req.messages);
    let system_blocks = system_blocks(&system);
    body.put("messages", Value::Array(convert_messages(&rest)?));
    if !system_blocks.is_empty() {
        body.put("system", Value::Array(system_blocks));
    }

    // Loops, not `collect`: each iterator chain is its own copy of the adapters in the wasm.
    let mut tools: Vec<Value> = Vec::new();
    for t in req.tools.iter().flatten() {
        let mut tool = named(&t.function.name, t.function.description.as_deref());
        tool.put("input_schema", input_schema(t.function.parameters.as_ref()));
        tools.push(Value::Object(tool));
    }
    if tools.is_empty() && has_tool_blocks(&req.messages) {
        // The API rejects tool_use/tool_result blocks without `tools`; LiteLLM adds this
        // placeholder (`add_dummy_tool`).
        tools.push(obj([
            ("name", s("dummy_tool")),
            ("description", s("This is a dummy tool call")),
            ("input_schema", empty_object_schema()),
        ]));
    }

    let mut tool_choice = map_tool_choice(req.tool_choice.as_ref(), req.parallel_tool_calls);

    let mut thinking = req.extra.get("thinking").cloned();
    let mut output_config = req.extra.get("output_config").cloned();
    if let Some(effort) = &req.reasoning_effort {
        match thinking_for_effort(effort, model)? {
            Some((t, oc)) => {
                thinking = Some(t);
                if oc.is_some() {
                    output_config = oc;
                }
            }
            None => thinking = None,
        }
    }
    let thinking_on = thinking
        .as_ref()
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t != "disabled");

    if let Some(tool) = response_format_tool(req.response_format.as_ref()) {
        tools.push(tool);
        // Anthropic rejects forced tool use while thinking; LiteLLM then only offers the tool.
        if !thinking_on {
            tool_choice = Some(obj([
                ("type", s("tool")),
                ("name", s(RESPONSE_FORMAT_TOOL)),
            ]));
        }
    }

    if !tools.is_empty() {
        body.put("tools", Value::Array(tools));
    }
    if let Some(tc) = tool_choice {
        body.put("tool_choice", tc);
    }

    let max_tokens = match req.output_limit() {
        Some(n) => n,
        None => match thinking
            .as_ref()
            .and_then(|t| t.get("budget_tokens"))
            .and_then(Value::as_u64)
        {
            Some(budget) => (budget as u32).saturating_add(THINKING_HEADROOM),
            None => default_max_tokens(model),
        },
    };
    body.put("max_tokens", Value::from(max_tokens));
    if let Some(t) = req.temperature {
        body.put("temperature", Value::from(t));
    }
    if let Some(p) = req.top_p {
        body.put("top_p", Value::from(p));
    }
    if let Some(stop) = &req.stop {
        let seqs = stop.to_vec();
        if !seqs.is_empty() {
            body.put("stop_sequences", strs(&seqs));
        }
    }
    if let Some(user) = req.user.as_deref().filter(|u| valid_user_id(u)) {
        body.put("metadata", obj([("user_id", s(user))]));
    }
    if let Some(t) = thinking {
        body.put("thinking", t);
    }
    if let Some(oc) = output_config {
        body.put("output_config", oc);
    }
    for key in &passthrough {
        if matches!(key.as_str(), "thinking" | "output_config") {
            continue;
        }
        if let Some(v) = req.extra.get(key) {
            body.insert(key.clone(), v.clone());
        }
    }
    if req.is_stream() {
        body.put("stream", Value::Bool(true));
    }
    Ok(Value::Object(body))
}

/// Whether `response_format` asks for JSON (and so the reply comes back in
/// [`RESPONSE_FORMAT_TOOL`]).
pub fn json_mode(req: &ChatRequest) -> bool {
    response_format_tool(req.response_format.as_ref()).is_some()
}

fn response_format_tool(rf: Option<&ResponseFormat>) -> Option<Value> {
    let rf = rf?;
    let schema = match rf.kind.as_str() {
        "json_object" => any_object_schema(),
        "json_schema" => rf
            .json_schema
            .as_ref()
            .and_then(|s| s.schema.clone())
            .unwrap_or_else(any_object_schema),
        _ => return None,
    };
    Some(obj([
        ("name", s(RESPONSE_FORMAT_TOOL)),
        ("input_schema", schema),
    ]))
}

fn any_object_schema() -> Value {
    object_schema(true)
}

fn empty_object_schema() -> Value {
    object_schema(false)
}

/// Anthropic requires `input_schema.type == "object"`.
fn input_schema(parameters: Option<&Value>) -> Value {
    match parameters {
        Some(Value::Object(o)) => {
            let mut o = o.clone();
            if o.get("type").and_then(Value::as_str) != Some("object") {
                o.put("type", s("object"));
                o.entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            Value::Object(o)
        }
        _ => empty_object_schema(),
    }
}

fn map_tool_choice(tc: Option<&ToolChoice>, parallel: Option<bool>) -> Option<Value> {
    let mut out = match tc {
        Some(ToolChoice::Mode(m)) => match m.as_str() {
            "auto" => Some(obj([("type", s("auto"))])),
            "required" => Some(obj([("type", s("any"))])),
            "none" => Some(obj([("type", s("none"))])),
            _ => None,
        },
        Some(ToolChoice::Named(n)) => {
            Some(obj([("type", s("tool")), ("name", s(&n.function.name))]))
        }
        None => None,
    };
    let is_none = matches!(tc, Some(ToolChoice::Mode(m)) if m == "none");
    if let (Some(p), false) = (parallel, is_none) {
        let tc = out.get_or_insert_with(|| obj([("type", s("auto"))]));
        tc["disable_parallel_tool_use"] = Value::Bool(!p);
    }
    out
}

/// LiteLLM drops `user` values that look like emails or phone numbers: Anthropic rejects them as
/// `metadata.user_id` (it must not contain personal information).
fn valid_user_id(u: &str) -> bool {
    let email = u.split_once('@').is_some_and(|(a, b)| {
        !a.is_empty() && b.contains('.') && !b.starts_with('.') && !u.contains(' ')
    });
    let phone = u.chars().count() >= 7
        && u.trim_start_matches('+')
            .chars()
            .all(|c| c.is_ascii_digit() || " ()-".contains(c));
    !email && !phone
}

fn cache_control(extra: &Map<String, Value>) -> Option<&Value> {
    extra.get("cache_control").filter(|v| !v.is_null())
}

fn system_blocks(system: &[&Message]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in system {
        match &m.content {
            Some(Content::Text(t)) if !t.is_empty() => {
                let mut b = text_block(t);
                if let Some(cc) = cache_control(&m.extra) {
                    b["cache_control"] = cc.clone();
                }
                out.push(b);
            }
            Some(Content::Parts(parts)) => {
                for p in parts {
                    let Some(t) = p.text.as_deref().filter(|t| !t.is_empty()) else {
                        continue;
                    };
                    let mut b = text_block(t);
                    if let Some(cc) = cache_control(&p.extra) {
                        b["cache_control"] = cc.clone();
                    }
                    out.push(b);
                }
            }
            _ => {}
        }
    }
    out
}

/// Converts the non-system messages, merging consecutive turns of the same role.
fn convert_messages(messages: &[&Message]) -> Result<Vec<Value>> {
    let mut out = Turns::default();
    for (i, m) in messages.iter().enumerate() {
        let (role, mut blocks) = match m.role {
            Role::User => ("user", user_blocks(m, i)?),
            Role::Assistant => ("assistant", assistant_blocks(m, i)?),
            Role::Tool | Role::Function => ("user", vec![tool_result_block(m, i)?]),
            Role::System | Role::Developer => continue,
        };
        if let (Some(cc), Some(last)) = (cache_control(&m.extra), blocks.last_mut()) {
            // A message-level cache_control marks the message's last block (LiteLLM).
            if last.get("cache_control").is_none() {
                last["cache_control"] = cc.clone();
            }
        }
        out.push(role, blocks);
    }
    Ok(out.into_values("content"))
}

fn user_blocks(m: &Message, i: usize) -> Result<Vec<Value>> {
    match &m.content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(vec![text_block(t)]),
        Some(Content::Parts(parts)) => part_blocks(parts, i),
    }
}

/// Every part as a block. A loop: each `collect::<Result<_>>` brings its own iterator adapters.
fn part_blocks(parts: &[ContentPart], i: usize) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        out.push(part_block(p, i)?);
    }
    Ok(out)
}

fn assistant_blocks(m: &Message, i: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    // Thinking blocks from an earlier turn must come back first (extended thinking with tools).
    if let Some(Value::Array(tb)) = m.extra.get("thinking_blocks") {
        out.extend_from_slice(tb);
    }
    match &m.content {
        Some(Content::Text(t)) if !t.is_empty() => out.push(text_block(t)),
        Some(Content::Parts(parts)) => {
            for p in parts {
                if p.kind == "text" && p.text.as_deref().unwrap_or("").is_empty() {
                    continue;
                }
                out.push(part_block(p, i)?);
            }
        }
        _ => {}
    }
    for tc in m.tool_calls.iter().flatten() {
        let input = call_input(tc, i)?;
        out.push(obj([
            ("type", s("tool_use")),
            ("id", s(&tc.id)),
            ("name", s(&tc.function.name)),
            ("input", input),
        ]));
    }
    Ok(out)
}

fn tool_result_block(m: &Message, i: usize) -> Result<Value> {
    let id = m
        .tool_call_id
        .as_deref()
        .or(m.name.as_deref())
        .ok_or_else(|| bad_message(i, "a tool message needs `tool_call_id`"))?;
    let content = match &m.content {
        None => s(""),
        Some(Content::Text(t)) => s(t),
        Some(Content::Parts(parts)) => Value::Array(part_blocks(parts, i)?),
    };
    Ok(obj([
        ("type", s("tool_result")),
        ("tool_use_id", s(id)),
        ("content", content),
    ]))
}

/// One OpenAI content part → one Anthropic content block.
fn part_block(p: &ContentPart, i: usize) -> Result<Value> {
    let mut block = match p.kind.as_str() {
        "text" => text_block(p.text.as_deref().unwrap_or_default()),
        "image_url" => {
            let url = p
                .image_url
                .as_ref()
                .ok_or_else(|| bad_message(i, "image_url part without a url"))?;
            match url.as_data_url() {
                Some((media, data)) => media_block(media, data),
                None => obj([
                    ("type", s("image")),
                    ("source", obj([("type", s("url")), ("url", s(&url.url))])),
                ]),
            }
        }
        "file" => {
            let file = p.extra.get("file").and_then(Value::as_object);
            let data = file
                .and_then(|f| f.get("file_data"))
                .and_then(Value::as_str);
            let id = file.and_then(|f| f.get("file_id")).and_then(Value::as_str);
            match (data.and_then(split_data_url), id) {
                (Some((media, b64)), _) => media_block(media, b64),
                (None, Some(id)) => obj([
                    ("type", s("document")),
                    ("source", obj([("type", s("file")), ("file_id", s(id))])),
                ]),
                _ => {
                    return Err(bad_message(
                        i,
                        "a file part needs `file_data` as a base64 data URL or `file_id`",
                    ))
                }
            }
        }
        // Already an Anthropic block (image/document with `source`): pass it on.
        "image" | "document" if p.extra.contains_key("source") => {
            let mut v = crate::types::to_value_via_text(p)?;
            if let Some(o) = v.as_object_mut() {
                o.remove("cache_control");
            }
            v
        }
        other => {
            return Err(bad_message(
                i,
                &format!("content part type `{other}` is not supported by Anthropic"),
            ))
        }
    };
    if let Some(cc) = cache_control(&p.extra) {
        block["cache_control"] = cc.clone();
    }
    Ok(block)
}

/// A base64 payload: images as `image`, PDFs and text as `document`.
fn media_block(media: &str, data: &str) -> Value {
    let kind = if media.starts_with("image/") {
        "image"
    } else {
        "document"
    };
    obj([
        ("type", s(kind)),
        (
            "source",
            obj([
                ("type", s("base64")),
                ("media_type", s(media)),
                ("data", s(data)),
            ]),
        ),
    ])
}

fn text_block(t: &str) -> Value {
    obj([("type", s("text")), ("text", s(t))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(model: &str) -> Target {
        Target {
            provider: "anthropic".into(),
            model: model.into(),
            ..Default::default()
        }
    }

    fn body(req: Value) -> Result<Value> {
        let (req, _) = crate::options::parse_chat(req).unwrap();
        messages_body(&req, &target("claude-3-5-sonnet-20241022"))
    }

    #[test]
    fn system_developer_hoisted_with_cache_control_and_turns_merged() {
        let b = body(json!({"model": "x", "messages": [
            {"role": "system", "content": [{"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}}]},
            {"role": "developer", "content": "B"},
            {"role": "user", "content": "hi"},
            {"role": "user", "content": "again"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                {"id": "t2", "type": "function", "function": {"name": "g", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "r1"},
            {"role": "tool", "tool_call_id": "t2", "content": [{"type": "text", "text": "r2"}]},
            {"role": "user", "content": "next"}
        ]}))
        .unwrap();
        assert_eq!(
            b["system"],
            json!([{"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "B"}])
        );
        let msgs = b["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[0]["content"].as_array().unwrap().len(), 2);
        assert_eq!(
            msgs[1]["content"],
            json!([
                {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
                {"type": "tool_use", "id": "t2", "name": "g", "input": {}}
            ])
        );
        assert_eq!(msgs[2]["role"], "user");
        assert_eq!(
            msgs[2]["content"][0],
            json!({"type": "tool_result", "tool_use_id": "t1", "content": "r1"})
        );
        assert_eq!(
            msgs[2]["content"][1]["content"],
            json!([{"type": "text", "text": "r2"}])
        );
        assert_eq!(msgs[2]["content"][2]["text"], "next");
        // Tool blocks without `tools` get LiteLLM's placeholder tool.
        assert_eq!(b["tools"][0]["name"], "dummy_tool");
    }

    #[test]
    fn params_tools_choice_and_parallel() {
        let b = body(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}],
            "stop": "END", "user": "user-123", "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 50,
            "tools": [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}}, "parallel_tool_calls": false,
            "top_k": 5
        }))
        .unwrap();
        assert_eq!(b["stop_sequences"], json!(["END"]));
        assert_eq!(b["metadata"], json!({"user_id": "user-123"}));
        assert_eq!(b["max_tokens"], 50);
        assert_eq!(b["top_k"], 5);
        assert_eq!(
            b["tools"][0]["input_schema"]["properties"]["q"]["type"],
            "string"
        );
        assert_eq!(
            b["tool_choice"],
            json!({"type": "tool", "name": "f", "disable_parallel_tool_use": true})
        );
        let b = body(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "required", "user": "a@b.com"})).unwrap();
        assert_eq!(b["tool_choice"], json!({"type": "any"}));
        assert!(b.get("metadata").is_none());
    }

    #[test]
    fn images_data_and_url() {
        let b = body(
            json!({"model": "x", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "image_url", "image_url": "https://example.com/a.jpg"}
            ]}]}),
        )
        .unwrap();
        assert_eq!(
            b["messages"][0]["content"],
            json!([
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}}
            ])
        );
    }

    #[test]
    fn json_mode_forces_the_format_tool_unless_thinking() {
        let b = body(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}}))
        .unwrap();
        assert_eq!(b["tools"][0]["name"], RESPONSE_FORMAT_TOOL);
        assert_eq!(
            b["tools"][0]["input_schema"]["properties"]["a"]["type"],
            "integer"
        );
        assert_eq!(
            b["tool_choice"],
            json!({"type": "tool", "name": RESPONSE_FORMAT_TOOL})
        );
        let b = body(
            json!({"model": "x", "messages": [{"role": "user", "content": "hi"}],
            "reasoning_effort": "medium", "response_format": {"type": "json_object"}}),
        )
        .unwrap();
        assert!(b.get("tool_choice").is_none());
        assert_eq!(
            b["thinking"],
            json!({"type": "enabled", "budget_tokens": 2048})
        );
        assert_eq!(b["max_tokens"], 2048 + 4096);
    }

    #[test]
    fn unsupported_openai_param_errors_unless_dropped() {
        let e =
            body(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "n": 2}))
                .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::UnsupportedParams);
        assert_eq!(e.param(), Some("n"));
        let (req, _) = crate::options::parse_chat(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "n": 2, "logprobs": true})).unwrap();
        let mut t = target("claude-3-5-sonnet-20241022");
        t.drop_params = true;
        let b = messages_body(&req, &t).unwrap();
        assert!(b.get("n").is_none() && b.get("logprobs").is_none());
    }

    #[test]
    fn adaptive_models_get_effort() {
        let (req, _) = crate::options::parse_chat(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "high"})).unwrap();
        let b = messages_body(&req, &target("claude-opus-4-6")).unwrap();
        assert_eq!(b["thinking"], json!({"type": "adaptive"}));
        assert_eq!(b["output_config"], json!({"effort": "high"}));
        assert_eq!(b["max_tokens"], 128000);
        let bad = crate::options::parse_chat(json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "huge"})).unwrap().0;
        assert!(messages_body(&bad, &target("claude-sonnet-4-5")).is_err());
    }

    #[test]
    fn user_id_filter() {
        assert!(valid_user_id("user-123"));
        assert!(!valid_user_id("a@b.com"));
        assert!(!valid_user_id("+1 (555) 123-4567"));
    }
}
