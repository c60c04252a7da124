//! Plain-data HTTP: what a provider asks to send, and what came back. No I/O here.

use std::pin::Pin;

use futures_util::Stream;

use crate::Result;

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT (MLflow's artifact upload)
    Put,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// Header list (names lowercase by convention; order kept for signing and tests).
pub type Headers = Vec<(String, String)>;

/// Looks a header up case-insensitively.
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A request a provider wants sent.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers, secrets included (hence the redacting `Debug`).
    pub headers: Headers,
    /// Body bytes (JSON for every provider so far).
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A JSON POST.
    pub fn post_json(url: impl Into<String>, body: &serde_json::Value) -> Self {
        Self {
            method: Method::Post,
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: Some(serde_json::to_vec(body).expect("a Value always serializes")),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a header, replacing any with the same name (case-insensitive).
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
    }

    /// The body parsed as JSON (tests and signing helpers).
    pub fn json_body(&self) -> Option<serde_json::Value> {
        crate::provider::build::parse(self.body.as_deref()?).ok()
    }
}

/// Header names whose values never appear in `Debug` output or logs.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-amz-security-token",
];

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let secret = SECRET_HEADERS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (k.as_str(), if secret { "***" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// A body as a stream of byte chunks. Dropping it cancels the underlying request.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>>>>>;

/// A response whose status and headers have arrived; the body streams.
///
/// The headers are read through [`headers`](Self::headers): a host may hand them over as a
/// [`HeaderSource`] that is read only when something asks (a 2xx chat answer never does; error
/// mapping, `Retry-After` and Bedrock's token-count headers do). In the Worker, flattening
/// every upstream header into wasm was ≈ 3 % of a non-stream request's CPU (bench/FINDINGS.md).
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    headers: std::cell::OnceCell<Headers>,
    source: std::cell::Cell<Option<HeaderSource>>,
    /// Body.
    pub body: BodyStream,
}

/// Reads a response's headers when they are first asked for (see [`HttpResponse::lazy`]).
pub type HeaderSource = Box<dyn FnOnce() -> Headers>;

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", self.headers())
            .finish_non_exhaustive()
    }
}

impl HttpResponse {
    /// A response with its headers at hand.
    pub fn new(status: u16, headers: Headers, body: BodyStream) -> Self {
        Self {
            status,
            headers: std::cell::OnceCell::from(headers),
            source: std::cell::Cell::new(None),
            body,
        }
    }

    /// A response whose headers `source` reads the first time [`headers`](Self::headers) is
    /// called (never, if nothing asks).
    pub fn lazy(status: u16, source: HeaderSource, body: BodyStream) -> Self {
        Self {
            status,
            headers: std::cell::OnceCell::new(),
            source: std::cell::Cell::new(Some(source)),
            body,
        }
    }

    /// The headers (names lowercase by convention), read from the host on the first call.
    pub fn headers(&self) -> &Headers {
        self.headers
            .get_or_init(|| self.source.take().map(|read| read()).unwrap_or_default())
    }

    /// Reads the whole body.
    pub async fn bytes(self) -> Result<Vec<u8>> {
        use futures_util::StreamExt;
        let mut body = self.body;
        let mut out = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            // A body read whole arrives as one chunk: kept as it is, not copied.
            if out.is_empty() {
                out = chunk;
            } else {
                out.extend_from_slice(&chunk);
            }
        }
        Ok(out)
    }

    /// A response with a complete body (mock hosts and tests).
    pub fn full(status: u16, headers: Headers, body: impl Into<Vec<u8>>) -> Self {
        let body: Vec<u8> = body.into();
        Self::new(
            status,
            headers,
            Box::pin(futures_util::stream::iter(std::iter::once(Ok(body)))),
        )
    }
}

/// Parses `Retry-After` (seconds or HTTP date is not supported without a clock: seconds only)
/// and OpenAI's `retry-after-ms`.
pub fn retry_after_ms(headers: &Headers) -> Option<u64> {
    if let Some(ms) =
        header(headers, "retry-after-ms").and_then(|v| crate::num::parse_f64(v.trim()))
    {
        return Some(ms.max(0.0) as u64);
    }
    header(headers, "retry-after")
        .and_then(|v| crate::num::parse_f64(v.trim()))
        .map(|s| (s.max(0.0) * 1000.0) as u64)
}
