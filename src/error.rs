//! One error type for every failure, classified the way OpenAI's SDKs and LiteLLM classify them.
//!
//! Providers classify their own error bodies (`Provider::parse_error`) from the HTTP status and
//! structured error codes, never from substrings of free text where a code exists. The JS layer
//! turns [`ErrorKind`] into a class (`RateLimitError`, …) and the gateway into an HTTP status and
//! OpenAI's `{"error": {...}}` JSON.
//!
//! ```
//! use edgellm::{Error, ErrorKind};
//! let e = Error::new(ErrorKind::RateLimited, "slow down").with_status(429).with_provider("openai");
//! assert_eq!(e.kind().js_class(), "RateLimitError");
//! assert!(e.kind().is_retryable());
//! assert_eq!(e.status(), 429);
//! ```

use std::fmt;

/// What went wrong, in LiteLLM's / OpenAI's taxonomy.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// 400: the request is malformed or invalid for this provider.
    BadRequest,
    /// 400: a parameter is not supported by the provider and `drop_params` is off.
    UnsupportedParams,
    /// 400: the prompt (plus `max_tokens`) does not fit the model's context window.
    ContextWindowExceeded,
    /// 400: the provider refused the content (safety / moderation).
    ContentPolicyViolation,
    /// 401: missing or wrong credentials.
    Authentication,
    /// 402: a budget is exhausted (gateway / budget manager) or the provider wants payment.
    BudgetExceeded,
    /// 403: authenticated but not allowed.
    PermissionDenied,
    /// 404: unknown model, deployment or route.
    NotFound,
    /// 408: the request timed out.
    Timeout,
    /// 422: the provider understood but cannot process the request.
    UnprocessableEntity,
    /// 429: rate limited (or no deployment available because all are cooling down).
    RateLimited,
    /// 500: the provider failed.
    InternalServer,
    /// 502: the provider answered with something we could not use.
    BadGateway,
    /// 503: the provider is overloaded or unavailable.
    ServiceUnavailable,
    /// The connection failed before any HTTP response (DNS, reset, refused).
    Connection,
    /// The caller cancelled (aborted) the request.
    Cancelled,
    /// The response body could not be decoded.
    Decode,
}

impl ErrorKind {
    /// The HTTP status the gateway answers with, and the JS error's `status`.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest
            | Self::UnsupportedParams
            | Self::ContextWindowExceeded
            | Self::ContentPolicyViolation => 400,
            Self::Authentication => 401,
            Self::BudgetExceeded => 402,
            Self::PermissionDenied => 403,
            Self::NotFound => 404,
            Self::Timeout => 408,
            Self::UnprocessableEntity => 422,
            Self::RateLimited => 429,
            Self::InternalServer | Self::Connection | Self::Decode => 500,
            Self::BadGateway => 502,
            Self::ServiceUnavailable => 503,
            Self::Cancelled => 499,
        }
    }

    /// OpenAI's `error.type` string for this kind.
    pub fn openai_type(self) -> &'static str {
        match self {
            Self::BadRequest
            | Self::UnsupportedParams
            | Self::ContextWindowExceeded
            | Self::ContentPolicyViolation
            | Self::NotFound
            | Self::UnprocessableEntity => "invalid_request_error",
            Self::Authentication => "authentication_error",
            Self::PermissionDenied => "permission_error",
            Self::BudgetExceeded => "budget_exceeded",
            Self::RateLimited => "rate_limit_error",
            Self::Timeout => "timeout_error",
            Self::Connection => "api_connection_error",
            Self::Cancelled => "cancelled",
            Self::InternalServer | Self::BadGateway | Self::ServiceUnavailable | Self::Decode => {
                "api_error"
            }
        }
    }

    /// A stable machine-readable code, used as the JS error's `code` when the provider gave none
    /// and as OpenAI's `error.code` in the gateway.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::UnsupportedParams => "unsupported_params",
            Self::ContextWindowExceeded => "context_length_exceeded",
            Self::ContentPolicyViolation => "content_policy_violation",
            Self::Authentication => "invalid_api_key",
            Self::BudgetExceeded => "budget_exceeded",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "model_not_found",
            Self::Timeout => "timeout",
            Self::UnprocessableEntity => "unprocessable_entity",
            Self::RateLimited => "rate_limit_exceeded",
            Self::InternalServer => "internal_server_error",
            Self::BadGateway => "bad_gateway",
            Self::ServiceUnavailable => "service_unavailable",
            Self::Connection => "api_connection_error",
            Self::Cancelled => "cancelled",
            Self::Decode => "decode_error",
        }
    }

    /// The JS class name (the OpenAI SDK's / LiteLLM's exception names).
    pub fn js_class(self) -> &'static str {
        match self {
            Self::BadRequest | Self::Decode => "BadRequestError",
            Self::UnsupportedParams => "UnsupportedParamsError",
            Self::ContextWindowExceeded => "ContextWindowExceededError",
            Self::ContentPolicyViolation => "ContentPolicyViolationError",
            Self::Authentication => "AuthenticationError",
            Self::BudgetExceeded => "BudgetExceededError",
            Self::PermissionDenied => "PermissionDeniedError",
            Self::NotFound => "NotFoundError",
            Self::Timeout => "APITimeoutError",
            Self::UnprocessableEntity => "UnprocessableEntityError",
            Self::RateLimited => "RateLimitError",
            Self::InternalServer => "InternalServerError",
            Self::BadGateway => "BadGatewayError",
            Self::ServiceUnavailable => "ServiceUnavailableError",
            Self::Connection => "APIConnectionError",
            Self::Cancelled => "APIUserAbortError",
        }
    }

    /// Whether the same request may succeed if sent again (LiteLLM retries these).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::Timeout
                | Self::InternalServer
                | Self::BadGateway
                | Self::ServiceUnavailable
                | Self::Connection
        )
    }

    /// Whether a router should try another deployment / fallback model after this error.
    pub fn should_fallback(self) -> bool {
        self.is_retryable()
            || matches!(
                self,
                Self::Authentication
                    | Self::PermissionDenied
                    | Self::NotFound
                    | Self::ContextWindowExceeded
                    | Self::ContentPolicyViolation
            )
    }

    /// Picks the kind for a bare HTTP status when the body has no better information.
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::Authentication,
            402 => Self::BudgetExceeded,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            408 => Self::Timeout,
            413 => Self::ContextWindowExceeded,
            422 => Self::UnprocessableEntity,
            429 => Self::RateLimited,
            502 => Self::BadGateway,
            503 | 529 => Self::ServiceUnavailable,
            504 => Self::Timeout,
            s if (400..500).contains(&s) => Self::BadRequest,
            _ => Self::InternalServer,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.js_class())
    }
}

/// The error of every fallible edgellm operation.
///
/// Boxed so that `Result<T, Error>` stays one pointer wide on the happy path.
#[derive(Debug, Clone, PartialEq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    provider: Option<String>,
    model: Option<String>,
    code: Option<String>,
    param: Option<String>,
    retry_after_ms: Option<u64>,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a human-readable message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            status: None,
            provider: None,
            model: None,
            code: None,
            param: None,
            retry_after_ms: None,
        }))
    }

    /// Shorthand for a [`ErrorKind::BadRequest`] error.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// Shorthand for a [`ErrorKind::Decode`] error (a provider answered with something unreadable).
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// Sets the HTTP status (the upstream's, or the one the gateway should answer with).
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }
    /// Sets the provider id (`llm_provider` in JS).
    pub fn with_provider(mut self, provider: impl Into<String>) -> Self {
        self.0.provider = Some(provider.into());
        self
    }
    /// Sets the model the call was for.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.0.model = Some(model.into());
        self
    }
    /// Sets the provider's own error code (e.g. `context_length_exceeded`).
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.0.code = Some(code.into());
        self
    }
    /// Sets the offending parameter (OpenAI's `error.param`).
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.0.param = Some(param.into());
        self
    }
    /// Sets how long the provider asked us to wait before retrying.
    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.0.retry_after_ms = Some(ms);
        self
    }
    /// Fills provider and model where they are still unset (used by the engine).
    pub fn in_context(mut self, provider: &str, model: &str) -> Self {
        if self.0.provider.is_none() {
            self.0.provider = Some(provider.to_string());
        }
        if self.0.model.is_none() {
            self.0.model = Some(model.to_string());
        }
        self
    }

    /// The classification.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// The HTTP status: the upstream's if known, else the kind's.
    pub fn status(&self) -> u16 {
        self.0.status.unwrap_or_else(|| self.0.kind.http_status())
    }
    /// The provider id, if known.
    pub fn provider(&self) -> Option<&str> {
        self.0.provider.as_deref()
    }
    /// The model, if known.
    pub fn model(&self) -> Option<&str> {
        self.0.model.as_deref()
    }
    /// The provider's code if it gave one, else the kind's code.
    pub fn code(&self) -> &str {
        self.0.code.as_deref().unwrap_or_else(|| self.0.kind.code())
    }
    /// The offending parameter, if known.
    pub fn param(&self) -> Option<&str> {
        self.0.param.as_deref()
    }
    /// How long to wait before retrying, if the provider said.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.0.retry_after_ms
    }

    /// OpenAI's error JSON: `{"error": {"message", "type", "param", "code"}}`.
    pub fn to_openai_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "message": self.0.message,
                "type": self.0.kind.openai_type(),
                "param": self.0.param,
                "code": self.code(),
            }
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.provider {
            Some(p) => write!(f, "{} ({p}): {}", self.0.kind, self.0.message),
            None => write!(f, "{}: {}", self.0.kind, self.0.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::bad_request(format!("invalid JSON: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_kinds() {
        for s in [400, 401, 403, 404, 408, 422, 429, 500, 502, 503] {
            assert_eq!(ErrorKind::from_status(s).http_status(), s, "status {s}");
        }
        assert_eq!(ErrorKind::from_status(529), ErrorKind::ServiceUnavailable);
    }

    #[test]
    fn openai_json_shape() {
        let e = Error::new(ErrorKind::ContextWindowExceeded, "too long").with_param("messages");
        let j = e.to_openai_json();
        assert_eq!(j["error"]["type"], "invalid_request_error");
        assert_eq!(j["error"]["code"], "context_length_exceeded");
        assert_eq!(j["error"]["param"], "messages");
        assert_eq!(e.status(), 400);
    }
}
