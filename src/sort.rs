//! Stable sorting through one shared instantiation of the standard library's sort.
//!
//! `slice::sort_by` is generic over the element and the comparator, and each instantiation of
//! its driftsort is ~4 KB of wasm; a handful of call sites sorting choices, tool calls,
//! embeddings and header pairs paid for one each. [`sort_by`] sorts the positions `0..len` with
//! a comparator behind `&dyn Fn` (one instantiation for the whole crate) and then swaps the
//! elements into that order (non-generic too, through a `&mut dyn FnMut` swap), so the per-type
//! code left is the comparator and the swap.

use std::cmp::Ordering;

/// Sorts `v` by `cmp` exactly like `v.sort_by(cmp)`: stable, so equal elements keep their order
/// (`[(2, a), (1, b), (2, c)]` by the number → `[(1, b), (2, a), (2, c)]`).
pub(crate) fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let order = positions(v.len(), &|a, b| cmp(&v[a], &v[b]));
    permute(order, &mut |a, b| v.swap(a, b));
}

/// Moves the element at `order[k]` to `k`, for every `k`, by `swap`s along each cycle of the
/// permutation. Not generic: moving the elements through a `Vec<Option<T>>` instead was a
/// collect and an extend per element type (0.65 KB of the gzipped package for six types).
fn permute(mut order: Vec<usize>, swap: &mut dyn FnMut(usize, usize)) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut k = start;
        while order[k] != DONE {
            let from = std::mem::replace(&mut order[k], DONE);
            if from == start {
                break;
            }
            // `k` gets its element; the one it had moves on along the cycle to `from`.
            swap(k, from);
            k = from;
        }
    }
}

/// `0..len` sorted by `cmp` over positions (stable).
fn positions(len: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

#[cfg(test)]
mod tests {
    use super::sort_by;

    #[test]
    fn matches_std_stable_sort() {
        // Many equal keys, so a non-stable result or a lost/duplicated element would show.
        let mut seed = 7u32;
        for len in [0usize, 1, 2, 3, 17, 64, 500] {
            let v: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    ((seed >> 16) % 5, i)
                })
                .collect();
            let mut ours = v.clone();
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut std_sorted = v;
            std_sorted.sort_by_key(|a| a.0);
            assert_eq!(ours, std_sorted, "len {len}");
        }
    }

    #[test]
    fn sorts_owned_non_copy_values() {
        let mut v = vec!["b".to_string(), "a".into(), "c".into(), "a".into()];
        sort_by(&mut v, |a, b| a.cmp(b));
        assert_eq!(v, ["a", "a", "b", "c"]);
    }
}
