//! `text_completion`: the legacy completions endpoint where the provider serves the model
//! natively (OpenAI's instruct models, vLLM, …), otherwise chat, translated both ways.
//!
//! Through chat, each prompt is one user message; a list of prompts is one chat call per
//! prompt, their choices concatenated (`index = prompt * n + choice`) as the completions API
//! orders them. (LiteLLM sends a list as several user messages of one conversation, which
//! answers a different question.) Token-id prompts need a native endpoint.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use serde_json::Value;

use crate::decode::Framing;
use crate::engine::{self, send_with_retries, CallMeta};
use crate::host::{Env, Host};
use crate::options::CallOptions;
use crate::provider::build::obj;
use crate::provider::openai_format::{chat_chunk_as_text, TextCompletionSse};
use crate::stream::ChatStream;
use crate::types::{
    ChatRequest, ChatResponse, Message, Role, TextChoice, TextCompletionRequest,
    TextCompletionResponse, Usage,
};
use crate::{Error, ErrorKind, Result};

use super::{meta_for, resolve, send_and_parse, Generation};

/// A started text-completion stream.
#[derive(Debug)]
pub struct TextStreamCompletion {
    /// The `text_completion` chunks.
    pub stream: TextCompletionStream,
    /// Call facts (end = when headers arrived).
    pub meta: CallMeta,
}

/// A stream of `text_completion` chunks (`choices[i].text` holds each new piece). Built on
/// [`ChatStream`], so usage hiding, error ordering and cancellation behave as for chat.
pub struct TextCompletionStream {
    inner: ChatStream,
    /// Chat logprobs are translated (with running text offsets per choice); native chunks are
    /// already in the completions shape.
    from_chat: bool,
    /// (choice index, text offset). A list, not a `HashMap`: a stream has a few choices, and
    /// a hash table of its own type brought its own copy of hashbrown's code.
    offsets: Vec<(u32, u64)>,
}

impl std::fmt::Debug for TextCompletionStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextCompletionStream")
            .field("inner", &self.inner)
            .field("from_chat", &self.from_chat)
            .finish()
    }
}

impl TextCompletionStream {
    /// Text chunks from a chat stream (chat translation).
    pub fn from_chat(inner: ChatStream) -> Self {
        Self {
            inner,
            from_chat: true,
            offsets: Vec::new(),
        }
    }

    /// Text chunks carried in a chat stream by [`TextCompletionSse`] (native endpoint).
    pub fn from_native(inner: ChatStream) -> Self {
        Self {
            inner,
            from_chat: false,
            offsets: Vec::new(),
        }
    }

    /// The usage reported so far (final after the stream ended).
    pub fn usage(&self) -> Option<&Usage> {
        self.inner.usage()
    }

    /// Applies `f` to the underlying chat stream (to attach `on_chunk` / `on_end` hooks).
    pub fn map_inner(mut self, f: impl FnOnce(ChatStream) -> ChatStream) -> Self {
        self.inner = f(self.inner);
        self
    }
}

impl Stream for TextCompletionStream {
    type Item = Result<TextCompletionResponse>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let mut text = chat_chunk_as_text(chunk);
                if this.from_chat {
                    for c in &mut text.choices {
                        let at = match this.offsets.iter().position(|(i, _)| *i == c.index) {
                            Some(at) => at,
                            None => {
                                this.offsets.push((c.index, 0));
                                this.offsets.len() - 1
                            }
                        };
                        let offset = &mut this.offsets[at].1;
                        c.logprobs = c.logprobs.take().map(|l| chat_logprobs_as_text(l, offset));
                    }
                }
                Poll::Ready(Some(Ok(text)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The chat request that carries `prompt` of `req`: sampling parameters map one to one,
/// `logprobs: k` becomes `logprobs: true, top_logprobs: k`; `best_of`, `echo` and `suffix`
/// have no chat equivalent and are refused (dropped with `drop_params`).
pub fn chat_request_for(
    req: &TextCompletionRequest,
    prompt: &str,
    drop_params: bool,
) -> Result<ChatRequest> {
    let unsupported = [
        ("best_of", req.best_of.is_some()),
        ("echo", req.echo.is_some()),
        ("suffix", req.suffix.is_some()),
    ];
    if let Some((p, _)) = unsupported.iter().find(|(_, set)| *set) {
        if !drop_params {
            return Err(Error::new(
                ErrorKind::UnsupportedParams,
                format!(
                    "{} has no legacy completions endpoint and chat has no `{p}`. Set `drop_params: true` to drop it.",
                    req.model
                ),
            )
            .with_param(*p)
            .with_model(req.model.clone()));
        }
    }
    Ok(ChatRequest {
        model: req.model.clone(),
        messages: vec![Message::text(Role::User, prompt)],
        temperature: req.temperature,
        top_p: req.top_p,
        n: req.n,
        stream: req.stream,
        stream_options: req.stream_options.clone(),
        stop: req.stop.clone(),
        max_tokens: req.max_tokens,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        logit_bias: req.logit_bias.clone(),
        logprobs: req.logprobs.map(|_| true),
        top_logprobs: req.logprobs.filter(|k| *k > 0),
        user: req.user.clone(),
        seed: req.seed,
        extra: req.extra.clone(),
        ..ChatRequest::default()
    })
}

fn text_prompts(req: &TextCompletionRequest) -> Result<Vec<String>> {
    req.prompt
        .texts()
        .map(|v| v.into_iter().map(str::to_string).collect())
        .ok_or_else(|| {
            Error::bad_request(format!(
                "{} has no legacy completions endpoint; token-id prompts cannot go through chat",
                req.model
            ))
            .with_param("prompt")
        })
}

/// Chat `logprobs` (`{"content": [{token, logprob, top_logprobs}]}`) in the completions shape
/// (`{tokens, token_logprobs, top_logprobs, text_offset}`); `offset` is the text length so far
/// (chars) and advances. Anything else passes through.
fn chat_logprobs_as_text(l: Value, offset: &mut u64) -> Value {
    let Some(content) = l.get("content").and_then(Value::as_array) else {
        return l;
    };
    let (mut tokens, mut lps, mut tops, mut offs) = (vec![], vec![], vec![], vec![]);
    for t in content {
        let token = t.get("token").and_then(Value::as_str).unwrap_or_default();
        tokens.push(Value::from(token));
        lps.push(t.get("logprob").cloned().unwrap_or(Value::Null));
        // A loop, not `collect()`: each `FromIterator` use of a map is its own copy of the
        // standard library's sort in the wasm.
        let mut top = serde_json::Map::new();
        for x in t
            .get("top_logprobs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(token), Some(lp)) =
                (x.get("token").and_then(Value::as_str), x.get("logprob"))
            {
                top.insert(token.to_string(), lp.clone());
            }
        }
        tops.push(Value::Object(top));
        offs.push(Value::from(*offset));
        *offset += token.chars().count() as u64;
    }
    obj([
        ("tokens", Value::from(tokens)),
        ("token_logprobs", Value::from(lps)),
        ("top_logprobs", Value::from(tops)),
        ("text_offset", Value::from(offs)),
    ])
}

fn chat_to_text(r: ChatResponse) -> TextCompletionResponse {
    TextCompletionResponse {
        id: r.id,
        object: "text_completion".into(),
        created: r.created,
        model: r.model,
        choices: r
            .choices
            .into_iter()
            .map(|c| TextChoice {
                text: c.message.content.unwrap_or_default(),
                index: c.index,
                logprobs: c.logprobs.map(|l| chat_logprobs_as_text(l, &mut 0)),
                finish_reason: c.finish_reason,
            })
            .collect(),
        usage: r.usage,
        system_fingerprint: r.system_fingerprint,
        extra: r.extra,
    }
}

/// Completes `req.prompt`, with retries: natively where the provider serves the model on a
/// completions endpoint, else through chat.
pub async fn text_completion<H: Host>(
    host: &H,
    env: &dyn Env,
    mut req: TextCompletionRequest,
    opts: CallOptions,
) -> Result<Generation<TextCompletionResponse>> {
    req.stream = None;
    req.stream_options = None;
    if opts.mock_response.is_none() {
        let (provider, target) = resolve(host, env, &req.model, &opts).await?;
        if provider.native_text_completion(&target.model) {
            let mut meta = meta_for(&target, host.now_ms());
            let response = send_and_parse(
                host,
                provider,
                &target,
                &opts,
                &mut meta,
                || provider.text_completion_request(&req, &target),
                |_, body| provider.text_completion_response(body, &req, &target),
            )
            .await?;
            meta.end_ms = host.now_ms();
            return Ok(Generation { response, meta });
        }
    }
    let prompts = text_prompts(&req)?;
    let per_prompt = req.n.unwrap_or(1);
    let mut out: Option<Generation<TextCompletionResponse>> = None;
    for (i, prompt) in prompts.iter().enumerate() {
        let chat = chat_request_for(&req, prompt, opts.drop_params)?;
        let c = engine::completion(host, env, chat, opts.clone()).await?;
        let mut text = chat_to_text(c.response);
        for ch in &mut text.choices {
            ch.index += i as u32 * per_prompt;
        }
        match &mut out {
            None => {
                out = Some(Generation {
                    response: text,
                    meta: c.meta,
                })
            }
            Some(g) => {
                g.response.choices.extend(text.choices);
                if let (Some(u), Some(more)) = (&mut g.response.usage, text.usage) {
                    u.prompt_tokens += more.prompt_tokens;
                    u.completion_tokens += more.completion_tokens;
                    u.total_tokens += more.total_tokens;
                }
                g.meta.attempts += c.meta.attempts;
                g.meta.end_ms = c.meta.end_ms;
            }
        }
    }
    out.ok_or_else(|| Error::bad_request("`prompt` must not be empty").with_param("prompt"))
}

/// A streaming text completion. Retries apply until the response headers arrive. Through
/// chat only one prompt can be streamed.
pub async fn text_completion_stream<H: Host>(
    host: &H,
    env: &dyn Env,
    mut req: TextCompletionRequest,
    opts: CallOptions,
) -> Result<TextStreamCompletion> {
    req.stream = Some(true);
    if opts.mock_response.is_none() {
        let (provider, target) = resolve(host, env, &req.model, &opts).await?;
        if provider.native_text_completion(&target.model) {
            let mut meta = meta_for(&target, host.now_ms());
            let resp = send_with_retries(
                host,
                provider,
                &target,
                &opts,
                // As `&dyn`: the same instance of the retry loop as `super::send`.
                &(|| provider.text_completion_request(&req, &target)) as &dyn Fn() -> _,
                &mut meta,
            )
            .await?;
            meta.end_ms = host.now_ms();
            let stream = ChatStream::from_body(
                resp.body,
                Framing::Sse,
                Box::new(TextCompletionSse::default()),
                req.wants_stream_usage(),
                &target.provider,
                &target.model,
            );
            return Ok(TextStreamCompletion {
                stream: TextCompletionStream::from_native(stream),
                meta,
            });
        }
    }
    let prompts = text_prompts(&req)?;
    let [prompt] = prompts.as_slice() else {
        return Err(Error::bad_request(format!(
            "{} has no legacy completions endpoint: stream one prompt per request",
            req.model
        ))
        .with_param("prompt"));
    };
    let chat = chat_request_for(&req, prompt, opts.drop_params)?;
    let sc = engine::completion_stream(host, env, chat, opts).await?;
    Ok(TextStreamCompletion {
        stream: TextCompletionStream::from_chat(sc.stream),
        meta: sc.meta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::testing::{MockHost, Reply};
    use futures_executor::block_on;
    use futures_util::StreamExt;
    use serde_json::json;

    fn opts() -> CallOptions {
        CallOptions {
            api_key: Some(crate::Secret::new("sk-test-1")),
            ..CallOptions::default()
        }
    }

    fn chat_reply(text: &str) -> Reply {
        Reply::json(
            200,
            &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 5, "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}),
        )
    }

    #[test]
    fn chat_models_go_through_chat() {
        let host = MockHost::new().reply(chat_reply("Hi"));
        let mut req = TextCompletionRequest::new("openai/gpt-4o", "Say hi");
        req.max_tokens = Some(5);
        req.logprobs = Some(2);
        let g = block_on(text_completion(&host, &NoEnv, req, opts())).unwrap();
        let sent = host.last_request().unwrap();
        assert_eq!(sent.url, "https://api.openai.com/v1/chat/completions");
        assert_eq!(
            sent.json_body().unwrap(),
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hi"}],
                "max_tokens": 5, "logprobs": true, "top_logprobs": 2})
        );
        let v = serde_json::to_value(&g.response).unwrap();
        assert_eq!(
            v,
            json!({"id": "chatcmpl-1", "object": "text_completion", "created": 5, "model": "gpt-4o",
                "choices": [{"text": "Hi", "index": 0, "logprobs": null, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})
        );
    }

    #[test]
    fn several_prompts_are_several_chats() {
        let host = MockHost::new()
            .reply(chat_reply("A"))
            .reply(chat_reply("B"));
        let mut req = TextCompletionRequest::new("openai/gpt-4o", "");
        req.prompt = crate::types::Prompt::Many(vec!["a".into(), "b".into()]);
        let g = block_on(text_completion(&host, &NoEnv, req.clone(), opts())).unwrap();
        let texts: Vec<(&str, u32)> = g
            .response
            .choices
            .iter()
            .map(|c| (c.text.as_str(), c.index))
            .collect();
        assert_eq!(texts, vec![("A", 0), ("B", 1)]);
        assert_eq!(g.response.usage.as_ref().unwrap().total_tokens, 8);
        assert_eq!(g.meta.attempts, 2);
        req.stream = Some(true);
        let e = block_on(text_completion_stream(
            &MockHost::new(),
            &NoEnv,
            req,
            opts(),
        ))
        .unwrap_err();
        assert_eq!(e.param(), Some("prompt"));
    }

    #[test]
    fn chat_lacks_echo_and_token_prompts() {
        let mut req = TextCompletionRequest::new("openai/gpt-4o", "p");
        req.echo = Some(true);
        let e = chat_request_for(&req, "p", false).unwrap_err();
        assert_eq!(
            (e.kind(), e.param()),
            (ErrorKind::UnsupportedParams, Some("echo"))
        );
        assert!(chat_request_for(&req, "p", true).is_ok());
        req.prompt = crate::types::Prompt::Tokens(vec![1, 2]);
        req.echo = None;
        let e = block_on(text_completion(&MockHost::new(), &NoEnv, req, opts())).unwrap_err();
        assert_eq!(e.param(), Some("prompt"));
    }

    #[test]
    fn logprobs_translate_with_offsets() {
        let l = json!({"content": [
            {"token": "He", "logprob": -0.5, "top_logprobs": [{"token": "He", "logprob": -0.5}]},
            {"token": "llo", "logprob": -0.1, "top_logprobs": []}]});
        let mut off = 3;
        assert_eq!(
            chat_logprobs_as_text(l, &mut off),
            json!({"tokens": ["He", "llo"], "token_logprobs": [-0.5, -0.1],
                "top_logprobs": [{"He": -0.5}, {}], "text_offset": [3, 5]})
        );
        assert_eq!(off, 8);
        assert_eq!(chat_logprobs_as_text(json!(null), &mut off), json!(null));
    }

    #[test]
    fn mock_text_streams_as_text_chunks() {
        let host = MockHost::new();
        let req = TextCompletionRequest::new("openai/gpt-4o", "Hello");
        let o = CallOptions {
            mock_response: Some(json!("Hi there")),
            ..CallOptions::default()
        };
        let sc = block_on(text_completion_stream(&host, &NoEnv, req, o)).unwrap();
        let chunks: Vec<TextCompletionResponse> = block_on(sc.stream.map(|c| c.unwrap()).collect());
        let text: String = chunks
            .iter()
            .flat_map(|c| c.choices.iter().map(|x| x.text.clone()))
            .collect();
        assert_eq!(text, "Hi there");
        assert!(chunks.iter().all(|c| c.object == "text_completion"));
        assert!(host.requests.borrow().is_empty());
    }
}
