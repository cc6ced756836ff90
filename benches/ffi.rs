//! What the C ABI adds to a cache hit (issue 3: at most 200 ns).
//!
//! Two engines with the same configuration are warmed with the same client_id from a loopback origin; then each
//! iteration resolves it from the cache and fetches the JSON bytes: once through the Rust API
//! (`resolve_blocking` + `document_json`) and once through the exported C functions (`cimd_resolve` +
//! `cimd_result_json` + `cimd_result_free`), with and without a redirect_uri to check. The difference between
//! the pairs is the ABI's cost: argument checks, UTF-8 validation, the panic boundary, the result handle's
//! allocation and the handle checks.
//!
//! Network safety: the origin listens on 127.0.0.1 and `make bench` runs inside scripts/netns.
//!   scripts/netns cargo bench --bench ffi

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::ptr;

use cimd::ffi::{
    cimd_engine, cimd_engine_free, cimd_engine_new, cimd_resolve, cimd_result, cimd_result_free,
    cimd_result_json, cimd_status,
};
use cimd::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use support::{Reply, Server, TestPki};

const REDIRECT_URI: &str = "https://localhost/callback";

fn cache_hit(c: &mut Criterion) {
    let pki = TestPki::new(&["localhost"]);
    let server = Server::start(pki.server_config());
    let client_id = server.url("localhost", "/bench.json");
    let document = serde_json::json!({
        "client_id": client_id,
        "client_name": "Benchmark client",
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "none",
    });
    server.route(
        "/bench.json",
        vec![Reply::json(serde_json::to_vec(&document).expect("JSON"))
            .header("Cache-Control", "max-age=86400")],
    );
    let config = serde_json::json!({"allow_loopback": true, "extra_ca_file": pki.ca_pem_path}).to_string();

    let engine = Engine::from_json(&config).expect("engine");
    engine
        .resolve_blocking(&client_id, None, None)
        .expect("warm the Rust engine");
    let mut c_engine: *mut cimd_engine = ptr::null_mut();
    // SAFETY: valid config bytes; out-parameters are locals; the engine is freed at the end.
    let created = unsafe {
        cimd_engine_new(
            config.as_ptr().cast(),
            config.len(),
            &mut c_engine,
            ptr::null_mut(),
        )
    };
    assert_eq!(created, cimd_status::Ok);
    let c_resolve = |redirect_uri: Option<&str>| {
        let mut result: *mut cimd_result = ptr::null_mut();
        let (mut json, mut len) = (ptr::null(), 0usize);
        let (redirect_ptr, redirect_len) =
            redirect_uri.map_or((ptr::null(), 0), |r| (r.as_ptr().cast(), r.len()));
        // SAFETY: the engine is live; the strings are valid for their lengths; the out-parameters are locals;
        // the result is freed before the borrowed JSON goes out of scope.
        unsafe {
            let status = cimd_resolve(
                c_engine,
                client_id.as_ptr().cast(),
                client_id.len(),
                redirect_ptr,
                redirect_len,
                0,
                &mut result,
                ptr::null_mut(),
            );
            assert_eq!(status, cimd_status::Ok);
            assert_eq!(cimd_result_json(result, &mut json, &mut len), cimd_status::Ok);
            black_box((json, len));
            cimd_result_free(&mut result);
        }
    };
    c_resolve(None);

    let mut group = c.benchmark_group("cache_hit");
    for (name, redirect_uri) in [("", None), ("_with_redirect_uri", Some(REDIRECT_URI))] {
        group.bench_function(format!("rust{name}"), |b| {
            b.iter(|| {
                let r = engine
                    .resolve_blocking(black_box(&client_id), redirect_uri, None)
                    .expect("cache hit");
                let json = r.client().document_json();
                black_box((json.as_ptr(), json.len()));
            })
        });
        group.bench_function(format!("c_abi{name}"), |b| {
            b.iter(|| c_resolve(black_box(redirect_uri)))
        });
    }
    group.finish();
    // SAFETY: no other user of the engine remains.
    unsafe { cimd_engine_free(&mut c_engine) };
}

criterion_group!(benches, cache_hit);
criterion_main!(benches);
