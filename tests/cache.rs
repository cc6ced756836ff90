//! Cache behaviour end to end (docs/contract.md §4; CAC-01..05): hits, expiry, revalidation, stale serving,
//! eviction, single flight, and what a refresh reports as changed.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cimd::{ErrorCode, Source};
use common::*;
use serde_json::json;

#[test]
fn cac_02_two_requests_inside_the_ttl_fetch_once() {
    let w = World::new();
    let url = w.url("c.example", "/a.json");
    w.server.route(
        "/a.json",
        vec![json_reply(&doc(&url)).header("Cache-Control", "max-age=600")],
    );
    let e = w.engine(json!({}));
    let first = e.resolve_blocking(&url, None, None).unwrap();
    let second = e.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(first.source(), Source::Network);
    assert_eq!(second.source(), Source::Cache);
    assert_eq!(first.client().generation(), second.client().generation());
    assert!(
        Arc::ptr_eq(first.client(), second.client()),
        "the cached version is shared, not copied"
    );
    assert_eq!(w.server.hits("/a.json"), 1);
    let s = e.stats();
    assert_eq!((s.hits, s.misses, s.fetches, s.entries), (1, 1, 1, 1));
    // The cache is keyed by the exact string: the :443-style variant is another client (URL-09).
    assert!(e.probe(&url).is_some());
    assert!(e.probe(&url.replace("c.example", "C.example")).is_none());
}

#[test]
fn cac_01_after_expiry_the_next_request_fetches_again() {
    let w = World::new();
    let url = w.url("c.example", "/a.json");
    w.server.route(
        "/a.json",
        vec![json_reply(&doc(&url)).header("Cache-Control", "max-age=120")],
    );
    let e = w.engine(json!({"min_cache_ttl_s": 60, "stale_while_revalidate_s": 0}));
    e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(100));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Cache
    );
    w.clock.advance(Duration::from_secs(30));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Network
    );
    assert_eq!(w.server.hits("/a.json"), 2);
}

#[test]
fn cac_03_lifetimes_are_clamped_to_the_bounds() {
    let w = World::new();
    let e =
        w.engine(json!({"min_cache_ttl_s": 300, "max_cache_ttl_s": 86400, "stale_while_revalidate_s": 0}));
    let cases = [
        ("/short.json", "max-age=60", 300u64),
        ("/long.json", "max-age=31536000", 86400),
        ("/nostore.json", "no-store", 300),
        ("/nocache.json", "no-cache", 300),
        ("/zero.json", "max-age=0", 300),
    ];
    for (path, cc, ttl) in cases {
        let url = w.url("c.example", path);
        w.server
            .route(path, vec![json_reply(&doc(&url)).header("Cache-Control", cc)]);
        let r = e.resolve_blocking(&url, None, None).unwrap();
        let lifetime = r
            .expires_at()
            .duration_since(r.client().fetched_at())
            .unwrap()
            .as_secs();
        assert!(lifetime.abs_diff(ttl) <= 1, "{path}: {lifetime} vs {ttl}");
    }
    // No caching headers at all: the floor.
    let url = w.url("c.example", "/none.json");
    w.server.route("/none.json", vec![json_reply(&doc(&url))]);
    w.clock.advance(Duration::from_secs(299));
    e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(299));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Cache
    );
    w.clock.advance(Duration::from_secs(2));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Network
    );
}

#[test]
fn revalidation_with_etag_304_extends_freshness_and_keeps_the_version() {
    let w = World::new();
    let url = w.url("c.example", "/etag.json");
    let body = serde_json::to_vec(&doc(&url)).unwrap();
    w.server.route_fn("/etag.json", move |req| {
        if req.header("if-none-match") == Some("\"v1\"") {
            Reply::status(304)
                .no_content_type()
                .header("ETag", "\"v1\"")
                .header("Cache-Control", "max-age=60")
        } else {
            Reply::json(body.clone())
                .header("ETag", "\"v1\"")
                .header("Cache-Control", "max-age=60")
        }
    });
    let e = w.engine(json!({"stale_while_revalidate_s": 0}));
    let first = e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(61));
    let second = e.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(second.source(), Source::Network);
    assert!(Arc::ptr_eq(first.client(), second.client()));
    assert!(second.expires_at() > first.expires_at());
    let reqs = w.server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].header("if-none-match"), None);
    assert_eq!(reqs[1].header("if-none-match"), Some("\"v1\""));
    assert_eq!(e.stats().not_modified, 1);
    // Fresh again after the 304.
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Cache
    );
}

#[test]
fn revalidation_with_last_modified() {
    let w = World::new();
    let url = w.url("c.example", "/lm.json");
    let body = serde_json::to_vec(&doc(&url)).unwrap();
    let lm = "Wed, 21 Oct 2026 07:28:00 GMT";
    w.server.route_fn("/lm.json", move |req| {
        if req.header("if-modified-since") == Some(lm) {
            Reply::status(304).no_content_type()
        } else {
            Reply::json(body.clone()).header("Last-Modified", lm)
        }
    });
    let e = w.engine(json!({"stale_while_revalidate_s": 0}));
    e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(61));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Network
    );
    assert_eq!(e.stats().not_modified, 1);
}

#[test]
fn an_unsolicited_304_is_http_status() {
    let w = World::new();
    let url = w.url("c.example", "/u304.json");
    w.server
        .route("/u304.json", vec![Reply::status(304).no_content_type()]);
    let err = w
        .engine(json!({}))
        .resolve_blocking(&url, None, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::HttpStatus);
}

#[test]
fn stale_while_revalidate_serves_the_old_document_and_refreshes_in_the_background() {
    let w = World::new();
    let url = w.url("c.example", "/swr.json");
    let mut v2 = doc(&url);
    v2["redirect_uris"] = json!(["https://c.example/callback2"]);
    w.server.route(
        "/swr.json",
        vec![
            json_reply(&doc(&url)).header("Cache-Control", "max-age=60"),
            json_reply(&v2).header("Cache-Control", "max-age=60"),
        ],
    );
    let e = w.engine(json!({"stale_while_revalidate_s": 60}));
    let first = e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(90));
    let stale = e.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(stale.source(), Source::Stale);
    assert!(Arc::ptr_eq(first.client(), stale.client()));
    // The background refresh lands shortly.
    let t = Instant::now();
    loop {
        let r = e.resolve_blocking(&url, None, None).unwrap();
        if r.client().generation() != first.client().generation() {
            assert_eq!(r.metadata().redirect_uris, vec!["https://c.example/callback2"]);
            assert_eq!(r.client().changed(), ["redirect_uris"]);
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "no background refresh");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(w.server.hits("/swr.json"), 2);
    assert!(e.stats().background_refreshes >= 1);
}

#[test]
fn stale_if_error_serves_the_last_good_document_within_the_window() {
    let w = World::new();
    let url = w.url("c.example", "/sie.json");
    w.server.route(
        "/sie.json",
        vec![
            json_reply(&doc(&url)).header("Cache-Control", "max-age=60"),
            Reply::status(503),
        ],
    );
    let e = w.engine(json!({"stale_while_revalidate_s": 0, "stale_if_error_s": 600}));
    e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(120));
    let r = e.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(r.source(), Source::Stale);
    // 429 likewise.
    w.server.route("/sie.json", vec![Reply::status(429)]);
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Stale
    );
    // Past the window, the failure is reported.
    w.clock.advance(Duration::from_secs(600));
    let err = e.resolve_blocking(&url, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::HttpStatus);
    assert!(e.stats().stale_served >= 2);
}

#[test]
fn resolving_while_the_host_is_down_serves_stale_within_stale_if_error() {
    let w = World::new();
    let url = w.url("c.example", "/down.json");
    w.server.route("/down.json", vec![json_reply(&doc(&url))]);
    let e = w.engine(json!({"stale_while_revalidate_s": 0, "stale_if_error_s": 3600}));
    e.resolve_blocking(&url, None, None).unwrap();
    w.server.stop();
    w.clock.advance(Duration::from_secs(120));
    let r = e.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(r.source(), Source::Stale);
    w.clock.advance(Duration::from_secs(3600));
    let err = e.resolve_blocking(&url, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConnectError, "{err}");
}

#[test]
fn a_404_or_410_evicts_at_once() {
    for status in [404u16, 410] {
        let w = World::new();
        let url = w.url("c.example", "/gone.json");
        w.server
            .route("/gone.json", vec![json_reply(&doc(&url)), Reply::status(status)]);
        let e = w.engine(json!({"stale_while_revalidate_s": 0, "stale_if_error_s": 3600}));
        e.resolve_blocking(&url, None, None).unwrap();
        w.clock.advance(Duration::from_secs(61));
        assert_eq!(
            e.resolve_blocking(&url, None, None).unwrap_err().code(),
            ErrorCode::HttpStatus
        );
        assert!(e.probe(&url).is_none());
        assert_eq!(e.stats().entries, 0);
    }
}

#[test]
fn cac_05_an_invalid_new_document_evicts_and_is_not_cached() {
    let w = World::new();
    let url = w.url("c.example", "/bad.json");
    let mut wrong = doc(&url);
    wrong["client_id"] = json!("https://evil.example/bad.json");
    w.server.route(
        "/bad.json",
        vec![
            json_reply(&doc(&url)),
            json_reply(&wrong),
            json_reply(&wrong),
            json_reply(&doc(&url)),
        ],
    );
    let e = w.engine(json!({"stale_while_revalidate_s": 0}));
    e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(61));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap_err().code(),
        ErrorCode::ClientIdMismatch
    );
    assert!(e.probe(&url).is_none());
    // Not cached: the next request fetches again (and gets the mismatch again), then the fixed document.
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap_err().code(),
        ErrorCode::ClientIdMismatch
    );
    assert!(e.resolve_blocking(&url, None, None).is_ok());
    assert_eq!(w.server.hits("/bad.json"), 4);
}

#[test]
fn cac_04_errors_are_never_cached() {
    let w = World::new();
    let url = w.url("c.example", "/flaky.json");
    w.server
        .route("/flaky.json", vec![Reply::status(500), json_reply(&doc(&url))]);
    let e = w.engine(json!({}));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap_err().code(),
        ErrorCode::HttpStatus
    );
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Network
    );
    assert_eq!(w.server.hits("/flaky.json"), 2);
}

#[test]
fn operators_can_invalidate_refresh_and_inspect() {
    let w = World::new();
    let url = w.url("c.example", "/ops.json");
    let mut v2 = doc(&url);
    v2["token_endpoint_auth_method"] = json!("none");
    v2["scope"] = json!("openid profile");
    w.server.route(
        "/ops.json",
        vec![json_reply(&doc(&url)).header("ETag", "\"a\""), json_reply(&v2)],
    );
    let e = w.engine(json!({}));
    e.resolve_blocking(&url, None, None).unwrap();
    let entries = e.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].client_id, url);
    assert_eq!(entries[0].state, "fresh");
    assert_eq!(entries[0].etag.as_deref(), Some("\"a\""));
    let refreshed = e.refresh_blocking(&url, None).unwrap();
    assert_eq!(refreshed.source(), Source::Network);
    assert_eq!(refreshed.client().changed(), ["scope"]);
    assert_eq!(w.server.hits("/ops.json"), 2);
    // Grant types and keys are watched too; display-only changes make a new version without `changed`.
    let mut v3 = v2.clone();
    v3["grant_types"] = json!(["authorization_code"]);
    v3["token_endpoint_auth_method"] = json!("private_key_jwt");
    v3["jwks"] = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]});
    let mut v4 = v3.clone();
    v4["client_name"] = json!("Renamed");
    w.server
        .route("/ops.json", vec![json_reply(&v3), json_reply(&v4)]);
    let e2 = w.engine(json!({"auth_methods_supported": ["none", "private_key_jwt"]}));
    e2.resolve_blocking(&url, None, None).unwrap();
    w.server.route("/ops.json", vec![json_reply(&v4)]);
    let r = e2.refresh_blocking(&url, None).unwrap();
    assert!(r.client().changed().is_empty(), "{:?}", r.client().changed());
    assert_eq!(r.metadata().client_name.as_deref(), Some("Renamed"));
    w.server.route("/ops.json", vec![json_reply(&v2)]);
    let r = e2.refresh_blocking(&url, None).unwrap();
    assert_eq!(
        r.client().changed(),
        ["token_endpoint_auth_method", "jwks", "grant_types"]
    );
    assert!(e.invalidate(&url));
    assert!(!e.invalidate(&url));
    assert!(e.probe(&url).is_none());
    assert_eq!(e.stats().invalidations, 1);
}

#[test]
fn concurrency_100_threads_one_cold_client_id_one_fetch() {
    let w = World::new();
    let url = w.url("c.example", "/hot.json");
    w.server.route(
        "/hot.json",
        vec![json_reply(&doc(&url)).delay(Duration::from_millis(300))],
    );
    let e = Arc::new(w.engine(json!({})));
    let barrier = Arc::new(std::sync::Barrier::new(100));
    let handles: Vec<_> = (0..100)
        .map(|_| {
            let (e, url, barrier) = (e.clone(), url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                e.resolve_blocking(&url, None, None)
                    .map(|r| r.client().generation())
            })
        })
        .collect();
    let generations: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect();
    assert_eq!(w.server.hits("/hot.json"), 1, "single flight broke");
    assert!(generations.iter().all(|g| *g == generations[0]));
    let s = e.stats();
    assert_eq!(s.fetches, 1);
    assert!(s.coalesced_waits + s.hits >= 99, "{s:?}");
}

#[test]
fn the_cache_stays_within_cache_max_entries() {
    let w = World::new();
    let e = w.engine(json!({"cache_max_entries": 5, "per_host_rate": {"per_minute": 1000, "burst": 1000}}));
    for i in 0..20 {
        let path = format!("/many{i}.json");
        let url = w.url("c.example", &path);
        w.server.route(&path, vec![json_reply(&doc(&url))]);
        e.resolve_blocking(&url, None, None).unwrap();
    }
    let s = e.stats();
    assert_eq!(s.entries, 5);
    assert_eq!(s.evictions, 15);
}

#[test]
fn resolve_cached_answers_without_fetching_or_says_a_fetch_is_needed() {
    let w = World::new();
    let url = w.url("c.example", "/cached.json");
    w.server.route(
        "/cached.json",
        vec![
            json_reply(&doc(&url)).header("Cache-Control", "max-age=60"),
            json_reply(&doc(&url)).header("Cache-Control", "max-age=60"),
        ],
    );
    let e = w.engine(json!({"min_cache_ttl_s": 60, "stale_while_revalidate_s": 30}));
    // Unknown: a resolve would fetch, so the cache-only call says so and fetches nothing.
    assert!(e.resolve_cached(&url, None).is_none());
    assert_eq!(w.server.hits("/cached.json"), 0);
    let first = e.resolve_blocking(&url, None, None).unwrap();

    // Fresh: the cached version, with the request's redirect_uri checked by the same rules as a resolve.
    let hit = e
        .resolve_cached(&url, Some("https://c.example/callback"))
        .unwrap()
        .unwrap();
    assert_eq!(hit.source(), Source::Cache);
    assert!(Arc::ptr_eq(first.client(), hit.client()));
    let refused = e
        .resolve_cached(&url, Some("https://c.example/callback/"))
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::RedirectUriMismatch);
    assert_eq!(
        refused.code(),
        e.resolve_blocking(&url, Some("https://c.example/callback/"), None)
            .unwrap_err()
            .code()
    );

    // Inside stale-while-revalidate: served stale and refreshed in the background, like a resolve.
    w.clock.advance(Duration::from_secs(70));
    let stale = e.resolve_cached(&url, None).unwrap().unwrap();
    assert_eq!(stale.source(), Source::Stale);
    let t = Instant::now();
    while w.server.hits("/cached.json") < 2 {
        assert!(t.elapsed() < Duration::from_secs(5), "no background refresh");
        std::thread::sleep(Duration::from_millis(10));
    }

    // Past every window: a resolve would fetch again, so the cache-only call answers None, fetching nothing.
    w.clock.advance(Duration::from_secs(200));
    assert!(e.resolve_cached(&url, None).is_none());
    assert_eq!(w.server.hits("/cached.json"), 2);
    let s = e.stats();
    assert_eq!((s.fetches, s.background_refreshes), (2, 1));
}

/// CAC-07 (contract §4, RFC 9111 §4.2.4): a document served with `no-store`, `no-cache` or `must-revalidate`
/// (or their shared-cache forms) is used within its clamped lifetime only, and never served stale.
#[test]
fn cac_07_no_stale_serving_against_no_store_no_cache_must_revalidate() {
    for cc in [
        "no-store",
        "no-cache",
        "max-age=60, must-revalidate",
        "max-age=60, proxy-revalidate",
        "s-maxage=60",
    ] {
        let w = World::new();
        let url = w.url("c.example", "/strict.json");
        w.server.route(
            "/strict.json",
            vec![
                json_reply(&doc(&url)).header("Cache-Control", cc),
                Reply::status(503),
            ],
        );
        let e = w.engine(
            json!({"min_cache_ttl_s": 60, "stale_while_revalidate_s": 600, "stale_if_error_s": 3600}),
        );
        e.resolve_blocking(&url, None, None).unwrap();
        // Within the clamped lifetime: served from the cache.
        w.clock.advance(Duration::from_secs(30));
        assert_eq!(
            e.resolve_blocking(&url, None, None).unwrap().source(),
            Source::Cache,
            "{cc}"
        );
        // Past it: neither stale-while-revalidate nor stale-if-error; the host's failure is the answer.
        w.clock.advance(Duration::from_secs(40));
        assert!(e.probe(&url).is_none(), "{cc}: probe served a stale answer");
        let err = e.resolve_blocking(&url, None, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::HttpStatus, "{cc}: {err}");
        assert_eq!(w.server.hits("/strict.json"), 2, "{cc}");
        assert_eq!(e.stats().stale_served, 0, "{cc}");
        assert!(
            e.entries().iter().all(|x| x.state == "expired"),
            "{cc}: {:?}",
            e.entries().iter().map(|x| x.state).collect::<Vec<_>>()
        );
    }
}

#[test]
fn cac_07_ordinary_documents_are_still_served_stale() {
    let w = World::new();
    let url = w.url("c.example", "/relaxed.json");
    w.server.route(
        "/relaxed.json",
        vec![
            json_reply(&doc(&url)).header("Cache-Control", "max-age=60, public"),
            Reply::status(503),
        ],
    );
    let e = w.engine(json!({"stale_while_revalidate_s": 0, "stale_if_error_s": 3600}));
    e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(120));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Stale
    );
}

#[test]
fn cac_07_with_a_zero_floor_a_no_store_document_is_fetched_on_every_resolve() {
    for cc in ["no-store", "no-cache"] {
        let w = World::new();
        let url = w.url("c.example", "/every.json");
        w.server.route(
            "/every.json",
            vec![json_reply(&doc(&url)).header("Cache-Control", cc)],
        );
        let e = w.engine(json!({"min_cache_ttl_s": 0, "stale_while_revalidate_s": 60}));
        for n in 1..=3 {
            let r = e.resolve_blocking(&url, None, None).unwrap();
            assert_eq!(r.source(), Source::Network, "{cc}: resolve {n}");
            assert_eq!(w.server.hits("/every.json"), n, "{cc}");
        }
    }
}

#[test]
fn cac_07_a_304_that_lifts_must_revalidate_lets_the_entry_be_served_stale_again() {
    let w = World::new();
    let url = w.url("c.example", "/lift.json");
    let body = serde_json::to_vec(&doc(&url)).unwrap();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = calls.clone();
    w.server.route_fn("/lift.json", move |req| {
        match seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
            0 => Reply::json(body.clone())
                .header("ETag", "\"v1\"")
                .header("Cache-Control", "max-age=60, must-revalidate"),
            1 if req.header("if-none-match") == Some("\"v1\"") => Reply::status(304)
                .no_content_type()
                .header("Cache-Control", "max-age=60"),
            _ => Reply::status(503),
        }
    });
    let e = w.engine(json!({"stale_while_revalidate_s": 0, "stale_if_error_s": 3600}));
    e.resolve_blocking(&url, None, None).unwrap();
    w.clock.advance(Duration::from_secs(61));
    // Not servable stale: revalidated, and the 304's own Cache-Control replaces the stored one.
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Network
    );
    w.clock.advance(Duration::from_secs(61));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Stale
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn stats_count_resolutions_by_source_and_fetches_by_result_with_their_durations() {
    let w = World::new();
    let url = w.url("c.example", "/counted.json");
    w.server.route(
        "/counted.json",
        vec![
            json_reply(&doc(&url)).header("Cache-Control", "max-age=60"),
            Reply::status(503),
        ],
    );
    let e = w.engine(json!({"stale_while_revalidate_s": 0, "stale_if_error_s": 600}));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Network
    );
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Cache
    );
    w.clock.advance(Duration::from_secs(120));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap().source(),
        Source::Stale
    );
    w.clock.advance(Duration::from_secs(600));
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap_err().code(),
        ErrorCode::HttpStatus
    );
    let s = e.stats();
    let r = &s.resolutions;
    assert_eq!((r.network, r.cache, r.stale, r.failed), (1, 1, 1, 1));
    let f = &s.fetch_results;
    assert_eq!((f.document, f.not_modified, f.error), (1, 0, 2));
    assert_eq!(s.fetches, 3);
    let h = &s.fetch_duration_ms;
    assert_eq!(h.count, s.fetches, "every finished fetch is observed once");
    assert_eq!(h.le, cimd::FETCH_DURATION_BUCKETS_MS.to_vec());
    assert_eq!(h.counts.len(), h.le.len());
    assert!(
        h.counts.windows(2).all(|p| p[0] <= p[1]),
        "cumulative: {:?}",
        h.counts
    );
    assert!(h.counts.last().copied().unwrap_or(0) <= h.count);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["resolutions"]["failed"], 1);
    assert_eq!(json["fetch_results"]["error"], 2);
    assert_eq!(json["fetch_duration_ms"]["count"], 3);
}
