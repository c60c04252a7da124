//! Credentials that need I/O before a request can be built: Google OAuth access tokens for
//! Vertex AI (service-account keys and `authorized_user` files, no gcloud needed).
//!
//! The engine calls [`authorize`] once per call, right after resolving the target; providers
//! then only read the token from [`Target::api_key`](crate::provider::Target), staying pure.

pub(crate) mod base64;
pub mod google;

use crate::host::Host;
use crate::provider::{vertex_ai, Target};
use crate::Result;

/// Fills in credentials that must be fetched before the request: for `vertex_ai`, exchanges
/// `vertex_credentials` / `VERTEXAI_CREDENTIALS` for an access token (cached) unless a token
/// was given (`api_key` / `vertex_access_token`). Does nothing for other providers.
///
/// ```
/// # use edgellm::{auth, provider::Target, testing::MockHost};
/// let mut t = Target { provider: "openai".into(), ..Default::default() };
/// futures_executor::block_on(auth::authorize(&MockHost::new(), "openai", &mut t)).unwrap();
/// assert!(t.api_key.is_none());
/// ```
pub async fn authorize<H: Host>(host: &H, provider_id: &str, target: &mut Target) -> Result<()> {
    if provider_id != "vertex_ai" {
        return Ok(());
    }
    let (provider, model) = (target.provider.clone(), target.model.clone());
    vertex(host, target)
        .await
        .map_err(|e| e.in_context(&provider, &model))
}

async fn vertex<H: Host>(host: &H, target: &mut Target) -> Result<()> {
    if vertex_ai::bearer(target).is_some() {
        return Ok(());
    }
    let Some(raw) = vertex_ai::credentials(target) else {
        // The provider reports the missing credentials when it builds the request.
        return Ok(());
    };
    let creds = google::Credentials::from_value(raw)?;
    let token = google::access_token(host, &creds, google::CLOUD_PLATFORM_SCOPE).await?;
    target.api_key = Some(token);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::google::tests::{sa_json, FakeSigner};
    use super::*;
    use crate::engine;
    use crate::options::parse_chat;
    use crate::testing::Reply;
    use serde_json::json;
    use std::collections::HashMap;

    fn sa_for(email: &str) -> serde_json::Value {
        // A distinct identity per test keeps the (thread-local) token cache out of the way.
        let mut sa = sa_json();
        sa["client_email"] = json!(email);
        sa
    }

    #[test]
    fn vertex_service_account_flow_through_the_engine() {
        let host = FakeSigner::default();
        host.inner.push(Reply::json(
            200,
            &json!({"access_token": "ya29.engine", "expires_in": 3599, "token_type": "Bearer"}),
        ));
        host.inner.push(Reply::json(
            200,
            &json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi!"}]}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 2, "totalTokenCount": 4},
                "modelVersion": "gemini-2.0-flash-001", "responseId": "vx-1"}),
        ));
        let (req, opts) = parse_chat(json!({
            "model": "vertex_ai/gemini-2.0-flash",
            "messages": [{"role": "user", "content": "Hello"}],
            "vertex_credentials": sa_for("engine@test-project.iam.gserviceaccount.com").to_string(),
            "vertex_location": "us-east1"
        }))
        .unwrap();
        let env: HashMap<String, String> = HashMap::new();
        let c = futures_executor::block_on(engine::completion(&host, &env, req, opts)).unwrap();
        assert_eq!(
            c.response.choices[0].message.content.as_deref(),
            Some("Hi!")
        );
        let reqs = host.inner.requests.borrow().clone();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].url, "https://oauth2.googleapis.com/token");
        assert_eq!(
            reqs[1].url,
            "https://us-east1-aiplatform.googleapis.com/v1/projects/test-project/locations/us-east1/publishers/google/models/gemini-2.0-flash:generateContent"
        );
        assert_eq!(
            crate::http::header(&reqs[1].headers, "authorization"),
            Some("Bearer ya29.engine")
        );
        assert_eq!(
            reqs[1].json_body().unwrap(),
            json!({"contents": [{"role": "user", "parts": [{"text": "Hello"}]}]})
        );
    }

    #[test]
    fn vertex_stream_reuses_the_cached_token() {
        let host = FakeSigner::default();
        host.inner.push(Reply::json(
            200,
            &json!({"access_token": "ya29.s", "expires_in": 3599}),
        ));
        let sse = |text: &str, fin: bool| {
            let mut c = json!({"content": {"role": "model", "parts": [{"text": text}]}});
            if fin {
                c["finishReason"] = json!("STOP");
            }
            format!(
                "data: {}\r\n\r\n",
                json!({"candidates": [c], "responseId": "s1"})
            )
        };
        for _ in 0..2 {
            host.inner.push(Reply::bytes(
                200,
                vec![("content-type".into(), "text/event-stream".into())],
                format!("{}{}", sse("Hel", false), sse("lo", true)).as_bytes(),
                7,
            ));
        }
        let env = HashMap::from([(
            "VERTEXAI_CREDENTIALS".to_string(),
            sa_for("stream@test-project.iam.gserviceaccount.com").to_string(),
        )]);
        for _ in 0..2 {
            let (req, opts) = parse_chat(
                json!({"model": "vertex_ai/gemini-2.0-flash", "stream": true,
                "messages": [{"role": "user", "content": "Hi"}]}),
            )
            .unwrap();
            let sc = futures_executor::block_on(engine::completion_stream(&host, &env, req, opts))
                .unwrap();
            let chunks: Vec<_> = futures_executor::block_on_stream(sc.stream).collect();
            let text: String = chunks
                .iter()
                .filter_map(|c| c.as_ref().unwrap().choices.first()?.delta.content.clone())
                .collect();
            assert_eq!(text, "Hello");
        }
        let urls: Vec<String> = host
            .inner
            .requests
            .borrow()
            .iter()
            .map(|r| r.url.clone())
            .collect();
        assert_eq!(
            urls.len(),
            3,
            "one token exchange, two generate calls: {urls:?}"
        );
        assert!(urls[1].ends_with(":streamGenerateContent?alt=sse"));
    }

    #[test]
    fn explicit_token_skips_the_exchange_and_bad_credentials_fail_before_any_request() {
        let host = FakeSigner::default();
        let mut t = Target {
            provider: "vertex_ai".into(),
            model: "gemini-2.0-flash".into(),
            ..Default::default()
        };
        t.extra
            .insert("vertex_access_token".into(), json!("ya29.given"));
        t.extra.insert("vertex_credentials".into(), sa_json());
        futures_executor::block_on(authorize(&host, "vertex_ai", &mut t)).unwrap();
        assert!(t.api_key.is_none());
        assert!(host.inner.requests.borrow().is_empty());

        let mut t = Target {
            provider: "vertex_ai".into(),
            model: "gemini-2.0-flash".into(),
            ..Default::default()
        };
        t.extra
            .insert("vertex_credentials".into(), json!("not json"));
        let e = futures_executor::block_on(authorize(&host, "vertex_ai", &mut t)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Authentication);
        assert_eq!(e.provider(), Some("vertex_ai"));
        assert!(host.inner.requests.borrow().is_empty());
    }

    #[test]
    fn token_exchange_failure_surfaces_as_authentication() {
        let host = FakeSigner::default();
        host.inner.push(Reply::json(
            400,
            &json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
        ));
        let mut t = Target {
            provider: "vertex_ai".into(),
            model: "gemini-2.0-flash".into(),
            ..Default::default()
        };
        t.extra.insert(
            "vertex_credentials".into(),
            sa_for("bad@test-project.iam.gserviceaccount.com"),
        );
        let e = futures_executor::block_on(authorize(&host, "vertex_ai", &mut t)).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Authentication);
        assert_eq!(e.code(), "invalid_grant");
        assert_eq!(e.model(), Some("gemini-2.0-flash"));
    }
}
