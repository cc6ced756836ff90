//! Client keys for private_key_jwt (CIMD §5, issue 4 point 4): `jwks_uri` is fetched by the engine under the
//! document rules (SSRF vetting, limits, no redirects, strict JSON, private members refused) and cached with the
//! same freshness rules, so that a host never fetches a client-chosen URL itself.

mod common;

use std::time::Duration;

use cimd::{ErrorCode, KeySource};
use common::*;
use serde_json::{json, Value};

const PKJWT: &str = r#"["none", "private_key_jwt"]"#;

fn public_set() -> Value {
    json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
                     "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})
}

fn engine(w: &World, extra: Value) -> cimd::Engine {
    let mut cfg = json!({"auth_methods_supported": serde_json::from_str::<Value>(PKJWT).unwrap()});
    for (k, v) in extra.as_object().into_iter().flatten() {
        cfg[k] = v.clone();
    }
    w.engine(cfg)
}

/// Routes a private_key_jwt document at `path` whose keys live at `keys_path` on `keys_host`.
fn pkjwt_client(w: &World, path: &str, keys_host: &str, keys_path: &str) -> String {
    let url = w.url("c.example", path);
    let mut d = doc(&url);
    d["token_endpoint_auth_method"] = json!("private_key_jwt");
    d["jwks_uri"] = json!(w.url(keys_host, keys_path));
    w.server
        .route(path, vec![json_reply(&d).header("Cache-Control", "max-age=600")]);
    url
}

#[test]
fn jwks_uri_is_fetched_once_validated_and_cached() {
    let w = World::new();
    let url = pkjwt_client(&w, "/pk.json", "d.example", "/keys.json");
    w.server.route(
        "/keys.json",
        vec![json_reply(&public_set()).header("Cache-Control", "max-age=300")],
    );
    let e = engine(&w, json!({}));
    let first = e.resolve_jwks_blocking(&url, None).unwrap();
    assert_eq!(first.source(), KeySource::Network);
    assert_eq!(first.jwks_uri(), Some(w.url("d.example", "/keys.json").as_str()));
    let v: Value = serde_json::from_str(first.json()).unwrap();
    assert_eq!(v, public_set());
    let again = e.resolve_jwks_blocking(&url, None).unwrap();
    assert_eq!(again.source(), KeySource::Cache);
    assert_eq!(w.server.hits("/keys.json"), 1);
    assert_eq!(w.server.hits("/pk.json"), 1);
    // The key fetch went through the same vetting resolver as the document fetch.
    assert_eq!(w.resolver.lookups("d.example"), 1);
    let req = w
        .server
        .requests()
        .into_iter()
        .find(|r| r.path == "/keys.json")
        .unwrap();
    assert_eq!(req.header("accept"), Some("application/json"));
    // Freshness follows the same clamped lifetime rules: past max-age the keys are fetched again.
    w.clock.advance(Duration::from_secs(301));
    assert_eq!(
        e.resolve_jwks_blocking(&url, None).unwrap().source(),
        KeySource::Network
    );
    assert_eq!(w.server.hits("/keys.json"), 2);
}

#[test]
fn inline_jwks_needs_no_fetch() {
    let w = World::new();
    let url = w.url("c.example", "/inline.json");
    let mut d = doc(&url);
    d["token_endpoint_auth_method"] = json!("private_key_jwt");
    d["jwks"] = public_set();
    w.server.route("/inline.json", vec![json_reply(&d)]);
    let e = engine(&w, json!({}));
    let set = e.resolve_jwks_blocking(&url, None).unwrap();
    assert_eq!(set.source(), KeySource::Inline);
    assert_eq!(set.jwks_uri(), None);
    assert_eq!(serde_json::from_str::<Value>(set.json()).unwrap(), public_set());
    assert_eq!(w.server.requests().len(), 1);
}

#[test]
fn a_fetched_set_with_private_members_is_refused_and_never_cached() {
    let w = World::new();
    let url = pkjwt_client(&w, "/leaky.json", "d.example", "/leaky-keys.json");
    let mut leaked = public_set();
    leaked["keys"][0]["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    w.server.route("/leaky-keys.json", vec![json_reply(&leaked)]);
    let e = engine(&w, json!({}));
    for n in 1..=2 {
        let err = e.resolve_jwks_blocking(&url, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ForbiddenMetadata, "{err}");
        assert!(!err.description().contains("jpsQnn"), "{err}");
        assert_eq!(w.server.hits("/leaky-keys.json"), n);
    }
}

#[test]
fn a_jwks_uri_host_on_a_blocked_address_is_never_contacted() {
    let w = World::new();
    w.resolver.set("keys.internal.example", &["10.1.2.3"]);
    let url = pkjwt_client(&w, "/ssrf.json", "keys.internal.example", "/keys.json");
    let e = engine(&w, json!({}));
    e.resolve_blocking(&url, None, None).unwrap();
    let before = w.server.connections();
    let err = e.resolve_jwks_blocking(&url, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BlockedAddress, "{err}");
    assert!(err.description().contains("10.1.2.3"), "{err}");
    // The document was fetched; no connection was made for the keys.
    assert_eq!(w.server.connections(), before);
    assert_eq!(w.server.hits("/keys.json"), 0);
}

#[test]
fn host_policy_and_redirect_rules_apply_to_jwks_uri() {
    let w = World::new();
    let url = pkjwt_client(&w, "/denied.json", "e.example", "/keys.json");
    let e = engine(&w, json!({"denied_hosts": ["e.example"]}));
    let err = e.resolve_jwks_blocking(&url, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::HostNotAllowed, "{err}");
    assert_eq!(w.server.hits("/keys.json"), 0);

    let url = pkjwt_client(&w, "/moved.json", "d.example", "/moved-keys.json");
    w.server.route(
        "/moved-keys.json",
        vec![Reply::redirect(302, "https://d.example/keys.json")],
    );
    let err = engine(&w, json!({}))
        .resolve_jwks_blocking(&url, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RedirectNotFollowed, "{err}");
    assert_eq!(w.server.hits("/moved-keys.json"), 1);
}

#[test]
fn a_key_set_is_revalidated_with_its_etag_and_a_304_renews_it() {
    let w = World::new();
    let url = pkjwt_client(&w, "/etag-pk.json", "d.example", "/etag-keys.json");
    let body = serde_json::to_vec(&public_set()).unwrap();
    w.server.route_fn("/etag-keys.json", move |req| {
        if req.header("if-none-match") == Some("\"k1\"") {
            Reply::status(304)
                .no_content_type()
                .header("Cache-Control", "max-age=120")
        } else {
            Reply::json(body.clone())
                .header("ETag", "\"k1\"")
                .header("Cache-Control", "max-age=60")
        }
    });
    let e = engine(&w, json!({}));
    let first = e.resolve_jwks_blocking(&url, None).unwrap();
    w.clock.advance(Duration::from_secs(61));
    let renewed = e.resolve_jwks_blocking(&url, None).unwrap();
    assert_eq!(renewed.source(), KeySource::Network);
    assert_eq!(renewed.json(), first.json());
    assert_eq!(e.stats().not_modified, 1);
    let reqs: Vec<_> = w
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/etag-keys.json")
        .collect();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].header("if-none-match"), Some("\"k1\""));
    // The 304 granted its own lifetime (120 s) and kept the ETag, which it did not repeat.
    w.clock.advance(Duration::from_secs(119));
    assert_eq!(
        e.resolve_jwks_blocking(&url, None).unwrap().source(),
        KeySource::Cache
    );
    w.clock.advance(Duration::from_secs(2));
    assert_eq!(
        e.resolve_jwks_blocking(&url, None).unwrap().source(),
        KeySource::Network
    );
    assert_eq!(e.stats().not_modified, 2);
}

#[test]
fn stale_keys_serve_through_a_transient_failure_and_404_evicts() {
    let w = World::new();
    let url = pkjwt_client(&w, "/flaky.json", "d.example", "/flaky-keys.json");
    w.server.route(
        "/flaky-keys.json",
        vec![
            json_reply(&public_set()).header("Cache-Control", "max-age=60"),
            Reply::status(503),
            Reply::status(404),
        ],
    );
    let e = engine(&w, json!({"stale_if_error_s": 3600}));
    assert_eq!(
        e.resolve_jwks_blocking(&url, None).unwrap().source(),
        KeySource::Network
    );
    w.clock.advance(Duration::from_secs(61));
    assert_eq!(
        e.resolve_jwks_blocking(&url, None).unwrap().source(),
        KeySource::Stale
    );
    let err = e.resolve_jwks_blocking(&url, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::HttpStatus, "{err}");
    // Evicted: a later transient failure has nothing to fall back on.
    assert_eq!(
        e.resolve_jwks_blocking(&url, None).unwrap_err().code(),
        ErrorCode::HttpStatus
    );
}

#[test]
fn a_public_client_without_keys_is_invalid_metadata_and_invalidate_drops_keys() {
    let w = World::new();
    let public = w.url("c.example", "/public.json");
    w.server.route("/public.json", vec![json_reply(&doc(&public))]);
    let e = engine(&w, json!({}));
    let err = e.resolve_jwks_blocking(&public, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidMetadata, "{err}");

    let url = pkjwt_client(&w, "/inv.json", "d.example", "/inv-keys.json");
    w.server.route(
        "/inv-keys.json",
        vec![json_reply(&public_set()).header("Cache-Control", "max-age=600")],
    );
    e.resolve_jwks_blocking(&url, None).unwrap();
    assert!(e.invalidate(&url));
    assert_eq!(
        e.resolve_jwks_blocking(&url, None).unwrap().source(),
        KeySource::Network
    );
    assert_eq!(w.server.hits("/inv-keys.json"), 2);
    assert_eq!(w.server.hits("/inv.json"), 2);
}

/// CAC-07 for key sets: keys served with `must-revalidate` (or `no-store`, `no-cache`) are never used stale.
#[test]
fn cac_07_keys_served_with_must_revalidate_are_never_used_stale() {
    let w = World::new();
    let url = pkjwt_client(&w, "/strict.json", "d.example", "/strict-keys.json");
    w.server.route(
        "/strict-keys.json",
        vec![
            json_reply(&public_set()).header("Cache-Control", "max-age=60, must-revalidate"),
            Reply::status(503),
        ],
    );
    let e = engine(&w, json!({"stale_if_error_s": 3600}));
    e.resolve_jwks_blocking(&url, None).unwrap();
    w.clock.advance(Duration::from_secs(61));
    let err = e.resolve_jwks_blocking(&url, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::HttpStatus, "{err}");
}
