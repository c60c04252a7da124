//! Costs of the non-chat endpoints, from the price table in [`crate::cost`]:
//! embeddings and text completions by token usage, images per image by size and quality
//! (LiteLLM's `{quality}/{W}-x-{H}/{model}` keys), falling back to gpt-image token usage.

use crate::cost::{call_cost, image_cost, Usd};
use crate::options::CallOptions;
use crate::types::{EmbeddingResponse, ImageRequest, ImageResponse, TextCompletionResponse, Usage};

use super::Generation;

/// Cost of an embeddings call (input tokens at the model's embedding price).
///
/// ```
/// use edgellm::{modality, types::*, engine::CallMeta};
/// let g = modality::Generation {
///     response: EmbeddingResponse::from_vectors("text-embedding-3-small", vec![vec![0.1]], 1_000_000),
///     meta: CallMeta { provider: "openai".into(), model: "text-embedding-3-small".into(), ..Default::default() },
/// };
/// // $0.02 per 1M tokens.
/// assert_eq!(modality::embedding_cost(&g, &Default::default()).unwrap().to_f64(), 0.02);
/// ```
pub fn embedding_cost(g: &Generation<EmbeddingResponse>, opts: &CallOptions) -> Option<Usd> {
    call_cost(
        &g.meta,
        Some(&g.response.model),
        Some(&g.response.usage),
        opts,
    )
}

/// Cost of a text completion (native or through chat).
pub fn text_completion_cost(
    g: &Generation<TextCompletionResponse>,
    opts: &CallOptions,
) -> Option<Usd> {
    call_cost(
        &g.meta,
        Some(&g.response.model),
        g.response.usage.as_ref(),
        opts,
    )
}

/// Cost of an image generation: the per-image price for the request's size and quality times
/// the images returned; else, for models billed by tokens (gpt-image), the reported usage.
pub fn image_generation_cost(
    g: &Generation<ImageResponse>,
    req: &ImageRequest,
    opts: &CallOptions,
) -> Option<Usd> {
    let provider = Some(g.meta.provider.as_str()).filter(|p| !p.is_empty() && *p != "mock");
    let size = req.size.as_deref().filter(|s| *s != "auto");
    let quality = req.quality.as_deref().filter(|q| *q != "auto");
    let n = g.response.data.len() as u64;
    if let Ok(usd) = image_cost(&g.meta.model, provider, size, quality, n) {
        return Some(usd);
    }
    let u = g.response.usage.as_ref()?;
    let usage = Usage::new(u.input_tokens, u.output_tokens);
    call_cost(&g.meta, None, Some(&usage), opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::CallMeta;
    use crate::types::ImageUsage;

    fn meta(model: &str) -> CallMeta {
        CallMeta {
            provider: "openai".into(),
            model: model.into(),
            ..CallMeta::default()
        }
    }

    #[test]
    fn images_by_size_and_quality_then_tokens() {
        let mut req = ImageRequest::new("openai/dall-e-3", "p");
        req.size = Some("1024x1792".into());
        req.quality = Some("hd".into());
        let g = Generation {
            response: ImageResponse::from_base64(0, vec!["a".into(), "b".into()]),
            meta: meta("dall-e-3"),
        };
        assert_eq!(
            image_generation_cost(&g, &req, &CallOptions::default())
                .unwrap()
                .to_f64(),
            0.24
        );
        // No per-image price for this size: the token usage is priced instead.
        let mut g = Generation {
            response: ImageResponse::from_base64(0, vec!["a".into()]),
            meta: meta("gpt-image-1"),
        };
        req.size = Some("2048x2048".into());
        req.quality = None;
        assert!(image_generation_cost(&g, &req, &CallOptions::default()).is_none());
        g.response.usage = Some(ImageUsage {
            input_tokens: 1_000_000,
            output_tokens: 0,
            total_tokens: 1_000_000,
            ..ImageUsage::default()
        });
        assert_eq!(
            image_generation_cost(&g, &req, &CallOptions::default())
                .unwrap()
                .to_f64(),
            5.0
        );
    }
}
