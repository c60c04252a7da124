//! `image_generation`: one upstream request, OpenAI's `images` response back.

use crate::host::{Env, Host};
use crate::options::CallOptions;
use crate::types::{ImageRequest, ImageResponse};
use crate::Result;

use super::{call_once, mock, Generation};

/// Generates images for `req.prompt`, with retries.
///
/// Providers that only return bytes (Vertex Imagen, Bedrock) answer with `b64_json` whatever
/// `response_format` says: there is no URL to give. `created` is the provider's, else the
/// host clock's. For cost: the count is `response.data.len()`, size and quality are the
/// request's (`req.size`, `req.quality`), and gpt-image models report token `usage`.
pub async fn image_generation<H: Host>(
    host: &H,
    env: &dyn Env,
    req: ImageRequest,
    opts: CallOptions,
) -> Result<Generation<ImageResponse>> {
    let start_ms = host.now_ms();
    if let Some(m) = &opts.mock_response {
        return mock(m, &req.model, "image generation", start_ms, host.now_ms());
    }
    let build = |p: &dyn crate::provider::Provider, t: &_| p.image_generation_request(&req, t);
    let sent = call_once(host, env, &req.model, &opts, start_ms, &build).await?;
    let mut response = sent.parse(|body| {
        sent.provider
            .image_generation_response(body, &req, &sent.target)
    })?;
    let mut meta = sent.meta;
    if response.created == 0 {
        response.created = (start_ms / 1000) as i64;
    }
    meta.end_ms = host.now_ms();
    Ok(Generation { response, meta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::NoEnv;
    use crate::testing::{MockHost, Reply};
    use futures_executor::block_on;
    use serde_json::json;

    #[test]
    fn openai_images_round_trip() {
        let host = MockHost::new().reply(Reply::json(
            200,
            &json!({"data": [{"url": "https://img/1.png", "revised_prompt": "a fox, red"}]}),
        ));
        let mut req = ImageRequest::new("openai/dall-e-3", "a fox");
        req.size = Some("1024x1024".into());
        req.quality = Some("hd".into());
        let opts = CallOptions {
            api_key: Some(crate::Secret::new("sk-test-1")),
            ..CallOptions::default()
        };
        let g = block_on(image_generation(&host, &NoEnv, req, opts)).unwrap();
        assert_eq!(g.response.created, 1_700_000_000);
        assert_eq!(g.response.data[0].url.as_deref(), Some("https://img/1.png"));
        let sent = host.last_request().unwrap();
        assert_eq!(sent.url, "https://api.openai.com/v1/images/generations");
        assert_eq!(
            sent.json_body().unwrap(),
            json!({"model": "dall-e-3", "prompt": "a fox", "size": "1024x1024", "quality": "hd"})
        );
    }
}
