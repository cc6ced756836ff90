//! What the engine remembers, and for how long (docs/contract.md §4).
//!
//! One home for caching, in three parts:
//!
//! - [`store`]: one generic, bounded store (entries and bytes, least recently used out), which holds documents
//!   and key sets alike and knows nothing about time;
//! - [`freshness`]: a response's lifetime from its own `Cache-Control`, `Expires` and `Age`, clamped to the
//!   operator's bounds;
//! - [`policy`]: every decision about time: whether an entry is fresh, may be served while it is revalidated,
//!   may be served while its host fails, must be evicted, and what a 304 renews.
//!
//! Nothing here touches the network; the fetcher hands over plain header values and validators.

pub mod freshness;
pub(crate) mod policy;
pub mod store;

use std::time::{Instant, SystemTime};

pub use freshness::{freshness, CacheHeaders};
pub use store::{Cost, Store};

/// Validators for a conditional request (RFC 9110 §13), kept with an entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    /// The `ETag` of the cached response.
    pub etag: Option<String>,
    /// The `Last-Modified` of the cached response.
    pub last_modified: Option<String>,
}

impl Validators {
    /// True when there is nothing to revalidate with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// How long an entry may be used, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    /// Fresh until this instant (monotonic).
    pub fresh_until: Instant,
    /// The same, as wall-clock time, for reporting.
    pub expires_at: SystemTime,
    /// False when its headers forbid serving it once stale (`no-store`, `no-cache`, `must-revalidate`, ...).
    pub serve_stale: bool,
}

/// One cached version of a document or a key set.
#[derive(Clone, Debug)]
pub struct Entry<V> {
    /// What is kept: the validated document, or the validated key set.
    pub value: V,
    /// Until when, and how, it may be used.
    pub life: Lifetime,
    /// Validators for conditional revalidation.
    pub validators: Validators,
    /// When the host last confirmed it (a fetch or a 304).
    pub confirmed_at: SystemTime,
}
