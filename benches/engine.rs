//! Engine benchmarks (issue 2): cache-hit resolve, client_id validation, document validation, cold resolves
//! against a loopback HTTPS host. Only loopback is contacted: names resolve through a stub resolver to
//! 127.0.0.1, where the benchmark's own origin listens. Run: `make bench` (or `cargo bench --bench engine`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cimd::internals::{validate, DocumentPolicy};
use cimd::internals::{ClientIdUrl, UrlRules};
use cimd::{BoxFuture, Resolver};
use cimd::{Config, Engine};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use support::{Reply, Server, TestPki};

struct Loopback;

impl Resolver for Loopback {
    fn lookup(&self, _host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        Box::pin(async { Ok(vec![IpAddr::from([127, 0, 0, 1])]) })
    }
}

fn doc(client_id: &str) -> serde_json::Value {
    json!({
        "client_id": client_id,
        "client_name": "Bench Client",
        "redirect_uris": ["https://c.example/callback", "http://localhost/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none"
    })
}

/// A realistic document of about 5 KB: many redirect URIs, contacts and a JWKS with two RSA public keys.
fn five_kb_doc(client_id: &str) -> Vec<u8> {
    let n = "x".repeat(342);
    let mut d = doc(client_id);
    d["redirect_uris"] = json!((0..40)
        .map(|i| format!("https://c.example/oauth/callback/{i}"))
        .collect::<Vec<_>>());
    d["contacts"] = json!(["ops@c.example", "security@c.example"]);
    d["logo_uri"] = json!("https://c.example/logo.png");
    d["jwks"] = json!({"keys": [
        {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "e": "AQAB", "n": n},
        {"kty": "RSA", "kid": "k2", "use": "sig", "alg": "RS256", "e": "AQAB", "n": n}]});
    d["token_endpoint_auth_method"] = json!("private_key_jwt");
    let mut body = serde_json::to_vec(&d).unwrap();
    while body.len() < 5000 {
        d["software_version"] =
            json!("1".repeat(5000 - body.len() + d["software_version"].as_str().map_or(0, str::len)));
        body = serde_json::to_vec(&d).unwrap();
    }
    body
}

struct World {
    _pki: TestPki,
    server: Server,
    engine: Arc<Engine>,
}

fn world(extra: serde_json::Value) -> World {
    let pki = TestPki::new(&["c.example"]);
    let server = Server::start(pki.server_config());
    let mut config = json!({
        "allow_loopback": true,
        "extra_ca_file": pki.ca_pem_path,
        "per_host_rate": {"per_minute": 1_000_000, "burst": 100_000},
        "per_host_concurrency": 64,
        "max_concurrent_fetches": 64,
        "cache_max_entries": 1_000_000,
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        config[k] = v.clone();
    }
    let engine = Engine::builder(Config::from_value(config).unwrap())
        .resolver(Arc::new(Loopback))
        .build()
        .unwrap();
    World {
        _pki: pki,
        server,
        engine: Arc::new(engine),
    }
}

fn url(w: &World, path: &str) -> String {
    format!("https://c.example:{}{path}", w.server.port())
}

fn bench_cache_hit(c: &mut Criterion) {
    let w = world(json!({}));
    let id = url(&w, "/hit.json");
    w.server.route(
        "/hit.json",
        vec![Reply::json(serde_json::to_vec(&doc(&id)).unwrap())],
    );
    w.engine.resolve_blocking(&id, None, None).unwrap();
    let mut g = c.benchmark_group("cache_hit");
    g.bench_function("resolve_blocking", |b| {
        b.iter(|| black_box(w.engine.resolve_blocking(black_box(&id), None, None).unwrap()))
    });
    g.bench_function("resolve_blocking+redirect_uri", |b| {
        b.iter(|| {
            black_box(
                w.engine
                    .resolve_blocking(black_box(&id), Some("http://localhost:51234/callback"), None)
                    .unwrap(),
            )
        })
    });
    g.bench_function("resolve_blocking+document_json", |b| {
        b.iter(|| {
            let r = w.engine.resolve_blocking(black_box(&id), None, None).unwrap();
            black_box(r.client().document_json().len())
        })
    });
    g.finish();
}

fn bench_validation(c: &mut Criterion) {
    let rules = UrlRules::default();
    let mut g = c.benchmark_group("validation");
    let typical = "https://app.example.com/.well-known/oauth-client/claude-code.json";
    g.bench_function("client_id_url", |b| {
        b.iter(|| black_box(ClientIdUrl::parse(black_box(typical), &rules).unwrap()))
    });
    let config = Config::default();
    let policy = DocumentPolicy::from_config(&config);
    let id = "https://c.example/client.json";
    let body = five_kb_doc(id);
    let config_pkjwt =
        Config::from_json(r#"{"auth_methods_supported": ["none", "private_key_jwt"]}"#).unwrap();
    let policy_pkjwt = DocumentPolicy::from_config(&config_pkjwt);
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function(format!("document_{}_bytes", body.len()), |b| {
        b.iter(|| black_box(validate(black_box(&body), id, &policy_pkjwt).unwrap()))
    });
    let _ = policy;
    g.finish();
}

fn bench_cold(c: &mut Criterion) {
    let w = world(json!({}));
    let counter = AtomicUsize::new(0);
    let pre = 20_000;
    // Routes for every path a cold resolve may request.
    for i in 0..pre {
        let path = format!("/cold/{i}.json");
        w.server.route(
            &path,
            vec![Reply::json(serde_json::to_vec(&doc(&url(&w, &path))).unwrap())],
        );
    }
    let mut g = c.benchmark_group("cold");
    g.sample_size(20);
    g.bench_function("resolve_one_new_client_id", |b| {
        b.iter(|| {
            let i = counter.fetch_add(1, Ordering::Relaxed) % pre;
            let id = url(&w, &format!("/cold/{i}.json"));
            w.engine.invalidate(&id);
            black_box(w.engine.resolve_blocking(&id, None, None).unwrap())
        })
    });
    // 1000 distinct cold client_ids, 32 caller threads at once.
    g.sample_size(10);
    g.throughput(Throughput::Elements(1000));
    g.bench_function("1000_distinct_client_ids_32_threads", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let base = counter.fetch_add(1000, Ordering::Relaxed);
                let ids: Arc<Vec<String>> = Arc::new(
                    (0..1000)
                        .map(|i| url(&w, &format!("/cold/{}.json", (base + i) % pre)))
                        .collect(),
                );
                for id in ids.iter() {
                    w.engine.invalidate(id);
                }
                let next = Arc::new(AtomicUsize::new(0));
                let start = Instant::now();
                let threads: Vec<_> = (0..32)
                    .map(|_| {
                        let (engine, ids, next) = (w.engine.clone(), ids.clone(), next.clone());
                        std::thread::spawn(move || loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= ids.len() {
                                break;
                            }
                            engine.resolve_blocking(&ids[i], None, None).unwrap();
                        })
                    })
                    .collect();
                for t in threads {
                    t.join().unwrap();
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench_cache_hit, bench_validation, bench_cold);
criterion_main!(benches);
