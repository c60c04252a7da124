//! A deterministic in-memory [`Host`] for tests and examples: canned responses, recorded
//! requests, a fake clock that `sleep` advances, and seeded randomness.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use crate::host::Host;
use crate::http::{Headers, HttpRequest, HttpResponse};
use crate::{Error, ErrorKind, Result};

/// One canned reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A response with status, headers and body delivered in the given pieces.
    Response {
        /// Status.
        status: u16,
        /// Headers.
        headers: Headers,
        /// Body pieces (a stream is split here to exercise incremental decoding).
        pieces: Vec<Vec<u8>>,
    },
    /// A transport failure (connection refused, timeout, …).
    Fail(Error),
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Reply::Response {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            pieces: vec![serde_json::to_vec(body).expect("serializable")],
        }
    }
    /// A body with headers, split into `pieces` of at most `piece` bytes.
    pub fn bytes(status: u16, headers: Headers, body: &[u8], piece: usize) -> Self {
        Reply::Response {
            status,
            headers,
            pieces: body.chunks(piece.max(1)).map(<[u8]>::to_vec).collect(),
        }
    }
    /// A connection error.
    pub fn connection_error() -> Self {
        Reply::Fail(Error::new(ErrorKind::Connection, "connection refused"))
    }
}

/// The mock host.
#[derive(Debug)]
pub struct MockHost {
    replies: RefCell<VecDeque<Reply>>,
    /// Every request sent, in order.
    pub requests: RefCell<Vec<HttpRequest>>,
    /// Every sleep, in ms.
    pub sleeps: RefCell<Vec<u64>>,
    now: Cell<u64>,
    seed: Cell<u64>,
}

impl Default for MockHost {
    fn default() -> Self {
        Self::new()
    }
}

impl MockHost {
    /// A host at time 1_700_000_000_000 ms with no replies queued.
    pub fn new() -> Self {
        Self {
            replies: RefCell::new(VecDeque::new()),
            requests: RefCell::new(Vec::new()),
            sleeps: RefCell::new(Vec::new()),
            now: Cell::new(1_700_000_000_000),
            seed: Cell::new(0x2545_F491_4F6C_DD1D),
        }
    }
    /// Queues a reply.
    pub fn reply(self, r: Reply) -> Self {
        self.replies.borrow_mut().push_back(r);
        self
    }
    /// Queues a reply on a shared host.
    pub fn push(&self, r: Reply) {
        self.replies.borrow_mut().push_back(r);
    }
    /// Moves the clock.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }
    /// The last request sent.
    pub fn last_request(&self) -> Option<HttpRequest> {
        self.requests.borrow().last().cloned()
    }
}

impl Host for MockHost {
    async fn send(&self, req: HttpRequest, _timeout_ms: Option<u64>) -> Result<HttpResponse> {
        self.requests.borrow_mut().push(req);
        match self.replies.borrow_mut().pop_front() {
            Some(Reply::Response {
                status,
                headers,
                pieces,
            }) => Ok(HttpResponse::new(
                status,
                headers,
                Box::pin(futures_util::stream::iter(pieces.into_iter().map(Ok))),
            )),
            Some(Reply::Fail(e)) => Err(e),
            None => Err(Error::new(
                ErrorKind::Connection,
                "MockHost: no reply queued",
            )),
        }
    }

    async fn sleep(&self, ms: u64) {
        self.sleeps.borrow_mut().push(ms);
        self.advance(ms);
    }

    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    fn random(&self) -> f64 {
        // xorshift64*: deterministic, good enough for jitter in tests.
        let mut x = self.seed.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.seed.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}
