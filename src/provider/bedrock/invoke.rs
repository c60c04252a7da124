//! `InvokeModel` (`POST {endpoint}/model/{modelId}/invoke`): the route of Bedrock's
//! embedding and image models, which Converse does not serve. Same endpoint, credentials
//! and signing as Converse; the body is the model family's own JSON.
//!
//! API reference: <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html>.

use serde_json::Value;

use super::{credentials, encode_model_id, endpoint, region};
use crate::aws::sign;
use crate::http::HttpRequest;
use crate::provider::Target;
use crate::Result;

/// A signed (or Bedrock-API-key) `InvokeModel` request carrying `body`.
pub fn request(target: &Target, body: &Value) -> Result<HttpRequest> {
    let url = format!(
        "{}/model/{}/invoke",
        endpoint(target),
        encode_model_id(&target.model)
    );
    let mut http = HttpRequest::post_json(url, body);
    http.set_header("accept", "application/json");
    for (k, v) in &target.headers {
        http.set_header(k, v.clone());
    }
    match target.api_key.as_ref().filter(|k| !k.expose().is_empty()) {
        Some(key) => http.set_header("authorization", format!("Bearer {}", key.expose())),
        None => sign(
            &mut http,
            &credentials(target)?,
            &region(target),
            "bedrock",
            target.now_ms,
        )?,
    }
    Ok(http)
}
