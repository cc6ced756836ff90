//! The `cimd resolve` contract (docs/contract.md §7, §8, §9, §11), one case per error family, run as a real
//! process against a loopback HTTPS origin: the project's own counterpart of the shared conformance kit, so that
//! a clone without `../shared` still checks every family. Names other than `localhost` need a resolver the CLI
//! does not have here; the special-use address families (private IPv4, unique-local IPv6, rebinding) are proven
//! through the engine with a stub resolver in tests/fetch.rs.

mod common;

use std::process::Command;

use common::*;
use serde_json::{json, Value};

/// What one output line must be.
enum Want {
    Ok(Vec<(&'static str, Value)>),
    Err(&'static str),
}

struct Run {
    status: i32,
    lines: Vec<Value>,
}

fn run(args: &[String]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_cimd"))
        .args(args)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .expect("cimd runs");
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    Run {
        status: out.status.code().expect("no signal"),
        lines,
    }
}

struct Kit {
    w: World,
    dir: std::path::PathBuf,
}

impl Kit {
    fn new() -> Kit {
        let dir =
            std::env::temp_dir().join(format!("cimd-contract-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        Kit { w: World::new(), dir }
    }

    fn url(&self, path: &str) -> String {
        self.w.url("localhost", path)
    }

    /// Serves a valid document at `path`, with `extra` members merged in (`null` removes one).
    fn serve(&self, path: &str, extra: Value) -> String {
        let url = self.url(path);
        let mut d = doc(&url);
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                d.as_object_mut().unwrap().remove(k);
            } else {
                d[k] = v.clone();
            }
        }
        self.w.server.route(path, vec![json_reply(&d)]);
        url
    }

    /// `cimd resolve --config <base + extra> [args]`.
    fn resolve(&self, extra: Value, args: &[&str]) -> Run {
        let mut config = json!({"allow_loopback": true, "extra_ca_file": self.w.pki.ca_pem_path, "fetch_timeout_ms": 3000});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        let path = self.dir.join(format!("config-{}.json", rand_suffix()));
        std::fs::write(&path, serde_json::to_vec(&config).unwrap()).unwrap();
        let mut all = vec![
            "resolve".to_owned(),
            "--config".to_owned(),
            path.to_str().unwrap().to_owned(),
        ];
        all.extend(args.iter().map(|s| s.to_string()));
        run(&all)
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Checks a run: exactly one line per client_id, each as wanted, and the exit status of §9.
fn check(name: &str, r: &Run, want: &[Want]) {
    assert_eq!(r.lines.len(), want.len(), "{name}: {:?}", r.lines);
    for (line, want) in r.lines.iter().zip(want) {
        match want {
            Want::Ok(fields) => {
                assert_eq!(line["ok"], true, "{name}: {line}");
                assert!(line["client"]["redirect_uris"].is_array(), "{name}: {line}");
                assert!(
                    line["client"]["token_endpoint_auth_method"].is_string(),
                    "{name}: {line}"
                );
                assert!(line["warnings"].is_array(), "{name}: {line}");
                assert!(
                    line["fetched_at"].is_string() && line["expires_at"].is_string(),
                    "{name}: {line}"
                );
                for (path, value) in fields {
                    assert_eq!(
                        line.pointer(path).unwrap_or(&Value::Null),
                        value,
                        "{name}: {path} in {line}"
                    );
                }
            }
            Want::Err(code) => {
                assert_eq!(line["ok"], false, "{name}: {line}");
                assert_eq!(line["error"], *code, "{name}: {line}");
                assert!(
                    line["error_description"].as_str().is_some_and(|s| s.len() > 10),
                    "{name}: {line}"
                );
                assert_eq!(
                    line.as_object().unwrap().len(),
                    3,
                    "{name}: extra members in {line}"
                );
            }
        }
    }
    let all_ok = want.iter().all(|w| matches!(w, Want::Ok(_)));
    assert_eq!(r.status, if all_ok { 0 } else { 1 }, "{name}");
}

#[test]
fn contract_basic_url_and_document_families() {
    let k = Kit::new();
    let good = k.serve("/basic.json", json!({"client_name": "Contract App"}));
    let r = k.resolve(json!({}), &[&good]);
    check(
        "basic",
        &r,
        &[Want::Ok(vec![
            ("/source", json!("network")),
            ("/client/client_name", json!("Contract App")),
            ("/client/display_host/ascii", json!("localhost")),
        ])],
    );
    assert_eq!(r.lines[0]["client"]["client_id"], good.as_str());
    // A minimal document gets the RFC 7591 defaults.
    let minimal = k.url("/minimal.json");
    k.w.server.route(
        "/minimal.json",
        vec![json_reply(
            &json!({"client_id": minimal, "redirect_uris": ["https://c.example/cb"]}),
        )],
    );
    check(
        "defaults",
        &k.resolve(json!({}), &[&minimal]),
        &[Want::Ok(vec![
            ("/client/grant_types", json!(["authorization_code"])),
            ("/client/response_types", json!(["code"])),
            ("/client/token_endpoint_auth_method", json!("none")),
        ])],
    );
    // URL rules, before any connection.
    let before = k.w.server.connections();
    let port = k.w.server.port();
    let r = k.resolve(
        json!({}),
        &[
            &format!("http://localhost:{port}/basic.json"),
            &format!("https://localhost:{port}/a/../basic.json"),
            &format!("https://127.0.0.1:{port}/basic.json"),
        ],
    );
    check(
        "url",
        &r,
        &[
            Want::Err("invalid_client_id_url"),
            Want::Err("invalid_client_id_url"),
            Want::Err("invalid_client_id_url"),
        ],
    );
    assert_eq!(k.w.server.connections(), before, "a URL-rule failure connected");
    // Document families.
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/mismatch.json",
            json!({"client_id": "https://localhost/other.json"}),
            "client_id_mismatch",
        ),
        (
            "/http-redirect.json",
            json!({"redirect_uris": ["http://c.example/cb"]}),
            "invalid_metadata",
        ),
        (
            "/secret.json",
            json!({"client_secret": "s"}),
            "forbidden_metadata",
        ),
        (
            "/private-key.json",
            json!({"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}]}}),
            "forbidden_metadata",
        ),
        (
            "/unsupported.json",
            json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://c.example/j"}),
            "unsupported_auth_method",
        ),
    ];
    for (path, extra, code) in cases {
        let url = k.serve(path, extra);
        check(path, &k.resolve(json!({}), &[&url]), &[Want::Err(code)]);
    }
    // An unsupported grant type is filtered and an unknown member ignored.
    let url = k.serve(
        "/filtered.json",
        json!({"grant_types": ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"], "x_future": 1}),
    );
    check(
        "filtered",
        &k.resolve(json!({}), &[&url]),
        &[Want::Ok(vec![
            ("/client/grant_types", json!(["authorization_code"])),
            ("/warnings", json!(["grant_type_filtered"])),
        ])],
    );
    // private_key_jwt negotiated where the host supports it.
    let url = k.serve(
        "/pkjwt.json",
        json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://c.example/j"}),
    );
    check(
        "auth",
        &k.resolve(
            json!({"auth_methods_supported": ["none", "private_key_jwt"]}),
            &[&url],
        ),
        &[Want::Ok(vec![(
            "/client/token_endpoint_auth_method",
            json!("private_key_jwt"),
        )])],
    );
}

#[test]
fn contract_transport_status_and_content_families() {
    let k = Kit::new();
    // Production defaults: localhost is a special-use address, and nothing connects.
    let url = k.serve("/prod.json", json!({}));
    let before = k.w.server.connections();
    let r = run(&["resolve".into(), url.clone()]);
    check("blocked", &r, &[Want::Err("blocked_address")]);
    assert_eq!(k.w.server.connections(), before);
    // A closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    check(
        "connect",
        &k.resolve(json!({}), &[&format!("https://localhost:{closed_port}/a.json")]),
        &[Want::Err("connect_error")],
    );
    // A certificate from another CA, for another name.
    let other = TestPki::new(&["c.example"]);
    let stranger = Server::start(other.server_config());
    stranger.route("/a.json", vec![json_reply(&doc("x"))]);
    check(
        "tls",
        &k.resolve(
            json!({}),
            &[&format!("https://localhost:{}/a.json", stranger.port())],
        ),
        &[Want::Err("tls_error")],
    );
    // A host that never answers: timeout within fetch_timeout_ms, and soon after.
    let silent = support::SilentListener::start();
    let started = std::time::Instant::now();
    check(
        "timeout",
        &k.resolve(
            json!({"fetch_timeout_ms": 800}),
            &[&format!("https://localhost:{}/a.json", silent.port())],
        ),
        &[Want::Err("timeout")],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Status, redirect, size, content type, JSON.
    let replies: Vec<(&str, Reply, &str)> = vec![
        (
            "/451.json",
            Reply::json(b"{}".to_vec()).with_status(451),
            "http_status",
        ),
        ("/404.json", Reply::status(404), "http_status"),
        (
            "/308.json",
            Reply::redirect(308, "https://localhost/elsewhere.json"),
            "redirect_not_followed",
        ),
        ("/big.json", Reply::json(vec![b' '; 6000]), "too_large"),
        (
            "/xml.json",
            Reply::json(b"{}".to_vec()).content_type("application/xml"),
            "invalid_content_type",
        ),
        (
            "/comma.json",
            Reply::json(b"{\"client_id\": \"x\",}".to_vec()),
            "invalid_json",
        ),
        (
            "/dup.json",
            Reply::json(b"{\"client_id\": \"x\", \"client_id\": \"y\"}".to_vec()),
            "invalid_json",
        ),
    ];
    for (path, reply, code) in replies {
        k.w.server.route(path, vec![reply]);
        check(path, &k.resolve(json!({}), &[&k.url(path)]), &[Want::Err(code)]);
        assert_eq!(k.w.server.hits(path), 1, "{path}: exactly one request");
    }
    assert_eq!(k.w.server.hits("/elsewhere.json"), 0, "a redirect was followed");
    // A vendor JSON media type with a UTF-8 charset is a document; a raised cap takes a larger one.
    let url = k.url("/vendor.json");
    k.w.server.route(
        "/vendor.json",
        vec![json_reply(&doc(&url)).content_type("application/vnd.example+json; charset=utf-8")],
    );
    check("vendor type", &k.resolve(json!({}), &[&url]), &[Want::Ok(vec![])]);
    let url = k.url("/roomy.json");
    let mut d = doc(&url);
    d["client_name"] = json!("x".repeat(6000));
    k.w.server.route("/roomy.json", vec![json_reply(&d)]);
    check(
        "raised cap",
        &k.resolve(json!({"max_document_bytes": 16384}), &[&url]),
        &[Want::Ok(vec![])],
    );
}

#[test]
fn contract_redirect_cache_policy_exit_and_v2_families() {
    let k = Kit::new();
    let url = k.serve(
        "/app.json",
        json!({"redirect_uris": ["https://c.example/cb", "http://127.0.0.1/callback"]}),
    );
    check(
        "registered",
        &k.resolve(json!({}), &["--redirect-uri", "https://c.example/cb", &url]),
        &[Want::Ok(vec![])],
    );
    check(
        "unregistered",
        &k.resolve(json!({}), &["--redirect-uri", "https://c.example/other", &url]),
        &[Want::Err("redirect_uri_mismatch")],
    );
    check(
        "loopback any port",
        &k.resolve(
            json!({}),
            &[&url, "--redirect-uri", "http://127.0.0.1:51004/callback"],
        ),
        &[Want::Ok(vec![])],
    );
    // One engine, one cache: the same client_id twice is one request.
    let url = k.serve("/twice.json", json!({}));
    let r = k.resolve(json!({}), &[&url, &url]);
    check(
        "cache",
        &r,
        &[
            Want::Ok(vec![("/source", json!("network"))]),
            Want::Ok(vec![("/source", json!("cache"))]),
        ],
    );
    assert_eq!(k.w.server.hits("/twice.json"), 1);
    // Errors are not cached: a 500, then a 200 for the next resolve.
    let url = k.url("/flaky.json");
    k.w.server
        .route("/flaky.json", vec![Reply::status(500), json_reply(&doc(&url))]);
    check(
        "not cached",
        &k.resolve(json!({}), &[&url, &url]),
        &[Want::Err("http_status"), Want::Ok(vec![])],
    );
    // Host policy, before any connection.
    let before = k.w.server.connections();
    check(
        "allowed_hosts",
        &k.resolve(json!({"allowed_hosts": ["*.example.com"]}), &[&url]),
        &[Want::Err("host_not_allowed")],
    );
    check(
        "denied_hosts",
        &k.resolve(json!({"denied_hosts": ["localhost"]}), &[&url]),
        &[Want::Err("host_not_allowed")],
    );
    assert_eq!(k.w.server.connections(), before);
    // Exit status: 1 when any line is an error, with the lines in input order.
    let gone = k.url("/gone.json");
    k.w.server.route("/gone.json", vec![Reply::status(404)]);
    let good = k.serve("/good.json", json!({}));
    check(
        "order",
        &k.resolve(json!({}), &[&good, "http://localhost/a.json", &gone]),
        &[
            Want::Ok(vec![]),
            Want::Err("invalid_client_id_url"),
            Want::Err("http_status"),
        ],
    );
    // Usage and configuration errors: exit 2, nothing on stdout.
    for args in [
        vec!["inspect".to_owned(), good.clone()],
        vec!["resolve".to_owned()],
    ] {
        let r = run(&args);
        assert_eq!((r.status, r.lines.len()), (2, 0), "{args:?}");
    }
    let r = k.resolve(json!({"max_doc_bytes": 1}), &[&good]);
    assert_eq!((r.status, r.lines.len()), (2, 0));
    // Contract v2 (docs/contract.md §12).
    let url = k.serve(
        "/v2-singular.json",
        json!({"token_endpoint_auth_method": "none", "token_endpoint_auth_methods_supported": ["private_key_jwt"],
               "jwks_uri": "https://c.example/j"}),
    );
    check(
        "v2 singular not listed",
        &k.resolve(
            json!({"auth_methods_supported": ["none", "private_key_jwt"]}),
            &[&url],
        ),
        &[Want::Err("invalid_metadata")],
    );
    let url = k.serve("/v2-host.json", json!({}));
    check(
        "v2 host lists secrets",
        &k.resolve(
            json!({"auth_methods_supported": ["none", "client_secret_basic"]}),
            &[&url],
        ),
        &[Want::Ok(vec![(
            "/client/token_endpoint_auth_method",
            json!("none"),
        )])],
    );
    let url = k.serve("/v2-scheme.json", json!({"redirect_uris": ["exampleapp://cb"]}));
    check(
        "v2 one-word scheme",
        &k.resolve(json!({}), &[&url]),
        &[Want::Ok(vec![(
            "/warnings",
            json!(["redirect_scheme_not_reverse_domain"]),
        )])],
    );
}
