//! NDJSON deframing: never panics, split-invariant, and every frame is one trimmed, non-blank
//! line.
#![no_main]

use edgellm::decode::Framing;
use edgellm_fuzz::split_invariant_frames;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for f in split_invariant_frames(Framing::Ndjson, data) {
        assert!(f.event.is_none());
        assert!(!f.data.is_empty());
        assert!(!f.data.contains('\n'), "LF inside a line: {:?}", f.data);
        let ws = |c: char| matches!(c, ' ' | '\t' | '\r');
        assert!(
            !f.data.starts_with(ws) && !f.data.ends_with(ws),
            "untrimmed {:?}",
            f.data
        );
    }
});
