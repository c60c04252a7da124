//! YAML text → JSON value, for `config.yaml`.
//!
//! Built on `saphyr-parser`'s event stream (a full YAML 1.2 parser with no dependencies of its
//! own) so that anchors, aliases, block and flow styles, quoting and multi-line strings all
//! work as in LiteLLM, whose loader is PyYAML's `safe_load`. Scalars resolve like PyYAML where
//! a config could notice: `yes/no/on/off` are booleans, `~`/`null`/empty are null, ints and
//! floats are numbers, quoted scalars are always strings, and `<<` merges mappings. Dates stay
//! strings (`api_version: 2024-02-01`), which is what LiteLLM ends up sending anyway.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};

enum Key {
    /// The plain `<<` merge key.
    Merge,
    Str(String),
}

enum Frame {
    Seq {
        anchor: usize,
        items: Vec<Value>,
    },
    Map {
        anchor: usize,
        map: Map<String, Value>,
        key: Option<Key>,
        merges: Vec<Value>,
    },
}

fn at(span: &Span, msg: impl std::fmt::Display) -> String {
    format!("{msg} (line {})", span.start.line())
}

/// Parses one YAML document into JSON. An empty document is `null`.
///
/// ```ignore
/// let v = parse("a: 1\nb: [x, 'y']\n").unwrap();
/// assert_eq!(v, serde_json::json!({"a": 1, "b": ["x", "y"]}));
/// ```
pub fn parse(text: &str) -> Result<Value, String> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| format!("invalid YAML: {e}"))?;
        let value = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(at(&span, "expected one YAML document, found several"));
                }
                continue;
            }
            Event::Alias(id) => anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| at(&span, "alias to an unknown anchor"))?,
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain;
                if plain && text == "<<" && tag.is_none() {
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        *key = Some(Key::Merge);
                        continue;
                    }
                }
                let v = scalar(&text, plain, tag.as_deref()).map_err(|e| at(&span, e))?;
                if anchor > 0 {
                    anchors.insert(anchor, v.clone());
                }
                v
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq {
                    anchor,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map {
                    anchor,
                    map: Map::new(),
                    key: None,
                    merges: Vec::new(),
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, v) = match stack.pop() {
                    Some(Frame::Seq { anchor, items }) => (anchor, Value::Array(items)),
                    Some(Frame::Map {
                        anchor,
                        mut map,
                        merges,
                        ..
                    }) => {
                        merge_into(&mut map, merges).map_err(|e| at(&span, e))?;
                        (anchor, Value::Object(map))
                    }
                    None => return Err(at(&span, "unbalanced YAML collection")),
                };
                if anchor > 0 {
                    anchors.insert(anchor, v.clone());
                }
                v
            }
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                None => *key = Some(Key::Str(key_string(value).map_err(|e| at(&span, e))?)),
                Some(Key::Merge) => merges.push(value),
                // PyYAML keeps the last of duplicate keys; so does insert.
                Some(Key::Str(k)) => {
                    map.insert(k, value);
                }
            },
        }
    }
    Ok(root.unwrap_or(Value::Null))
}

/// Applies `<<` merges: explicit keys win, then earlier merge sources over later ones.
fn merge_into(map: &mut Map<String, Value>, merges: Vec<Value>) -> Result<(), String> {
    for m in merges {
        let sources = match m {
            Value::Object(o) => vec![o],
            Value::Array(list) => list
                .into_iter()
                .map(|v| match v {
                    Value::Object(o) => Ok(o),
                    _ => Err("`<<` needs a mapping or a list of mappings".to_string()),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err("`<<` needs a mapping or a list of mappings".into()),
        };
        for src in sources {
            for (k, v) in src {
                map.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

fn key_string(v: Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok("null".into()),
        _ => Err("mapping keys must be scalars".into()),
    }
}

fn scalar(text: &str, plain: bool, tag: Option<&Tag>) -> Result<Value, String> {
    if let Some(tag) = tag {
        if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
            return match tag.suffix.as_str() {
                "str" => Ok(Value::String(text.into())),
                "null" => Ok(Value::Null),
                "bool" => boolean(text).ok_or_else(|| format!("`{text}` is not a bool")),
                "int" => int(text).ok_or_else(|| format!("`{text}` is not an int")),
                "float" => float(text)
                    .map(|r| r.map_err(String::from))
                    .unwrap_or_else(|| Err(format!("`{text}` is not a float"))),
                other => Err(format!("unsupported YAML tag `!!{other}`")),
            };
        }
        return Err(format!(
            "unsupported YAML tag `{}{}`",
            tag.handle, tag.suffix
        ));
    }
    if !plain {
        return Ok(Value::String(text.into()));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = boolean(text) {
        return Ok(b);
    }
    if let Some(i) = int(text) {
        return Ok(i);
    }
    if let Some(f) = float(text) {
        return f.map_err(String::from);
    }
    Ok(Value::String(text.into()))
}

fn boolean(text: &str) -> Option<Value> {
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            Some(Value::Bool(true))
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            Some(Value::Bool(false))
        }
        _ => None,
    }
}

fn int(text: &str) -> Option<Value> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(h) = digits.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = digits.strip_prefix("0o") {
        (8, o)
    } else {
        (10, digits)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let n = i64::from_str_radix(digits, radix).ok()?;
    Some(Value::Number(if neg { -n } else { n }.into()))
}

/// `Some(Err)` for `.inf`/`.nan`, which JSON cannot hold.
fn float(text: &str) -> Option<Result<Value, &'static str>> {
    let body = text.trim_start_matches(['-', '+']);
    if matches!(body, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN") {
        return Some(Err("infinite and NaN numbers are not supported"));
    }
    let mut saw_digit = false;
    let mut saw_dot_or_exp = false;
    for (i, c) in body.char_indices() {
        match c {
            '0'..='9' => saw_digit = true,
            '.' | 'e' | 'E' => saw_dot_or_exp = true,
            '-' | '+' if i > 0 && matches!(body.as_bytes()[i - 1], b'e' | b'E') => {}
            _ => return None,
        }
    }
    if !saw_digit || !saw_dot_or_exp {
        return None;
    }
    let f: f64 = text.parse().ok()?;
    Some(
        Number::from_f64(f)
            .map(Value::Number)
            .ok_or("not a finite number"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn litellm_config_shapes() {
        let text = r#"
# comment
model_list:
  - model_name: gpt-4o            # trailing comment
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 60
      temperature: 0.5
      api_version: 2024-02-01
  - model_name: "quoted: name"
    litellm_params: {model: 'anthropic/claude', max_tokens: 1e3, stop: ["a", b]}
litellm_settings:
  drop_params: True
  set_verbose: no
  success_callback: []
router_settings:
  fallbacks: [{"gpt-4o": ["quoted: name"]}]
  timeout: ~
  cooldown_time:
general_settings:
  master_key: sk-1234
  description: |
    line one
    line two
"#;
        assert_eq!(
            parse(text).unwrap(),
            json!({
                "model_list": [
                    {"model_name": "gpt-4o", "litellm_params": {
                        "model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_API_KEY",
                        "rpm": 60, "temperature": 0.5, "api_version": "2024-02-01"}},
                    {"model_name": "quoted: name", "litellm_params": {
                        "model": "anthropic/claude", "max_tokens": 1000.0, "stop": ["a", "b"]}}
                ],
                "litellm_settings": {"drop_params": true, "set_verbose": false, "success_callback": []},
                "router_settings": {"fallbacks": [{"gpt-4o": ["quoted: name"]}], "timeout": null, "cooldown_time": null},
                "general_settings": {"master_key": "sk-1234", "description": "line one\nline two\n"}
            })
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "
defaults: &d
  api_base: http://127.0.0.1:1/v1
  timeout: 5
list:
  - <<: *d
    model: a
    timeout: 9
  - *d
";
        let v = parse(text).unwrap();
        assert_eq!(
            v["list"][0],
            json!({"model": "a", "timeout": 9, "api_base": "http://127.0.0.1:1/v1"})
        );
        assert_eq!(
            v["list"][1],
            json!({"api_base": "http://127.0.0.1:1/v1", "timeout": 5})
        );
    }

    #[test]
    fn scalars_resolve_like_pyyaml() {
        let v = parse("[1, -2, 0x1f, 0o17, 1.5, -0.5, 2e3, '3', \"4\", on, OFF, ~, null, '', 12abc, 1.2.3, sk-1e5]").unwrap();
        assert_eq!(
            v,
            json!([
                1, -2, 31, 15, 1.5, -0.5, 2000.0, "3", "4", true, false, null, null, "", "12abc",
                "1.2.3", "sk-1e5"
            ])
        );
        assert_eq!(parse("!!str 12").unwrap(), json!("12"));
        assert_eq!(
            parse("{1: a, true: b}").unwrap(),
            json!({"1": "a", "true": "b"})
        );
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(
            parse("{\"json\": [1, {\"also\": \"yaml\"}]}").unwrap(),
            json!({"json": [1, {"also": "yaml"}]})
        );
    }

    #[test]
    fn errors_carry_lines() {
        for (text, needle) in [
            ("a: [1, 2\nb: 3\n", "line"),
            ("a: 1\n---\nb: 2\n", "one YAML document"),
            ("a: *nope\n", "invalid YAML"),
            ("a: .inf\n", "infinite"),
            ("a: !custom x\n", "unsupported YAML tag"),
            ("? [a]\n: 1\n", "scalars"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }
}
