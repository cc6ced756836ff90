//! The `cimd` command-line contract (decisions.md §9, §11.7–§11.10), run as a real process.

mod common;

use std::io::Write;
use std::process::{Command, Output};

use common::*;
use serde_json::{json, Value};

fn cimd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cimd"))
        .args(args)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .expect("cimd runs")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

struct Files(std::path::PathBuf);

impl Files {
    fn new() -> Files {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("cimd-cli-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Files(dir)
    }
    fn write(&self, name: &str, content: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::File::create(&p).unwrap().write_all(content).unwrap();
        p.to_str().unwrap().to_owned()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn usage_errors_exit_2_with_nothing_on_stdout() {
    let f = Files::new();
    let bad_key = f.write("bad.json", br#"{"max_doc_bytes": 4096}"#);
    let bad_json = f.write("broken.json", b"{");
    let bad_range = f.write("range.json", br#"{"fetch_timeout_ms": 0}"#);
    for args in [
        vec![],
        vec!["inspect", "https://c.example/a.json"],
        vec!["resolve"],
        vec!["resolve", "--nope", "https://c.example/a.json"],
        vec!["resolve", "--config"],
        vec![
            "resolve",
            "--config",
            "/nonexistent/cimd.json",
            "https://c.example/a.json",
        ],
        vec![
            "resolve",
            "--config",
            bad_key.as_str(),
            "https://c.example/a.json",
        ],
        vec![
            "resolve",
            "--config",
            bad_json.as_str(),
            "https://c.example/a.json",
        ],
        vec![
            "resolve",
            "--config",
            bad_range.as_str(),
            "https://c.example/a.json",
        ],
        vec!["lint"],
        vec!["lint", "a.json", "b.json"],
        vec!["lint", "/nonexistent/doc.json"],
        vec!["resolve", "--client-id", "x", "https://c.example/a.json"],
    ] {
        let out = cimd(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!out.stderr.is_empty(), "{args:?} explained nothing");
    }
    let out = cimd(&["resolve", "--config", &bad_key, "https://c.example/a.json"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_doc_bytes"));
    assert_eq!(cimd(&["--help"]).status.code(), Some(0));
    assert_eq!(cimd(&["--version"]).status.code(), Some(0));
}

#[test]
fn invalid_client_ids_are_rejected_without_network_in_order() {
    let out = cimd(&[
        "resolve",
        "http://c.example/a.json",
        "https://c.example/a/../b.json",
        "https://127.0.0.1/a.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let l = lines(&out);
    assert_eq!(l.len(), 3);
    for line in &l {
        assert_eq!(line["ok"], false);
        assert_eq!(line["error"], "invalid_client_id_url");
        assert!(line["error_description"].as_str().unwrap().len() > 10);
    }
    assert!(l[1]["error_description"].as_str().unwrap().contains("URL-06"));
}

#[test]
fn lint_validates_a_local_document() {
    let f = Files::new();
    let good = f.write(
        "good.json",
        serde_json::to_vec(&doc("https://app.example/client.json"))
            .unwrap()
            .as_slice(),
    );
    let out = cimd(&["lint", &good]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let l = lines(&out);
    assert_eq!(l[0]["ok"], true);
    assert_eq!(l[0]["client"]["client_id"], "https://app.example/client.json");
    assert_eq!(l[0]["source"], "local");
    // The served-at URL differs from the document's client_id.
    let out = cimd(&["lint", "--client-id", "https://app.example/other.json", &good]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out)[0]["error"], "client_id_mismatch");
    // The redirect_uri check applies too.
    let out = cimd(&["lint", "--redirect-uri", "https://evil.example/cb", &good]);
    assert_eq!(lines(&out)[0]["error"], "redirect_uri_mismatch");
    let out = cimd(&["lint", "--redirect-uri", "https://c.example/callback", &good]);
    assert_eq!(out.status.code(), Some(0));
    // Broken documents get precise errors.
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dup.json",
            br#"{"client_id": "https://a.example/c.json", "client_id": "https://b.example/c.json"}"#.to_vec(),
            "invalid_json",
        ),
        (
            "secret.json",
            serde_json::to_vec(&json!({"client_id": "https://a.example/c.json",
            "redirect_uris": ["https://a.example/cb"], "client_secret": "x"}))
            .unwrap(),
            "forbidden_metadata",
        ),
        (
            "bad-url.json",
            serde_json::to_vec(&json!({"client_id": "https://a.example/c.json#frag",
            "redirect_uris": ["https://a.example/cb"]}))
            .unwrap(),
            "invalid_client_id_url",
        ),
        (
            "noid.json",
            br#"{"redirect_uris": ["https://a.example/cb"]}"#.to_vec(),
            "invalid_metadata",
        ),
        ("utf16.json", vec![0xff, 0xfe, b'{', 0, b'}', 0], "invalid_json"),
    ];
    for (name, body, want) in cases {
        let path = f.write(name, &body);
        let out = cimd(&["lint", &path]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(lines(&out)[0]["error"], want, "{name}");
    }
}

#[test]
fn lint_explains_problems_on_a_terminal() {
    // `script` gives the process a pseudo-terminal, as a developer's shell would.
    if Command::new("script").arg("--version").output().is_err() {
        panic!("script(1) (util-linux) is required for the terminal tests");
    }
    let f = Files::new();
    let bad = f.write(
        "bad.json",
        serde_json::to_vec(
            &json!({"client_id": "https://a.example/c.json", "redirect_uris": ["https://a.example/cb"],
            "token_endpoint_auth_method": "client_secret_basic"}),
        )
        .unwrap()
        .as_slice(),
    );
    let cmd = format!("{} lint {bad}", env!("CARGO_BIN_EXE_cimd"));
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("REJECTED"), "{text}");
    assert!(text.contains("forbidden_metadata"), "{text}");
    assert!(text.contains("fix"), "{text}");
    assert!(!text.trim_start().starts_with('{'), "JSON on a terminal: {text}");
    // --json forces JSON Lines on a terminal.
    let cmd = format!("{} lint --json {bad}", env!("CARGO_BIN_EXE_cimd"));
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.trim_start().starts_with("{\"ok\":false"), "{text}");
}

#[test]
fn resolve_prints_one_line_per_client_id_through_one_cache() {
    // The CLI uses the system resolver: `localhost` is the one name that needs no hosts file.
    let w = World::new();
    let good = w.url("localhost", "/good.json");
    let gone = w.url("localhost", "/gone.json");
    w.server.route("/good.json", vec![json_reply(&doc(&good))]);
    w.server.route("/gone.json", vec![Reply::status(404)]);
    let f = Files::new();
    let config = f.write(
        "config.json",
        serde_json::to_vec(&json!({"allow_loopback": true, "extra_ca_file": w.pki.ca_pem_path}))
            .unwrap()
            .as_slice(),
    );
    let out = cimd(&["resolve", "--config", &config, &good, &gone, &good]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = lines(&out);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0]["ok"], true);
    assert_eq!(l[0]["source"], "network");
    assert_eq!(l[1]["error"], "http_status");
    assert_eq!(l[2]["source"], "cache");
    assert_eq!(w.server.hits("/good.json"), 1);
    let out = cimd(&[
        "resolve",
        "--config",
        &config,
        "--redirect-uri",
        "https://c.example/callback",
        &good,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let out = cimd(&[
        "resolve",
        "--config",
        &config,
        "--redirect-uri",
        "https://c.example/other",
        &good,
    ]);
    assert_eq!(lines(&out)[0]["error"], "redirect_uri_mismatch");
    // Production defaults: localhost is a blocked address.
    let out = cimd(&["resolve", &good]);
    assert_eq!(lines(&out)[0]["error"], "blocked_address");
}

#[test]
fn environment_proxies_are_ignored() {
    let w = World::new();
    let good = w.url("localhost", "/direct.json");
    w.server.route("/direct.json", vec![json_reply(&doc(&good))]);
    // A "proxy" that would count any connection made to it.
    let proxy = support::SilentListener::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let f = Files::new();
    let config = f.write(
        "config.json",
        serde_json::to_vec(&json!({"allow_loopback": true, "extra_ca_file": w.pki.ca_pem_path}))
            .unwrap()
            .as_slice(),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_cimd"))
        .args(["resolve", "--config", &config, &good])
        .env("HTTPS_PROXY", &proxy_url)
        .env("https_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env("NO_PROXY", "")
        .output()
        .unwrap();
    assert_eq!(
        lines(&out)[0]["ok"],
        true,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(proxy.connections(), 0, "the engine used an environment proxy");
    assert_eq!(w.server.hits("/direct.json"), 1);
}

#[test]
fn resolve_explains_outcomes_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("script(1) (util-linux) is required for the terminal tests");
    }
    let w = World::new();
    let good = w.url("localhost", "/tty.json");
    w.server.route("/tty.json", vec![json_reply(&doc(&good))]);
    let f = Files::new();
    let config = f.write(
        "config.json",
        serde_json::to_vec(&json!({"allow_loopback": true, "extra_ca_file": w.pki.ca_pem_path}))
            .unwrap()
            .as_slice(),
    );
    let cmd = format!(
        "{} resolve --config {config} {good} http://x.example/a.json",
        env!("CARGO_BIN_EXE_cimd")
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("OK  https://localhost"), "{text}");
    assert!(
        text.contains("Test Client") && text.contains("auth method"),
        "{text}"
    );
    assert!(
        text.contains("REJECTED  http://x.example/a.json") && text.contains("URL-01"),
        "{text}"
    );
    let cmd = format!(
        "{} resolve --json --config {config} {good}",
        env!("CARGO_BIN_EXE_cimd")
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout)
        .trim_start()
        .starts_with("{\"ok\":true"));
}
