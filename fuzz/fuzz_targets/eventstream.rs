//! AWS event-stream deframing (Bedrock): never panics, and the frames delivered before the
//! first error, and whether there is one, do not depend on how the bytes are cut.
#![no_main]

use edgellm::decode::{Deframer, Frame, Framing};
use edgellm_fuzz::splits;
use libfuzzer_sys::fuzz_target;

/// Frames up to the first error, and whether the stream failed.
fn run(pieces: &[&[u8]]) -> (Vec<Frame>, bool) {
    let mut d = Deframer::new(Framing::AwsEventStream);
    let mut out = Vec::new();
    for p in pieces {
        if d.push(p, &mut out).is_err() {
            return (out, true);
        }
    }
    let failed = d.finish(&mut out).is_err();
    (out, failed)
}

fuzz_target!(|data: &[u8]| {
    let mut all = splits(data).into_iter();
    let whole = run(&all.next().expect("one piece"));
    for pieces in all {
        let sizes: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
        assert_eq!(run(&pieces), whole, "piece sizes {sizes:?}");
    }
});
