//! `embedding`, `imageGeneration`, `textCompletion` (and `textCompletionStream`),
//! `moderation` and `rerank`: the endpoints beyond chat, as `completion` does chat. Each
//! resolves to OpenAI's response object plus `_hidden_params` (with `response_cost`), rejects
//! with the same error classes, and fires the success / failure callbacks with LiteLLM's
//! `call_type`.

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::callbacks::LogCall;
use super::env::JsEnv;
use super::error::to_js;
use super::respond::{params_json, promise, run, Call, Done, Export};
use super::stream::ChunkStream;
use crate::modality;
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
    Box::pin(async move {
        let (req, opts) = E::parse(request)?;
        let g = E::call(&FetchHost, &JsEnv, req.clone(), opts.clone()).await?;
        let cost = E::cost(&g, &req, &opts);
        let usage = E::usage(&g.response);
        Ok(Done {
            cost,
            usage,
            metadata: opts.metadata,
            ..Done::new(&g.response, g.meta)?
        })
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

/// Embeddings in OpenAI's format for any provider that has them (LiteLLM's `embedding`):
/// `{ model, input, dimensions?, encoding_format?, ...options }` → the `list` of embeddings
/// plus `_hidden_params`.
#[wasm_bindgen]
pub fn embedding(params: JsValue) -> js_sys::Promise {
    let expects = "embedding() expects an object such as { model, input }";
    run(
        params,
        export::<Embeddings>(expects),
        Box::new(call::<Embeddings>),
    )
}

/// Image generation (LiteLLM's `image_generation`): `{ model, prompt, n?, size?, quality?,
/// response_format?, ...options }` → `{ created, data: [{ url | b64_json }] }` plus
/// `_hidden_params`.
#[wasm_bindgen(js_name = imageGeneration)]
pub fn image_generation(params: JsValue) -> js_sys::Promise {
    let expects = "imageGeneration() expects an object such as { model, prompt }";
    run(params, export::<Images>(expects), Box::new(call::<Images>))
}

const TEXT_EXPECTS: &str = "textCompletion() expects an object such as { model, prompt }";

/// A legacy text completion (LiteLLM's `text_completion`): natively where the provider has a
/// completions endpoint for the model, else through chat. Resolves to a `text_completion`
/// object plus `_hidden_params`; `stream` is ignored (see `textCompletionStream`).
#[wasm_bindgen(js_name = textCompletion)]
pub fn text_completion(params: JsValue) -> js_sys::Promise {
    let export = export::<TextCompletions>(TEXT_EXPECTS);
    run(params, export, Box::new(call::<TextCompletions>))
}

/// A streaming text completion: resolves once the response headers arrived to a
/// [`ChunkStream`] of `text_completion` chunks (`choices[i].text` holds each new piece).
#[wasm_bindgen(js_name = textCompletionStream)]
pub fn text_completion_stream(params: JsValue) -> js_sys::Promise {
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

/// Moderation (LiteLLM's `moderation`): `{ input, model? }` (OpenAI's
/// `omni-moderation-latest` by default) → `{ id, model, results }` plus `_hidden_params`.
#[wasm_bindgen]
pub fn moderation(params: JsValue) -> js_sys::Promise {
    let expects = "moderation() expects an object such as { input }";
    run(
        params,
        export::<Moderations>(expects),
        Box::new(call::<Moderations>),
    )
}

/// Rerank in Cohere's format (LiteLLM's `rerank`): `{ model, query, documents, top_n?,
/// return_documents?, ...options }` → `{ id, results: [{ index, relevance_score, document? }],
/// meta }` plus `_hidden_params`.
#[wasm_bindgen]
pub fn rerank(params: JsValue) -> js_sys::Promise {
    let expects = "rerank() expects an object such as { model, query, documents }";
    run(
        params,
        export::<Reranks>(expects),
        Box::new(call::<Reranks>),
    )
}
