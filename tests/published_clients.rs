//! The documents real MCP clients publish (tests/fixtures/clients: MCPJam, VS Code, Claude Code, claude.ai,
//! ChatGPT) resolve: with `lint`, and fetched at their real client_id URLs from a loopback HTTPS host on port
//! 443, with a stub resolver that maps their hosts to 127.0.0.1. The port-443 origin needs the isolated network
//! namespace (scripts/netns), where the test is root of its own namespace and nothing leaves the machine.

mod common;

use std::path::PathBuf;

use cimd::{Config, Engine, KeySource, Source};
use common::*;
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients")
}

/// Each published document with what it must resolve to (expected.json).
fn published() -> Vec<(Value, Vec<u8>)> {
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("expected.json")).unwrap()).unwrap();
    expected["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let body = std::fs::read(fixtures().join(e["file"].as_str().unwrap())).unwrap();
            (e.clone(), body)
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn host_of(client_id: &str) -> &str {
    client_id
        .strip_prefix("https://")
        .and_then(|rest| rest.split('/').next())
        .unwrap()
}

#[test]
fn published_documents_lint_as_expected_on_both_kinds_of_host() {
    for (methods, field) in [
        (json!(["none"]), "host_none"),
        (json!(["none", "private_key_jwt"]), "host_none_private_key_jwt"),
    ] {
        let engine =
            Engine::new(Config::from_value(json!({ "auth_methods_supported": methods })).unwrap()).unwrap();
        for (expected, body) in published() {
            let file = expected["file"].as_str().unwrap();
            let redirect = expected["redirect_uri"].as_str().unwrap();
            let r = engine
                .lint(&body, None, Some(redirect))
                .unwrap_or_else(|e| panic!("{file} on {methods}: {e}"));
            assert_eq!(
                r.metadata().token_endpoint_auth_method,
                expected[field],
                "{file} on {methods}"
            );
            assert_eq!(
                r.metadata().grant_types,
                strings(&expected["grant_types"]),
                "{file}"
            );
            assert_eq!(r.client().warnings(), strings(&expected["warnings"]), "{file}");
            assert_eq!(r.source(), Source::Local);
        }
    }
}

#[test]
fn published_documents_resolve_at_their_real_urls() {
    if !isolated("published_documents_resolve_at_their_real_urls") {
        return;
    }
    let docs = published();
    let ids: Vec<String> = docs
        .iter()
        .map(|(_, body)| {
            serde_json::from_slice::<Value>(body).unwrap()["client_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut hosts: Vec<&str> = ids.iter().map(|id| host_of(id)).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let pki = TestPki::new(&hosts);
    let server = Server::start_on(443, pki.server_config()).expect("port 443 inside the namespace");
    let resolver = StubResolver::new();
    for h in &hosts {
        resolver.set(h, &["127.0.0.1"]);
    }
    for ((_, body), id) in docs.iter().zip(&ids) {
        let path = id.split_once(host_of(id)).unwrap().1;
        server.route(
            path,
            vec![Reply::json(body.clone()).header("Cache-Control", "max-age=300")],
        );
    }
    // ChatGPT's keys, for a host that negotiates private_key_jwt.
    server.route(
        "/oauth/jwks.json",
        vec![Reply::json(
            serde_json::to_vec(
                &json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}),
            )
            .unwrap(),
        )],
    );
    for (methods, field) in [
        (json!(["none"]), "host_none"),
        (json!(["none", "private_key_jwt"]), "host_none_private_key_jwt"),
    ] {
        let config = Config::from_value(json!({
            "allow_loopback": true,
            "extra_ca_file": pki.ca_pem_path.to_str().unwrap(),
            "auth_methods_supported": methods,
        }))
        .unwrap();
        let engine = Engine::builder(config)
            .resolver(resolver.clone())
            .build()
            .unwrap();
        for ((expected, _), id) in docs.iter().zip(&ids) {
            let redirect = expected["redirect_uri"].as_str().unwrap();
            let r = engine
                .resolve_blocking(id, Some(redirect), None)
                .unwrap_or_else(|e| panic!("{id} on {methods}: {e}"));
            assert_eq!(r.source(), Source::Network, "{id}");
            assert_eq!(r.metadata().client_id, *id);
            assert_eq!(
                r.metadata().token_endpoint_auth_method,
                expected[field],
                "{id} on {methods}"
            );
            assert_eq!(r.client().warnings(), strings(&expected["warnings"]), "{id}");
            assert_eq!(r.client().display_host().ascii, host_of(id));
            // Served from the cache the second time.
            assert_eq!(
                engine
                    .resolve_blocking(id, Some(redirect), None)
                    .unwrap()
                    .source(),
                Source::Cache
            );
            if r.metadata().token_endpoint_auth_method == "private_key_jwt" {
                let keys = engine.resolve_jwks_blocking(id, None).unwrap();
                assert_eq!(keys.source(), KeySource::Network, "{id}");
            }
        }
    }
    for (_, id) in docs.iter().zip(&ids) {
        let path = id.split_once(host_of(id)).unwrap().1;
        assert_eq!(server.hits(path), 2, "{id}: one fetch per engine");
    }
}

#[test]
fn published_documents_pass_cimd_lint() {
    for (expected, _) in published() {
        let file = fixtures().join(expected["file"].as_str().unwrap());
        let redirect = expected["redirect_uri"].as_str().unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cimd"))
            .args(["lint", "--redirect-uri", redirect])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stdout)
        );
        let line: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            line["client"]["token_endpoint_auth_method"],
            expected["host_none"]
        );
        assert_eq!(line["warnings"], expected["warnings"]);
    }
}
