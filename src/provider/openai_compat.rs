//! The OpenAI protocol, shared by every OpenAI-compatible provider.
//!
//! A compatible provider is a [`Compat`] row in the registry table: base URL, key variable,
//! auth header, parameter list and quirks. All rows share this one transformer.
//!
//! API reference: <https://platform.openai.com/docs/api-reference/chat>

use serde_json::Value;

use super::{check_params, Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::decode::Frame;
use crate::http::{retry_after_ms, Headers, HttpRequest};
use crate::types::{ChatChunk, ChatRequest, ChatResponse};
use crate::{Error, ErrorKind, Result};

/// How the key is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// `<header>: <key>`.
    Header(&'static str),
    /// No key needed (local servers); a key is still sent as Bearer if given.
    Optional,
}

/// Behaviour differences between compatible servers, as data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks {
    /// Rename `max_completion_tokens` to `max_tokens` (servers that only know the old name).
    pub max_completion_tokens_as_max_tokens: bool,
    /// Send `developer` messages as `system`.
    pub developer_as_system: bool,
    /// Flatten text-only content-part lists into strings.
    pub content_parts_as_string: bool,
    /// Do not add `stream_options.include_usage` (servers that reject it).
    pub no_stream_options: bool,
}

/// The OpenAI chat parameters (LiteLLM's `OPENAI_CHAT_COMPLETION_PARAMS`, chat subset).
pub const OPENAI_PARAMS: &[&str] = &[
    "temperature",
    "top_p",
    "n",
    "stream_options",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "modalities",
    "audio",
    "prediction",
    "service_tier",
    "store",
    "metadata",
    "web_search_options",
    "verbosity",
    "safety_identifier",
    "prompt_cache_key",
    "prompt_cache_retention",
    "functions",
    "function_call",
];

/// One OpenAI-compatible provider.
#[derive(Debug, Clone, Copy)]
pub struct Compat {
    /// Description (id, name, default base, env vars, auth label, capabilities).
    pub info: ProviderInfo,
    /// How the key is sent.
    pub auth: Auth,
    /// Path appended to the base for chat.
    pub chat_path: &'static str,
    /// Parameters removed from [`OPENAI_PARAMS`] for this provider (None = all of them, and
    /// unknown extras are forwarded as-is).
    pub unsupported: Option<&'static [&'static str]>,
    /// Quirks.
    pub quirks: Quirks,
}

/// The defaults every row starts from (`..DEFAULT`).
pub const DEFAULT: Compat = Compat {
    info: ProviderInfo {
        id: "",
        name: "",
        default_base: "",
        env: &[],
        auth: "Bearer",
        caps: Capabilities {
            chat: true,
            stream: true,
            tools: true,
            vision: false,
            embeddings: false,
            images: false,
        },
    },
    auth: Auth::Bearer,
    chat_path: "/chat/completions",
    unsupported: None,
    quirks: Quirks {
        max_completion_tokens_as_max_tokens: false,
        developer_as_system: false,
        content_parts_as_string: false,
        no_stream_options: false,
    },
};

impl Compat {
    fn key_var(&self) -> &'static str {
        self.info
            .env
            .iter()
            .copied()
            .find(|n| n.ends_with("_KEY") || n.ends_with("_TOKEN"))
            .unwrap_or("the provider's API key variable")
    }

    fn url(&self, target: &Target) -> Result<String> {
        let base = target.base_or(self.info.default_base);
        if base.is_empty() {
            return Err(Error::bad_request(format!(
                "provider `{}` needs `api_base` (or {})",
                self.info.id,
                self.info
                    .env
                    .iter()
                    .copied()
                    .find(|n| n.contains("BASE"))
                    .unwrap_or("an api_base")
            ))
            .with_param("api_base"));
        }
        Ok(format!("{base}{}", self.chat_path))
    }

    fn body(&self, req: &ChatRequest, target: &Target) -> Result<Value> {
        let mut req = req.clone();
        if let Some(unsupported) = self.unsupported {
            let supported: Vec<&str> = OPENAI_PARAMS
                .iter()
                .copied()
                .filter(|p| !unsupported.contains(p))
                .collect();
            check_params(&mut req, &supported, target)?;
        }
        req.model = target.model.clone();
        if req.is_stream() && !self.quirks.no_stream_options {
            // Usage is needed for cost; ask for it. The caller's choice decides whether the
            // final usage chunk is shown (the engine filters it out otherwise).
            let so = req.stream_options.get_or_insert_with(Default::default);
            so.include_usage = Some(true);
        }
        if self.quirks.max_completion_tokens_as_max_tokens {
            if let Some(m) = req.max_completion_tokens.take() {
                req.max_tokens = Some(m);
            }
        }
        for m in &mut req.messages {
            if self.quirks.developer_as_system && m.role == crate::types::Role::Developer {
                m.role = crate::types::Role::System;
            }
            if self.quirks.content_parts_as_string {
                if let Some(crate::types::Content::Parts(parts)) = &m.content {
                    if parts.iter().all(|p| p.kind == "text") {
                        m.content = Some(crate::types::Content::Text(
                            parts.iter().filter_map(|p| p.text.as_deref()).collect(),
                        ));
                    }
                }
            }
        }
        Ok(serde_json::to_value(&req)?)
    }
}

impl Provider for Compat {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn supported_params(&self, _model: &str) -> Vec<&'static str> {
        let unsupported = self.unsupported.unwrap_or(&[]);
        OPENAI_PARAMS
            .iter()
            .copied()
            .filter(|p| !unsupported.contains(p))
            .collect()
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let mut http = HttpRequest::post_json(self.url(target)?, &self.body(req, target)?);
        match self.auth {
            Auth::Bearer => {
                let key = target.require_key(self.key_var())?;
                http.set_header("authorization", format!("Bearer {key}"));
            }
            Auth::Header(name) => {
                let key = target.require_key(self.key_var())?;
                http.set_header(name, key);
            }
            Auth::Optional => {
                if let Some(k) = target.api_key.as_ref().filter(|k| !k.expose().is_empty()) {
                    http.set_header("authorization", format!("Bearer {}", k.expose()));
                }
            }
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
        _target: &Target,
    ) -> Result<ChatResponse> {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| Error::decode(format!("invalid JSON from provider: {e}")))?;
        if v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(parse_openai_error(200, &[], body));
        }
        serde_json::from_value(v)
            .map_err(|e| Error::decode(format!("unexpected chat response shape: {e}")))
    }

    fn stream_decoder(&self, _req: &ChatRequest, _target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(OpenAiStream::default())
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        parse_openai_error(status, headers, body)
    }
}

/// Decodes OpenAI `chat.completion.chunk` SSE events.
#[derive(Debug, Default)]
pub struct OpenAiStream {
    done: bool,
    finished: bool,
}

impl StreamDecoder for OpenAiStream {
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()> {
        let data = frame.data.trim();
        if self.done || data.is_empty() {
            return Ok(());
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if frame.event.as_deref() == Some("error") || data.starts_with("{\"error\"") {
            return Err(parse_openai_error(200, &[], data.as_bytes()));
        }
        let chunk: ChatChunk = serde_json::from_str(data)
            .map_err(|e| Error::decode(format!("invalid stream chunk: {e}")))?;
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.finished = true;
        }
        out.push(chunk);
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<ChatChunk>) -> Result<()> {
        if self.done || self.finished {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::BadGateway,
                "stream ended before the provider finished (no finish_reason, no [DONE])",
            ))
        }
    }
}

/// Maps an OpenAI-style error (`{"error": {"message", "type", "code", "param"}}`) to an
/// [`Error`]. The HTTP status decides the class; structured codes refine it.
pub fn parse_openai_error(status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let err = v.get("error").unwrap_or(&v);
    let (message, code, kind_s, param) = match err {
        Value::Object(o) => (
            o.get("message").and_then(Value::as_str).map(str::to_string),
            o.get("code").and_then(|c| {
                c.as_str()
                    .map(str::to_string)
                    .or_else(|| c.as_i64().map(|n| n.to_string()))
            }),
            o.get("type").and_then(Value::as_str).map(str::to_string),
            o.get("param").and_then(Value::as_str).map(str::to_string),
        ),
        Value::String(s) => (Some(s.clone()), None, None, None),
        _ => (None, None, None, None),
    };
    let message = message.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        if text.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            text.chars().take(2000).collect()
        }
    });
    let status = if status == 200 {
        code.as_deref().and_then(|c| c.parse().ok()).unwrap_or(500)
    } else {
        status
    };
    let mut kind = ErrorKind::from_status(status);
    match code.as_deref().or(kind_s.as_deref()) {
        Some("context_length_exceeded" | "string_above_max_length") => {
            kind = ErrorKind::ContextWindowExceeded
        }
        Some("content_policy_violation" | "content_filter") => {
            kind = ErrorKind::ContentPolicyViolation
        }
        Some("insufficient_quota" | "rate_limit_exceeded") if status == 429 => {
            kind = ErrorKind::RateLimited
        }
        Some("model_not_found") if status == 404 || status == 400 => kind = ErrorKind::NotFound,
        Some("invalid_api_key") => kind = ErrorKind::Authentication,
        _ => {}
    }
    let mut e =
        Error::new(kind, message).with_status(if kind == ErrorKind::ContextWindowExceeded {
            400
        } else {
            status
        });
    if let Some(c) = code {
        e = e.with_code(c);
    }
    if let Some(p) = param {
        e = e.with_param(p);
    }
    if let Some(ms) = retry_after_ms(&headers.to_vec()) {
        e = e.with_retry_after_ms(ms);
    }
    e
}
