//! The gateway's OpenAI-compatible and health operations, keyed by the router's own
//! [`Endpoint`]: the match in [`describe`] has no catch-all, so a new endpoint does not compile
//! here until it is documented, and `main.rs` checks every documented path against
//! [`routes::route`](edgellm_worker::app::routes::route).

use edgellm_worker::app::routes::Endpoint;

/// What the request body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body.
    None,
    /// A JSON object described by the named request component; `model_default` when the
    /// gateway fills a missing `model` in.
    Json {
        /// Component name of the request schema.
        schema: &'static str,
        /// The gateway's default when `model` is missing.
        model_default: Option<&'static str>,
        /// `stream: true` answers with Server-Sent Events of this component.
        stream_chunk: Option<&'static str>,
    },
}

/// One documented endpoint.
#[derive(Debug, Clone)]
pub struct Op {
    /// The router's endpoint.
    pub endpoint: Endpoint,
    /// Base of the `operationId`s.
    pub id: &'static str,
    /// Swagger section.
    pub tag: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Longer text (Markdown).
    pub description: &'static str,
    /// Request body.
    pub body: Body,
    /// Component name of the 200 body.
    pub response: &'static str,
    /// Paths, the canonical one first. `{model}` is a path parameter.
    pub paths: Vec<String>,
}

/// The OpenAI operation names the router accepts after `/v1/`, with and without it, and
/// (body endpoints) after `/openai/deployments/{model}/` and `/engines/{model}/`.
fn openai_paths(op: &str, deployment_style: bool) -> Vec<String> {
    let mut v = vec![format!("/v1/{op}"), format!("/{op}")];
    if deployment_style {
        v.push(format!("/openai/deployments/{{model}}/{op}"));
        v.push(format!("/engines/{{model}}/{op}"));
    }
    v
}

/// The documentation of one endpoint. `Endpoint::Model` carries the model from the path; any
/// value gives the same description.
pub fn describe(endpoint: &Endpoint) -> Op {
    let json = |schema, model_default, stream_chunk| Body::Json {
        schema,
        model_default,
        stream_chunk,
    };
    let (id, tag, summary, description, body, response, paths) = match endpoint {
        Endpoint::Chat => (
            "createChatCompletion",
            "chat",
            "Create a chat completion",
            "OpenAI's chat completions on any configured model group: the router picks a deployment, \
             retries, cools down and falls back as the config says. With `stream: true` the answer is \
             Server-Sent Events of `chat.completion.chunk` objects (`ChatChunk`), ending with `data: [DONE]`.",
            json("ChatRequest", None, Some("ChatChunk")),
            "ChatResponse",
            openai_paths("chat/completions", true),
        ),
        Endpoint::TextCompletion => (
            "createCompletion",
            "completions",
            "Create a text completion (legacy)",
            "OpenAI's legacy completions. With `stream: true` the answer is Server-Sent Events of \
             `text_completion` chunks (`TextCompletionResponse`), ending with `data: [DONE]`.",
            json("TextCompletionRequest", None, Some("TextCompletionResponse")),
            "TextCompletionResponse",
            openai_paths("completions", true),
        ),
        Endpoint::Embeddings => (
            "createEmbedding",
            "embeddings",
            "Create embeddings",
            "One vector per input, in input order.",
            json("EmbeddingRequest", None, None),
            "EmbeddingResponse",
            openai_paths("embeddings", true),
        ),
        Endpoint::Images => (
            "createImage",
            "images",
            "Generate images",
            "OpenAI's image generation; `model` defaults to the gateway's default image model.",
            json("ImageRequest", Some(edgellm::modality::DEFAULT_IMAGE_MODEL), None),
            "ImageResponse",
            openai_paths("images/generations", true),
        ),
        Endpoint::Moderations => (
            "createModeration",
            "moderations",
            "Classify text (and images) for policy violations",
            "OpenAI's moderations; `model` defaults to `omni-moderation-latest`.",
            json("ModerationRequest", Some(edgellm::types::DEFAULT_MODERATION_MODEL), None),
            "ModerationResponse",
            openai_paths("moderations", true),
        ),
        Endpoint::Rerank => (
            "createRerank",
            "rerank",
            "Rerank documents against a query",
            "Cohere's rerank shape, as LiteLLM's `/rerank`.",
            json("RerankRequest", None, None),
            "RerankResponse",
            openai_paths("rerank", true),
        ),
        Endpoint::Models => (
            "listModels",
            "models",
            "List the model groups",
            "The `model_name`s of the config's `model_list`, in OpenAI's list shape.",
            Body::None,
            "ModelList",
            openai_paths("models", false),
        ),
        Endpoint::Model(_) => (
            "retrieveModel",
            "models",
            "Retrieve one model group",
            "404 when the gateway does not serve the model. Percent-encode a `/` in the name \
             (`openai%2Fgpt-4o`).",
            Body::None,
            "ModelCard",
            openai_paths("models/{model}", false),
        ),
        Endpoint::ModelInfo => (
            "modelInfo",
            "models",
            "Describe every deployment",
            "Each deployment of the config with its `litellm_params` (credentials removed) and its \
             `model_info`, merged over the price table's entry for its model.",
            Body::None,
            "ModelInfoList",
            openai_paths("model/info", false),
        ),
        Endpoint::Liveliness => (
            "liveliness",
            "health",
            "Liveness probe",
            "Answers while the Worker runs, even with a broken config. No key needed.",
            Body::None,
            "Liveliness",
            vec!["/health/liveliness".into(), "/health/liveness".into()],
        ),
        Endpoint::Readiness => (
            "readiness",
            "health",
            "Readiness probe",
            "Whether the config loaded (503 when it did not). No key needed; with the master key \
             the config warnings are listed too.",
            Body::None,
            "Readiness",
            vec!["/health/readiness".into()],
        ),
        Endpoint::Root => (
            "root",
            "health",
            "What this gateway serves",
            "Name, version and the main routes. No key needed.",
            Body::None,
            "Root",
            vec!["/".into()],
        ),
    };
    Op {
        endpoint: endpoint.clone(),
        id,
        tag,
        summary,
        description,
        body,
        response,
        paths,
    }
}

/// Every endpoint of the router, once. Adding a variant to `Endpoint` breaks [`describe`]'s
/// match first; `main.rs` then finds an undocumented path unless it is listed here too.
pub fn all() -> Vec<Op> {
    [
        Endpoint::Chat,
        Endpoint::TextCompletion,
        Endpoint::Embeddings,
        Endpoint::Images,
        Endpoint::Moderations,
        Endpoint::Rerank,
        Endpoint::Models,
        Endpoint::Model(String::new()),
        Endpoint::ModelInfo,
        Endpoint::Liveliness,
        Endpoint::Readiness,
        Endpoint::Root,
    ]
    .iter()
    .map(describe)
    .collect()
}
