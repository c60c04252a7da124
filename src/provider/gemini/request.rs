//! OpenAI chat request → Gemini `GenerateContentRequest` body (shared by the Gemini API and
//! Vertex AI, which take the same JSON).
//!
//! Reference: <https://ai.google.dev/api/generate-content#request-body>,
//! <https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference>.

use serde_json::{Map, Value};

use super::schema;
use crate::provider::build::{obj, s};
use crate::provider::native::{bad_message, lookup, named, put_params, Param, Turns};
use crate::types::{ChatRequest, Content, ContentPart, Message, Put, Role, ToolChoice};
use crate::{Error, Result};

/// The OpenAI parameters (and LiteLLM's Gemini extras) that map onto `generateContent`.
pub const SUPPORTED_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "logprobs",
    "top_logprobs",
    "stream_options",
    // LiteLLM's provider-specific pass-through names.
    "top_k",
    "safety_settings",
    "thinking",
    "cached_content",
];

/// Separator LiteLLM uses to carry a Gemini `thoughtSignature` inside an OpenAI tool-call id,
/// so that OpenAI clients send it back untouched
/// (<https://ai.google.dev/gemini-api/docs/thought-signatures>).
pub const THOUGHT_SIGNATURE_SEPARATOR: &str = "__thought__";

/// Google's documented placeholder for function calls that carry no signature (history from
/// another provider); Gemini 3 rejects unsigned calls otherwise.
const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// Splits `call_0__thought__<sig>` into the id and the signature.
pub fn split_tool_call_id(id: &str) -> (&str, Option<&str>) {
    match id.split_once(THOUGHT_SIGNATURE_SEPARATOR) {
        Some((id, sig)) if !sig.is_empty() => (id, Some(sig)),
        _ => (id, None),
    }
}

/// Builds the request body. `model` is the provider-side model name (for model-dependent
/// mappings such as thinking levels).
pub fn build_body(req: &ChatRequest, model: &str) -> Result<Value> {
    let mut body = Map::new();
    let (system, contents) = convert_messages(&req.messages, model)?;
    body.put("contents", Value::Array(contents));
    if let Some(s) = system {
        body.put("systemInstruction", s);
    }
    if let Some(tools) = &req.tools {
        let mut decls = Vec::new();
        for t in tools {
            if t.kind != "function" {
                return Err(Error::bad_request(format!(
                    "tool type `{}` is not supported by Gemini (only `function`)",
                    t.kind
                ))
                .with_param("tools"));
            }
            let mut d = named(&t.function.name, t.function.description.as_deref());
            if let Some(p) = &t.function.parameters {
                if let Some(p) = schema::function_parameters(p)? {
                    d.put("parameters", p);
                }
            }
            decls.push(Value::Object(d));
        }
        if !decls.is_empty() {
            body.put(
                "tools",
                Value::Array(vec![obj([("functionDeclarations", Value::from(decls))])]),
            );
        }
    }
    if let Some(tc) = &req.tool_choice {
        body.put("toolConfig", tool_config(tc)?);
    }
    let config = generation_config(req, model)?;
    if !config.is_empty() {
        body.put("generationConfig", Value::Object(config));
    }
    if let Some(s) = req.extra.get("safety_settings") {
        body.put("safetySettings", s.clone());
    }
    if let Some(c) = req.extra.get("cached_content") {
        body.put("cachedContent", c.clone());
    }
    Ok(Value::Object(body))
}

fn tool_config(tc: &ToolChoice) -> Result<Value> {
    let cfg = match tc {
        ToolChoice::Mode(m) => match m.as_str() {
            "auto" => obj([("mode", s("AUTO"))]),
            "none" => obj([("mode", s("NONE"))]),
            "required" => obj([("mode", s("ANY"))]),
            other => {
                return Err(Error::bad_request(format!(
                    "tool_choice `{other}` is not one of auto, none, required"
                ))
                .with_param("tool_choice"))
            }
        },
        ToolChoice::Named(n) => obj([
            ("mode", s("ANY")),
            (
                "allowedFunctionNames",
                Value::Array(vec![s(&n.function.name)]),
            ),
        ]),
    };
    Ok(obj([("functionCallingConfig", cfg)]))
}

fn generation_config(req: &ChatRequest, model: &str) -> Result<Map<String, Value>> {
    let mut c = Map::new();
    put_params(
        req,
        &mut c,
        &[
            (Param::Temperature, "temperature"),
            (Param::TopP, "topP"),
            (Param::Extra("top_k"), "topK"),
            (Param::N, "candidateCount"),
            (Param::MaxTokens, "maxOutputTokens"),
            (Param::Stop, "stopSequences"),
            (Param::Seed, "seed"),
            (Param::PresencePenalty, "presencePenalty"),
            (Param::FrequencyPenalty, "frequencyPenalty"),
            (Param::Logprobs, "responseLogprobs"),
            (Param::TopLogprobs, "logprobs"),
        ],
    );
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            c.insert(k.into(), v);
        }
    };
    if let Some(rf) = &req.response_format {
        match rf.kind.as_str() {
            "text" => {}
            "json_object" => put("responseMimeType", Some("application/json".into())),
            "json_schema" => {
                put("responseMimeType", Some("application/json".into()));
                // `responseJsonSchema` takes JSON Schema itself ($ref, $defs, anyOf,
                // additionalProperties), so the caller's schema goes through as written.
                put(
                    "responseJsonSchema",
                    rf.json_schema.as_ref().and_then(|s| s.schema.clone()),
                );
            }
            other => {
                return Err(Error::bad_request(format!(
                    "response_format type `{other}` is not supported"
                ))
                .with_param("response_format"))
            }
        }
    }
    if let Some(effort) = &req.reasoning_effort {
        c.put("thinkingConfig", thinking_for_effort(effort, model)?);
    } else if let Some(t) = req.extra.get("thinking") {
        c.put("thinkingConfig", thinking_for_anthropic_param(t, model));
    }
    Ok(c)
}

fn is_gemini_3(model: &str) -> bool {
    model.contains("gemini-3")
}

/// `reasoning_effort` → `thinkingConfig`, as LiteLLM maps it: budgets for Gemini 2.x,
/// `thinkingLevel` for Gemini 3 (<https://ai.google.dev/gemini-api/docs/thinking>).
fn thinking_for_effort(effort: &str, model: &str) -> Result<Value> {
    let m = model.to_ascii_lowercase();
    let bad = || {
        Error::bad_request(format!(
            "reasoning_effort `{effort}` is not one of none, minimal, low, medium, high"
        ))
        .with_param("reasoning_effort")
    };
    if is_gemini_3(&m) {
        let flash = m.contains("gemini-3-flash") || m.contains("gemini-3.1-flash");
        let pro31 = m.contains("gemini-3.1-pro");
        let (level, include) = match effort {
            "minimal" => (if flash { "minimal" } else { "low" }, true),
            "low" => ("low", true),
            "medium" => (if flash || pro31 { "medium" } else { "high" }, true),
            "high" => ("high", true),
            // Gemini 3 cannot switch thinking off; the lowest level is the closest.
            "none" | "disable" => (if flash { "minimal" } else { "low" }, false),
            _ => return Err(bad()),
        };
        return Ok(obj([
            ("thinkingLevel", Value::from(level)),
            ("includeThoughts", Value::from(include)),
        ]));
    }
    let (budget, include) = match effort {
        "minimal" => {
            let b = if m.contains("gemini-2.5-flash-lite") {
                512
            } else if m.contains("gemini-2.5-flash") {
                1
            } else {
                128
            };
            (b, true)
        }
        "low" => (1024, true),
        "medium" => (2048, true),
        "high" => (4096, true),
        "none" | "disable" => (0, false),
        _ => return Err(bad()),
    };
    Ok(obj([
        ("thinkingBudget", Value::from(budget)),
        ("includeThoughts", Value::from(include)),
    ]))
}

/// Anthropic-style `thinking: {"type": "enabled", "budget_tokens": N}` (LiteLLM accepts it for
/// every reasoning provider).
fn thinking_for_anthropic_param(t: &Value, model: &str) -> Value {
    let enabled = t.get("type").and_then(Value::as_str) == Some("enabled");
    let budget = t.get("budget_tokens").and_then(Value::as_i64);
    let mut out = Map::new();
    if is_gemini_3(model) {
        out.put(
            "includeThoughts",
            Value::Bool(enabled && budget.is_some_and(|b| b != 0)),
        );
    } else {
        if enabled && budget != Some(0) {
            out.put("includeThoughts", Value::Bool(true));
        }
        if let Some(b) = budget {
            out.put("thinkingBudget", Value::from(b));
        }
    }
    Value::Object(out)
}

/// Messages → (`systemInstruction`, `contents`). System and developer messages anywhere in
/// the conversation go to `systemInstruction`; consecutive turns of one role are merged
/// (Gemini requires alternation); tool results become `functionResponse` parts of a user turn.
fn convert_messages(messages: &[Message], model: &str) -> Result<(Option<Value>, Vec<Value>)> {
    let mut system_parts: Vec<Value> = Vec::new();
    let mut turns = Turns::default();
    // A list, not a `HashMap`: a conversation has a few calls, and this was the wasm's only
    // `HashMap<String, String>` (a hash table instance of its own).
    let mut call_names: Vec<(String, String)> = Vec::new();

    for (i, m) in messages.iter().enumerate() {
        let (role, parts) = match m.role {
            Role::System | Role::Developer => {
                for p in text_parts(m, i)? {
                    system_parts.push(p);
                }
                continue;
            }
            Role::User => ("user", user_parts(m, i)?),
            Role::Assistant => ("model", assistant_parts(m, i, model, &mut call_names)?),
            Role::Tool => {
                let id = m.tool_call_id.as_deref().unwrap_or_default();
                let (bare, _) = split_tool_call_id(id);
                let name = call_name(&call_names, id)
                    .or_else(|| call_name(&call_names, bare))
                    .cloned()
                    .or_else(|| m.name.clone())
                    .ok_or_else(|| {
                        Error::bad_request(format!(
                            "messages[{i}]: tool result `{id}` answers no earlier assistant tool call (Gemini needs the function name)"
                        ))
                        .with_param("messages")
                    })?;
                ("user", vec![function_response(&name, m)])
            }
            Role::Function => {
                let name = m
                    .name
                    .clone()
                    .ok_or_else(|| bad_message(i, "function message without `name`"))?;
                ("user", vec![function_response(&name, m)])
            }
        };
        turns.push(role, parts);
    }

    let system = (!system_parts.is_empty()).then(|| obj([("parts", Value::from(system_parts))]));
    Ok((system, turns.into_values("parts")))
}

/// The function name of the call with id `id`, newest first.
fn call_name<'a>(names: &'a [(String, String)], id: &str) -> Option<&'a String> {
    names.iter().find(|(k, _)| k == id).map(|(_, v)| v)
}

fn text_parts(m: &Message, i: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    match &m.content {
        None => {}
        Some(Content::Text(t)) => push_text(&mut out, t),
        Some(Content::Parts(parts)) => {
            for p in parts {
                match p.kind.as_str() {
                    "text" => push_text(&mut out, p.text.as_deref().unwrap_or_default()),
                    other => {
                        return Err(Error::bad_request(format!(
                            "messages[{i}]: `{other}` parts are not allowed in a {} message",
                            role_name(m.role)
                        ))
                        .with_param("messages"))
                    }
                }
            }
        }
    }
    Ok(out)
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::System => "system",
        Role::Developer => "developer",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
        Role::Function => "function",
    }
}

fn push_text(out: &mut Vec<Value>, t: &str) {
    // Gemini rejects empty text parts.
    if !t.is_empty() {
        out.push(obj([("text", Value::from(t))]));
    }
}

fn user_parts(m: &Message, i: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    match &m.content {
        None => {}
        Some(Content::Text(t)) => push_text(&mut out, t),
        Some(Content::Parts(parts)) => {
            for p in parts {
                out.extend(user_part(p, i)?);
            }
        }
    }
    Ok(out)
}

fn user_part(p: &ContentPart, i: usize) -> Result<Option<Value>> {
    let bad = |what: String| bad_message(i, &what);
    Ok(match p.kind.as_str() {
        "text" => p
            .text
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| obj([("text", Value::from(t))])),
        "image_url" => {
            let url = p
                .image_url
                .as_ref()
                .ok_or_else(|| bad("`image_url` part without `image_url`".into()))?;
            Some(media_part(&url.url, None).map_err(bad)?)
        }
        "input_audio" => {
            let a = p
                .extra
                .get("input_audio")
                .ok_or_else(|| bad("`input_audio` part without `input_audio`".into()))?;
            let data = a.get("data").and_then(Value::as_str).unwrap_or_default();
            let format = a.get("format").and_then(Value::as_str).unwrap_or("wav");
            Some(obj([(
                "inlineData",
                obj([
                    ("mimeType", Value::from(format!("audio/{format}"))),
                    ("data", Value::from(data)),
                ]),
            )]))
        }
        "file" => {
            let f = p
                .extra
                .get("file")
                .ok_or_else(|| bad("`file` part without `file`".into()))?;
            let hint = f.get("format").and_then(Value::as_str);
            let src = f
                .get("file_data")
                .or_else(|| f.get("file_id"))
                .and_then(Value::as_str)
                .ok_or_else(|| bad("`file` part needs `file_data` or `file_id`".into()))?;
            Some(media_part(src, hint).map_err(bad)?)
        }
        other => {
            return Err(bad(format!(
                "content part type `{other}` is not supported by Gemini"
            )))
        }
    })
}

/// A `data:` URL → `inlineData`; any other URL (`https://`, `gs://`, a Files API URI) →
/// `fileData` with the MIME type from `hint` or the file extension.
fn media_part(url: &str, hint: Option<&str>) -> std::result::Result<Value, String> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| "malformed data URL (no `,`)".to_string())?;
        let mime = meta
            .strip_suffix(";base64")
            .ok_or_else(|| "data URLs must be base64-encoded".to_string())?;
        let mime = hint.unwrap_or(mime);
        return Ok(obj([(
            "inlineData",
            obj([("mimeType", Value::from(mime)), ("data", Value::from(data))]),
        )]));
    }
    let mut fd = Map::new();
    if let Some(m) = hint.or_else(|| mime_from_extension(url)) {
        fd.put("mimeType", Value::String(m.into()));
    }
    fd.put("fileUri", Value::String(url.into()));
    Ok(obj([("fileData", Value::from(fd))]))
}

/// MIME types Gemini accepts, by file extension
/// (<https://ai.google.dev/gemini-api/docs/image-understanding>, `…/audio`, `…/video`,
/// `…/document-processing`).
pub fn mime_from_extension(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let file = path.rsplit('/').next().unwrap_or(path);
    let ext = file.rsplit_once('.')?.1.to_ascii_lowercase();
    const MIME: &[(&str, &str)] = &[
        ("png", "image/png"),
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("webp", "image/webp"),
        ("heic", "image/heic"),
        ("heif", "image/heif"),
        ("gif", "image/gif"),
        ("pdf", "application/pdf"),
        ("txt", "text/plain"),
        ("wav", "audio/wav"),
        ("mp3", "audio/mp3"),
        ("aiff", "audio/aiff"),
        ("aac", "audio/aac"),
        ("ogg", "audio/ogg"),
        ("flac", "audio/flac"),
        ("mp4", "video/mp4"),
        ("mpeg", "video/mpeg"),
        ("mpg", "video/mpg"),
        ("mov", "video/mov"),
        ("avi", "video/avi"),
        ("flv", "video/x-flv"),
        ("webm", "video/webm"),
        ("wmv", "video/wmv"),
        ("3gp", "video/3gpp"),
        ("3gpp", "video/3gpp"),
    ];
    lookup(MIME, &ext)
}

fn assistant_parts(
    m: &Message,
    i: usize,
    model: &str,
    call_names: &mut Vec<(String, String)>,
) -> Result<Vec<Value>> {
    let mut out = text_parts_lenient(m);
    let calls = m.tool_calls.as_deref().unwrap_or_default();
    let any_signed = calls.iter().any(|c| split_tool_call_id(&c.id).1.is_some());
    for (n, c) in calls.iter().enumerate() {
        let args: Value = if c.function.arguments.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(&c.function.arguments).map_err(|e| {
                Error::bad_request(format!(
                    "messages[{i}].tool_calls[{n}].function.arguments is not valid JSON: {e}"
                ))
                .with_param("messages")
            })?
        };
        // Newest first, as a map's insert would replace an earlier call of the same id.
        call_names.insert(0, (c.id.clone(), c.function.name.clone()));
        let (bare, sig) = split_tool_call_id(&c.id);
        call_names.insert(0, (bare.to_string(), c.function.name.clone()));
        let mut part = Map::new();
        part.put(
            "functionCall",
            obj([("name", s(&c.function.name)), ("args", args)]),
        );
        let sig = match sig {
            Some(s) => Some(s),
            // Only the first call of a step carries a signature (parallel calls).
            None if n == 0 && !any_signed && is_gemini_3(model) => Some(SKIP_SIGNATURE),
            None => None,
        };
        if let Some(s) = sig {
            part.put("thoughtSignature", Value::String(s.into()));
        }
        out.push(Value::Object(part));
    }
    Ok(out)
}

/// Assistant text: text parts joined; other part types (refusals, audio) are not replayable.
fn text_parts_lenient(m: &Message) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(c) = &m.content {
        push_text(&mut out, &c.joined_text());
    }
    out
}

fn function_response(name: &str, m: &Message) -> Value {
    // The tool's output goes back as `{"content": "<text>"}`, as LiteLLM sends it: keeping it a
    // string means JSON output with keys Gemini would reject in a Struct (`$ref`, LiteLLM
    // #38223) still passes, and the model reads it as written.
    let text = m
        .content
        .as_ref()
        .map(Content::joined_text)
        .unwrap_or_default();
    obj([(
        "functionResponse",
        obj([
            ("name", Value::from(name)),
            ("response", obj([("content", Value::from(text))])),
        ]),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Value {
        let req: ChatRequest = serde_json::from_value(v).unwrap();
        build_body(&req, &req.model.clone()).unwrap()
    }

    fn body_err(v: Value) -> Error {
        let req: ChatRequest = serde_json::from_value(v).unwrap();
        build_body(&req, &req.model.clone()).unwrap_err()
    }

    #[test]
    fn system_and_developer_go_to_system_instruction_and_roles_merge() {
        let b = body(json!({"model": "gemini-2.0-flash", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": [{"type": "text", "text": "there"}]},
            {"role": "developer", "content": "Use French."},
            {"role": "assistant", "content": "Salut"},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "Again"}
        ]}));
        assert_eq!(
            b,
            json!({
                "systemInstruction": {"parts": [{"text": "Be brief."}, {"text": "Use French."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "Hi"}, {"text": "there"}]},
                    {"role": "model", "parts": [{"text": "Salut"}]},
                    {"role": "user", "parts": [{"text": "Again"}]}
                ]
            })
        );
    }

    #[test]
    fn generation_config_maps_every_sampling_param() {
        let b = body(
            json!({"model": "gemini-2.0-flash", "messages": [{"role": "user", "content": "x"}],
            "temperature": 0.5, "top_p": 0.9, "n": 2, "stop": "END", "max_tokens": 100,
            "seed": 7, "presence_penalty": 0.1, "frequency_penalty": 0.2, "top_k": 40,
            "logprobs": true, "top_logprobs": 3}),
        );
        assert_eq!(
            b["generationConfig"],
            json!({"temperature": 0.5, "topP": 0.9, "candidateCount": 2, "stopSequences": ["END"],
                "maxOutputTokens": 100, "seed": 7, "presencePenalty": 0.1, "frequencyPenalty": 0.2,
                "topK": 40, "responseLogprobs": true, "logprobs": 3})
        );
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "max_tokens": 5, "max_completion_tokens": 9}),
        );
        assert_eq!(b["generationConfig"]["maxOutputTokens"], 9);
    }

    #[test]
    fn response_formats() {
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_object"}}),
        );
        assert_eq!(
            b["generationConfig"],
            json!({"responseMimeType": "application/json"})
        );
        let schema = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": {"type": "string"}}, "additionalProperties": false});
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "strict": true, "schema": schema}}}),
        );
        assert_eq!(
            b["generationConfig"],
            json!({"responseMimeType": "application/json", "responseJsonSchema": schema})
        );
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "text"}}),
        );
        assert!(b.get("generationConfig").is_none());
    }

    #[test]
    fn reasoning_effort_maps_to_budgets_and_levels() {
        let cfg = |model: &str, e: &str| {
            body(json!({"model": model, "messages": [{"role": "user", "content": "x"}], "reasoning_effort": e}))
                ["generationConfig"]["thinkingConfig"]
                .clone()
        };
        assert_eq!(
            cfg("gemini-2.5-pro", "low"),
            json!({"thinkingBudget": 1024, "includeThoughts": true})
        );
        assert_eq!(
            cfg("gemini-2.5-pro", "medium"),
            json!({"thinkingBudget": 2048, "includeThoughts": true})
        );
        assert_eq!(
            cfg("gemini-2.5-pro", "high"),
            json!({"thinkingBudget": 4096, "includeThoughts": true})
        );
        assert_eq!(
            cfg("gemini-2.5-flash", "none"),
            json!({"thinkingBudget": 0, "includeThoughts": false})
        );
        assert_eq!(
            cfg("gemini-2.5-flash-lite", "minimal")["thinkingBudget"],
            512
        );
        assert_eq!(
            cfg("gemini-3-pro-preview", "medium"),
            json!({"thinkingLevel": "high", "includeThoughts": true})
        );
        assert_eq!(
            cfg("gemini-3-flash-preview", "minimal"),
            json!({"thinkingLevel": "minimal", "includeThoughts": true})
        );
        assert_eq!(
            cfg("gemini-3-pro-preview", "none"),
            json!({"thinkingLevel": "low", "includeThoughts": false})
        );
        let e = body_err(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "max"}),
        );
        assert_eq!(e.param(), Some("reasoning_effort"));
    }

    #[test]
    fn anthropic_style_thinking_param() {
        let b = body(
            json!({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "x"}],
            "thinking": {"type": "enabled", "budget_tokens": 800}}),
        );
        assert_eq!(
            b["generationConfig"]["thinkingConfig"],
            json!({"includeThoughts": true, "thinkingBudget": 800})
        );
    }

    #[test]
    fn tools_and_tool_choice() {
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "tools": [
                {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false}}},
                {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}
            ],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
        );
        assert_eq!(
            b["tools"],
            json!([{"functionDeclarations": [
                {"name": "get_weather", "description": "Weather", "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}},
                {"name": "now"}
            ]}])
        );
        assert_eq!(
            b["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
        );
        for (mode, want) in [("auto", "AUTO"), ("none", "NONE"), ("required", "ANY")] {
            let b = body(
                json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "tool_choice": mode}),
            );
            assert_eq!(b["toolConfig"]["functionCallingConfig"]["mode"], want);
        }
    }

    #[test]
    fn tool_calls_and_results_round_trip_with_names_looked_up() {
        let b = body(json!({"model": "gemini-2.5-flash", "messages": [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_0__thought__c2lnMQ==", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_1", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]},
            {"role": "tool", "tool_call_id": "call_0__thought__c2lnMQ==", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "{\"$ref\": \"x\"}"}]}
        ]}));
        assert_eq!(
            b["contents"],
            json!([
                {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c2lnMQ=="},
                    {"functionCall": {"name": "get_time", "args": {}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"content": "18C"}}},
                    {"functionResponse": {"name": "get_time", "response": {"content": "{\"$ref\": \"x\"}"}}}
                ]}
            ])
        );
    }

    #[test]
    fn gemini_3_gets_the_documented_placeholder_signature_for_foreign_history() {
        let b = body(json!({"model": "gemini-3-pro-preview", "messages": [
            {"role": "user", "content": "x"},
            {"role": "assistant", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"id": "toolu_2", "type": "function", "function": {"name": "g", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "a"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "b"}
        ]}));
        let parts = &b["contents"][1]["parts"];
        assert_eq!(
            parts[0]["thoughtSignature"],
            "skip_thought_signature_validator"
        );
        assert!(parts[1].get("thoughtSignature").is_none());
    }

    #[test]
    fn orphan_tool_result_and_bad_arguments_are_errors() {
        let e = body_err(json!({"model": "m", "messages": [
            {"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "1"}]}));
        assert!(e.message().contains("nope"));
        let e = body_err(json!({"model": "m", "messages": [
            {"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}));
        assert!(e.message().contains("not valid JSON"));
    }

    #[test]
    fn images_audio_and_files() {
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": "https://example.com/cat.JPG?size=large"},
                {"type": "image_url", "image_url": {"url": "gs://bucket/doc.pdf"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/noext"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
                {"type": "file", "file": {"file_id": "https://generativelanguage.googleapis.com/v1beta/files/abc", "format": "video/mp4"}}
            ]}]}),
        );
        assert_eq!(
            b["contents"][0]["parts"],
            json!([
                {"text": "What is this?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?size=large"}},
                {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://bucket/doc.pdf"}},
                {"fileData": {"fileUri": "https://example.com/noext"}},
                {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
                {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
                {"fileData": {"mimeType": "video/mp4", "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}
            ])
        );
        let e = body_err(
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "video_url", "video_url": "x"}]}]}),
        );
        assert!(e.message().contains("video_url"));
        let e = body_err(
            json!({"model": "m", "messages": [{"role": "system", "content": [{"type": "image_url", "image_url": "https://a/b.png"}]}]}),
        );
        assert!(e.message().contains("system"));
    }

    #[test]
    fn safety_settings_and_cached_content_pass_through() {
        let b = body(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
            "cached_content": "cachedContents/abc"}),
        );
        assert_eq!(b["safetySettings"][0]["threshold"], "BLOCK_NONE");
        assert_eq!(b["cachedContent"], "cachedContents/abc");
    }
}
