//! `moderation`: OpenAI's `/moderations` (model `omni-moderation-latest` by default).

use crate::host::{Env, Host};
use crate::options::CallOptions;
use crate::types::{ModerationRequest, ModerationResponse};
use crate::Result;

use super::{call_once, mock, Generation};

/// Classifies `req.input`, with retries. Without a model, `omni-moderation-latest` (which
/// resolves to OpenAI) is used; `openai/…` or another provider's prefix picks the provider.
pub async fn moderation<H: Host>(
    host: &H,
    env: &dyn Env,
    req: ModerationRequest,
    opts: CallOptions,
) -> Result<Generation<ModerationResponse>> {
    let start_ms = host.now_ms();
    let model = req.model_or_default().to_string();
    if let Some(m) = &opts.mock_response {
        return mock(m, &model, "moderation", start_ms, host.now_ms());
    }
    let build = |p: &dyn crate::provider::Provider, t: &_| p.moderation_request(&req, t);
    let sent = call_once(host, env, &model, &opts, start_ms, &build).await?;
    let response =
        sent.parse(|body| sent.provider.moderation_response(body, &req, &sent.target))?;
    let mut meta = sent.meta;
    meta.end_ms = host.now_ms();
    Ok(Generation { response, meta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::testing::{MockHost, Reply};
    use crate::ErrorKind;
    use futures_executor::block_on;
    use serde_json::json;

    #[test]
    fn default_model_goes_to_openai() {
        let host = MockHost::new().reply(Reply::json(
            200,
            &json!({"id": "modr-1", "model": "omni-moderation-2024-09-26",
                "results": [{"flagged": false, "categories": {}, "category_scores": {}}]}),
        ));
        let req: ModerationRequest = serde_json::from_value(json!({"input": "hi"})).unwrap();
        let opts = CallOptions {
            api_key: Some(crate::Secret::new("sk-test-1")),
            ..CallOptions::default()
        };
        let g = block_on(moderation(&host, &NoEnv, req, opts)).unwrap();
        assert!(!g.response.results[0].flagged);
        let sent = host.last_request().unwrap();
        assert_eq!(sent.url, "https://api.openai.com/v1/moderations");
        assert_eq!(
            sent.json_body().unwrap(),
            json!({"input": "hi", "model": "omni-moderation-latest"})
        );
    }

    #[test]
    fn rows_without_moderation_refuse() {
        let host = MockHost::new();
        let req: ModerationRequest =
            serde_json::from_value(json!({"input": "hi", "model": "openai_like/guard"})).unwrap();
        let opts = CallOptions {
            api_base: Some("http://127.0.0.1:1/v1".into()),
            ..CallOptions::default()
        };
        let e = block_on(moderation(&host, &NoEnv, req, opts)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadRequest);
        assert!(host.requests.borrow().is_empty());
    }
}
