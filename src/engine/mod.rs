//! The engine: one object that turns a client_id into a validated registration, in this order
//! (docs/contract.md §11.1):
//!
//! client_id URL rules → host policy → store → (single flight) rate limits → SSRF-safe fetch → document
//! validation → store → the request's redirect_uri.
//!
//! The engine is `Send + Sync` and owns its async runtime, so hosts call it from their own request threads
//! through [`Engine::resolve_blocking`], or from async code through [`Engine::resolve`]. A cache hit never
//! touches the runtime: it is a hash lookup, a clock read and a reference-count increment.
//!
//! The engine orchestrates; each concern has its own module: [`clock`], the counters and operator views
//! ([`stats`]), the fork-aware runtime and the one blocking bridge (`runtime`), the shared state and lookups
//! (`core`), single flight (`flight`), and the one fetch-then-store for documents and key sets
//! (`fetch_store`). Every decision about time is [`crate::cache::policy`]'s.

pub mod clock;
mod core;
mod fetch_store;
mod flight;
mod runtime;
pub mod stats;

use std::sync::Arc;
use std::time::{Duration, Instant};

use self::core::{Core, Lookup};
use self::runtime::{block_on, Runtime};
use self::stats::bump;
use crate::client_id::ClientIdUrl;
use crate::config::{Config, ConfigError};
use crate::document::{self, DocumentPolicy, Findings};
use crate::error::{Error, ErrorCode};
use crate::fetch::{Resolver, SystemResolver};
use crate::jwks::JwkSet;
use crate::redirect;
use crate::result::{Resolution, ResolvedClient, Source};

pub use self::clock::{Clock, SystemClock};
pub use self::stats::{EntryInfo, FetchResults, Histogram, Resolutions, Stats, FETCH_DURATION_BUCKETS_MS};

/// Builds an [`Engine`] with replaceable parts (for tests and embedders).
pub struct EngineBuilder {
    config: Config,
    resolver: Arc<dyn Resolver>,
    clock: Arc<dyn Clock>,
    worker_threads: usize,
}

impl EngineBuilder {
    /// Replaces the DNS resolver (e.g. a stub in tests). Every answer is still vetted.
    pub fn resolver(mut self, resolver: Arc<dyn Resolver>) -> EngineBuilder {
        self.resolver = resolver;
        self
    }

    /// Replaces the clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> EngineBuilder {
        self.clock = clock;
        self
    }

    /// Worker threads of the internal runtime (default 2). Fetching is I/O bound; more rarely helps.
    pub fn worker_threads(mut self, n: usize) -> EngineBuilder {
        self.worker_threads = n.clamp(1, 64);
        self
    }

    /// Builds the engine. Fails on an unreadable `extra_ca_file`.
    pub fn build(self) -> Result<Engine, ConfigError> {
        let tls = crate::tls::tls_config(&self.config)?;
        let engine = Engine {
            runtime: Runtime::new(tls, self.resolver, self.worker_threads),
            core: Arc::new(Core::new(self.config, self.clock)),
        };
        // Build the I/O side once now so that configuration problems surface at creation, not first use.
        engine.io().map_err(|e| ConfigError::new("", e.description()))?;
        Ok(engine)
    }
}

/// The CIMD engine. Share it between threads (it is `Send + Sync`); create one per configuration.
pub struct Engine {
    core: Arc<Core>,
    runtime: Runtime,
}

impl Engine {
    /// An engine with the given configuration, the system resolver and the system clock.
    pub fn new(config: Config) -> Result<Engine, ConfigError> {
        Engine::builder(config).build()
    }

    /// An engine from a configuration JSON object (docs/contract.md §8).
    pub fn from_json(config: &str) -> Result<Engine, ConfigError> {
        Engine::new(Config::from_json(config)?)
    }

    /// A builder, to replace the resolver or the clock.
    pub fn builder(config: Config) -> EngineBuilder {
        EngineBuilder {
            config,
            resolver: Arc::new(SystemResolver),
            clock: Arc::new(SystemClock),
            worker_threads: 2,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    fn io(&self) -> Result<Arc<runtime::IoShared>, Error> {
        self.runtime.io(&self.core.config)
    }

    /// Stops the I/O threads and waits up to `timeout` for them to finish; fetches in flight are abandoned and
    /// their callers get an error. Dropping an engine never blocks, so its threads wind down in the background;
    /// call this first where that matters: a host that frees an engine and expects its threads and sockets to
    /// be gone (the C ABI's `cimd_engine_free`). The cache is kept, and a later fetch starts the threads again.
    /// Never call it from inside async code.
    pub fn shutdown(&self, timeout: Duration) {
        self.runtime.shutdown(timeout);
    }

    /// Resolves `client_id`, checking `redirect_uri` when given, from async code.
    pub async fn resolve(&self, client_id: &str, redirect_uri: Option<&str>) -> Result<Resolution, Error> {
        self.resolve_with_deadline(client_id, redirect_uri, None).await
    }

    /// Like [`Engine::resolve`], giving up at `deadline`.
    pub async fn resolve_with_deadline(
        &self,
        client_id: &str,
        redirect_uri: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<Resolution, Error> {
        let result = match self.hit_or_io(client_id) {
            Ok(Ok(hit)) => Ok(hit),
            Ok(Err(io)) => {
                self.core
                    .clone()
                    .slow_path(io, client_id.to_owned(), deadline)
                    .await
            }
            Err(e) => Err(e),
        };
        self.core.finish(result, redirect_uri)
    }

    /// Resolves `client_id` from a plain thread, blocking it until the answer or `timeout` (which can only
    /// shorten `fetch_timeout_ms`). Never call it from inside an async task: use [`Engine::resolve`] there.
    pub fn resolve_blocking(
        &self,
        client_id: &str,
        redirect_uri: Option<&str>,
        timeout: Option<Duration>,
    ) -> Result<Resolution, Error> {
        let result = self.hit_or_io(client_id).and_then(|found| match found {
            Ok(hit) => Ok(hit),
            Err(io) => {
                let deadline = timeout.map(|t| Instant::now() + t);
                let task = self
                    .core
                    .clone()
                    .slow_path(io.clone(), client_id.to_owned(), deadline);
                block_on(&io, "a resolve", task)
            }
        });
        self.core.finish(result, redirect_uri)
    }

    /// The start of every resolve: a cache hit (`Ok(Ok(hit))`), or on a miss the I/O runtime to fetch with
    /// (`Ok(Err(io))`); the async and the blocking forms differ only in how they wait for that fetch.
    fn hit_or_io(&self, client_id: &str) -> Result<Result<Resolution, Arc<runtime::IoShared>>, Error> {
        match self.fast_path(client_id) {
            Some(hit) => Ok(Ok(hit)),
            None => self.io().map(Err),
        }
    }

    /// Fresh and revalidating cache hits, without the runtime. Starts a background refresh when the entry is
    /// inside its stale-while-revalidate window.
    fn fast_path(&self, client_id: &str) -> Option<Resolution> {
        match self.core.lookup(client_id) {
            Lookup::Fresh(r) => Some(r),
            Lookup::Revalidate(r) => {
                if let Ok(io) = self.io() {
                    if let Ok(url) = ClientIdUrl::parse(client_id, &self.core.rules) {
                        if self.core.clone().start_flight(&io, url).1 {
                            bump(&self.core.counters.background_refreshes);
                        }
                    }
                }
                Some(r)
            }
            Lookup::Miss => None,
        }
    }

    /// The cached answer for `client_id`, fresh or servable while stale, without any I/O and without starting a
    /// refresh. `None` if a resolve would have to fetch.
    pub fn probe(&self, client_id: &str) -> Option<Resolution> {
        match self.core.lookup_quiet(client_id) {
            Lookup::Fresh(r) | Lookup::Revalidate(r) => Some(r),
            Lookup::Miss => None,
        }
    }

    /// What [`Engine::resolve_blocking`] would answer, when it can answer without fetching: a fresh cache hit,
    /// or a stale one inside its stale-while-revalidate window (which starts the background refresh, as a
    /// resolve does), with `redirect_uri` checked. `None` when a resolve would have to fetch.
    ///
    /// For hosts that decide early in a request whether they need the engine at all (the Keycloak extension's
    /// client policy): one call answers both "is this client known?" and "is this redirect_uri allowed?".
    pub fn resolve_cached(
        &self,
        client_id: &str,
        redirect_uri: Option<&str>,
    ) -> Option<Result<Resolution, Error>> {
        let hit = self.fast_path(client_id)?;
        Some(self.core.finish(Ok(hit), redirect_uri))
    }

    /// Forgets the cached document for `client_id`. True if there was one.
    pub fn invalidate(&self, client_id: &str) -> bool {
        // The client's fetched keys go too, so that an operator's invalidation also forces fresh keys.
        if let Some(uri) = self
            .core
            .docs
            .peek(client_id)
            .and_then(|e| e.value.metadata().jwks_uri.clone())
        {
            self.core.keys.remove(&uri);
        }
        let removed = self.core.docs.remove(client_id);
        if removed {
            bump(&self.core.counters.invalidations);
        }
        removed
    }

    /// The JWK Set that verifies `client_id`'s client assertions (`private_key_jwt`), from a plain thread.
    ///
    /// Resolves the client first (cache or fetch, as [`Engine::resolve_blocking`]), then returns its inline
    /// `jwks`, or the set at its `jwks_uri`, fetched under the document rules (see [`crate::jwks`]) and cached
    /// with the same freshness. `timeout` bounds the whole call. A client without keys is `invalid_metadata`.
    pub fn resolve_jwks_blocking(&self, client_id: &str, timeout: Option<Duration>) -> Result<JwkSet, Error> {
        let started = Instant::now();
        let client = self.resolve_blocking(client_id, None, timeout)?;
        let uri = match self.core.inline_or_uri(&client)? {
            Ok(inline) => return Ok(inline),
            Err(uri) => uri,
        };
        if let Some(set) = self.core.fresh_keys(&uri) {
            return Ok(set);
        }
        let result = self.io().and_then(|io| {
            let deadline = timeout.map(|t| started + t);
            let core = self.core.clone();
            let task_io = io.clone();
            block_on(&io, "a key fetch", async move {
                core.fetch_keys(&task_io, &uri, deadline).await
            })
        });
        self.core.count_failure(&result);
        result
    }

    /// Async form of [`Engine::resolve_jwks_blocking`].
    pub async fn resolve_jwks(&self, client_id: &str) -> Result<JwkSet, Error> {
        let client = self.resolve(client_id, None).await?;
        let uri = match self.core.inline_or_uri(&client)? {
            Ok(inline) => return Ok(inline),
            Err(uri) => uri,
        };
        if let Some(set) = self.core.fresh_keys(&uri) {
            return Ok(set);
        }
        let io = self.io()?;
        let result = self.core.fetch_keys(&io, &uri, None).await;
        self.core.count_failure(&result);
        result
    }

    /// Fetches `client_id` again now (conditionally, when validators are cached), whatever its freshness.
    pub fn refresh_blocking(&self, client_id: &str, timeout: Option<Duration>) -> Result<Resolution, Error> {
        let url = ClientIdUrl::parse(client_id, &self.core.rules)?;
        self.core.check_host(&url)?;
        let io = self.io()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let task = self.core.clone().flight(io.clone(), url, deadline, true);
        let result = block_on(&io, "a refresh", task);
        self.core.finish(result, None)
    }

    /// Async form of [`Engine::refresh_blocking`].
    pub async fn refresh(&self, client_id: &str) -> Result<Resolution, Error> {
        let url = ClientIdUrl::parse(client_id, &self.core.rules)?;
        self.core.check_host(&url)?;
        let io = self.io()?;
        let result = self.core.clone().flight(io, url, None, true).await;
        self.core.finish(result, None)
    }

    /// Validates a local document exactly as a fetched one would be (for `cimd lint`); nothing is fetched or
    /// cached. `client_id` defaults to the document's own `client_id` member; the URL rules apply either way.
    /// Returns the first broken rule, in the order of docs/contract.md §11.1; [`Engine::lint_all`] returns all.
    pub fn lint(
        &self,
        body: &[u8],
        client_id: Option<&str>,
        redirect_uri: Option<&str>,
    ) -> Result<Resolution, Error> {
        self.lint_all(body, client_id, redirect_uri)
            .map_err(|mut findings| findings.swap_remove(0))
    }

    /// Like [`Engine::lint`], but reports every broken rule of the document, the URL and the redirect URI (at
    /// least one on failure), in the order of docs/contract.md §11.1: the URL rules, the host policy, then the
    /// document's stages, then the request's redirect_uri (docs/contract.md §11.10).
    pub fn lint_all(
        &self,
        body: &[u8],
        client_id: Option<&str>,
        redirect_uri: Option<&str>,
    ) -> Result<Resolution, Vec<Error>> {
        let config = &self.core.config;
        let mut findings = Findings::every();
        let client_id = match client_id {
            Some(c) => c.to_owned(),
            None => match document_client_id(body, config) {
                Ok(own) => own,
                // No usable client_id member: the document stage reports why (DOC-01), with nothing to compare.
                Err(e) if e.code() == ErrorCode::InvalidMetadata => String::new(),
                Err(e) => return Err(vec![e]),
            },
        };
        let url = if client_id.is_empty() {
            None
        } else {
            findings.absorb(ClientIdUrl::parse(&client_id, &self.core.rules))
        };
        if let Some(url) = &url {
            findings.absorb(self.core.check_host(url));
        }
        let policy = DocumentPolicy::from_config(config);
        let validated = document::validate_reporting(body, &client_id, &policy, &mut findings);
        let doc = findings.absorb(validated);
        let doc = match doc {
            Some(doc) => doc,
            None => return Err(findings.into_errors()),
        };
        if let Some(uri) = redirect_uri {
            findings.absorb(redirect::check_redirect_uri(
                &doc.metadata.redirect_uris,
                uri,
                config.loopback_any_port,
            ));
        }
        let (Some(url), false) = (url, findings.any()) else {
            return Err(findings.into_errors());
        };
        let now = self.core.clock.wall();
        let client = ResolvedClient::new(
            doc.metadata,
            url.display_host(),
            doc.warnings,
            Vec::new(),
            now,
            0,
            body.len(),
        );
        Ok(Resolution::new(Arc::new(client), Source::Local, now))
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.core
            .counters
            .snapshot(self.core.docs.len(), self.core.docs.bytes())
    }

    /// The cache's entries, for operators.
    pub fn entries(&self) -> Vec<EntryInfo> {
        let now = self.core.clock.now();
        self.core
            .docs
            .entries()
            .into_iter()
            .map(|(key, e)| {
                let client = &e.value;
                EntryInfo {
                    client_id: key.to_string(),
                    state: self.core.policy.state(&e.life, now),
                    fetched_at: crate::result::rfc3339(client.fetched_at()),
                    confirmed_at: crate::result::rfc3339(e.confirmed_at),
                    expires_at: crate::result::rfc3339(e.life.expires_at),
                    generation: client.generation(),
                    etag: e.validators.etag.clone(),
                    bytes: client.cost(),
                    client_name: client.metadata().client_name.clone(),
                    changed: client.changed().to_vec(),
                }
            })
            .collect()
    }

    /// The authorization-server metadata a host should advertise when it enables cimd (docs/contract.md §10).
    pub fn discovery_metadata(&self) -> serde_json::Value {
        serde_json::json!({
            "client_id_metadata_document_supported": true,
            "token_endpoint_auth_methods_supported": self.core.config.auth_methods_supported,
            "code_challenge_methods_supported": ["S256"],
        })
    }
}

/// The `client_id` member of a document, for `lint` without `--client-id`.
fn document_client_id(body: &[u8], config: &Config) -> Result<String, Error> {
    let value = crate::json::parse_strict(body, &DocumentPolicy::from_config(config).limits)?;
    match value.get("client_id") {
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(crate::err!(
            InvalidMetadata,
            "the document's client_id is not a string (DOC-01)"
        )),
        None => Err(crate::err!(
            InvalidMetadata,
            "the document has no client_id member (DOC-01)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
        assert_send_sync::<Resolution>();
    }

    #[test]
    fn shutdown_stops_the_runtime_and_the_next_need_starts_one() {
        let e = Engine::from_json("{}").unwrap();
        assert!(e.runtime.is_running());
        e.shutdown(Duration::from_secs(1));
        assert!(!e.runtime.is_running());
        e.shutdown(Duration::from_secs(1));
        e.io().unwrap();
        assert!(e.runtime.is_running());
    }

    #[test]
    fn discovery_metadata_follows_contract_10() {
        let e = Engine::from_json(r#"{"auth_methods_supported": ["none", "private_key_jwt"]}"#).unwrap();
        let d = e.discovery_metadata();
        assert_eq!(d["client_id_metadata_document_supported"], true);
        assert_eq!(
            d["token_endpoint_auth_methods_supported"],
            serde_json::json!(["none", "private_key_jwt"])
        );
        assert_eq!(d["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    }

    #[test]
    fn invalid_urls_fail_before_any_io_and_are_counted() {
        let e = Engine::from_json("{}").unwrap();
        let err = e
            .resolve_blocking("http://c.example/a.json", None, None)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidClientIdUrl);
        let err = Engine::from_json(r#"{"denied_hosts": ["c.example"]}"#)
            .unwrap()
            .resolve_blocking("https://c.example/a.json", None, None)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::HostNotAllowed);
        assert_eq!(e.stats().failures.get("invalid_client_id_url"), Some(&1));
        assert_eq!(e.stats().fetches, 0);
    }
}
