//! Providers: pure transforms between OpenAI-shaped types and each provider's wire format.
//!
//! A provider is one module. OpenAI-compatible providers are rows of the table in
//! [`registry`]; native protocols (Anthropic, Gemini, Bedrock, …) implement [`Provider`] in one
//! file each. Nothing here does I/O: requests come out as [`HttpRequest`] data, responses go in
//! as bytes, streams go in as [`Frame`]s.

pub mod anthropic;
pub mod azure;
pub mod bedrock;
pub(crate) mod build;
pub mod cohere;
pub mod gemini;
pub mod huggingface;
pub mod jina_ai;
pub(crate) mod native;
pub mod ollama;
mod openai_chunk;
pub mod openai_compat;
pub mod openai_format;
mod openai_response;
pub mod registry;

pub use registry::supported_openai_params;
pub mod vertex_ai;
pub mod voyage;

use serde_json::{Map, Value};

use crate::decode::{Frame, Framing};
use crate::http::{Headers, HttpRequest};
use crate::options::{CallOptions, Secret};
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, ImageRequest,
    ImageResponse, ModerationRequest, ModerationResponse, RerankRequest, RerankResponse,
    TextCompletionRequest, TextCompletionResponse,
};
use crate::{Error, ErrorKind, Result};

/// A resolved call target: which provider, which model there, with which credentials.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Provider id (`openai`, `anthropic`, `groq`, …).
    pub provider: String,
    /// The model name as the provider knows it (prefix stripped).
    pub model: String,
    /// Endpoint base (from the call, the environment, or the provider default).
    pub api_base: Option<String>,
    /// Credential (from the call or the environment).
    pub api_key: Option<Secret>,
    /// API version.
    pub api_version: Option<String>,
    /// Extra headers to send.
    pub headers: Headers,
    /// Drop unsupported params instead of failing.
    pub drop_params: bool,
    /// Provider-specific settings and credentials by LiteLLM's names (`aws_region_name`,
    /// `vertex_project`, …), already merged from call options and environment.
    pub extra: Map<String, Value>,
    /// Wall-clock time of the call in ms since the epoch (request signing needs it; the core
    /// never reads a clock).
    pub now_ms: u64,
}

impl Target {
    /// A string setting from `extra`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.extra
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The API key, or an [`ErrorKind::Authentication`] error naming the variable to set.
    pub fn require_key(&self, env_var: &str) -> Result<&str> {
        self.api_key
            .as_ref()
            .map(Secret::expose)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Authentication,
                    format!(
                        "missing API key for provider `{}`: pass `api_key` or set {env_var}",
                        self.provider
                    ),
                )
                .with_provider(self.provider.clone())
                .with_model(self.model.clone())
            })
    }

    /// `api_base` with trailing slashes removed, or `default`.
    pub fn base_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.api_base
            .as_deref()
            .map(|b| b.trim_end_matches('/'))
            .unwrap_or(default)
    }
}

/// What a provider can do, for docs and `getSupportedOpenAIParams`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Chat completions.
    pub chat: bool,
    /// Streaming chat.
    pub stream: bool,
    /// Tool calling.
    pub tools: bool,
    /// Image input.
    pub vision: bool,
    /// Embeddings.
    pub embeddings: bool,
    /// Image generation.
    pub images: bool,
    /// Model-name prefixes served by the provider's native legacy `/completions` endpoint
    /// (`""` matches every model). Other models get text completions through chat.
    pub text_completion: &'static [&'static str],
    /// Moderation (`/moderations`).
    pub moderation: bool,
    /// Rerank (`/rerank`).
    pub rerank: bool,
}

/// Static description of a provider (generated docs table, env var names).
#[derive(Debug, Clone, Copy)]
pub struct ProviderInfo {
    /// Id used as the model prefix (`groq` in `groq/llama-3.1-8b-instant`).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Default endpoint base ("" when the user must give one).
    pub default_base: &'static str,
    /// Environment variables read, in order of preference (key first).
    pub env: &'static [&'static str],
    /// How requests are authenticated (e.g. `Bearer`, `x-api-key`, `SigV4`, `OAuth2`).
    pub auth: &'static str,
    /// Capabilities.
    pub caps: Capabilities,
}

/// Turns provider stream frames into OpenAI chunks. One instance per stream: it keeps the
/// state (id, model, tool-call indices, usage) that a stateless per-chunk map would lose.
pub trait StreamDecoder {
    /// Decodes one frame, appending any resulting chunks to `out`.
    fn on_frame(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<()>;
    /// SSE output ([`ChatStream::into_sse`](crate::stream::ChatStream::into_sse)) without a
    /// chunk hook offers each event here first: a decoder that can write the chunks
    /// [`on_frame`](StreamDecoder::on_frame) would give for it without building them (none
    /// carrying usage) appends their SSE events (`data: {json}\n\n`, the bytes an SSE encoder
    /// writes for them) to `out`, updates its state as `on_frame` would, and returns `true`.
    /// Otherwise it writes nothing and returns `false`, and the event goes to `on_frame`. The
    /// default does that for every event.
    fn write_sse(&mut self, _event: Option<&str>, _data: &str, _out: &mut Vec<u8>) -> bool {
        false
    }
    /// Called at the end of the byte stream. Errors if the stream was cut before the provider
    /// signalled completion; may flush final chunks (e.g. usage).
    fn finish(&mut self, out: &mut Vec<ChatChunk>) -> Result<()>;
}

/// A provider: request building, response parsing, stream decoding and error mapping.
pub trait Provider: Sync {
    /// Static description.
    fn info(&self) -> &ProviderInfo;

    /// The OpenAI chat parameters this provider accepts for `model` (LiteLLM's
    /// `get_supported_openai_params`).
    fn supported_params(&self, model: &str) -> Vec<&'static str>;

    /// Fills `target` from call options and environment-derived settings before building
    /// (e.g. Azure's `api_version`, AWS region). The default does nothing.
    fn prepare(&self, _target: &mut Target) -> Result<()> {
        Ok(())
    }

    /// Builds the upstream chat request. `req.stream` says whether to stream.
    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest>;

    /// Parses a successful (2xx) chat response body.
    fn chat_response(
        &self,
        body: &[u8],
        req: &ChatRequest,
        target: &Target,
    ) -> Result<ChatResponse>;

    /// How the streamed body is framed.
    fn stream_framing(&self) -> Framing {
        Framing::Sse
    }

    /// A decoder for one streamed response.
    fn stream_decoder(&self, req: &ChatRequest, target: &Target) -> Box<dyn StreamDecoder>;

    /// Classifies a non-2xx response (LiteLLM's `get_error_class`), from the status and the
    /// provider's structured error body.
    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error;

    // Beyond chat (driven by `crate::modality`). The defaults refuse with a BadRequest naming
    // the provider; OpenAI-format providers delegate to [`openai_format`].

    /// Most inputs one upstream embeddings request may carry (`None` = no limit). Larger
    /// batches are split into several requests whose vectors are joined in input order.
    fn embedding_batch_size(&self, _req: &EmbeddingRequest, _target: &Target) -> Option<usize> {
        None
    }

    /// Input tokens the provider reports in response headers instead of the body (Bedrock's
    /// `InvokeModel`); used when a parsed embeddings response carries none.
    fn input_tokens_from_headers(&self, _headers: &Headers) -> Option<u64> {
        None
    }

    /// Builds the upstream embeddings request for `req.input` (already cut to the batch size).
    fn embedding_request(&self, _req: &EmbeddingRequest, _target: &Target) -> Result<HttpRequest> {
        Err(unsupported(self.info(), "embeddings"))
    }

    /// Parses a successful embeddings response (indices relative to the request's inputs).
    /// Float vectors are fine when base64 was asked for: the engine encodes them.
    fn embedding_response(
        &self,
        _body: &[u8],
        _req: &EmbeddingRequest,
        _target: &Target,
    ) -> Result<EmbeddingResponse> {
        Err(unsupported(self.info(), "embeddings"))
    }

    /// Builds the upstream image generation request.
    fn image_generation_request(
        &self,
        _req: &ImageRequest,
        _target: &Target,
    ) -> Result<HttpRequest> {
        Err(unsupported(self.info(), "image generation"))
    }

    /// Parses a successful image generation response.
    fn image_generation_response(
        &self,
        _body: &[u8],
        _req: &ImageRequest,
        _target: &Target,
    ) -> Result<ImageResponse> {
        Err(unsupported(self.info(), "image generation"))
    }

    /// Whether `model` is served by a native legacy-completions endpoint. When false, text
    /// completions go through [`Provider::chat_request`] and are translated back.
    fn native_text_completion(&self, _model: &str) -> bool {
        false
    }

    /// Builds the native legacy-completions request (`req.stream` says whether to stream; the
    /// stream must be OpenAI `text_completion` SSE).
    fn text_completion_request(
        &self,
        _req: &TextCompletionRequest,
        _target: &Target,
    ) -> Result<HttpRequest> {
        Err(unsupported(self.info(), "text completion"))
    }

    /// Parses a successful native legacy-completions response.
    fn text_completion_response(
        &self,
        _body: &[u8],
        _req: &TextCompletionRequest,
        _target: &Target,
    ) -> Result<TextCompletionResponse> {
        Err(unsupported(self.info(), "text completion"))
    }

    /// Builds the upstream moderation request.
    fn moderation_request(
        &self,
        _req: &ModerationRequest,
        _target: &Target,
    ) -> Result<HttpRequest> {
        Err(unsupported(self.info(), "moderation"))
    }

    /// Parses a successful moderation response.
    fn moderation_response(
        &self,
        _body: &[u8],
        _req: &ModerationRequest,
        _target: &Target,
    ) -> Result<ModerationResponse> {
        Err(unsupported(self.info(), "moderation"))
    }

    /// Builds the upstream rerank request.
    fn rerank_request(&self, _req: &RerankRequest, _target: &Target) -> Result<HttpRequest> {
        Err(unsupported(self.info(), "rerank"))
    }

    /// Parses a successful rerank response into Cohere's shape.
    fn rerank_response(
        &self,
        _body: &[u8],
        _req: &RerankRequest,
        _target: &Target,
    ) -> Result<RerankResponse> {
        Err(unsupported(self.info(), "rerank"))
    }
}

/// `s.rfind(p)`: std's brings a reverse two-way searcher (0.36 KB of the gzipped package) for the
/// few short strings searched from the end here. A match of UTF-8 `p` always starts at a char boundary.
pub(crate) fn rfind(s: &str, p: &str) -> Option<usize> {
    (0..=s.len().checked_sub(p.len())?)
        .rev()
        .find(|&i| s.as_bytes()[i..].starts_with(p.as_bytes()))
}

/// `s.trim_end_matches(p)` for a non-empty `p`, without the reverse searcher (see [`rfind`]).
pub(crate) fn trim_end<'a>(mut s: &'a str, p: &str) -> &'a str {
    while let Some(rest) = s.strip_suffix(p) {
        s = rest;
    }
    s
}

/// The error for an endpoint a provider does not offer: a BadRequest on `model`, e.g.
/// "provider `groq` does not support embeddings".
pub fn unsupported(info: &ProviderInfo, what: &str) -> Error {
    Error::bad_request(format!("provider `{}` does not support {what}", info.id))
        .with_param("model")
        .with_provider(info.id)
}

/// Applies LiteLLM's unsupported-parameter rule: every set parameter outside `supported`
/// is an [`ErrorKind::UnsupportedParams`] error naming it, unless `drop_params` is on, in which
/// case it is removed.
pub fn check_params(req: &mut ChatRequest, supported: &[&str], target: &Target) -> Result<()> {
    // The messages are never a parameter: without them, listing the set parameters (through a
    // `Value` of the request) does not copy the conversation on every call.
    let messages = std::mem::take(&mut req.messages);
    let set = set_params(req);
    req.messages = messages;
    for p in set {
        if supported.contains(&p.as_str()) {
            continue;
        }
        if target.drop_params {
            drop_param(req, &p);
        } else {
            return Err(Error::new(
                ErrorKind::UnsupportedParams,
                format!(
                    "{}/{} does not support parameter `{p}`. Set `drop_params: true` to drop it.",
                    target.provider, target.model
                ),
            )
            .with_param(p)
            .with_provider(target.provider.clone())
            .with_model(target.model.clone()));
        }
    }
    Ok(())
}

/// The names of the optional OpenAI parameters set on `req` (typed fields and extras).
pub fn set_params(req: &ChatRequest) -> Vec<String> {
    let mut keys = req.param_names();
    keys.retain(|k| k != "stream");
    keys
}

fn drop_param(req: &mut ChatRequest, name: &str) {
    // Through text, as `Value`s of requests are made only here and there (see
    // `ChatRequest::param_names`); only with `drop_params`.
    let mut v = crate::types::to_value_via_text(&*req).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove(name);
    }
    if let Ok(r) = <ChatRequest as crate::types::FromValue>::from_value(v) {
        *req = r;
    }
}

/// The value of the first of `names` that ends with one of `suffixes` and is set in `env`.
fn env_first(env: &dyn crate::host::Env, names: &[&str], suffixes: &[&str]) -> Option<String> {
    for name in names {
        if suffixes.iter().any(|s| name.ends_with(s)) {
            if let Some(v) = env.var(name) {
                return Some(v);
            }
        }
    }
    None
}

/// Builds the target for `model` from call options and the environment: splits
/// `provider/model`, then fills key, base and version from the options or the provider's
/// environment variables.
pub fn target_for(
    provider: &dyn Provider,
    model: &str,
    opts: &CallOptions,
    env: &dyn crate::host::Env,
    now_ms: u64,
) -> Result<Target> {
    let info = provider.info();
    let mut extra = opts.extra.clone();
    for name in info.env {
        if let Some(v) = env.var(name) {
            extra.entry(name.to_string()).or_insert(Value::String(v));
        }
    }
    let mut target = Target {
        provider: info.id.to_string(),
        model: model.to_string(),
        api_base: opts
            .api_base
            .clone()
            .or_else(|| env_first(env, info.env, &["_BASE", "_BASE_URL", "_ENDPOINT"])),
        api_key: opts
            .api_key
            .clone()
            .or_else(|| env_first(env, info.env, &["_KEY", "_TOKEN"]).map(Secret::new)),
        api_version: opts
            .api_version
            .clone()
            .or_else(|| env_first(env, info.env, &["_VERSION"])),
        headers: opts.headers.clone(),
        drop_params: opts.drop_params,
        extra,
        now_ms,
    };
    provider.prepare(&mut target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    fn every_param() -> ChatRequest {
        serde_json::from_value(json!({
            "model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true,
            "temperature": 0.5, "top_p": 1, "n": 1, "stream_options": {"include_usage": true},
            "stop": "x", "max_tokens": 5, "max_completion_tokens": 6, "presence_penalty": 0,
            "frequency_penalty": 0, "logit_bias": {"1": 2}, "logprobs": true, "top_logprobs": 2,
            "user": "u", "seed": 3,
            "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto",
            "parallel_tool_calls": false, "response_format": {"type": "text"},
            "reasoning_effort": "low", "top_k": 4, "a_null_extra": null,
        }))
        .unwrap()
    }

    #[test]
    fn check_params_names_the_first_unsupported_param_and_keeps_the_messages() {
        let mut req = every_param();
        let target = Target {
            provider: "p".into(),
            model: "m".into(),
            ..Target::default()
        };
        let all = set_params(&req);
        assert_eq!(all.len(), 21);
        let e = check_params(&mut req, &[], &target).unwrap_err();
        assert_eq!(e.param(), Some("a_null_extra"));
        let allowed: Vec<&str> = all.iter().map(String::as_str).collect();
        check_params(&mut req, &allowed, &target).unwrap();
        assert_eq!(req, every_param());
    }

    #[test]
    fn dropping_each_param_removes_only_it() {
        let target = Target {
            provider: "p".into(),
            model: "m".into(),
            drop_params: true,
            ..Target::default()
        };
        for name in set_params(&every_param()) {
            let mut req = every_param();
            check_params(
                &mut req,
                &[],
                &Target {
                    drop_params: false,
                    ..target.clone()
                },
            )
            .unwrap_err();
            let mut want = serde_json::to_value(&req).unwrap();
            want.as_object_mut().unwrap().remove(&name);
            let all = set_params(&req);
            let keep: Vec<&str> = all
                .iter()
                .filter(|p| **p != name)
                .map(String::as_str)
                .collect();
            check_params(&mut req, &keep, &target).unwrap();
            assert_eq!(serde_json::to_value(&req).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn searches_from_the_end_like_std() {
        for (s, p) in [
            ("", ""),
            ("", "a"),
            ("a", ""),
            ("abc", "abc"),
            ("aaa", "aa"),
            ("x/chat/completions/chat/completions", "/chat/completions"),
            ("héé", "é"),
            ("ab", "abc"),
        ] {
            assert_eq!(rfind(s, p), s.rfind(p), "{s:?} {p:?}");
        }
        for s in [
            "https://h/openai/v1",
            "https://h/openai/openai",
            "https://h",
            "/openai",
        ] {
            for p in ["/openai", "/openai/v1"] {
                assert_eq!(trim_end(s, p), s.trim_end_matches(p), "{s:?} {p:?}");
            }
        }
    }
}
