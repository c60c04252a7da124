//! The most a request can cost, reserved before the call ([`edgellm::budget::worst_case_cost`]
//! over every deployment the router may use for it: the requested group and its fallbacks, at
//! each deployment's own prices).

use serde_json::{Map, Value};

use edgellm::budget::worst_case_cost;
use edgellm::cost::{price_for, ModelPrice, PriceOverrides, Usd};
use edgellm::types::ChatRequest;

use crate::app::routes::Endpoint;
use crate::app::Gateway;

/// Price keys a deployment can set in `litellm_params` or `model_info`.
const PRICE_KEYS: [&str; 4] = [
    "input_cost_per_token",
    "output_cost_per_token",
    "input_cost_per_second",
    "output_cost_per_second",
];

/// The price entry a deployment is billed at: `litellm_params` prices over `model_info`
/// prices over the table's entry for `base_model` or the deployment's model (what
/// `cost::call_cost` will use after the call).
pub fn deployment_price(d: &edgellm::config::Deployment) -> Option<ModelPrice> {
    let mut prices = Map::new();
    for k in PRICE_KEYS {
        if let Some(v) = d.litellm_params.get(k).or_else(|| d.model_info.get(k)) {
            prices.insert(k.into(), v.clone());
        }
    }
    let overrides = PriceOverrides::from_map(&prices).unwrap_or_default();
    let base = d
        .litellm_params
        .get("base_model")
        .or_else(|| d.model_info.get("base_model"))
        .and_then(Value::as_str);
    base.into_iter()
        .chain(std::iter::once(d.model()))
        .find_map(|m| price_for(m, None, &overrides))
}

/// What the request sends, as text: every byte may be a token.
fn prompt_text(endpoint: &Endpoint, body: &Map<String, Value>) -> String {
    let field = match endpoint {
        Endpoint::Chat => "messages",
        Endpoint::TextCompletion => "prompt",
        Endpoint::Embeddings | Endpoint::Moderations => "input",
        Endpoint::Rerank => "documents",
        _ => "prompt",
    };
    let mut text = body.get(field).map(Value::to_string).unwrap_or_default();
    if let Some(q) = body.get("query") {
        text.push_str(&q.to_string());
    }
    for extra in ["tools", "functions", "response_format", "suffix"] {
        if let Some(v) = body.get(extra) {
            text.push_str(&v.to_string());
        }
    }
    text
}

/// The output limit a request sets (`max_completion_tokens`, else `max_tokens`).
fn output_limit(body: &Map<String, Value>) -> Option<u64> {
    ["max_completion_tokens", "max_tokens"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_u64))
}

/// The worst-case cost of `body` on `endpoint` for the model it names. Zero when no
/// deployment it may reach has a price (nothing will be charged either) or for endpoints the
/// gateway does not price (images, moderations, rerank).
///
/// Without `max_tokens` the model's maximum output is used, so a key with a small budget needs
/// `max_tokens` to be admitted at all: the price of an exact cap.
pub fn worst_case(
    gw: &Gateway,
    endpoint: &Endpoint,
    model: &str,
    body: &Map<String, Value>,
) -> Usd {
    let priced = matches!(
        endpoint,
        Endpoint::Chat | Endpoint::TextCompletion | Endpoint::Embeddings
    );
    if !priced {
        return Usd::ZERO;
    }
    let cfg = gw.config();
    let mut groups = vec![model.to_string()];
    let mut i = 0;
    while i < groups.len() && groups.len() < 32 {
        let g = cfg
            .resolve_model(&groups[i])
            .map(|r| r.model_group)
            .unwrap_or_else(|| groups[i].clone());
        let mut next = cfg.fallbacks_for(&g);
        next.extend(cfg.context_window_fallbacks_for(&g));
        next.extend(cfg.content_policy_fallbacks_for(&g));
        for n in next {
            if !groups.contains(&n) {
                groups.push(n);
            }
        }
        i += 1;
    }
    let text = prompt_text(endpoint, body);
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1).max(1);
    let mut worst = Usd::ZERO;
    for g in &groups {
        let Some(route) = cfg.resolve_model(g) else {
            continue;
        };
        for d in route.deployments {
            let Some(price) = deployment_price(d) else {
                continue;
            };
            let mut req = ChatRequest::user(model, text.clone());
            let out = if *endpoint == Endpoint::Embeddings {
                0
            } else {
                output_limit(body).or(price.max_output_tokens).unwrap_or(0)
            };
            req.max_tokens = Some(u32::try_from(out.saturating_mul(n)).unwrap_or(u32::MAX));
            worst = worst.max(worst_case_cost(&price, &req));
        }
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gateway() -> Gateway {
        let cfg = r#"{
          "model_list": [
            {"model_name": "cheap", "litellm_params": {"model": "openai/x-cheap", "api_key": "k",
              "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}},
            {"model_name": "dear", "litellm_params": {"model": "openai/x-dear", "api_key": "k"},
              "model_info": {"input_cost_per_token": 0.00001, "output_cost_per_token": 0.00002}},
            {"model_name": "free", "litellm_params": {"model": "openai/my-unpriced-model", "api_key": "k"}}
          ],
          "router_settings": {"fallbacks": [{"cheap": ["dear"]}]}
        }"#;
        Gateway::load(cfg, "test", &std::collections::HashMap::new()).unwrap()
    }

    #[test]
    fn worst_case_covers_fallbacks_and_uses_deployment_prices() {
        let gw = gateway();
        let body = json!({"model": "dear", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10});
        let body = body.as_object().unwrap();
        let bytes = json!([{"role": "user", "content": "hi"}]).to_string();
        // ChatRequest::user wraps the text as one more message: at least the text's bytes.
        let dear = worst_case(&gw, &Endpoint::Chat, "dear", body);
        assert!(
            dear >= Usd::from_pico(10_000_000).times(bytes.len() as u64)
                + Usd::from_pico(20_000_000).times(10)
        );
        // `cheap` falls back to `dear`, so it reserves dear's worst case.
        assert_eq!(worst_case(&gw, &Endpoint::Chat, "cheap", body), dear);
        let mut two = body.clone();
        two.insert("n".into(), json!(2));
        assert!(worst_case(&gw, &Endpoint::Chat, "dear", &two) > dear);
        assert_eq!(worst_case(&gw, &Endpoint::Chat, "free", body), Usd::ZERO);
        assert_eq!(worst_case(&gw, &Endpoint::Images, "dear", body), Usd::ZERO);
        let emb = json!({"model": "dear", "input": "hello"});
        let e = worst_case(&gw, &Endpoint::Embeddings, "dear", emb.as_object().unwrap());
        assert!(e > Usd::ZERO && e < dear);
    }
}
