//! The one bounded store the engine keeps things in: documents and key sets alike. Keyed by the exact string
//! (a client_id, a `jwks_uri`), least-recently-used eviction under both an entry count and a byte budget, sharded
//! so that concurrent cache hits on different keys do not queue on one lock.
//!
//! It only stores. What an entry may still be used for is [`super::policy`]'s question.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};

use lru::LruCache;

use super::Entry;

/// What a stored value costs in memory, roughly: the bound the byte budget is kept under.
pub trait Cost {
    /// Approximate resident bytes.
    fn cost(&self) -> usize;
}

struct Shard<V> {
    map: LruCache<Arc<str>, Entry<V>>,
    bytes: usize,
    /// This shard's share of the bounds. The shares add up to at most the cache's bounds, so the bounds hold
    /// for the whole cache, not only per shard.
    max_entries: usize,
    max_bytes: usize,
}

/// The sharded LRU store.
pub struct Store<V> {
    shards: Box<[Mutex<Shard<V>>]>,
    hasher: std::collections::hash_map::RandomState,
}

/// What an insertion displaced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    /// Entries evicted to respect the count or byte bounds.
    pub entries: usize,
}

impl<V: Cost + Clone> Store<V> {
    /// A store bounded by `max_entries` entries and `max_bytes` bytes in total.
    pub fn new(max_entries: usize, max_bytes: usize) -> Store<V> {
        // Small caches get one shard so that the bounds are exact; large ones get 16.
        // The remainder of the division goes to the first shards, one each, so that the shares add up to exactly
        // `max_entries` (rounding every share up would let the cache hold up to `shards - 1` entries too many).
        let shards = if max_entries >= 256 { 16 } else { 1 };
        let share = |total: usize, i: usize| (total / shards + usize::from(i < total % shards)).max(1);
        Store {
            shards: (0..shards)
                .map(|i| {
                    Mutex::new(Shard {
                        map: LruCache::unbounded(),
                        bytes: 0,
                        max_entries: share(max_entries, i),
                        max_bytes: share(max_bytes, i),
                    })
                })
                .collect(),
            hasher: Default::default(),
        }
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard<V>> {
        let index = if self.shards.len() == 1 {
            0
        } else {
            (self.hasher.hash_one(key) as usize) % self.shards.len()
        };
        // A panic while holding a shard lock cannot leave an entry half-written (every update is one
        // assignment), so a poisoned lock is still consistent.
        self.shards[index].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The entry for `key`, marking it recently used.
    pub fn get(&self, key: &str) -> Option<Entry<V>> {
        self.shard(key).map.get(key).cloned()
    }

    /// The entry for `key`, without touching its recency.
    pub fn peek(&self, key: &str) -> Option<Entry<V>> {
        self.shard(key).map.peek(key).cloned()
    }

    /// Stores `entry`, replacing any older version, then evicts least-recently-used entries until the shard is
    /// within its bounds. An entry larger than the whole byte budget is not stored.
    pub fn insert(&self, key: &str, entry: Entry<V>) -> Evicted {
        let cost = entry.value.cost() + key.len();
        let mut shard = self.shard(key);
        if let Some(old) = shard.map.pop(key) {
            shard.bytes -= old.value.cost() + key.len();
        }
        let mut evicted = Evicted::default();
        if cost > shard.max_bytes {
            return evicted;
        }
        shard.map.put(Arc::from(key), entry);
        shard.bytes += cost;
        while shard.map.len() > shard.max_entries || shard.bytes > shard.max_bytes {
            match shard.map.pop_lru() {
                Some((k, old)) => {
                    shard.bytes -= old.value.cost() + k.len();
                    evicted.entries += 1;
                }
                None => break,
            }
        }
        evicted
    }

    /// Applies `f` to the entry in place (e.g. to extend freshness after a 304). False if there is none.
    pub fn update(&self, key: &str, f: impl FnOnce(&mut Entry<V>)) -> bool {
        let mut shard = self.shard(key);
        match shard.map.peek_mut(key) {
            Some(e) => {
                f(e);
                true
            }
            None => false,
        }
    }

    /// Removes the entry. True if there was one.
    pub fn remove(&self, key: &str) -> bool {
        let mut shard = self.shard(key);
        match shard.map.pop(key) {
            Some(old) => {
                shard.bytes -= old.value.cost() + key.len();
                true
            }
            None => false,
        }
    }

    /// Every entry with its key (a snapshot; least recently used first within each shard).
    pub fn entries(&self) -> Vec<(Arc<str>, Entry<V>)> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            out.extend(shard.map.iter().rev().map(|(k, v)| (k.clone(), v.clone())));
        }
        out
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).map.len())
            .sum()
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::{Instant, SystemTime};

    use crate::cache::{Lifetime, Validators};
    use crate::result::ResolvedClient;

    fn entry(id: &str, body_len: usize) -> Entry<Arc<ResolvedClient>> {
        let (metadata, host) = crate::result::sample_registration(id);
        let client = ResolvedClient::new(metadata, host, vec![], vec![], SystemTime::now(), 1, body_len);
        Entry {
            value: Arc::new(client),
            life: Lifetime {
                fresh_until: Instant::now(),
                expires_at: SystemTime::now(),
                serve_stale: true,
            },
            validators: Validators::default(),
            confirmed_at: SystemTime::now(),
        }
    }

    #[test]
    fn entry_bound_evicts_least_recently_used() {
        let c = Store::new(3, 1 << 20);
        for k in ["a", "b", "c"] {
            c.insert(k, entry(k, 100));
        }
        assert!(c.get("a").is_some()); // a is now most recent
        let ev = c.insert("d", entry("d", 100));
        assert_eq!(ev.entries, 1);
        assert!(c.peek("b").is_none(), "b was least recently used");
        assert!(c.peek("a").is_some() && c.peek("c").is_some() && c.peek("d").is_some());
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn byte_budget_is_respected_and_accounted() {
        let c = Store::new(100, 10_000);
        for i in 0..50 {
            c.insert(&format!("k{i}"), entry("x", 1000));
            assert!(c.bytes() <= 10_000, "{}", c.bytes());
        }
        assert!(c.len() < 50);
        let before = c.bytes();
        let key = c.entries()[0].0.clone();
        assert!(c.remove(&key));
        assert!(c.bytes() < before);
        assert!(!c.remove(&key));
        // An entry over the whole budget is never stored.
        c.insert("huge", entry("x", 20_000));
        assert!(c.peek("huge").is_none());
    }

    #[test]
    fn replacing_an_entry_keeps_the_accounting_exact() {
        let c = Store::new(10, 1 << 20);
        c.insert("a", entry("a", 100));
        let one = c.bytes();
        for _ in 0..10 {
            c.insert("a", entry("a", 100));
        }
        assert_eq!(c.bytes(), one);
        assert_eq!(c.len(), 1);
        assert!(c.update("a", |e| e.validators.etag = Some("\"v2\"".into())));
        assert_eq!(c.peek("a").unwrap().validators.etag.as_deref(), Some("\"v2\""));
        assert!(!c.update("zz", |_| {}));
    }

    /// Regression (found by `benches/memory.rs`, 100,000 distinct client_ids through `cache_max_entries` 1000):
    /// the cache held 1008 entries. A store of 256 entries or more has 16 shards and each shard's share was
    /// rounded up (16 × ⌈1000/16⌉ = 1008). The shares now add up to exactly the bound.
    #[test]
    fn regression_sharded_cache_never_exceeds_cache_max_entries() {
        for max in [256usize, 1000, 1001, 1015, 4099] {
            let c = Store::new(max, 1 << 30);
            for i in 0..max * 4 {
                c.insert(&format!("https://h{i}.example/c.json"), entry("x", 10));
                assert!(c.len() <= max, "{} entries in a store of {max}", c.len());
            }
            assert!(c.len() >= max * 9 / 10, "{} entries in a store of {max}", c.len());
        }
    }
}
