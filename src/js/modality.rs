//! `embedding`, `imageGeneration`, `textCompletion` (and `textCompletionStream`),
//! `moderation` and `rerank`: the endpoints beyond chat, as `completion` does chat. Each
//! resolves to OpenAI's response object plus `_hidden_params` (with `response_cost`), rejects
//! with the same error classes, and fires the success / failure callbacks with LiteLLM's
//! `call_type`.

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::accumulate::TextAccumulator;
use super::callbacks::{Facts, LogCall, Logged};
use super::completion::{json_err, params_json, with_hidden, HiddenParams};
use super::env::JsEnv;
use super::error::to_js;
use super::stream::{ChunkStream, StreamEnd};
use crate::modality;
use crate::router::modality::{
    Embeddings, Endpoint, Images, Moderations, Reranks, TextCompletions,
};
use crate::wasm::FetchHost;
use crate::Error;

/// The response as JSON, for callbacks (only built when one listens).
pub(crate) fn logged_json<T: Serialize>(log: &LogCall, response: &T) -> Result<Value, JsValue> {
    if log.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::to_value(response).map_err(json_err)
}

async fn generate<E: Endpoint>(params: JsValue, expects: &str) -> Result<JsValue, JsValue>
where
    E::Response: Serialize,
{
    let request = params_json(&params, expects);
    let log = LogCall::other(
        &params,
        E::CALL_TYPE,
        E::LOGGED_INPUT,
        request.as_ref().unwrap_or(&Value::Null),
    );
    let result: Result<_, Error> = async {
        let (req, opts) = E::parse(request?)?;
        let g = E::call(&FetchHost, &JsEnv, req.clone(), opts.clone()).await?;
        Ok((g, req, opts))
    }
    .await;
    let (g, req, opts) = result.map_err(|e| {
        log.failure(&e, None, None);
        to_js(e)
    })?;
    let cost = E::cost(&g, &req, &opts);
    let json = logged_json(&log, &g.response)?;
    let usage = E::usage(&g.response);
    let facts = Facts {
        metadata: opts.metadata.as_ref(),
        cost,
        usage: usage.as_ref(),
        ..Facts::default()
    };
    let id = json["id"].as_str().map(str::to_string);
    log.success(id.as_deref(), &g.meta, facts, Logged::Json(json));
    with_hidden(&g.response, HiddenParams::new(&g.meta, cost))
}

/// Embeddings in OpenAI's format for any provider that has them (LiteLLM's `embedding`):
/// `{ model, input, dimensions?, encoding_format?, ...options }` → the `list` of embeddings
/// plus `_hidden_params`.
#[wasm_bindgen]
pub async fn embedding(params: JsValue) -> Result<JsValue, JsValue> {
    generate::<Embeddings>(
        params,
        "embedding() expects an object such as { model, input }",
    )
    .await
}

/// Image generation (LiteLLM's `image_generation`): `{ model, prompt, n?, size?, quality?,
/// response_format?, ...options }` → `{ created, data: [{ url | b64_json }] }` plus
/// `_hidden_params`.
#[wasm_bindgen(js_name = imageGeneration)]
pub async fn image_generation(params: JsValue) -> Result<JsValue, JsValue> {
    generate::<Images>(
        params,
        "imageGeneration() expects an object such as { model, prompt }",
    )
    .await
}

/// A legacy text completion (LiteLLM's `text_completion`): natively where the provider has a
/// completions endpoint for the model, else through chat. Resolves to a `text_completion`
/// object plus `_hidden_params`; `stream` is ignored (see `textCompletionStream`).
#[wasm_bindgen(js_name = textCompletion)]
pub async fn text_completion(params: JsValue) -> Result<JsValue, JsValue> {
    generate::<TextCompletions>(params, TEXT_EXPECTS).await
}

const TEXT_EXPECTS: &str = "textCompletion() expects an object such as { model, prompt }";

/// A streaming text completion: resolves once the response headers arrived to a
/// [`ChunkStream`] of `text_completion` chunks (`choices[i].text` holds each new piece).
#[wasm_bindgen(js_name = textCompletionStream)]
pub async fn text_completion_stream(params: JsValue) -> Result<ChunkStream, JsValue> {
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
    let hidden = HiddenParams::new(&started.meta, None).to_json_text()?;
    let end = StreamEnd::<TextAccumulator>::new(started.meta, opts, None, log);
    Ok(ChunkStream::new(started.stream, end, hidden))
}

/// Moderation (LiteLLM's `moderation`): `{ input, model? }` (OpenAI's
/// `omni-moderation-latest` by default) → `{ id, model, results }` plus `_hidden_params`.
#[wasm_bindgen]
pub async fn moderation(params: JsValue) -> Result<JsValue, JsValue> {
    generate::<Moderations>(params, "moderation() expects an object such as { input }").await
}

/// Rerank in Cohere's format (LiteLLM's `rerank`): `{ model, query, documents, top_n?,
/// return_documents?, ...options }` → `{ id, results: [{ index, relevance_score, document? }],
/// meta }` plus `_hidden_params`.
#[wasm_bindgen]
pub async fn rerank(params: JsValue) -> Result<JsValue, JsValue> {
    generate::<Reranks>(
        params,
        "rerank() expects an object such as { model, query, documents }",
    )
    .await
}
