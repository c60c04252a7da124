//! Google OAuth 2.0 access tokens without gcloud or google-auth: a service-account key is
//! turned into an RS256-signed JWT and exchanged for an access token (RFC 7523, "Using OAuth
//! 2.0 for Server to Server Applications":
//! <https://developers.google.com/identity/protocols/oauth2/service-account#httprest>); an
//! `authorized_user` file (`gcloud auth application-default login`) is exchanged with its
//! refresh token. Signing goes through [`Host::sign_rs256`] (WebCrypto on wasm), HTTP through
//! [`Host::send`], time through [`Host::now_ms`]. Tokens are cached per identity and scope
//! until shortly before they expire.

use std::cell::RefCell;

use serde_json::Value;

use super::base64;
use crate::host::Host;
use crate::http::{HttpRequest, Method};
use crate::options::Secret;
use crate::provider::build::{obj, parse, s};
use crate::str_map::StrMap;
use crate::types::json_text;
use crate::{Error, ErrorKind, Result};

/// The scope Vertex AI needs.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Google's token endpoint (used when the credentials name none).
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// Assertion lifetime: Google accepts at most one hour.
const ASSERTION_TTL_SECS: u64 = 3600;

/// Tokens are refreshed this long before they expire (google-auth uses 3m45s; requests may
/// be retried and streamed for a while after the token was handed out).
const REFRESH_MARGIN_MS: u64 = 5 * 60 * 1000;

/// Parsed Google credentials.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A service-account key file (`"type": "service_account"`).
    ServiceAccount {
        /// `client_email`: the JWT issuer.
        client_email: String,
        /// `private_key`: PKCS#8 PEM.
        private_key: Secret,
        /// `private_key_id`: the JWT `kid`.
        private_key_id: Option<String>,
        /// `token_uri`.
        token_uri: String,
        /// `project_id`.
        project_id: Option<String>,
    },
    /// An authorized-user file (`"type": "authorized_user"`).
    AuthorizedUser {
        /// `client_id`.
        client_id: String,
        /// `client_secret`.
        client_secret: Secret,
        /// `refresh_token`.
        refresh_token: Secret,
        /// `token_uri` (rarely present).
        token_uri: String,
        /// `quota_project_id`.
        quota_project_id: Option<String>,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ServiceAccount { client_email, .. } => f
                .debug_struct("ServiceAccount")
                .field("client_email", client_email)
                .finish_non_exhaustive(),
            Credentials::AuthorizedUser { client_id, .. } => f
                .debug_struct("AuthorizedUser")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
        }
    }
}

fn bad_credentials(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Authentication, msg.into()).with_param("vertex_credentials")
}

impl Credentials {
    /// Parses credentials given as a JSON object or as a string holding the JSON (LiteLLM's
    /// `vertex_credentials`; a file path cannot be read here, so it is rejected with a hint).
    ///
    /// ```
    /// use edgellm::auth::google::Credentials;
    /// let c = Credentials::from_value(&serde_json::json!({
    ///     "type": "service_account", "project_id": "p1", "client_email": "sa@p1.iam.gserviceaccount.com",
    ///     "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    /// })).unwrap();
    /// assert_eq!(c.project_id(), Some("p1"));
    /// ```
    pub fn from_value(v: &Value) -> Result<Self> {
        let parsed;
        let obj = match v {
            Value::Object(_) => v,
            Value::String(s) => {
                parsed = serde_json::from_str::<Value>(s.trim()).map_err(|_| {
                    bad_credentials(
                        "`vertex_credentials` must be the service-account JSON itself (a file path cannot be read here)",
                    )
                })?;
                &parsed
            }
            _ => {
                return Err(bad_credentials(
                    "`vertex_credentials` must be a JSON object or string",
                ))
            }
        };
        let s = |k: &str| obj.get(k).and_then(Value::as_str).map(String::from);
        let need = |k: &str| {
            s(k).filter(|v| !v.is_empty())
                .ok_or_else(|| bad_credentials(format!("credentials have no `{k}`")))
        };
        let token_uri = s("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.into());
        match s("type").as_deref() {
            Some("service_account") | None => Ok(Credentials::ServiceAccount {
                client_email: need("client_email")?,
                private_key: Secret::new(need("private_key")?),
                private_key_id: s("private_key_id"),
                token_uri,
                project_id: s("project_id"),
            }),
            Some("authorized_user") => Ok(Credentials::AuthorizedUser {
                client_id: need("client_id")?,
                client_secret: Secret::new(need("client_secret")?),
                refresh_token: Secret::new(need("refresh_token")?),
                token_uri,
                quota_project_id: s("quota_project_id"),
            }),
            Some(other) => Err(bad_credentials(format!(
                "credentials of type `{other}` are not supported (use a service-account key or an authorized_user file)"
            ))),
        }
    }

    /// The project the credentials belong to, if they say.
    pub fn project_id(&self) -> Option<&str> {
        match self {
            Credentials::ServiceAccount { project_id, .. } => project_id.as_deref(),
            Credentials::AuthorizedUser {
                quota_project_id, ..
            } => quota_project_id.as_deref(),
        }
    }

    fn cache_key(&self, scope: &str) -> String {
        match self {
            Credentials::ServiceAccount { client_email, .. } => {
                format!("sa\n{client_email}\n{scope}")
            }
            Credentials::AuthorizedUser {
                client_id,
                refresh_token,
                ..
            } => format!("user\n{client_id}\n{}\n{scope}", refresh_token.expose()),
        }
    }
}

/// The JWT signing input (`base64url(header) "." base64url(claims)`) for a service account,
/// valid from `now_secs` for one hour.
pub fn jwt_signing_input(
    client_email: &str,
    private_key_id: Option<&str>,
    scope: &str,
    audience: &str,
    now_secs: u64,
) -> String {
    let mut header = obj([("alg", s("RS256")), ("typ", s("JWT"))]);
    if let Some(kid) = private_key_id {
        header["kid"] = Value::from(kid);
    }
    let claims = obj([
        ("iss", Value::from(client_email)),
        ("scope", Value::from(scope)),
        ("aud", Value::from(audience)),
        ("iat", Value::from(now_secs)),
        ("exp", Value::from(now_secs + ASSERTION_TTL_SECS)),
    ]);
    format!(
        "{}.{}",
        base64::encode_url(json_text(&header).as_bytes()),
        base64::encode_url(json_text(&claims).as_bytes())
    )
}

/// The DER bytes of a PKCS#8 PEM private key.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        return Err(bad_credentials(
            "the private key is PKCS#1 (`BEGIN RSA PRIVATE KEY`); Google service-account keys are PKCS#8 (`BEGIN PRIVATE KEY`)",
        ));
    }
    let body: String = pem
        .replace("\\n", "\n")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::decode(&body)
        .filter(|d| !d.is_empty())
        .ok_or_else(|| bad_credentials("the private key is not valid PEM"))
}

/// A signed service-account JWT.
pub async fn signed_jwt<H: Host>(
    host: &H,
    client_email: &str,
    private_key: &str,
    private_key_id: Option<&str>,
    scope: &str,
    audience: &str,
    now_secs: u64,
) -> Result<String> {
    let input = jwt_signing_input(client_email, private_key_id, scope, audience, now_secs);
    let der = pem_to_der(private_key)?;
    let sig = host.sign_rs256(&der, input.as_bytes()).await?;
    Ok(format!("{input}.{}", base64::encode_url(&sig)))
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A form POST to a token endpoint.
pub fn token_request(token_uri: &str, fields: &[(&str, &str)]) -> HttpRequest {
    let mut body = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            body.push('&');
        }
        body.push_str(k);
        body.push('=');
        body.push_str(&form_encode(v));
    }
    HttpRequest {
        method: Method::Post,
        url: token_uri.to_string(),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body: Some(body.into_bytes()),
    }
}

/// Reads a token endpoint answer: `(access_token, expires_in seconds)`, or the OAuth error
/// (`{"error": "invalid_grant", "error_description": …}`) classified.
pub fn parse_token_response(status: u16, body: &[u8]) -> Result<(String, u64)> {
    let v: Value = parse(body).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::decode("Google token endpoint answered without access_token"))?;
        let ttl = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
        return Ok((token.to_string(), ttl));
    }
    let code = v.get("error").and_then(Value::as_str);
    let desc = v
        .get("error_description")
        .and_then(Value::as_str)
        .or(code)
        .map(String::from)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(500).collect());
    // RFC 6749 §5.2: a 400 from the token endpoint is a credential problem (invalid_grant,
    // invalid_client, invalid_scope, unauthorized_client), not a malformed chat request.
    let kind = match status {
        400 | 401 => ErrorKind::Authentication,
        s => ErrorKind::from_status(s),
    };
    let mut e = Error::new(kind, format!("Google OAuth token exchange failed: {desc}"))
        .with_status(if kind == ErrorKind::Authentication {
            401
        } else {
            status
        });
    if let Some(c) = code {
        e = e.with_code(c);
    }
    Err(e)
}

thread_local! {
    // wasm is single-threaded; natively each thread keeps its own cache, which is merely a
    // few extra token requests.
    // A `StrMap`: a `HashMap` of its own type brought its own copy of hashbrown's code.
    static TOKENS: RefCell<StrMap<(Secret, u64)>> = const { RefCell::new(StrMap::new()) };
}

fn cached(key: &str, now_ms: u64) -> Option<Secret> {
    TOKENS.with(|t| {
        t.borrow()
            .get(key)
            .filter(|(_, exp)| now_ms + REFRESH_MARGIN_MS < *exp)
            .map(|(tok, _)| tok.clone())
    })
}

/// An access token for `creds` and `scope`: from the cache, or freshly exchanged.
pub async fn access_token<H: Host>(host: &H, creds: &Credentials, scope: &str) -> Result<Secret> {
    let key = creds.cache_key(scope);
    let now_ms = host.now_ms();
    if let Some(t) = cached(&key, now_ms) {
        return Ok(t);
    }
    let req = match creds {
        Credentials::ServiceAccount {
            client_email,
            private_key,
            private_key_id,
            token_uri,
            ..
        } => {
            let jwt = signed_jwt(
                host,
                client_email,
                private_key.expose(),
                private_key_id.as_deref(),
                scope,
                token_uri,
                now_ms / 1000,
            )
            .await?;
            token_request(
                token_uri,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &jwt),
                ],
            )
        }
        Credentials::AuthorizedUser {
            client_id,
            client_secret,
            refresh_token,
            token_uri,
            ..
        } => token_request(
            token_uri,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("client_secret", client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ],
        ),
    };
    let resp = host.send(req, None).await?;
    let status = resp.status;
    let body = resp.bytes().await?;
    let (token, ttl) = parse_token_response(status, &body)?;
    let token = Secret::new(token);
    let expires = now_ms + ttl * 1000;
    TOKENS.with(|t| t.borrow_mut().insert(key, (token.clone(), expires)));
    Ok(token)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::http::HttpResponse;
    use crate::testing::{MockHost, Reply};
    use serde_json::json;

    /// A host whose "signature" is the SHA-free, deterministic reverse of the input bytes, so
    /// tests can check exactly what was signed.
    #[derive(Debug, Default)]
    pub(crate) struct FakeSigner {
        pub inner: MockHost,
        pub signed: RefCell<Vec<(Vec<u8>, Vec<u8>)>>,
    }

    impl Host for FakeSigner {
        async fn send(&self, req: HttpRequest, t: Option<u64>) -> Result<HttpResponse> {
            self.inner.send(req, t).await
        }
        async fn sleep(&self, ms: u64) {
            self.inner.sleep(ms).await
        }
        fn now_ms(&self) -> u64 {
            self.inner.now_ms()
        }
        fn random(&self) -> f64 {
            self.inner.random()
        }
        async fn sign_rs256(&self, der: &[u8], data: &[u8]) -> Result<Vec<u8>> {
            self.signed.borrow_mut().push((der.to_vec(), data.to_vec()));
            Ok(data.iter().rev().copied().collect())
        }
    }

    pub(crate) const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\nAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n";

    pub(crate) fn sa_json() -> Value {
        json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": "kid-123",
            "private_key": PEM,
            "client_email": "edge@test-project.iam.gserviceaccount.com",
            "token_uri": "https://oauth2.googleapis.com/token"
        })
    }

    fn decode_segment(s: &str) -> Value {
        serde_json::from_slice(&base64::decode(s).unwrap()).unwrap()
    }

    #[test]
    fn jwt_header_and_claims_follow_googles_spec() {
        let input = jwt_signing_input(
            "edge@p.iam.gserviceaccount.com",
            Some("kid-1"),
            CLOUD_PLATFORM_SCOPE,
            DEFAULT_TOKEN_URI,
            1_700_000_000,
        );
        let (h, c) = input.split_once('.').unwrap();
        assert!(!input.contains('='), "segments are unpadded base64url");
        assert_eq!(
            decode_segment(h),
            json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
        );
        assert_eq!(
            decode_segment(c),
            json!({
                "iss": "edge@p.iam.gserviceaccount.com",
                "scope": "https://www.googleapis.com/auth/cloud-platform",
                "aud": "https://oauth2.googleapis.com/token",
                "iat": 1_700_000_000u64,
                "exp": 1_700_003_600u64
            })
        );
    }

    #[test]
    fn pem_decoding() {
        let der = pem_to_der(PEM).unwrap();
        assert_eq!(&der[..4], &[0x30, 0x82, 0x01, 0x55]);
        // Keys pasted through env vars often carry literal `\n`.
        assert_eq!(pem_to_der(&PEM.replace('\n', "\\n")).unwrap(), der);
        let e = pem_to_der("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----")
            .unwrap_err();
        assert!(e.message().contains("PKCS#8"));
        assert!(pem_to_der("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----").is_err());
    }

    #[test]
    fn credentials_parsing() {
        let c = Credentials::from_value(&Value::String(sa_json().to_string())).unwrap();
        assert_eq!(c.project_id(), Some("test-project"));
        assert!(!format!("{c:?}").contains("PRIVATE"));
        let e = Credentials::from_value(&json!("/home/me/key.json")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(e.message().contains("file path"));
        let e = Credentials::from_value(&json!({"type": "service_account", "client_email": "x"}))
            .unwrap_err();
        assert!(e.message().contains("private_key"));
        let e = Credentials::from_value(&json!({"type": "external_account"})).unwrap_err();
        assert!(e.message().contains("external_account"));
        let u = Credentials::from_value(&json!({"type": "authorized_user", "client_id": "id",
            "client_secret": "s", "refresh_token": "1//r", "quota_project_id": "qp"}))
        .unwrap();
        assert_eq!(u.project_id(), Some("qp"));
    }

    #[test]
    fn token_errors_are_classified() {
        let e = parse_token_response(
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert_eq!(e.code(), "invalid_grant");
        assert!(e.message().contains("Invalid JWT Signature."));
        let e = parse_token_response(503, b"unavailable").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ServiceUnavailable);
        assert_eq!(
            parse_token_response(
                200,
                br#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#
            )
            .unwrap(),
            ("ya29.x".to_string(), 3599)
        );
        assert_eq!(
            parse_token_response(200, b"{}").unwrap_err().kind(),
            ErrorKind::Decode
        );
    }

    #[test]
    fn service_account_exchange_is_signed_posted_and_cached_until_near_expiry() {
        let host = FakeSigner::default();
        host.inner.push(Reply::json(
            200,
            &json!({"access_token": "ya29.first", "expires_in": 3599, "token_type": "Bearer"}),
        ));
        host.inner.push(Reply::json(
            200,
            &json!({"access_token": "ya29.second", "expires_in": 3599, "token_type": "Bearer"}),
        ));
        let creds = Credentials::from_value(&sa_json()).unwrap();
        let run = |h: &FakeSigner| {
            futures_executor::block_on(access_token(h, &creds, CLOUD_PLATFORM_SCOPE)).unwrap()
        };

        assert_eq!(run(&host).expose(), "ya29.first");
        let reqs = host.inner.requests.borrow().clone();
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].url, "https://oauth2.googleapis.com/token");
        assert_eq!(
            crate::http::header(&reqs[0].headers, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        let body = String::from_utf8(reqs[0].body.clone().unwrap()).unwrap();
        let (grant, assertion) = body.split_once('&').unwrap();
        assert_eq!(
            grant,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
        );
        let jwt = assertion.strip_prefix("assertion=").unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let signed = host.signed.borrow()[0].clone();
        assert_eq!(
            signed.0,
            pem_to_der(PEM).unwrap(),
            "the PEM's DER is what gets signed with"
        );
        assert_eq!(signed.1, format!("{}.{}", parts[0], parts[1]).into_bytes());
        let sig: Vec<u8> = signed.1.iter().rev().copied().collect();
        assert_eq!(parts[2], base64::encode_url(&sig));
        assert_eq!(decode_segment(parts[1])["iat"], 1_700_000_000u64);

        // Cached: no new request while the token is fresh…
        host.inner.advance(50 * 60 * 1000);
        assert_eq!(run(&host).expose(), "ya29.first");
        assert_eq!(host.inner.requests.borrow().len(), 1);
        // …refreshed within the margin before expiry.
        host.inner.advance(6 * 60 * 1000);
        assert_eq!(run(&host).expose(), "ya29.second");
        assert_eq!(host.inner.requests.borrow().len(), 2);
    }

    #[test]
    fn authorized_user_uses_the_refresh_token_grant() {
        let host = FakeSigner::default();
        host.inner.push(Reply::json(
            200,
            &json!({"access_token": "ya29.user", "expires_in": 3599}),
        ));
        let creds = Credentials::from_value(
            &json!({"type": "authorized_user", "client_id": "cid.apps.googleusercontent.com",
            "client_secret": "sec", "refresh_token": "1//0g-r/t"}),
        )
        .unwrap();
        let t =
            futures_executor::block_on(access_token(&host, &creds, CLOUD_PLATFORM_SCOPE)).unwrap();
        assert_eq!(t.expose(), "ya29.user");
        let body =
            String::from_utf8(host.inner.requests.borrow()[0].body.clone().unwrap()).unwrap();
        assert_eq!(
            body,
            "grant_type=refresh_token&client_id=cid.apps.googleusercontent.com&client_secret=sec&refresh_token=1%2F%2F0g-r%2Ft"
        );
        assert!(host.signed.borrow().is_empty());
    }

    #[test]
    fn a_host_without_crypto_fails_clearly() {
        let host = MockHost::new();
        let creds = Credentials::from_value(&sa_json()).unwrap();
        let e = futures_executor::block_on(access_token(&host, &creds, "scope-x")).unwrap_err();
        assert!(e.message().contains("RS256"));
        assert!(host.requests.borrow().is_empty());
    }
}
