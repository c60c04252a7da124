//! `#[serde(untagged)]` deserialization through `serde_json::Value`.
//!
//! serde's derived untagged enums buffer the input into serde's private `Content` tree and try
//! every variant against a `ContentRefDeserializer`: one more copy of each variant type's
//! derived code in the wasm, for that deserializer alone. Going through `Value` reuses the
//! `from_value` code the crate has anyway. The semantics are serde's: variants are tried in
//! declaration order, the first one that deserializes wins, otherwise the error is serde's
//! `data did not match any variant of untagged enum <Name>`. (Serialization and the JSON Schema
//! still come from the derives and the `untagged` attribute.)
//!
//! Such a type's variants are picked in its `FromValue` impl, which fails with [`no_variant`];
//! its `Deserialize` is [`untagged`], which reads the input as a `Value` and hands it to that
//! impl. A struct's field of such a type is read by the `FromValue` impl directly, not by
//! `Deserialize` from the field's `Value`: `Value` as a deserializer would rebuild the `Value`
//! through serde's visitors, code that only that needs (1.1 KB of the gzipped package for the
//! four types read that way, 2026-11-26).

use super::fields::FromValue;
use serde::de::{Deserializer, Error};
use serde::Deserialize;
use serde_json::Value;

/// The input as a `Value`, read by `T`'s `FromValue` impl, which picks the first variant that
/// fits (the `Deserialize` of an untagged enum).
pub(crate) fn untagged<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromValue,
{
    T::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
}

/// `v` as a `T`, if it is one (a variant's payload). By [`FromValue`], which reads what
/// `serde_json::from_value` reads (`fields.rs`) with one sequence loop for every `Vec` payload.
pub(crate) fn variant<T: FromValue>(v: &Value) -> Option<T> {
    T::from_value(v.clone()).ok()
}

/// serde's error for an untagged enum none of whose variants matched: one message formatted for
/// every enum (a `format_args!` per enum was −345 B gzip).
pub(crate) fn no_variant(name: &str) -> serde_json::Error {
    serde_json::Error::custom(format_args!(
        "data did not match any variant of untagged enum {name}"
    ))
}

#[cfg(test)]
mod tests {
    use crate::types::{Content, EmbeddingInput, Stop};
    use serde_json::json;

    /// serde's message, as the derived untagged enums gave it, from text and from a `Value`.
    #[test]
    fn no_variant_errors_keep_serde_s_message() {
        let e = serde_json::from_str::<Stop>(r#"{"a": 1}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data did not match any variant of untagged enum Stop"
        );
        let e = serde_json::from_str::<Vec<EmbeddingInput>>("[true]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "data did not match any variant of untagged enum EmbeddingInput at line 1 column 6"
        );
        let e = serde_json::from_value::<Content>(json!(5)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data did not match any variant of untagged enum Content"
        );
    }
}
