//! The engine: one object that turns a client_id into a validated registration, in this order
//! (docs/contract.md §11.1):
//!
//! client_id URL rules → host policy → cache → (single flight) rate limits → SSRF-safe fetch → document
//! validation → cache store → the request's redirect_uri.
//!
//! The engine is `Send + Sync` and owns its async runtime, so hosts call it from their own request threads
//! through [`Engine::resolve_blocking`], or from async code through [`Engine::resolve`]. A cache hit never
//! touches the runtime: it is a hash lookup, a clock read and a reference-count increment.
//!
//! The runtime (and with it the HTTP client, the limiter and the in-flight table) is created lazily and
//! re-created in a child process after `fork()`, because threads do not survive a fork; the cache does, so a
//! pre-fork server that warmed the cache in the parent keeps its hits in every worker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use tokio::sync::watch;

use crate::cache::{Cache, Entry};
use crate::client_id::{ClientIdUrl, UrlRules};
use crate::config::{Config, ConfigError};
use crate::document::{self, ClientMetadata, DocumentPolicy, Findings};
use crate::error::{Error, ErrorCode};
use crate::fetch::{self, FetchFailure, Fetched, Fetcher, Resolver, SystemResolver};
use crate::freshness::{freshness, CacheHeaders, Freshness};
use crate::jwks::{JwkSet, KeyCache, KeyEntry, KeySource};
use crate::limits::Limiter;
use crate::redirect;
use crate::result::{Resolution, ResolvedClient, Source};
use crate::uri::FetchTarget;

/// Time as the engine sees it. Replaceable so that tests can move the clock instead of sleeping.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic time, for freshness.
    fn now(&self) -> Instant;
    /// Wall-clock time, for `Expires` and for reporting.
    fn wall(&self) -> SystemTime;
}

/// The real clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
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
    let mut out = Vec::new();
    let mut diff = |name: &str, differs: bool| {
        if differs {
            out.push(name.to_owned());
        }
    };
    diff(WATCHED_FIELDS[0], old.redirect_uris != new.redirect_uris);
    diff(
        WATCHED_FIELDS[1],
        old.token_endpoint_auth_method != new.token_endpoint_auth_method,
    );
    diff(WATCHED_FIELDS[2], old.jwks != new.jwks);
    diff(WATCHED_FIELDS[3], old.jwks_uri != new.jwks_uri);
    diff(WATCHED_FIELDS[4], old.scope != new.scope);
    diff(WATCHED_FIELDS[5], old.grant_types != new.grant_types);
    out
}

/// Counters, readable at any time.
#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    fetches: AtomicU64,
    not_modified: AtomicU64,
    coalesced: AtomicU64,
    stale_served: AtomicU64,
    background_refreshes: AtomicU64,
    evictions: AtomicU64,
    invalidations: AtomicU64,
    failures: [AtomicU64; ErrorCode::ALL.len()],
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
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
    pub failures: std::collections::BTreeMap<String, u64>,
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

type FlightResult = Result<Resolution, Error>;

/// The parts that need a live runtime; rebuilt after `fork()`.
struct Io {
    pid: u32,
    runtime: Option<tokio::runtime::Runtime>,
    shared: Arc<IoShared>,
}

struct IoShared {
    fetcher: Fetcher,
    limiter: Limiter,
    inflight: Mutex<HashMap<String, watch::Receiver<Option<FlightResult>>>>,
    handle: tokio::runtime::Handle,
}

impl Drop for Io {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        if self.pid == std::process::id() {
            // Never block: the engine may be dropped from inside someone else's async context.
            runtime.shutdown_background();
        } else {
            // Inherited through fork(): the runtime's threads exist only in the parent, so shutting it down
            // would wait for or signal threads that are not there, and its I/O state (connections, locks) is
            // the parent's. Nothing of it is touched: it is parked, reachable, for the life of the process.
            INHERITED_IO
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((runtime, self.shared.clone()));
        }
    }
}

/// The I/O sides inherited through fork() (see `Drop for Io`): one per engine per fork. Never removed, and a
/// static is never dropped, so nothing of them runs in this process.
static INHERITED_IO: Mutex<Vec<InheritedIo>> = Mutex::new(Vec::new());

type InheritedIo = (tokio::runtime::Runtime, Arc<IoShared>);

/// Everything the engine's tasks share; holds no runtime (a task must never own the runtime it runs on).
struct Core {
    config: Config,
    rules: UrlRules,
    cache: Cache,
    keys: KeyCache,
    counters: Counters,
    generation: AtomicU64,
    clock: Arc<dyn Clock>,
}

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
        let rules = UrlRules {
            allow_query: self.config.allow_query,
            allow_root_path: self.config.allow_root_path,
        };
        let cache = Cache::new(self.config.cache_max_entries, self.config.cache_max_bytes);
        let engine = Engine {
            core: Arc::new(Core {
                rules,
                cache,
                keys: KeyCache::new(self.config.cache_max_entries),
                counters: Counters::default(),
                generation: AtomicU64::new(0),
                clock: self.clock,
                config: self.config,
            }),
            tls,
            resolver: self.resolver,
            worker_threads: self.worker_threads,
            io: Mutex::new(None),
        };
        // Build the I/O side once now so that configuration problems surface at creation, not first use.
        engine.io().map_err(|e| ConfigError::new("", e.description()))?;
        Ok(engine)
    }
}

/// The CIMD engine. Share it between threads (it is `Send + Sync`); create one per configuration.
pub struct Engine {
    core: Arc<Core>,
    tls: rustls::ClientConfig,
    resolver: Arc<dyn Resolver>,
    worker_threads: usize,
    io: Mutex<Option<Io>>,
}

/// What the cache says about a key right now.
enum Lookup {
    Fresh(Resolution),
    /// Expired but inside stale-while-revalidate: serve it and refresh in the background.
    Revalidate(Resolution),
    Miss,
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

    /// The runtime side for this process, created on first use and again after a `fork()`.
    fn io(&self) -> Result<Arc<IoShared>, Error> {
        let pid = std::process::id();
        let mut io = self.io.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(current) = io.as_ref() {
            if current.pid == pid {
                return Ok(current.shared.clone());
            }
        }
        // An I/O side from before a fork() is parked by its Drop; this process gets its own.
        drop(io.take());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads)
            .thread_name("cimd-io")
            .enable_all()
            .build()
            .map_err(|e| crate::err!(Internal, "cannot start the engine's runtime: {e}"))?;
        let fetcher = {
            let _guard = runtime.enter();
            Fetcher::new(&self.core.config, self.tls.clone(), self.resolver.clone())
                .map_err(|e| crate::err!(Internal, "{e}"))?
        };
        let shared = Arc::new(IoShared {
            fetcher,
            limiter: Limiter::new(&self.core.config),
            inflight: Mutex::new(HashMap::new()),
            handle: runtime.handle().clone(),
        });
        *io = Some(Io {
            pid,
            runtime: Some(runtime),
            shared: shared.clone(),
        });
        Ok(shared)
    }

    /// Stops the I/O threads and waits up to `timeout` for them to finish; fetches in flight are abandoned and
    /// their callers get an error. Dropping an engine never blocks, so its threads wind down in the background;
    /// call this first where that matters: a host that frees an engine and expects its threads and sockets to
    /// be gone (the C ABI's `cimd_engine_free`). The cache is kept, and a later fetch starts the threads again.
    /// Never call it from inside async code.
    pub fn shutdown(&self, timeout: Duration) {
        let io = self.io.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut io) = io {
            if io.pid == std::process::id() {
                if let Some(runtime) = io.runtime.take() {
                    runtime.shutdown_timeout(timeout);
                }
            }
        }
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
        let result = match self.fast_path(client_id) {
            Some(r) => Ok(r),
            None => match self.io() {
                Ok(io) => {
                    self.core
                        .clone()
                        .slow_path(io, client_id.to_owned(), deadline)
                        .await
                }
                Err(e) => Err(e),
            },
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
        let result = match self.fast_path(client_id) {
            Some(r) => Ok(r),
            None => self.io().and_then(|io| {
                let deadline = timeout.map(|t| Instant::now() + t);
                let (tx, rx) = mpsc::sync_channel(1);
                let core = self.core.clone();
                let key = client_id.to_owned();
                io.handle.clone().spawn(async move {
                    let _ = tx.send(core.slow_path(io, key, deadline).await);
                });
                rx.recv().unwrap_or_else(|_| {
                    Err(crate::err!(
                        Internal,
                        "the engine's runtime stopped during a resolve"
                    ))
                })
            }),
        };
        self.core.finish(result, redirect_uri)
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
            .cache
            .peek(client_id)
            .and_then(|e| e.client.metadata().jwks_uri.clone())
        {
            self.core.keys.remove(&uri);
        }
        let removed = self.core.cache.remove(client_id);
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
            let (tx, rx) = mpsc::sync_channel(1);
            let core = self.core.clone();
            let task_io = io.clone();
            io.handle.spawn(async move {
                let _ = tx.send(core.fetch_keys(&task_io, &uri, deadline).await);
            });
            rx.recv().unwrap_or_else(|_| {
                Err(crate::err!(
                    Internal,
                    "the engine's runtime stopped while fetching keys"
                ))
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
        let (tx, rx) = mpsc::sync_channel(1);
        let core = self.core.clone();
        io.handle.clone().spawn(async move {
            let _ = tx.send(core.flight(io, url, deadline, true).await);
        });
        let result = rx.recv().unwrap_or_else(|_| {
            Err(crate::err!(
                Internal,
                "the engine's runtime stopped during a refresh"
            ))
        });
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
        let c = &self.core.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            hits: get(&c.hits),
            misses: get(&c.misses),
            fetches: get(&c.fetches),
            not_modified: get(&c.not_modified),
            coalesced_waits: get(&c.coalesced),
            stale_served: get(&c.stale_served),
            background_refreshes: get(&c.background_refreshes),
            evictions: get(&c.evictions),
            invalidations: get(&c.invalidations),
            entries: self.core.cache.len() as u64,
            cache_bytes: self.core.cache.bytes() as u64,
            failures: ErrorCode::ALL
                .iter()
                .zip(c.failures.iter())
                .filter_map(|(code, n)| {
                    let n = get(n);
                    (n > 0).then(|| (code.as_str().to_owned(), n))
                })
                .collect(),
        }
    }

    /// The cache's entries, for operators.
    pub fn entries(&self) -> Vec<EntryInfo> {
        let now = self.core.clock.now();
        let config = &self.core.config;
        self.core
            .cache
            .entries()
            .into_iter()
            .map(|(key, e)| {
                let state = if now < e.fresh_until {
                    "fresh"
                } else if e.serve_stale
                    && now < e.fresh_until + config.stale_while_revalidate.max(config.stale_if_error)
                {
                    "stale"
                } else {
                    "expired"
                };
                EntryInfo {
                    client_id: key.to_string(),
                    state,
                    fetched_at: crate::result::rfc3339(e.client.fetched_at()),
                    confirmed_at: crate::result::rfc3339(e.confirmed_at),
                    expires_at: crate::result::rfc3339(e.expires_at),
                    generation: e.client.generation(),
                    etag: e.validators.etag.clone(),
                    bytes: e.client.cost(),
                    client_name: e.client.metadata().client_name.clone(),
                    changed: e.client.changed().to_vec(),
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

impl Core {
    fn lookup(&self, key: &str) -> Lookup {
        let lookup = self.lookup_quiet(key);
        match &lookup {
            Lookup::Fresh(_) => bump(&self.counters.hits),
            Lookup::Revalidate(_) => bump(&self.counters.stale_served),
            Lookup::Miss => {}
        }
        lookup
    }

    fn lookup_quiet(&self, key: &str) -> Lookup {
        let Some(entry) = self.cache.get(key) else {
            return Lookup::Miss;
        };
        let now = self.clock.now();
        if now < entry.fresh_until {
            Lookup::Fresh(Resolution::new(entry.client, Source::Cache, entry.expires_at))
        } else if entry.serve_stale && now < entry.fresh_until + self.config.stale_while_revalidate {
            Lookup::Revalidate(Resolution::new(entry.client, Source::Stale, entry.expires_at))
        } else {
            Lookup::Miss
        }
    }

    fn check_host(&self, url: &ClientIdUrl) -> Result<(), Error> {
        self.check_host_name(url.host())
    }

    fn check_host_name(&self, host: &str) -> Result<(), Error> {
        if self.config.host_allowed(host) {
            Ok(())
        } else {
            Err(crate::err!(
                HostNotAllowed,
                "host {host} is not allowed by the allowed_hosts / denied_hosts policy; nothing was fetched (POL-02)"
            ))
        }
    }

    /// Counts failures and applies the request's redirect_uri (the last check of §11.1).
    fn finish(
        &self,
        result: Result<Resolution, Error>,
        redirect_uri: Option<&str>,
    ) -> Result<Resolution, Error> {
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
        result
    }

    fn count_failure<T>(&self, result: &Result<T, Error>) {
        if let Err(e) = result {
            if let Some(i) = ErrorCode::ALL.iter().position(|c| *c == e.code()) {
                bump(&self.counters.failures[i]);
            }
        }
    }

    /// The client's inline key set (`Ok(Ok(set))`), or the `jwks_uri` to fetch (`Ok(Err(uri))`).
    fn inline_or_uri(&self, client: &Resolution) -> Result<Result<JwkSet, String>, Error> {
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
    fn fresh_keys(&self, uri: &str) -> Option<JwkSet> {
        let entry = self.keys.get(uri)?;
        if self.clock.now() < entry.fresh_until {
            bump(&self.counters.hits);
            Some(JwkSet::new(entry.json, KeySource::Cache, Some(Arc::from(uri))))
        } else {
            None
        }
    }

    /// One fetch of a `jwks_uri` under the document rules, and the key-cache update that follows.
    async fn fetch_keys(&self, io: &IoShared, uri: &str, deadline: Option<Instant>) -> Result<JwkSet, Error> {
        let target = FetchTarget::jwks_uri(uri)?;
        self.check_host_name(target.host())?;
        let existing = self.keys.get(uri);
        let limit = Instant::now() + self.config.fetch_timeout;
        let deadline = deadline.map_or(limit, |d| d.min(limit));
        let outcome = self
            .fetch_limited(io, &target, existing.as_ref().map(|e| &e.validators), deadline)
            .await;
        let shared_uri: Arc<str> = Arc::from(uri);
        match outcome {
            Ok(Fetched::Document { body, meta }) => {
                let policy = DocumentPolicy::from_config(&self.config);
                let set = match document::validate_jwks(&body, &policy) {
                    Ok(set) => set,
                    Err(e) => {
                        self.keys.remove(uri);
                        return Err(e);
                    }
                };
                let json: Arc<str> =
                    Arc::from(serde_json::to_string(&set).map_err(|e| crate::err!(Internal, "{e}"))?);
                let (now, wall) = (self.clock.now(), self.clock.wall());
                let fresh = self.lifetime(&meta, wall);
                self.keys.insert(
                    uri,
                    KeyEntry {
                        json: json.clone(),
                        fresh_until: now + fresh.ttl,
                        expires_at: wall + fresh.ttl,
                        validators: meta.validators,
                        serve_stale: fresh.serve_stale,
                    },
                );
                Ok(JwkSet::new(json, KeySource::Network, Some(shared_uri)))
            }
            Ok(Fetched::NotModified { meta }) => {
                let renewal = self.renewal(meta);
                let mut json = None;
                self.keys.update(uri, |e| {
                    renewal.apply(
                        &mut e.fresh_until,
                        &mut e.expires_at,
                        &mut e.validators,
                        &mut e.serve_stale,
                    );
                    json = Some(e.json.clone());
                });
                match json {
                    Some(json) => Ok(JwkSet::new(json, KeySource::Network, Some(shared_uri))),
                    None => Err(crate::err!(
                        HttpStatus,
                        "{uri} answered 304 but the cached keys were evicted meanwhile; try again"
                    )),
                }
            }
            Err(failure) => self.after_failure(
                failure,
                existing.map(|old| {
                    let stale = JwkSet::new(old.json, KeySource::Stale, Some(shared_uri));
                    (old.fresh_until, old.serve_stale, stale)
                }),
                || {
                    self.keys.remove(uri);
                },
            ),
        }
    }

    async fn slow_path(
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

    /// Joins the fetch in flight for this client_id, or starts one (single flight). Returns the receiver and
    /// whether this call started the fetch.
    fn start_flight(
        self: Arc<Core>,
        io: &Arc<IoShared>,
        url: ClientIdUrl,
    ) -> (watch::Receiver<Option<FlightResult>>, bool) {
        let mut inflight = io.inflight.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(rx) = inflight.get(url.as_str()) {
            return (rx.clone(), false);
        }
        let (tx, rx) = watch::channel(None);
        inflight.insert(url.as_str().to_owned(), rx.clone());
        drop(inflight);
        let task_io = io.clone();
        io.handle.spawn(async move {
            let result = self.fetch_and_store(&task_io, &url).await;
            task_io
                .inflight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(url.as_str());
            let _ = tx.send(Some(result));
        });
        (rx, true)
    }

    /// Waits for the single flight of `url`, at most until `deadline`. Unless `force`d (an operator's
    /// refresh), a fresh entry stored by a flight that finished since the caller's cache miss is used instead.
    async fn flight(
        self: Arc<Core>,
        io: Arc<IoShared>,
        url: ClientIdUrl,
        deadline: Option<Instant>,
        force: bool,
    ) -> FlightResult {
        if !force {
            let inflight = io.inflight.lock().unwrap_or_else(|p| p.into_inner());
            if !inflight.contains_key(url.as_str()) {
                if let Lookup::Fresh(r) = self.lookup_quiet(url.as_str()) {
                    drop(inflight);
                    bump(&self.counters.coalesced);
                    return Ok(r);
                }
            }
        }
        let key_for_error = url.as_str().to_owned();
        let (mut rx, started) = self.clone().start_flight(&io, url);
        if !started {
            bump(&self.counters.coalesced);
        }
        let wait = rx.wait_for(|v| v.is_some());
        let outcome = match deadline {
            Some(d) => match tokio::time::timeout(d.saturating_duration_since(Instant::now()), wait).await {
                Ok(r) => r.map(|v| v.clone()),
                Err(_) => {
                    return Err(crate::err!(
                        Timeout,
                        "resolving {key_for_error} did not complete within the caller's deadline"
                    ))
                }
            },
            None => wait.await.map(|v| v.clone()),
        };
        match outcome {
            Ok(Some(result)) => result,
            _ => Err(crate::err!(
                Internal,
                "the fetch for {key_for_error} ended without a result"
            )),
        }
    }

    /// One fetch for `url`, revalidating the cached version when there is one, and the cache update that follows
    /// (docs/contract.md §4).
    async fn fetch_and_store(&self, io: &IoShared, url: &ClientIdUrl) -> FlightResult {
        let key = url.as_str();
        let existing = self.cache.peek(key);
        let deadline = Instant::now() + self.config.fetch_timeout;
        let target = FetchTarget::client_id(url);
        let outcome = self
            .fetch_limited(io, &target, existing.as_ref().map(|e| &e.validators), deadline)
            .await;
        match outcome {
            Ok(Fetched::Document { body, meta }) => {
                let policy = DocumentPolicy::from_config(&self.config);
                let doc = match document::validate(&body, key, &policy) {
                    Ok(doc) => doc,
                    Err(e) => {
                        // An invalid new document evicts the old one at once and is never cached (CAC-05).
                        self.cache.remove(key);
                        return Err(e);
                    }
                };
                let (now, wall) = (self.clock.now(), self.clock.wall());
                let fresh = self.lifetime(&meta, wall);
                let (changed, generation) = match &existing {
                    Some(old)
                        if old.client.metadata() == &doc.metadata
                            && old.client.warnings() == doc.warnings =>
                    {
                        (None, old.client.generation())
                    }
                    Some(old) => (
                        Some(changed_fields(old.client.metadata(), &doc.metadata)),
                        self.generation.fetch_add(1, Ordering::Relaxed) + 1,
                    ),
                    None => (
                        Some(Vec::new()),
                        self.generation.fetch_add(1, Ordering::Relaxed) + 1,
                    ),
                };
                let client = match (changed, &existing) {
                    // Same document again: keep the shared version (and its serialisation).
                    (None, Some(old)) => old.client.clone(),
                    (changed, _) => Arc::new(ResolvedClient::new(
                        doc.metadata,
                        url.display_host(),
                        doc.warnings,
                        changed.unwrap_or_default(),
                        wall,
                        generation,
                        body.len(),
                    )),
                };
                let entry = Entry {
                    client: client.clone(),
                    fresh_until: now + fresh.ttl,
                    expires_at: wall + fresh.ttl,
                    validators: meta.validators,
                    serve_stale: fresh.serve_stale,
                    confirmed_at: wall,
                };
                let evicted = self.cache.insert(key, entry);
                self.counters
                    .evictions
                    .fetch_add(evicted.entries as u64, Ordering::Relaxed);
                Ok(Resolution::new(client, Source::Network, wall + fresh.ttl))
            }
            Ok(Fetched::NotModified { meta }) => {
                let renewal = self.renewal(meta);
                let mut client = None;
                self.cache.update(key, |e| {
                    renewal.apply(
                        &mut e.fresh_until,
                        &mut e.expires_at,
                        &mut e.validators,
                        &mut e.serve_stale,
                    );
                    e.confirmed_at = renewal.wall;
                    client = Some(e.client.clone());
                });
                match client {
                    Some(client) => Ok(Resolution::new(client, Source::Network, renewal.expires_at)),
                    None => Err(crate::err!(
                        HttpStatus,
                        "{key} answered 304 but the cached version was evicted meanwhile; try again"
                    )),
                }
            }
            Err(failure) => self.after_failure(
                failure,
                existing.map(|old| {
                    let stale = Resolution::new(old.client, Source::Stale, old.expires_at);
                    (old.fresh_until, old.serve_stale, stale)
                }),
                || {
                    self.cache.remove(key);
                },
            ),
        }
    }

    /// One fetch under the per-host concurrency limit and the deadline, counted. The document path and the
    /// `jwks_uri` path share it, so both obey the same limits.
    async fn fetch_limited(
        &self,
        io: &IoShared,
        target: &FetchTarget,
        validators: Option<&fetch::Validators>,
        deadline: Instant,
    ) -> Result<Fetched, FetchFailure> {
        io.fetcher.vet_literal(target)?;
        match io.limiter.acquire(target.host(), deadline).await {
            Ok(_permit) => {
                bump(&self.counters.fetches);
                io.fetcher.fetch(target, validators, Some(deadline)).await
            }
            Err(e) => Err(FetchFailure::from(e)),
        }
    }

    /// The freshness a 304 grants (docs/contract.md §4), counted.
    fn renewal(&self, meta: fetch::ResponseMeta) -> Renewal {
        let (now, wall) = (self.clock.now(), self.clock.wall());
        let fresh = self.lifetime(&meta, wall);
        bump(&self.counters.not_modified);
        // RFC 9111 §4.3.4: a 304's header fields replace the stored ones; fields it does not send stay.
        let serve_stale = (!meta.cache_control.is_empty()).then_some(fresh.serve_stale);
        let validators = meta.validators;
        let has_validators = validators.etag.is_some() || validators.last_modified.is_some();
        Renewal {
            fresh_until: now + fresh.ttl,
            expires_at: wall + fresh.ttl,
            wall,
            validators: has_validators.then_some(validators),
            serve_stale,
        }
    }

    /// The failure policy of docs/contract.md §4, for documents and key sets alike: a failure that proves the
    /// resource gone (404/410) evicts it; a transient one (429, 5xx, transport) serves the cached version while
    /// within `stale_if_error` past its freshness, unless its headers forbade serving it stale (CAC-07); anything
    /// else is the error.
    fn after_failure<T>(
        &self,
        failure: FetchFailure,
        cached: Option<(Instant, bool, T)>,
        evict: impl FnOnce(),
    ) -> Result<T, Error> {
        if failure.evicts() {
            evict();
        } else if failure.allows_stale() {
            if let Some((fresh_until, true, stale)) = cached {
                if self.clock.now() < fresh_until + self.config.stale_if_error {
                    bump(&self.counters.stale_served);
                    return Ok(stale);
                }
            }
        }
        Err(failure.error)
    }

    fn lifetime(&self, meta: &fetch::ResponseMeta, wall: SystemTime) -> Freshness {
        let headers = CacheHeaders {
            cache_control: meta.cache_control.iter().map(String::as_str).collect(),
            expires: meta.expires.as_deref(),
            age: meta.age.as_deref(),
            date: meta.date.as_deref(),
        };
        freshness(
            &headers,
            wall,
            self.config.min_cache_ttl,
            self.config.max_cache_ttl,
        )
    }
}

/// What a 304 renews in a cached entry.
struct Renewal {
    fresh_until: Instant,
    expires_at: SystemTime,
    wall: SystemTime,
    /// New validators, when the 304 carried any; otherwise the cached ones stay.
    validators: Option<fetch::Validators>,
    /// Whether the entry may be served stale, when the 304 carried Cache-Control; otherwise it stays.
    serve_stale: Option<bool>,
}

impl Renewal {
    fn apply(
        &self,
        fresh_until: &mut Instant,
        expires_at: &mut SystemTime,
        validators: &mut fetch::Validators,
        serve_stale: &mut bool,
    ) {
        *fresh_until = self.fresh_until;
        *expires_at = self.expires_at;
        if let Some(v) = &self.validators {
            *validators = v.clone();
        }
        if let Some(allowed) = self.serve_stale {
            *serve_stale = allowed;
        }
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

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
        assert_send_sync::<Resolution>();
    }

    #[test]
    fn shutdown_stops_the_runtime_and_the_next_need_starts_one() {
        let e = Engine::from_json("{}").unwrap();
        let running = |e: &Engine| e.io.lock().unwrap().is_some();
        assert!(running(&e));
        e.shutdown(Duration::from_secs(1));
        assert!(!running(&e));
        e.shutdown(Duration::from_secs(1));
        e.io().unwrap();
        assert!(running(&e));
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
