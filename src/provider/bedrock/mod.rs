//! AWS Bedrock through the Converse API (`bedrock/<modelId>`, `bedrock/converse/<modelId>`).
//!
//! API reference: <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>
//! and `ConverseStream`. Requests go to
//! `https://bedrock-runtime.{region}.amazonaws.com/model/{modelId}/converse` (or
//! `/converse-stream`, answered as an AWS event stream), with the model id percent-encoded.
//!
//! Settings, by LiteLLM's names (call option first, then environment):
//!
//! | what | option | environment |
//! | --- | --- | --- |
//! | region | `aws_region_name` | `AWS_REGION_NAME`, `AWS_REGION` (else the region of an ARN model id, else `us-west-2`, as LiteLLM) |
//! | access key | `aws_access_key_id` | `AWS_ACCESS_KEY_ID` |
//! | secret key | `aws_secret_access_key` | `AWS_SECRET_ACCESS_KEY` |
//! | session token | `aws_session_token` | `AWS_SESSION_TOKEN` |
//! | endpoint | `api_base`, then `aws_bedrock_runtime_endpoint` | `AWS_BEDROCK_RUNTIME_ENDPOINT` |
//! | Bedrock API key (Bearer, no SigV4) | `api_key` | `AWS_BEARER_TOKEN_BEDROCK` |
//!
//! Requests are signed with SigV4 (service `bedrock`) at the call's `Target::now_ms`.

pub mod embed;
pub mod image;
mod invoke;
mod request;
mod response;
mod stream;

pub use request::{
    base_model, converse_body, json_tool_name, supported_params, RESPONSE_FORMAT_TOOL,
};
pub use response::{classify, finish_reason, parse_converse, parse_error, usage_from};
pub use stream::ConverseStream;

use super::{Capabilities, Provider, ProviderInfo, StreamDecoder, Target};
use crate::aws::{sign, Credentials};
use crate::decode::Framing;
use crate::http::{Headers, HttpRequest};
use crate::options::Secret;
use crate::types::{ChatRequest, ChatResponse};
use crate::{Error, ErrorKind, Result};

/// The Bedrock provider (registry row `Entry::Native(&Bedrock)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Bedrock;

/// Region used when none is configured (LiteLLM's default).
pub const DEFAULT_REGION: &str = "us-west-2";

static INFO: ProviderInfo = ProviderInfo {
    id: "bedrock",
    name: "AWS Bedrock",
    default_base: "",
    env: &[
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION_NAME",
        "AWS_REGION",
        "AWS_BEDROCK_RUNTIME_ENDPOINT",
        "AWS_BEARER_TOKEN_BEDROCK",
    ],
    auth: "SigV4",
    caps: Capabilities {
        vision: true,
        embeddings: true,
        images: true,
        ..super::openai_compat::DEFAULT.info.caps
    },
};

/// Percent-encodes a model id for the URL path (everything but RFC 3986 unreserved characters,
/// so `:` and the `/` of ARNs are escaped).
///
/// ```
/// assert_eq!(edgellm::provider::bedrock::encode_model_id("anthropic.claude-3-5-sonnet-20240620-v1:0"),
///            "anthropic.claude-3-5-sonnet-20240620-v1%3A0");
/// ```
pub fn encode_model_id(model: &str) -> String {
    let mut out = String::with_capacity(model.len());
    for b in model.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The region for a call: the `aws_region_name` option, the region inside an ARN model id,
/// `AWS_REGION_NAME`, `AWS_REGION`, else [`DEFAULT_REGION`].
pub fn region(target: &Target) -> String {
    let from_arn = target
        .model
        .strip_prefix("arn:")
        .and_then(|a| a.split(':').nth(2))
        .filter(|r| !r.is_empty());
    target
        .setting("aws_region_name")
        .or(from_arn)
        .or_else(|| target.setting("AWS_REGION_NAME"))
        .or_else(|| target.setting("AWS_REGION"))
        .unwrap_or(DEFAULT_REGION)
        .to_string()
}

/// The runtime endpoint base: `api_base` from the call, `aws_bedrock_runtime_endpoint`,
/// `AWS_BEDROCK_RUNTIME_ENDPOINT`, else the regional endpoint (LiteLLM's order).
pub fn endpoint(target: &Target) -> String {
    target
        .api_base
        .as_deref()
        .or_else(|| target.setting("aws_bedrock_runtime_endpoint"))
        .or_else(|| target.setting("AWS_BEDROCK_RUNTIME_ENDPOINT"))
        .map(|b| b.trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://bedrock-runtime.{}.amazonaws.com", region(target)))
}

fn credentials(target: &Target) -> Result<Credentials> {
    let get = |opt: &str, env: &str| target.setting(opt).or_else(|| target.setting(env));
    match (
        get("aws_access_key_id", "AWS_ACCESS_KEY_ID"),
        get("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Ok(Credentials {
            access_key_id: id.to_string(),
            secret_access_key: Secret::new(secret),
            session_token: get("aws_session_token", "AWS_SESSION_TOKEN").map(Secret::new),
        }),
        _ => Err(Error::new(
            ErrorKind::Authentication,
            "missing AWS credentials for Bedrock: pass `aws_access_key_id` and `aws_secret_access_key` (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a Bedrock API key as `api_key` / AWS_BEARER_TOKEN_BEDROCK",
        )
        .with_provider("bedrock")
        .with_model(target.model.clone())),
    }
}

/// A stable response id: Converse returns none, and the core has no randomness, so it is a
/// hash of the request and the call time (FNV-1a).
fn response_id(req: &ChatRequest, target: &Target) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = serde_json::to_vec(req).unwrap_or_default();
    for b in bytes.iter().chain(target.now_ms.to_be_bytes().iter()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("chatcmpl-{h:016x}")
}

fn created(target: &Target) -> i64 {
    (target.now_ms / 1000) as i64
}

impl Provider for Bedrock {
    fn info(&self) -> &ProviderInfo {
        &INFO
    }

    fn supported_params(&self, model: &str) -> Vec<&'static str> {
        supported_params(model)
    }

    fn prepare(&self, target: &mut Target) -> Result<()> {
        if let Some(rest) = target.model.strip_prefix("converse/") {
            target.model = rest.to_string();
        } else if target.model.starts_with("invoke/") {
            return Err(Error::bad_request(format!(
                "bedrock/{}: the InvokeModel route is not supported; use bedrock/converse/<modelId>",
                target.model
            ))
            .with_param("model"));
        }
        // `target_for` takes any `*_KEY`/`*_TOKEN` variable as the API key and any `*_ENDPOINT`
        // as the base; for AWS those are SigV4 material and the endpoint setting, which are
        // read by name below. Only a real Bedrock API key stays an API key.
        let env = |t: &Target, n: &str| t.setting(n).map(str::to_string);
        let (secret, token) = (
            env(target, "AWS_SECRET_ACCESS_KEY"),
            env(target, "AWS_SESSION_TOKEN"),
        );
        if let Some(k) = target.api_key.as_ref().map(|k| k.expose().to_string()) {
            if Some(&k) == secret.as_ref() || Some(&k) == token.as_ref() {
                target.api_key = None;
            }
        }
        if target.api_key.is_none() {
            target.api_key = env(target, "AWS_BEARER_TOKEN_BEDROCK").map(Secret::new);
        }
        if target.api_base.is_some()
            && target.api_base == env(target, "AWS_BEDROCK_RUNTIME_ENDPOINT")
        {
            target.api_base = None;
        }
        Ok(())
    }

    fn chat_request(&self, req: &ChatRequest, target: &Target) -> Result<HttpRequest> {
        let body = converse_body(req, target)?;
        let op = if req.is_stream() {
            "converse-stream"
        } else {
            "converse"
        };
        let url = format!(
            "{}/model/{}/{op}",
            endpoint(target),
            encode_model_id(&target.model)
        );
        let mut http = HttpRequest::post_json(url, &body);
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

    fn chat_response(
        &self,
        body: &[u8],
        req: &ChatRequest,
        target: &Target,
    ) -> Result<ChatResponse> {
        parse_converse(
            body,
            json_tool_name(req).as_deref(),
            &response_id(req, target),
            &target.model,
            created(target),
        )
    }

    fn stream_framing(&self) -> Framing {
        Framing::AwsEventStream
    }

    fn stream_decoder(&self, req: &ChatRequest, target: &Target) -> Box<dyn StreamDecoder> {
        Box::new(ConverseStream::new(
            response_id(req, target),
            target.model.clone(),
            created(target),
            json_tool_name(req),
        ))
    }

    fn error(&self, status: u16, headers: &Headers, body: &[u8]) -> Error {
        parse_error(status, headers, body)
    }

    fn embedding_batch_size(
        &self,
        _req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Option<usize> {
        Some(embed::batch_size(&target.model))
    }

    fn embedding_request(
        &self,
        req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        embed::request(req, target)
    }

    fn input_tokens_from_headers(&self, headers: &Headers) -> Option<u64> {
        embed::input_tokens_from_headers(headers)
    }

    fn embedding_response(
        &self,
        body: &[u8],
        _req: &crate::types::EmbeddingRequest,
        target: &Target,
    ) -> Result<crate::types::EmbeddingResponse> {
        embed::response(body, target)
    }

    fn image_generation_request(
        &self,
        req: &crate::types::ImageRequest,
        target: &Target,
    ) -> Result<HttpRequest> {
        image::request(req, target)
    }

    fn image_generation_response(
        &self,
        body: &[u8],
        _req: &crate::types::ImageRequest,
        target: &Target,
    ) -> Result<crate::types::ImageResponse> {
        image::response(body, target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::header;
    use serde_json::{Map, Value};

    fn target(extra: &[(&str, &str)]) -> Target {
        let mut m = Map::new();
        for (k, v) in extra {
            m.insert((*k).into(), Value::String((*v).into()));
        }
        Target {
            provider: "bedrock".into(),
            model: "converse/anthropic.claude-3-5-sonnet-20240620-v1:0".into(),
            extra: m,
            now_ms: 1_440_938_160_000,
            ..Default::default()
        }
    }

    #[test]
    fn url_region_signing_and_stream_path() {
        let mut t = target(&[
            ("aws_region_name", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            ),
        ]);
        t.api_key = Some(Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
        Bedrock.prepare(&mut t).unwrap();
        assert!(t.api_key.is_none());
        let mut req = ChatRequest::user("bedrock/x", "Hi");
        let http = Bedrock.chat_request(&req, &t).unwrap();
        assert_eq!(
            http.url,
            "https://bedrock-runtime.eu-central-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
        );
        let auth = header(&http.headers, "authorization").unwrap();
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-central-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
        ));
        req.stream = Some(true);
        assert!(Bedrock
            .chat_request(&req, &t)
            .unwrap()
            .url
            .ends_with("/converse-stream"));
    }

    #[test]
    fn bearer_key_endpoint_override_and_missing_credentials() {
        let mut t = target(&[
            ("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-test"),
            (
                "aws_bedrock_runtime_endpoint",
                "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com/",
            ),
        ]);
        Bedrock.prepare(&mut t).unwrap();
        let http = Bedrock
            .chat_request(&ChatRequest::user("bedrock/x", "Hi"), &t)
            .unwrap();
        assert!(http
            .url
            .starts_with("https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com/model/"));
        assert_eq!(
            header(&http.headers, "authorization"),
            Some("Bearer bedrock-api-key-test")
        );
        let mut t = target(&[]);
        Bedrock.prepare(&mut t).unwrap();
        let e = Bedrock
            .chat_request(&ChatRequest::user("bedrock/x", "Hi"), &t)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Authentication);
    }

    #[test]
    fn arn_region_and_invoke_route() {
        let t = Target {
            model: "arn:aws:bedrock:ap-south-1:123456789012:inference-profile/apac.anthropic.claude-3-haiku-20240307-v1:0".into(),
            ..Default::default()
        };
        assert_eq!(region(&t), "ap-south-1");
        assert!(encode_model_id(&t.model).contains("%2Fapac.anthropic"));
        let mut t = target(&[]);
        t.model = "invoke/anthropic.claude-v2".into();
        assert!(Bedrock.prepare(&mut t).is_err());
    }
}
