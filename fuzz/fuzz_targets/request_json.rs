//! Request parsing on arbitrary JSON, for every endpoint the gateway serves
//! (`options::parse_chat` and the `modality::parse_*` functions): errors are fine, panics are
//! not; a refusal is always the client's fault (a 4xx status, so the gateway never answers bad
//! input with a 5xx); whatever is accepted serializes back.
#![no_main]

use edgellm::modality;
use edgellm::options::parse_chat;
use edgellm::Result;
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde_json::Value;

fn check<R: Serialize, O>(what: &str, parsed: Result<(R, O)>) {
    match parsed {
        Ok((req, _opts)) => {
            serde_json::to_vec(&req).expect("an accepted request serializes");
        }
        Err(e) => {
            let status = e.kind().http_status();
            assert!(
                (400..500).contains(&status),
                "{what}: input refused with {status} ({:?}): {}",
                e.kind(),
                e.message()
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    check("chat", parse_chat(value.clone()));
    check("embedding", modality::parse_embedding(value.clone()));
    check("image", modality::parse_image_generation(value.clone()));
    check("text", modality::parse_text_completion(value.clone()));
    check("moderation", modality::parse_moderation(value.clone()));
    check("rerank", modality::parse_rerank(value));
});
