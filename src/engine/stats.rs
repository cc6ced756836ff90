//! The counters operators read (`stats`) and what they see of one cache entry (`entries`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::error::ErrorCode;
use crate::result::Source;

/// The upper bounds, in milliseconds, of the fetch-duration histogram's buckets (Prometheus `le` bounds; a last,
/// unbounded bucket is implied and equals the count). Fixed, so that every engine and every front end reports the
/// same buckets.
pub const FETCH_DURATION_BUCKETS_MS: [u64; 12] = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/// The sources a successful resolution is counted under, in the order of [`Stats::resolutions`].
const RESOLUTION_SOURCES: [Source; 3] = [Source::Network, Source::Cache, Source::Stale];

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
    /// Successful resolutions by source (network, cache, stale).
    resolutions: [AtomicU64; RESOLUTION_SOURCES.len()],
    resolution_failures: AtomicU64,
    /// Fetches answered 200 (whatever the document's validation then says).
    fetch_documents: AtomicU64,
    /// Fetches that failed (transport, timeout, status, size, content type).
    fetch_errors: AtomicU64,
    /// Fetch durations: a count per bucket of [`FETCH_DURATION_BUCKETS_MS`] (not cumulative here), the overflow
    /// bucket last, and the sum in microseconds.
    fetch_duration_buckets: [AtomicU64; FETCH_DURATION_BUCKETS_MS.len() + 1],
    fetch_duration_sum_us: AtomicU64,
}

/// How a fetch ended, for [`Counters::fetched`].
pub(crate) enum FetchResult {
    Document,
    NotModified,
    Error,
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

    /// Counts one resolution (a resolve, a cached resolve that found its answer, or a refresh) by its outcome.
    pub(crate) fn resolution<T>(
        &self,
        result: &Result<T, crate::error::Error>,
        source: impl FnOnce(&T) -> Source,
    ) {
        match result {
            Ok(r) => {
                let source = source(r);
                if let Some(i) = RESOLUTION_SOURCES.iter().position(|s| *s == source) {
                    bump(&self.resolutions[i]);
                }
            }
            Err(_) => bump(&self.resolution_failures),
        }
    }

    /// Counts one finished fetch: its result and how long it took (only the request, not the wait for a permit).
    pub(crate) fn fetched(&self, result: FetchResult, took: Duration) {
        match result {
            FetchResult::Document => bump(&self.fetch_documents),
            FetchResult::NotModified => bump(&self.not_modified),
            FetchResult::Error => bump(&self.fetch_errors),
        }
        let ms = took.as_secs_f64() * 1000.0;
        let bucket = FETCH_DURATION_BUCKETS_MS
            .iter()
            .position(|le| ms <= *le as f64)
            .unwrap_or(FETCH_DURATION_BUCKETS_MS.len());
        bump(&self.fetch_duration_buckets[bucket]);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.fetch_duration_sum_us.fetch_add(us, Ordering::Relaxed);
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
            resolutions: Resolutions {
                network: get(&self.resolutions[0]),
                cache: get(&self.resolutions[1]),
                stale: get(&self.resolutions[2]),
                failed: get(&self.resolution_failures),
            },
            fetch_results: FetchResults {
                document: get(&self.fetch_documents),
                not_modified: get(&self.not_modified),
                error: get(&self.fetch_errors),
            },
            fetch_duration_ms: {
                let mut running = 0;
                let mut cumulative: Vec<u64> = self
                    .fetch_duration_buckets
                    .iter()
                    .map(|n| {
                        running += get(n);
                        running
                    })
                    .collect();
                let count = cumulative.pop().unwrap_or(0);
                Histogram {
                    le: FETCH_DURATION_BUCKETS_MS.to_vec(),
                    counts: cumulative,
                    count,
                    sum_us: get(&self.fetch_duration_sum_us),
                }
            },
        }
    }
}

/// Resolutions by outcome: the successful ones by the source of their answer, and the failed ones.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Resolutions {
    /// Answered by a fetch (or a 304) made for it.
    pub network: u64,
    /// Answered from a fresh cache entry.
    pub cache: u64,
    /// Answered from an expired entry (stale-while-revalidate or stale-if-error).
    pub stale: u64,
    /// Refused (counted by code in [`Stats::failures`], with key-set failures).
    pub failed: u64,
}

/// Fetches by how the host answered.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FetchResults {
    /// Status 200 with a body (validated afterwards, which may still refuse it).
    pub document: u64,
    /// Status 304 to a conditional request.
    pub not_modified: u64,
    /// No usable answer: transport, timeout, status, size or content type.
    pub error: u64,
}

/// A histogram with fixed buckets, in the Prometheus layout.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Histogram {
    /// Each bucket's upper bound in milliseconds ([`FETCH_DURATION_BUCKETS_MS`]).
    pub le: Vec<u64>,
    /// Cumulative counts: `counts[i]` observations took at most `le[i]` ms.
    pub counts: Vec<u64>,
    /// All observations (the implied `+Inf` bucket).
    pub count: u64,
    /// Their sum, in microseconds.
    pub sum_us: u64,
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
    /// Resolutions by outcome and source.
    pub resolutions: Resolutions,
    /// Fetches by result (their sum is `fetches`, once every fetch has finished).
    pub fetch_results: FetchResults,
    /// How long fetches took, from the request to the last byte or the failure; its `count` is `fetches`, once
    /// every fetch has finished.
    pub fetch_duration_ms: Histogram,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_durations_land_in_the_first_bucket_that_holds_them_and_snapshot_cumulatively() {
        let c = Counters::default();
        c.fetched(FetchResult::Document, Duration::from_micros(300));
        c.fetched(FetchResult::Document, Duration::from_millis(5));
        c.fetched(FetchResult::NotModified, Duration::from_micros(5001));
        c.fetched(FetchResult::Error, Duration::from_secs(30));
        let s = c.snapshot(0, 0);
        let h = &s.fetch_duration_ms;
        assert_eq!(h.count, 4);
        assert_eq!(
            &h.counts[..3],
            &[1, 2, 3],
            "le=1: 0.3 ms; le=5: 5 ms exactly; le=10: 5.001 ms"
        );
        assert_eq!(
            *h.counts.last().unwrap(),
            3,
            "30 s is only in the implied +Inf bucket"
        );
        assert_eq!(h.sum_us, 300 + 5000 + 5001 + 30_000_000);
        assert_eq!(
            (
                s.fetch_results.document,
                s.fetch_results.not_modified,
                s.fetch_results.error
            ),
            (2, 1, 1)
        );
        assert_eq!(s.not_modified, 1);
    }

    #[test]
    fn resolutions_count_by_source_and_failures_once() {
        let c = Counters::default();
        let ok: Result<Source, crate::error::Error> = Ok(Source::Cache);
        c.resolution(&ok, |s| *s);
        c.resolution(&Ok::<_, crate::error::Error>(Source::Stale), |s| *s);
        c.resolution(&Ok::<_, crate::error::Error>(Source::Local), |s| *s);
        c.resolution(&Err::<Source, _>(crate::err!(Timeout, "t")), |s| *s);
        let r = c.snapshot(0, 0).resolutions;
        assert_eq!((r.network, r.cache, r.stale, r.failed), (0, 1, 1, 1));
    }
}
