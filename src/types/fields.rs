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

use serde::de::{DeserializeOwned, Deserializer, Error, Unexpected};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A JSON object whose fields are being taken out.
pub(crate) struct Fields {
    map: Map<String, Value>,
    /// The first error of a field taken without `?` ([`Fields::opt`], [`Fields::or_else`]):
    /// those return a value in any case, so the struct's code has no error branch per field.
    err: Option<serde_json::Error>,
}

/// The result of building a struct from its [`Fields`].
pub(crate) type Built<T> = Result<T, serde_json::Error>;

impl Fields {
    /// Reads `d` as an object and builds `T` from it with `build`; `expected` names the struct
    /// in the error for a non-object (`struct ChatRequest`).
    pub(crate) fn build<'de, D: Deserializer<'de>, T>(
        d: D,
        expected: &'static str,
        build: fn(&mut Fields) -> Built<T>,
    ) -> Result<T, D::Error> {
        let v = Value::deserialize(d)?;
        Self::run(v, expected, build).map_err(D::Error::custom)
    }

    fn run<T>(v: Value, expected: &'static str, build: fn(&mut Fields) -> Built<T>) -> Built<T> {
        let mut f = Self::object(v, expected)?;
        let built = build(&mut f);
        // A field's error comes before any later one, as with the derive (fields in order).
        match f.err.take() {
            Some(e) => Err(e),
            None => built,
        }
    }

    /// `v` as fields, or serde's `invalid type` error. Not generic: one copy for all structs.
    fn object(v: Value, expected: &'static str) -> Built<Self> {
        match v {
            Value::Object(map) => Ok(Fields { map, err: None }),
            other => Err(serde_json::Error::invalid_type(
                unexpected(&other),
                &expected,
            )),
        }
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
        let v = self.map.remove(key)?;
        self.take::<Option<T>>(v).flatten()
    }

    /// A required field.
    pub(crate) fn req<T: DeserializeOwned>(&mut self, key: &'static str) -> Built<T> {
        match self.map.remove(key) {
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
        match self.map.remove(key) {
            None => f(),
            Some(v) => self.take(v).unwrap_or_else(f),
        }
    }

    /// The fields not taken (a `#[serde(flatten)]` map).
    pub(crate) fn rest(&mut self) -> Map<String, Value> {
        std::mem::take(&mut self.map)
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

    #[derive(Debug, PartialEq)]
    struct S {
        id: String,
        n: Option<u32>,
        list: Vec<u32>,
        kind: String,
        extra: Map<String, Value>,
    }

    impl<'de> Deserialize<'de> for S {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Fields::build(d, "struct S", |f| {
                Ok(S {
                    id: f.req("id")?,
                    n: f.opt("n"),
                    list: f.or_default("list"),
                    kind: f.or_else("type", || "function".into()),
                    extra: f.rest(),
                })
            })
        }
    }

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
