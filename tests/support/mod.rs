//! Helpers shared by the integration-test harnesses (each `tests/*.rs` is its own crate and
//! includes this module with `mod support;`).

// Each harness uses a different subset of the helpers.
#![allow(dead_code)]

pub mod fixture;
