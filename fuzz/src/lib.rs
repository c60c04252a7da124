//! Helpers shared by the fuzz targets: deterministic ways to cut one input into pieces.
//!
//! Every input is deframed a bounded number of ways (four), so that a target stays cheap
//! enough for 10⁷ executions in a bounded run on a shared 2-core machine; across millions of
//! inputs the seeded cuts still cover every split position.

use edgellm::decode::{deframe, Frame, Framing};

/// FNV-1a: a seed that follows the input, so a crash reproduces from the input file alone.
pub fn seed_of(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next pseudo-random number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Ways to cut `data`: one piece, 1-byte pieces, two pieces at a seeded point, and one
/// seeded cut into up to 17 pieces.
pub fn splits(data: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = vec![vec![data], data.chunks(1).collect()];
    if data.len() < 2 {
        return out;
    }
    let mut rng = SplitMix(seed_of(data));
    let mut cut = || 1 + (rng.next_u64() % (data.len() as u64 - 1)) as usize;
    let mid = cut();
    out.push(vec![&data[..mid], &data[mid..]]);
    let n = 2 + mid % 15;
    let mut cuts: Vec<usize> = (0..n).map(|_| cut()).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts {
        pieces.push(&data[start..c]);
        start = c;
    }
    pieces.push(&data[start..]);
    out.push(pieces);
    out
}

/// Deframes `data` every way [`splits`] cuts it, asserts the frames never differ, returns them.
pub fn split_invariant_frames(framing: Framing, data: &[u8]) -> Vec<Frame> {
    let mut all = splits(data).into_iter();
    let whole = deframe(framing, all.next().expect("one piece")).expect("SSE/NDJSON never fail");
    for pieces in all {
        let sizes: Vec<usize> = pieces.iter().map(|p| p.len()).collect();
        let got = deframe(framing, pieces).expect("SSE/NDJSON never fail");
        assert_eq!(got, whole, "frames differ for piece sizes {sizes:?}");
    }
    whole
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cover_the_input_exactly() {
        let data: Vec<u8> = (0..200u8).collect();
        for pieces in splits(&data) {
            assert_eq!(pieces.concat(), data);
            assert!(pieces.iter().all(|p| !p.is_empty()));
        }
        assert_eq!(splits(&data).len(), 4);
        assert_eq!(splits(b"x").len(), 2);
    }
}
