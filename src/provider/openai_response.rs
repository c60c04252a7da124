//! Reads what a gateway needs of an OpenAI `chat.completion` body (the model and the usage)
//! and decides whether the body can go to the client as it came.
//!
//! A gateway in front of an OpenAI-format upstream otherwise parses each answer into a
//! [`ChatResponse`](crate::types::ChatResponse) and serializes it again, only to read its
//! usage for cost and spend: a tree of allocations built and dropped per request. This reader
//! checks the body against the same rules the type's `Deserialize` applies (every typed field
//! of the right type, `id` and `choices[].message` present), without keeping anything but
//! `model` and `usage`. It accepts a body only when forwarding it says the same as the
//! re-serialized response would: every field serialization always writes is there (`object`,
//! `created`, `model`, a choice's `index` and `finish_reason`, a message's `role` and
//! `content`), no choice has the empty finish reason that [`Compat::normalize`] rewrites, and
//! there is no `error` object. Anything else is `None`, and the caller takes the typed path,
//! which also produces the exact error for a body that is not a chat completion.
//!
//! [`Compat::normalize`]: super::openai_compat::Compat::normalize

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::types::{ToolCall, Usage};

/// What a forwarded body says about its call.
#[derive(Debug, Clone, PartialEq)]
pub struct WireFacts {
    /// `model` as the upstream named it.
    pub model: String,
    /// `usage` as the upstream reported it.
    pub usage: Option<Usage>,
}

/// The facts of `body` when it can be forwarded as it is; `None` otherwise (see the module
/// docs).
pub fn read(body: &[u8]) -> Option<WireFacts> {
    // `IgnoredAny` skips strings without checking their UTF-8, which the typed path's `Value`
    // does: check the whole body once.
    let text = std::str::from_utf8(body).ok()?;
    serde_json::from_str::<Top>(text).ok().map(|t| t.0)
}

/// A key this reader knows, matched without allocating.
enum Key {
    Id,
    Object,
    Created,
    Model,
    Choices,
    Usage,
    Fingerprint,
    Error,
    Index,
    Message,
    FinishReason,
    Role,
    Content,
    ToolCalls,
    Reasoning,
    Refusal,
    Other,
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
                    "error" => Key::Error,
                    "index" => Key::Index,
                    "message" => Key::Message,
                    "finish_reason" => Key::FinishReason,
                    "role" => Key::Role,
                    "content" => Key::Content,
                    "tool_calls" => Key::ToolCalls,
                    "reasoning_content" => Key::Reasoning,
                    "refusal" => Key::Refusal,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// A JSON string, checked and dropped (`null` is `Option<Str>`'s).
struct Str;

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl Visitor<'_> for StrVisitor {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Str, E> {
                Ok(Str)
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

/// A finish reason other than `""` (which `normalize` rewrites).
struct Finish;

impl<'de> Deserialize<'de> for Finish {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FinishVisitor;
        impl Visitor<'_> for FinishVisitor {
            type Value = Finish;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a finish reason")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Finish, E> {
                if s.is_empty() {
                    return Err(E::custom("an empty finish_reason is rewritten"));
                }
                Ok(Finish)
            }
        }
        d.deserialize_str(FinishVisitor)
    }
}

/// The whole body.
struct Top(WireFacts);

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = Top;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct ChatResponse")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                let (mut id, mut object, mut created, mut choices) = (false, false, false, false);
                let (mut model, mut usage) = (None, None);
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Id => {
                            map.next_value::<Str>()?;
                            id = true;
                        }
                        Key::Object => {
                            map.next_value::<Str>()?;
                            object = true;
                        }
                        Key::Created => {
                            map.next_value::<i64>()?;
                            created = true;
                        }
                        Key::Model => model = Some(map.next_value::<String>()?),
                        Key::Choices => {
                            map.next_value::<Choices>()?;
                            choices = true;
                        }
                        Key::Usage => usage = map.next_value::<Option<UsageFacts>>()?.map(|u| u.0),
                        Key::Fingerprint => {
                            map.next_value::<Option<Str>>()?;
                        }
                        Key::Error => {
                            if map.next_value::<Option<IgnoredAny>>()?.is_some() {
                                return Err(de::Error::custom("an error object"));
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let Some(model) = model else {
                    return Err(de::Error::missing_field("model"));
                };
                if !(id && object && created && choices) {
                    return Err(de::Error::custom("not every field of a chat.completion"));
                }
                Ok(Top(WireFacts { model, usage }))
            }
        }
        d.deserialize_map(TopVisitor)
    }
}

/// `usage`, as `Usage`'s `Deserialize` reads it, without a `Value` for an object of only the
/// three counts (the usual one): other fields go through `Value` and the type's own reading, the
/// counts with them. A count that is not a `u64` fails here, and so falls back to the typed
/// path (the type fails on it too).
struct UsageFacts(Usage);

/// A key of `usage`: one of the counts (by index in [`COUNTS`]), or another field.
enum UsageKey {
    Count(usize),
    Other(String),
}

const COUNTS: [&str; 3] = ["prompt_tokens", "completion_tokens", "total_tokens"];

impl<'de> Deserialize<'de> for UsageKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = UsageKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<UsageKey, E> {
                Ok(match COUNTS.iter().position(|c| *c == s) {
                    Some(i) => UsageKey::Count(i),
                    None => UsageKey::Other(s.to_string()),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for UsageFacts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct UsageVisitor;
        impl<'de> Visitor<'de> for UsageVisitor {
            type Value = UsageFacts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Usage")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UsageFacts, A::Error> {
                let mut counts = [None::<u64>; 3];
                let mut rest = serde_json::Map::new();
                while let Some(key) = map.next_key::<UsageKey>()? {
                    match key {
                        UsageKey::Count(i) => counts[i] = Some(map.next_value::<u64>()?),
                        UsageKey::Other(k) => {
                            rest.insert(k, map.next_value::<serde_json::Value>()?);
                        }
                    }
                }
                let [prompt, completion, total] = counts;
                if rest.is_empty() {
                    return Ok(UsageFacts(Usage {
                        prompt_tokens: prompt.unwrap_or_default(),
                        completion_tokens: completion.unwrap_or_default(),
                        total_tokens: total.unwrap_or_default(),
                        ..Usage::default()
                    }));
                }
                for (name, n) in COUNTS.iter().zip(counts) {
                    if let Some(n) = n {
                        rest.insert((*name).to_string(), n.into());
                    }
                }
                <Usage as crate::types::FromValue>::from_value(serde_json::Value::Object(rest))
                    .map(UsageFacts)
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_map(UsageVisitor)
    }
}

/// `choices`, each one checked.
struct Choices;

impl<'de> Deserialize<'de> for Choices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ChoicesVisitor;
        impl<'de> Visitor<'de> for ChoicesVisitor {
            type Value = Choices;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Choices, A::Error> {
                while seq.next_element::<Choice>()?.is_some() {}
                Ok(Choices)
            }
        }
        d.deserialize_seq(ChoicesVisitor)
    }
}

/// One choice, with every field serialization writes.
struct Choice;

impl<'de> Deserialize<'de> for Choice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ChoiceVisitor;
        impl<'de> Visitor<'de> for ChoiceVisitor {
            type Value = Choice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Choice")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Choice, A::Error> {
                let (mut index, mut message, mut finish) = (false, false, false);
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Index => {
                            map.next_value::<u32>()?;
                            index = true;
                        }
                        Key::Message => {
                            map.next_value::<Message>()?;
                            message = true;
                        }
                        Key::FinishReason => {
                            map.next_value::<Option<Finish>>()?;
                            finish = true;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if !(index && message && finish) {
                    return Err(de::Error::custom("not every field of a choice"));
                }
                Ok(Choice)
            }
        }
        d.deserialize_map(ChoiceVisitor)
    }
}

/// The assistant message, with `role` and `content`.
struct Message;

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MessageVisitor;
        impl<'de> Visitor<'de> for MessageVisitor {
            type Value = Message;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct AssistantMessage")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Message, A::Error> {
                let (mut role, mut content) = (false, false);
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Role => {
                            map.next_value::<Str>()?;
                            role = true;
                        }
                        Key::Content => {
                            map.next_value::<Option<Str>>()?;
                            content = true;
                        }
                        Key::Reasoning | Key::Refusal => {
                            map.next_value::<Option<Str>>()?;
                        }
                        // Rare, and their shape is the type's business.
                        Key::ToolCalls => {
                            map.next_value::<Option<Vec<ToolCall>>>()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                if !(role && content) {
                    return Err(de::Error::custom("not every field of a message"));
                }
                Ok(Message)
            }
        }
        d.deserialize_map(MessageVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ChatResponse;
    use serde_json::{json, Value};

    /// What the typed path makes of `text`.
    fn typed(text: &str) -> Option<ChatResponse> {
        serde_json::from_str(text).ok()
    }

    const WHOLE: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"there\" \u00e9","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}},"service_tier":"default","system_fingerprint":"fp_1"}"#;

    #[test]
    fn reads_model_and_usage_as_the_types_do() {
        let tools = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":null,"x":{"y":[1,2.5,"z"]}}"#;
        let pretty = "{\n  \"id\": \"c\",\n  \"object\": \"chat.completion\",\n  \"created\": 1,\n  \"model\": \"a\",\n  \"model\": \"b\",\n  \"choices\": [],\n  \"error\": null\n}\n";
        for text in [WHOLE, tools, pretty] {
            let facts = read(text.as_bytes()).unwrap_or_else(|| panic!("{text}"));
            let want = typed(text).unwrap();
            assert_eq!(facts.model, want.model, "{text}");
            assert_eq!(facts.usage, want.usage, "{text}");
        }
    }

    #[test]
    fn usage_is_read_as_the_type_reads_it() {
        let usages = [
            r#"{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42}"#,
            r#"{"completion_tokens":30}"#,
            r#"{}"#,
            r#"{"prompt_tokens":1,"prompt_tokens":2,"total_tokens":2}"#,
            r#"{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":3,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":5,"accepted_prediction_tokens":0},"queue_time":0.01}"#,
            r#"{"cache_read_input_tokens":7,"prompt_tokens":9,"x":null}"#,
        ];
        for u in usages {
            let text = WHOLE.replace(
                r#""usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}}"#,
                &format!(r#""usage":{u}"#),
            );
            assert!(text.contains(u));
            let facts = read(text.as_bytes()).unwrap_or_else(|| panic!("{u}"));
            assert_eq!(facts.usage, typed(&text).unwrap().usage, "{u}");
        }
        // What the type refuses is not forwarded (the typed path then reports it).
        for u in [
            r#"{"prompt_tokens":-1}"#,
            r#"{"prompt_tokens":1.5}"#,
            r#"{"prompt_tokens":"1"}"#,
            r#"{"prompt_tokens":null}"#,
            r#"{"prompt_tokens_details":7}"#,
            r#"[1,2]"#,
        ] {
            let text = WHOLE.replace(
                r#""usage":{"prompt_tokens":12,"completion_tokens":30,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}}"#,
                &format!(r#""usage":{u}"#),
            );
            assert!(typed(&text).is_none(), "{u}");
            assert!(read(text.as_bytes()).is_none(), "{u}");
        }
    }

    #[test]
    fn refuses_bodies_that_serialize_differently() {
        let whole: Value = serde_json::from_str(WHOLE).unwrap();
        // Each is a valid chat completion, but re-serializing it adds or rewrites a field.
        let mut cases = Vec::new();
        for ptr in ["", "/choices/0", "/choices/0/message"] {
            let keys: &[&str] = match ptr {
                "" => &["object", "created", "model"],
                "/choices/0" => &["index", "finish_reason"],
                _ => &["role", "content"],
            };
            for key in keys {
                let mut v = whole.clone();
                v.pointer_mut(ptr)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .remove(*key);
                cases.push(v);
            }
        }
        let mut empty_finish = whole.clone();
        empty_finish["choices"][0]["finish_reason"] = json!("");
        cases.push(empty_finish);
        for v in cases {
            let text = v.to_string();
            assert!(typed(&text).is_some(), "{text}");
            assert!(read(text.as_bytes()).is_none(), "{text}");
        }
    }

    #[test]
    fn refuses_what_the_types_refuse() {
        let whole: Value = serde_json::from_str(WHOLE).unwrap();
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for (ptr, bad) in [
            ("/id", json!(null)),
            ("/id", json!(7)),
            ("/object", json!(null)),
            ("/created", json!("yesterday")),
            ("/created", json!(1.5)),
            ("/model", json!(null)),
            ("/choices", json!(null)),
            ("/choices", json!({})),
            ("/choices/0/index", json!(-1)),
            ("/choices/0/message", json!(null)),
            ("/choices/0/message/role", json!(null)),
            ("/choices/0/message/content", json!(5)),
            ("/choices/0/message/refusal", json!(false)),
            ("/choices/0/message/tool_calls", json!([{"id": 1}])),
            ("/choices/0/finish_reason", json!(3)),
            ("/usage", json!({"prompt_tokens": "many"})),
            ("/system_fingerprint", json!(1)),
        ] {
            let mut v = whole.clone();
            let (parent, key) = ptr.rsplit_once('/').unwrap();
            let obj = v.pointer_mut(parent).unwrap().as_object_mut().unwrap();
            obj.insert(key.to_string(), bad);
            cases.push(v.to_string().into_bytes());
        }
        let mut no_id = whole.clone();
        no_id.as_object_mut().unwrap().remove("id");
        cases.push(no_id.to_string().into_bytes());
        cases.push(b"[]".to_vec());
        cases.push(format!("{WHOLE} x").into_bytes());
        cases.push(WHOLE.as_bytes()[..WHOLE.len() - 1].to_vec());
        let mut latin1 = WHOLE.as_bytes().to_vec();
        let at = WHOLE.find("default").unwrap();
        latin1[at] = 0xe9;
        cases.push(latin1);
        for body in cases {
            let shown = String::from_utf8_lossy(&body).into_owned();
            assert!(
                serde_json::from_slice::<ChatResponse>(&body).is_err(),
                "{shown}"
            );
            assert!(read(&body).is_none(), "{shown}");
        }
    }

    #[test]
    fn refuses_errors_in_a_200() {
        let text = r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[],"error":{"message":"overloaded","code":503}}"#;
        assert!(typed(text).is_some());
        assert!(read(text.as_bytes()).is_none());
    }
}
