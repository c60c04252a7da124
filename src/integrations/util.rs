//! Small helpers the integrations share: timestamps, ids, encodings and payload accessors.
//! Pure functions (no clock, no randomness): ids are derived from the payload so that a retried
//! delivery carries the same ids and the services deduplicate it.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::types::json_text;

/// ISO 8601 UTC with milliseconds (`2023-11-14T22:13:20.000Z`) for ms since the epoch.
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// `HH:MM:SS` UTC (Slack alert timestamps, as LiteLLM prints them).
pub(crate) fn clock(ms: u64) -> String {
    let rem = ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Standard base64 with padding (HTTP Basic auth, MLflow span ids): the package's one encoder.
pub(crate) use crate::modality::base64::encode as base64;

/// `Basic base64(user:password)`.
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` bytes derived from `seed` (SHA-256): stable ids for traces and spans.
pub(crate) fn derive_bytes(seed: &str, n: usize) -> Vec<u8> {
    let digest = Sha256::digest(seed.as_bytes());
    digest[..n.min(32)].to_vec()
}

/// `id` itself when it is already a UUID, else a UUID (version 4 layout) derived from it:
/// Lunary stores run ids in a `uuid` column.
pub(crate) fn uuid_for(id: &str) -> String {
    if is_uuid(id) {
        return id.to_ascii_lowercase();
    }
    let mut b = derive_bytes(id, 16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A payload time field (LiteLLM writes seconds as floats) as ms since the epoch.
pub(crate) fn ms(payload: &Value, key: &str) -> u64 {
    payload[key]
        .as_f64()
        .map_or(0, |s| (s * 1000.0).round().max(0.0) as u64)
}

/// A string field, if present and non-empty.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// The payload's `metadata` object (empty if absent).
pub(crate) fn metadata(payload: &Value) -> Map<String, Value> {
    payload["metadata"].as_object().cloned().unwrap_or_default()
}

/// Whether the payload is a failure.
pub(crate) fn is_failure(payload: &Value) -> bool {
    payload["status"] == "failure"
}

/// The end user: the request's `user`, else the key's user (gateway), else `trace_user_id`.
pub(crate) fn end_user(payload: &Value) -> Option<String> {
    let md = &payload["metadata"];
    str_of(&payload["model_parameters"], "user")
        .or_else(|| str_of(md, "trace_user_id"))
        .or_else(|| str_of(md, "user_api_key_end_user_id"))
        .or_else(|| str_of(md, "user_api_key_user_id"))
        .map(String::from)
}

/// The first choice's message of the response (the generated output), if any.
pub(crate) fn output_message(payload: &Value) -> Option<&Value> {
    payload["response"]["choices"]
        .as_array()?
        .first()?
        .get("message")
}

/// The error message of a failure.
pub(crate) fn error_message(payload: &Value) -> String {
    payload["error_information"]["error_message"]
        .as_str()
        .or_else(|| payload["error_str"].as_str())
        .unwrap_or("unknown error")
        .to_string()
}

/// The caller's `tags` (LiteLLM reads `metadata.tags`), as strings.
pub(crate) fn tags(payload: &Value) -> Vec<String> {
    payload["metadata"]["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| match t {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(json_text(other)),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON value as display text: strings as themselves, everything else as JSON.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => json_text(other),
    }
}

/// `url` without trailing slashes.
pub(crate) fn trim_base(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

/// A setting: the explicit value (`settings[key]`, any of `keys`) first, then the first
/// environment variable of `vars` that is set.
pub(crate) fn setting(
    explicit: &Map<String, Value>,
    keys: &[&str],
    env: &dyn crate::Env,
    vars: &[&str],
) -> Option<String> {
    keys.iter()
        .find_map(|k| match explicit.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        })
        .or_else(|| vars.iter().find_map(|v| env.var(v)))
}

/// `k1=v1,k2=v2` (OTel's `OTEL_EXPORTER_OTLP_HEADERS`, LiteLLM's `GENERIC_LOGGER_HEADERS`) or
/// an explicit object of strings.
pub(crate) fn header_list(
    explicit: Option<&Value>,
    env_text: Option<String>,
) -> Vec<(String, String)> {
    if let Some(Value::Object(m)) = explicit {
        return m
            .iter()
            .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.as_str()?.to_string())))
            .collect();
    }
    let text = match explicit {
        Some(Value::String(s)) => s.clone(),
        _ => env_text.unwrap_or_default(),
    };
    text.split(',')
        .filter_map(|item| {
            let (k, v) = item.split_once('=')?;
            let k = percent_decode(k.trim());
            (!k.is_empty()).then(|| (k.to_ascii_lowercase(), percent_decode(v.trim())))
        })
        .collect()
}

/// OTel header values are URL-encoded (`Authorization=Bearer%20x`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let digit = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (digit(bytes[i + 1]), digit(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(clock(1_700_000_000_123), "22:13:20");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(basic_auth("pk", "sk"), "Basic cGs6c2s=");
    }

    #[test]
    fn uuids_are_kept_or_derived_stably() {
        let u = "123e4567-e89b-42d3-a456-426614174000";
        assert_eq!(uuid_for(u), u);
        let d = uuid_for("chatcmpl-1");
        assert!(is_uuid(&d));
        assert_eq!(d, uuid_for("chatcmpl-1"));
        assert_ne!(d, uuid_for("chatcmpl-2"));
        assert_eq!(&d[14..15], "4");
    }

    #[test]
    fn headers_from_env_text_or_object() {
        assert_eq!(
            header_list(None, Some("Authorization=Bearer%20abc, x-team = t1".into())),
            vec![
                ("authorization".into(), "Bearer abc".into()),
                ("x-team".into(), "t1".into())
            ]
        );
        assert_eq!(
            header_list(Some(&json!({"X-A": "1"})), Some("b=2".into())),
            vec![("x-a".into(), "1".into())]
        );
        assert!(header_list(None, None).is_empty());
    }

    #[test]
    fn end_user_prefers_the_request_user() {
        let p =
            json!({"model_parameters": {"user": "u1"}, "metadata": {"user_api_key_user_id": "k"}});
        assert_eq!(end_user(&p).as_deref(), Some("u1"));
        let p = json!({"model_parameters": {}, "metadata": {"user_api_key_user_id": "k"}});
        assert_eq!(end_user(&p).as_deref(), Some("k"));
    }
}
