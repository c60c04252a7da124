//! JSON Schema (what OpenAI tools carry) → Gemini `Schema` (a subset of OpenAPI 3.0).
//!
//! Gemini rejects most of JSON Schema: `$ref`/`$defs`, `additionalProperties`, `$schema`, type
//! arrays, `const`, non-string `enum`s, unknown `format`s and empty `properties` all end in a
//! 400 (LiteLLM #38223, #18442, #22391). The conversion here is faithful where Gemini can
//! express the schema and degrades as little as possible where it cannot:
//!
//! - `$ref` (to `#/$defs/…`, `#/definitions/…` or any `#/…` pointer) is inlined; a recursive
//!   reference is inlined once and then cut off to its bare type (Gemini has no recursion).
//! - `allOf` is merged; `oneOf` becomes `anyOf` (Gemini has only `anyOf`).
//! - `null` in `anyOf` or in a `type` array becomes `nullable: true`; a single remaining branch is
//!   merged into the parent, several stay an `anyOf` (each marked nullable).
//! - type arrays with several non-null types become an `anyOf` of typed branches, each taking
//!   the keywords that apply to its type.
//! - `const` becomes a one-value `enum`; `enum`s of non-strings (Gemini only takes strings) and
//!   formats Gemini does not accept are moved into the description instead of being lost.
//! - A schema with no type stays untyped (it means "any value"); only a schema with
//!   `properties` / `items` gets the implied OBJECT / ARRAY.
//!
//! Field reference: <https://ai.google.dev/api/caching#Schema>,
//! <https://cloud.google.com/vertex-ai/docs/reference/rest/v1/Schema>.

use serde_json::{Map, Value};

use crate::provider::native::{lookup, retain_values};
use crate::types::{json_text, Put};
use crate::{Error, Result};

/// Deeper than this is almost certainly a runaway expansion.
const MAX_DEPTH: usize = 64;

/// Keywords copied unchanged (names are the same in JSON Schema and Gemini's Schema).
const PASSTHROUGH: &[&str] = &[
    "title",
    "description",
    "default",
    "example",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "pattern",
    "propertyOrdering",
];

/// Keywords that only make sense for one type, so that a type array can split them. A table,
/// not a `match`: one string compare loop instead of a compare chain per arm.
const BELONGS_TO: &[(&str, &str)] = &[
    ("properties", "OBJECT"),
    ("required", "OBJECT"),
    ("minProperties", "OBJECT"),
    ("maxProperties", "OBJECT"),
    ("propertyOrdering", "OBJECT"),
    ("items", "ARRAY"),
    ("minItems", "ARRAY"),
    ("maxItems", "ARRAY"),
    ("minLength", "STRING"),
    ("maxLength", "STRING"),
    ("pattern", "STRING"),
    ("enum", "STRING"),
    ("minimum", "NUMBER"),
    ("maximum", "NUMBER"),
];

/// The type `key` belongs to, if it is one type's keyword ([`BELONGS_TO`]).
fn belongs_to(key: &str) -> Option<&'static str> {
    lookup(BELONGS_TO, key)
}

/// The `format`s Gemini accepts, by (lower-case JSON Schema) type.
const FORMATS: &[(&str, &str)] = &[
    ("enum", "string"),
    ("date-time", "string"),
    ("float", "number"),
    ("double", "number"),
    ("int32", "integer"),
    ("int64", "integer"),
];

/// Converts a JSON Schema to Gemini's Schema.
///
/// ```
/// use serde_json::json;
/// let s = json!({
///     "type": "object",
///     "$defs": {"Unit": {"type": "string", "enum": ["c", "f"]}},
///     "properties": {
///         "city": {"type": "string"},
///         "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}]}
///     },
///     "required": ["city"],
///     "additionalProperties": false
/// });
/// let g = edgellm::provider::gemini::schema::to_gemini(&s).unwrap();
/// assert_eq!(g, json!({
///     "type": "OBJECT",
///     "properties": {
///         "city": {"type": "STRING"},
///         "unit": {"type": "STRING", "enum": ["c", "f"], "nullable": true}
///     },
///     "required": ["city"]
/// }));
/// ```
pub fn to_gemini(schema: &Value) -> Result<Value> {
    let mut cx = Cx {
        root: schema,
        expanding: Vec::new(),
    };
    cx.convert(schema, 0)
}

/// Converts the `parameters` of a function declaration. `None` means "send no parameters":
/// Gemini rejects an OBJECT with empty `properties`, and a function without arguments is
/// declared by leaving `parameters` out.
pub fn function_parameters(schema: &Value) -> Result<Option<Value>> {
    let mut g = to_gemini(schema)?;
    let Some(o) = g.as_object_mut() else {
        return Ok(None);
    };
    if !o.contains_key("type") && !o.contains_key("anyOf") {
        // Function parameters are always an object (Gemini: "parameters schema should be of
        // type OBJECT", LiteLLM #18442).
        o.put("type", Value::String("OBJECT".into()));
    }
    let no_props = o
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(Map::is_empty);
    if o.get("type").and_then(Value::as_str) == Some("OBJECT") && no_props {
        return Ok(None);
    }
    Ok(Some(g))
}

struct Cx<'a> {
    root: &'a Value,
    /// `$ref`s being expanded, outermost first (cycle detection).
    expanding: Vec<String>,
}

impl Cx<'_> {
    fn convert(&mut self, node: &Value, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(Error::bad_request(format!(
                "tool schema nests deeper than {MAX_DEPTH} levels"
            ))
            .with_param("tools"));
        }
        let Some(obj) = node.as_object() else {
            // `true` / `{}`-like booleans: any value.
            return Ok(Value::Object(Map::new()));
        };

        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            return self.convert_ref(r, obj, depth);
        }
        if let Some(Value::Array(all)) = obj.get("allOf") {
            let mut merged = obj.clone();
            merged.remove("allOf");
            for sub in all {
                let sub = self.convert(sub, depth + 1)?;
                merge_into(&mut merged, sub);
            }
            return self.convert(&Value::Object(merged), depth + 1);
        }

        let mut out = Map::new();
        let mut notes: Vec<String> = Vec::new();

        for key in PASSTHROUGH {
            if let Some(v) = obj.get(*key) {
                out.insert((*key).to_string(), v.clone());
            }
        }
        if !out.contains_key("example") {
            if let Some(Value::Array(ex)) = obj.get("examples") {
                if let Some(first) = ex.first() {
                    out.put("example", first.clone());
                }
            }
        }
        if obj.get("nullable").and_then(Value::as_bool) == Some(true) {
            out.put("nullable", Value::Bool(true));
        }

        // Types.
        // Lower-cased so that an already converted (`allOf`) member reads the same. Loops, not
        // `collect` / `retain`: each closure is its own copy of the adapters in the wasm.
        let mut types: Vec<String> = Vec::new();
        let one = std::slice::from_ref;
        let listed = match obj.get("type") {
            Some(t @ Value::String(_)) => one(t),
            Some(Value::Array(ts)) => ts.as_slice(),
            _ => &[],
        };
        for t in listed.iter().filter_map(Value::as_str) {
            if t.eq_ignore_ascii_case("null") {
                out.put("nullable", Value::Bool(true));
            } else {
                types.push(t.to_ascii_lowercase());
            }
        }

        // Object keywords.
        if let Some(Value::Object(props)) = obj.get("properties") {
            let mut converted = Map::new();
            for (name, sub) in props {
                converted.insert(name.clone(), self.convert(sub, depth + 1)?);
            }
            if !converted.is_empty() {
                if let Some(Value::Array(req)) = obj.get("required") {
                    let mut kept = Vec::new();
                    for r in req {
                        if r.as_str().is_some_and(|r| converted.contains_key(r)) {
                            kept.push(r.clone());
                        }
                    }
                    let req = kept;
                    if !req.is_empty() {
                        out.put("required", Value::Array(req));
                    }
                }
                out.put("properties", Value::Object(converted));
            }
            if types.is_empty() {
                types.push("object".into());
            }
        }

        // Array keywords.
        let items = match (obj.get("items"), obj.get("prefixItems")) {
            (Some(Value::Array(tuple)), _) | (None, Some(Value::Array(tuple))) => {
                Some(self.any_of(tuple, depth)?)
            }
            (Some(one @ (Value::Object(_) | Value::Bool(_))), _) => {
                Some(self.convert(one, depth + 1)?)
            }
            _ => None,
        };
        if let Some(items) = items {
            out.put("items", items);
            if types.is_empty() {
                types.push("array".into());
            }
        }

        // Values: const / enum.
        let mut values: Option<Vec<Value>> = match (obj.get("const"), obj.get("enum")) {
            (Some(c), _) => Some(vec![c.clone()]),
            (None, Some(Value::Array(e))) => Some(e.clone()),
            _ => None,
        };
        if let Some(vals) = &mut values {
            if vals.iter().any(Value::is_null) {
                retain_values(vals, &|v| !v.is_null());
                out.put("nullable", Value::Bool(true));
            }
            let numeric_type = types.iter().any(|t| t != "string");
            if !vals.is_empty() && vals.iter().all(Value::is_string) && !numeric_type {
                out.put("enum", Value::Array(vals.clone()));
                if types.is_empty() {
                    types.push("string".into());
                }
            } else if !vals.is_empty() {
                // Gemini enums are strings only; keep the constraint readable for the model.
                let mut list = String::new();
                for v in vals.iter() {
                    if !list.is_empty() {
                        list.push_str(", ");
                    }
                    list.push_str(&json_text(v));
                }
                notes.push(format!("Allowed values: {list}."));
                if types.is_empty() {
                    if let Some(t) = common_type(vals) {
                        types.push(t.into());
                    }
                }
            }
        }

        // Format: only the ones Gemini accepts for the type; others become a note.
        if let Some(f) = obj.get("format").and_then(Value::as_str) {
            let ok = types.len() == 1 && lookup(FORMATS, f) == Some(types[0].as_str());
            if ok {
                out.put("format", Value::String(f.into()));
            } else {
                notes.push(format!("Format: {f}."));
            }
        }

        // Unions.
        let union = match (obj.get("anyOf"), obj.get("oneOf")) {
            (Some(Value::Array(b)), _) | (None, Some(Value::Array(b))) => Some(b),
            _ => None,
        };

        if !notes.is_empty() {
            let desc = out
                .get("description")
                .and_then(Value::as_str)
                .map(|d| format!("{d} {}", notes.join(" ")))
                .unwrap_or_else(|| notes.join(" "));
            out.put("description", Value::String(desc));
        }

        let mut out = match types.len() {
            0 => out,
            1 => {
                out.put("type", Value::String(types[0].to_ascii_uppercase()));
                out
            }
            _ => split_types(out, &types),
        };

        if let Some(branches) = union {
            out = self.apply_union(out, branches, depth)?;
        }
        Ok(Value::Object(out))
    }

    /// `anyOf` / `oneOf` of `branches` applied to the already converted `out`.
    fn apply_union(
        &mut self,
        mut out: Map<String, Value>,
        branches: &[Value],
        depth: usize,
    ) -> Result<Map<String, Value>> {
        let mut conv = Vec::new();
        let mut nullable = false;
        for b in branches {
            let c = self.convert(b, depth + 1)?;
            if is_null_schema(b) {
                nullable = true;
            } else {
                conv.push(c);
            }
        }
        if nullable {
            out.put("nullable", Value::Bool(true));
        }
        if conv
            .iter()
            .any(|c| c.as_object().is_some_and(Map::is_empty))
        {
            // A branch that accepts anything makes the whole union unconstrained (e.g. the
            // `required`-only branches of "at least one of a or b").
            return Ok(out);
        }
        match conv.len() {
            0 => {}
            1 => {
                // `Optional[X]`: the parent's own keywords (description, default, …) win.
                let Value::Object(single) = conv.pop().expect("one branch") else {
                    unreachable!("convert returns objects")
                };
                for (k, v) in single {
                    out.entry(k).or_insert(v);
                }
            }
            _ => {
                if nullable {
                    // Marked on each branch too: that is the shape Vertex's docs show.
                    for c in &mut conv {
                        if let Value::Object(o) = c {
                            o.put("nullable", Value::Bool(true));
                        }
                    }
                }
                out.put("anyOf", Value::Array(conv));
            }
        }
        Ok(out)
    }

    fn any_of(&mut self, branches: &[Value], depth: usize) -> Result<Value> {
        // A loop: `collect::<Result<_>>` brings its own copy of the iterator adapters.
        let mut conv = Vec::with_capacity(branches.len());
        for b in branches {
            conv.push(self.convert(b, depth + 1)?);
        }
        Ok(if conv.len() == 1 {
            conv.pop().expect("one")
        } else {
            let mut m = Map::new();
            m.put("anyOf", Value::Array(conv));
            Value::Object(m)
        })
    }

    fn convert_ref(
        &mut self,
        reference: &str,
        node: &Map<String, Value>,
        depth: usize,
    ) -> Result<Value> {
        let target = resolve_pointer(self.root, reference).ok_or_else(|| {
            Error::bad_request(format!(
                "tool schema references `{reference}`, which is not defined in the schema"
            ))
            .with_param("tools")
        })?;
        let mut resolved = if self.expanding.iter().any(|r| r == reference) {
            // A recursive type: Gemini cannot express recursion, so the second occurrence is
            // cut off to its bare type.
            let mut cut = Map::new();
            if let Some(t) = target.get("type").and_then(Value::as_str) {
                cut.put("type", Value::String(t.to_ascii_uppercase()));
            } else if target.get("properties").is_some() {
                cut.put("type", Value::String("OBJECT".into()));
            }
            if let Some(d) = target.get("description") {
                cut.put("description", d.clone());
            }
            cut
        } else {
            self.expanding.push(reference.to_string());
            let r = self.convert(target, depth + 1);
            self.expanding.pop();
            match r? {
                Value::Object(o) => o,
                _ => Map::new(),
            }
        };
        // Keywords next to `$ref` (allowed since draft 2019-09) refine the target.
        let mut siblings = node.clone();
        siblings.remove("$ref");
        if !siblings.is_empty() {
            if let Value::Object(s) = self.convert(&Value::Object(siblings), depth + 1)? {
                for (k, v) in s {
                    resolved.insert(k, v);
                }
            }
        }
        Ok(Value::Object(resolved))
    }
}

/// Splits a node with several types into an `anyOf`, giving each branch its own keywords.
fn split_types(mut out: Map<String, Value>, types: &[String]) -> Map<String, Value> {
    let mut branches = Vec::new();
    for t in types {
        let upper = t.to_ascii_uppercase();
        let mut b = Map::new();
        b.put("type", Value::String(upper.clone()));
        for (k, v) in &out {
            let owner = belongs_to(k);
            let numeric = upper == "INTEGER" || upper == "NUMBER";
            if owner == Some(upper.as_str()) || (owner == Some("NUMBER") && numeric) {
                b.insert(k.clone(), v.clone());
            }
        }
        branches.push(Value::Object(b));
    }
    crate::provider::build::retain(&mut out, &|k, _| belongs_to(k).is_none());
    if out.get("nullable") == Some(&Value::Bool(true)) {
        for b in &mut branches {
            if let Value::Object(o) = b {
                o.put("nullable", Value::Bool(true));
            }
        }
    }
    out.put("anyOf", Value::Array(branches));
    out
}

fn is_null_schema(v: &Value) -> bool {
    match v.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.iter().all(|t| t == "null"),
        _ => false,
    }
}

fn common_type(vals: &[Value]) -> Option<&'static str> {
    let t = |v: &Value| match v {
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        Value::String(_) => Some("string"),
        _ => None,
    };
    let first = t(vals.first()?)?;
    vals.iter().all(|v| t(v) == Some(first)).then_some(first)
}

/// Merges a converted `allOf` member into the (unconverted) parent: properties and required
/// are unioned, other keywords keep the parent's value.
fn merge_into(parent: &mut Map<String, Value>, sub: Value) {
    let Value::Object(sub) = sub else { return };
    for (k, v) in sub {
        match (k.as_str(), parent.get_mut(&k), v) {
            ("properties", Some(Value::Object(p)), Value::Object(s)) => {
                for (name, schema) in s {
                    p.entry(name).or_insert(schema);
                }
            }
            ("required", Some(Value::Array(p)), Value::Array(s)) => {
                for r in s {
                    if !p.contains(&r) {
                        p.push(r);
                    }
                }
            }
            // The member is already converted (upper-case type); the parent is converted
            // again afterwards, so store JSON Schema spelling.
            ("type", None, Value::String(t)) => {
                parent.insert(k, Value::String(t.to_ascii_lowercase()));
            }
            (_, None, v) => {
                parent.insert(k, v);
            }
            _ => {}
        }
    }
}

/// Resolves a same-document reference (`#`, `#/$defs/X`, `#/definitions/X`, any `#/a/b`).
fn resolve_pointer<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let mut cur = root;
    for raw in pointer.strip_prefix('/')?.split('/') {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        cur = match cur {
            Value::Object(o) => o.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn g(v: Value) -> Value {
        to_gemini(&v).unwrap()
    }

    #[test]
    fn primitive_types_are_upper_cased_and_unknown_keywords_dropped() {
        assert_eq!(
            g(
                json!({"type": "object", "$schema": "http://json-schema.org/draft-07/schema#",
                "additionalProperties": false, "properties": {
                    "n": {"type": "integer", "minimum": 1, "maximum": 5, "multipleOf": 1},
                    "x": {"type": "number", "exclusiveMinimum": 0},
                    "b": {"type": "boolean", "deprecated": true},
                    "s": {"type": "string", "minLength": 2, "pattern": "^a", "readOnly": true}
                }, "required": ["n"]})
            ),
            json!({"type": "OBJECT", "properties": {
                "n": {"type": "INTEGER", "minimum": 1, "maximum": 5},
                "x": {"type": "NUMBER"},
                "b": {"type": "BOOLEAN"},
                "s": {"type": "STRING", "minLength": 2, "pattern": "^a"}
            }, "required": ["n"]})
        );
    }

    #[test]
    fn defs_and_definitions_refs_are_inlined_with_sibling_keywords() {
        let s = json!({
            "type": "object",
            "properties": {
                "a": {"$ref": "#/$defs/Point", "description": "start"},
                "b": {"$ref": "#/definitions/Point"},
                "list": {"type": "array", "items": {"$ref": "#/$defs/Point"}}
            },
            "$defs": {"Point": {"type": "object", "title": "Point", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
            "definitions": {"Point": {"type": "object", "properties": {"y": {"type": "number"}}}}
        });
        let out = g(s);
        assert_eq!(
            out["properties"]["a"],
            json!({"type": "OBJECT", "title": "Point", "description": "start",
                   "properties": {"x": {"type": "NUMBER"}}, "required": ["x"]})
        );
        assert_eq!(out["properties"]["b"]["properties"]["y"]["type"], "NUMBER");
        assert_eq!(
            out["properties"]["list"]["items"]["properties"]["x"]["type"],
            "NUMBER"
        );
        assert!(out.get("$defs").is_none() && out.get("definitions").is_none());
    }

    #[test]
    fn pointer_escapes_and_root_refs_resolve() {
        let s = json!({"$defs": {"a/b": {"type": "string"}}, "type": "object",
            "properties": {"p": {"$ref": "#/$defs/a~1b"}}});
        assert_eq!(g(s)["properties"]["p"], json!({"type": "STRING"}));
    }

    #[test]
    fn missing_ref_is_a_bad_request_naming_it() {
        let e = to_gemini(&json!({"properties": {"a": {"$ref": "#/$defs/Nope"}}})).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::BadRequest);
        assert!(e.message().contains("#/$defs/Nope"));
    }

    #[test]
    fn recursive_refs_are_unrolled_once_then_cut_to_their_type() {
        let s = json!({
            "$defs": {"Node": {"type": "object", "description": "a node", "properties": {
                "value": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}},
            "$ref": "#/$defs/Node"
        });
        let out = g(s);
        assert_eq!(out["type"], "OBJECT");
        let child = &out["properties"]["children"]["items"];
        assert_eq!(child, &json!({"type": "OBJECT", "description": "a node"}));
    }

    #[test]
    fn optional_via_anyof_null_collapses_to_nullable() {
        let s = json!({"anyOf": [{"type": "string"}, {"type": "null"}], "default": null, "title": "Name"});
        assert_eq!(
            g(s),
            json!({"type": "STRING", "nullable": true, "default": null, "title": "Name"})
        );
    }

    #[test]
    fn several_branches_keep_anyof_and_each_is_nullable() {
        let s = json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]});
        assert_eq!(
            g(s),
            json!({"nullable": true, "anyOf": [
                {"type": "STRING", "nullable": true}, {"type": "INTEGER", "nullable": true}
            ]})
        );
    }

    #[test]
    fn a_union_with_an_unconstrained_branch_is_dropped() {
        let s = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "anyOf": [{"required": ["a"]}, {"required": ["b"]}]});
        assert_eq!(
            g(s),
            json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": "STRING"}}})
        );
    }

    #[test]
    fn one_of_becomes_any_of() {
        let s = json!({"oneOf": [{"type": "string"}, {"type": "number"}]});
        assert_eq!(
            g(s),
            json!({"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]})
        );
    }

    #[test]
    fn type_array_with_null_is_nullable() {
        assert_eq!(
            g(json!({"type": ["string", "null"], "description": "d"})),
            json!({"type": "STRING", "nullable": true, "description": "d"})
        );
    }

    #[test]
    fn type_array_with_several_types_splits_keywords_per_branch() {
        let s = json!({"type": ["string", "array", "null"], "items": {"type": "integer"},
            "maxLength": 3, "description": "d"});
        assert_eq!(
            g(s),
            json!({"description": "d", "nullable": true, "anyOf": [
                {"type": "STRING", "maxLength": 3, "nullable": true},
                {"type": "ARRAY", "items": {"type": "INTEGER"}, "nullable": true}
            ]})
        );
    }

    #[test]
    fn all_of_is_merged() {
        let s = json!({
            "$defs": {"Base": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}},
            "allOf": [{"$ref": "#/$defs/Base"}, {"properties": {"n": {"type": "integer"}}, "required": ["n"]}],
            "description": "merged"
        });
        assert_eq!(
            g(s),
            json!({"type": "OBJECT", "description": "merged",
                "properties": {"id": {"type": "STRING"}, "n": {"type": "INTEGER"}},
                "required": ["id", "n"]})
        );
    }

    #[test]
    fn single_all_of_ref_with_description_keeps_description() {
        // Pydantic v1 emits this for a documented nested model.
        let s = json!({"properties": {"u": {"allOf": [{"$ref": "#/definitions/U"}], "description": "user"}},
            "definitions": {"U": {"type": "object", "properties": {"name": {"type": "string"}}}}});
        assert_eq!(
            g(s)["properties"]["u"],
            json!({"type": "OBJECT", "description": "user", "properties": {"name": {"type": "STRING"}}})
        );
    }

    #[test]
    fn const_and_string_enums_become_enums() {
        assert_eq!(
            g(json!({"const": "fixed"})),
            json!({"type": "STRING", "enum": ["fixed"]})
        );
        assert_eq!(
            g(json!({"type": "string", "enum": ["a", "b", null]})),
            json!({"type": "STRING", "enum": ["a", "b"], "nullable": true})
        );
    }

    #[test]
    fn non_string_enums_move_to_the_description() {
        assert_eq!(
            g(json!({"type": "integer", "enum": [1, 2, 3], "description": "Level."})),
            json!({"type": "INTEGER", "description": "Level. Allowed values: 1, 2, 3."})
        );
        assert_eq!(
            g(json!({"enum": [true]})),
            json!({"type": "BOOLEAN", "description": "Allowed values: true."})
        );
    }

    #[test]
    fn formats_gemini_rejects_become_notes() {
        assert_eq!(
            g(json!({"type": "string", "format": "date-time"})),
            json!({"type": "STRING", "format": "date-time"})
        );
        assert_eq!(
            g(json!({"type": "integer", "format": "int64"})),
            json!({"type": "INTEGER", "format": "int64"})
        );
        assert_eq!(
            g(json!({"type": "string", "format": "email"})),
            json!({"type": "STRING", "description": "Format: email."})
        );
    }

    #[test]
    fn untyped_schemas_stay_any_and_implied_types_are_added() {
        // pydantic's JsonValue / `Any` is `{}`: it must not be coerced to OBJECT (LiteLLM #22391).
        assert_eq!(g(json!({})), json!({}));
        assert_eq!(
            g(json!({"description": "anything"})),
            json!({"description": "anything"})
        );
        assert_eq!(g(json!(true)), json!({}));
        assert_eq!(g(json!({"items": {"type": "string"}}))["type"], "ARRAY");
        assert_eq!(
            g(json!({"properties": {"a": {"type": "string"}}}))["type"],
            "OBJECT"
        );
    }

    #[test]
    fn empty_properties_and_dangling_required_are_dropped() {
        assert_eq!(
            g(json!({"type": "object", "properties": {}, "required": []})),
            json!({"type": "OBJECT"})
        );
        assert_eq!(
            g(
                json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "ghost"]})
            ),
            json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["a"]})
        );
        // A free-form map (`dict[str, int]`) keeps only what Gemini can say.
        assert_eq!(
            g(json!({"type": "object", "additionalProperties": {"type": "integer"}})),
            json!({"type": "OBJECT"})
        );
    }

    #[test]
    fn tuple_items_become_any_of() {
        assert_eq!(
            g(json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}]})),
            json!({"type": "ARRAY", "items": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]}})
        );
    }

    #[test]
    fn examples_become_example() {
        assert_eq!(
            g(json!({"type": "string", "examples": ["x", "y"]})),
            json!({"type": "STRING", "example": "x"})
        );
    }

    #[test]
    fn function_parameters_rules() {
        assert_eq!(
            function_parameters(&json!({"type": "object", "properties": {}})).unwrap(),
            None
        );
        assert_eq!(function_parameters(&json!({})).unwrap(), None);
        assert_eq!(
            function_parameters(&json!({"properties": {"q": {"type": "string"}}})).unwrap(),
            Some(json!({"type": "OBJECT", "properties": {"q": {"type": "STRING"}}}))
        );
    }

    #[test]
    fn runaway_nesting_is_an_error() {
        let mut s = json!({"type": "string"});
        for _ in 0..80 {
            s = json!({"type": "array", "items": s});
        }
        assert!(to_gemini(&s).is_err());
    }

    #[test]
    fn pydantic_model_with_optional_nested_and_enum() {
        // `class Q(BaseModel): unit: Optional[Unit] = None; tags: list[str]; where: Loc`
        let s = json!({
            "$defs": {
                "Loc": {"properties": {"lat": {"title": "Lat", "type": "number"}, "lon": {"title": "Lon", "type": "number"}},
                        "required": ["lat", "lon"], "title": "Loc", "type": "object", "additionalProperties": false},
                "Unit": {"enum": ["c", "f"], "title": "Unit", "type": "string"}
            },
            "properties": {
                "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}], "default": null},
                "tags": {"items": {"type": "string"}, "title": "Tags", "type": "array"},
                "where": {"$ref": "#/$defs/Loc"}
            },
            "required": ["tags", "where"], "title": "Q", "type": "object"
        });
        assert_eq!(
            g(s),
            json!({
                "title": "Q", "type": "OBJECT", "required": ["tags", "where"],
                "properties": {
                    "unit": {"default": null, "nullable": true, "enum": ["c", "f"], "title": "Unit", "type": "STRING"},
                    "tags": {"items": {"type": "STRING"}, "title": "Tags", "type": "ARRAY"},
                    "where": {"title": "Loc", "type": "OBJECT", "required": ["lat", "lon"], "properties": {
                        "lat": {"title": "Lat", "type": "NUMBER"}, "lon": {"title": "Lon", "type": "NUMBER"}
                    }}
                }
            })
        );
    }
}
