//! LiteLLM's per-call extras (`api_key`, `api_base`, `timeout`, `num_retries`, `mock_response`, …),
//! separated from the OpenAI body so that they never reach a provider.

use serde_json::{Map, Value};

use crate::types::ChatRequest;
use crate::{Error, Result};

/// A secret string whose `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret value (only for building the upstream request).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Options that travel next to a request: credentials, endpoint, retries, mocking.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Provider key; else the provider's environment variable.
    pub api_key: Option<Secret>,
    /// Endpoint base; each provider documents which path it appends.
    pub api_base: Option<String>,
    /// API version (Azure, Anthropic on Vertex, …).
    pub api_version: Option<String>,
    /// Timeout in milliseconds (LiteLLM's `timeout` is seconds; converted on input).
    pub timeout_ms: Option<u64>,
    /// Extra request headers (`headers` / `extra_headers`).
    pub headers: Vec<(String, String)>,
    /// Drop parameters the provider does not support instead of failing.
    pub drop_params: bool,
    /// Return this instead of calling the provider (`mock_response`): a string, or an error
    /// spec such as `"litellm.RateLimitError"`.
    pub mock_response: Option<Value>,
    /// Retries after the first attempt (`num_retries: N` → at most N+1 requests).
    pub num_retries: Option<u32>,
    /// Force the provider instead of parsing it from the model string.
    pub custom_llm_provider: Option<String>,
    /// Caller metadata, given to callbacks and loggers.
    pub metadata: Option<Value>,
    /// Provider-specific credentials and settings (`aws_region_name`, `vertex_project`,
    /// `vertex_credentials`, `input_cost_per_token`, …), by LiteLLM's names.
    pub extra: Map<String, Value>,
}

/// Keys that are LiteLLM call options, not OpenAI body fields. Anything here is removed from
/// the body before it reaches a provider.
pub const OPTION_KEYS: &[&str] = &[
    "api_key",
    "api_base",
    "base_url",
    "api_version",
    "timeout",
    "request_timeout",
    "headers",
    "extra_headers",
    "drop_params",
    "mock_response",
    "num_retries",
    "max_retries",
    "custom_llm_provider",
    "metadata",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "input_cost_per_token",
    "output_cost_per_token",
    "input_cost_per_second",
    "output_cost_per_second",
    "litellm_call_id",
    "litellm_logging_obj",
    "success_callback",
    "failure_callback",
    "caching",
    "cache",
    "model_list",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_region_name",
    "aws_bedrock_runtime_endpoint",
    "aws_profile_name",
    "vertex_project",
    "vertex_location",
    "vertex_credentials",
    "vertex_ai_credentials",
    "vertex_ai_project",
    "vertex_ai_location",
    "vertex_access_token",
    "azure_ad_token",
    "organization",
    "turn_off_message_logging",
    "langfuse_public_key",
    "langfuse_secret_key",
    "langfuse_host",
];

// `present_options` keeps the present keys as bits of a `u64`.
const _: () = assert!(OPTION_KEYS.len() <= 64);

/// The option keys among `keys`, as bits by their [`OPTION_KEYS`] position. A body has a few
/// keys, so scanning them beats a map lookup per option name (≈ 5 % of a gateway request's
/// native CPU); the bit set needs no vector and no sort.
fn present_options<'a>(keys: impl Iterator<Item = &'a String>) -> u64 {
    let mut present = 0u64;
    for k in keys {
        if let Some(i) = option_rank(k) {
            present |= 1 << i;
        }
    }
    present
}

/// Takes `key`'s value out of an object's entries.
fn take_entry(entries: &mut Vec<(String, Value)>, key: &str) -> Option<Value> {
    let i = entries.iter().position(|(k, _)| k == key)?;
    // In order, as `types::fields` keeps them.
    Some(entries.remove(i).1)
}

/// The position of `key` in [`OPTION_KEYS`], at compile time: [`CallOptions::take`] matches
/// positions (one jump table) rather than names (a string comparison per arm).
const fn rank(key: &str) -> usize {
    let mut i = 0;
    while i < OPTION_KEYS.len() {
        let (a, b) = (OPTION_KEYS[i].as_bytes(), key.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not an option key")
}

const API_KEY: usize = rank("api_key");
const API_BASE: usize = rank("api_base");
const BASE_URL: usize = rank("base_url");
const API_VERSION: usize = rank("api_version");
const TIMEOUT: usize = rank("timeout");
const REQUEST_TIMEOUT: usize = rank("request_timeout");
const HEADERS: usize = rank("headers");
const EXTRA_HEADERS: usize = rank("extra_headers");
const DROP_PARAMS: usize = rank("drop_params");
const MOCK_RESPONSE: usize = rank("mock_response");
const NUM_RETRIES: usize = rank("num_retries");
const MAX_RETRIES: usize = rank("max_retries");
const CUSTOM_LLM_PROVIDER: usize = rank("custom_llm_provider");
const METADATA: usize = rank("metadata");

/// The position of `key` in [`OPTION_KEYS`].
fn option_rank(key: &str) -> Option<u32> {
    OPTION_KEYS.iter().position(|o| *o == key).map(|i| i as u32)
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// RFC 9110 §5.1: a field name is a non-empty `token`.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC 9110 §5.5 field values (visible ASCII, SP, HTAB, obs-text as Latin-1), which every
/// host's `fetch` takes as a byte string. Checked here so that a request-supplied header with
/// CR/LF (injection), NUL or characters past U+00FF is a 400 on every host alike, instead of
/// a host-specific failure or a value the host re-encodes.
fn is_header_value(value: &str) -> bool {
    value
        .chars()
        .all(|c| c == '\t' || (' '..='~').contains(&c) || ('\u{80}'..='\u{ff}').contains(&c))
}

fn headers_from(v: &Value) -> Result<Vec<(String, String)>> {
    let Value::Object(map) = v else {
        return Err(
            Error::bad_request("`headers` must be an object of strings").with_param("headers")
        );
    };
    // A loop: `collect::<Result<_>>` brings its own copy of the iterator adapters.
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        out.push(header(k, v)?);
    }
    Ok(out)
}

fn header(k: &str, v: &Value) -> Result<(String, String)> {
    let value = as_string(v).ok_or_else(|| {
        Error::bad_request(format!("header `{k}` must be a string")).with_param("headers")
    })?;
    if !is_header_name(k) {
        return Err(Error::bad_request(format!(
            "invalid header name {k:?}: use letters, digits and !#$%&'*+-.^_`|~"
        ))
        .with_param("headers"));
    }
    if !is_header_value(&value) {
        return Err(Error::bad_request(format!(
            "invalid value for header `{k}`: control characters (CR, LF, NUL) and characters past U+00FF are not allowed"
        ))
        .with_param("headers"));
    }
    Ok((k.to_ascii_lowercase(), value))
}

impl CallOptions {
    /// Removes the option keys from a JSON request object and returns them parsed.
    ///
    /// ```
    /// let mut body = serde_json::json!({"model": "gpt-4o", "messages": [], "api_key": "sk-1", "timeout": 2.5});
    /// let opts = edgellm::CallOptions::extract(body.as_object_mut().unwrap()).unwrap();
    /// assert_eq!(opts.timeout_ms, Some(2500));
    /// assert!(body.get("api_key").is_none());
    /// ```
    pub fn extract(obj: &mut Map<String, Value>) -> Result<Self> {
        let present = present_options(obj.keys());
        Self::take(present, &mut |key| obj.remove(key))
    }

    /// The options `present` names (see [`present_options`]), each taken out with `take`.
    fn take(mut present: u64, take: &mut dyn FnMut(&str) -> Option<Value>) -> Result<Self> {
        let mut o = CallOptions::default();
        // Lowest bit first: `OPTION_KEYS` order, whatever the body's (a later key of a pair
        // such as `api_base`/`base_url` wins, as before).
        while present != 0 {
            let rank = present.trailing_zeros() as usize;
            let key = OPTION_KEYS[rank];
            present &= present - 1;
            let Some(v) = take(key) else { continue };
            if v.is_null() {
                continue;
            }
            let bad =
                |what: &str| Error::bad_request(format!("`{key}` must be {what}")).with_param(key);
            match rank {
                API_KEY => {
                    o.api_key = Some(Secret::new(as_string(&v).ok_or_else(|| bad("a string"))?))
                }
                API_BASE | BASE_URL => {
                    o.api_base = Some(as_string(&v).ok_or_else(|| bad("a string"))?)
                }
                API_VERSION => o.api_version = Some(as_string(&v).ok_or_else(|| bad("a string"))?),
                TIMEOUT | REQUEST_TIMEOUT => {
                    let secs = v
                        .as_f64()
                        .filter(|s| *s > 0.0 && s.is_finite())
                        .ok_or_else(|| bad("a positive number of seconds"))?;
                    o.timeout_ms = Some((secs * 1000.0).round() as u64);
                }
                HEADERS | EXTRA_HEADERS => o.headers.extend(headers_from(&v)?),
                DROP_PARAMS => o.drop_params = v.as_bool().ok_or_else(|| bad("a boolean"))?,
                MOCK_RESPONSE => o.mock_response = Some(v),
                NUM_RETRIES | MAX_RETRIES => {
                    let n = v
                        .as_u64()
                        .filter(|n| *n <= 100)
                        .ok_or_else(|| bad("an integer from 0 to 100"))?;
                    o.num_retries = Some(n as u32);
                }
                CUSTOM_LLM_PROVIDER => {
                    o.custom_llm_provider = Some(as_string(&v).ok_or_else(|| bad("a string"))?)
                }
                METADATA => o.metadata = Some(v),
                _ => {
                    o.extra.insert(key.to_string(), v);
                }
            }
        }
        Ok(o)
    }

    /// A string option from `extra`.
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        self.extra.get(key).and_then(Value::as_str)
    }
}

/// Parses a JSON request into the OpenAI body and the call options, with OpenAI-style errors.
///
/// ```
/// let (req, opts) = edgellm::options::parse_chat(serde_json::json!({
///     "model": "anthropic/claude-3-5-sonnet-20241022",
///     "messages": [{"role": "user", "content": "Hi"}],
///     "api_key": "sk-ant-x", "max_tokens": 10
/// })).unwrap();
/// assert_eq!(req.max_tokens, Some(10));
/// assert!(opts.api_key.is_some());
/// ```
pub fn parse_chat(value: Value) -> Result<(ChatRequest, CallOptions)> {
    let Value::Object(obj) = value else {
        return Err(Error::bad_request("request body must be a JSON object"));
    };
    // The object as entries, read as they are by the options and then the typed request:
    // removing the options from the map (a search, a key freed and the tree rebalanced per
    // option) and reading the rest back out of it was a second pass over the same tree.
    let mut entries: Vec<(String, Value)> = obj.into_iter().collect();
    let present = present_options(entries.iter().map(|(k, _)| k));
    let opts = CallOptions::take(present, &mut |key| take_entry(&mut entries, key))?;
    let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    match get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => {}
        Some(_) => {
            return Err(Error::bad_request("`model` must be a non-empty string").with_param("model"))
        }
        None => {
            return Err(Error::bad_request("missing required parameter `model`").with_param("model"))
        }
    }
    match get("messages") {
        Some(Value::Array(_)) => {}
        Some(_) => {
            return Err(Error::bad_request("`messages` must be an array").with_param("messages"))
        }
        None => {
            return Err(
                Error::bad_request("missing required parameter `messages`").with_param("messages")
            )
        }
    }
    let req = <ChatRequest as crate::types::FromValue>::from_entries(entries)
        .map_err(|e| Error::bad_request(format!("invalid chat request: {e}")))?;
    if req.messages.is_empty() {
        return Err(Error::bad_request("`messages` must not be empty").with_param("messages"));
    }
    Ok((req, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_apply_in_their_own_order_not_the_bodys() {
        // Sorted maps iterate `request_timeout` before `timeout`; the option list has
        // `timeout` first, so `request_timeout` wins, as it always did.
        let mut body = json!({"model": "m", "timeout": 1, "request_timeout": 2, "base_url": "http://b", "api_base": "http://a", "x": 1});
        let o = CallOptions::extract(body.as_object_mut().unwrap()).unwrap();
        assert_eq!(o.timeout_ms, Some(2000));
        assert_eq!(o.api_base.as_deref(), Some("http://b"));
        assert_eq!(body, json!({"model": "m", "x": 1}));
    }

    /// `parse_chat` as it was: the options removed from the map, the rest read from the map.
    fn parse_chat_via_map(value: Value) -> Result<(ChatRequest, CallOptions)> {
        let Value::Object(mut obj) = value else {
            unreachable!()
        };
        let opts = CallOptions::extract(&mut obj)?;
        let req = <ChatRequest as crate::types::FromValue>::from_value(Value::Object(obj))
            .map_err(|e| Error::bad_request(format!("invalid chat request: {e}")))?;
        Ok((req, opts))
    }

    #[test]
    fn entries_read_what_the_map_reads() {
        // Same request bytes, options and errors as reading through the map.
        let bodies = [
            json!({"model": "m", "messages": [{"role": "user", "content": "hi", "x_m": 1}], "max_tokens": 64}),
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "a", "z": [1]}]}],
                "api_key": "sk-test-1", "api_base": "http://a", "base_url": "http://b", "num_retries": 0,
                "timeout": 2, "metadata": {"k": "v"}, "drop_params": null, "zz_vendor": {"b": 2, "a": 1},
                "aa_vendor": true, "temperature": 0.5, "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
                "extra_headers": {"X-A": "1"}, "vertex_project": "p", "stream_options": {"include_usage": true, "q": 1}}),
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}),
            json!({"model": "m", "messages": [{"role": "nobody", "content": "hi"}], "n": -1}),
            json!({"model": "m", "messages": [{"role": "user"}], "timeout": -1, "api_key": 5}),
        ];
        for b in bodies {
            let got = parse_chat(b.clone())
                .map(|(r, o)| (serde_json::to_string(&r).unwrap(), format!("{o:?}")));
            let want = parse_chat_via_map(b.clone())
                .map(|(r, o)| (serde_json::to_string(&r).unwrap(), format!("{o:?}")));
            assert_eq!(got, want, "{b}");
        }
    }

    #[test]
    fn option_rank_is_the_position_in_option_keys() {
        for (i, k) in OPTION_KEYS.iter().enumerate() {
            assert_eq!(option_rank(k), Some(i as u32), "{k}");
        }
        for k in [
            "model",
            "messages",
            "max_tokens",
            "api_keys",
            "Api_key",
            "",
            "stream",
        ] {
            assert_eq!(option_rank(k), None, "{k}");
        }
    }

    fn headers_of(h: Value) -> Result<Vec<(String, String)>> {
        let mut body = json!({"model": "m", "messages": [], "extra_headers": h});
        CallOptions::extract(body.as_object_mut().expect("object")).map(|o| o.headers)
    }

    #[test]
    fn request_headers_must_be_valid_http_fields() {
        let ok =
            headers_of(json!({"X-Trace": "a b\tc", "anthropic-beta": "x", "x-latin1": "café"}))
                .expect("valid headers");
        assert_eq!(ok[0].0, "x-trace");
        for bad in [
            json!({"x-evil": "a\r\nx-injected: 1"}),
            json!({"x-evil": "a\nb"}),
            json!({"x-nul": "a\u{0}b"}),
            json!({"x-emoji": "\u{1F600}"}),
            json!({"bad name": "x"}),
            json!({"": "x"}),
            json!({"x:y": "x"}),
        ] {
            let e = headers_of(bad.clone()).expect_err(&bad.to_string());
            assert_eq!(e.kind(), crate::ErrorKind::BadRequest, "{bad}");
            assert_eq!(e.param(), Some("headers"), "{bad}");
        }
    }
}
