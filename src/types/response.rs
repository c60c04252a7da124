//! The OpenAI `chat.completion` response, `chat.completion.chunk` stream chunks and `usage`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::chat::ToolCall;
use super::fields::{deserialize_with_fields, Built, Fields, FromFields};

/// `chat.completion`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChatResponse {
    /// Response id.
    pub id: String,
    /// Always `chat.completion`.
    #[serde(default = "completion_object")]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// The model that answered (as the provider named it).
    #[serde(default)]
    pub model: String,
    /// The choices.
    pub choices: Vec<Choice>,
    /// Token usage as the provider reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Other fields (`service_tier`, provider extras), passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for ChatResponse {
    fn default() -> Self {
        Self {
            id: String::new(),
            object: completion_object(),
            created: 0,
            model: String::new(),
            choices: Vec::new(),
            usage: None,
            system_fingerprint: None,
            extra: Map::new(),
        }
    }
}

impl Default for ChatChunk {
    fn default() -> Self {
        Self {
            id: String::new(),
            object: chunk_object(),
            created: 0,
            model: String::new(),
            choices: Vec::new(),
            usage: None,
            system_fingerprint: None,
            extra: Map::new(),
            wire: WireJson::default(),
        }
    }
}

fn completion_object() -> String {
    "chat.completion".into()
}
fn chunk_object() -> String {
    "chat.completion.chunk".into()
}

/// One choice of a `chat.completion`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Choice {
    /// Position.
    #[serde(default)]
    pub index: u32,
    /// The assistant message.
    pub message: AssistantMessage,
    /// Why generation stopped.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log-probabilities, as the provider sent them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
}

/// The assistant's message in a response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AssistantMessage {
    /// Always `assistant`.
    #[serde(default = "assistant_role")]
    pub role: String,
    /// The text (always here, `null` when the model only called tools).
    #[serde(default)]
    pub content: Option<String>,
    /// Tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Reasoning / thinking text, when the provider returns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Refusal text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Other fields (`annotations`, `audio`, `thinking_blocks`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn assistant_role() -> String {
    "assistant".into()
}

impl FromFields for ChatResponse {
    const NAME: &'static str = "struct ChatResponse";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            id: f.req("id")?,
            object: f.or_else("object", completion_object),
            created: f.or_default("created"),
            model: f.or_default("model"),
            choices: f.sub_req("choices")?,
            usage: f.sub_opt("usage"),
            system_fingerprint: f.opt("system_fingerprint"),
            extra: f.rest(),
        })
    }
}

impl FromFields for Choice {
    const NAME: &'static str = "struct Choice";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            index: f.or_default("index"),
            message: f.sub_req("message")?,
            finish_reason: f.opt("finish_reason"),
            logprobs: f.sub_opt("logprobs"),
        })
    }
}

impl FromFields for AssistantMessage {
    const NAME: &'static str = "struct AssistantMessage";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            role: f.or_else("role", assistant_role),
            content: f.opt("content"),
            tool_calls: f.sub_opt("tool_calls"),
            reasoning_content: f.opt("reasoning_content"),
            refusal: f.opt("refusal"),
            extra: f.rest(),
        })
    }
}

impl Default for AssistantMessage {
    fn default() -> Self {
        Self {
            role: assistant_role(),
            content: None,
            tool_calls: None,
            reasoning_content: None,
            refusal: None,
            extra: Map::new(),
        }
    }
}

/// Why generation stopped. Open: unknown provider values are kept as `Other`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// Natural end or stop sequence.
    Stop,
    /// Output-token limit.
    Length,
    /// The model called tools.
    ToolCalls,
    /// Filtered by safety systems.
    ContentFilter,
    /// Legacy function call.
    FunctionCall,
    /// Anything else, as the provider said it.
    Other(String),
}

impl FinishReason {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ToolCalls => "tool_calls",
            Self::ContentFilter => "content_filter",
            Self::FunctionCall => "function_call",
            Self::Other(s) => s,
        }
    }
}

impl From<&str> for FinishReason {
    fn from(s: &str) -> Self {
        match s {
            "stop" => Self::Stop,
            "length" => Self::Length,
            "tool_calls" => Self::ToolCalls,
            "content_filter" => Self::ContentFilter,
            "function_call" => Self::FunctionCall,
            other => Self::Other(other.to_string()),
        }
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        Ok(FinishReason::from(s.as_ref()))
    }
}

/// Token usage, passed through from the provider (never estimated when the provider reports it).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Usage {
    /// Input tokens, including cached ones.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Output tokens, including reasoning.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Sum.
    #[serde(default)]
    pub total_tokens: u64,
    /// Breakdown of input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Breakdown of output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Anthropic-style: tokens written to the prompt cache (LiteLLM field name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Anthropic-style: tokens read from the prompt cache (LiteLLM field name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Usage {
    /// Usage with prompt and completion counts and their total.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
            ..Self::default()
        }
    }

    /// Cached input tokens read (from either representation).
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .or(self.cache_read_input_tokens)
            .unwrap_or(0)
    }
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PromptTokensDetails {
    /// Tokens served from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Audio input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CompletionTokensDetails {
    /// Reasoning tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `chat.completion.chunk`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChatChunk {
    /// Same id on every chunk of one stream.
    pub id: String,
    /// Always `chat.completion.chunk`.
    #[serde(default = "chunk_object")]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// Model.
    #[serde(default)]
    pub model: String,
    /// Deltas.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Present on the last chunk when usage was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Other fields, passed through.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// The JSON text this chunk arrived as, when the fields say exactly the same.
    #[serde(skip)]
    pub wire: WireJson,
}

/// The JSON text a chunk arrived as, so that encoders can write it out as it came instead of
/// serializing the fields again (a gateway forwarding an OpenAI-format upstream). Decoders set
/// it only when they rewrote nothing; whatever changes a decoded chunk's fields must
/// [`clear`](WireJson::clear) it. It is another form of the same value: it is never serialized
/// and always compares equal.
#[derive(Clone, Default)]
pub struct WireJson(Option<Box<str>>);

impl WireJson {
    /// Keeps `text`, which must be one line of JSON (it is written into SSE `data:` lines).
    pub fn new(text: &str) -> Self {
        debug_assert!(!text.contains(['\n', '\r']), "wire JSON must be one line");
        Self(Some(text.into()))
    }

    /// The text, if the chunk still matches it.
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Forgets the text (the chunk's fields were changed).
    pub fn clear(&mut self) {
        self.0 = None;
    }
}

impl PartialEq for WireJson {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for WireJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(t) => write!(f, "WireJson({} bytes)", t.len()),
            None => f.write_str("WireJson(None)"),
        }
    }
}

/// One choice's delta.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ChunkChoice {
    /// Position.
    #[serde(default)]
    pub index: u32,
    /// What is new.
    #[serde(default)]
    pub delta: Delta,
    /// Set on the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log-probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
}

/// A streamed delta.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Delta {
    /// `assistant` on the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Text piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Tool-call pieces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Reasoning text piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Refusal piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A piece of a tool call: the first piece has id and name, later ones append to `arguments`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ToolCallDelta {
    /// Which tool call (stable across pieces).
    #[serde(default)]
    pub index: u32,
    /// Call id (first piece).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (first piece).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and argument fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// Name (first piece) and a fragment of the JSON arguments.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FunctionCallDelta {
    /// Function name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Argument fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

impl FromFields for Usage {
    const NAME: &'static str = "struct Usage";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            prompt_tokens: f.or_default("prompt_tokens"),
            completion_tokens: f.or_default("completion_tokens"),
            total_tokens: f.or_default("total_tokens"),
            prompt_tokens_details: f.sub_opt("prompt_tokens_details"),
            completion_tokens_details: f.sub_opt("completion_tokens_details"),
            cache_creation_input_tokens: f.opt("cache_creation_input_tokens"),
            cache_read_input_tokens: f.opt("cache_read_input_tokens"),
            extra: f.rest(),
        })
    }
}

impl FromFields for PromptTokensDetails {
    const NAME: &'static str = "struct PromptTokensDetails";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            cached_tokens: f.opt("cached_tokens"),
            audio_tokens: f.opt("audio_tokens"),
            extra: f.rest(),
        })
    }
}

impl FromFields for CompletionTokensDetails {
    const NAME: &'static str = "struct CompletionTokensDetails";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            reasoning_tokens: f.opt("reasoning_tokens"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ChatChunk {
    const NAME: &'static str = "struct ChatChunk";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            id: f.req("id")?,
            object: f.or_else("object", chunk_object),
            created: f.or_default("created"),
            model: f.or_default("model"),
            choices: f.sub_or_default("choices"),
            usage: f.sub_opt("usage"),
            system_fingerprint: f.opt("system_fingerprint"),
            extra: f.rest(),
            wire: WireJson::default(),
        })
    }
}

impl FromFields for ChunkChoice {
    const NAME: &'static str = "struct ChunkChoice";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            index: f.or_default("index"),
            delta: f.sub_or_default("delta"),
            finish_reason: f.opt("finish_reason"),
            logprobs: f.sub_opt("logprobs"),
        })
    }
}

impl FromFields for Delta {
    const NAME: &'static str = "struct Delta";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            role: f.opt("role"),
            content: f.opt("content"),
            tool_calls: f.sub_opt("tool_calls"),
            reasoning_content: f.opt("reasoning_content"),
            refusal: f.opt("refusal"),
            extra: f.rest(),
        })
    }
}

impl FromFields for ToolCallDelta {
    const NAME: &'static str = "struct ToolCallDelta";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            index: f.or_default("index"),
            id: f.opt("id"),
            kind: f.opt("type"),
            function: f.sub_opt("function"),
        })
    }
}

impl FromFields for FunctionCallDelta {
    const NAME: &'static str = "struct FunctionCallDelta";
    fn build(f: &mut Fields) -> Built<Self> {
        Ok(Self {
            name: f.opt("name"),
            arguments: f.opt("arguments"),
        })
    }
}

deserialize_with_fields!(
    ChatResponse,
    Choice,
    AssistantMessage,
    Usage,
    PromptTokensDetails,
    CompletionTokensDetails,
    ChatChunk,
    ChunkChoice,
    Delta,
    ToolCallDelta,
    FunctionCallDelta
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_finish_reason_is_kept() {
        let c: ChunkChoice =
            serde_json::from_value(json!({"index":0,"delta":{},"finish_reason":"eos_token"}))
                .unwrap();
        assert_eq!(
            c.finish_reason,
            Some(FinishReason::Other("eos_token".into()))
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap()["finish_reason"],
            "eos_token"
        );
    }

    #[test]
    fn content_null_is_serialized() {
        let r = ChatResponse {
            id: "x".into(),
            choices: vec![Choice::default()],
            ..Default::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert!(v["choices"][0]["message"]["content"].is_null());
        assert_eq!(v["object"], "chat.completion");
    }
}
