//! AWS Signature Version 4 for request headers.
//!
//! Reference: <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>.
//! Verified against the AWS SigV4 test suite vectors (`get-vanilla`, `post-vanilla`,
//! `get-vanilla-query-order-key-case`) in the tests below.
//!
//! Pure: the time comes in as `now_ms`, nothing is read from a clock.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::http::HttpRequest;
use crate::options::Secret;
use crate::{Error, Result};

/// Long-term or temporary AWS credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AKIA…` / `ASIA…`.
    pub access_key_id: String,
    /// The secret key.
    pub secret_access_key: Secret,
    /// STS session token for temporary credentials (sent as `x-amz-security-token`).
    pub session_token: Option<Secret>,
}

fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any size");
    m.update(data);
    m.finalize().into_bytes().into()
}

/// `(YYYYMMDDTHHMMSSZ, YYYYMMDD)` for a time in ms since the epoch (UTC).
///
/// ```
/// assert_eq!(edgellm::aws::amz_date(1_440_938_160_000), ("20150830T123600Z".into(), "20150830".into()));
/// ```
pub fn amz_date(now_ms: u64) -> (String, String) {
    let secs = now_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}{m:02}{d:02}");
    (
        format!(
            "{date}T{:02}{:02}{:02}Z",
            rem / 3600,
            (rem / 60) % 60,
            rem % 60
        ),
        date,
    )
}

/// RFC 3986 unreserved characters stay, everything else is `%XX` (uppercase), as SigV4 wants.
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hexval = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits an absolute URL into (host\[:port\], path, query).
fn split_url(url: &str) -> Result<(String, String, String)> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| Error::bad_request(format!("cannot sign a relative URL: {url}")))?;
    let (authority, path_query) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => match rest.find('?') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        },
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path_query, ""),
    };
    let path = if path.is_empty() { "/" } else { path };
    let query = query.split('#').next().unwrap_or("");
    Ok((host.to_string(), path.to_string(), query.to_string()))
}

/// The canonical request (task 1 of SigV4) for `req` with the headers to sign.
/// `path` is the URL's (already percent-encoded) path; it is encoded once more, as every
/// service but S3 expects.
fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
) -> (String, String) {
    // Written straight into one string: the iterator chains this was built from compiled to a
    // copy of the adapters each.
    let mut out = String::with_capacity(256);
    out.push_str(method);
    out.push('\n');
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&uri_encode(seg, false));
    }
    out.push('\n');
    let mut params: Vec<(String, String)> = Vec::new();
    for p in query.split('&') {
        if p.is_empty() {
            continue;
        }
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        params.push((
            uri_encode(&percent_decode(k), false),
            uri_encode(&percent_decode(v), false),
        ));
    }
    crate::sort::sort_by(&mut params, Ord::cmp);
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out.push('\n');
    let mut hs: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        let mut value = String::with_capacity(v.len());
        for (i, word) in v.split_whitespace().enumerate() {
            if i > 0 {
                value.push(' ');
            }
            value.push_str(word);
        }
        hs.push((k.to_ascii_lowercase(), value));
    }
    crate::sort::sort_by(&mut hs, |a, b| a.0.cmp(&b.0));
    let mut signed = String::new();
    for (i, (k, v)) in hs.iter().enumerate() {
        out.push_str(k);
        out.push(':');
        out.push_str(v);
        out.push('\n');
        if i > 0 {
            signed.push(';');
        }
        signed.push_str(k);
    }
    out.push('\n');
    out.push_str(&signed);
    out.push('\n');
    out.push_str(payload_hash);
    (out, signed)
}

/// Headers never signed: they may be changed or added on the way (as botocore excludes them).
const UNSIGNED: &[&str] = &["authorization", "user-agent", "expect", "x-amzn-trace-id"];

/// Signs `req` in place: adds `x-amz-date`, `x-amz-security-token` (temporary credentials) and
/// `authorization`. Every other header already on the request is signed too, as is the `host`
/// taken from the URL (not added as a header: `fetch` sets it).
///
/// ```
/// use edgellm::{aws::{sign, Credentials}, http::HttpRequest, Secret};
/// let mut req = HttpRequest::post_json("https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse", &serde_json::json!({}));
/// let creds = Credentials { access_key_id: "AKIDEXAMPLE".into(), secret_access_key: Secret::new("secret"), session_token: None };
/// sign(&mut req, &creds, "us-east-1", "bedrock", 1_440_938_160_000).unwrap();
/// let auth = edgellm::http::header(&req.headers, "authorization").unwrap();
/// assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="));
/// ```
pub fn sign(
    req: &mut HttpRequest,
    creds: &Credentials,
    region: &str,
    service: &str,
    now_ms: u64,
) -> Result<()> {
    let (host, path, query) = split_url(&req.url)?;
    let (amz, date) = amz_date(now_ms);
    req.set_header("x-amz-date", amz.clone());
    if let Some(t) = &creds.session_token {
        req.set_header("x-amz-security-token", t.expose());
    }
    let mut to_sign: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| {
            !UNSIGNED.iter().any(|u| k.eq_ignore_ascii_case(u)) && !k.eq_ignore_ascii_case("host")
        })
        .cloned()
        .collect();
    to_sign.push(("host".into(), host));
    let payload_hash = sha256_hex(req.body.as_deref().unwrap_or(b""));
    let (creq, signed) =
        canonical_request(req.method.as_str(), &path, &query, &to_sign, &payload_hash);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz}\n{scope}\n{}",
        sha256_hex(creq.as_bytes())
    );
    let k_date = hmac(
        format!("AWS4{}", creds.secret_access_key.expose()).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    req.set_header(
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            creds.access_key_id
        ),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{header, Method};

    // AWS SigV4 test suite: credentials, region, service and time shared by every vector.
    const NOW_MS: u64 = 1_440_938_160_000; // 2015-08-30T12:36:00Z

    fn suite_creds() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        }
    }

    fn suite(method: Method, url: &str) -> String {
        let mut req = HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        };
        sign(&mut req, &suite_creds(), "us-east-1", "service", NOW_MS).unwrap();
        assert_eq!(header(&req.headers, "x-amz-date"), Some("20150830T123600Z"));
        header(&req.headers, "authorization").unwrap().to_string()
    }

    #[test]
    fn aws_test_suite_get_vanilla() {
        assert_eq!(
            suite(Method::Get, "https://example.amazonaws.com/"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn aws_test_suite_post_vanilla() {
        assert_eq!(
            suite(Method::Post, "https://example.amazonaws.com/"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn aws_test_suite_get_vanilla_query_order_key_case() {
        assert_eq!(
            suite(
                Method::Get,
                "https://example.amazonaws.com/?Param2=value2&Param1=value1"
            ),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn get_vanilla_canonical_request_and_string_to_sign() {
        let (creq, signed) = canonical_request(
            "GET",
            "/",
            "",
            &[
                ("Host".into(), "example.amazonaws.com".into()),
                ("X-Amz-Date".into(), "20150830T123600Z".into()),
            ],
            &sha256_hex(b""),
        );
        assert_eq!(signed, "host;x-amz-date");
        assert_eq!(
            creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // The suite's get-vanilla.sts hashes the canonical request to this.
        assert_eq!(
            sha256_hex(creq.as_bytes()),
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }

    #[test]
    fn bedrock_path_is_encoded_twice_and_session_token_signed() {
        let (creq, _) = canonical_request(
            "POST",
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
            "",
            &[("host".into(), "h".into())],
            "x",
        );
        assert!(creq.contains("\n/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse\n"));
        let mut req = HttpRequest::post_json("https://h.example/x", &serde_json::json!({}));
        let creds = Credentials {
            session_token: Some(Secret::new("tok")),
            ..suite_creds()
        };
        sign(&mut req, &creds, "us-west-2", "bedrock", NOW_MS).unwrap();
        assert_eq!(header(&req.headers, "x-amz-security-token"), Some("tok"));
        assert!(header(&req.headers, "authorization")
            .unwrap()
            .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
    }

    #[test]
    fn dates() {
        assert_eq!(amz_date(0).0, "19700101T000000Z");
        assert_eq!(amz_date(951_782_400_000).1, "20000229");
        assert_eq!(amz_date(1_700_000_000_000).0, "20231114T221320Z");
    }
}
