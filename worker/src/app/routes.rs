//! The route table: method + path → endpoint. OpenAI paths with and without `/v1`, the Azure
//! style `/openai/deployments/{model}/…` and LiteLLM's `/engines/{model}/…` (the model comes
//! from the path there), models, model info and LiteLLM's health probes.

/// An endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/completions` (legacy text completion).
    TextCompletion,
    /// `POST /v1/embeddings`.
    Embeddings,
    /// `POST /v1/images/generations`.
    Images,
    /// `POST /v1/moderations`.
    Moderations,
    /// `POST /v1/rerank` (Cohere's shape, as LiteLLM).
    Rerank,
    /// `GET /v1/models`.
    Models,
    /// `GET /v1/models/{model}`.
    Model(String),
    /// `GET /v1/model/info`.
    ModelInfo,
    /// `GET /health/liveliness` (and LiteLLM's `/health/liveness` spelling).
    Liveliness,
    /// `GET /health/readiness`.
    Readiness,
    /// `GET /`.
    Root,
}

impl Endpoint {
    /// Whether the endpoint answers without a key (LiteLLM's health probes are public).
    pub fn is_public(&self) -> bool {
        matches!(self, Self::Liveliness | Self::Readiness | Self::Root)
    }

    /// Whether the handler reads a request body.
    pub fn has_body(&self) -> bool {
        matches!(
            self,
            Self::Chat
                | Self::TextCompletion
                | Self::Embeddings
                | Self::Images
                | Self::Moderations
                | Self::Rerank
        )
    }

    /// The method the endpoint takes.
    pub fn method(&self) -> &'static str {
        if self.has_body() {
            "POST"
        } else {
            "GET"
        }
    }
}

/// What a path resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matched {
    /// The endpoint, and the model named in the path (Azure / engines style).
    Found(Endpoint, Option<String>),
    /// The path exists, but not for this method; carries the allowed method.
    WrongMethod(&'static str),
    /// No such path.
    NotFound,
}

fn operation(rest: &str) -> Option<Endpoint> {
    Some(match rest {
        "chat/completions" => Endpoint::Chat,
        "completions" => Endpoint::TextCompletion,
        "embeddings" => Endpoint::Embeddings,
        "images/generations" => Endpoint::Images,
        "moderations" => Endpoint::Moderations,
        "rerank" => Endpoint::Rerank,
        "models" => Endpoint::Models,
        "model/info" => Endpoint::ModelInfo,
        _ => return None,
    })
}

/// Decodes `%XX` escapes in a path segment (model names such as `openai%2Fgpt-4o`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `method path` (`path` without the query string).
///
/// ```ignore
/// assert_eq!(route("POST", "/v1/chat/completions"), Matched::Found(Endpoint::Chat, None));
/// ```
pub fn route(method: &str, path: &str) -> Matched {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        p => p,
    };
    let found = match path {
        "/" => Some((Endpoint::Root, None)),
        "/health/liveliness" | "/health/liveness" => Some((Endpoint::Liveliness, None)),
        "/health/readiness" => Some((Endpoint::Readiness, None)),
        _ => {
            let rest = path.strip_prefix('/').unwrap_or(path);
            let rest = rest.strip_prefix("v1/").unwrap_or(rest);
            if let Some(op) = operation(rest) {
                Some((op, None))
            } else if let Some(model) = rest.strip_prefix("models/") {
                (!model.is_empty()).then(|| (Endpoint::Model(percent_decode(model)), None))
            } else {
                let deployment = rest
                    .strip_prefix("openai/deployments/")
                    .or_else(|| rest.strip_prefix("engines/"));
                deployment.and_then(|d| {
                    let (model, op) = d.split_once('/')?;
                    let op = operation(op).filter(Endpoint::has_body)?;
                    (!model.is_empty()).then(|| (op, Some(percent_decode(model))))
                })
            }
        }
    };
    match found {
        None => Matched::NotFound,
        Some((ep, model)) if ep.method() == method => Matched::Found(ep, model),
        Some((ep, _)) => Matched::WrongMethod(ep.method()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_paths_with_and_without_v1() {
        for p in [
            "/v1/chat/completions",
            "/chat/completions",
            "/v1/chat/completions/",
        ] {
            assert_eq!(
                route("POST", p),
                Matched::Found(Endpoint::Chat, None),
                "{p}"
            );
        }
        assert_eq!(
            route("POST", "/v1/completions"),
            Matched::Found(Endpoint::TextCompletion, None)
        );
        assert_eq!(
            route("POST", "/embeddings"),
            Matched::Found(Endpoint::Embeddings, None)
        );
        assert_eq!(
            route("POST", "/v1/images/generations"),
            Matched::Found(Endpoint::Images, None)
        );
        assert_eq!(
            route("GET", "/v1/models"),
            Matched::Found(Endpoint::Models, None)
        );
        assert_eq!(
            route("GET", "/models"),
            Matched::Found(Endpoint::Models, None)
        );
        assert_eq!(
            route("GET", "/model/info"),
            Matched::Found(Endpoint::ModelInfo, None)
        );
        assert_eq!(
            route("GET", "/v1/model/info"),
            Matched::Found(Endpoint::ModelInfo, None)
        );
        assert_eq!(
            route("GET", "/v1/models/openai%2Fgpt-4o"),
            Matched::Found(Endpoint::Model("openai/gpt-4o".into()), None)
        );
    }

    #[test]
    fn azure_and_engines_paths_carry_the_model() {
        assert_eq!(
            route("POST", "/openai/deployments/my-gpt/chat/completions"),
            Matched::Found(Endpoint::Chat, Some("my-gpt".into()))
        );
        assert_eq!(
            route("POST", "/engines/e1/embeddings"),
            Matched::Found(Endpoint::Embeddings, Some("e1".into()))
        );
        assert_eq!(
            route("POST", "/openai/deployments/x/models"),
            Matched::NotFound
        );
        assert_eq!(
            route("POST", "/openai/deployments//chat/completions"),
            Matched::NotFound
        );
    }

    #[test]
    fn health_and_errors() {
        assert_eq!(
            route("GET", "/health/liveliness"),
            Matched::Found(Endpoint::Liveliness, None)
        );
        assert_eq!(
            route("GET", "/health/liveness"),
            Matched::Found(Endpoint::Liveliness, None)
        );
        assert_eq!(
            route("GET", "/health/readiness"),
            Matched::Found(Endpoint::Readiness, None)
        );
        assert_eq!(
            route("GET", "/v1/chat/completions"),
            Matched::WrongMethod("POST")
        );
        assert_eq!(route("DELETE", "/v1/models"), Matched::WrongMethod("GET"));
        assert_eq!(route("POST", "/v2/chat"), Matched::NotFound);
        assert_eq!(route("GET", "/"), Matched::Found(Endpoint::Root, None));
        assert_eq!(percent_decode("a%2fb%zz%4"), "a/b%zz%4");
    }
}
