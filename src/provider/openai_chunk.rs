//! Reads an OpenAI `chat.completion.chunk` straight from its JSON text into a [`ChatChunk`].
//!
//! Streams are the hot path: a chunk is read once per event, hundreds per answer. Going through
//! a `serde_json::Value` first (or through serde's `Content` buffer, which `#[serde(flatten)]`
//! uses) builds the whole object twice. These visitors build the chunk, its choices and their
//! deltas in one pass, with the same results as the types' own `Deserialize` (unknown fields
//! land in `extra`, a choice's unknown fields are dropped, the last of duplicated keys wins,
//! `null` in an optional field is `None`, a wrong type or a missing `id` is an error). They
//! also tell whether the text had every field a chunk serializes with, which decides whether
//! the text can stand for the chunk ([`WireJson`]).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::types::{ChatChunk, ChunkChoice, Delta, FromValue, WireJson};

/// A chunk read from its text, and whether the text had all of `id`, `object`, `created`,
/// `model` and `choices` (else serializing the chunk adds defaults the text lacks).
pub(crate) struct ReadChunk {
    /// The chunk.
    pub(crate) chunk: ChatChunk,
    /// The text has every field of a chunk.
    pub(crate) complete: bool,
}

/// Reads `text` as a chunk.
pub(crate) fn read(text: &str) -> serde_json::Result<ReadChunk> {
    serde_json::from_str(text)
}

/// A key of a chunk, a choice or a delta, matched without allocating for the known ones.
enum Key {
    Id,
    Object,
    Created,
    Model,
    Choices,
    Usage,
    Fingerprint,
    Index,
    Delta,
    FinishReason,
    Logprobs,
    Role,
    Content,
    ToolCalls,
    Reasoning,
    Refusal,
    Other(String),
}

impl Key {
    /// The key as written, for a level where it is not a known field (then it goes to `extra`).
    fn into_name(self) -> String {
        let known = match self {
            Key::Other(s) => return s,
            Key::Id => "id",
            Key::Object => "object",
            Key::Created => "created",
            Key::Model => "model",
            Key::Choices => "choices",
            Key::Usage => "usage",
            Key::Fingerprint => "system_fingerprint",
            Key::Index => "index",
            Key::Delta => "delta",
            Key::FinishReason => "finish_reason",
            Key::Logprobs => "logprobs",
            Key::Role => "role",
            Key::Content => "content",
            Key::ToolCalls => "tool_calls",
            Key::Reasoning => "reasoning_content",
            Key::Refusal => "refusal",
        };
        known.to_string()
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(match s {
                    "id" => Key::Id,
                    "object" => Key::Object,
                    "created" => Key::Created,
                    "model" => Key::Model,
                    "choices" => Key::Choices,
                    "usage" => Key::Usage,
                    "system_fingerprint" => Key::Fingerprint,
                    "index" => Key::Index,
                    "delta" => Key::Delta,
                    "finish_reason" => Key::FinishReason,
                    "logprobs" => Key::Logprobs,
                    "role" => Key::Role,
                    "content" => Key::Content,
                    "tool_calls" => Key::ToolCalls,
                    "reasoning_content" => Key::Reasoning,
                    "refusal" => Key::Refusal,
                    other => Key::Other(other.to_string()),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for ReadChunk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ChunkVisitor;
        impl<'de> Visitor<'de> for ChunkVisitor {
            type Value = ReadChunk;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct ChatChunk")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadChunk, A::Error> {
                let (mut id, mut object, mut created, mut model) = (None, None, None, None);
                let (mut choices, mut usage, mut fingerprint) = (None, None, None);
                let mut extra = Map::new();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Id => id = Some(map.next_value::<String>()?),
                        Key::Object => object = Some(map.next_value::<String>()?),
                        Key::Created => created = Some(map.next_value::<i64>()?),
                        Key::Model => model = Some(map.next_value::<String>()?),
                        Key::Choices => {
                            let read: Vec<ReadChoice> = map.next_value()?;
                            choices = Some(read.into_iter().map(|c| c.0).collect());
                        }
                        Key::Usage => usage = via_value(map.next_value()?)?,
                        Key::Fingerprint => fingerprint = map.next_value()?,
                        other => {
                            extra.insert(other.into_name(), map.next_value::<Value>()?);
                        }
                    }
                }
                let complete =
                    object.is_some() && created.is_some() && model.is_some() && choices.is_some();
                // Listed in full (no `..`): a new `ChatChunk` field must be read here too.
                let chunk = ChatChunk {
                    id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                    object: object.unwrap_or_else(|| ChatChunk::default().object),
                    created: created.unwrap_or_default(),
                    model: model.unwrap_or_default(),
                    choices: choices.unwrap_or_default(),
                    usage,
                    system_fingerprint: fingerprint,
                    extra,
                    wire: WireJson::default(),
                };
                Ok(ReadChunk { chunk, complete })
            }
        }
        d.deserialize_map(ChunkVisitor)
    }
}

/// `T` from a `Value` read by a visitor (`null` is `None`), with the visitor's error type.
fn via_value<T: FromValue, E: de::Error>(v: Value) -> Result<Option<T>, E> {
    match v {
        Value::Null => Ok(None),
        v => T::from_value(v).map(Some).map_err(E::custom),
    }
}

/// One choice (`ChunkChoice` has no `extra`: unknown fields are dropped, as by its derive).
struct ReadChoice(ChunkChoice);

impl<'de> Deserialize<'de> for ReadChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ChoiceVisitor;
        impl<'de> Visitor<'de> for ChoiceVisitor {
            type Value = ReadChoice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct ChunkChoice")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadChoice, A::Error> {
                let mut c = ChunkChoice::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Index => c.index = map.next_value()?,
                        Key::Delta => c.delta = map.next_value::<ReadDelta>()?.0,
                        Key::FinishReason => c.finish_reason = map.next_value()?,
                        Key::Logprobs => c.logprobs = map.next_value()?,
                        _ => {
                            // `Value`, not `IgnoredAny`: its parser is compiled in already.
                            map.next_value::<Value>()?;
                        }
                    }
                }
                Ok(ReadChoice(c))
            }
        }
        d.deserialize_map(ChoiceVisitor)
    }
}

/// One delta.
struct ReadDelta(Delta);

impl<'de> Deserialize<'de> for ReadDelta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DeltaVisitor;
        impl<'de> Visitor<'de> for DeltaVisitor {
            type Value = ReadDelta;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Delta")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReadDelta, A::Error> {
                let mut d = Delta::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Role => d.role = map.next_value()?,
                        Key::Content => d.content = map.next_value()?,
                        // Rare next to text: read through `Value`, whose `from_value` code
                        // is already in the binary, rather than compile the derive again.
                        Key::ToolCalls => d.tool_calls = via_value(map.next_value()?)?,
                        Key::Reasoning => d.reasoning_content = map.next_value()?,
                        Key::Refusal => d.refusal = map.next_value()?,
                        other => {
                            d.extra
                                .insert(other.into_name(), map.next_value::<Value>()?);
                        }
                    }
                }
                Ok(ReadDelta(d))
            }
        }
        d.deserialize_map(DeltaVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The types' own `Deserialize`, through `Value` (which also keeps the last duplicate).
    fn derived(text: &str) -> ChatChunk {
        serde_json::from_value(serde_json::from_str(text).unwrap()).unwrap()
    }

    #[test]
    fn reads_what_the_types_read() {
        for text in [
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}"#,
            r#"{"id":"c","choices":[{"index":2,"delta":{"content":"\u00e9\"\n","reasoning_content":"r","model":"in-delta","index":7,"audio":{"id":"a"}},"finish_reason":"weird","native_finish_reason":"eos","logprobs":{"content":[]}}],"service_tier":"default","index":3,"delta":{}}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":null}]}"#,
            r#"{"id":"c","object":"x","created":-5,"model":"a","model":"b","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16,"prompt_tokens_details":{"cached_tokens":2},"cost":0.1},"x":1,"x":[2]}"#,
        ] {
            let read = read(text).unwrap().chunk;
            let want = derived(text);
            assert_eq!(read, want, "{text}");
            // `extra` is not part of `PartialEq`'s blind spots: compare the serialized forms too.
            assert_eq!(
                serde_json::to_value(&read).unwrap(),
                serde_json::to_value(&want).unwrap()
            );
        }
    }

    #[test]
    fn tells_whether_the_text_is_a_whole_chunk() {
        let whole =
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[]}"#;
        assert!(read(whole).unwrap().complete);
        for missing in ["object", "created", "model", "choices"] {
            let mut v: Value = serde_json::from_str(whole).unwrap();
            v.as_object_mut().unwrap().remove(missing);
            let text = v.to_string();
            assert!(!read(&text).unwrap().complete, "{text}");
        }
    }

    #[test]
    fn rejects_what_the_types_reject() {
        for text in [
            r#"{"object":"chat.completion.chunk","choices":[]}"#,
            r#"{"id":"c","created":"yesterday"}"#,
            r#"{"id":"c","model":null}"#,
            r#"{"id":"c","choices":null}"#,
            r#"{"id":"c","choices":[{"index":-1}]}"#,
            r#"{"id":"c","choices":[{"delta":null}]}"#,
            r#"{"id":"c","choices":[{"delta":{"content":5}}]}"#,
            r#"["c"]"#,
            r#"{"id":"c""#,
        ] {
            assert!(read(text).is_err(), "{text}");
            let v: serde_json::Result<Value> = serde_json::from_str(text);
            if let Ok(v) = v {
                assert!(serde_json::from_value::<ChatChunk>(v).is_err(), "{text}");
            }
        }
    }
}
