//! The two stores virtual keys use, as traits: [`Kv`] (Workers KV: records and the spend log,
//! eventually consistent) and [`Counters`] (one Durable Object per key, user, team: the
//! counters of record). The edge implements them over the Worker bindings; [`memory`] has
//! in-process versions for native tests.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use edgellm::Result;

use super::counter::{Op, Outcome};

/// One listed KV entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// Its metadata, if stored with one.
    pub metadata: Option<Value>,
}

/// A page of a KV listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Entries in name order.
    pub entries: Vec<Listed>,
    /// Where the next page starts; `None` when this was the last.
    pub cursor: Option<String>,
}

/// Workers KV, as far as the gateway uses it.
#[allow(async_fn_in_trait)]
pub trait Kv {
    /// The value of `name`.
    async fn get(&self, name: &str) -> Result<Option<String>>;
    /// Stores `value` (with `metadata` shown in listings, expiring after `ttl_s` seconds).
    async fn put(
        &self,
        name: &str,
        value: &str,
        metadata: Option<Value>,
        ttl_s: Option<u64>,
    ) -> Result<()>;
    /// Removes `name`.
    async fn delete(&self, name: &str) -> Result<()>;
    /// Names starting with `prefix`, in order, `limit` at most, from `cursor`.
    async fn list(&self, prefix: &str, cursor: Option<String>, limit: u64) -> Result<Page>;
}

/// The counter objects (Durable Objects), addressed by name.
#[allow(async_fn_in_trait)]
pub trait Counters {
    /// Applies `op` to the counter `name` and returns its outcome.
    async fn call(&self, name: &str, op: &Op) -> Result<Outcome>;
}

/// Runs work after the response (`ctx.waitUntil` at the edge): settling a stream whose client
/// went away.
pub type Spawn = std::rc::Rc<dyn Fn(Pin<Box<dyn Future<Output = ()>>>)>;

/// In-process stores for native tests.
#[cfg(test)]
pub mod memory {
    use std::cell::RefCell;
    use std::collections::{BTreeMap, HashMap};
    use std::rc::Rc;

    use super::*;
    use crate::keys::counter::CounterState;

    /// One stored entry: value, metadata, TTL in seconds.
    pub type Entry = (String, Option<Value>, Option<u64>);

    /// KV in a map (with metadata; TTLs are recorded, not enforced).
    #[derive(Debug, Clone, Default)]
    pub struct MemKv {
        /// name → entry.
        pub map: Rc<RefCell<BTreeMap<String, Entry>>>,
    }

    impl Kv for MemKv {
        async fn get(&self, name: &str) -> Result<Option<String>> {
            Ok(self.map.borrow().get(name).map(|(v, _, _)| v.clone()))
        }
        async fn put(
            &self,
            name: &str,
            value: &str,
            metadata: Option<Value>,
            ttl_s: Option<u64>,
        ) -> Result<()> {
            self.map
                .borrow_mut()
                .insert(name.to_string(), (value.to_string(), metadata, ttl_s));
            Ok(())
        }
        async fn delete(&self, name: &str) -> Result<()> {
            self.map.borrow_mut().remove(name);
            Ok(())
        }
        async fn list(&self, prefix: &str, cursor: Option<String>, limit: u64) -> Result<Page> {
            let map = self.map.borrow();
            let mut entries = Vec::new();
            let mut next = None;
            for (name, (_, meta, _)) in map.range(cursor.unwrap_or_else(|| prefix.to_string())..) {
                if !name.starts_with(prefix) {
                    break;
                }
                if entries.len() as u64 == limit {
                    next = Some(name.clone());
                    break;
                }
                entries.push(Listed {
                    name: name.clone(),
                    metadata: meta.clone(),
                });
            }
            Ok(Page {
                entries,
                cursor: next,
            })
        }
    }

    /// Counters in a map, each op applied atomically (as a Durable Object does).
    #[derive(Debug, Clone, Default)]
    pub struct MemCounters {
        /// name → state.
        pub map: Rc<RefCell<HashMap<String, CounterState>>>,
    }

    impl Counters for MemCounters {
        async fn call(&self, name: &str, op: &Op) -> Result<Outcome> {
            let mut map = self.map.borrow_mut();
            Ok(map.entry(name.to_string()).or_default().apply(op.clone()).0)
        }
    }
}
