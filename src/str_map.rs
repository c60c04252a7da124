//! [`StrMap`]: a map from `String` keys kept as one `Vec` of pairs in key order.
//!
//! The crate's small maps (config environment variables and aliases, budgets, registered
//! prices, `setEnv` values) were `BTreeMap`s (one a `HashMap`), and every key/value pair type
//! brought its own copy of the B-tree's insert/split/merge/iterate code: about 6 KB of wasm per
//! type before wasm-opt, 0.5–1.4 KB of the gzipped package (measured 2026-11-26). A sorted
//! `Vec` answers the same lookups by binary search with a few hundred bytes per type and
//! iterates in the same (key) order. An insert shifts the entries after it, which is nothing
//! for maps of tens of entries; bulk inserts go through [`Extend`] (one sort).

use std::fmt;
use std::ops::Index;

/// A map with `String` keys, iterated in key order (byte order, as `BTreeMap<String, _>`).
///
/// ```
/// use edgellm::str_map::StrMap;
/// let mut m = StrMap::new();
/// m.insert("b".to_string(), 2);
/// m.insert("a".to_string(), 1);
/// assert_eq!(m.insert("b".to_string(), 3), Some(2));
/// assert_eq!(m.get("b"), Some(&3));
/// let keys: Vec<&str> = m.keys().collect();
/// assert_eq!(keys, ["a", "b"]);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StrMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for StrMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> StrMap<V> {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.find(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaced.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted as `V::default()` first if there is none
    /// (`BTreeMap`'s `entry(key).or_default()`).
    pub fn get_or_default(&mut self, key: &str) -> &mut V
    where
        V: Default,
    {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key.to_string(), V::default()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.find(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries in key order.
    pub fn iter(&self) -> std::slice::Iter<'_, (String, V)> {
        self.entries.iter()
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }
}

impl<V> Extend<(String, V)> for StrMap<V> {
    /// Adds every pair; for a key given more than once (or already present), the last value
    /// wins, as with repeated [`StrMap::insert`]. One sort for the lot, so registering
    /// thousands of entries does not shift the vector once per entry.
    fn extend<I: IntoIterator<Item = (String, V)>>(&mut self, iter: I) {
        let before = self.entries.len();
        self.entries.extend(iter);
        // Pairs that come in key order after the present ones (another map's entries, a JSON
        // object's) need no sort.
        if self.entries[before.saturating_sub(1)..]
            .windows(2)
            .all(|w| w[0].0 < w[1].0)
        {
            return;
        }
        // Stable: among equal keys the later pair stays later.
        crate::sort::sort_by(&mut self.entries, |a, b| a.0.cmp(&b.0));
        // `dedup_by` keeps the first of a run; moving each later value into it keeps the last.
        self.entries.dedup_by(|later, kept| {
            if later.0 == kept.0 {
                std::mem::swap(&mut later.1, &mut kept.1);
                true
            } else {
                false
            }
        });
    }
}

impl<V> FromIterator<(String, V)> for StrMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut m = Self::new();
        m.extend(iter);
        m
    }
}

impl<V> IntoIterator for StrMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a StrMap<V> {
    type Item = &'a (String, V);
    type IntoIter = std::slice::Iter<'a, (String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl<V> Index<&str> for StrMap<V> {
    type Output = V;

    /// The value of `key`; panics if there is none (as `BTreeMap`'s index does).
    fn index(&self, key: &str) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<V: fmt::Debug> fmt::Debug for StrMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::StrMap;
    use std::collections::BTreeMap;

    /// Every operation against `BTreeMap` over a mixed sequence with repeated keys.
    #[test]
    fn behaves_like_btreemap() {
        let mut ours = StrMap::new();
        let mut std_map = BTreeMap::new();
        let mut seed = 11u32;
        for step in 0..2000u32 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = format!("k{}", (seed >> 16) % 50);
            match step % 5 {
                0 | 1 => assert_eq!(ours.insert(key.clone(), step), std_map.insert(key, step)),
                2 => assert_eq!(ours.remove(&key), std_map.remove(&key)),
                3 => {
                    *ours.get_or_default(&key) += 1;
                    *std_map.entry(key).or_default() += 1;
                }
                _ => {
                    assert_eq!(ours.get(&key), std_map.get(&key));
                    assert_eq!(ours.contains_key(&key), std_map.contains_key(&key));
                }
            }
            assert_eq!(ours.len(), std_map.len());
        }
        let pairs: Vec<(String, u32)> = ours.clone().into_iter().collect();
        let want: Vec<(String, u32)> = std_map.clone().into_iter().collect();
        assert_eq!(pairs, want);
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            std_map.keys().map(String::as_str).collect::<Vec<_>>()
        );
        assert_eq!(format!("{ours:?}"), format!("{std_map:?}"));
    }

    #[test]
    fn collect_and_extend_keep_the_last_value_of_a_key() {
        let pairs = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5), ("b", 6)];
        let ours: StrMap<i32> = pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let std_map: BTreeMap<String, i32> =
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(
            ours.iter().cloned().collect::<Vec<_>>(),
            std_map.into_iter().collect::<Vec<_>>()
        );

        let mut m = ours;
        // In order after the present keys: appended as they are.
        m.extend([("e".to_string(), 1), ("f".to_string(), 2)]);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b", "c", "e", "f"]);
        m.extend([
            ("a".to_string(), 7),
            ("d".to_string(), 8),
            ("d".to_string(), 9),
        ]);
        assert_eq!(m["a"], 7);
        assert_eq!(m["d"], 9);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b", "c", "d", "e", "f"]);
    }

    #[test]
    fn keys_order_by_bytes() {
        let m: StrMap<()> = ["b", "B", "a", "é", "ab"]
            .iter()
            .map(|k| (k.to_string(), ()))
            .collect();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["B", "a", "ab", "b", "é"]);
    }
}
