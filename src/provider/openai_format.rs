//! The OpenAI wire format beyond chat: embeddings, image generation, legacy completions,
//! moderation, and rerank (Cohere-shaped, as vLLM, Infinity and Jina serve it). OpenAI and
//! every OpenAI-compatible row reuse these pieces; native providers may reuse the parsers.
//!
//! API references: <https://platform.openai.com/docs/api-reference/embeddings>,
//! <https://platform.openai.com/docs/api-reference/images/create>,
//! <https://platform.openai.com/docs/api-reference/completions>,
//! <https://platform.openai.com/docs/api-reference/moderations>,
//! <https://docs.cohere.com/v2/reference/rerank>.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::openai_compat::{parse_openai_error, Compat};
use super::{Provider, StreamDecoder, Target};
use crate::decode::Frame;
use crate::http::{HttpRequest, Method};
use crate::types::FromValue;
use crate::types::{
    json_text, ChatChunk, ChatRequest, ChunkChoice, Delta, EmbeddingInput, EmbeddingRequest,
    EmbeddingResponse, ImageRequest, ImageResponse, ModerationRequest, ModerationResponse,
    RerankMeta, RerankRequest, RerankResponse, RerankResult, RerankedDocument, TextChoice,
    TextCompletionRequest, TextCompletionResponse,
};
use crate::{Error, ErrorKind, Result};

/// Path of the embeddings endpoint, relative to the API base.
pub const EMBEDDINGS_PATH: &str = "/embeddings";
/// Path of the image generation endpoint.
pub const IMAGES_PATH: &str = "/images/generations";
/// Path of the legacy completions endpoint.
pub const COMPLETIONS_PATH: &str = "/completions";
/// Path of the moderation endpoint.
pub const MODERATIONS_PATH: &str = "/moderations";
/// Path of the rerank endpoint (vLLM, Infinity, Jina: `<base>/rerank`).
pub const RERANK_PATH: &str = "/rerank";

/// Whether `model` matches one of the `prefixes` (`""` matches every model).
///
/// ```
/// use edgellm::provider::openai_format::serves;
/// assert!(serves(&["gpt-3.5-turbo-instruct"], "gpt-3.5-turbo-instruct-0914"));
/// assert!(!serves(&["gpt-3.5-turbo-instruct"], "gpt-4o"));
/// assert!(serves(&[""], "anything"));
/// assert!(!serves(&[], "anything"));
/// ```
pub fn serves(prefixes: &[&str], model: &str) -> bool {
    prefixes.iter().any(|p| model.starts_with(p))
}

/// `url` with its chat endpoint swapped for `path`: the last `/chat/completions` in the path
/// part is replaced (keeping any query such as Azure's `api-version`); a URL without one gets
/// `path` appended.
///
/// ```
/// use edgellm::provider::openai_format::swap_path;
/// assert_eq!(swap_path("https://h/v1/chat/completions", "/embeddings"), "https://h/v1/embeddings");
/// assert_eq!(
///     swap_path("https://h/openai/deployments/d/chat/completions?api-version=1", "/embeddings"),
///     "https://h/openai/deployments/d/embeddings?api-version=1"
/// );
/// ```
pub fn swap_path(url: &str, path: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let head = head.trim_end_matches('/');
    let mut out = match super::rfind(head, "/chat/completions") {
        Some(i) => format!(
            "{}{path}{}",
            &head[..i],
            &head[i + "/chat/completions".len()..]
        ),
        None => format!("{head}{path}"),
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The model name a compatible row sends upstream (its model hook, if any, applied).
pub fn compat_model(row: &Compat, target: &Target) -> String {
    match row.hooks.model {
        Some(f) => f(target),
        None => target.model.clone(),
    }
}

/// A JSON POST of `body` to `path` on a compatible row. URL, auth and headers come from the
/// row's own chat request (so its URL and auth hooks, header templates and the caller's
/// headers apply unchanged); only the endpoint path and the body differ.
pub fn compat_request(
    row: &Compat,
    target: &Target,
    path: &str,
    body: &Value,
) -> Result<HttpRequest> {
    let probe = ChatRequest {
        model: target.model.clone(),
        ..ChatRequest::default()
    };
    let chat = row.chat_request(&probe, target)?;
    Ok(HttpRequest {
        method: Method::Post,
        url: swap_path(&chat.url, path),
        headers: chat.headers,
        body: Some(serde_json::to_vec(body)?),
    })
}

/// Serializes `req` with the provider-side model name.
fn with_model<T: serde::Serialize>(req: &T, model: &str) -> Result<Value> {
    // Through text: a second, Value-building copy of every request serializer costs ≈1 KB gzip.
    let mut v = crate::types::to_value_via_text(req)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("model".into(), Value::String(model.to_string()));
    }
    Ok(v)
}

/// Parses a 2xx body, treating an `{"error": …}` body as the error it is.
pub fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    let v = parse_value(body)?;
    serde_json::from_value(v)
        .map_err(|e| Error::decode(format!("unexpected {what} response shape: {e}")))
}

/// [`parse_json`] read with [`FromValue`] (the same result as `serde_json::from_value`, by
/// move), which the crate uses: `from_value` would be a second copy of each response type's
/// `Deserialize` in the wasm.
pub(crate) fn parse_typed<T: FromValue>(body: &[u8], what: &str) -> Result<T> {
    T::from_value(parse_value(body)?)
        .map_err(|e| Error::decode(format!("unexpected {what} response shape: {e}")))
}

/// `body` as JSON, or the error an `{"error": …}` body is.
fn parse_value(body: &[u8]) -> Result<Value> {
    let v: Value = crate::provider::build::parse(body)
        .map_err(|e| Error::decode(format!("invalid JSON from provider: {e}")))?;
    if v.get("error").is_some_and(|e| !e.is_null()) {
        return Err(parse_openai_error(200, &[], body));
    }
    Ok(v)
}

/// The embeddings body: the request as given, with the provider's model name.
pub fn embedding_body(req: &EmbeddingRequest, model: &str) -> Result<Value> {
    with_model(req, model)
}

/// Parses an OpenAI embeddings response.
pub fn embedding_response(body: &[u8]) -> Result<EmbeddingResponse> {
    parse_typed(body, "embeddings")
}

/// The image generation body: the request as given, with the provider's model name.
pub fn image_body(req: &ImageRequest, model: &str) -> Result<Value> {
    with_model(req, model)
}

/// Parses an OpenAI image generation response.
pub fn image_response(body: &[u8]) -> Result<ImageResponse> {
    parse_typed(body, "image generation")
}

/// The legacy completions body. `ask_usage` adds `stream_options.include_usage` to streams so
/// that cost can be computed (the stream hides the usage chunk unless the caller asked).
pub fn text_completion_body(
    req: &TextCompletionRequest,
    model: &str,
    ask_usage: bool,
) -> Result<Value> {
    let mut req = req.clone();
    if req.is_stream() && ask_usage {
        req.stream_options
            .get_or_insert_with(Default::default)
            .include_usage = Some(true);
    }
    with_model(&req, model)
}

/// Parses an OpenAI legacy completions response.
pub fn text_completion_response(body: &[u8]) -> Result<TextCompletionResponse> {
    parse_typed(body, "text completion")
}

/// The moderation body (`model` defaults to `omni-moderation-latest`).
pub fn moderation_body(req: &ModerationRequest, model: &str) -> Result<Value> {
    with_model(req, model)
}

/// Parses an OpenAI moderation response.
pub fn moderation_response(body: &[u8]) -> Result<ModerationResponse> {
    parse_typed(body, "moderation")
}

/// The rerank body (Cohere / Jina / vLLM field names).
pub fn rerank_body(req: &RerankRequest, model: &str) -> Result<Value> {
    with_model(req, model)
}

/// Parses a Cohere-shaped rerank response as vLLM, Infinity, Jina and Cohere send it, into
/// Cohere's shape: `document` strings become `{"text": …}`, and a token `usage` becomes
/// `meta.billed_units.total_tokens` when there is no `meta`.
pub fn rerank_response(body: &[u8]) -> Result<RerankResponse> {
    let v: Map<String, Value> = parse_typed(body, "rerank")?;
    let results = v
        .get("results")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::decode("rerank response has no `results` array"))?;
    let results = results
        .iter()
        .map(rerank_result)
        .collect::<Result<Vec<_>>>()?;
    let meta = match v.get("meta") {
        Some(m) if !m.is_null() => Some(
            RerankMeta::from_value(m.clone())
                .map_err(|e| Error::decode(format!("unexpected rerank `meta`: {e}")))?,
        ),
        _ => v
            .get("usage")
            .and_then(|u| u.get("total_tokens"))
            .and_then(Value::as_u64)
            .map(RerankMeta::from_tokens),
    };
    Ok(RerankResponse {
        id: v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        results,
        meta,
        extra: Map::new(),
    })
}

/// One ranked entry from any Cohere-like shape (`document` as a string or `{"text"}`).
pub fn rerank_result(r: &Value) -> Result<RerankResult> {
    let index = r
        .get("index")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::decode("rerank result without an integer `index`"))?;
    let relevance_score = r
        .get("relevance_score")
        .and_then(Value::as_f64)
        .ok_or_else(|| Error::decode("rerank result without a numeric `relevance_score`"))?;
    let document = match r.get("document") {
        Some(Value::String(s)) => Some(RerankedDocument { text: s.clone() }),
        Some(Value::Object(o)) => Some(RerankedDocument {
            text: match o.get("text") {
                Some(Value::String(s)) => s.clone(),
                _ => json_text(&Value::Object(o.clone())),
            },
        }),
        _ => None,
    };
    Ok(RerankResult {
        index: index as u32,
        relevance_score,
        document,
    })
}

/// The error for a parameter the provider cannot take: [`ErrorKind::UnsupportedParams`]
/// naming it, or `Ok` when `drop_params` is on (the caller then leaves it out).
pub fn refuse_param(target: &Target, param: &str) -> Result<()> {
    if target.drop_params {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::UnsupportedParams,
        format!(
            "{}/{} does not support parameter `{param}`. Set `drop_params: true` to drop it.",
            target.provider, target.model
        ),
    )
    .with_param(param)
    .with_provider(target.provider.clone())
    .with_model(target.model.clone()))
}

/// The inputs as texts, or a BadRequest on `input` for token ids (which only OpenAI-format
/// servers take).
pub fn require_texts<'a>(input: &'a EmbeddingInput, target: &Target) -> Result<Vec<&'a str>> {
    input.texts().ok_or_else(|| {
        Error::bad_request(format!(
            "{}/{} takes text inputs only, not token ids",
            target.provider, target.model
        ))
        .with_param("input")
    })
}

/// Classifies a FastAPI-style error body (`{"detail": "…"}` or `{"detail": [{"msg": …}]}`,
/// as Voyage, Jina, vLLM and Infinity send), falling back to OpenAI's format.
pub fn detail_error(status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
    let v: Value = crate::provider::build::parse(body).unwrap_or(Value::Null);
    let message = match v.get("detail") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|d| {
                d.get("msg")
                    .and_then(Value::as_str)
                    .map_or_else(|| json_text(d), str::to_string)
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => return parse_openai_error(status, headers, body),
    };
    let mut e = Error::new(ErrorKind::from_status(status), message).with_status(status);
    if let Some(ms) = crate::http::retry_after_ms(&headers.to_vec()) {
        e = e.with_retry_after_ms(ms);
    }
    e
}

/// The stream decoder of a provider without chat: chat requests are refused before any
/// stream exists, so a frame reaching it is a bug upstream of the decoder.
#[derive(Debug, Default)]
pub struct NoChatStream;

impl StreamDecoder for NoChatStream {
    fn on_frame(&mut self, _frame: &Frame, _out: &mut Vec<ChatChunk>) -> Result<()> {
        Err(Error::bad_request(
            "this provider does not support chat completions",
        ))
    }

    fn finish(&mut self, _out: &mut Vec<ChatChunk>) -> Result<()> {
        Err(Error::bad_request(
            "this provider does not support chat completions",
        ))
    }
}

/// Decodes OpenAI legacy-completions SSE (`text_completion` chunks). Each chunk is carried as a
/// [`ChatChunk`] whose deltas hold the text, so the shared stream pipeline (deframing,
/// backpressure, usage hiding, error ordering) serves it; `crate::modality` turns it back.
#[derive(Debug, Default)]
pub struct TextCompletionSse {
    done: bool,
    finished: bool,
}

impl StreamDecoder for TextCompletionSse {
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
        // Through `Value`: the typed `from_value` code already exists for the non-stream
        // response, a `from_str` copy of it would cost the wasm ~6 KB.
        let chunk: TextCompletionResponse = serde_json::from_str::<Value>(data)
            .and_then(TextCompletionResponse::from_value)
            .map_err(|e| Error::decode(format!("invalid stream chunk: {e}")))?;
        if chunk.choices.iter().any(|c| c.finish_reason.is_some()) {
            self.finished = true;
        }
        out.push(text_chunk_as_chat(chunk));
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

/// Carries a `text_completion` chunk in a [`ChatChunk`] (text in `delta.content`).
pub fn text_chunk_as_chat(c: TextCompletionResponse) -> ChatChunk {
    ChatChunk {
        id: c.id,
        object: c.object,
        created: c.created,
        model: c.model,
        choices: c
            .choices
            .into_iter()
            .map(|ch| ChunkChoice {
                index: ch.index,
                delta: Delta {
                    content: Some(ch.text),
                    ..Delta::default()
                },
                finish_reason: ch.finish_reason,
                logprobs: ch.logprobs,
            })
            .collect(),
        usage: c.usage,
        system_fingerprint: c.system_fingerprint,
        extra: c.extra,
        wire: Default::default(),
    }
}

/// A chat chunk (native or carried) as a `text_completion` chunk: each choice's text is its
/// delta's content (`""` for role-only or tool deltas).
pub fn chat_chunk_as_text(c: ChatChunk) -> TextCompletionResponse {
    TextCompletionResponse {
        id: c.id,
        object: "text_completion".into(),
        created: c.created,
        model: c.model,
        choices: c
            .choices
            .into_iter()
            .map(|ch| TextChoice {
                text: ch.delta.content.unwrap_or_default(),
                index: ch.index,
                logprobs: ch.logprobs,
                finish_reason: ch.finish_reason,
            })
            .collect(),
        usage: c.usage,
        system_fingerprint: c.system_fingerprint,
        extra: c.extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::registry;
    use serde_json::json;

    fn openai_row() -> Compat {
        match registry::get("openai").unwrap() {
            registry::Entry::Compat(c) => *c,
            registry::Entry::Native(_) => unreachable!("openai is a compatible row"),
        }
    }

    fn target(base: Option<&str>) -> Target {
        Target {
            provider: "openai".into(),
            model: "text-embedding-3-small".into(),
            api_base: base.map(str::to_string),
            api_key: Some(crate::Secret::new("sk-test-1")),
            ..Target::default()
        }
    }

    #[test]
    fn urls_follow_the_row_chat_url() {
        let mut row = openai_row();
        let req = EmbeddingRequest::new("openai/text-embedding-3-small", &["a"]);
        let t = target(None);
        let body = embedding_body(&req, &compat_model(&row, &t)).unwrap();
        let http = compat_request(&row, &t, EMBEDDINGS_PATH, &body).unwrap();
        assert_eq!(http.url, "https://api.openai.com/v1/embeddings");
        let http = compat_request(&row, &target(Some("http://h/x/")), RERANK_PATH, &body).unwrap();
        assert_eq!(http.url, "http://h/x/rerank");
        row.hooks.url =
            Some(|_, _| Ok("https://h/openai/deployments/d/chat/completions?api-version=2".into()));
        let http = compat_request(&row, &t, IMAGES_PATH, &body).unwrap();
        assert_eq!(
            http.url,
            "https://h/openai/deployments/d/images/generations?api-version=2"
        );
        row.hooks.url = None;
        row.info.default_base = "";
        let e = compat_request(&row, &t, RERANK_PATH, &body).unwrap_err();
        assert_eq!(e.param(), Some("api_base"));
    }

    #[test]
    fn requests_carry_auth_model_and_extra_headers() {
        let mut t = target(None);
        t.headers.push(("x-trace".into(), "1".into()));
        let req = EmbeddingRequest::new("openai/text-embedding-3-small", &["a"]);
        let body = embedding_body(&req, &t.model).unwrap();
        let http = compat_request(&openai_row(), &t, EMBEDDINGS_PATH, &body).unwrap();
        assert_eq!(
            crate::http::header(&http.headers, "authorization"),
            Some("Bearer sk-test-1")
        );
        assert_eq!(crate::http::header(&http.headers, "x-trace"), Some("1"));
        assert_eq!(
            crate::http::header(&http.headers, "content-type"),
            Some("application/json")
        );
        assert_eq!(
            http.json_body().unwrap(),
            json!({"model": "text-embedding-3-small", "input": ["a"]})
        );
        t.api_key = None;
        let e = compat_request(&openai_row(), &t, EMBEDDINGS_PATH, &json!({})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
    }

    #[test]
    fn rows_refuse_what_their_capabilities_lack() {
        let mut row = openai_row();
        row.info.caps.embeddings = false;
        row.info.caps.rerank = false;
        let t = target(None);
        let e = row
            .embedding_request(&EmbeddingRequest::new("m", &["a"]), &t)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        assert_eq!(e.message(), "provider `openai` does not support embeddings");
        let rr = RerankRequest {
            model: "m".into(),
            query: "q".into(),
            ..RerankRequest::default()
        };
        assert!(row.rerank_request(&rr, &t).is_err());
        assert!(!row.native_text_completion("gpt-4o"));
    }

    #[test]
    fn stream_usage_is_asked_only_when_wanted() {
        let mut req = TextCompletionRequest::new("m", "p");
        req.stream = Some(true);
        let b = text_completion_body(&req, "m", true).unwrap();
        assert_eq!(b["stream_options"], json!({"include_usage": true}));
        assert!(text_completion_body(&req, "m", false)
            .unwrap()
            .get("stream_options")
            .is_none());
        req.stream = None;
        assert!(text_completion_body(&req, "m", true)
            .unwrap()
            .get("stream_options")
            .is_none());
    }

    #[test]
    fn rerank_shapes_normalize_to_cohere() {
        let infinity = json!({"object": "rerank", "model": "m", "id": "r1", "created": 1,
            "results": [{"relevance_score": 0.9, "index": 1, "document": "b"}],
            "usage": {"prompt_tokens": 12, "total_tokens": 12}});
        let r = rerank_response(&serde_json::to_vec(&infinity).unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"id": "r1", "results": [{"index": 1, "relevance_score": 0.9, "document": {"text": "b"}}],
                "meta": {"billed_units": {"total_tokens": 12}, "tokens": {"input_tokens": 12, "output_tokens": 0}}})
        );
        let bad = json!({"results": [{"index": 0}]});
        assert_eq!(
            rerank_response(&serde_json::to_vec(&bad).unwrap())
                .unwrap_err()
                .kind(),
            ErrorKind::Decode
        );
        let err =
            json!({"error": {"message": "nope", "type": "invalid_request_error", "code": 400}});
        assert_eq!(
            rerank_response(&serde_json::to_vec(&err).unwrap())
                .unwrap_err()
                .kind(),
            ErrorKind::BadRequest
        );
    }

    #[test]
    fn text_chunks_survive_the_chat_carrier() {
        let v = json!({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m",
            "choices": [{"text": "", "index": 0, "logprobs": null, "finish_reason": "length"}]});
        let c: TextCompletionResponse = serde_json::from_value(v.clone()).unwrap();
        let back = chat_chunk_as_text(text_chunk_as_chat(c));
        assert_eq!(serde_json::to_value(back).unwrap(), v);
    }

    #[test]
    fn cut_text_stream_is_an_error() {
        let mut d = TextCompletionSse::default();
        let mut out = Vec::new();
        let f = Frame {
            event: None,
            data: r#"{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"text":"a","index":0,"logprobs":null,"finish_reason":null}]}"#.into(),
        };
        d.on_frame(&f, &mut out).unwrap();
        assert_eq!(out[0].choices[0].delta.content.as_deref(), Some("a"));
        assert_eq!(
            d.finish(&mut out).unwrap_err().kind(),
            ErrorKind::BadGateway
        );
    }
}
