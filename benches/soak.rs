//! Fault soak (issue 7): 64 resolver threads over 1,000 client_ids against a loopback "chaos host" that delays,
//! resets, truncates, slow-drips, answers 5xx/429/3xx/404, serves broken documents, changes documents and
//! presents broken certificates at random, for a bounded time.
//!
//! ```text
//! cargo bench --bench soak -- [--short] [--seconds N]    # inside scripts/netns (make hardening-test does)
//! ```
//!
//! Default 600 s; `--short` is 20 s (the `make test` smoke). It checks, and exits 1 on any violation:
//! * every answer is a valid client (the requested client_id byte for byte, a document version the host really
//!   served, internally consistent) or a precise error: one of the codes the chaos can cause, with a
//!   description, never `internal`;
//! * stale documents are served only within their windows: `cache` answers before `expires_at`, `stale` answers
//!   after it and before `expires_at + max(stale_while_revalidate, stale_if_error)` (1 s of slack for clocks);
//! * no thread is stuck: a watchdog fails the run when one resolve takes longer than twice fetch_timeout_ms
//!   plus 3 s;
//! * nothing crashes (a panicking thread fails the run);
//! * resident memory (VmRSS) stays below the baseline + the configured cache budget (cache_max_bytes) + a fixed
//!   overhead.
//!
//! It prints the request count, the error mix and peak memory; `SOAK_REPORT=FILE` also writes them as JSON.
//! Network safety: the chaos host listens on 127.0.0.1 only, every name resolves to 127.0.0.1 through a stub
//! resolver, and the run belongs inside scripts/netns, where only loopback exists.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use cimd::{BoxFuture, Resolver};
use cimd::{Config, Engine, ErrorCode, Source};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde_json::json;
use support::{Reply, Request, Server, TestPki};

const THREADS: usize = 64;
const CLIENTS: usize = 1000;
const HOSTS: usize = 16;
/// Clients 0..HOT get most of the traffic, as real clients do.
const HOT: usize = 100;
const FETCH_TIMEOUT: Duration = Duration::from_millis(2000);
const STALE_WHILE_REVALIDATE_S: u64 = 2;
const STALE_IF_ERROR_S: u64 = 4;
const CACHE_MAX_BYTES: u64 = 512 * 1024;
/// Runtime, TLS sessions, 64 thread stacks, the chaos host and allocator slack: independent of the run's length.
const FIXED_OVERHEAD: u64 = 32 << 20;
/// A resolve longer than this means a stuck thread.
const STUCK_AFTER: Duration = Duration::from_millis(2 * 2000 + 3000);
/// Clock slack for the window checks (the engine's instant and wall clocks are read a moment apart).
const SLACK: Duration = Duration::from_secs(1);

/// A fast, good-enough PRNG (xorshift64*), one per thread; the soak needs variety, not cryptography.
struct Rng(u64);

impl Rng {
    fn seeded(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

static SEEDS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static RNG: std::cell::RefCell<Rng> = std::cell::RefCell::new(Rng::seeded(
        SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
            ^ SEEDS.fetch_add(0x1_0000_0001, Ordering::Relaxed),
    ));
}

fn rand_below(n: u64) -> u64 {
    RNG.with(|r| r.borrow_mut().below(n))
}

/// Every name resolves to 127.0.0.1 (and nothing else is ever contacted).
struct Loopback;

impl Resolver for Loopback {
    fn lookup(&self, _host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        Box::pin(async { Ok(vec![IpAddr::from([127, 0, 0, 1])]) })
    }
}

/// Presents the valid leaf most of the time and, at random, an expired one, one for another name, a
/// self-signed one or one from an untrusted CA: certificates that change under the client.
#[derive(Debug)]
struct ChaosCerts {
    valid: Arc<CertifiedKey>,
    broken: Vec<Arc<CertifiedKey>>,
    handshakes: AtomicUsize,
    broken_served: AtomicUsize,
}

impl ResolvesServerCert for ChaosCerts {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.handshakes.fetch_add(1, Ordering::Relaxed);
        let roll = rand_below(1000);
        if roll < 40 {
            self.broken_served.fetch_add(1, Ordering::Relaxed);
            Some(self.broken[(roll as usize) % self.broken.len()].clone())
        } else {
            Some(self.valid.clone())
        }
    }
}

/// What the chaos host knows about each client: its current document version and the newest it ever served.
struct Documents {
    port: u16,
    version: Vec<AtomicU32>,
    served_max: Vec<AtomicU32>,
}

impl Documents {
    fn client_id(&self, i: usize) -> String {
        format!("https://h{}.soak.example:{}/c/{i}.json", i % HOSTS, self.port)
    }

    fn body(&self, i: usize, version: u32) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "client_id": self.client_id(i),
            "client_name": format!("soak {i} v{version}"),
            "redirect_uris": [redirect_uri(i, version)],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        }))
        .unwrap()
    }
}

fn redirect_uri(i: usize, version: u32) -> String {
    format!("https://app.soak.example/cb/{i}/v{version}")
}

/// The chaos: one reply per request, chosen at random (weights per mille).
fn chaos_reply(docs: &Documents, req: &Request) -> Reply {
    let Some(i) = req
        .path
        .strip_prefix("/c/")
        .and_then(|p| p.strip_suffix(".json"))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|i| *i < CLIENTS)
    else {
        return Reply::text(404, "no such client\n");
    };
    let roll = rand_below(1000);
    let mut version = docs.version[i].load(Ordering::SeqCst);
    if (600..640).contains(&roll) {
        // The document changes.
        version = docs.version[i].fetch_add(1, Ordering::SeqCst) + 1;
    }
    let good = |version: u32| {
        docs.served_max[i].fetch_max(version, Ordering::SeqCst);
        let mut r = Reply::json(docs.body(i, version))
            .header("Cache-Control", &format!("max-age={}", rand_below(4)))
            .header("ETag", &format!("\"v{version}\""))
            .date_now();
        if rand_below(10) == 0 {
            r = r.header("Connection", "close"); // so that new handshakes (and certificates) keep happening
        }
        r
    };
    match roll {
        0..=639 => {
            if req.header("if-none-match") == Some(&format!("\"v{version}\"")) && rand_below(2) == 0 {
                return Reply::status(304)
                    .header("Cache-Control", &format!("max-age={}", rand_below(4)))
                    .header("ETag", &format!("\"v{version}\""));
            }
            good(version)
        }
        640..=679 => good(version).delay(Duration::from_millis(200 + rand_below(2300))),
        680..=704 => Reply::status(200).reset(),
        705..=729 => {
            let body = docs.body(i, version);
            let n = body.len() as u64 + 50;
            Reply::json(body).content_length(n)
        }
        730..=754 => {
            let (interval, bytes) = if rand_below(2) == 0 { (100, 4) } else { (20, 64) };
            good(version).drip(Duration::from_millis(interval), bytes)
        }
        755..=764 => Reply::status(200).hang(),
        765..=804 => Reply::text([500, 502, 503, 504][rand_below(4) as usize], "chaos\n"),
        805..=834 => Reply::text(429, "slow down\n").header("Retry-After", "1"),
        835..=864 => Reply::redirect([301, 302, 307, 308][rand_below(4) as usize], "https://elsewhere.example/x"),
        865..=879 => Reply::text(if rand_below(2) == 0 { 404 } else { 410 }, "gone\n"),
        880..=894 => Reply::json(
            serde_json::to_vec(&json!({"client_id": "https://impostor.example/c.json", "redirect_uris": ["https://x.example/"]}))
                .unwrap(),
        ),
        895..=904 => Reply::json(
            serde_json::to_vec(&json!({"client_id": docs.client_id(i), "redirect_uris": ["https://x.example/"], "client_secret": "s"}))
                .unwrap(),
        ),
        905..=914 => Reply::json(b"{\"client_id\": \"https://h0.soak.example/c\", ".to_vec()),
        915..=924 => Reply::json(vec![b' '; 6000]),
        925..=939 => good(version).content_type("text/html"),
        940..=949 => good(version).header("Content-Encoding", "gzip"),
        950..=959 => Reply::json(Vec::new()).stream_forever(),
        _ => good(version),
    }
}

/// Whether the chaos can cause an error code: every code but those decided before any I/O (the client_id, the
/// host policy, DNS and the address checks, the auth-method negotiation) and `internal`; anything else is a
/// violation.
fn expected_error(code: ErrorCode) -> bool {
    !matches!(
        code,
        ErrorCode::InvalidClientIdUrl
            | ErrorCode::HostNotAllowed
            | ErrorCode::BlockedAddress
            | ErrorCode::DnsError
            | ErrorCode::UnsupportedAuthMethod
            | ErrorCode::Internal
    )
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

#[derive(Default)]
struct Tally {
    resolves: AtomicU64,
    network: AtomicU64,
    cache: AtomicU64,
    stale: AtomicU64,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    violations: Mutex<Vec<String>>,
    slowest_ms: AtomicU64,
}

impl Tally {
    fn violation(&self, what: String) {
        let mut v = self.violations.lock().unwrap();
        if v.len() < 50 {
            eprintln!("VIOLATION: {what}");
        }
        v.push(what);
    }
}

/// Checks one answer against the contract and the chaos host's records.
fn check(
    docs: &Documents,
    tally: &Tally,
    i: usize,
    wrong_redirect: bool,
    result: Result<cimd::Resolution, cimd::Error>,
) {
    let cid = docs.client_id(i);
    let r = match result {
        Err(e) => {
            if !expected_error(e.code()) {
                tally.violation(format!(
                    "{cid}: unexpected error {}: {}",
                    e.code(),
                    e.description()
                ));
            }
            if e.description().is_empty() {
                tally.violation(format!("{cid}: error {} without a description", e.code()));
            }
            *tally.errors.lock().unwrap().entry(e.code().as_str()).or_default() += 1;
            return;
        }
        Ok(r) => r,
    };
    if wrong_redirect {
        tally.violation(format!("{cid}: an unregistered redirect_uri was accepted"));
    }
    let m = r.metadata();
    if m.client_id != cid {
        tally.violation(format!("{cid}: answered with the document of {:?}", m.client_id));
        return;
    }
    let version = m
        .client_name
        .as_deref()
        .and_then(|n| n.strip_prefix(&format!("soak {i} v")))
        .and_then(|v| v.parse::<u32>().ok());
    match version {
        None => tally.violation(format!(
            "{cid}: document not from the chaos host: {:?}",
            m.client_name
        )),
        Some(v) => {
            if v > docs.served_max[i].load(Ordering::SeqCst) {
                tally.violation(format!("{cid}: version {v} was never served"));
            }
            if m.redirect_uris != [redirect_uri(i, v)] {
                tally.violation(format!(
                    "{cid}: version {v} carries redirect_uris {:?}",
                    m.redirect_uris
                ));
            }
        }
    }
    let now = SystemTime::now();
    let expires = r.expires_at();
    let window = Duration::from_secs(STALE_WHILE_REVALIDATE_S.max(STALE_IF_ERROR_S));
    match r.source() {
        Source::Cache => {
            tally.cache.fetch_add(1, Ordering::Relaxed);
            if now > expires + SLACK {
                tally.violation(format!(
                    "{cid}: cache answer {:?} after expiry",
                    now.duration_since(expires)
                ));
            }
        }
        Source::Stale => {
            tally.stale.fetch_add(1, Ordering::Relaxed);
            if now + SLACK < expires {
                tally.violation(format!("{cid}: stale answer before expiry"));
            }
            if now > expires + window + SLACK {
                tally.violation(format!(
                    "{cid}: stale answer {:?} after expiry, beyond the {window:?} window",
                    now.duration_since(expires)
                ));
            }
        }
        Source::Network => {
            tally.network.fetch_add(1, Ordering::Relaxed);
            if expires + SLACK < now {
                tally.violation(format!("{cid}: network answer already expired"));
            }
        }
        Source::Local => tally.violation(format!("{cid}: a resolve answered with source local")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut seconds = 600u64;
    if args.iter().any(|a| a == "--short") {
        seconds = 20;
    }
    if let Some(i) = args.iter().position(|a| a == "--seconds") {
        seconds = args.get(i + 1).and_then(|s| s.parse().ok()).expect("--seconds N");
    }
    if std::env::var("CIMD_IN_NETNS").as_deref() != Ok("1") {
        eprintln!("soak: not inside scripts/netns; it only ever talks to 127.0.0.1, but run it there");
    }

    let pki = TestPki::new(&["*.soak.example"]);
    let name = "h0.soak.example";
    let certs = Arc::new(ChaosCerts {
        valid: pki.leaves[0].certified.clone(),
        broken: vec![
            pki.expired_leaf(name).certified,
            pki.wrong_name_leaf().certified,
            pki.self_signed_leaf(name).certified,
            pki.foreign_ca_leaf(name).certified,
        ],
        handshakes: AtomicUsize::new(0),
        broken_served: AtomicUsize::new(0),
    });
    // No session resumption: a resumed TLS 1.3 handshake sends no certificate, so the chaos certificates would
    // only reach the full handshakes. Every connection must see (and judge) the certificate of the moment.
    let mut tls = (*support::pki::config_with(certs.clone())).clone();
    tls.send_tls13_tickets = 0;
    tls.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    let server = Server::start(Arc::new(tls));
    server.record_requests(false);
    let docs = Arc::new(Documents {
        port: server.port(),
        version: (0..CLIENTS).map(|_| AtomicU32::new(1)).collect(),
        served_max: (0..CLIENTS).map(|_| AtomicU32::new(0)).collect(),
    });
    {
        let docs = docs.clone();
        server.fallback_fn(move |req| chaos_reply(&docs, req));
    }

    let config = Config::from_value(json!({
        "allow_loopback": true,
        "extra_ca_file": pki.ca_pem_path.to_str().unwrap(),
        "fetch_timeout_ms": FETCH_TIMEOUT.as_millis() as u64,
        "connect_timeout_ms": 1000,
        "min_cache_ttl_s": 1,
        "max_cache_ttl_s": 3,
        "stale_while_revalidate_s": STALE_WHILE_REVALIDATE_S,
        "stale_if_error_s": STALE_IF_ERROR_S,
        "cache_max_entries": 400,
        "cache_max_bytes": CACHE_MAX_BYTES,
        "per_host_rate": {"per_minute": 12000, "burst": 200},
    }))
    .unwrap();
    let engine = Arc::new(
        Engine::builder(config)
            .resolver(Arc::new(Loopback))
            .build()
            .unwrap(),
    );
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    // Per worker: when its current resolve started (ms since `epoch`), 0 when idle.
    let epoch = Instant::now();
    let busy_since: Arc<Vec<AtomicU64>> = Arc::new((0..THREADS).map(|_| AtomicU64::new(0)).collect());
    let baseline = rss_bytes();
    let limit = baseline + CACHE_MAX_BYTES + FIXED_OVERHEAD;
    let peak = Arc::new(AtomicU64::new(baseline));
    let stuck = Arc::new(AtomicUsize::new(0));

    println!(
        "soak: {seconds} s, {THREADS} threads, {CLIENTS} client_ids on {HOSTS} hosts, chaos host on 127.0.0.1:{}",
        server.port()
    );
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);

    let workers: Vec<_> = (0..THREADS)
        .map(|w| {
            let (engine, docs, tally, stop, busy) = (
                engine.clone(),
                docs.clone(),
                tally.clone(),
                stop.clone(),
                busy_since.clone(),
            );
            std::thread::Builder::new()
                .name(format!("soak-{w}"))
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                        let i = if rand_below(10) < 7 {
                            rand_below(HOT as u64)
                        } else {
                            rand_below(CLIENTS as u64)
                        } as usize;
                        let wrong_redirect = rand_below(10) == 0;
                        let cid = docs.client_id(i);
                        let t0 = Instant::now();
                        busy[w].store(t0.duration_since(epoch).as_millis() as u64 + 1, Ordering::SeqCst);
                        let result = engine.resolve_blocking(
                            &cid,
                            wrong_redirect.then_some("https://attacker.example/cb"),
                            None,
                        );
                        busy[w].store(0, Ordering::SeqCst);
                        tally
                            .slowest_ms
                            .fetch_max(t0.elapsed().as_millis() as u64, Ordering::Relaxed);
                        tally.resolves.fetch_add(1, Ordering::Relaxed);
                        check(&docs, &tally, i, wrong_redirect, result);
                        std::thread::sleep(Duration::from_micros(500 + rand_below(4000)));
                    }
                })
                .expect("spawn worker")
        })
        .collect();

    // Watchdog: stuck threads and memory, every 100 ms until the workers are done.
    let watchdog = {
        let (busy, stop, peak, stuck, tally) = (
            busy_since.clone(),
            stop.clone(),
            peak.clone(),
            stuck.clone(),
            tally.clone(),
        );
        std::thread::spawn(move || {
            let mut reported = [false; THREADS];
            let mut stuck_since: Option<Instant> = None;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                peak.fetch_max(rss_bytes(), Ordering::Relaxed);
                let now_ms = epoch.elapsed().as_millis() as u64;
                let mut any = false;
                for (w, b) in busy.iter().enumerate() {
                    let since = b.load(Ordering::SeqCst);
                    if since != 0 && now_ms.saturating_sub(since - 1) > STUCK_AFTER.as_millis() as u64 {
                        any = true;
                        if !reported[w] {
                            reported[w] = true;
                            stuck.fetch_add(1, Ordering::SeqCst);
                            tally.violation(format!(
                                "thread soak-{w} stuck in one resolve for over {STUCK_AFTER:?}"
                            ));
                        }
                    }
                }
                // A thread that never comes back would hang the join below: give up loudly instead.
                match (any, stuck_since) {
                    (true, None) => stuck_since = Some(Instant::now()),
                    (true, Some(t)) if t.elapsed() > Duration::from_secs(60) => {
                        eprintln!("soak: FAILED, threads stuck for over a minute");
                        std::process::exit(2);
                    }
                    (false, _) => stuck_since = None,
                    _ => {}
                }
            }
        })
    };

    let mut panicked = 0;
    for w in workers {
        if w.join().is_err() {
            panicked += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = watchdog.join();
    let elapsed = started.elapsed();
    peak.fetch_max(rss_bytes(), Ordering::Relaxed);

    let stats = engine.stats();
    let errors = tally.errors.lock().unwrap().clone();
    let error_total: u64 = errors.values().sum();
    let violations = tally.violations.lock().unwrap().len();
    let peak = peak.load(Ordering::Relaxed);
    let resolves = tally.resolves.load(Ordering::Relaxed);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "resolves: {resolves} in {:.1} s ({:.0}/s); ok {} (network {}, cache {}, stale {}), errors {error_total}",
        elapsed.as_secs_f64(),
        resolves as f64 / elapsed.as_secs_f64(),
        resolves - error_total,
        tally.network.load(Ordering::Relaxed),
        tally.cache.load(Ordering::Relaxed),
        tally.stale.load(Ordering::Relaxed),
    );
    println!("error mix: {}", serde_json::to_string(&errors).unwrap());
    println!(
        "engine: {} fetches, {} not modified, {} coalesced waits, {} stale served, {} evictions; cache {} entries, {} bytes",
        stats.fetches,
        stats.not_modified,
        stats.coalesced_waits,
        stats.stale_served,
        stats.evictions,
        stats.entries,
        stats.cache_bytes
    );
    println!(
        "chaos host: {} requests, {} connections, {} handshakes ({} with a broken certificate), {} TLS failures",
        server.served(),
        server.connections(),
        certs.handshakes.load(Ordering::Relaxed),
        certs.broken_served.load(Ordering::Relaxed),
        server.tls_failures()
    );
    println!(
        "memory: peak RSS {:.1} MiB (baseline {:.1} MiB, limit {:.1} MiB = baseline + cache_max_bytes {:.1} MiB + fixed {:.0} MiB)",
        mib(peak),
        mib(baseline),
        mib(limit),
        mib(CACHE_MAX_BYTES),
        mib(FIXED_OVERHEAD)
    );
    println!(
        "slowest resolve: {} ms; stuck threads: {}; panicked threads: {panicked}; violations: {violations}",
        tally.slowest_ms.load(Ordering::Relaxed),
        stuck.load(Ordering::Relaxed)
    );
    if let Ok(path) = std::env::var("SOAK_REPORT") {
        let report = json!({
            "seconds": elapsed.as_secs_f64(),
            "threads": THREADS,
            "client_ids": CLIENTS,
            "resolves": resolves,
            "ok": resolves - error_total,
            "network": tally.network.load(Ordering::Relaxed),
            "cache": tally.cache.load(Ordering::Relaxed),
            "stale": tally.stale.load(Ordering::Relaxed),
            "errors": errors,
            "engine_fetches": stats.fetches,
            "origin_requests": server.served(),
            "connections": server.connections(),
            "broken_certificates": certs.broken_served.load(Ordering::Relaxed),
            "tls_failures": server.tls_failures(),
            "peak_rss_bytes": peak,
            "baseline_rss_bytes": baseline,
            "rss_limit_bytes": limit,
            "slowest_resolve_ms": tally.slowest_ms.load(Ordering::Relaxed),
            "stuck_threads": stuck.load(Ordering::Relaxed),
            "panicked_threads": panicked,
            "violations": violations,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).expect("write SOAK_REPORT");
    }
    let mut failed = violations > 0 || panicked > 0 || stuck.load(Ordering::Relaxed) > 0;
    // A handshake with a broken certificate must fail: the client may never complete it and send a request.
    if server.tls_failures() < certs.broken_served.load(Ordering::Relaxed) {
        eprintln!(
            "soak: {} handshakes presented a broken certificate but only {} failed",
            certs.broken_served.load(Ordering::Relaxed),
            server.tls_failures()
        );
        failed = true;
    }
    if peak > limit {
        eprintln!(
            "soak: peak RSS {:.1} MiB exceeds the limit {:.1} MiB",
            mib(peak),
            mib(limit)
        );
        failed = true;
    }
    if resolves == 0 || error_total == resolves {
        eprintln!("soak: no successful resolve at all; the chaos host or the set-up is broken");
        failed = true;
    }
    drop(server);
    if failed {
        println!("soak: FAILED");
        std::process::exit(1);
    }
    println!("soak: passed");
}
