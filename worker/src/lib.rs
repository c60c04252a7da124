//! placeholder, replaced by the gateway work
