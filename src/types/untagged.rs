//! `#[serde(untagged)]` deserialization through `serde_json::Value`.
//!
//! serde's derived untagged enums buffer the input into serde's private `Content` tree and try
//! every variant against a `ContentRefDeserializer`: one more copy of each variant type's
//! derived code in the wasm, for that deserializer alone. Going through `Value` reuses the
//! `from_value` code the crate has anyway. The semantics are serde's: variants are tried in
//! declaration order, the first one that deserializes wins, otherwise the error is serde's
//! `data did not match any variant of untagged enum <Name>`. (Serialization and the JSON Schema
//! still come from the derives and the `untagged` attribute.)

use serde::de::{DeserializeOwned, Deserializer, Error};
use serde::Deserialize;
use serde_json::Value;

/// The input as a `Value`, handed to `pick`, which returns the first variant that fits.
pub(crate) fn untagged<'de, D, T>(
    d: D,
    name: &str,
    pick: impl FnOnce(Value) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let v = Value::deserialize(d)?;
    pick(v).ok_or_else(|| {
        D::Error::custom(format_args!(
            "data did not match any variant of untagged enum {name}"
        ))
    })
}

/// `v` as a `T`, if it is one (a variant's payload).
pub(crate) fn variant<T: DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

/// serde's error for an untagged enum none of whose variants matched (for `FromValue` impls,
/// which read the same variants as `untagged`).
pub(crate) fn no_variant(name: &str) -> serde_json::Error {
    serde_json::Error::custom(format_args!(
        "data did not match any variant of untagged enum {name}"
    ))
}
