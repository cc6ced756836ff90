//! Document rules, auth-method negotiation and redirect_uri matching end to end: fetched from a loopback
//! origin, validated, and checked as an authorization request would be (DOC-*, RED-*, POL-01, URL-*).

mod common;

use cimd::ErrorCode;
use common::*;
use serde_json::json;

fn serve(w: &World, path: &str, body: serde_json::Value) -> String {
    let url = w.url("c.example", path);
    let mut body = body;
    if body.get("client_id") == Some(&json!("SELF")) {
        body["client_id"] = json!(url);
    }
    w.server.route(path, vec![json_reply(&body)]);
    url
}

#[test]
fn chatgpt_document_resolves_to_none_against_a_none_only_host() {
    let w = World::new();
    let chatgpt = json!({
        "client_id": "SELF",
        "client_name": "ChatGPT",
        "redirect_uris": ["https://chatgpt.com/connector_platform_oauth_redirect"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        "jwks_uri": "https://chatgpt.com/oauth/jwks.json",
        "application_type": "web"
    });
    let url = serve(&w, "/chatgpt.json", chatgpt);
    let none_only = w.engine(json!({}));
    let r = none_only.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(r.metadata().token_endpoint_auth_method, "none");
    let both = w.engine(json!({"auth_methods_supported": ["none", "private_key_jwt"]}));
    let r = both.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(r.metadata().token_endpoint_auth_method, "private_key_jwt");
}

#[test]
fn claude_code_loopback_redirect_any_port() {
    let w = World::new();
    let claude = json!({
        "client_id": "SELF",
        "client_name": "Claude Code",
        "redirect_uris": ["http://localhost/callback", "http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none"
    });
    let url = serve(&w, "/claude-code.json", claude);
    let e = w.engine(json!({}));
    let r = e
        .resolve_blocking(&url, Some("http://localhost:58135/callback"), None)
        .unwrap();
    assert!(r
        .client()
        .warnings()
        .iter()
        .any(|w| w == "localhost_redirects_only"));
    assert!(e
        .resolve_blocking(&url, Some("http://127.0.0.1:40001/callback"), None)
        .is_ok());
    for bad in [
        "http://localhost:58135/callback/",
        "http://localhost:58135/other",
        "http://127.0.0.2:58135/callback",
        "https://localhost:58135/callback",
        "http://LOCALHOST:58135/callback",
        "http://localhost.evil.example:58135/callback",
    ] {
        let err = e.resolve_blocking(&url, Some(bad), None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::RedirectUriMismatch, "{bad}");
    }
    // With the exception turned off, only the exact string matches.
    let strict = w.engine(json!({"loopback_any_port": false}));
    assert!(strict
        .resolve_blocking(&url, Some("http://localhost/callback"), None)
        .is_ok());
    assert_eq!(
        strict
            .resolve_blocking(&url, Some("http://localhost:58135/callback"), None)
            .unwrap_err()
            .code(),
        ErrorCode::RedirectUriMismatch
    );
}

#[test]
fn red_02_https_redirects_match_byte_for_byte() {
    let w = World::new();
    let url = serve(&w, "/red.json", doc("SELF"));
    let e = w.engine(json!({}));
    assert!(e
        .resolve_blocking(&url, Some("https://c.example/callback"), None)
        .is_ok());
    for bad in [
        "https://c.example/callback/",
        "https://c.example/callback?x=1",
        "https://c.example/CALLBACK",
        "https://C.example/callback",
        "https://c.example:443/callback",
        "https://c.example:8443/callback",
        "https://c.example/callback#f",
    ] {
        let err = e.resolve_blocking(&url, Some(bad), None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::RedirectUriMismatch, "{bad}");
        assert_eq!(err.oauth_error(), "invalid_request");
    }
    // The mismatch comes after a successful resolve: the document is cached and not fetched again.
    assert_eq!(w.server.hits("/red.json"), 1);
}

#[test]
fn doc_02_client_id_must_equal_the_url_byte_for_byte() {
    let w = World::new();
    let e = w.engine(json!({}));
    let base = w.url("c.example", "/m.json");
    for wrong in [
        format!("{base}/"),
        base.replace("/m.json", "/M.json"),
        base.replace("c.example", "C.example"),
        base.replace("c.example", "evil.example"),
        "https://c.example/m.json".to_owned(),
    ] {
        let mut d = doc(&base);
        d["client_id"] = json!(wrong);
        w.server.route("/m.json", vec![json_reply(&d)]);
        let err = e.resolve_blocking(&base, None, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ClientIdMismatch, "{wrong}");
        assert!(err.description().contains("DOC-02"), "{err}");
    }
}

#[test]
fn url_09_the_port_spelling_is_part_of_the_client_id() {
    // The origin listens on an ephemeral port, so the requested URL carries it; a document that omits the
    // port (or spells it differently) names another client. The `:443`-versus-no-port case itself is covered
    // by the unit tests of client_id.rs and document.rs (binding 443 needs the demo's namespace).
    let w = World::new();
    let e = w.engine(json!({}));
    let with_port = w.url("c.example", "/p.json");
    for other in [
        "https://c.example/p.json".to_owned(),
        with_port.replace(
            &format!(":{}", w.server.port()),
            &format!(":0{}", w.server.port()),
        ),
    ] {
        let mut d = doc(&with_port);
        d["client_id"] = json!(other);
        w.server.route("/p.json", vec![json_reply(&d)]);
        assert_eq!(
            e.resolve_blocking(&with_port, None, None).unwrap_err().code(),
            ErrorCode::ClientIdMismatch,
            "{other}"
        );
    }
}

#[test]
fn forbidden_members_and_order_of_checks() {
    let w = World::new();
    let e = w.engine(json!({"auth_methods_supported": ["none", "private_key_jwt"]}));
    let private_ec = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}]});
    let cases: Vec<(&str, serde_json::Value, ErrorCode)> = vec![
        (
            "/f1.json",
            json!({"client_secret": "s"}),
            ErrorCode::ForbiddenMetadata,
        ),
        (
            "/f2.json",
            json!({"client_secret_expires_at": 0}),
            ErrorCode::ForbiddenMetadata,
        ),
        (
            "/f3.json",
            json!({"token_endpoint_auth_method": "client_secret_basic"}),
            ErrorCode::ForbiddenMetadata,
        ),
        (
            "/f4.json",
            json!({"token_endpoint_auth_method": "client_secret_post"}),
            ErrorCode::ForbiddenMetadata,
        ),
        (
            "/f5.json",
            json!({"token_endpoint_auth_method": "client_secret_jwt"}),
            ErrorCode::ForbiddenMetadata,
        ),
        (
            "/f6.json",
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": private_ec}),
            ErrorCode::ForbiddenMetadata,
        ),
        (
            "/f7.json",
            json!({"redirect_uris": ["http://c.example/cb"]}),
            ErrorCode::InvalidMetadata,
        ),
        (
            "/f8.json",
            json!({"redirect_uris": []}),
            ErrorCode::InvalidMetadata,
        ),
        (
            "/f9.json",
            json!({"grant_types": ["urn:ietf:params:oauth:grant-type:device_code"]}),
            ErrorCode::InvalidMetadata,
        ),
        (
            "/f10.json",
            json!({"token_endpoint_auth_method": "private_key_jwt"}),
            ErrorCode::InvalidMetadata,
        ),
        (
            "/f11.json",
            json!({"token_endpoint_auth_method": "tls_client_auth"}),
            ErrorCode::UnsupportedAuthMethod,
        ),
    ];
    for (path, overrides, want) in cases {
        let url = w.url("c.example", path);
        let mut d = doc(&url);
        for (k, v) in overrides.as_object().unwrap() {
            d[k] = v.clone();
        }
        w.server.route(path, vec![json_reply(&d)]);
        let err = e.resolve_blocking(&url, None, None).unwrap_err();
        assert_eq!(err.code(), want, "{path}: {err}");
    }
    // A client_id mismatch is reported before a forbidden member (docs/contract.md §11.1).
    let url = w.url("c.example", "/order.json");
    let mut d = doc("https://other.example/order.json");
    d["client_secret"] = json!("s");
    w.server.route("/order.json", vec![json_reply(&d)]);
    assert_eq!(
        e.resolve_blocking(&url, None, None).unwrap_err().code(),
        ErrorCode::ClientIdMismatch
    );
}

#[test]
fn unsupported_grant_types_are_filtered_and_unknown_members_ignored() {
    let w = World::new();
    let mut d = doc("SELF");
    d["grant_types"] = json!([
        "authorization_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "refresh_token"
    ]);
    d["x_vendor_extension"] = json!({"anything": [1, 2, 3]});
    let url = serve(&w, "/claude-ai.json", d);
    let r = w.engine(json!({})).resolve_blocking(&url, None, None).unwrap();
    assert_eq!(
        r.metadata().grant_types,
        vec!["authorization_code", "refresh_token"]
    );
    assert!(r.client().warnings().iter().any(|w| w == "grant_type_filtered"));
    let line: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
    assert!(line["client"].get("x_vendor_extension").is_none());
    assert_eq!(line["client"]["display_host"]["ascii"], "c.example");
}

#[test]
fn red_04_client_credentials_only_needs_no_redirect_uris() {
    let w = World::new();
    let d = json!({"client_id": "SELF", "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}});
    let url = serve(&w, "/m2m.json", d);
    let e = w.engine(json!({"auth_methods_supported": ["private_key_jwt"],
        "grant_types_supported": ["client_credentials"], "response_types_supported": ["code"]}));
    let r = e.resolve_blocking(&url, None, None).unwrap();
    assert!(r.metadata().redirect_uris.is_empty());
    assert_eq!(r.metadata().token_endpoint_auth_method, "private_key_jwt");
}

#[test]
fn the_ok_line_has_the_contract_shape() {
    let w = World::new();
    let url = serve(&w, "/shape.json", doc("SELF"));
    let r = w.engine(json!({})).resolve_blocking(&url, None, None).unwrap();
    let line: serde_json::Value = serde_json::from_str(&r.to_json_line()).unwrap();
    assert_eq!(line["ok"], true);
    assert_eq!(line["source"], "network");
    assert_eq!(line["client"]["client_id"], url.as_str());
    assert!(line["warnings"].is_array());
    for key in ["fetched_at", "expires_at"] {
        let t = line[key].as_str().unwrap();
        assert!(t.ends_with('Z') && t.len() == 20, "{key}: {t}");
    }
    assert!(line.get("changed").is_none());
    for (k, v) in line["client"].as_object().unwrap() {
        assert!(!v.is_null(), "{k} is null");
    }
}
