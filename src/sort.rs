//! Stable sorting through one shared instantiation of the standard library's sort.
//!
//! `slice::sort_by` is generic over the element and the comparator, and each instantiation of
//! its driftsort is ~4 KB of wasm; a handful of call sites sorting choices, tool calls,
//! embeddings and header pairs paid for one each. [`sort_by`] sorts the positions `0..len` with
//! a comparator behind `&dyn Fn` (one instantiation for the whole crate) and then moves the
//! elements into that order, which is the only per-type code left.

use std::cmp::Ordering;

/// Sorts `v` by `cmp` exactly like `v.sort_by(cmp)`: stable, so equal elements keep their order
/// (`[(2, a), (1, b), (2, c)]` by the number → `[(1, b), (2, a), (2, c)]`).
pub(crate) fn sort_by<T>(v: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let order = positions(v.len(), &|a, b| cmp(&v[a], &v[b]));
    let mut slots: Vec<Option<T>> = std::mem::take(v).into_iter().map(Some).collect();
    v.extend(order.into_iter().filter_map(|i| slots[i].take()));
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
