//! OpenAI chat request → Bedrock Converse body (`POST /model/{modelId}/converse`).
//!
//! Reference: <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>.
//! Mapping (as LiteLLM's `AmazonConverseConfig`): system/developer → `system` text blocks (a
//! `cache_control` adds a `cachePoint` after the block), messages → `messages` with content
//! blocks (`text`, `image`/`document` bytes, `toolUse`, `toolResult`; consecutive turns of a
//! role merged), `max_tokens` / `temperature` / `top_p` / `stop` → `inferenceConfig`, tools →
//! `toolConfig`, JSON `response_format` → one forced tool whose input is the answer, and
//! non-OpenAI parameters (`top_k`, `thinking`, …) → `additionalModelRequestFields`.

use serde_json::{Map, Value};

use crate::provider::anthropic::thinking_for_effort;
use crate::provider::build::{obj, s};
use crate::provider::native::{
    bad_message, call_input, check_with_extras, has_tool_blocks, lookup, named, object_schema,
    retain_values, split_data_url, split_system, Turns,
};
use crate::provider::Target;
use crate::types::{ChatRequest, Content, ContentPart, Message, Put, Role, ToolChoice};
use crate::Result;

/// Default name of the JSON `response_format` tool (a `json_schema` uses its own name).
pub const RESPONSE_FORMAT_TOOL: &str = "json_tool_call";

/// Top-level Converse fields that callers may pass through as-is.
const TOP_LEVEL: &[&str] = &[
    "guardrailConfig",
    "performanceConfig",
    "promptVariables",
    "requestMetadata",
    "additionalModelResponseFieldPaths",
    "serviceTier",
];

/// Added to a thinking budget for `maxTokens` when the caller set no limit (LiteLLM).
const THINKING_HEADROOM: u32 = 4096;

/// The model id without a cross-region inference prefix (`us.`, `eu.`, `apac.`, `global.`, …).
pub fn base_model(model: &str) -> &str {
    const PREFIXES: &[&str] = &[
        "us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca.",
    ];
    PREFIXES
        .iter()
        .find_map(|p| model.strip_prefix(p))
        .unwrap_or(model)
}

/// Whether the model family takes Converse `toolChoice` (Bedrock's ToolChoice docs: Anthropic,
/// Mistral Large, Amazon Nova). Unknown ids (ARNs of imported or provisioned models) are
/// given the benefit of the doubt.
fn supports_tool_choice(model: &str) -> bool {
    let m = base_model(model);
    m.starts_with("arn:")
        || m.starts_with("anthropic.")
        || m.starts_with("mistral.")
        || m.starts_with("amazon.nova")
}

fn is_claude(model: &str) -> bool {
    base_model(model).starts_with("anthropic.") || model.starts_with("arn:")
}

/// The OpenAI parameters Converse can express for `model`.
pub fn supported_params(model: &str) -> Vec<&'static str> {
    let mut p = vec![
        "max_tokens",
        "max_completion_tokens",
        "stream_options",
        "stop",
        "temperature",
        "top_p",
        "tools",
        "response_format",
    ];
    if supports_tool_choice(model) {
        p.push("tool_choice");
    }
    if is_claude(model) {
        p.push("reasoning_effort");
    }
    p
}

/// Builds the Converse (or ConverseStream: same body) request body.
///
/// ```
/// use edgellm::{ChatRequest, provider::{bedrock, Target}};
/// let target = Target { model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(), ..Default::default() };
/// let body = bedrock::converse_body(&ChatRequest::user("bedrock/x", "Hi"), &target).unwrap();
/// assert_eq!(body["messages"][0]["content"][0]["text"], "Hi");
/// ```
pub fn converse_body(req: &ChatRequest, target: &Target) -> Result<Value> {
    let mut req = req.clone();
    let model = target.model.as_str();
    let mut supported = supported_params(model);
    if matches!(&req.tool_choice, Some(ToolChoice::Mode(m)) if m == "none") {
        // Converse has no "none"; LiteLLM refuses it too, or drops it with drop_params.
        supported.retain(|p| *p != "tool_choice");
    }
    let passthrough = check_with_extras(&mut req, &supported, target)?;

    let mut body = Map::new();
    let (system, rest) = split_system(&req.messages);
    body.put("messages", Value::Array(convert_messages(&rest)?));
    let sys = system_blocks(&system);
    if !sys.is_empty() {
        body.put("system", Value::Array(sys));
    }

    let mut additional = Map::new();
    if let Some(Value::Object(extra)) = req.extra.get("additionalModelRequestFields") {
        additional.extend(extra.clone());
    }
    for key in &passthrough {
        let Some(v) = req.extra.get(key) else {
            continue;
        };
        if key == "additionalModelRequestFields" {
            continue;
        }
        if TOP_LEVEL.contains(&key.as_str()) {
            body.insert(key.clone(), v.clone());
        } else {
            additional.insert(key.clone(), v.clone());
        }
    }
    if let Some(effort) = &req.reasoning_effort {
        match thinking_for_effort(effort, model)? {
            Some((thinking, output_config)) => {
                additional.put("thinking", thinking);
                if let Some(oc) = output_config {
                    additional.put("output_config", oc);
                }
            }
            None => {
                additional.remove("thinking");
            }
        }
    }
    let thinking = additional.get("thinking").cloned();
    let thinking_on = thinking
        .as_ref()
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t != "disabled");

    let mut inference = Map::new();
    let limit = req.output_limit().or_else(|| {
        thinking
            .as_ref()
            .and_then(|t| t.get("budget_tokens"))
            .and_then(Value::as_u64)
            .map(|b| (b as u32).saturating_add(THINKING_HEADROOM))
    });
    if let Some(n) = limit {
        inference.put("maxTokens", Value::from(n));
    }
    if let Some(t) = req.temperature {
        inference.put("temperature", Value::from(t));
    }
    if let Some(p) = req.top_p {
        inference.put("topP", Value::from(p));
    }
    if let Some(stop) = &req.stop {
        // Loops, not `collect`: each iterator chain is its own copy of the adapters in the wasm.
        let mut seqs = Vec::new();
        for q in stop.to_vec() {
            if !q.is_empty() {
                seqs.push(Value::String(q));
            }
        }
        if !seqs.is_empty() {
            inference.put("stopSequences", Value::Array(seqs));
        }
    }
    if !inference.is_empty() {
        body.put("inferenceConfig", Value::Object(inference));
    }

    let mut tools: Vec<Value> = Vec::new();
    for t in req.tools.iter().flatten() {
        let f = &t.function;
        tools.push(tool_spec(
            &f.name,
            f.description.as_deref(),
            f.parameters.clone(),
        ));
    }
    if tools.is_empty() && has_tool_blocks(&req.messages) {
        // Converse rejects toolUse/toolResult blocks without a toolConfig (LiteLLM's dummy tool).
        tools.push(tool_spec(
            "dummy_tool",
            Some("This is a dummy tool call"),
            None,
        ));
    }
    let mut tool_choice = match &req.tool_choice {
        Some(ToolChoice::Mode(m)) if m == "auto" => {
            Some(obj([("auto", Value::Object(Map::new()))]))
        }
        Some(ToolChoice::Mode(m)) if m == "required" => {
            Some(obj([("any", Value::Object(Map::new()))]))
        }
        Some(ToolChoice::Named(n)) => Some(obj([("tool", obj([("name", s(&n.function.name))]))])),
        _ => None,
    };
    if let Some((name, schema, description)) = response_format_tool(&req) {
        tools.push(tool_spec(&name, description.as_deref(), Some(schema)));
        if supports_tool_choice(model) && !thinking_on {
            tool_choice = Some(obj([("tool", obj([("name", Value::from(name))]))]));
        }
    }
    if !tools.is_empty() {
        let mut tc = Map::new();
        tc.put("tools", Value::Array(tools));
        if let Some(choice) = tool_choice {
            tc.put("toolChoice", choice);
        }
        body.put("toolConfig", Value::Object(tc));
    }
    if !additional.is_empty() {
        body.put("additionalModelRequestFields", Value::Object(additional));
    }
    Ok(Value::Object(body))
}

/// The tool name carrying a JSON `response_format`, if the request asks for JSON.
pub fn json_tool_name(req: &ChatRequest) -> Option<String> {
    response_format_tool(req).map(|(name, _, _)| name)
}

fn response_format_tool(req: &ChatRequest) -> Option<(String, Value, Option<String>)> {
    let rf = req.response_format.as_ref()?;
    let free = || object_schema(true);
    match rf.kind.as_str() {
        "json_object" => Some((RESPONSE_FORMAT_TOOL.into(), free(), None)),
        "json_schema" => {
            let js = rf.json_schema.as_ref();
            let name = js
                .map(|s| s.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| RESPONSE_FORMAT_TOOL.into());
            let schema = js.and_then(|s| s.schema.clone()).unwrap_or_else(free);
            Some((name, schema, js.and_then(|s| s.description.clone())))
        }
        _ => None,
    }
}

fn tool_spec(name: &str, description: Option<&str>, parameters: Option<Value>) -> Value {
    let mut spec = named(name, description);
    let schema = parameters.unwrap_or_else(|| object_schema(false));
    spec.put("inputSchema", obj([("json", schema)]));
    obj([("toolSpec", Value::from(spec))])
}

fn has_cache_control(extra: &Map<String, Value>) -> bool {
    extra.get("cache_control").is_some_and(|v| !v.is_null())
}

const CACHE_POINT: &str = r#"{"cachePoint":{"type":"default"}}"#;

fn cache_point() -> Value {
    serde_json::from_str(CACHE_POINT).expect("constant JSON")
}

fn system_blocks(system: &[&Message]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in system {
        match &m.content {
            Some(Content::Text(t)) if !t.is_empty() => {
                out.push(obj([("text", s(t))]));
                if has_cache_control(&m.extra) {
                    out.push(cache_point());
                }
            }
            Some(Content::Parts(parts)) => {
                for p in parts {
                    let Some(t) = p.text.as_deref().filter(|t| !t.is_empty()) else {
                        continue;
                    };
                    out.push(obj([("text", Value::from(t))]));
                    if has_cache_control(&p.extra) {
                        out.push(cache_point());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn convert_messages(messages: &[&Message]) -> Result<Vec<Value>> {
    let mut out = Turns::default();
    for (i, m) in messages.iter().enumerate() {
        let (role, mut blocks) = match m.role {
            Role::User => ("user", content_blocks(m.content.as_ref(), i, false)?),
            Role::Assistant => ("assistant", assistant_blocks(m, i)?),
            Role::Tool | Role::Function => ("user", vec![tool_result(m, i)?]),
            Role::System | Role::Developer => continue,
        };
        if has_cache_control(&m.extra) && !blocks.is_empty() {
            blocks.push(cache_point());
        }
        out.push(role, blocks);
    }
    Ok(out.into_values("content"))
}

fn content_blocks(content: Option<&Content>, i: usize, skip_empty: bool) -> Result<Vec<Value>> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(t)) if t.is_empty() && skip_empty => Ok(Vec::new()),
        Some(Content::Text(t)) => Ok(vec![obj([("text", s(t))])]),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::new();
            for p in parts {
                if skip_empty && p.kind == "text" && p.text.as_deref().unwrap_or("").is_empty() {
                    continue;
                }
                out.push(part_block(p, i)?);
                if has_cache_control(&p.extra) {
                    out.push(cache_point());
                }
            }
            Ok(out)
        }
    }
}

fn assistant_blocks(m: &Message, i: usize) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    // Claude's thinking from an earlier turn goes back first, as reasoningContent.
    if let Some(Value::Array(tb)) = m.extra.get("thinking_blocks") {
        for b in tb {
            match b.get("type").and_then(Value::as_str) {
                Some("thinking") => out.push(obj([(
                    "reasoningContent",
                    obj([(
                        "reasoningText",
                        obj([
                            ("text", b.get("thinking").cloned().unwrap_or_else(|| s(""))),
                            (
                                "signature",
                                b.get("signature").cloned().unwrap_or(Value::Null),
                            ),
                        ]),
                    )]),
                )])),
                Some("redacted_thinking") => out.push(obj([(
                    "reasoningContent",
                    obj([(
                        "redactedContent",
                        b.get("data").cloned().unwrap_or_else(|| s("")),
                    )]),
                )])),
                _ => {}
            }
        }
    }
    out.extend(content_blocks(m.content.as_ref(), i, true)?);
    for tc in m.tool_calls.iter().flatten() {
        let input = call_input(tc, i)?;
        out.push(obj([(
            "toolUse",
            obj([
                ("toolUseId", s(&tc.id)),
                ("name", s(&tc.function.name)),
                ("input", input),
            ]),
        )]));
    }
    Ok(out)
}

fn tool_result(m: &Message, i: usize) -> Result<Value> {
    let id = m
        .tool_call_id
        .as_deref()
        .or(m.name.as_deref())
        .ok_or_else(|| bad_message(i, "a tool message needs `tool_call_id`"))?;
    let mut content = content_blocks(m.content.as_ref(), i, false)?;
    retain_values(&mut content, &|b| b.get("cachePoint").is_none());
    if content.is_empty() {
        content.push(obj([("text", s(""))]));
    }
    Ok(obj([(
        "toolResult",
        obj([
            ("toolUseId", Value::from(id)),
            ("content", Value::from(content)),
        ]),
    )]))
}

/// Converse image formats (`ImageBlock.format`).
fn image_format(media: &str) -> Option<&'static str> {
    const FORMATS: &[(&str, &str)] = &[
        ("image/png", "png"),
        ("image/jpeg", "jpeg"),
        ("image/jpg", "jpeg"),
        ("image/gif", "gif"),
        ("image/webp", "webp"),
    ];
    lookup(FORMATS, media)
}

/// Converse document formats (`DocumentBlock.format`).
fn document_format(media: &str) -> Option<&'static str> {
    const FORMATS: &[(&str, &str)] = &[
        ("application/pdf", "pdf"),
        ("text/csv", "csv"),
        ("application/msword", "doc"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        ("application/vnd.ms-excel", "xls"),
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        ("text/html", "html"),
        ("text/plain", "txt"),
        ("text/markdown", "md"),
    ];
    lookup(FORMATS, media)
}

/// Base64 bytes as an image or document block (Converse JSON carries blobs as base64).
fn bytes_block(media: &str, data: &str, i: usize, n: usize) -> Result<Value> {
    if let Some(f) = image_format(media) {
        return Ok(obj([(
            "image",
            obj([
                ("format", Value::from(f)),
                ("source", obj([("bytes", Value::from(data))])),
            ]),
        )]));
    }
    if let Some(f) = document_format(media) {
        // Converse requires a document name (letters, digits, spaces, hyphens, brackets).
        return Ok(obj([(
            "document",
            obj([
                ("format", Value::from(f)),
                ("name", Value::from(format!("document {i}-{n}"))),
                ("source", obj([("bytes", Value::from(data))])),
            ]),
        )]));
    }
    Err(bad_message(
        i,
        &format!("media type `{media}` is not supported by Bedrock Converse"),
    ))
}

fn part_block(p: &ContentPart, i: usize) -> Result<Value> {
    match p.kind.as_str() {
        "text" => Ok(obj([(
            "text",
            Value::from(p.text.clone().unwrap_or_default()),
        )])),
        "image_url" => {
            let url = p
                .image_url
                .as_ref()
                .map(|u| u.url.as_str())
                .unwrap_or_default();
            if let Some((media, data)) = split_data_url(url) {
                return bytes_block(media, data, i, 0);
            }
            if url.starts_with("s3://") {
                let ext = url.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
                let format = match ext.as_str() {
                    "jpg" | "jpeg" => "jpeg",
                    "gif" => "gif",
                    "webp" => "webp",
                    _ => "png",
                };
                return Ok(obj([(
                    "image",
                    obj([
                        ("format", Value::from(format)),
                        (
                            "source",
                            obj([("s3Location", obj([("uri", Value::from(url))]))]),
                        ),
                    ]),
                )]));
            }
            // Converse takes bytes or S3 only; fetching a URL is I/O the sans-IO core does not do.
            Err(bad_message(i, &format!(
                "Bedrock Converse needs image bytes: pass the image as a base64 data URL (data:image/png;base64,…) or an s3:// URI, not {url}"
            )))
        }
        "file" => {
            let data = p
                .extra
                .get("file")
                .and_then(|f| f.get("file_data"))
                .and_then(Value::as_str)
                .and_then(split_data_url);
            match data {
                Some((media, b64)) => bytes_block(media, b64, i, 1),
                None => Err(bad_message(
                    i,
                    "a file part needs `file_data` as a base64 data URL for Bedrock",
                )),
            }
        }
        other => Err(bad_message(
            i,
            &format!("content part type `{other}` is not supported by Bedrock Converse"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(model: &str, req: Value) -> Result<Value> {
        let (req, _) = crate::options::parse_chat(req).unwrap();
        let target = Target {
            provider: "bedrock".into(),
            model: model.into(),
            ..Default::default()
        };
        converse_body(&req, &target)
    }

    const CLAUDE: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

    #[test]
    fn messages_system_inference_and_tools() {
        let b = body(CLAUDE, json!({"model": "x", "messages": [
            {"role": "system", "content": "S", "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]},
            {"role": "tool", "tool_call_id": "t1", "content": "42"},
        ], "max_tokens": 100, "temperature": 0.1, "top_p": 0.5, "stop": ["a", ""], "top_k": 3,
           "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}}}],
           "tool_choice": "required"}))
        .unwrap();
        assert_eq!(
            b["system"],
            json!([{"text": "S"}, {"cachePoint": {"type": "default"}}])
        );
        assert_eq!(
            b["messages"][0]["content"][1],
            json!({"image": {"format": "jpeg", "source": {"bytes": "/9j/"}}})
        );
        assert_eq!(
            b["messages"][1]["content"][0],
            json!({"toolUse": {"toolUseId": "t1", "name": "f", "input": {"x": 1}}})
        );
        assert_eq!(
            b["messages"][2]["content"][0],
            json!({"toolResult": {"toolUseId": "t1", "content": [{"text": "42"}]}})
        );
        assert_eq!(
            b["inferenceConfig"],
            json!({"maxTokens": 100, "temperature": 0.1, "topP": 0.5, "stopSequences": ["a"]})
        );
        assert_eq!(b["additionalModelRequestFields"], json!({"top_k": 3}));
        assert_eq!(b["toolConfig"]["toolChoice"], json!({"any": {}}));
        assert_eq!(
            b["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["x"]
                ["type"],
            "integer"
        );
    }

    #[test]
    fn json_mode_thinking_and_unsupported() {
        let b = body(CLAUDE, json!({"model": "x", "messages": [{"role": "user", "content": "hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": {"type": "object"}}}}))
        .unwrap();
        assert_eq!(b["toolConfig"]["tools"][0]["toolSpec"]["name"], "person");
        assert_eq!(
            b["toolConfig"]["toolChoice"],
            json!({"tool": {"name": "person"}})
        );
        let b = body(CLAUDE, json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "reasoning_effort": "high"})).unwrap();
        assert_eq!(
            b["additionalModelRequestFields"]["thinking"],
            json!({"type": "enabled", "budget_tokens": 4096})
        );
        assert_eq!(b["inferenceConfig"]["maxTokens"], 8192);
        let e = body("meta.llama3-1-70b-instruct-v1:0", json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "auto"})).unwrap_err();
        assert_eq!(e.param(), Some("tool_choice"));
        let e = body(CLAUDE, json!({"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "none"})).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::UnsupportedParams);
        let e = body(CLAUDE, json!({"model": "x", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/y.png"}]}]})).unwrap_err();
        assert!(e.message().contains("data URL"));
    }

    #[test]
    fn base_models() {
        assert_eq!(
            base_model("us.anthropic.claude-3-5-sonnet-20241022-v2:0"),
            "anthropic.claude-3-5-sonnet-20241022-v2:0"
        );
        assert!(supports_tool_choice("eu.amazon.nova-pro-v1:0"));
        assert!(!supports_tool_choice("cohere.command-r-v1:0"));
    }
}
