//! JSON Schemas for the wire types whose serde impls are hand-written (feature `schema`; the
//! gateway's OpenAPI document is generated from these types, never in wasm builds).

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use super::{FinishReason, ImageUrl};

impl JsonSchema for FinishReason {
    fn schema_name() -> Cow<'static, str> {
        "FinishReason".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // Open: a provider's own reason passes through unchanged (`FinishReason::Other`).
        json_schema!({
            "type": "string",
            "description": "Why generation stopped: `stop`, `length`, `tool_calls`, `content_filter`, `function_call`, or the provider's own value.",
            "examples": ["stop", "length", "tool_calls"]
        })
    }
}

impl JsonSchema for ImageUrl {
    fn schema_name() -> Cow<'static, str> {
        "ImageUrl".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let object = json_schema!({
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "`https://…` or `data:image/png;base64,…`."},
                "detail": {"type": "string", "description": "`auto`, `low` or `high`."}
            },
            "required": ["url"]
        });
        // Requests may give a bare URL string; responses always carry the object.
        match generator.contract() {
            schemars::generate::Contract::Deserialize => json_schema!({
                "description": "The image: `{url, detail}`, or the URL alone.",
                "anyOf": [{"type": "string"}, object]
            }),
            _ => object,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_url_schema_accepts_both_forms() {
        let s = schemars::schema_for!(ImageUrl);
        assert_eq!(
            s.get("anyOf").and_then(|v| v.as_array()).map(Vec::len),
            Some(2)
        );
        let chat = schemars::schema_for!(crate::types::ChatRequest);
        let required = chat.get("required").cloned().unwrap_or_default();
        assert_eq!(required, json!(["model", "messages"]));
    }
}
