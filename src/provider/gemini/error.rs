//! Google API errors (Gemini API and Vertex AI share the format):
//! `{"error": {"code": 429, "message": "…", "status": "RESOURCE_EXHAUSTED", "details": […]}}`.
//!
//! The canonical `status` string decides the class, not the HTTP status: Google sometimes wraps
//! a quota error in a 500 envelope (LiteLLM PR #30417, #16363), and an invalid Gemini API key
//! is a 400 `INVALID_ARGUMENT` whose `details` carry `reason: API_KEY_INVALID`.
//! Codes: <https://cloud.google.com/apis/design/errors#handling_errors>,
//! <https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes>.

use serde_json::Value;

use crate::http::retry_after_ms;
use crate::provider::build::parse;
use crate::provider::native::error_text;
use crate::{Error, ErrorKind};

/// Classifies a Google error response. `status` is the HTTP status (200 for an error that
/// arrived inside a stream).
pub fn google_error(status: u16, headers: &[(String, String)], body: &[u8]) -> Error {
    let v: Value = parse(body).unwrap_or(Value::Null);
    // `streamGenerateContent` without `alt=sse` wraps everything, errors included, in an array.
    let v = match v {
        Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
        other => other,
    };
    let err = v.get("error").filter(|e| e.is_object());
    let Some(err) = err else {
        let message = error_text(None, status, body);
        let status = if status == 200 { 500 } else { status };
        return with_retry(
            Error::new(ErrorKind::from_status(status), message).with_status(status),
            headers,
            None,
        );
    };
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("Google API error")
        .to_string();
    let code = err.get("code").and_then(Value::as_u64).map(|c| c as u16);
    let canonical = err.get("status").and_then(Value::as_str);
    let details = err.get("details").and_then(Value::as_array);
    let reason = details.and_then(|d| {
        d.iter()
            .find_map(|x| x.get("reason").and_then(Value::as_str))
    });

    let (kind, http) = match canonical {
        Some(s) => by_canonical(s, &message, reason),
        None => {
            let http = code.filter(|_| status == 200).unwrap_or(status);
            let http = if http == 200 { 500 } else { http };
            (ErrorKind::from_status(http), http)
        }
    };
    let mut e = Error::new(kind, message).with_status(http);
    if kind != ErrorKind::ContextWindowExceeded {
        if let Some(c) = reason.or(canonical) {
            e = e.with_code(c);
        }
    }
    with_retry(e, headers, details)
}

fn by_canonical(s: &str, message: &str, reason: Option<&str>) -> (ErrorKind, u16) {
    use ErrorKind::*;
    match s {
        "INVALID_ARGUMENT" if reason == Some("API_KEY_INVALID") => (Authentication, 401),
        // Google reports no code for an over-long prompt; the message is the only signal
        // ("The input token count (N) exceeds the maximum number of tokens allowed (M).",
        // https://ai.google.dev/gemini-api/docs/troubleshooting), so it is checked only inside
        // INVALID_ARGUMENT.
        "INVALID_ARGUMENT" if message.contains("exceeds the maximum number of tokens") => {
            (ContextWindowExceeded, 400)
        }
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" | "ALREADY_EXISTS" => {
            (BadRequest, 400)
        }
        "UNAUTHENTICATED" => (Authentication, 401),
        "PERMISSION_DENIED" => (PermissionDenied, 403),
        "NOT_FOUND" => (NotFound, 404),
        "RESOURCE_EXHAUSTED" => (RateLimited, 429),
        "UNIMPLEMENTED" => (BadRequest, 501),
        "UNAVAILABLE" => (ServiceUnavailable, 503),
        "DEADLINE_EXCEEDED" => (Timeout, 504),
        "ABORTED" => (InternalServer, 409),
        // INTERNAL, UNKNOWN, DATA_LOSS, CANCELLED and anything new.
        _ => (InternalServer, 500),
    }
}

fn with_retry(mut e: Error, headers: &[(String, String)], details: Option<&Vec<Value>>) -> Error {
    let from_details = details.and_then(|d| {
        d.iter().find_map(|x| {
            // google.rpc.RetryInfo: `"retryDelay": "22s"` (a Duration in JSON form).
            let delay = x.get("retryDelay")?.as_str()?;
            let secs = crate::num::parse_f64(delay.strip_suffix('s')?)?;
            Some((secs.max(0.0) * 1000.0) as u64)
        })
    });
    if let Some(ms) = from_details.or_else(|| retry_after_ms(&headers.to_vec())) {
        e = e.with_retry_after_ms(ms);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(status: u16, body: Value) -> Error {
        google_error(status, &[], &serde_json::to_vec(&body).unwrap())
    }

    #[test]
    fn quota_error_in_a_500_envelope_is_a_rate_limit() {
        let e = err(
            500,
            json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED"}}),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.status(), 429);
        assert_eq!(e.code(), "RESOURCE_EXHAUSTED");
    }

    #[test]
    fn retry_info_sets_retry_after() {
        let e = err(
            429,
            json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "22s"}
            ]}}),
        );
        assert_eq!(e.retry_after_ms(), Some(22_000));
    }

    #[test]
    fn invalid_api_key_is_authentication() {
        let e = err(
            400,
            json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}),
        );
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(e.code(), "API_KEY_INVALID");
    }

    #[test]
    fn context_window_only_inside_invalid_argument() {
        let msg = "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).";
        let e = err(
            400,
            json!({"error": {"code": 400, "message": msg, "status": "INVALID_ARGUMENT"}}),
        );
        assert_eq!(e.kind(), ErrorKind::ContextWindowExceeded);
        assert_eq!(e.code(), "context_length_exceeded");
        let e = err(
            503,
            json!({"error": {"code": 503, "message": msg, "status": "UNAVAILABLE"}}),
        );
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    }

    #[test]
    fn canonical_statuses_map() {
        for (s, k) in [
            ("UNAUTHENTICATED", ErrorKind::Authentication),
            ("PERMISSION_DENIED", ErrorKind::PermissionDenied),
            ("NOT_FOUND", ErrorKind::NotFound),
            ("UNAVAILABLE", ErrorKind::ServiceUnavailable),
            ("DEADLINE_EXCEEDED", ErrorKind::Timeout),
            ("INTERNAL", ErrorKind::InternalServer),
            ("FAILED_PRECONDITION", ErrorKind::BadRequest),
        ] {
            assert_eq!(
                err(
                    400,
                    json!({"error": {"code": 1, "message": "m", "status": s}})
                )
                .kind(),
                k,
                "{s}"
            );
        }
    }

    #[test]
    fn array_wrapped_and_non_json_bodies() {
        let e = err(
            404,
            json!([{"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}]),
        );
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = google_error(502, &[], b"<html>Bad Gateway</html>");
        assert_eq!(e.kind(), ErrorKind::BadGateway);
        assert!(e.message().contains("Bad Gateway"));
    }

    #[test]
    fn error_inside_a_stream_uses_the_body_code() {
        let e = err(
            200,
            json!({"error": {"code": 503, "message": "overloaded"}}),
        );
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
    }
}
