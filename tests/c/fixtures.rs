//! The C tests' fixtures (`tests/c/*.c`), served by the test origin (`tests/origin/origin.rs`) when it is started
//! with `--c-fixtures`: one path per outcome the C tests need on `https://localhost:PORT/`, and the published client
//! documents at their real client_id URLs on 127.0.0.1:443. `tests/c/run.sh` starts the origin and hands the values
//! below to the tests as `CIMD_TEST_<NAME>` variables.
//!
//! Network safety: the origin listens on 127.0.0.1 only, and the C tests run inside `scripts/netns`.

use serde_json::{json, Value};

use crate::support::{closed_port, Reply, Server, TestPki};

/// The hosts of the published client documents (tests/fixtures/clients), served on 127.0.0.1:443.
const PUBLISHED_HOSTS: [&str; 4] = ["www.mcpjam.com", "vscode.dev", "claude.ai", "chatgpt.com"];

/// The servers (kept for as long as the origin runs) and the `NAME=value` lines the C tests read.
pub struct Fixtures {
    _servers: Vec<Server>,
    pub values: Vec<(&'static str, String)>,
}

fn read_json(path: &std::path::Path) -> Result<(Vec<u8>, Value), String> {
    let body = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value = serde_json::from_slice(&body).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((body, value))
}

fn field<'a>(value: &'a Value, name: &str, file: &str) -> Result<&'a str, String> {
    value[name]
        .as_str()
        .ok_or_else(|| format!("{file}: no string member {name:?}"))
}

/// Starts the C tests' servers with certificates from `pki`.
pub fn serve(pki: &TestPki) -> Result<Fixtures, String> {
    let server = Server::start(pki.config_for(&["localhost"]));
    // The published documents at their real client_id URLs: port 443 needs the namespace (run.sh checks it).
    let published = Server::start_on(443, pki.config_for(&PUBLISHED_HOSTS))
        .map_err(|e| format!("cannot listen on 127.0.0.1:443 ({e}): run inside scripts/netns"))?;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients");
    let (_, expected) = read_json(&fixtures.join("expected.json"))?;
    let mut published_cases = Vec::new();
    for e in expected["documents"].as_array().into_iter().flatten() {
        let file = field(e, "file", "expected.json")?;
        let (body, document) = read_json(&fixtures.join(file))?;
        let id = field(&document, "client_id", file)?.to_owned();
        let path = id
            .splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{p}"))
            .ok_or_else(|| format!("{file}: client_id {id} has no path"))?;
        published.route(
            &path,
            vec![Reply::json(body).header("Cache-Control", "max-age=3600")],
        );
        published_cases.push(format!("{id} {}", field(e, "redirect_uri", "expected.json")?));
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
    let json_bytes = |doc: &Value| serde_json::to_vec(doc).unwrap_or_default();
    let cacheable = |doc: &Value| Reply::json(json_bytes(doc)).header("Cache-Control", "max-age=3600");

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
        vec![Reply::text(200, json_bytes(&document("/text.json")))],
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

    Ok(Fixtures {
        values: vec![
            ("PORT", port.to_string()),
            ("CLOSED_PORT", closed_port().to_string()),
            ("PUBLISHED", published_cases.join(";")),
        ],
        _servers: vec![server, published],
    })
}
