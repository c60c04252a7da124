//! CORS headers from [`edgellm::config::Cors`] (LiteLLM's `cors_allow_*` settings).

use edgellm::config::Cors;

use super::reply::Reply;

/// Response headers browsers may read (the id and LiteLLM's routing/cost headers).
const EXPOSE: &str =
    "x-request-id, x-litellm-call-id, x-litellm-model-id, x-litellm-model-api-base, \
x-litellm-model-group, x-litellm-model-name, x-litellm-response-cost, x-litellm-attempted-retries, \
x-litellm-attempted-fallbacks, x-litellm-response-duration-ms, x-litellm-version, retry-after";

/// Adds the CORS headers for a normal (non-preflight) request from `origin`.
pub fn decorate(reply: &mut Reply, cors: &Cors, origin: Option<&str>) {
    let Some(origin) = origin else { return };
    let Some(allow) = cors.allow_origin(Some(origin)) else {
        return;
    };
    if allow != "*" {
        reply.headers.push(("vary".into(), "Origin".into()));
    }
    reply
        .headers
        .push(("access-control-allow-origin".into(), allow));
    if cors.credentials() {
        reply
            .headers
            .push(("access-control-allow-credentials".into(), "true".into()));
    }
    reply
        .headers
        .push(("access-control-expose-headers".into(), EXPOSE.into()));
}

fn list_or_echo(allowed: &[String], requested: Option<&str>, default: &str) -> String {
    if allowed.iter().any(|a| a == "*") {
        // `*` in Access-Control-Allow-Headers never covers Authorization (Fetch spec), so
        // echo what the browser asked for instead.
        requested
            .map(str::to_string)
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| default.to_string())
    } else {
        allowed.join(", ")
    }
}

/// The answer to an `OPTIONS` preflight.
pub fn preflight(
    cors: &Cors,
    origin: Option<&str>,
    request_method: Option<&str>,
    request_headers: Option<&str>,
) -> Reply {
    let Some(allow) = cors.allow_origin(origin) else {
        return Reply::fail(
            edgellm::ErrorKind::BadRequest,
            "CORS preflight from an origin that is not in general_settings.cors_allow_origins",
        );
    };
    let methods = list_or_echo(&cors.allow_methods, request_method, "GET, POST, OPTIONS");
    let headers = list_or_echo(
        &cors.allow_headers,
        request_headers,
        "authorization, content-type",
    );
    let mut reply = Reply::empty(204)
        .with_header("access-control-allow-origin", allow.clone())
        .with_header("access-control-allow-methods", methods)
        .with_header("access-control-allow-headers", headers)
        .with_header("access-control-max-age", "600");
    if allow != "*" {
        reply = reply.with_header("vary", "Origin");
    }
    if cors.credentials() {
        reply = reply.with_header("access-control-allow-credentials", "true");
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_allows_any_origin_and_echoes_headers() {
        let r = preflight(
            &Cors::default(),
            Some("https://a.example"),
            Some("POST"),
            Some("authorization, content-type, x-stainless-os"),
        );
        assert_eq!(r.status, 204);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(
            r.header("access-control-allow-headers"),
            Some("authorization, content-type, x-stainless-os")
        );
        assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
        assert_eq!(r.header("access-control-allow-credentials"), None);
    }

    #[test]
    fn explicit_origins() {
        let cors = Cors {
            allow_origins: vec!["https://app.example".into()],
            allow_credentials: true,
            allow_methods: vec!["GET".into(), "POST".into()],
            ..Cors::default()
        };
        let r = preflight(&cors, Some("https://app.example"), Some("POST"), None);
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("https://app.example")
        );
        assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST"));
        assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
        assert_eq!(r.header("vary"), Some("Origin"));
        assert_eq!(
            preflight(&cors, Some("https://evil.example"), None, None).status,
            400
        );

        let mut ok = Reply::empty(200);
        decorate(&mut ok, &cors, Some("https://app.example"));
        assert_eq!(
            ok.header("access-control-allow-origin"),
            Some("https://app.example")
        );
        assert!(ok
            .header("access-control-expose-headers")
            .unwrap()
            .contains("x-request-id"));
        let mut no = Reply::empty(200);
        decorate(&mut no, &cors, Some("https://evil.example"));
        assert_eq!(no.header("access-control-allow-origin"), None);
    }
}
