//! Memory bounds (issue 7): 100,000 distinct client_ids through an engine with a small `cache_max_entries`, and
//! cache-hit latency against cache size.
//!
//! ```text
//! cargo bench --bench memory -- [--clients N] [--out DIR]     # inside scripts/netns; default N = 100000
//! ```
//!
//! Part 1 resolves N distinct client_ids (each one fetched once from a loopback HTTPS origin) through an engine
//! with `cache_max_entries` 1000 and records resident memory (VmRSS) every 1000 clients. It fails when the peak
//! exceeds the RSS after warm-up + the cache budget + a fixed overhead, or when memory still grows over the
//! second half of the run (a leak trend rather than a bound).
//!
//! Part 2 fills an engine with `cache_max_entries` N, and at 100, 1,000, 10,000 and 100,000 cached clients
//! times 20,000 cache hits (`resolve_blocking` on random cached client_ids: the path a host's request thread
//! takes) and records p50/p90/p99.
//!
//! The data go to DIR/memory.tsv and DIR/cache-latency.tsv (default docs/data); scripts/plot-hardening draws
//! docs/memory.png and docs/cache-latency.png from them. Network safety: the origin listens on 127.0.0.1 only
//! and every name resolves to 127.0.0.1 through a stub resolver.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use cimd::{BoxFuture, Resolver};
use cimd::{Config, Engine};
use serde_json::json;
use support::{Reply, Server, TestPki};

const HOSTS: usize = 16;
const SMALL_CACHE: u64 = 1000;
const SMALL_CACHE_BYTES: u64 = 4 << 20;
/// Runtime, TLS, the origin's connections and allocator slack, independent of the number of clients.
const FIXED_OVERHEAD: u64 = 32 << 20;
/// Over the second half of part 1, RSS may not grow by more than this (allocator noise, not a trend).
const SECOND_HALF_GROWTH: u64 = 8 << 20;
const FETCH_THREADS: usize = 4;
const HIT_SAMPLES: usize = 20_000;

struct Loopback;

impl Resolver for Loopback {
    fn lookup(&self, _host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        Box::pin(async { Ok(vec![IpAddr::from([127, 0, 0, 1])]) })
    }
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

fn client_id(port: u16, i: usize) -> String {
    format!("https://h{}.mem.example:{port}/m/{i}.json", i % HOSTS)
}

fn engine(pki: &TestPki, entries: u64, bytes: u64) -> Engine {
    let config = Config::from_value(json!({
        "allow_loopback": true,
        "extra_ca_file": pki.ca_pem_path.to_str().unwrap(),
        "min_cache_ttl_s": 3600,
        "cache_max_entries": entries,
        "cache_max_bytes": bytes,
        "per_host_rate": {"per_minute": 1_000_000, "burst": 100_000},
    }))
    .unwrap();
    Engine::builder(config)
        .resolver(Arc::new(Loopback))
        .build()
        .unwrap()
}

/// Resolves client_ids `from..to` with a few threads; every one must succeed.
fn resolve_range(engine: &Engine, port: u16, from: usize, to: usize) {
    let next = AtomicUsize::new(from);
    std::thread::scope(|s| {
        for _ in 0..FETCH_THREADS {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= to {
                    break;
                }
                let cid = client_id(port, i);
                if let Err(e) = engine.resolve_blocking(&cid, None, None) {
                    panic!("{cid}: {e}");
                }
            });
        }
    });
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let clients: usize = arg("--clients").map_or(100_000, |v| v.parse().expect("--clients N"));
    let out = arg("--out").unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/docs/data").to_owned());
    std::fs::create_dir_all(&out).expect("create the output directory");

    let pki = TestPki::new(&["*.mem.example"]);
    let server = Server::start(pki.server_config());
    server.record_requests(false);
    let port = server.port();
    server.fallback_fn(move |req| {
        let i: usize = req
            .path
            .strip_prefix("/m/")
            .and_then(|p| p.strip_suffix(".json"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        let body = json!({
            "client_id": client_id(port, i),
            "client_name": format!("memory bench client {i}"),
            "redirect_uris": [format!("https://app.mem.example/cb/{i}")],
            "token_endpoint_auth_method": "none",
        });
        Reply::json(serde_json::to_vec(&body).unwrap()).header("Cache-Control", "max-age=3600")
    });

    // Part 1: RSS against clients resolved, small cache.
    let small = engine(&pki, SMALL_CACHE, SMALL_CACHE_BYTES);
    let step = 1000.min(clients);
    resolve_range(&small, port, 0, step); // warm-up: runtime, connections, a full cache
    let baseline = rss_bytes();
    let limit = baseline + SMALL_CACHE_BYTES + FIXED_OVERHEAD;
    let mut tsv = String::from("clients\trss_kib\tcache_entries\tcache_bytes\tseconds\n");
    let started = Instant::now();
    let mut peak = baseline;
    let mut samples = Vec::new();
    let mut done = step;
    while done < clients {
        let to = (done + step).min(clients);
        resolve_range(&small, port, done, to);
        done = to;
        let rss = rss_bytes();
        peak = peak.max(rss);
        samples.push((done, rss));
        let stats = small.stats();
        let _ = writeln!(
            tsv,
            "{done}\t{}\t{}\t{}\t{:.2}",
            rss / 1024,
            stats.entries,
            stats.cache_bytes,
            started.elapsed().as_secs_f64()
        );
    }
    std::fs::write(format!("{out}/memory.tsv"), &tsv).expect("write memory.tsv");
    let stats = small.stats();
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    let half = samples
        .iter()
        .find(|(n, _)| *n >= clients / 2)
        .map_or(baseline, |s| s.1);
    let growth = samples.last().map_or(0, |s| s.1).saturating_sub(half);
    println!(
        "memory: {clients} clients in {:.1} s ({:.0}/s), cache_max_entries {SMALL_CACHE}: {} entries, {} bytes, {} evictions",
        started.elapsed().as_secs_f64(),
        (clients - step) as f64 / started.elapsed().as_secs_f64(),
        stats.entries,
        stats.cache_bytes,
        stats.evictions
    );
    println!(
        "memory: RSS after warm-up {:.1} MiB, peak {:.1} MiB (limit {:.1} MiB), growth over the second half {:.2} MiB",
        mib(baseline),
        mib(peak),
        mib(limit),
        mib(growth)
    );
    let mut failed = false;
    if peak > limit {
        eprintln!("memory: FAILED, peak RSS above the limit");
        failed = true;
    }
    if growth > SECOND_HALF_GROWTH {
        eprintln!("memory: FAILED, RSS still growing over the second half");
        failed = true;
    }
    if stats.entries > SMALL_CACHE {
        eprintln!("memory: FAILED, the cache holds more than cache_max_entries");
        failed = true;
    }
    drop(small);

    // Part 2: cache-hit latency against cache size.
    // Twice the entries: the cache is sharded, and a shard that gets more than its share must not evict here.
    let big = engine(&pki, 2 * clients as u64, 1 << 32);
    let mut tsv = String::from("cache_entries\tp50_ns\tp90_ns\tp99_ns\tmean_ns\n");
    let mut filled = 0;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for size in [100, 1_000, 10_000, 100_000, 1_000_000]
        .into_iter()
        .filter(|s| *s <= clients)
    {
        resolve_range(&big, port, filled, size);
        filled = size;
        let ids: Vec<String> = (0..HIT_SAMPLES)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                client_id(port, (rng % size as u64) as usize)
            })
            .collect();
        let mut times = Vec::with_capacity(HIT_SAMPLES);
        for cid in &ids {
            let t = Instant::now();
            let r = big.resolve_blocking(cid, None, None);
            times.push(t.elapsed().as_nanos() as u64);
            assert!(
                matches!(r.map(|r| r.source()), Ok(cimd::Source::Cache)),
                "{cid} was not a cache hit"
            );
        }
        times.sort_unstable();
        let mean = times.iter().sum::<u64>() / times.len() as u64;
        let (p50, p90, p99) = (
            percentile(&times, 0.5),
            percentile(&times, 0.9),
            percentile(&times, 0.99),
        );
        println!(
            "cache hit with {size:>7} entries: p50 {p50} ns, p90 {p90} ns, p99 {p99} ns, mean {mean} ns"
        );
        let _ = writeln!(tsv, "{size}\t{p50}\t{p90}\t{p99}\t{mean}");
    }
    std::fs::write(format!("{out}/cache-latency.tsv"), &tsv).expect("write cache-latency.tsv");
    println!("data: {out}/memory.tsv, {out}/cache-latency.tsv");
    drop(big);
    drop(server);
    if failed {
        std::process::exit(1);
    }
}
