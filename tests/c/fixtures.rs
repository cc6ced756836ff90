//! The loopback HTTPS origin that the C tests (`tests/c/*.c`) resolve against.
//!
//! It reuses the Rust tests' throwaway PKI and scriptable origin (`tests/support`), serves one path per outcome
//! the C tests need on `https://localhost:PORT/`, prints the values the tests need as `NAME=value` lines, and
//! serves until its stdin closes. `tests/c/run.sh` starts it and hands those values to the tests.
//!
//! Network safety: the origin listens on 127.0.0.1 only, and the C tests run inside `scripts/netns`.

#[path = "../support/mod.rs"]
mod support;

use std::io::{Read, Write};

use serde_json::{json, Value};
use support::{closed_port, Reply, Server, TestPki};

/// The hosts of the published client documents (tests/fixtures/clients), served on 127.0.0.1:443.
const PUBLISHED_HOSTS: [&str; 4] = ["www.mcpjam.com", "vscode.dev", "claude.ai", "chatgpt.com"];

fn main() {
    let names: Vec<&str> = std::iter::once("localhost").chain(PUBLISHED_HOSTS).collect();
    let pki = TestPki::new(&names);
    let server = Server::start(pki.server_config());
    // The published documents at their real client_id URLs: port 443 needs the namespace (run.sh checks it).
    let published = Server::start_on(443, pki.server_config()).expect("127.0.0.1:443 inside scripts/netns");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("expected.json")).expect("expected.json"))
            .expect("JSON");
    let mut published_cases = Vec::new();
    for e in expected["documents"].as_array().expect("documents") {
        let body = std::fs::read(fixtures.join(e["file"].as_str().expect("file"))).expect("fixture");
        let id = serde_json::from_slice::<Value>(&body).expect("JSON")["client_id"]
            .as_str()
            .expect("client_id")
            .to_owned();
        let path = id.splitn(4, '/').nth(3).map(|p| format!("/{p}")).expect("path");
        published.route(
            &path,
            vec![Reply::json(body).header("Cache-Control", "max-age=3600")],
        );
        published_cases.push(format!(
            "{id} {}",
            e["redirect_uri"].as_str().expect("redirect_uri")
        ));
    }
    let port = server.port();
    let url = |path: &str| format!("https://localhost:{port}{path}");
    let document = |path: &str| {
        json!({
            "client_id": url(path),
            "client_name": "C test client",
            "redirect_uris": ["https://localhost/callback", "http://localhost/callback"],
            "token_endpoint_auth_method": "none",
        })
    };
    let serve = |path: &str, replies: Vec<Reply>| server.route(path, replies);
    let cacheable = |doc: &Value| {
        Reply::json(serde_json::to_vec(doc).expect("JSON")).header("Cache-Control", "max-age=3600")
    };

    // Valid documents: one for the single-thread tests, one per thread of the concurrency test, one for fork.
    for path in ["/ok.json", "/fork-new.json"] {
        serve(path, vec![cacheable(&document(path))]);
    }
    for i in 0..64 {
        let path = format!("/c/{i}.json");
        serve(&path, vec![cacheable(&document(&path))]);
    }
    // A document that changes once: the first fetch gets scope "a", every later one scope "b".
    let mut first = document("/changes.json");
    first["scope"] = json!("a");
    let mut second = document("/changes.json");
    second["scope"] = json!("b");
    serve("/changes.json", vec![cacheable(&first), cacheable(&second)]);

    // One path per document-level error code.
    serve("/not-found.json", vec![Reply::text(404, "not found\n")]);
    serve("/redirect.json", vec![Reply::redirect(302, &url("/ok.json"))]);
    let mut large = document("/large.json");
    large["client_name"] = json!("x".repeat(6000));
    serve("/large.json", vec![cacheable(&large)]);
    serve(
        "/text.json",
        vec![Reply::text(
            200,
            serde_json::to_vec(&document("/text.json")).expect("JSON"),
        )],
    );
    serve("/bad-json.json", vec![Reply::json(r#"{"client_id": "#)]);
    serve("/not-object.json", vec![Reply::json("[]")]);
    serve("/mismatch.json", vec![cacheable(&document("/ok.json"))]);
    let mut secret = document("/secret.json");
    secret["client_secret"] = json!("s3cret");
    serve("/secret.json", vec![cacheable(&secret)]);
    let mut private_key_jwt = document("/private-key-jwt.json");
    private_key_jwt["token_endpoint_auth_method"] = json!("private_key_jwt");
    private_key_jwt["jwks_uri"] = json!("https://localhost/jwks.json");
    serve("/private-key-jwt.json", vec![cacheable(&private_key_jwt)]);
    serve("/hang.json", vec![Reply::status(200).hang()]);

    let mut out = std::io::stdout().lock();
    writeln!(out, "CIMD_TEST_PORT={port}").expect("stdout");
    writeln!(out, "CIMD_TEST_CLOSED_PORT={}", closed_port()).expect("stdout");
    writeln!(out, "CIMD_TEST_CA={}", pki.ca_pem_path.display()).expect("stdout");
    writeln!(out, "CIMD_TEST_PUBLISHED={}", published_cases.join(";")).expect("stdout");
    out.flush().expect("stdout");
    drop(out);
    // Serve until the test runner closes our stdin (or dies).
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
