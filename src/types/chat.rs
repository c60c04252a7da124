//! The OpenAI chat-completions request, as on the wire (snake_case).
//!
//! Every optional field is skipped when absent, so a request passed through to an
//! OpenAI-compatible server carries exactly what the caller set. Fields this crate does not model
//! land in `extra` and are forwarded as they came (OpenAI pass-through) or checked against the
//! provider's supported parameters (see `params`).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::fields::{deserialize_with_fields, Built, Fields, FromFields, FromValue};
use super::untagged::{no_variant, untagged};

/// `POST /v1/chat/completions` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChatRequest {
    /// `provider/model`, a bare well-known model name, or a router alias.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Stream the answer as `chat.completion.chunk`s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (`include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Stop sequence(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Legacy output-token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Output-token limit (includes reasoning tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Token id → bias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<Map<String, Value>>,
    /// Return log-probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many alternatives per token with `logprobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Deterministic sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// `"auto" | "none" | "required" | {"type":"function","function":{"name":…}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `text`, `json_object` or `json_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// `low | medium | high` (reasoning models; mapped to thinking budgets where needed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// Any other field, forwarded or rejected per provider.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The wire names of [`ChatRequest`]'s optional typed fields, in declaration order.
const TYPED_PARAMS: [&str; 20] = [
    "temperature",
    "top_p",
    "n",
    "stream",
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
];

impl ChatRequest {
    /// A request for `model` with one user message.
    ///
    /// ```
    /// let r = edgellm::ChatRequest::user("openai/gpt-4o", "Hello");
    /// assert_eq!(r.messages[0].text_content(), "Hello");
    /// ```
    pub fn user(model: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            messages: vec![Message::text(Role::User, text)],
            ..Self::default()
        }
    }

    /// Whether the caller asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// The output limit the caller set, preferring `max_completion_tokens`.
    pub fn output_limit(&self) -> Option<u32> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// Whether the caller asked for usage in the stream.
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// Whether each of [`TYPED_PARAMS`] is set (serialized).
    fn typed_set(&self) -> [bool; 20] {
        // Destructured without `..`: a new field does not compile until it is listed here
        // (and in `TYPED_PARAMS`).
        let ChatRequest {
            model: _,
            messages: _,
            temperature,
            top_p,
            n,
            stream,
            stream_options,
            stop,
            max_tokens,
            max_completion_tokens,
            presence_penalty,
            frequency_penalty,
            logit_bias,
            logprobs,
            top_logprobs,
            user,
            seed,
            tools,
            tool_choice,
            parallel_tool_calls,
            response_format,
            reasoning_effort,
            extra: _,
        } = self;
        [
            temperature.is_some(),
            top_p.is_some(),
            n.is_some(),
            stream.is_some(),
            stream_options.is_some(),
            stop.is_some(),
            max_tokens.is_some(),
            max_completion_tokens.is_some(),
            presence_penalty.is_some(),
            frequency_penalty.is_some(),
            logit_bias.is_some(),
            logprobs.is_some(),
            top_logprobs.is_some(),
            user.is_some(),
            seed.is_some(),
            tools.is_some(),
            tool_choice.is_some(),
            parallel_tool_calls.is_some(),
            response_format.is_some(),
            reasoning_effort.is_some(),
        ]
    }

    /// The keys of the request's JSON object (`serde_json::to_value(self)`) other than `model`
    /// and `messages`, sorted as its `Map` holds them; read from the fields, so that no `Value`
    /// of the request is made (that was a second copy of every request type's `Serialize` in
    /// the wasm, and a tree per call).
    pub(crate) fn param_names(&self) -> Vec<String> {
        let mut keys = Map::new();
        for (name, set) in TYPED_PARAMS.iter().zip(self.typed_set()) {
            if set {
                keys.insert(name.to_string(), Value::Null);
            }
        }
        for k in self.extra.keys() {
            keys.insert(k.clone(), Value::Null);
        }
        keys.remove("model");
        keys.remove("messages");
        keys.keys().cloned().collect()
    }

    /// Whether the request's JSON object has the key `name`.
    pub(crate) fn has_param(&self, name: &str) -> bool {
        matches!(name, "model" | "messages")
            || self.extra.contains_key(name)
            || TYPED_PARAMS
                .iter()
                .zip(self.typed_set())
                .any(|(n, set)| set && *n == name)
    }
}

/// `stream_options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StreamOptions {
    /// Send a final chunk with `usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Other options, forwarded.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `stop`: one string or several.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Stop {
    /// A single sequence.
    One(String),
    /// Several sequences.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Stop {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for Stop {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::String(s) => Ok(Stop::One(s)),
            v => Vec::<String>::from_value(v)
                .map(Stop::Many)
                .map_err(|_| no_variant("Stop")),
        }
    }
}

impl Stop {
    /// The sequences as a list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }
}

/// A message author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// Instructions for reasoning models (OpenAI's newer name for system).
    Developer,
    /// The user.
    User,
    /// The model.
    Assistant,
    /// A tool result.
    Tool,
    /// A legacy function result.
    Function,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text or content parts; `null` for assistant messages that only call tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls made by the assistant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// For `role: tool`: the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// Other fields (e.g. `cache_control`, `reasoning_content`), forwarded.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A plain text message.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(Content::Text(text.into())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            extra: Map::new(),
        }
    }

    /// All text of the message joined (image parts skipped).
    pub fn text_content(&self) -> String {
        self.content
            .as_ref()
            .map(Content::joined_text)
            .unwrap_or_default()
    }
}

/// Message content: a string or a list of typed parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Typed parts (text, image_url, input_audio, file, …).
    Parts(Vec<ContentPart>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for Content {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::String(s) => Ok(Content::Text(s)),
            v => Vec::<ContentPart>::from_value(v)
                .map(Content::Parts)
                .map_err(|_| no_variant("Content")),
        }
    }
}

impl Content {
    /// All text parts joined with no separator (OpenAI semantics for flattening).
    pub fn joined_text(&self) -> String {
        match self {
            Content::Text(t) => t.clone(),
            Content::Parts(parts) => parts.iter().filter_map(|p| p.text.as_deref()).collect(),
        }
    }

    /// The content as a list of parts (a string becomes one text part).
    pub fn parts(&self) -> Vec<ContentPart> {
        match self {
            Content::Text(t) => vec![ContentPart::text(t.clone())],
            Content::Parts(p) => p.clone(),
        }
    }
}

/// One content part. Kept as a loose struct so unknown part types pass through unchanged.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ContentPart {
    /// `text`, `image_url`, `input_audio`, `file`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// For `text` parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// For `image_url` parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<ImageUrl>,
    /// Other fields (`input_audio`, `file`, `cache_control`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            kind: "text".into(),
            text: Some(text.into()),
            image_url: None,
            extra: Map::new(),
        }
    }
}

/// `image_url`: `{url, detail}`; a bare string is accepted too.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    /// `https://…` or `data:image/png;base64,…`.
    pub url: String,
    /// `auto | low | high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ImageUrl {
    /// Splits a `data:` URL into (media type, base64 data).
    ///
    /// ```
    /// let u = edgellm::types::ImageUrl { url: "data:image/png;base64,AAAA".into(), detail: None };
    /// assert_eq!(u.as_data_url(), Some(("image/png", "AAAA")));
    /// ```
    pub fn as_data_url(&self) -> Option<(&str, &str)> {
        let rest = self.url.strip_prefix("data:")?;
        let (meta, data) = rest.split_once(',')?;
        let media = meta.strip_suffix(";base64")?;
        Some((media, data))
    }
}

fn pick_image_url(v: Value) -> Option<ImageUrl> {
    match v {
        Value::String(url) => Some(ImageUrl { url, detail: None }),
        Value::Object(mut o) => Some(ImageUrl {
            url: serde_json::from_value(o.remove("url")?).ok()?,
            detail: o
                .remove("detail")
                .map_or(Ok(None), serde_json::from_value)
                .ok()?,
        }),
        _ => None,
    }
}

// "Raw": serde's name for it while this was a derived untagged `enum Raw { Url, Obj }`.
impl<'de> Deserialize<'de> for ImageUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for ImageUrl {
    fn from_value(v: Value) -> Built<Self> {
        pick_image_url(v).ok_or_else(|| no_variant("Raw"))
    }
}

/// A tool definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Tool {
    /// Always `function` for chat completions.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDef,
}

fn function_type() -> String {
    "function".into()
}

/// A callable function's schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FunctionDef {
    /// Function name.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// A tool call made by the assistant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ToolCall {
    /// Call id, echoed back in the tool result's `tool_call_id`.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// Name and JSON-encoded arguments.
    pub function: FunctionCall,
}

/// The function part of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FunctionCall {
    /// Function name.
    pub name: String,
    /// Arguments as a JSON string.
    #[serde(default)]
    pub arguments: String,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum ToolChoice {
    /// `"auto"`, `"none"` or `"required"`.
    Mode(String),
    /// Force one function.
    Named(NamedToolChoice),
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        untagged(d)
    }
}

impl FromValue for ToolChoice {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::String(s) => Ok(ToolChoice::Mode(s)),
            v => NamedToolChoice::from_value(v)
                .map(ToolChoice::Named)
                .map_err(|_| no_variant("ToolChoice")),
        }
    }
}

/// `{"type":"function","function":{"name":…}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NamedToolChoice {
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function to call.
    pub function: NamedFunction,
}

/// A function name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NamedFunction {
    /// Function name.
    pub name: String,
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ResponseFormat {
    /// `text`, `json_object` or `json_schema`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For `json_schema`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<JsonSchemaFormat>,
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JsonSchemaFormat {
    /// Schema name.
    pub name: String,
    /// What the output is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Strict adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl FromFields for ChatRequest {
    const NAME: &'static str = "struct ChatRequest";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            model: f.req("model")?,
            messages: f.sub_req("messages")?,
            temperature: f.opt("temperature"),
            top_p: f.opt("top_p"),
            n: f.opt("n"),
            stream: f.opt("stream"),
            stream_options: f.sub_opt("stream_options"),
            stop: f.sub_opt("stop"),
            max_tokens: f.opt("max_tokens"),
            max_completion_tokens: f.opt("max_completion_tokens"),
            presence_penalty: f.opt("presence_penalty"),
            frequency_penalty: f.opt("frequency_penalty"),
            logit_bias: f.sub_opt("logit_bias"),
            logprobs: f.opt("logprobs"),
            top_logprobs: f.opt("top_logprobs"),
            user: f.opt("user"),
            seed: f.opt("seed"),
            tools: f.sub_opt("tools"),
            tool_choice: f.sub_opt("tool_choice"),
            parallel_tool_calls: f.opt("parallel_tool_calls"),
            response_format: f.sub_opt("response_format"),
            reasoning_effort: f.opt("reasoning_effort"),
            extra: f.rest(),
        })
    }
}

impl FromFields for StreamOptions {
    const NAME: &'static str = "struct StreamOptions";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            include_usage: f.opt("include_usage"),
            extra: f.rest(),
        })
    }
}

impl FromFields for Message {
    const NAME: &'static str = "struct Message";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            role: f.req("role")?,
            content: f.sub_opt("content"),
            name: f.opt("name"),
            tool_calls: f.sub_opt("tool_calls"),
            tool_call_id: f.opt("tool_call_id"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ContentPart {
    const NAME: &'static str = "struct ContentPart";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            kind: f.req("type")?,
            text: f.opt("text"),
            image_url: f.sub_opt("image_url"),
            extra: f.rest(),
        })
    }
}

impl FromFields for Tool {
    const NAME: &'static str = "struct Tool";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            kind: f.or_else("type", function_type),
            function: f.sub_req("function")?,
        })
    }
}

impl FromFields for FunctionDef {
    const NAME: &'static str = "struct FunctionDef";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            name: f.req("name")?,
            description: f.opt("description"),
            parameters: f.sub_opt("parameters"),
            strict: f.opt("strict"),
        })
    }
}

impl FromFields for ToolCall {
    const NAME: &'static str = "struct ToolCall";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            id: f.req("id")?,
            kind: f.or_else("type", function_type),
            function: f.sub_req("function")?,
        })
    }
}

impl FromFields for FunctionCall {
    const NAME: &'static str = "struct FunctionCall";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            name: f.req("name")?,
            arguments: f.or_default("arguments"),
        })
    }
}

impl FromFields for NamedToolChoice {
    const NAME: &'static str = "struct NamedToolChoice";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            kind: f.or_else("type", function_type),
            function: f.sub_req("function")?,
        })
    }
}

impl FromFields for NamedFunction {
    const NAME: &'static str = "struct NamedFunction";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            name: f.req("name")?,
        })
    }
}

impl FromFields for ResponseFormat {
    const NAME: &'static str = "struct ResponseFormat";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            kind: f.req("type")?,
            json_schema: f.sub_opt("json_schema"),
        })
    }
}

impl FromFields for JsonSchemaFormat {
    const NAME: &'static str = "struct JsonSchemaFormat";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            name: f.req("name")?,
            description: f.opt("description"),
            schema: f.sub_opt("schema"),
            strict: f.opt("strict"),
        })
    }
}

deserialize_with_fields!(
    ChatRequest,
    StreamOptions,
    Message,
    ContentPart,
    Tool,
    FunctionDef,
    ToolCall,
    FunctionCall,
    NamedToolChoice,
    NamedFunction,
    ResponseFormat,
    JsonSchemaFormat
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_fields_are_not_serialized_and_unknown_fields_survive() {
        let v = json!({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"service_tier":"flex"});
        let r: ChatRequest = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
    }

    /// `param_names` / `has_param` read from the fields what a `Value` of the request has.
    #[test]
    fn param_names_are_the_json_keys_but_model_and_messages() {
        let every = json!({
            "model": "m", "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.5, "top_p": 1, "n": 1, "stream": true,
            "stream_options": {"include_usage": true}, "stop": ["x"], "max_tokens": 5,
            "max_completion_tokens": 6, "presence_penalty": 0, "frequency_penalty": 0,
            "logit_bias": {"1": 2}, "logprobs": true, "top_logprobs": 2, "user": "u", "seed": 7,
            "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto",
            "parallel_tool_calls": false, "response_format": {"type": "json_object"},
            "reasoning_effort": "low", "top_k": 4, "a_null_extra": null, "zz": 1,
        });
        let mut dup: ChatRequest =
            serde_json::from_value(json!({"model": "m", "messages": [], "seed": 1})).unwrap();
        // A key in `extra` that is also a typed field is one key of the JSON.
        dup.extra.insert("seed".into(), json!(2));
        dup.extra.insert("aaa".into(), json!(null));
        let plain: ChatRequest =
            serde_json::from_value(json!({"model": "m", "messages": []})).unwrap();
        for req in [serde_json::from_value(every).unwrap(), dup, plain] {
            let v = serde_json::to_value(&req).unwrap();
            let want: Vec<String> = v
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "model" && *k != "messages")
                .cloned()
                .collect();
            assert_eq!(req.param_names(), want);
            for k in v.as_object().unwrap().keys() {
                assert!(req.has_param(k), "{k}");
            }
            for k in TYPED_PARAMS.iter().chain(&["top_k", "nope"]) {
                assert_eq!(req.has_param(k), v.get(*k).is_some(), "{k}");
            }
        }
    }

    #[test]
    fn parts_and_image_url_forms() {
        let v = json!({"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":"https://x/y.png"}]});
        let m: Message = serde_json::from_value(v).unwrap();
        let Some(Content::Parts(p)) = &m.content else {
            panic!()
        };
        assert_eq!(p[1].image_url.as_ref().unwrap().url, "https://x/y.png");
        assert_eq!(m.text_content(), "a");
    }

    #[test]
    fn unknown_role_is_rejected() {
        assert!(serde_json::from_value::<Message>(json!({"role":"wizard","content":"x"})).is_err());
    }
}
