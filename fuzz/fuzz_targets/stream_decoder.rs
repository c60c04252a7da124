//! The OpenAI stream decoder over arbitrary frames (the SSE frames of the input), then the
//! accumulator over the chunks it produced: errors are fine, panics are not.
#![no_main]

use edgellm::accumulate::Accumulator;
use edgellm::decode::{deframe, Framing};
use edgellm::provider::openai_compat::OpenAiStream;
use edgellm::provider::StreamDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let frames = deframe(Framing::Sse, [data]).expect("SSE never fails");
    let mut decoder = OpenAiStream::default();
    let mut chunks = Vec::new();
    let mut failed = false;
    for f in &frames {
        if decoder.on_frame(f, &mut chunks).is_err() {
            failed = true;
            break;
        }
    }
    if !failed {
        let _ = decoder.finish(&mut chunks);
    }
    let mut acc = Accumulator::new();
    for c in &chunks {
        acc.push(c);
    }
    let resp = acc.finish();
    serde_json::to_vec(&resp).expect("an accumulated response serializes");
});
