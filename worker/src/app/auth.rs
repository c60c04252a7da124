//! Gateway authentication: the master key from `general_settings.master_key`.
//!
//! Keys are read from `Authorization: Bearer …` (OpenAI clients), `x-api-key` (Anthropic
//! clients), `api-key` (Azure OpenAI clients) and the header named by
//! `general_settings.litellm_key_header_name`. Without a master key the gateway is open, as
//! LiteLLM's proxy is.

use edgellm::{Error, ErrorKind, Secret};

/// Compares in time that depends only on `expected`'s length, never on where the inputs
/// first differ or on how long the presented key is.
pub fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    let mut diff = u8::from(expected.len() != presented.len());
    for (i, e) in expected.iter().enumerate() {
        let p = presented.get(i).copied().unwrap_or(0);
        diff |= e ^ p;
    }
    diff == 0
}

/// The key a request presents, from the first header that carries one.
pub fn presented_key<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
    custom_header: Option<&str>,
) -> Option<&'a str> {
    if let Some(name) = custom_header {
        if let Some(v) = header(name).map(str::trim).filter(|v| !v.is_empty()) {
            return Some(v.strip_prefix("Bearer ").unwrap_or(v).trim());
        }
    }
    if let Some(v) = header("authorization") {
        let v = v.trim();
        let token = match v.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if v.eq_ignore_ascii_case("bearer") => "",
            _ => v,
        };
        if !token.is_empty() {
            return Some(token);
        }
    }
    ["x-api-key", "api-key"]
        .iter()
        .find_map(|h| header(h).map(str::trim).filter(|v| !v.is_empty()))
}

/// Checks a request against the master key; `Ok` when it may pass.
pub fn check(master_key: Option<&Secret>, presented: Option<&str>) -> Result<(), Error> {
    let Some(master) = master_key else {
        return Ok(());
    };
    match presented {
        None => Err(Error::new(
            ErrorKind::Authentication,
            "Authentication error: no API key passed. Send `Authorization: Bearer <key>` or `x-api-key: <key>`.",
        )),
        Some(k) if constant_time_eq(master.expose().as_bytes(), k.as_bytes()) => Ok(()),
        Some(_) => Err(Error::new(
            ErrorKind::Authentication,
            "Authentication error: invalid API key.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"sk-1234", b"sk-1234"));
        assert!(!constant_time_eq(b"sk-1234", b"sk-1235"));
        assert!(!constant_time_eq(b"sk-1234", b"sk-123"));
        assert!(!constant_time_eq(b"sk-1234", b"sk-12345"));
        assert!(!constant_time_eq(b"sk-1234", b""));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn key_sources() {
        assert_eq!(
            presented_key(headers(&[("authorization", "Bearer sk-1")]), None),
            Some("sk-1")
        );
        assert_eq!(
            presented_key(headers(&[("authorization", "bearer  sk-1 ")]), None),
            Some("sk-1")
        );
        assert_eq!(
            presented_key(headers(&[("authorization", "sk-raw")]), None),
            Some("sk-raw")
        );
        assert_eq!(
            presented_key(headers(&[("x-api-key", "sk-2")]), None),
            Some("sk-2")
        );
        assert_eq!(
            presented_key(headers(&[("api-key", "sk-3")]), None),
            Some("sk-3")
        );
        assert_eq!(
            presented_key(headers(&[("x-my-key", "sk-4")]), Some("x-my-key")),
            Some("sk-4")
        );
        assert_eq!(
            presented_key(headers(&[("authorization", "Bearer ")]), None),
            None
        );
        assert_eq!(presented_key(headers(&[]), None), None);
    }

    #[test]
    fn open_without_master_key_and_401_otherwise() {
        assert!(check(None, None).is_ok());
        let mk = Secret::new("sk-master");
        assert!(check(Some(&mk), Some("sk-master")).is_ok());
        let e = check(Some(&mk), Some("sk-wrong")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(!e.message().contains("sk-wrong") && !e.message().contains("sk-master"));
        assert_eq!(
            check(Some(&mk), None).unwrap_err().kind().http_status(),
            401
        );
    }
}
