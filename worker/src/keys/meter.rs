//! How the endpoint handlers report what a call cost, for spend tracking: a shared slot on the
//! [`Reply`](crate::app::Reply) that is filled at once for complete responses and when the
//! stream ends for streamed ones (from the usage the provider reported in the stream).

use std::cell::RefCell;
use std::rc::Rc;

use edgellm::cost::{self, Usd};
use edgellm::engine::CallMeta;
use edgellm::router::RouteInfo;
use edgellm::types::Usage;
use edgellm::{CallOptions, Error};

/// What a finished call reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metered {
    /// Its cost at the answering deployment's prices; `None` when the model has no price.
    pub cost: Option<Usd>,
    /// Its usage as the provider reported it (complete responses: read from the body).
    pub usage: Option<Usage>,
}

/// The state of a call's reading.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Reading {
    /// Not finished (a stream still running, or dropped before its end).
    #[default]
    Pending,
    /// Finished.
    Done(Metered),
    /// A stream that ended with an error after its first chunk.
    Failed(String),
}

/// Where the call went: the facts for the spend log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routed {
    /// The model group that answered.
    pub model_group: String,
    /// `model_info.id` of the deployment.
    pub deployment_id: String,
    /// Its `litellm_params.model`.
    pub deployment_model: String,
    /// Its `api_base`, if any.
    pub api_base: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    routed: Routed,
    reading: Reading,
}

/// The shared slot (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Meter(Rc<RefCell<Inner>>);

impl Meter {
    fn new(route: &RouteInfo, api_base: Option<&str>, reading: Reading) -> Self {
        Meter(Rc::new(RefCell::new(Inner {
            routed: Routed {
                model_group: route.model_group.clone(),
                deployment_id: route.deployment_id.clone(),
                deployment_model: route.deployment_model.clone(),
                api_base: route.api_base.clone().or(api_base.map(String::from)),
            },
            reading,
        })))
    }

    /// A complete response that cost `cost` (usage is read from its body).
    pub fn finished(route: &RouteInfo, meta: &CallMeta, cost: Option<Usd>) -> Self {
        Self::new(
            route,
            meta.api_base.as_deref(),
            Reading::Done(Metered { cost, usage: None }),
        )
    }

    /// A stream: filled by the hook [`Meter::on_stream_end`] returns.
    pub fn pending(route: &RouteInfo, meta: &CallMeta) -> Self {
        Self::new(route, meta.api_base.as_deref(), Reading::Pending)
    }

    /// The hook for `RouterStream::on_end` / `ChatStream::on_end`: prices the final usage at
    /// the deployment's prices (`opts`).
    pub fn on_stream_end(
        &self,
        meta: CallMeta,
        opts: CallOptions,
    ) -> impl FnOnce(Result<Option<Usage>, &Error>) + 'static {
        let this = self.clone();
        move |end| {
            let reading = match end {
                Ok(usage) => Reading::Done(Metered {
                    cost: cost::stream_cost(&meta, usage.as_ref(), &opts),
                    usage,
                }),
                Err(e) => Reading::Failed(e.message().to_string()),
            };
            this.0.borrow_mut().reading = reading;
        }
    }

    /// The reading now.
    pub fn reading(&self) -> Reading {
        self.0.borrow().reading.clone()
    }

    /// Where the call went.
    pub fn routed(&self) -> Routed {
        self.0.borrow().routed.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_meter_fills_at_the_end() {
        let route = RouteInfo {
            model_group: "gpt".into(),
            deployment_id: "d1".into(),
            deployment_model: "openai/gpt-4o".into(),
            ..Default::default()
        };
        let meta = CallMeta {
            provider: "openai".into(),
            model: "gpt-4o".into(),
            api_base: Some("http://x/v1".into()),
            attempts: 1,
            start_ms: 0,
            end_ms: 0,
        };
        let m = Meter::pending(&route, &meta);
        assert_eq!(m.reading(), Reading::Pending);
        assert_eq!(m.routed().api_base.as_deref(), Some("http://x/v1"));
        let hook = m.on_stream_end(meta, CallOptions::default());
        hook(Ok(Some(Usage::new(1000, 500))));
        let Reading::Done(done) = m.reading() else {
            panic!()
        };
        // gpt-4o: $2.50 / $10 per 1M tokens.
        assert_eq!(
            done.cost.unwrap().pico(),
            1000 * 2_500_000 + 500 * 10_000_000
        );
        assert_eq!(done.usage.unwrap().completion_tokens, 500);
    }
}
