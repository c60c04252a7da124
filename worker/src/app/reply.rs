//! What the gateway answers, as plain data: status, headers, and a JSON, SSE or empty body.
//! The Worker edge turns it into a `Response`; native tests read it directly.

use std::pin::Pin;

use futures_util::Stream;
use serde_json::Value;

use edgellm::{Error, ErrorKind};

/// A streamed body (SSE bytes). Dropping it cancels whatever feeds it.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, Error>>>>;

/// A response body.
#[allow(missing_debug_implementations)] // the stream variant has no useful Debug; see Reply's
pub enum Body {
    /// No body (preflight, 204).
    Empty,
    /// A complete body (JSON).
    Full(Vec<u8>),
    /// A body produced while it is sent.
    Stream(ByteStream),
}

/// A gateway response.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers (lowercase names).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
    /// What the call cost, for virtual-key spend tracking (`crate::keys`); set by the
    /// handlers for routed calls.
    pub meter: Option<crate::keys::meter::Meter>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.body {
            Body::Empty => "empty".to_string(),
            Body::Full(b) => String::from_utf8_lossy(b).into_owned(),
            Body::Stream(_) => "stream".to_string(),
        };
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &body)
            .finish()
    }
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, value: &Value) -> Self {
        Self::json_bytes(
            status,
            serde_json::to_vec(value).expect("a Value always serializes"),
        )
    }

    /// A JSON reply from already serialized bytes.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Body::Full(body),
            meter: None,
        }
    }

    /// A Server-Sent Events reply.
    pub fn sse(stream: ByteStream) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), "text/event-stream".into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            body: Body::Stream(stream),
            meter: None,
        }
    }

    /// An empty reply.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Empty,
            meter: None,
        }
    }

    /// OpenAI's error JSON with the status the openai clients map to the right exception
    /// class (the kind's status, not the upstream's: a provider's 529 is a 503 here).
    pub fn error(e: &Error) -> Self {
        let status = e.kind().http_status();
        let mut reply = Self::json(status, &e.to_openai_json());
        if let Some(ms) = e.retry_after_ms() {
            reply = reply
                .with_header("retry-after", ms.div_ceil(1000).to_string())
                .with_header("retry-after-ms", ms.to_string());
        }
        reply
    }

    /// A 4xx/5xx error of `kind` with `message`.
    pub fn fail(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::error(&Error::new(kind, message))
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The complete body parsed as JSON (tests).
    pub fn json_body(&self) -> Option<Value> {
        match &self.body {
            Body::Full(b) => serde_json::from_slice(b).ok(),
            _ => None,
        }
    }
}

/// Removes every occurrence of each secret from `text` (provider error messages can echo a
/// key, e.g. in a URL) and masked keys of the `sk-****abcd` form providers print.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s, "***");
    }
    out.split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains("****") {
                let trail: String = word
                    .chars()
                    .rev()
                    .take_while(|c| c.is_whitespace())
                    .collect();
                format!("***{trail}")
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_reply_uses_kind_status_and_retry_after() {
        let e = Error::new(ErrorKind::ServiceUnavailable, "overloaded")
            .with_status(529)
            .with_retry_after_ms(1500);
        let r = Reply::error(&e);
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert_eq!(r.header("retry-after-ms"), Some("1500"));
        let j = r.json_body().unwrap();
        assert_eq!(j["error"]["type"], "api_error");
        assert_eq!(j["error"]["message"], "overloaded");
    }

    #[test]
    fn scrub_removes_keys_and_masked_keys() {
        let s = scrub(
            "Incorrect API key provided: sk-proj-****************abcd. url=https://x?key=SECRETKEY1 done",
            &["SECRETKEY1"],
        );
        assert_eq!(
            s,
            "Incorrect API key provided: *** url=https://x?key=*** done"
        );
    }
}
