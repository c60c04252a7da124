//! Hand-written `Deserialize` for the wire structs, through a JSON object.
//!
//! A derived `Deserialize` is compiled once per deserializer it meets (`from_value`, `from_str`,
//! …), and with `#[serde(flatten)]` it also buffers every unknown field through serde's private
//! `Content` tree: several KB of wasm per struct. Here a struct reads its input as a `Value`
//! object once ([`Fields::read`], one copy per deserializer for all structs), then takes each
//! field out with `from_value` (one copy per field type, shared by every struct); what is left
//! is the `extra` map. Same results as the derive for JSON objects: absent `Option`s are
//! `None`, `default` fields take their default, a missing required field is serde's
//! `missing field` error, a wrong type is serde's `invalid type` error, unknown fields are
//! kept (flatten) or ignored. Unlike the derive, a JSON array is not accepted for a struct, a
//! duplicated key keeps its last value instead of failing, and when several fields are wrong
//! the error is the first one's in declaration order (the derive reports in input order, and a
//! missing field after every present one).
//!
//! A struct field of such a struct is taken with the `sub_*` methods ([`FromValue`]), which
//! hand it its object as it is. Through `from_value` its `Deserialize` would read the object
//! into a new `Value` first, re-inserting every key below it: each level of nesting copied
//! everything under it once more (a chat request's messages twice, a JSON schema three times).

use serde::de::{DeserializeOwned, Deserializer, Error, Unexpected};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A JSON object whose fields are being taken out.
pub(crate) struct Fields {
    /// The object's entries, looked up by a scan ([`Fields::remove`]). A struct asks for every
    /// field it has (a chat request 22, mostly absent): a `BTreeMap` search per field,
    /// comparing keys through `memcmp`, was ≈ 5 % of the instructions of a routed chat call
    /// (native callgrind), where a scan of a few entries compares lengths first.
    entries: Vec<(String, Value)>,
    /// The first error of a field taken without `?` ([`Fields::opt`], [`Fields::or_else`]):
    /// those return a value in any case, so the struct's code has no error branch per field.
    err: Option<serde_json::Error>,
}

/// The result of building a struct from its [`Fields`].
pub(crate) type Built<T> = Result<T, serde_json::Error>;

/// A struct read through [`Fields`]: its name for errors (`struct ChatRequest`) and how it is
/// built from its fields. [`deserialize_with_fields!`] gives it its `Deserialize`.
pub(crate) trait FromFields: Sized {
    /// `struct <Name>`, as serde's derive names it in errors.
    const NAME: &'static str;
    /// Takes the struct's fields out of `f`.
    fn build(f: &mut Fields) -> Built<Self>;
}

/// A value made from a `Value` it takes by move (see the module docs), with the results of
/// its `Deserialize` from that `Value`.
pub(crate) trait FromValue: Sized {
    /// `v` as a `Self`.
    fn from_value(v: Value) -> Built<Self>;

    /// [`FromValue::from_value`] of the object with these entries (distinct keys, in the
    /// object's order), for a caller that took some out already (`options::parse_chat`): a
    /// struct reads them as they are, without a map made of them first.
    fn from_entries(entries: Vec<(String, Value)>) -> Built<Self> {
        Self::from_value(Value::Object(entries.into_iter().collect()))
    }
}

impl<T: FromFields> FromValue for T {
    fn from_value(v: Value) -> Built<T> {
        Fields::finish_build(Fields::object(v, T::NAME)?, T::build)
    }

    fn from_entries(entries: Vec<(String, Value)>) -> Built<T> {
        Fields::finish_build(Fields { entries, err: None }, T::build)
    }
}

impl FromValue for Value {
    fn from_value(v: Value) -> Built<Value> {
        Ok(v)
    }
}

/// Scalars by serde, so that a `Vec` of them is read by the one `Vec<T>` loop below, not by a
/// copy of serde's sequence visitor per element type.
macro_rules! from_value_by_serde {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Value) -> Built<Self> {
                serde_json::from_value(v)
            }
        }
    )*};
}
from_value_by_serde!(String, u32, f64);

impl FromValue for Map<String, Value> {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::Object(map) => Ok(map),
            other => Err(serde_json::Error::invalid_type(
                unexpected(&other),
                &"a map",
            )),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value) -> Built<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Built<Self> {
        let mut out = Vec::new();
        each(v, &mut |item| T::from_value(item).map(|t| out.push(t)))?;
        Ok(out)
    }
}

/// Calls `f` with each of `v`'s items in turn, up to the first error; serde's `invalid type`
/// error for a non-array. Not generic: the loop and the drop of the items left are one copy
/// for every `Vec<T>`, which keeps only its `push`.
#[inline(never)]
fn each(v: Value, f: &mut dyn FnMut(Value) -> Built<()>) -> Built<()> {
    for item in seq(v)? {
        f(item)?;
    }
    Ok(())
}

/// `v`'s items, or serde's `invalid type` error. Not generic: one copy for every `Vec<T>`.
#[inline(never)]
fn seq(v: Value) -> Built<Vec<Value>> {
    match v {
        Value::Array(items) => Ok(items),
        other => Err(serde_json::Error::invalid_type(
            unexpected(&other),
            &"a sequence",
        )),
    }
}

/// `impl Deserialize` for [`FromFields`] structs.
macro_rules! deserialize_with_fields {
    ($($t:ty),* $(,)?) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::types::fields::Fields::deserialize(d)
            }
        }
    )*};
}
pub(crate) use deserialize_with_fields;

impl Fields {
    /// Reads `d` as a `Value` and builds `T` from it ([`FromValue::from_value`]).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: FromValue>(
        d: D,
    ) -> Result<T, D::Error> {
        let v = Value::deserialize(d)?;
        T::from_value(v).map_err(D::Error::custom)
    }

    /// Inlined into each struct's `from_value`/`from_entries`: as a function of its own it was a
    /// second copy per struct, copying the built struct once more (−178 B gzip).
    #[inline(always)]
    fn finish_build<T>(mut f: Fields, build: fn(&mut Fields) -> Built<T>) -> Built<T> {
        let built = build(&mut f);
        // A field's error comes before any later one, as with the derive (fields in order).
        f.finish()?;
        built
    }

    /// The first error kept while building, if any; drops what was not taken. Not generic.
    #[inline(never)]
    fn finish(self) -> Built<()> {
        match self.err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `v` as fields, or serde's `invalid type` error. Not generic: one copy for all structs.
    #[inline(never)]
    fn object(v: Value, expected: &'static str) -> Built<Self> {
        match v {
            Value::Object(map) => Ok(Fields {
                entries: map.into_iter().collect(),
                err: None,
            }),
            other => Err(serde_json::Error::invalid_type(
                unexpected(&other),
                &expected,
            )),
        }
    }

    /// Takes the field `key` out. Not generic, and not inlined: one copy for all fields.
    #[inline(never)]
    fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        // What is left keeps its order, so `rest` is the map it would have been with any
        // `Map` (sorted, or in input order with serde_json's `preserve_order`).
        Some(self.entries.remove(i).1)
    }

    /// `v` as a `T`; on error `None`, and the error is kept (the first one wins).
    fn take<T: DeserializeOwned>(&mut self, v: Value) -> Option<T> {
        match serde_json::from_value(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.err.get_or_insert(e);
                None
            }
        }
    }

    /// An optional field: `None` when absent or `null`.
    pub(crate) fn opt<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        // `null` checked here, not by `Option<T>`'s `Deserialize` (the same result): that is a
        // copy per field type of serde's `Option` visitor.
        match self.remove(key)? {
            Value::Null => None,
            v => self.take(v),
        }
    }

    /// A required field.
    pub(crate) fn req<T: DeserializeOwned>(&mut self, key: &'static str) -> Built<T> {
        match self.remove(key) {
            Some(v) => serde_json::from_value(v),
            None => Err(serde_json::Error::missing_field(key)),
        }
    }

    /// A field with a default (`#[serde(default)]`): the default when absent.
    pub(crate) fn or_default<T: DeserializeOwned + Default>(&mut self, key: &str) -> T {
        self.or_else(key, T::default)
    }

    /// A field with a default function (`#[serde(default = "f")]`).
    pub(crate) fn or_else<T: DeserializeOwned>(&mut self, key: &str, f: fn() -> T) -> T {
        match self.remove(key) {
            None => f(),
            Some(v) => self.take(v).unwrap_or_else(f),
        }
    }

    /// `v` as a `T` by move; on error `None`, and the error is kept (the first one wins).
    fn take_sub<T: FromValue>(&mut self, v: Value) -> Option<T> {
        match T::from_value(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.err.get_or_insert(e);
                None
            }
        }
    }

    /// [`Fields::opt`] for a [`FromValue`] type.
    pub(crate) fn sub_opt<T: FromValue>(&mut self, key: &str) -> Option<T> {
        match self.remove(key)? {
            Value::Null => None,
            v => self.take_sub(v),
        }
    }

    /// [`Fields::req`] for a [`FromValue`] type.
    pub(crate) fn sub_req<T: FromValue>(&mut self, key: &'static str) -> Built<T> {
        match self.remove(key) {
            Some(v) => T::from_value(v),
            None => Err(serde_json::Error::missing_field(key)),
        }
    }

    /// [`Fields::or_default`] for a [`FromValue`] type.
    pub(crate) fn sub_or_default<T: FromValue + Default>(&mut self, key: &str) -> T {
        match self.remove(key) {
            None => T::default(),
            Some(v) => self.take_sub(v).unwrap_or_default(),
        }
    }

    /// The fields not taken (a `#[serde(flatten)]` map). Inserted one by one: the map's
    /// `FromIterator` sorts and bulk-builds its tree (a stable sort, a dedup pass and a tree
    /// append: 1.1 KB of gzipped package with the one other use, `BudgetManager`'s model costs)
    /// for the few keys left here. The last of equal keys wins either way.
    pub(crate) fn rest(&mut self) -> Map<String, Value> {
        let mut map = Map::new();
        for (k, v) in std::mem::take(&mut self.entries) {
            map.insert(k, v);
        }
        map
    }
}

/// `map.put("key", value)`: `insert` with a `&str` key and the old value dropped, as one call
/// that is not inlined. Request builders insert at hundreds of places; inlined, each place
/// carries its own key allocation, insert call and drop of the returned `Option<Value>`.
pub(crate) trait Put {
    /// Sets `key` to `value`.
    fn put(&mut self, key: &str, value: Value);
}

impl Put for Map<String, Value> {
    #[inline(never)]
    fn put(&mut self, key: &str, value: Value) {
        self.insert(key.to_owned(), value);
    }
}

/// `serde_json::to_value(t)`, the same `Value`, made through JSON text: a type serialized to
/// text elsewhere (every wire type is) then needs no second copy of its `Serialize` for the
/// `Value` serializer. Costs a parse; for paths off the request path (callbacks, logging).
pub(crate) fn to_value_via_text<T: serde::Serialize + ?Sized>(t: &T) -> serde_json::Result<Value> {
    // `from_str`, not `from_slice`: the crate parses text only (see `provider::build::parse`);
    // a byte-slice reader would be a second copy of the whole deserializer.
    serde_json::from_str(&serde_json::to_string(t)?)
}

/// `v` as compact JSON text: what `v.to_string()` writes. Formatting a `Value` (`{}`,
/// `to_string()`) brings in its `Display`: a second copy of serde_json's compact serializer
/// (writing to a `fmt::Formatter`) and the pretty one (for `{:#}`), ≈ 1.6 KB of the gzipped
/// npm package. This goes through the serializer request bodies already use.
#[inline(never)]
pub(crate) fn json_text(v: &Value) -> String {
    // A `Value` always serializes: its keys are strings.
    serde_json::to_string(v).unwrap_or_default()
}

/// What serde reports for `v` in an `invalid type` error.
fn unexpected(v: &Value) -> Unexpected<'_> {
    match v {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (_, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_text_is_display() {
        let v = json!({"b": [1, -2, 0.5, 1e300, null, true], "a": "q\"\n\u{1}é", "c": {}});
        assert_eq!(json_text(&v), v.to_string());
        assert_eq!(json_text(&json!("x")), "\"x\"");
    }

    #[derive(Debug, PartialEq)]
    struct S {
        id: String,
        n: Option<u32>,
        list: Vec<u32>,
        kind: String,
        extra: Map<String, Value>,
    }

    impl FromFields for S {
        const NAME: &'static str = "struct S";
        fn build(f: &mut Fields) -> Built<S> {
            Ok(S {
                id: f.req("id")?,
                n: f.opt("n"),
                list: f.or_default("list"),
                kind: f.or_else("type", || "function".into()),
                extra: f.rest(),
            })
        }
    }
    deserialize_with_fields!(S);

    #[test]
    fn fields_defaults_and_rest() {
        let s: S = serde_json::from_value(json!({"id": "a", "n": null, "x": 1})).unwrap();
        assert_eq!(
            s,
            S {
                id: "a".into(),
                n: None,
                list: vec![],
                kind: "function".into(),
                extra: json!({"x": 1}).as_object().unwrap().clone(),
            }
        );
        let s: S = serde_json::from_str(r#"{"id":"b","n":2,"list":[1],"type":"t"}"#).unwrap();
        assert_eq!((s.n, s.list, s.kind.as_str()), (Some(2), vec![1], "t"));
    }

    /// What a `sub_*` method reads, it reads as serde's `from_value` does, errors included.
    fn same_as_serde<T>(v: Value)
    where
        T: FromValue + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let by_move = T::from_value(v.clone()).map_err(|e| e.to_string());
        let by_serde = serde_json::from_value::<T>(v.clone()).map_err(|e| e.to_string());
        assert_eq!(by_move, by_serde, "{v}");
    }

    #[test]
    fn by_move_reads_as_from_value() {
        use crate::types::{ChatRequest, ChatResponse, Content, Message, Usage};
        let msg = json!({"role": "user", "content": [{"type": "text", "text": "a", "x": 1}], "cache_control": {}});
        same_as_serde::<Message>(msg.clone());
        same_as_serde::<Vec<Message>>(
            json!([msg.clone(), {"role": "tool", "content": "r", "tool_call_id": "c"}]),
        );
        same_as_serde::<Option<Vec<Message>>>(json!(null));
        same_as_serde::<Content>(json!("text"));
        same_as_serde::<Content>(json!([{"type": "image_url", "image_url": "https://x/y.png"}]));
        same_as_serde::<Option<Usage>>(
            json!({"prompt_tokens": 1, "prompt_tokens_details": {"cached_tokens": 2}}),
        );
        same_as_serde::<Map<String, Value>>(json!({"a": [1, {"b": null}]}));
        same_as_serde::<Value>(json!({"a": [1, {"b": null}]}));
        let request = json!({"model": "m", "messages": [msg], "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}], "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}}, "stream_options": {"include_usage": true, "x": 1}, "logit_bias": {"1": 2}, "extra_field": [1]});
        same_as_serde::<ChatRequest>(request);
        let response = json!({"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "logprobs": {"content": []}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 1, "completion_tokens_details": {"reasoning_tokens": 3}}});
        same_as_serde::<ChatResponse>(response);
        use crate::types::{ImageUrl, Stop, ToolChoice};
        same_as_serde::<Option<Stop>>(json!(["a", "b"]));
        same_as_serde::<Stop>(json!("a"));
        same_as_serde::<Stop>(json!([1]));
        same_as_serde::<ToolChoice>(json!({"type": "function", "function": {"name": "f"}}));
        same_as_serde::<ToolChoice>(json!("auto"));
        same_as_serde::<ToolChoice>(json!({"function": {}}));
        same_as_serde::<ImageUrl>(json!({"url": "https://x", "detail": "low"}));
        same_as_serde::<ImageUrl>(json!({"detail": "low"}));
        // Errors: the same messages, from any depth.
        same_as_serde::<Vec<Message>>(json!("x"));
        same_as_serde::<Message>(json!([1]));
        same_as_serde::<Content>(json!(5));
        same_as_serde::<Content>(json!([{"text": "no type"}]));
        same_as_serde::<Map<String, Value>>(json!(1.5));
        same_as_serde::<ChatRequest>(json!({"model": "m", "messages": [{"role": "wizard"}]}));
        same_as_serde::<ChatRequest>(json!({"model": "m", "messages": [], "tools": {"a": 1}}));
        same_as_serde::<ChatResponse>(json!({"id": "c", "choices": [{"message": 3}]}));
        same_as_serde::<ChatResponse>(
            json!({"id": "c", "choices": [], "usage": {"prompt_tokens": "1"}}),
        );
    }

    /// The types the crate now reads by move where it used `serde_json::from_value` (request
    /// parsing, response bodies, mocks, stream usage): the same values and errors.
    #[test]
    fn by_move_reads_the_other_endpoints_as_from_value() {
        use crate::types::{
            EmbeddingRequest, EmbeddingResponse, ImageRequest, ImageResponse, ModerationRequest,
            ModerationResponse, RerankMeta, RerankRequest, RerankResponse, TextCompletionRequest,
            TextCompletionResponse, ToolCallDelta,
        };
        same_as_serde::<EmbeddingRequest>(
            json!({"model": "m", "input": ["a", "b"], "dimensions": 3, "x": 1}),
        );
        same_as_serde::<EmbeddingRequest>(json!({"model": "m", "input": [[1, 2]]}));
        same_as_serde::<EmbeddingRequest>(json!({"model": "m"}));
        same_as_serde::<EmbeddingResponse>(
            json!({"object": "list", "model": "m", "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -2.5e-8]}], "usage": {"prompt_tokens": 2, "total_tokens": 2}}),
        );
        same_as_serde::<EmbeddingResponse>(
            json!({"data": [{"index": "0", "embedding": "AAAAPw=="}]}),
        );
        same_as_serde::<ImageRequest>(
            json!({"model": "m", "prompt": "p", "n": 2, "size": "1024x1024"}),
        );
        same_as_serde::<ImageRequest>(json!({"prompt": 1}));
        same_as_serde::<ImageResponse>(
            json!({"created": 1, "data": [{"url": "https://x", "revised_prompt": "r"}]}),
        );
        same_as_serde::<ImageResponse>(json!({"created": "1", "data": []}));
        same_as_serde::<ModerationRequest>(json!({"input": ["a"], "model": "m"}));
        same_as_serde::<ModerationResponse>(
            json!({"id": "i", "model": "m", "results": [{"flagged": false, "categories": {}, "category_scores": {"a": 0.5}}]}),
        );
        same_as_serde::<ModerationResponse>(json!({"id": "i", "results": {}}));
        same_as_serde::<RerankRequest>(
            json!({"model": "m", "query": "q", "documents": ["a", {"text": "b"}], "top_n": 1}),
        );
        same_as_serde::<RerankRequest>(json!({"model": "m", "documents": []}));
        same_as_serde::<RerankResponse>(
            json!({"id": "r", "results": [{"index": 1, "relevance_score": 0.25, "document": {"text": "b"}}], "meta": {"billed_units": {"search_units": 1}}}),
        );
        same_as_serde::<RerankMeta>(
            json!({"billed_units": {"search_units": 1}, "tokens": {"input_tokens": 3}}),
        );
        same_as_serde::<RerankMeta>(json!({"tokens": 3}));
        same_as_serde::<TextCompletionRequest>(
            json!({"model": "m", "prompt": ["a", "b"], "max_tokens": 5, "stream": true}),
        );
        same_as_serde::<TextCompletionRequest>(json!({"model": "m", "prompt": [1, 2]}));
        same_as_serde::<TextCompletionResponse>(
            json!({"id": "t", "object": "text_completion", "created": 1, "model": "m", "choices": [{"index": 0, "text": "x", "logprobs": null, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
        );
        same_as_serde::<TextCompletionResponse>(json!({"id": "t", "choices": [{"text": 1}]}));
        same_as_serde::<Vec<ToolCallDelta>>(
            json!([{"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": "{"}}]),
        );
        same_as_serde::<Vec<ToolCallDelta>>(json!([{"function": {"arguments": 1}}]));
        // Payloads read by `FromValue` (untagged variants, `Vec` of scalars, rerank documents).
        same_as_serde::<RerankRequest>(json!({"model": "m", "query": "q", "documents": [1]}));
        same_as_serde::<RerankRequest>(json!({"model": "m", "query": "q", "documents": "a"}));
        same_as_serde::<EmbeddingRequest>(json!({"model": "m", "input": [[1, -2]]}));
        same_as_serde::<EmbeddingRequest>(json!({"model": "m", "input": [1.5]}));
        same_as_serde::<TextCompletionRequest>(json!({"model": "m", "prompt": [[1], [2, 3]]}));
        same_as_serde::<EmbeddingResponse>(json!({"data": [{"index": 0, "embedding": [1, "x"]}]}));
        same_as_serde::<Vec<String>>(json!(["a", 1]));
        same_as_serde::<Vec<f64>>(json!([1, 2.5, -3]));
        same_as_serde::<Vec<u32>>(json!([1, -1]));
        // `null` optional fields, nested ones and wrong types under them.
        use crate::types::{ChatRequest, ChatResponse};
        same_as_serde::<ChatRequest>(
            json!({"model": "m", "messages": [], "tools": null, "stop": null, "temperature": null, "response_format": null, "user": null}),
        );
        same_as_serde::<ChatRequest>(json!({"model": "m", "messages": [], "stop": ["a", null]}));
        same_as_serde::<ChatResponse>(json!({"id": "c", "choices": [], "usage": null}));
        same_as_serde::<ChatResponse>(
            json!({"id": "c", "choices": [], "usage": {"prompt_tokens": null, "prompt_tokens_details": null}}),
        );
    }

    #[test]
    fn errors_match_the_derive() {
        let e = serde_json::from_value::<S>(json!({"n": 1})).unwrap_err();
        assert_eq!(e.to_string(), "missing field `id`");
        let e = serde_json::from_value::<S>(json!({"id": 1})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type: integer `1`, expected a string"
        );
        let e = serde_json::from_value::<S>(json!({"id": "a", "list": null})).unwrap_err();
        assert_eq!(e.to_string(), "invalid type: null, expected a sequence");
        let e = serde_json::from_value::<S>(json!("x")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type: string \"x\", expected struct S"
        );
        // With several errors, the first field's in declaration order.
        let e = serde_json::from_value::<S>(json!({"id": 1, "n": "x"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type: integer `1`, expected a string"
        );
        let e = serde_json::from_value::<S>(json!({"id": "a", "n": "x", "list": 1})).unwrap_err();
        assert_eq!(e.to_string(), "invalid type: string \"x\", expected u32");
        let e = serde_json::from_value::<S>(json!(-1.5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type: floating point `-1.5`, expected struct S"
        );
    }
}
