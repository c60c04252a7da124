//! Request parsing (`options::parse_chat`) on arbitrary JSON: errors are fine, panics are not,
//! and whatever it accepts serializes back to JSON.
#![no_main]

use edgellm::options::parse_chat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok((req, _opts)) = parse_chat(value) {
        serde_json::to_vec(&req).expect("an accepted request serializes");
    }
});
