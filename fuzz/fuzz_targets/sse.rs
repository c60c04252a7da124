//! SSE deframing: never panics, the frames do not depend on how the bytes are cut, and CR/LF
//! never leak into what a line end terminated.
#![no_main]

use edgellm::decode::Framing;
use edgellm_fuzz::split_invariant_frames;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for f in split_invariant_frames(Framing::Sse, data) {
        assert!(!f.data.contains('\r'), "CR inside data: {:?}", f.data);
        if let Some(e) = &f.event {
            assert!(!e.is_empty() && !e.contains(['\r', '\n']), "event {e:?}");
        }
    }
});
