//! What every engine task shares: the configuration, the stores, the cache policy, the counters and the clock.
//! It holds no runtime (a task must never own the runtime it runs on).

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use super::clock::Clock;
use super::runtime::IoShared;
use super::stats::{bump, Counters};
use crate::cache::policy::{Policy, Use};
use crate::cache::{Cost, Store};
use crate::client_id::{ClientIdUrl, UrlRules};
use crate::config::Config;
use crate::error::Error;
use crate::jwks::{JwkSet, KeySource};
use crate::redirect;
use crate::result::{Resolution, ResolvedClient, Source};

pub(crate) type FlightResult = Result<Resolution, Error>;

/// A validated key set as the store keeps it: its serialisation.
pub(crate) type KeySetJson = Arc<str>;

impl Cost for KeySetJson {
    fn cost(&self) -> usize {
        64 + self.len()
    }
}

pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) rules: UrlRules,
    pub(crate) policy: Policy,
    /// Validated documents, keyed by client_id.
    pub(crate) docs: Store<Arc<ResolvedClient>>,
    /// Validated key sets, keyed by `jwks_uri`.
    pub(crate) keys: Store<KeySetJson>,
    pub(crate) counters: Counters,
    /// The version number given to the next new document.
    pub(crate) generation: AtomicU64,
    pub(crate) clock: Arc<dyn Clock>,
}

/// What the store says about a client_id right now.
pub(crate) enum Lookup {
    Fresh(Resolution),
    /// Expired but inside stale-while-revalidate: serve it and refresh in the background.
    Revalidate(Resolution),
    Miss,
}

impl Core {
    pub(crate) fn new(config: Config, clock: Arc<dyn Clock>) -> Core {
        Core {
            rules: UrlRules::from_config(&config),
            policy: Policy::from_config(&config),
            docs: Store::new(config.cache_max_entries, config.cache_max_bytes),
            keys: Store::new(config.cache_max_entries, config.cache_max_bytes),
            counters: Counters::default(),
            generation: AtomicU64::new(0),
            clock,
            config,
        }
    }

    /// A lookup that counts a hit or a stale serve.
    pub(crate) fn lookup(&self, key: &str) -> Lookup {
        let lookup = self.lookup_quiet(key);
        match &lookup {
            Lookup::Fresh(_) => bump(&self.counters.hits),
            Lookup::Revalidate(_) => bump(&self.counters.stale_served),
            Lookup::Miss => {}
        }
        lookup
    }

    /// A lookup that counts nothing.
    pub(crate) fn lookup_quiet(&self, key: &str) -> Lookup {
        let Some(entry) = self.docs.get(key) else {
            return Lookup::Miss;
        };
        match self.policy.use_at(&entry.life, self.clock.now()) {
            Use::Fresh => Lookup::Fresh(Resolution::new(entry.value, Source::Cache, entry.life.expires_at)),
            Use::Revalidate => {
                Lookup::Revalidate(Resolution::new(entry.value, Source::Stale, entry.life.expires_at))
            }
            Use::Fetch => Lookup::Miss,
        }
    }

    pub(crate) fn check_host(&self, url: &ClientIdUrl) -> Result<(), Error> {
        self.check_host_name(url.host())
    }

    pub(crate) fn check_host_name(&self, host: &str) -> Result<(), Error> {
        if self.config.host_allowed(host) {
            Ok(())
        } else {
            Err(crate::err!(
                HostNotAllowed,
                "host {host} is not allowed by the allowed_hosts / denied_hosts policy; nothing was fetched (POL-02)"
            ))
        }
    }

    /// A miss: the URL rules and the host policy, then the single flight.
    pub(crate) async fn slow_path(
        self: Arc<Core>,
        io: Arc<IoShared>,
        key: String,
        deadline: Option<Instant>,
    ) -> FlightResult {
        let url = ClientIdUrl::parse(&key, &self.rules)?;
        self.check_host(&url)?;
        bump(&self.counters.misses);
        self.flight(io, url, deadline, false).await
    }

    /// Counts failures and applies the request's redirect_uri (the last check of docs/contract.md §11.1).
    pub(crate) fn finish(&self, result: FlightResult, redirect_uri: Option<&str>) -> FlightResult {
        let result = result.and_then(|r| match redirect_uri {
            Some(uri) => {
                redirect::check_redirect_uri(
                    &r.metadata().redirect_uris,
                    uri,
                    self.config.loopback_any_port,
                )?;
                Ok(r)
            }
            None => Ok(r),
        });
        self.count_failure(&result);
        self.counters.resolution(&result, Resolution::source);
        result
    }

    pub(crate) fn count_failure<T>(&self, result: &Result<T, Error>) {
        if let Err(e) = result {
            self.counters.failure(e.code());
        }
    }

    /// The client's inline key set (`Ok(Ok(set))`), or the `jwks_uri` to fetch (`Ok(Err(uri))`).
    pub(crate) fn inline_or_uri(&self, client: &Resolution) -> Result<Result<JwkSet, String>, Error> {
        let m = client.metadata();
        if let Some(jwks) = &m.jwks {
            let json = serde_json::to_string(jwks).map_err(|e| crate::err!(Internal, "{e}"))?;
            return Ok(Ok(JwkSet::new(Arc::from(json), KeySource::Inline, None)));
        }
        match &m.jwks_uri {
            Some(uri) => Ok(Err(uri.clone())),
            None => Err(crate::err!(
                InvalidMetadata,
                "client {} publishes no keys (neither jwks nor jwks_uri), so its client assertions cannot be \
                 verified (AUTH-02)",
                m.client_id
            )),
        }
    }

    /// The cached key set for `uri` while fresh.
    pub(crate) fn fresh_keys(&self, uri: &str) -> Option<JwkSet> {
        let entry = self.keys.get(uri)?;
        match self.policy.use_at(&entry.life, self.clock.now()) {
            Use::Fresh => {
                bump(&self.counters.hits);
                Some(JwkSet::new(entry.value, KeySource::Cache, Some(Arc::from(uri))))
            }
            Use::Revalidate | Use::Fetch => None,
        }
    }
}
