//! The `cimd` command-line contract (docs/contract.md §9, §11.7–§11.10), run as a real process.

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

/// Runs `cimd` with `args` on a pseudo-terminal (script(1)), as a developer's shell would, and returns what it
/// printed.
fn on_terminal(args: &[&str]) -> String {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("script(1) (util-linux) is required for the terminal tests");
    }
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_cimd"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).replace('\r', "")
}

/// Contract §11.9: an option without its value is a usage error, never taken as a CLIENT_ID or a FILE.
#[test]
fn cli_an_option_missing_its_value_is_a_usage_error() {
    let f = Files::new();
    let good = f.write(
        "good.json",
        &serde_json::to_vec(&doc("https://app.example/client.json")).unwrap(),
    );
    for args in [
        vec!["resolve", "https://c.example/a.json", "--config"],
        vec!["resolve", "https://c.example/a.json", "--redirect-uri"],
        vec!["resolve", "--config", "--json", "https://c.example/a.json"],
        vec![
            "resolve",
            "--redirect-uri",
            "--config",
            "x.json",
            "https://c.example/a.json",
        ],
        vec!["lint", good.as_str(), "--client-id"],
        vec!["lint", "--client-id", "--json", good.as_str()],
        vec!["lint", "--config", good.as_str()],
        vec!["lint", good.as_str(), "--config"],
        vec!["resolve", "--json=yes", "https://c.example/a.json"],
        vec!["config-schema", "extra"],
        vec!["config-schema", "--json"],
    ] {
        let out = cimd(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("cimd: "), "{args:?}: {err}");
    }
    let err = String::from_utf8_lossy(&cimd(&["resolve", "https://c.example/a.json", "--config"]).stderr)
        .into_owned();
    assert!(err.contains("--config needs a value"), "{err}");
    let err =
        String::from_utf8_lossy(&cimd(&["resolve", "--config", "--json", "https://c.example/a.json"]).stderr)
            .into_owned();
    assert!(
        err.contains("--config needs a value, but \"--json\" follows it"),
        "{err}"
    );
}

/// Contract §11.9: options may come before or after the operands; `--` ends them.
#[test]
fn cli_options_before_or_after_the_operands() {
    let f = Files::new();
    let good = f.write(
        "good.json",
        &serde_json::to_vec(&doc("https://app.example/client.json")).unwrap(),
    );
    for args in [
        vec![
            "lint",
            good.as_str(),
            "--client-id",
            "https://app.example/client.json",
            "--json",
        ],
        vec![
            "lint",
            "--json",
            good.as_str(),
            "--redirect-uri",
            "https://c.example/callback",
        ],
        vec![
            "lint",
            "--client-id=https://app.example/client.json",
            good.as_str(),
        ],
    ] {
        let out = cimd(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(lines(&out)[0]["ok"], true, "{args:?}");
    }
    // After the operand too, a mismatching redirect URI is checked.
    let out = cimd(&["lint", &good, "--redirect-uri", "https://evil.example/cb"]);
    assert_eq!(lines(&out)[0]["error"], "redirect_uri_mismatch");
    // Everything after -- is an operand: here a client_id that breaks the URL rules.
    let out = cimd(&["resolve", "--", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out)[0]["error"], "invalid_client_id_url");
    let out = cimd(&[
        "resolve",
        "http://c.example/a.json",
        "--json",
        "https://c.example/b/../a.json",
    ]);
    assert_eq!(
        lines(&out).len(),
        2,
        "an option between operands is an option, not a CLIENT_ID"
    );
}

/// Contract §11.9: output to a closed pipe ends the program quietly, never with a panic.
#[test]
fn cli_writing_to_a_closed_pipe_ends_quietly() {
    use std::process::Stdio;
    let many: Vec<String> = (0..2000).map(|i| format!("http://c.example/{i}.json")).collect();
    let mut cases: Vec<Vec<String>> = vec![
        vec!["--help".into()],
        vec!["--version".into()],
        vec!["config-schema".into()],
    ];
    cases.push(std::iter::once("resolve".to_owned()).chain(many).collect());
    for args in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cimd"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before reading anything, as `| head -0` would.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{:?}: {err}",
            &args[0]
        );
        assert!(out.status.code().is_some(), "{:?} died of a signal", &args[0]);
        assert!(out.status.code() != Some(101), "{:?}: {err}", &args[0]);
    }
    // Through a shell pipeline, as a user types it.
    let out = Command::new("sh")
        .args(["-c", &format!("{} --help | head -1", env!("CARGO_BIN_EXE_cimd"))])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "usage:\n");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Contract §11.10: lint reports every finding, each with its rule id and its fix; the JSON line keeps the first
/// as `error` and lists all in `findings`.
#[test]
fn cli_lint_reports_every_finding_with_rule_and_fix() {
    let f = Files::new();
    let bad = f.write(
        "bad.json",
        &serde_json::to_vec(&json!({
            "client_id": "https://a.example/c.json",
            "client_secret": "s",
            "redirect_uris": ["javascript:alert(1)"],
            "token_endpoint_auth_method": "none",
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "jwks_uri": "https://a.example/jwks.json"
        }))
        .unwrap(),
    );
    let out = cimd(&["lint", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let line = &lines(&out)[0];
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.starts_with("{\"ok\":false,\"error\":\"invalid_metadata\""),
        "{text}"
    );
    let findings = line["findings"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["error"].as_str().unwrap(), f["rule"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        summary,
        [
            ("invalid_metadata", "RED-05"),
            ("forbidden_metadata", "DOC-04"),
            ("invalid_metadata", "AUTH-14"),
        ],
        "{text}"
    );
    assert_eq!(line["error"], findings[0]["error"]);
    assert_eq!(line["error_description"], findings[0]["error_description"]);
    for finding in findings {
        assert!(finding["fix"].as_str().is_some_and(|s| s.len() > 10), "{finding}");
    }
    // The URL rules are findings too, before the document's own.
    let url_and_doc = f.write(
        "both.json",
        &serde_json::to_vec(&json!({"client_id": "https://a.example/c.json#x", "redirect_uris": []}))
            .unwrap(),
    );
    let out = cimd(&["lint", &url_and_doc]);
    let codes: Vec<String> = lines(&out)[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["error"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["invalid_client_id_url", "invalid_metadata"]);
    // On a terminal: every problem, each with its rule and fix.
    let text = on_terminal(&["lint", &bad]);
    assert!(
        text.contains("REJECTED") && text.contains("(3 problems)"),
        "{text}"
    );
    for needle in [
        "RED-05",
        "DOC-04",
        "AUTH-14",
        "remove client_secret",
        "add token_endpoint_auth_method",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert_eq!(text.matches("    fix     ").count(), 3, "{text}");
    // A missing file is a usage error.
    let out = cimd(&["lint", "/nonexistent/client.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// Contract §11.9: a configuration error names the key path and suggests the nearest key for a typo.
#[test]
fn cli_configuration_errors_name_the_key_path() {
    let f = Files::new();
    for (config, needle) in [
        (
            r#"{"per_host_rate": {"per_minute": 60}}"#,
            "per_host_rate.burst: missing",
        ),
        (
            r#"{"allow_loopback": "true"}"#,
            "allow_loopback: expected a boolean, got a string",
        ),
        (
            r#"{"max_doc_bytes": 4096}"#,
            "max_doc_bytes: unknown key; did you mean max_document_bytes?",
        ),
        (
            r#"{"allowed_hosts": ["ok.example", "bad host"]}"#,
            "allowed_hosts[1]: ",
        ),
        (
            r#"{"auth_methods_supported": ["none", "private-key-jwt"]}"#,
            "did you mean private_key_jwt?",
        ),
    ] {
        let path = f.write("config.json", config.as_bytes());
        let out = cimd(&["resolve", "--config", &path, "https://c.example/a.json"]);
        assert_eq!(out.status.code(), Some(2), "{config}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{config}: {err}");
    }
    // A host's own discovery list, shared-secret methods included, is accepted (contract §12.2).
    let path = f.write(
        "host.json",
        br#"{"auth_methods_supported": ["client_secret_basic", "client_secret_post", "none", "private_key_jwt"]}"#,
    );
    let good = f.write(
        "good.json",
        &serde_json::to_vec(&doc("https://app.example/client.json")).unwrap(),
    );
    let out = cimd(&["lint", "--config", &path, &good]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&out)[0]["client"]["token_endpoint_auth_method"], "none");
}

/// Contract §11.9: warnings print as sentences on a terminal; their codes stay in JSON.
#[test]
fn cli_warnings_are_sentences_on_a_terminal_and_codes_in_json() {
    let f = Files::new();
    let mut d = doc("https://app.example/client.json");
    d["redirect_uris"] = json!(["http://127.0.0.1/callback", "mcpjam://oauth/callback"]);
    let path = f.write("loopback.json", &serde_json::to_vec(&d).unwrap());
    let text = on_terminal(&["lint", &path]);
    assert!(text.contains("OK  "), "{text}");
    assert!(text.contains("one-word private-use scheme"), "{text}");
    assert!(!text.contains("redirect_scheme_not_reverse_domain"), "{text}");
    let out = cimd(&["lint", &path]);
    assert_eq!(
        lines(&out)[0]["warnings"],
        json!(["redirect_scheme_not_reverse_domain"])
    );
}

/// Contract §8: `cimd config-schema` prints the one description of every key.
#[test]
fn cli_config_schema_lists_every_key() {
    let out = cimd(&["config-schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = schema["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    let wanted: Vec<&str> = cimd::config::KEYS.iter().map(|k| k.name).collect();
    assert_eq!(names, wanted);
    assert!(names.contains(&"max_json_depth") && names.contains(&"per_host_rate"));
}
