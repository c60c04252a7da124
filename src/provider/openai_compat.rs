//! The OpenAI protocol, shared by every OpenAI-compatible provider.
//!
//! A compatible provider is a [`Compat`] row in the registry table: base URL, key variable,
//! auth header, unsupported parameters, renames and quirks. All rows share this one transformer;
//! what differs between servers is data on the row (or, for the few that need code, a function
//! pointer in [`Hooks`]), never a `match` on the provider id here.
//!
//! API reference: <https://platform.openai.com/docs/api-reference/chat>

use serde_json::{Map, Value};

use super::{
    check_params, set_params, Capabilities, Provider, ProviderInfo, StreamDecoder, Target,
};
use crate::decode::Frame;
use crate::http::{retry_after_ms, Headers, HttpRequest, Method};
use crate::provider::build::at;
use crate::types::{
    json_text, ChatChunk, ChatRequest, ChatResponse, Content, FinishReason, Role, ToolChoice,
    WireJson,
};
use crate::{Error, ErrorKind, Result};

pub use super::openai_response::WireFacts;

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
    /// Remove `name` from messages (servers that reject `messages[].name`).
    pub strip_message_name: bool,
    /// Remove `strict` from tool function definitions (servers that reject it).
    pub strip_tool_strict: bool,
    /// Send `tool_choice: "required"` as `"any"` (Mistral's name for it).
    pub tool_choice_required_as_any: bool,
    /// The server counts reasoning tokens outside `completion_tokens` (but inside
    /// `total_tokens`); fold them in so `total = prompt + completion` as in OpenAI's contract.
    pub reasoning_tokens_outside_completion: bool,
    /// JSON pointer to the usage object when the server does not put it at `/usage`
    /// (Groq streams it at `/x_groq/usage`).
    pub usage_at: Option<&'static str>,
    /// Field carrying reasoning text in messages and deltas, copied to `reasoning_content`
    /// when that is absent (OpenRouter and vLLM use `reasoning`).
    pub reasoning_field: Option<&'static str>,
}

/// A hook that builds the chat URL.
pub type UrlHook = fn(&Compat, &Target) -> Result<String>;
/// A hook that sets auth headers on the request.
pub type AuthHook = fn(&Compat, &Target, &mut HttpRequest) -> Result<()>;
/// A hook that names the model sent upstream.
pub type ModelHook = fn(&Target) -> String;

/// Code for the few rows whose URL, auth or model naming cannot be said as data.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hooks {
    /// Builds the full chat URL (default: base + `chat_path`).
    pub url: Option<UrlHook>,
    /// Sets the auth headers (default: from [`Compat::auth`]).
    pub auth: Option<AuthHook>,
    /// Maps the model name sent upstream (default: as given).
    pub model: Option<ModelHook>,
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

/// OpenAI-only parameters that other servers generally do not implement. Rows list them in
/// [`Compat::unsupported`] (together with their own gaps) so that they fail loudly or are
/// dropped with `drop_params`, instead of being silently ignored upstream.
pub const OPENAI_ONLY: &[&str] = &[
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
    /// OpenAI parameters this provider rejects (None = accepts all of them). Parameters that
    /// are not OpenAI's are always forwarded as given (provider-specific extras).
    pub unsupported: Option<&'static [&'static str]>,
    /// Further unsupported parameters for models whose name contains the first string.
    pub unsupported_for: &'static [(&'static str, &'static [&'static str])],
    /// Body fields renamed on the way out (`("seed", "random_seed")`).
    pub renames: &'static [(&'static str, &'static str)],
    /// Extra headers; `{VAR}` in a value is replaced by that setting or environment variable,
    /// and the header is left out when it is unset.
    pub headers: &'static [(&'static str, &'static str)],
    /// Quirks.
    pub quirks: Quirks,
    /// Code hooks.
    pub hooks: Hooks,
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
            text_completion: &[],
            moderation: false,
            rerank: false,
        },
    },
    auth: Auth::Bearer,
    chat_path: "/chat/completions",
    unsupported: None,
    unsupported_for: &[],
    renames: &[],
    headers: &[],
    quirks: Quirks {
        max_completion_tokens_as_max_tokens: false,
        developer_as_system: false,
        content_parts_as_string: false,
        no_stream_options: false,
        strip_message_name: false,
        strip_tool_strict: false,
        tool_choice_required_as_any: false,
        reasoning_tokens_outside_completion: false,
        usage_at: None,
        reasoning_field: None,
    },
    hooks: Hooks {
        url: None,
        auth: None,
        model: None,
    },
};

/// Replaces `{VAR}` placeholders from the target's settings; `None` names the first unset one.
fn fill_placeholders(template: &str, target: &Target) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        let value = target.setting(name).ok_or_else(|| name.to_string())?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Compat {
    /// The variable holding the key (for error messages).
    pub fn key_var(&self) -> &'static str {
        self.info
            .env
            .iter()
            .copied()
            .find(|n| n.ends_with("_KEY") || n.ends_with("_TOKEN"))
            .unwrap_or("the provider's API key variable")
    }

    /// The endpoint base: `api_base`, else the default with `{VAR}` placeholders filled.
    pub fn base(&self, target: &Target) -> Result<String> {
        if let Some(b) = target.api_base.as_deref().filter(|b| !b.is_empty()) {
            return Ok(b.trim_end_matches('/').to_string());
        }
        if self.info.default_base.is_empty() {
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
            .with_param("api_base")
            .with_provider(self.info.id));
        }
        fill_placeholders(self.info.default_base, target).map_err(|var| {
            Error::bad_request(format!(
                "provider `{}` needs {var} (environment) or `{}` to build its URL",
                self.info.id,
                var.to_ascii_lowercase()
            ))
            .with_param("api_base")
            .with_provider(self.info.id)
        })
    }

    fn url(&self, target: &Target) -> Result<String> {
        match self.hooks.url {
            Some(f) => f(self, target),
            // Appended to the base's own string: `format!` made a second one per request.
            None => Ok(self.base(target)? + self.chat_path),
        }
    }

    /// The OpenAI parameters this row rejects for `model`.
    pub fn unsupported_params(&self, model: &str) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self.unsupported.unwrap_or(&[]).to_vec();
        for (needle, params) in self.unsupported_for {
            if model.contains(needle) {
                out.extend(params.iter().copied());
            }
        }
        out
    }

    /// Sets the auth header from [`Compat::auth`].
    pub fn apply_auth(&self, target: &Target, http: &mut HttpRequest) -> Result<()> {
        match self.auth {
            Auth::Bearer => {
                let key = target.require_key(self.key_var())?;
                http.set_header("authorization", ["Bearer ", key].concat());
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
        Ok(())
    }

    /// The upstream JSON body for `req`.
    pub fn body(&self, req: &ChatRequest, target: &Target) -> Result<Value> {
        let prepared = self.prepared(req, target)?;
        Ok(self.renamed(crate::types::to_value_via_text(&prepared)?))
    }

    /// `body` with the row's renames applied: a parameter moves to its new name unless that
    /// is set already.
    fn renamed(&self, mut body: Value) -> Value {
        if let Some(obj) = body.as_object_mut() {
            for (from, to) in self.renames {
                if let Some(v) = obj.remove(*from) {
                    obj.entry(to.to_string()).or_insert(v);
                }
            }
        }
        body
    }

    /// [`Compat::body`] as text. Unless a rename applies, the request is written straight from
    /// the typed value: a `Value` tree in between was built and dropped per request.
    fn body_bytes(&self, req: &ChatRequest, target: &Target) -> Result<Vec<u8>> {
        if self.renames.is_empty() && self.only_renames_model(req, target) {
            if let Some(b) = with_model(req, &self.upstream_model(target))? {
                return Ok(b);
            }
        }
        // A `Value` of the request (made through text, see `ChatRequest::param_names`) only
        // when a rename applies.
        let prepared = self.prepared(req, target)?;
        if !self
            .renames
            .iter()
            .any(|(from, _)| prepared.has_param(from))
        {
            return Ok(serde_json::to_vec(&prepared)?);
        }
        let body = self.renamed(crate::types::to_value_via_text(&prepared)?);
        Ok(serde_json::to_vec(&body)?)
    }

    /// The model name sent upstream.
    fn upstream_model(&self, target: &Target) -> String {
        match self.hooks.model {
            Some(f) => f(target),
            None => target.model.clone(),
        }
    }

    /// Whether [`Compat::prepared`] changes nothing of `req` but its model: no parameter to
    /// check, not a stream (usage is asked for), no quirk that rewrites requests.
    fn only_renames_model(&self, req: &ChatRequest, target: &Target) -> bool {
        let q = self.quirks;
        !req.is_stream()
            && self.unsupported.is_none_or(<[_]>::is_empty)
            && !self
                .unsupported_for
                .iter()
                .any(|(needle, _)| target.model.contains(needle))
            && !(q.max_completion_tokens_as_max_tokens
                || q.developer_as_system
                || q.content_parts_as_string
                || q.strip_message_name
                || q.strip_tool_strict
                || q.tool_choice_required_as_any)
    }

    /// `req` as this row sends it: unsupported parameters checked, the upstream model name,
    /// stream usage asked for, and the row's quirks applied (all but renames).
    fn prepared(&self, req: &ChatRequest, target: &Target) -> Result<ChatRequest> {
        let mut req = req.clone();
        let bad = self.unsupported_params(&target.model);
        if !bad.is_empty() {
            // Only OpenAI parameters the provider lacks are refused; anything else the caller
            // set is a provider-specific extra and is forwarded (LiteLLM's pass-through).
            let set = set_params(&req);
            let allowed: Vec<&str> = set
                .iter()
                .map(String::as_str)
                .filter(|p| !bad.contains(p))
                .collect();
            check_params(&mut req, &allowed, target)?;
        }
        req.model = self.upstream_model(target);
        if req.is_stream() && !self.quirks.no_stream_options {
            // Usage is needed for cost; ask for it. The caller's choice decides whether the
            // final usage chunk is shown (the stream filters it out otherwise).
            let so = req.stream_options.get_or_insert_with(Default::default);
            so.include_usage = Some(true);
        }
        if self.quirks.max_completion_tokens_as_max_tokens {
            if let Some(m) = req.max_completion_tokens.take() {
                req.max_tokens = Some(m);
            }
        }
        if self.quirks.tool_choice_required_as_any {
            if let Some(ToolChoice::Mode(m)) = &mut req.tool_choice {
                if m == "required" {
                    *m = "any".into();
                }
            }
        }
        if self.quirks.strip_tool_strict {
            for t in req.tools.iter_mut().flatten() {
                t.function.strict = None;
            }
        }
        for m in &mut req.messages {
            if self.quirks.developer_as_system && m.role == Role::Developer {
                m.role = Role::System;
            }
            if self.quirks.strip_message_name {
                m.name = None;
            }
            if self.quirks.content_parts_as_string {
                if let Some(Content::Parts(parts)) = &m.content {
                    if parts.iter().all(|p| p.kind == "text") {
                        m.content = Some(Content::Text(
                            parts.iter().filter_map(|p| p.text.as_deref()).collect(),
                        ));
                    }
                }
            }
        }
        Ok(req)
    }

    /// Whether [`Compat::normalize`] leaves this row's bodies as they are, except for empty
    /// finish reasons (checked per body).
    fn passes_bodies(&self) -> bool {
        let q = self.quirks;
        q.usage_at.is_none()
            && !q.reasoning_tokens_outside_completion
            && q.reasoning_field.is_none()
    }

    /// The `model` and `usage` of a successful chat response `body` when a gateway can forward
    /// the body as it came (it says what the parsed and re-serialized response would); `None`
    /// when it must be parsed with [`Provider::chat_response`] (this row rewrites bodies, or
    /// the body needs a rewrite, lacks a field serialization writes, or is not a chat
    /// completion).
    pub fn forwardable(&self, body: &[u8]) -> Option<WireFacts> {
        if !self.passes_bodies() {
            return None;
        }
        super::openai_response::read(body)
    }

    /// Brings a provider's response or chunk object to OpenAI's shape in place: usage at
    /// `/usage`, reasoning at `reasoning_content`, no empty finish reasons.
    pub fn normalize(&self, v: &mut Value) {
        if let Some(ptr) = self.quirks.usage_at {
            let missing = v.get("usage").is_none_or(Value::is_null);
            if missing {
                if let Some(u) = at(v, ptr).cloned() {
                    v["usage"] = u;
                }
            }
        }
        if self.quirks.reasoning_tokens_outside_completion {
            if let Some(u) = v.get_mut("usage").and_then(Value::as_object_mut) {
                fold_reasoning_tokens(u);
            }
        }
        let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) else {
            return;
        };
        for c in choices {
            let Some(c) = c.as_object_mut() else { continue };
            let has_tools = ["message", "delta"].iter().any(|k| {
                c.get(*k)
                    .and_then(|m| m.get("tool_calls"))
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            });
            // NOTE: some servers (xAI with tools, several local servers) send "" instead of a
            // finish reason; "" is no valid OpenAI value, so name what happened.
            if c.get("finish_reason").and_then(Value::as_str) == Some("") {
                c.insert(
                    "finish_reason".into(),
                    Value::String(if has_tools { "tool_calls" } else { "stop" }.into()),
                );
            }
            if let Some(field) = self.quirks.reasoning_field {
                for k in ["message", "delta"] {
                    if let Some(m) = c.get_mut(k).and_then(Value::as_object_mut) {
                        let absent = m.get("reasoning_content").is_none_or(Value::is_null);
                        if absent {
                            if let Some(r) = m.get(field).filter(|r| r.is_string()).cloned() {
                                m.insert("reasoning_content".into(), r);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `req` as JSON with `model` in place of its own, without cloning the request (its messages
/// are most of it): the derived `Serialize` writes `model` first, so the text is
/// `{"model":<req.model>` and the rest. `None` if it is not (then the caller clones).
fn with_model(req: &ChatRequest, model: &str) -> Result<Option<Vec<u8>>> {
    // The model is replaced in the serialized text itself: a second buffer for the result
    // was one more allocation and copy of the whole text per request.
    let mut text = serde_json::to_vec(req)?;
    const HEAD: &[u8] = b"{\"model\":";
    let mut quoted = Vec::with_capacity(req.model.len().max(model.len()) + 2);
    serde_json::to_writer(&mut quoted, &req.model)?;
    if !text.starts_with(HEAD) || !text[HEAD.len()..].starts_with(&quoted) {
        return Ok(None);
    }
    if req.model != model {
        let old_len = quoted.len();
        quoted.clear();
        serde_json::to_writer(&mut quoted, model)?;
        replace_range(&mut text, HEAD.len(), old_len, &quoted);
    }
    Ok(Some(text))
}

/// `v.splice(at..at + len, with)`, the tail moved once by `copy_within`: `Vec::splice`'s general
/// machinery (a `Drain`, refilling it, the `Splice` drop) was 0.13 KB of the gzipped package
/// for this one use.
fn replace_range(v: &mut Vec<u8>, at: usize, len: usize, with: &[u8]) {
    let end = at + len;
    let tail = v.len() - end;
    if with.len() > len {
        v.resize(v.len() + with.len() - len, 0);
    }
    v.copy_within(end..end + tail, at + with.len());
    v.truncate(at + with.len() + tail);
    v[at..at + with.len()].copy_from_slice(with);
}

/// Folds `completion_tokens_details.reasoning_tokens` into `completion_tokens` when the total
/// shows they were counted separately (and only then, so it is idempotent).
fn fold_reasoning_tokens(u: &mut Map<String, Value>) {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let reasoning = n(u
        .get("completion_tokens_details")
        .and_then(|d| d.get("reasoning_tokens")));
    let (p, c, t) = (
        n(u.get("prompt_tokens")),
        n(u.get("completion_tokens")),
        n(u.get("total_tokens")),
    );
    if reasoning > 0 && t == p + c + reasoning {
        u.insert("completion_tokens".into(), Value::from(c + reasoning));
    }
}

impl Provider for Compat {
    fn info(&self) -> &ProviderInfo {
        &self.info
    }

    fn supported_params(&self, model: &str) -> Vec<&'static str> {
        let bad = self.unsupported_params(model);
        OPENAI_PARAMS
            .iter()
            .copied()
            .filter(|p| !bad.contains(p))
            .collect()
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let mut http = HttpRequest {
            method: Method::Post,
            url: self.url(target)?,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(self.body_bytes(req, target)?),
        };
        match self.hooks.auth {
            Some(f) => f(self, target, &mut http)?,
            None => self.apply_auth(target, &mut http)?,
        }
        for (name, template) in self.headers {
            if let Ok(v) = fill_placeholders(template, target) {
                http.set_header(name, v);
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
        let mut v: Value = crate::provider::build::parse(body)
            .map_err(|e| Error::decode(format!("invalid JSON from provider: {e}")))?;
        if v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(parse_openai_error(200, &[], body));
        }
        self.normalize(&mut v);
        <ChatResponse as crate::types::FromValue>::from_value(v)
            .map_err(|e| Error::decode(format!("unexpected chat response shape: {e}")))
    }

    fn stream_decoder(&self, _req: &ChatRequest, _target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(OpenAiStream::new(*self))
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        parse_openai_error(status, headers, body)
    }

    // Beyond chat: the OpenAI wire format (`openai_format`), gated by the row's capabilities.

    fn embedding_request(
        &self,
        req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        use super::openai_format as f;
        if !self.info.caps.embeddings {
            return Err(super::unsupported(&self.info, "embeddings"));
        }
        let body = f::embedding_body(req, &f::compat_model(self, target))?;
        f::compat_request(self, target, f::EMBEDDINGS_PATH, &body)
    }

    fn embedding_response(
        &self,
        body: &[u8],
        _req: &crate::types::EmbeddingRequest,
        _target: &Target,
    ) -> Result<crate::types::EmbeddingResponse> {
        super::openai_format::embedding_response(body)
    }

    fn image_generation_request(
        &self,
        req: &crate::types::ImageRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        use super::openai_format as f;
        if !self.info.caps.images {
            return Err(super::unsupported(&self.info, "image generation"));
        }
        let body = f::image_body(req, &f::compat_model(self, target))?;
        f::compat_request(self, target, f::IMAGES_PATH, &body)
    }

    fn image_generation_response(
        &self,
        body: &[u8],
        _req: &crate::types::ImageRequest,
        _target: &Target,
    ) -> Result<crate::types::ImageResponse> {
        super::openai_format::image_response(body)
    }

    fn native_text_completion(&self, model: &str) -> bool {
        super::openai_format::serves(self.info.caps.text_completion, model)
    }

    fn text_completion_request(
        &self,
        req: &crate::types::TextCompletionRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        use super::openai_format as f;
        if !self.native_text_completion(&target.model) {
            return Err(super::unsupported(&self.info, "text completion"));
        }
        let model = f::compat_model(self, target);
        let body = f::text_completion_body(req, &model, !self.quirks.no_stream_options)?;
        f::compat_request(self, target, f::COMPLETIONS_PATH, &body)
    }

    fn text_completion_response(
        &self,
        body: &[u8],
        _req: &crate::types::TextCompletionRequest,
        _target: &Target,
    ) -> Result<crate::types::TextCompletionResponse> {
        super::openai_format::text_completion_response(body)
    }

    fn moderation_request(
        &self,
        req: &crate::types::ModerationRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        use super::openai_format as f;
        if !self.info.caps.moderation {
            return Err(super::unsupported(&self.info, "moderation"));
        }
        let body = f::moderation_body(req, &f::compat_model(self, target))?;
        f::compat_request(self, target, f::MODERATIONS_PATH, &body)
    }

    fn moderation_response(
        &self,
        body: &[u8],
        _req: &crate::types::ModerationRequest,
        _target: &Target,
    ) -> Result<crate::types::ModerationResponse> {
        super::openai_format::moderation_response(body)
    }

    fn rerank_request(
        &self,
        req: &crate::types::RerankRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        use super::openai_format as f;
        if !self.info.caps.rerank {
            return Err(super::unsupported(&self.info, "rerank"));
        }
        let body = f::rerank_body(req, &f::compat_model(self, target))?;
        f::compat_request(self, target, f::RERANK_PATH, &body)
    }

    fn rerank_response(
        &self,
        body: &[u8],
        _req: &crate::types::RerankRequest,
        _target: &Target,
    ) -> Result<crate::types::RerankResponse> {
        super::openai_format::rerank_response(body)
    }
}

/// Decodes OpenAI `chat.completion.chunk` SSE events, normalized by a row's quirks.
///
/// Rows whose quirks leave chunks as they are (most of them) read each event straight into a
/// [`ChatChunk`] and keep its text as the chunk's [`WireJson`](crate::types::WireJson), so a
/// gateway forwards it without serializing it again. Rows that rewrite chunks, and events that
/// need a rewrite (an empty `finish_reason`) or are not plain chunks (errors), go through
/// [`Compat::normalize`] on a `Value`.
#[derive(Debug)]
pub struct OpenAiStream {
    row: Compat,
    /// The row's quirks never change a chunk (beyond empty finish reasons, checked per chunk).
    direct: bool,
    done: bool,
    finished: bool,
}

impl Default for OpenAiStream {
    fn default() -> Self {
        Self::new(DEFAULT)
    }
}

impl OpenAiStream {
    /// A decoder applying `row`'s quirks to each chunk.
    pub fn new(row: Compat) -> Self {
        Self {
            row,
            direct: row.passes_bodies(),
            done: false,
            finished: false,
        }
    }

    /// The chunk through `Value` and [`Compat::normalize`]; also turns error events into errors.
    fn normalized(&self, frame: &Frame, data: &str) -> Result<ChatChunk> {
        let mut v: Value = serde_json::from_str(data)
            .map_err(|e| Error::decode(format!("invalid stream chunk: {e}")))?;
        // An error can arrive inside a 200 stream, as an `error` event or as a chunk carrying an
        // `error` object (OpenRouter sends both an error and `finish_reason: "error"`).
        if frame.event.as_deref() == Some("error") || v.get("error").is_some_and(|e| !e.is_null()) {
            return Err(parse_openai_error(200, &[], data.as_bytes()));
        }
        self.row.normalize(&mut v);
        <ChatChunk as crate::types::FromValue>::from_value(v)
            .map_err(|e| Error::decode(format!("invalid stream chunk: {e}")))
    }
}

/// The chunk read straight from `data`, with `data` as its wire text when that has every
/// field of a chunk; `None` when it needs [`OpenAiStream::normalized`] (not a plain chunk, an
/// error, an empty finish reason).
fn direct_chunk(data: &str) -> Option<ChatChunk> {
    let super::openai_chunk::ReadChunk {
        mut chunk,
        complete,
    } = super::openai_chunk::read(data).ok()?;
    if chunk.extra.get("error").is_some_and(|e| !e.is_null())
        || chunk
            .choices
            .iter()
            .any(|c| matches!(&c.finish_reason, Some(FinishReason::Other(r)) if r.is_empty()))
    {
        return None;
    }
    // Multi-line `data:` (pretty-printed JSON) cannot go out as one SSE line as it is.
    if complete && !data.bytes().any(|b| b == b'\n' || b == b'\r') {
        chunk.wire = WireJson::new(data);
    }
    Some(chunk)
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
        let direct = (self.direct && frame.event.as_deref() != Some("error"))
            .then(|| direct_chunk(data))
            .flatten();
        let chunk = match direct {
            Some(c) => c,
            None => self.normalized(frame, data)?,
        };
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.finished = true;
        }
        // NOTE: Azure sends a first chunk with no choices, only `prompt_filter_results`; a
        // chunk with neither choices nor usage carries nothing for the caller.
        if chunk.choices.is_empty() && chunk.usage.is_none() {
            return Ok(());
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

/// The fields of an error body, wherever the provider put them.
#[derive(Debug, Default)]
struct ErrorFields {
    message: Option<String>,
    code: Option<String>,
    kind: Option<String>,
    param: Option<String>,
    inner_code: Option<String>,
}

fn as_code(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::to_string)
        .or_else(|| v.as_i64().map(|n| n.to_string()))
}

/// Reads the error shapes compatible servers use:
/// - OpenAI: `{"error": {"message", "type", "code", "param"}}` (Azure adds `innererror.code`);
/// - a bare string: `{"error": "…"}` (DeepInfra, vLLM, several local servers);
/// - top level: `{"message", "type", "code"}` (Mistral), `{"error_code", "message"}` (Databricks);
/// - FastAPI: `{"detail": "…"}` or `{"detail": [{"msg": …}]}`;
/// - Cloudflare: `{"errors": [{"code", "message"}]}`.
fn error_fields(v: &Value) -> ErrorFields {
    let mut f = ErrorFields::default();
    let str_of = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
    match v.get("error") {
        Some(e @ Value::Object(_)) => {
            f.message = str_of(e, "message");
            f.code = e.get("code").and_then(as_code);
            f.kind = str_of(e, "type");
            f.param = str_of(e, "param");
            f.inner_code = e
                .get("innererror")
                .and_then(|i| i.get("code"))
                .and_then(as_code);
        }
        Some(Value::String(s)) => f.message = Some(s.clone()),
        _ => {}
    }
    if f.message.is_none() {
        f.message = str_of(v, "message");
        f.code = f.code.or_else(|| {
            v.get("code")
                .and_then(as_code)
                .or_else(|| str_of(v, "error_code"))
        });
        f.kind = f.kind.or_else(|| str_of(v, "type"));
        f.param = f.param.or_else(|| str_of(v, "param"));
    }
    if f.message.is_none() {
        match v.get("detail") {
            Some(Value::String(s)) => f.message = Some(s.clone()),
            Some(Value::Array(items)) => {
                let msgs: Vec<String> = items
                    .iter()
                    .map(|i| {
                        let loc = i
                            .get("loc")
                            .and_then(Value::as_array)
                            .map(|l| {
                                l.iter()
                                    .map(|p| {
                                        p.as_str().map_or_else(|| json_text(p), str::to_string)
                                    })
                                    .collect::<Vec<_>>()
                                    .join(".")
                            })
                            .unwrap_or_default();
                        let msg = str_of(i, "msg").unwrap_or_else(|| json_text(i));
                        if loc.is_empty() {
                            msg
                        } else {
                            format!("{loc}: {msg}")
                        }
                    })
                    .collect();
                f.message = Some(msgs.join("; "));
            }
            Some(d @ Value::Object(_)) => f.message = str_of(d, "message"),
            _ => {}
        }
    }
    if f.message.is_none() {
        // Mistral nests FastAPI's validation detail: `{"message": {"detail": [...]}}`.
        if let Some(inner @ Value::Object(_)) = v.get("message") {
            f.message = error_fields(inner).message;
        }
    }
    if f.message.is_none() {
        if let Some(first) = v
            .get("errors")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            f.message = str_of(first, "message");
            f.code = f.code.or_else(|| first.get("code").and_then(as_code));
        }
    }
    f
}

/// Maps an error body from an OpenAI-compatible server to an [`Error`].
///
/// The HTTP status decides the class; only structured codes (`code`, `type`,
/// `innererror.code`) refine it within what the status allows, so a prompt that merely
/// mentions "429" cannot turn a 400 into a rate limit. `status == 200` means the error came
/// inside a successful stream; then a numeric `code` gives the status (else 500).
///
/// ```
/// use edgellm::provider::openai_compat::parse_openai_error;
/// let body = br#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
/// let e = parse_openai_error(400, &[], body);
/// assert_eq!(e.kind(), edgellm::ErrorKind::ContextWindowExceeded);
/// assert_eq!(e.param(), Some("messages"));
/// ```
pub fn parse_openai_error(status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
    let v: Value = crate::provider::build::parse(body).unwrap_or(Value::Null);
    let f = error_fields(&v);
    let message = f.message.clone().unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        if text.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            text.chars().take(2000).collect()
        }
    });
    let status = if status == 200 {
        f.code
            .as_deref()
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|s| (400..600).contains(s))
            .or(match f.kind.as_deref() {
                Some("rate_limit_error" | "rate_limit_exceeded") => Some(429),
                Some("invalid_request_error") => Some(400),
                Some("authentication_error") => Some(401),
                _ => None,
            })
            .unwrap_or(500)
    } else {
        status
    };
    let mut kind = ErrorKind::from_status(status);
    let codes = [
        f.code.as_deref(),
        f.inner_code.as_deref(),
        f.kind.as_deref(),
    ];
    for c in codes.into_iter().flatten() {
        match (c, kind) {
            (
                "context_length_exceeded" | "string_above_max_length",
                ErrorKind::BadRequest | ErrorKind::ContextWindowExceeded,
            ) => kind = ErrorKind::ContextWindowExceeded,
            (
                "content_policy_violation"
                | "content_filter"
                | "ResponsibleAIPolicyViolation"
                | "moderation_blocked",
                ErrorKind::BadRequest | ErrorKind::PermissionDenied,
            ) => kind = ErrorKind::ContentPolicyViolation,
            ("model_not_found", ErrorKind::BadRequest) => kind = ErrorKind::NotFound,
            ("invalid_api_key", ErrorKind::BadRequest) => kind = ErrorKind::Authentication,
            _ => continue,
        }
        break;
    }
    let out_status = match kind {
        ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation => 400,
        ErrorKind::NotFound if status == 400 => 404,
        ErrorKind::Authentication if status == 400 => 401,
        _ => status,
    };
    let mut e = Error::new(kind, message).with_status(out_status);
    if let Some(c) = f.code.or(f.inner_code) {
        e = e.with_code(c);
    }
    if let Some(p) = f.param {
        e = e.with_param(p);
    }
    if let Some(ms) = retry_after_ms(&headers.to_vec()) {
        e = e.with_retry_after_ms(ms);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_text_says_what_the_body_value_says() {
        let reqs = [
            serde_json::json!({"model": "x/m", "messages": [{"role": "user", "content": "Hi \"q\" é"}], "temperature": 0.5, "seed": 3, "user": "u", "vendor_extra": {"a": [1, 2.5]}}),
            serde_json::json!({"model": "x/m", "messages": [{"role": "developer", "content": [{"type": "text", "text": "a"}], "name": "n"}], "max_completion_tokens": 9, "tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f", "parameters": {}, "strict": true}}]}),
            serde_json::json!({"model": "x/m", "messages": [{"role": "user", "content": "Hi"}], "stream": true}),
        ];
        let mut fast = 0;
        for id in ["openai", "mistral", "groq", "deepseek", "together_ai"] {
            let Some(super::super::registry::Entry::Compat(row)) = super::super::registry::get(id)
            else {
                panic!("{id} is not a compat row");
            };
            for r in &reqs {
                let req: ChatRequest = serde_json::from_value(r.clone()).unwrap();
                let target = Target {
                    provider: id.into(),
                    model: "some-model".into(),
                    api_key: Some(crate::options::Secret::new("sk-test-1")),
                    drop_params: true,
                    ..Default::default()
                };
                let want = row.body(&req, &target).unwrap();
                let got: Value =
                    serde_json::from_slice(&row.body_bytes(&req, &target).unwrap()).unwrap();
                assert_eq!(got, want, "{id}: {r}");
                assert_eq!(got["model"], "some-model", "{id}: {r}");
                fast += usize::from(row.only_renames_model(&req, &target));
            }
        }
        assert!(fast >= 2, "the text-only path ran {fast} times");
    }

    #[test]
    fn model_is_swapped_in_the_text() {
        let req: ChatRequest = serde_json::from_value(serde_json::json!({"model": "a/\"b\"", "messages": [{"role": "user", "content": "{\"model\":1}"}]})).unwrap();
        let out = with_model(&req, "c\\d").unwrap().unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["model"], "c\\d");
        assert_eq!(v["messages"][0]["content"], "{\"model\":1}");
    }

    #[test]
    fn model_swap_writes_the_bytes_the_typed_request_writes() {
        // The fast path must give exactly the bytes of serializing the request with its model
        // replaced (the general path when no rename applies), for longer, shorter, equal and
        // escaped models and bodies past the first buffer.
        let long = "x".repeat(700);
        for (from, to) in [
            ("openai/gpt-4o-mini", "gpt-4o-mini"),
            ("m", "a-much-longer-upstream-model-name"),
            ("same", "same"),
            ("a/\"b\"", "c\\d\u{e9}"),
        ] {
            for content in ["Hi", long.as_str()] {
                let req: ChatRequest = serde_json::from_value(serde_json::json!({
                    "model": from, "messages": [{"role": "user", "content": content}],
                    "max_tokens": 64, "vendor_extra": {"model": "keep"}
                }))
                .unwrap();
                let mut renamed = req.clone();
                renamed.model = to.to_string();
                let want = serde_json::to_vec(&renamed).unwrap();
                let got = with_model(&req, to)
                    .unwrap()
                    .expect("model is written first");
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(want).unwrap(),
                    "{from} -> {to}"
                );
            }
        }
    }

    fn err(status: u16, body: &str) -> Error {
        parse_openai_error(status, &[], body.as_bytes())
    }

    #[test]
    fn status_wins_over_numbers_in_the_message() {
        // DeepInfra echoes the prompt; a token id "429" in it must not make this a rate limit.
        let e = err(
            400,
            r#"{"error":{"message":"Invalid token 429 in prompt"}}"#,
        );
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn every_body_shape_yields_its_message() {
        assert_eq!(err(500, r#"{"error":"boom"}"#).message(), "boom");
        assert_eq!(
            err(
                422,
                r#"{"detail":[{"loc":["body","messages"],"msg":"field required"}]}"#
            )
            .message(),
            "body.messages: field required"
        );
        assert_eq!(err(404, r#"{"detail":"Not Found"}"#).message(), "Not Found");
        let m = err(
            400,
            r#"{"object":"error","message":"bad temp","type":"invalid_request_error","param":null,"code":"1001"}"#,
        );
        assert_eq!((m.message(), m.code()), ("bad temp", "1001"));
        let d = err(400, r#"{"error_code":"BAD_REQUEST","message":"nope"}"#);
        assert_eq!((d.message(), d.code()), ("nope", "BAD_REQUEST"));
        let c = err(
            401,
            r#"{"errors":[{"code":10000,"message":"Authentication error"}],"success":false}"#,
        );
        assert_eq!((c.message(), c.code()), ("Authentication error", "10000"));
        assert_eq!(c.kind(), ErrorKind::Authentication);
        assert_eq!(
            err(502, "<html>bad gateway</html>").message(),
            "<html>bad gateway</html>"
        );
    }

    #[test]
    fn structured_codes_refine_only_within_the_status() {
        let e = err(
            400,
            r#"{"error":{"message":"x","code":"content_filter","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#,
        );
        assert_eq!(e.kind(), ErrorKind::ContentPolicyViolation);
        // A 500 stays a server error whatever the code says.
        assert_eq!(
            err(
                500,
                r#"{"error":{"message":"x","code":"context_length_exceeded"}}"#
            )
            .kind(),
            ErrorKind::InternalServer
        );
        // In-stream errors take their status from a numeric code.
        let s = err(
            200,
            r#"{"error":{"message":"upstream overloaded","code":502}}"#,
        );
        assert_eq!((s.kind(), s.status()), (ErrorKind::BadGateway, 502));
    }

    #[test]
    fn placeholders_fill_from_settings() {
        let mut t = Target::default();
        t.extra
            .insert("ACCOUNT".into(), Value::String("abc".into()));
        assert_eq!(
            fill_placeholders("https://x/{ACCOUNT}/v1", &t).unwrap(),
            "https://x/abc/v1"
        );
        assert_eq!(fill_placeholders("{MISSING}", &t).unwrap_err(), "MISSING");
    }

    #[test]
    fn reasoning_tokens_fold_once() {
        let mut u = serde_json::json!({"prompt_tokens":10,"completion_tokens":5,"total_tokens":35,"completion_tokens_details":{"reasoning_tokens":20}});
        let o = u.as_object_mut().unwrap();
        fold_reasoning_tokens(o);
        fold_reasoning_tokens(o);
        assert_eq!(u["completion_tokens"], 25);
    }

    // -- Stream decoding: direct reading and wire text

    fn frame(data: &str) -> Frame {
        Frame {
            event: None,
            data: data.into(),
        }
    }

    fn decode_with(row: Compat, data: &str) -> Result<Vec<ChatChunk>> {
        let mut out = Vec::new();
        OpenAiStream::new(row).on_frame(&frame(data), &mut out)?;
        Ok(out)
    }

    fn decode(data: &str) -> ChatChunk {
        let mut v = decode_with(DEFAULT, data).unwrap();
        assert_eq!(v.len(), 1, "{data}");
        v.remove(0)
    }

    /// The decoder's result through `Value` and `normalize`, as before the direct path.
    fn via_value(data: &str) -> Value {
        let mut v: Value = serde_json::from_str(data).unwrap();
        DEFAULT.normalize(&mut v);
        let c: ChatChunk = serde_json::from_value(v).unwrap();
        serde_json::to_value(&c).unwrap()
    }

    const CHUNKS: &[&str] = &[
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","service_tier":"default","obfuscation":"x1","choices":[{"index":0,"delta":{"content":"h\u00e9\"llo\n"},"finish_reason":null}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0}}}"#,
        // Duplicate keys: the last one wins, as with `Value`.
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"a","model":"b","x":1,"x":2,"choices":[{"index":1,"delta":{"content":"z","x_extra":[1,2.5]},"finish_reason":"length"}]}"#,
    ];

    #[test]
    fn plain_chunks_read_directly_equal_the_normalized_path_and_keep_their_text() {
        for data in CHUNKS {
            let c = decode(data);
            assert_eq!(serde_json::to_value(&c).unwrap(), via_value(data), "{data}");
            assert_eq!(c.wire.get(), Some(*data), "{data}");
            // The text says what the fields say.
            let text: Value = serde_json::from_str(c.wire.get().unwrap()).unwrap();
            assert_eq!(serde_json::from_value::<ChatChunk>(text).unwrap(), c);
        }
    }

    #[test]
    fn text_is_kept_only_when_it_is_what_the_fields_serialize_to() {
        // Each lacks a field that serializing the chunk adds (or is more than one line).
        for data in [
            r#"{"id":"c1","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"choices":[{"index":0,"delta":{"content":"a"}}]}"#,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#,
            "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\n\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}",
        ] {
            let c = decode(data);
            assert_eq!(c.wire.get(), None, "{data}");
            assert_eq!(serde_json::to_value(&c).unwrap(), via_value(data), "{data}");
        }
    }

    #[test]
    fn rewritten_chunks_lose_their_text() {
        // An empty finish reason is named (normalize), so the text no longer matches.
        let c = decode(
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":""}]}"#,
        );
        assert_eq!(c.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(c.wire.get(), None);
        // A row whose quirks move usage (Groq's `x_groq.usage`) rewrites every chunk.
        let groq = Compat {
            quirks: Quirks {
                usage_at: Some("/x_groq/usage"),
                ..DEFAULT.quirks
            },
            ..DEFAULT
        };
        let data = r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}}"#;
        let c = decode_with(groq, data).unwrap().remove(0);
        assert_eq!(c.usage.as_ref().map(|u| u.total_tokens), Some(3));
        assert_eq!(c.wire.get(), None);
    }

    #[test]
    fn error_chunks_and_events_are_errors_on_the_direct_path_too() {
        let e = decode_with(
            DEFAULT,
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"error"}],"error":{"message":"upstream died","code":502}}"#,
        )
        .unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::BadGateway, "upstream died")
        );
        let e = decode_with(
            DEFAULT,
            r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        let mut out = Vec::new();
        let ev = Frame {
            event: Some("error".into()),
            data: CHUNKS[1].into(),
        };
        assert!(OpenAiStream::default().on_frame(&ev, &mut out).is_err());
        assert!(out.is_empty());
        // Not JSON: a decode error, as before.
        let e = decode_with(DEFAULT, "{not json").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode);
    }
}
