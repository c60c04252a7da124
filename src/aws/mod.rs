//! AWS request signing for providers hosted on AWS (Bedrock).
//!
//! Only what the core needs: SigV4 header signing over the [`HttpRequest`](crate::http::HttpRequest)
//! data, with the time passed in. Credentials come from call options or the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); there is no profile,
//! instance-metadata or STS lookup (no I/O here).

mod sigv4;

pub use sigv4::{amz_date, sha256_hex, sign, Credentials};
