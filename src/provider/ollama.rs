//! Ollama's native API: `ollama_chat/<model>` → `POST /api/chat`, `ollama/<model>` →
//! `POST /api/generate` (as in LiteLLM: `llms/ollama/chat` and `llms/ollama/completion`).
//!
//! API reference: <https://github.com/ollama/ollama/blob/main/docs/api.md>
//!
//! - Base: `api_base`, `OLLAMA_API_BASE`, or `http://localhost:11434`; a key
//!   (`OLLAMA_API_KEY`) is optional and sent as Bearer (Ollama's cloud and authenticating proxies).
//! - Streams are NDJSON: one JSON object per line, the last with `done: true`, `done_reason`,
//!   `prompt_eval_count` (input tokens) and `eval_count` (output tokens).
//!
//! Quirks:
//! - Sampling parameters go in `options` (`max_tokens` → `num_predict`); JSON mode is
//!   `format: "json"`, a JSON schema is `format: <schema>`; `reasoning_effort` → `think`.
//! - Tool calls come whole (never as argument fragments), with arguments as a JSON object and
//!   no id; ids `call_<n>` are assigned in order. Tool results name the function
//!   (`tool_name`), looked up from the assistant call their `tool_call_id` answers.
//! - Ollama has no `tool_choice`: `auto` is the default, `none` sends no tools, anything else is
//!   unsupported.
//! - `/api/generate` takes one prompt: system messages become `system`, a single user message
//!   is the prompt, longer conversations are written as LiteLLM's `### User:` / `### Assistant:`
//!   transcript (`ollama_pt`). Tools are not available there.

pub mod embed;

use serde_json::{Map, Value};

use super::openai_compat::parse_openai_error;
use super::{check_params, Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::decode::{Frame, Framing};
use crate::http::{Headers, HttpRequest};
use crate::provider::build::{at, obj, parse, s};
use crate::provider::native::{
    assistant, one_choice, put_params, tool_call, tool_call_delta, ChunkHead, Param,
};
use crate::types::{
    json_text, ChatChunk, ChatRequest, ChatResponse, Content, Delta, FinishReason, Put, Role,
    ToolCall, ToolChoice, Usage,
};
use crate::{Error, ErrorKind, Result};

/// Which Ollama endpoint a provider id uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Generate,
}

/// An Ollama provider (`ollama` or `ollama_chat`).
#[derive(Debug)]
pub struct Ollama {
    info: ProviderInfo,
    endpoint: Endpoint,
}

const DEFAULT_BASE: &str = "http://localhost:11434";

/// `ollama_chat/<model>`: `/api/chat`, with tools.
pub static OLLAMA_CHAT: Ollama = Ollama {
    info: ProviderInfo {
        id: "ollama_chat",
        name: "Ollama (/api/chat)",
        default_base: DEFAULT_BASE,
        env: &["OLLAMA_API_KEY", "OLLAMA_API_BASE"],
        auth: "none (optional Bearer)",
        caps: Capabilities {
            chat: true,
            stream: true,
            tools: true,
            vision: true,
            embeddings: true,
            images: false,
            text_completion: &[],
            moderation: false,
            rerank: false,
        },
    },
    endpoint: Endpoint::Chat,
};

/// `ollama/<model>`: `/api/generate`.
pub static OLLAMA: Ollama = Ollama {
    info: ProviderInfo {
        id: "ollama",
        name: "Ollama (/api/generate)",
        default_base: DEFAULT_BASE,
        env: &["OLLAMA_API_KEY", "OLLAMA_API_BASE"],
        auth: "none (optional Bearer)",
        caps: Capabilities {
            chat: true,
            stream: true,
            tools: false,
            vision: true,
            embeddings: true,
            images: false,
            text_completion: &[],
            moderation: false,
            rerank: false,
        },
    },
    endpoint: Endpoint::Generate,
};

const CHAT_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "response_format",
    "reasoning_effort",
    "tools",
    "tool_choice",
    "stream_options",
];

const GENERATE_PARAMS: &[&str] = &[
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "response_format",
    "reasoning_effort",
    "stream_options",
];

/// Ollama-specific options a caller may pass through (`options` of the Modelfile docs).
const OPTION_EXTRAS: &[&str] = &[
    "top_k",
    "min_p",
    "typical_p",
    "repeat_last_n",
    "repeat_penalty",
    "mirostat",
    "mirostat_eta",
    "mirostat_tau",
    "num_ctx",
    "num_keep",
    "num_batch",
    "num_gpu",
    "num_thread",
    "tfs_z",
];

/// Top-level Ollama fields a caller may pass through.
const TOP_EXTRAS: &[&str] = &["keep_alive", "think", "options", "format"];

impl Ollama {
    fn params(&self) -> &'static [&'static str] {
        match self.endpoint {
            Endpoint::Chat => CHAT_PARAMS,
            Endpoint::Generate => GENERATE_PARAMS,
        }
    }

    fn url(&self, target: &Target) -> String {
        let base = target.base_or(DEFAULT_BASE);
        let path = match self.endpoint {
            Endpoint::Chat => "/api/chat",
            Endpoint::Generate => "/api/generate",
        };
        if base.ends_with(path) {
            base.to_string()
        } else {
            format!("{base}{path}")
        }
    }

    fn body(&self, req: &ChatRequest, target: &Target) -> Result<Value> {
        let mut req = req.clone();
        let mut allowed: Vec<&str> = self.params().to_vec();
        allowed.extend(OPTION_EXTRAS);
        allowed.extend(TOP_EXTRAS);
        check_params(&mut req, &allowed, target)?;
        let mut options = Map::new();
        put_params(
            &req,
            &mut options,
            &[
                (Param::MaxTokens, "num_predict"),
                (Param::Temperature, "temperature"),
                (Param::TopP, "top_p"),
                (Param::FrequencyPenalty, "frequency_penalty"),
                (Param::PresencePenalty, "presence_penalty"),
                (Param::Seed, "seed"),
                (Param::Stop, "stop"),
            ],
        );
        for k in OPTION_EXTRAS {
            if let Some(v) = req.extra.get(*k) {
                options.insert((*k).into(), v.clone());
            }
        }
        if let Some(Value::Object(o)) = req.extra.get("options") {
            for (k, v) in o {
                options.insert(k.clone(), v.clone());
            }
        }
        let mut body = Map::new();
        body.put("model", Value::String(target.model.clone()));
        match self.endpoint {
            Endpoint::Chat => {
                body.put("messages", Value::Array(chat_messages(&req)?));
                let send_tools = match &req.tool_choice {
                    None => true,
                    Some(ToolChoice::Mode(m)) if m == "auto" => true,
                    Some(ToolChoice::Mode(m)) if m == "none" => false,
                    Some(_) if target.drop_params => true,
                    Some(_) => {
                        return Err(Error::new(
                            ErrorKind::UnsupportedParams,
                            "Ollama cannot force a tool call: only `tool_choice` \"auto\" or \"none\" is supported. Set `drop_params: true` to drop it.",
                        )
                        .with_param("tool_choice")
                        .with_provider(self.info.id)
                        .with_model(target.model.clone()))
                    }
                };
                if let (Some(tools), true) = (&req.tools, send_tools) {
                    body.put("tools", crate::types::to_value_via_text(tools)?);
                }
            }
            Endpoint::Generate => {
                let (system, prompt, images) = generate_prompt(&req);
                body.put("prompt", Value::String(prompt));
                if let Some(s) = system {
                    body.put("system", Value::String(s));
                }
                if !images.is_empty() {
                    body.put("images", Value::from(images));
                }
            }
        }
        if !options.is_empty() {
            body.put("options", Value::Object(options));
        }
        if let Some(rf) = &req.response_format {
            match rf.kind.as_str() {
                "json_object" => {
                    body.put("format", "json".into());
                }
                "json_schema" => {
                    if let Some(schema) = rf.json_schema.as_ref().and_then(|s| s.schema.clone()) {
                        body.put("format", schema);
                    }
                }
                _ => {}
            }
        }
        if let Some(effort) = &req.reasoning_effort {
            // gpt-oss takes the level itself; other thinking models take a boolean.
            let think = if target.model.starts_with("gpt-oss") {
                Value::String(effort.clone())
            } else {
                Value::Bool(matches!(effort.as_str(), "low" | "medium" | "high"))
            };
            body.put("think", think);
        }
        for k in ["keep_alive", "think", "format"] {
            if let Some(v) = req.extra.get(k) {
                body.insert(k.into(), v.clone());
            }
        }
        body.put("stream", Value::Bool(req.is_stream()));
        Ok(Value::Object(body))
    }
}

/// The text of a message and its images (base64 without the `data:` prefix, as Ollama wants).
fn text_and_images(content: Option<&Content>) -> (String, Vec<String>) {
    let Some(content) = content else {
        return (String::new(), Vec::new());
    };
    let mut images = Vec::new();
    if let Content::Parts(parts) = content {
        for p in parts {
            if let Some(u) = &p.image_url {
                images.push(
                    u.as_data_url()
                        .map_or_else(|| u.url.clone(), |(_, data)| data.to_string()),
                );
            }
        }
    }
    (content.joined_text(), images)
}

fn role_str(r: Role) -> &'static str {
    match r {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool | Role::Function => "tool",
    }
}

fn chat_messages(req: &ChatRequest) -> Result<Vec<Value>> {
    let mut names: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for m in &req.messages {
        let (text, images) = text_and_images(m.content.as_ref());
        let mut o = Map::new();
        o.put("role", role_str(m.role).into());
        o.put("content", Value::String(text));
        if !images.is_empty() {
            o.put("images", Value::from(images));
        }
        if let Some(calls) = &m.tool_calls {
            let mut list = Vec::new();
            for c in calls {
                names.push((c.id.clone(), c.function.name.clone()));
                let args: Value = if c.function.arguments.trim().is_empty() {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_str(&c.function.arguments).map_err(|e| {
                        Error::bad_request(format!(
                            "tool call `{}` has arguments that are not JSON: {e}",
                            c.id
                        ))
                        .with_param("messages")
                    })?
                };
                list.push(obj([(
                    "function",
                    obj([("name", s(&c.function.name)), ("arguments", args)]),
                )]));
            }
            o.put("tool_calls", Value::Array(list));
        }
        if m.role == Role::Tool {
            let name = m
                .tool_call_id
                .as_ref()
                .and_then(|id| names.iter().find(|(i, _)| i == id).map(|(_, n)| n.clone()))
                .or_else(|| m.name.clone());
            if let Some(n) = name {
                o.put("tool_name", Value::String(n));
            }
        }
        out.push(Value::Object(o));
    }
    Ok(out)
}

/// (system, prompt, images) for `/api/generate`.
fn generate_prompt(req: &ChatRequest) -> (Option<String>, String, Vec<String>) {
    let mut system = Vec::new();
    let mut turns: Vec<(Role, String)> = Vec::new();
    let mut images = Vec::new();
    for m in &req.messages {
        let (text, imgs) = text_and_images(m.content.as_ref());
        images.extend(imgs);
        match m.role {
            Role::System | Role::Developer => system.push(text),
            r => turns.push((r, text)),
        }
    }
    let system = (!system.is_empty()).then(|| system.join("\n"));
    let prompt = match turns.as_slice() {
        [(Role::User, t)] => t.clone(),
        _ => {
            let mut p = String::new();
            for (r, t) in &turns {
                let label = if *r == Role::Assistant {
                    "Assistant"
                } else {
                    "User"
                };
                p.push_str(&format!("### {label}:\n{t}\n\n"));
            }
            p.push_str("### Assistant:\n");
            p
        }
    };
    (system, prompt, images)
}

fn finish_reason(done_reason: Option<&str>, tool_calls: bool) -> FinishReason {
    if tool_calls {
        return FinishReason::ToolCalls;
    }
    match done_reason {
        Some("length") => FinishReason::Length,
        Some("stop") | None | Some("") => FinishReason::Stop,
        Some(other) => FinishReason::Other(other.to_string()),
    }
}

fn usage_of(v: &Value) -> Option<Usage> {
    let p = v.get("prompt_eval_count").and_then(Value::as_u64);
    let c = v.get("eval_count").and_then(Value::as_u64);
    (p.is_some() || c.is_some()).then(|| Usage::new(p.unwrap_or(0), c.unwrap_or(0)))
}

/// Whole tool calls from a `message.tool_calls` array, numbered from `first`.
fn tool_calls_of(message: &Value, first: usize) -> Vec<ToolCall> {
    let Some(calls) = message.get("tool_calls").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(calls.len());
    for (i, c) in calls.iter().enumerate() {
        let f = c.get("function").unwrap_or(&Value::Null);
        let args = match f.get("arguments") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => json_text(v),
            None => "{}".into(),
        };
        out.push(tool_call(
            c.get("id")
                .and_then(Value::as_str)
                .map_or_else(|| format!("call_{}", first + i), str::to_string),
            f.get("name").and_then(Value::as_str).unwrap_or_default(),
            args,
        ));
    }
    out
}

fn str_field<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    at(v, ptr).and_then(Value::as_str)
}

fn response_id(target: &Target) -> String {
    format!("chatcmpl-ollama-{}", target.now_ms)
}

fn error_in_body(v: &Value) -> Option<Error> {
    v.get("error")
        .filter(|e| !e.is_null())
        .map(|_| parse_openai_error(200, &[], json_text(v).as_bytes()))
}

impl Provider for Ollama {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn supported_params(&self, _model: &str) -> Vec<&'static str> {
        self.params().to_vec()
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let mut http = HttpRequest::post_json(self.url(target), &self.body(req, target)?);
        if let Some(k) = target.api_key.as_ref().filter(|k| !k.expose().is_empty()) {
            http.set_header("authorization", format!("Bearer {}", k.expose()));
        }
        for (k, v) in &target.headers {
            http.set_header(k, v.clone());
        }
        Ok(http)
    }

    fn chat_response(
        &self,
        body: &[u8],
        _req: &ChatRequest,
        target: &Target,
    ) -> Result<ChatResponse> {
        let v: Value =
            parse(body).map_err(|e| Error::decode(format!("invalid JSON from Ollama: {e}")))?;
        if let Some(e) = error_in_body(&v) {
            return Err(e);
        }
        let (content, reasoning, calls) = match self.endpoint {
            Endpoint::Chat => {
                let m = v.get("message").unwrap_or(&Value::Null);
                (
                    str_field(m, "/content").map(str::to_string),
                    str_field(m, "/thinking").map(str::to_string),
                    tool_calls_of(m, 0),
                )
            }
            Endpoint::Generate => (
                str_field(&v, "/response").map(str::to_string),
                str_field(&v, "/thinking").map(str::to_string),
                Vec::new(),
            ),
        };
        let has_calls = !calls.is_empty();
        let message = assistant(
            content.filter(|c| !(c.is_empty() && has_calls)),
            reasoning.filter(|r| !r.is_empty()),
            calls,
            Vec::new(),
        );
        Ok(one_choice(
            response_id(target),
            str_field(&v, "/model").unwrap_or(&target.model).to_string(),
            (target.now_ms / 1000) as i64,
            message,
            Some(finish_reason(str_field(&v, "/done_reason"), has_calls)),
            usage_of(&v),
        ))
    }

    fn stream_framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn stream_decoder(&self, _req: &ChatRequest, target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(OllamaStream {
            endpoint: self.endpoint,
            head: ChunkHead {
                id: response_id(target),
                created: (target.now_ms / 1000) as i64,
                model: target.model.clone(),
            },
            started: false,
            calls: 0,
            done: false,
        })
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        parse_openai_error(status, headers, body)
    }

    fn embedding_request(
        &self,
        req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        embed::request(req, target)
    }

    fn embedding_response(
        &self,
        body: &[u8],
        _req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Result<crate::types::EmbeddingResponse> {
        embed::response(body, target)
    }
}

/// Turns Ollama's NDJSON lines into OpenAI chunks.
#[derive(Debug)]
struct OllamaStream {
    endpoint: Endpoint,
    head: ChunkHead,
    started: bool,
    calls: usize,
    done: bool,
}

impl StreamDecoder for OllamaStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
        if self.done {
            return Ok(());
        }
        let v: Value = serde_json::from_str(&frame.data)
            .map_err(|e| Error::decode(format!("invalid Ollama stream line: {e}")))?;
        if let Some(e) = error_in_body(&v) {
            return Err(e);
        }
        if let Some(m) = str_field(&v, "/model") {
            self.head.model = m.to_string();
        }
        let (content, thinking, calls) = match self.endpoint {
            Endpoint::Chat => {
                let m = v.get("message").unwrap_or(&Value::Null);
                (
                    str_field(m, "/content"),
                    str_field(m, "/thinking"),
                    tool_calls_of(m, self.calls),
                )
            }
            Endpoint::Generate => (
                str_field(&v, "/response"),
                str_field(&v, "/thinking"),
                Vec::new(),
            ),
        };
        let mut delta = Delta::default();
        if !self.started {
            delta.role = Some("assistant".into());
        }
        if let Some(c) = content.filter(|c| !c.is_empty()) {
            delta.content = Some(c.to_string());
        }
        if let Some(t) = thinking.filter(|t| !t.is_empty()) {
            delta.reasoning_content = Some(t.to_string());
        }
        if !calls.is_empty() {
            let mut deltas = Vec::with_capacity(calls.len());
            for c in calls {
                deltas.push(tool_call_delta(
                    self.calls as u32,
                    true,
                    Some(&c.id),
                    Some(&c.function.name),
                    &c.function.arguments,
                ));
                self.calls += 1;
            }
            delta.tool_calls = Some(deltas);
        }
        let has_payload = delta.role.is_some()
            || delta.content.is_some()
            || delta.reasoning_content.is_some()
            || delta.tool_calls.is_some();
        if has_payload {
            self.started = true;
            self.head.push(out, delta, None);
        }
        if v.get("done").and_then(Value::as_bool) == Some(true) {
            self.done = true;
            let f = finish_reason(str_field(&v, "/done_reason"), self.calls > 0);
            self.head.push(out, Delta::default(), Some(f));
            if let Some(u) = usage_of(&v) {
                self.head.push_usage(out, u);
            }
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<ChatChunk>) -> Result<()> {
        if self.done {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::BadGateway,
                "Ollama stream ended before a line with `done: true`",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(v: Value) -> ChatRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn tool_results_name_their_function() {
        let r = req(json!({"model":"m","messages":[
            {"role":"user","content":"weather?"},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
            {"role":"tool","tool_call_id":"c1","content":"22C"}
        ]}));
        let m = chat_messages(&r).unwrap();
        assert_eq!(
            m[1]["tool_calls"][0]["function"]["arguments"]["city"],
            "Paris"
        );
        assert_eq!(m[2]["tool_name"], "get_weather");
    }

    #[test]
    fn generate_prompt_single_turn_and_transcript() {
        let r = req(
            json!({"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}),
        );
        let (s, p, _) = generate_prompt(&r);
        assert_eq!((s.as_deref(), p.as_str()), (Some("Be brief."), "Hi"));
        let r = req(
            json!({"model":"m","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},{"role":"user","content":"Bye"}]}),
        );
        assert_eq!(
            generate_prompt(&r).1,
            "### User:\nHi\n\n### Assistant:\nHello\n\n### User:\nBye\n\n### Assistant:\n"
        );
    }

    #[test]
    fn forced_tool_choice_is_unsupported() {
        let r = req(
            json!({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"required"}),
        );
        let e = OLLAMA_CHAT.body(&r, &Target::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedParams);
    }
}
