//! `embedding`, `imageGeneration`, `textCompletion` (and `textCompletionStream`),
//! `moderation` and `rerank` (one function, [`modality`], reached through the `lookup` export):
//! the endpoints beyond chat, as `completion` does chat. Each
//! resolves to OpenAI's response object plus `_hidden_params` (with `response_cost`), rejects
//! with the same error classes, and fires the success / failure callbacks with LiteLLM's
//! `call_type`.

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::callbacks::LogCall;
use super::env::JsEnv;
use super::error::to_js;
use super::respond::{params_json, promise, run, Answer, Call, Done, Export};
use super::stream::ChunkStream;
use crate::host::Env;
use crate::modality;
use crate::options::CallOptions;
use crate::router::modality::{
    Embeddings, Endpoint, Images, Moderations, Reranks, TextCompletions,
};
use crate::wasm::FetchHost;
use crate::Error;

/// Parses, calls and prices; the rest is [`run`], the same for every endpoint.
fn call<E: Endpoint + 'static>(request: Value) -> Call
where
    E::Response: Serialize,
{
    match E::parse(request) {
        Ok((req, opts)) => answer::<E>(req, opts, &JsEnv),
        Err(e) => Box::pin(std::future::ready(Err(e))),
    }
}

/// Calls endpoint `E` and makes its answer as the JS API returns it: the response's JSON
/// text with the call's facts. Shared by the direct calls and the router's deployment calls
/// (`super::router`), one copy per endpoint.
pub(crate) fn answer<'e, E: Endpoint + 'static>(
    req: E::Request,
    opts: CallOptions,
    env: &'e dyn Env,
) -> Answer<'e>
where
    E::Response: Serialize,
{
    Box::pin(async move {
        let (g, cost) = E::call(&FetchHost, env, req, &opts).await?;
        let usage = E::usage(&g.response);
        Done::answered(
            serde_json::to_string(&g.response),
            g.meta,
            cost,
            usage,
            opts,
        )
    })
}

/// The export facts of endpoint `E`.
pub(crate) fn export<E: Endpoint>(expects: &'static str) -> Export {
    Export {
        call_type: E::CALL_TYPE,
        input_key: E::LOGGED_INPUT,
        expects,
    }
}

const TEXT_EXPECTS: &str = "textCompletion() expects an object such as { model, prompt }";

/// A streaming text completion: resolves once the response headers arrived to a
/// [`ChunkStream`] of `text_completion` chunks (`choices[i].text` holds each new piece).
fn text_completion_stream(params: JsValue) -> js_sys::Promise {
    promise(Box::pin(async move {
        let request = params_json(&params, TEXT_EXPECTS);
        let log = LogCall::other(
            &params,
            TextCompletions::CALL_TYPE,
            TextCompletions::LOGGED_INPUT,
            request.as_ref().unwrap_or(&Value::Null),
        )
        .streaming();
        let result: Result<_, Error> = async {
            let (req, opts) = modality::parse_text_completion(request?)?;
            let started =
                modality::text_completion_stream(&FetchHost, &JsEnv, req, opts.clone()).await?;
            Ok((started, opts))
        }
        .await;
        let (started, opts) = result.map_err(|e| {
            log.failure(&e, None, None);
            to_js(e)
        })?;
        Ok(ChunkStream::new(started.stream, started.meta, opts, None, log).into())
    }))
}

/// `kind` of [`modality`] and `Router.modality`: the endpoint, as pkg/api.js and pkg/router.js
/// number them.
pub(crate) const EMBEDDING: u32 = 0;
pub(crate) const IMAGE_GENERATION: u32 = 1;
pub(crate) const TEXT_COMPLETION: u32 = 2;
pub(crate) const TEXT_COMPLETION_STREAM: u32 = 3;
pub(crate) const MODERATION: u32 = 4;

/// The endpoints beyond chat in one function, `kind` picking one; the package's functions call
/// it through the `lookup` export (`super::cost::lookup`, ops from `MODALITY` on):
/// - `EMBEDDING` (`embedding`, LiteLLM's): `{ model, input, dimensions?, encoding_format?,
///   ...options }` → the `list` of embeddings plus `_hidden_params`.
/// - `IMAGE_GENERATION` (`imageGeneration`, LiteLLM's `image_generation`): `{ model, prompt, n?,
///   size?, quality?, response_format?, ...options }` → `{ created, data: [{ url | b64_json }] }`
///   plus `_hidden_params`.
/// - `TEXT_COMPLETION` (`textCompletion`, LiteLLM's `text_completion`): natively where the
///   provider has a completions endpoint for the model, else through chat → a
///   `text_completion` object plus `_hidden_params`; `stream` is ignored.
/// - `TEXT_COMPLETION_STREAM`: see [`text_completion_stream`].
/// - `MODERATION` (`moderation`): `{ input, model? }` (OpenAI's `omni-moderation-latest` by
///   default) → `{ id, model, results }` plus `_hidden_params`.
/// - else rerank in Cohere's format (`rerank`): `{ model, query, documents, top_n?,
///   return_documents?, ...options }` → `{ id, results: [{ index, relevance_score, document? }],
///   meta }` plus `_hidden_params`.
pub(crate) fn modality(kind: u32, params: JsValue) -> js_sys::Promise {
    match kind {
        EMBEDDING => run(
            params,
            export::<Embeddings>("embedding() expects an object such as { model, input }"),
            Box::new(call::<Embeddings>),
        ),
        IMAGE_GENERATION => run(
            params,
            export::<Images>("imageGeneration() expects an object such as { model, prompt }"),
            Box::new(call::<Images>),
        ),
        TEXT_COMPLETION => run(
            params,
            export::<TextCompletions>(TEXT_EXPECTS),
            Box::new(call::<TextCompletions>),
        ),
        TEXT_COMPLETION_STREAM => text_completion_stream(params),
        MODERATION => run(
            params,
            export::<Moderations>("moderation() expects an object such as { input }"),
            Box::new(call::<Moderations>),
        ),
        _ => run(
            params,
            export::<Reranks>("rerank() expects an object such as { model, query, documents }"),
            Box::new(call::<Reranks>),
        ),
    }
}
