//! One fetch and the store update that follows (docs/contract.md §4), the same for documents and key sets: a
//! conditional request when validators are cached, a new version validated and stored under the cache policy's
//! lifetime, a 304 that renews, and a failure that evicts, serves the stale version or is reported, as
//! [`crate::cache::policy`] decides. What differs between the two is a [`Kind`]: how a body is validated, and
//! how a stored value is handed out.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::core::{Core, FlightResult, KeySetJson};
use super::runtime::IoShared;
use super::stats::{bump, Counters, FetchResult};
use crate::cache::policy::AfterFailure;
use crate::cache::{Cost, Entry, Store, Validators};
use crate::client_id::ClientIdUrl;
use crate::document::{self, ClientMetadata, DocumentPolicy};
use crate::error::Error;
use crate::fetch::{FetchFailure, Fetched};
use crate::jwks::{JwkSet, KeySource};
use crate::result::{Resolution, ResolvedClient, Source};
use crate::uri::FetchTarget;

/// How an answer was obtained.
#[derive(Clone, Copy)]
enum Served {
    Network,
    Stale,
}

/// What is fetched and stored: documents or key sets.
trait Kind {
    type Value: Cost + Clone;
    type Answer;

    /// The store it lives in.
    fn store(core: &Core) -> &Store<Self::Value>;

    /// A fetched body as the value to store, or the rule it breaks. `old` is the version it replaces.
    fn validate(
        &self,
        core: &Core,
        body: &[u8],
        old: Option<&Self::Value>,
        wall: SystemTime,
    ) -> Result<Self::Value, Error>;

    /// The value handed out.
    fn answer(&self, value: Self::Value, served: Served, expires_at: SystemTime) -> Self::Answer;
}

/// Client metadata documents, keyed by client_id.
struct Documents<'a>(&'a ClientIdUrl);

impl Kind for Documents<'_> {
    type Value = Arc<ResolvedClient>;
    type Answer = Resolution;

    fn store(core: &Core) -> &Store<Arc<ResolvedClient>> {
        &core.docs
    }

    fn validate(
        &self,
        core: &Core,
        body: &[u8],
        old: Option<&Arc<ResolvedClient>>,
        wall: SystemTime,
    ) -> Result<Arc<ResolvedClient>, Error> {
        let doc = document::validate(body, self.0.as_str(), &DocumentPolicy::from_config(&core.config))?;
        // The same document again keeps the shared version (and its serialisation); a new one gets the next
        // generation and the list of watched fields that changed.
        let changed = match old {
            Some(old) if old.metadata() == &doc.metadata && old.warnings() == doc.warnings => {
                return Ok(old.clone())
            }
            Some(old) => changed_fields(old.metadata(), &doc.metadata),
            None => Vec::new(),
        };
        let generation = core.generation.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(Arc::new(ResolvedClient::new(
            doc.metadata,
            self.0.display_host(),
            doc.warnings,
            changed,
            wall,
            generation,
            body.len(),
        )))
    }

    fn answer(&self, value: Arc<ResolvedClient>, served: Served, expires_at: SystemTime) -> Resolution {
        let source = match served {
            Served::Network => Source::Network,
            Served::Stale => Source::Stale,
        };
        Resolution::new(value, source, expires_at)
    }
}

/// JWK Sets fetched from `jwks_uri`, keyed by the URI.
struct KeySets<'a>(&'a str);

impl Kind for KeySets<'_> {
    type Value = KeySetJson;
    type Answer = JwkSet;

    fn store(core: &Core) -> &Store<KeySetJson> {
        &core.keys
    }

    fn validate(
        &self,
        core: &Core,
        body: &[u8],
        _old: Option<&KeySetJson>,
        _wall: SystemTime,
    ) -> Result<KeySetJson, Error> {
        let set = document::validate_jwks(body, &DocumentPolicy::from_config(&core.config))?;
        let json = serde_json::to_string(&set).map_err(|e| crate::err!(Internal, "{e}"))?;
        Ok(Arc::from(json))
    }

    fn answer(&self, value: KeySetJson, served: Served, _expires_at: SystemTime) -> JwkSet {
        let source = match served {
            Served::Network => KeySource::Network,
            Served::Stale => KeySource::Stale,
        };
        JwkSet::new(value, source, Some(Arc::from(self.0)))
    }
}

/// The document fields whose change a host may want to act on (revoke grants, ask for consent again:
/// CIMD §8.4), reported in `changed` after a refresh.
const WATCHED_FIELDS: [&str; 6] = [
    "redirect_uris",
    "token_endpoint_auth_method",
    "jwks",
    "jwks_uri",
    "scope",
    "grant_types",
];

fn changed_fields(old: &ClientMetadata, new: &ClientMetadata) -> Vec<String> {
    let differs = [
        old.redirect_uris != new.redirect_uris,
        old.token_endpoint_auth_method != new.token_endpoint_auth_method,
        old.jwks != new.jwks,
        old.jwks_uri != new.jwks_uri,
        old.scope != new.scope,
        old.grant_types != new.grant_types,
    ];
    WATCHED_FIELDS
        .iter()
        .zip(differs)
        .filter(|(_, d)| *d)
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

impl Core {
    /// One fetch of a client_id and the store update that follows.
    pub(crate) async fn fetch_document(&self, io: &IoShared, url: &ClientIdUrl) -> FlightResult {
        let deadline = Instant::now() + self.config.fetch_timeout;
        self.fetch_then_store(
            io,
            &Documents(url),
            url.as_str(),
            &FetchTarget::client_id(url),
            deadline,
        )
        .await
    }

    /// One fetch of a `jwks_uri` under the document rules (its host policy first), and the store update.
    pub(crate) async fn fetch_keys(
        &self,
        io: &IoShared,
        uri: &str,
        deadline: Option<Instant>,
    ) -> Result<JwkSet, Error> {
        let target = FetchTarget::jwks_uri(uri)?;
        self.check_host_name(target.host())?;
        let limit = Instant::now() + self.config.fetch_timeout;
        let deadline = deadline.map_or(limit, |d| d.min(limit));
        self.fetch_then_store(io, &KeySets(uri), uri, &target, deadline)
            .await
    }

    async fn fetch_then_store<K: Kind>(
        &self,
        io: &IoShared,
        kind: &K,
        key: &str,
        target: &FetchTarget,
        deadline: Instant,
    ) -> Result<K::Answer, Error> {
        let store = K::store(self);
        let existing = store.peek(key);
        let outcome = self
            .fetch_limited(io, target, existing.as_ref().map(|e| &e.validators), deadline)
            .await;
        match outcome {
            Ok(Fetched::Document { body, meta }) => {
                let wall = self.clock.wall();
                let value = match kind.validate(self, &body, existing.as_ref().map(|e| &e.value), wall) {
                    Ok(value) => value,
                    Err(e) => {
                        // An invalid new version evicts the old one at once and is never stored (CAC-05).
                        store.remove(key);
                        return Err(e);
                    }
                };
                let life = self
                    .policy
                    .lifetime(&meta.cache_headers(), self.clock.now(), wall);
                let entry = Entry {
                    value: value.clone(),
                    life,
                    validators: meta.validators,
                    confirmed_at: wall,
                };
                let evicted = store.insert(key, entry);
                self.counters
                    .evictions
                    .fetch_add(evicted.entries as u64, Ordering::Relaxed);
                Ok(kind.answer(value, Served::Network, life.expires_at))
            }
            Ok(Fetched::NotModified { meta }) => {
                let (now, wall) = (self.clock.now(), self.clock.wall());
                let headers = meta.cache_headers();
                let mut renewed = None;
                store.update(key, |e| {
                    e.life = self.policy.renewed(&e.life, &headers, now, wall);
                    if !meta.validators.is_empty() {
                        e.validators = meta.validators.clone();
                    }
                    e.confirmed_at = wall;
                    renewed = Some((e.value.clone(), e.life.expires_at));
                });
                match renewed {
                    Some((value, expires_at)) => Ok(kind.answer(value, Served::Network, expires_at)),
                    None => Err(crate::err!(
                        HttpStatus,
                        "{key} answered 304 but its cached copy was evicted meanwhile; try again"
                    )),
                }
            }
            Err(failure) => {
                let now = self.clock.now();
                let life = existing.as_ref().map(|e| &e.life);
                match self
                    .policy
                    .after_failure(failure.status, failure.error.code(), life, now)
                {
                    AfterFailure::Evict => {
                        store.remove(key);
                        Err(failure.error)
                    }
                    AfterFailure::ServeStale => match existing {
                        Some(old) => {
                            bump(&self.counters.stale_served);
                            Ok(kind.answer(old.value, Served::Stale, old.life.expires_at))
                        }
                        None => Err(failure.error),
                    },
                    AfterFailure::Report => Err(failure.error),
                }
            }
        }
    }

    /// One fetch under the per-host concurrency limit and the deadline, counted. Documents and key sets share
    /// it, so both obey the same limits.
    async fn fetch_limited(
        &self,
        io: &IoShared,
        target: &FetchTarget,
        validators: Option<&Validators>,
        deadline: Instant,
    ) -> Result<Fetched, FetchFailure> {
        io.fetcher.vet_literal(target)?;
        match io.limiter.acquire(target.host(), deadline).await {
            Ok(_permit) => {
                bump(&self.counters.fetches);
                // Counted when the fetch ends, or when its task is dropped unfinished (as an error), so that the
                // histogram's count always catches up with `fetches`.
                let mut timing = FetchTiming {
                    counters: &self.counters,
                    started: Instant::now(),
                    result: FetchResult::Error,
                };
                let fetched = io.fetcher.fetch(target, validators, deadline).await;
                timing.result = match &fetched {
                    Ok(Fetched::Document { .. }) => FetchResult::Document,
                    Ok(Fetched::NotModified { .. }) => FetchResult::NotModified,
                    Err(_) => FetchResult::Error,
                };
                fetched
            }
            Err(e) => Err(FetchFailure::from(e)),
        }
    }
}

/// Records one fetch's result and duration when dropped.
struct FetchTiming<'a> {
    counters: &'a Counters,
    started: Instant,
    result: FetchResult,
}

impl Drop for FetchTiming<'_> {
    fn drop(&mut self) {
        let result = std::mem::replace(&mut self.result, FetchResult::Error);
        self.counters.fetched(result, self.started.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(redirects: &[&str], method: &str) -> ClientMetadata {
        ClientMetadata {
            client_id: "https://c.example/a.json".into(),
            redirect_uris: redirects.iter().map(|s| s.to_string()).collect(),
            grant_types: vec!["authorization_code".into()],
            response_types: vec!["code".into()],
            token_endpoint_auth_method: method.into(),
            ..Default::default()
        }
    }

    #[test]
    fn changed_lists_only_watched_fields_that_differ() {
        let a = meta(&["https://c.example/cb"], "none");
        assert!(changed_fields(&a, &a.clone()).is_empty());
        let mut b = meta(&["https://c.example/cb2"], "private_key_jwt");
        b.client_name = Some("renamed".into());
        assert_eq!(
            changed_fields(&a, &b),
            vec!["redirect_uris", "token_endpoint_auth_method"]
        );
        let mut c = a.clone();
        c.scope = Some("openid".into());
        c.jwks_uri = Some("https://c.example/jwks".into());
        assert_eq!(changed_fields(&a, &c), vec!["jwks_uri", "scope"]);
    }
}
