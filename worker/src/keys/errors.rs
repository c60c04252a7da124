//! LiteLLM's proxy errors: OpenAI's error JSON with LiteLLM's `type` names and HTTP statuses
//! (`code` is the status as text, as LiteLLM sends it), so the openai clients raise the same
//! classes as against LiteLLM (401 `AuthenticationError`, 400 `BadRequestError`,
//! 429 `RateLimitError`).

use serde_json::json;

use edgellm::Error;

use super::counter::{Reason, Refusal};
use crate::app::Reply;

/// `{"error": {"message", "type", "param", "code"}}` with `status`.
pub fn proxy_error(status: u16, kind: &str, message: &str, param: Option<&str>) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"message": message, "type": kind, "param": param, "code": status.to_string()}}),
    )
}

/// A refusal from a counter as the reply LiteLLM gives for it.
pub fn refusal(r: &Refusal, key_hash: &str) -> Reply {
    match r.reason {
        Reason::Unknown | Reason::Revoked => proxy_error(
            401,
            "auth_error",
            &format!(
                "Authentication Error, Invalid proxy server token passed. Key Hash (Token)={key_hash}. Unable to find token in the key store."
            ),
            Some("key"),
        ),
        Reason::Blocked => proxy_error(401, "auth_error", &r.message, None),
        Reason::Expired => proxy_error(401, "expired_key", &r.message, None),
        Reason::Model => {
            let kind = if r.message.starts_with("team") {
                "team_model_access_denied"
            } else {
                "key_model_access_denied"
            };
            proxy_error(401, kind, &r.message, Some("model"))
        }
        Reason::Budget => proxy_error(400, "budget_exceeded", &r.message, None),
        Reason::Rpm | Reason::Tpm | Reason::Parallel => {
            let ms = r.retry_after_ms.unwrap_or(1000);
            proxy_error(429, "throttling_error", &r.message, None)
                .with_header("retry-after", ms.div_ceil(1000).to_string())
                .with_header("retry-after-ms", ms.to_string())
        }
    }
}

/// A core error (bad request fields, store failures) in OpenAI's shape.
pub fn from_error(e: &Error) -> Reply {
    Reply::error(e)
}

/// 401 for management routes without the master key.
pub fn not_admin() -> Reply {
    proxy_error(
        401,
        "auth_error",
        "Authentication Error, only the master key (general_settings.master_key) may use this route",
        None,
    )
}

/// 404 for a record that does not exist.
pub fn not_found(what: &str) -> Reply {
    proxy_error(404, "not_found_error", what, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_litellm_statuses() {
        let r = |reason, message: &str| Refusal {
            reason,
            message: message.into(),
            retry_after_ms: Some(1500),
            limit: Some(2),
            crossed: Vec::new(),
            limits: None,
        };
        let cases = [
            (Reason::Unknown, 401, "auth_error"),
            (Reason::Expired, 401, "expired_key"),
            (Reason::Model, 401, "key_model_access_denied"),
            (Reason::Budget, 400, "budget_exceeded"),
            (Reason::Rpm, 429, "throttling_error"),
        ];
        for (reason, status, kind) in cases {
            let reply = refusal(&r(reason, "key not allowed"), "abc");
            assert_eq!(reply.status, status, "{reason:?}");
            let j = reply.json_body().unwrap();
            assert_eq!(j["error"]["type"], kind);
            assert_eq!(j["error"]["code"], status.to_string());
        }
        let limited = refusal(&r(Reason::Tpm, "slow"), "abc");
        assert_eq!(limited.header("retry-after"), Some("2"));
        assert_eq!(limited.header("retry-after-ms"), Some("1500"));
        let team = refusal(&r(Reason::Model, "team not allowed to access model"), "abc");
        assert_eq!(
            team.json_body().unwrap()["error"]["type"],
            "team_model_access_denied"
        );
    }
}
