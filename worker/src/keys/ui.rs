//! The spend dashboard: one self-contained HTML page (`worker/ui/index.html`: inline CSS,
//! inline JS, the chart drawn as inline SVG; no CDN, no external asset). It asks for the
//! master key, keeps it in `sessionStorage`, and calls the management API with it.

use crate::app::Reply;

/// The page.
pub const PAGE: &str = include_str!("../../ui/index.html");

/// `GET /ui`.
pub fn page(method: &str) -> Reply {
    if method != "GET" && method != "HEAD" {
        return super::errors::proxy_error(405, "bad_request_error", "use GET /ui", None)
            .with_header("allow", "GET");
    }
    let mut r = Reply::json(200, &serde_json::Value::Null);
    r.headers = vec![
        ("content-type".into(), "text/html; charset=utf-8".into()),
        ("cache-control".into(), "no-store".into()),
        // Everything the page needs is inline; it talks only to this origin.
        (
            "content-security-policy".into(),
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'".into(),
        ),
        ("x-content-type-options".into(), "nosniff".into()),
    ];
    r.body = crate::app::Body::Full(PAGE.as_bytes().to_vec());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained() {
        let r = page("GET");
        assert_eq!(r.status, 200);
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        for external in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "src=\"//",
            "<link",
            "import ",
        ] {
            assert!(!PAGE.contains(external), "the page loads {external}");
        }
        assert!(PAGE.contains("<svg") || PAGE.contains("createElementNS"));
        assert_eq!(page("POST").status, 405);
    }
}
