//! The counters operators read (`stats`) and what they see of one cache entry (`entries`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::ErrorCode;

/// The counters, updated with relaxed atomics (each is independent; none orders anything).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) fetches: AtomicU64,
    pub(crate) not_modified: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) stale_served: AtomicU64,
    pub(crate) background_refreshes: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) invalidations: AtomicU64,
    failures: [AtomicU64; ErrorCode::ALL.len()],
}

/// Adds one.
pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Counts a failure by its code.
    pub(crate) fn failure(&self, code: ErrorCode) {
        if let Some(i) = ErrorCode::ALL.iter().position(|c| *c == code) {
            bump(&self.failures[i]);
        }
    }

    /// A snapshot, with the store's size.
    pub(crate) fn snapshot(&self, entries: usize, cache_bytes: usize) -> Stats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            fetches: get(&self.fetches),
            not_modified: get(&self.not_modified),
            coalesced_waits: get(&self.coalesced),
            stale_served: get(&self.stale_served),
            background_refreshes: get(&self.background_refreshes),
            evictions: get(&self.evictions),
            invalidations: get(&self.invalidations),
            entries: entries as u64,
            cache_bytes: cache_bytes as u64,
            failures: ErrorCode::ALL
                .iter()
                .zip(self.failures.iter())
                .filter_map(|(code, n)| {
                    let n = get(n);
                    (n > 0).then(|| (code.as_str().to_owned(), n))
                })
                .collect(),
        }
    }
}

/// A snapshot of the counters (serialises to the `stats` JSON of every front end).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Answers served from a fresh cache entry.
    pub hits: u64,
    /// Lookups that found no usable entry.
    pub misses: u64,
    /// Requests sent to metadata hosts.
    pub fetches: u64,
    /// Revalidations answered 304.
    pub not_modified: u64,
    /// Callers that waited for another caller's fetch instead of fetching.
    pub coalesced_waits: u64,
    /// Answers served from an expired entry (stale-while-revalidate or stale-if-error).
    pub stale_served: u64,
    /// Background refreshes started.
    pub background_refreshes: u64,
    /// Entries evicted by the count or byte bounds.
    pub evictions: u64,
    /// Entries removed by operators.
    pub invalidations: u64,
    /// Entries cached now.
    pub entries: u64,
    /// Approximate bytes cached now.
    pub cache_bytes: u64,
    /// Failures by error code (codes with no failure are omitted).
    pub failures: BTreeMap<String, u64>,
}

/// What operators see of one cache entry.
#[derive(Clone, Debug, Serialize)]
pub struct EntryInfo {
    /// The client_id.
    pub client_id: String,
    /// `fresh`, `stale` (servable while revalidating or while the host fails) or `expired`.
    pub state: &'static str,
    /// RFC 3339 time of the fetch of this version.
    pub fetched_at: String,
    /// RFC 3339 time of the last confirmation by the host.
    pub confirmed_at: String,
    /// RFC 3339 time when freshness ends.
    pub expires_at: String,
    /// Version number of the document.
    pub generation: u64,
    /// The `ETag` kept for revalidation.
    pub etag: Option<String>,
    /// Approximate bytes held.
    pub bytes: usize,
    /// The client's name, if any.
    pub client_name: Option<String>,
    /// Fields changed in this version.
    pub changed: Vec<String>,
}
