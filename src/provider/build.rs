//! JSON in provider code: objects for request bodies, built through a few shared functions
//! instead of `json!`, and [`parse`] for response bodies.
//!
//! `json!({"type": "text", "text": t})` expands, at every use, into a `String` for each key, a
//! `to_value` (serde's `Value` serializer, inlined per value type) for each value, an `insert`
//! and the drop of what it returns. Request builders write hundreds of such objects, so that
//! inlined code was a large part of each provider's wasm. Here an object is an array of
//! `(&str, Value)` pairs handed to one non-generic function; the runtime work is the same.

use serde_json::{Map, Value};

use crate::types::Put;

/// `{"k1": v1, "k2": v2, …}` in the given order (as `json!` builds it).
///
/// ```ignore
/// obj([("type", s("text")), ("text", s(t))])
/// ```
#[inline]
pub(crate) fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut pairs = pairs;
    let v = obj_from(&mut pairs);
    // Every value was taken (left as `Null`): nothing to drop, so no per-`N` drop loop.
    std::mem::forget(pairs);
    v
}

#[inline(never)]
fn obj_from(pairs: &mut [(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.put(k, std::mem::take(v));
    }
    Value::Object(m)
}

/// A JSON string from a borrowed `&str` (`json!(t)` for a `&str` or `&String`).
#[inline(never)]
pub(crate) fn s(x: &str) -> Value {
    Value::String(x.to_owned())
}

/// A JSON array of strings (`json!(list)` for a list of strings).
#[inline(never)]
pub(crate) fn strs<S: AsRef<str>>(items: &[S]) -> Value {
    let mut out = Vec::with_capacity(items.len());
    for x in items {
        out.push(s(x.as_ref()));
    }
    Value::Array(out)
}

/// `m.retain(keep)`, shared: each `BTreeMap::retain` closure brings its own copy of the map's
/// removal code (~1 KB of wasm); this removes through `remove`, which every map use has.
pub(crate) fn retain(m: &mut Map<String, Value>, keep: &dyn Fn(&str, &Value) -> bool) {
    let mut drop: Vec<String> = Vec::new();
    for (k, v) in m.iter() {
        if !keep(k, v) {
            drop.push(k.clone());
        }
    }
    for k in &drop {
        m.remove(k);
    }
}

/// `v.pointer(path)` for the crate's literal paths, which name object keys only (`"/a/b"`: no
/// array indices, no `~` escapes). serde_json's `pointer` copies each segment into a new
/// `String` (unescaping `~0`/`~1`) and searches the map with that: ≈ 0.5 KB of the gzipped npm
/// package for what none of these paths needs.
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').skip(1).try_fold(v, |cur, key| cur.get(key))
}

/// A response body as JSON: `serde_json::from_slice`, through `from_str`.
///
/// The rest of the crate parses text; every `from_slice` caller keeps serde_json's byte-slice
/// reader, a second copy of the parser, in the wasm. Same value and same error (message,
/// line, column) for a UTF-8 body; a body that is not UTF-8 is an error either way.
pub(crate) fn parse(body: &[u8]) -> serde_json::Result<Value> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(e) => Err(serde::de::Error::custom(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn at_is_pointer_for_key_paths() {
        let v = json!({"a": {"b": [{"c": 1}], "d": null}, "e": "x"});
        for path in ["/a", "/a/b", "/a/d", "/e", "/a/b/c", "/e/x", "/z", "/a/z/b"] {
            assert_eq!(at(&v, path), v.pointer(path), "{path}");
        }
    }

    #[test]
    fn builds_what_json_macro_builds() {
        let t = String::from("hi");
        assert_eq!(
            obj([("type", s("text")), ("text", s(&t)), ("n", Value::from(3))]),
            json!({"type": "text", "text": t, "n": 3})
        );
        assert_eq!(obj([]), json!({}));
        assert_eq!(
            obj([("a", obj([("b", Value::Bool(true))]))]),
            json!({"a": {"b": true}})
        );
        assert_eq!(strs(&["a", "b"]), json!(["a", "b"]));
        assert_eq!(strs::<String>(&[]), json!([]));
    }

    #[test]
    fn parse_is_from_slice() {
        for body in [
            &b"{\"a\": [1, 2.5, \"\\u00e9\"]}"[..],
            b"  null ",
            "{\"é\": 1}".as_bytes(),
        ] {
            assert_eq!(
                parse(body).unwrap(),
                serde_json::from_slice::<Value>(body).unwrap()
            );
        }
        for bad in [&b"{\"a\": "[..], b"", b"[1,]", b"{\"a\" 1}"] {
            assert_eq!(
                parse(bad).unwrap_err().to_string(),
                serde_json::from_slice::<Value>(bad)
                    .unwrap_err()
                    .to_string()
            );
        }
        assert!(parse(b"\"\xff\"").is_err());
        assert!(serde_json::from_slice::<Value>(b"\"\xff\"").is_err());
    }

    #[test]
    fn retain_keeps_what_the_predicate_keeps() {
        let mut m = json!({"a": 1, "b": null, "c": 3, "d": null})
            .as_object()
            .unwrap()
            .clone();
        retain(&mut m, &|k, v| !v.is_null() && k != "c");
        assert_eq!(Value::Object(m), json!({"a": 1}));
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value() {
        assert_eq!(obj([("a", s("1")), ("a", s("2"))]), json!({"a": "2"}));
    }
}
