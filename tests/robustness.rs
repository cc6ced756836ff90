//! Malformed input gets a precise error, never a panic, a hang or unbounded work: deep nesting, huge arrays,
//! invalid UTF-8, duplicate keys, NUL bytes, very long URLs, and mutated documents (no network involved).

use std::time::{Duration, Instant};

use cimd::{Config, Engine, ErrorCode};
use serde_json::json;

const CID: &str = "https://app.example/client.json";

fn engine() -> Engine {
    Engine::from_json("{}").unwrap()
}

fn lint_code(e: &Engine, body: &[u8]) -> Result<(), ErrorCode> {
    e.lint(body, Some(CID), None).map(|_| ()).map_err(|e| e.code())
}

fn valid_doc() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "client_id": CID,
        "client_name": "Robust",
        "redirect_uris": ["https://app.example/cb", "http://127.0.0.1/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]},
        "contacts": ["ops@app.example"],
        "logo_uri": "https://app.example/logo.png"
    }))
    .unwrap()
}

#[test]
fn deep_nesting_is_invalid_json_without_stack_overflow() {
    let e = engine();
    for depth in [33usize, 1000, 100_000, 1_000_000] {
        let mut body = format!("{{\"client_id\":\"{CID}\",\"x\":");
        body.push_str(&"[".repeat(depth));
        body.push_str(&"]".repeat(depth));
        body.push('}');
        assert_eq!(
            lint_code(&e, body.as_bytes()),
            Err(ErrorCode::InvalidJson),
            "depth {depth}"
        );
        let open_only = "{".repeat(depth);
        assert_eq!(lint_code(&e, open_only.as_bytes()), Err(ErrorCode::InvalidJson));
    }
}

#[test]
fn huge_arrays_and_objects_are_bounded() {
    let e = engine();
    let many: Vec<String> = (0..100_000)
        .map(|i| format!("https://app.example/cb{i}"))
        .collect();
    let body = serde_json::to_vec(&json!({"client_id": CID, "redirect_uris": many})).unwrap();
    let err = e.lint(&body, Some(CID), None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidJson);
    assert!(err.description().contains("64"), "{err}");
    let mut members = serde_json::Map::new();
    for i in 0..10_000 {
        members.insert(format!("x{i}"), json!(i));
    }
    members.insert("client_id".into(), json!(CID));
    let body = serde_json::to_vec(&members).unwrap();
    assert_eq!(lint_code(&e, &body), Err(ErrorCode::InvalidJson));
    // The configured bound is the one applied.
    let loose = Engine::new(Config::from_json(r#"{"max_array_items": 200}"#).unwrap()).unwrap();
    let some: Vec<String> = (0..100).map(|i| format!("https://app.example/cb{i}")).collect();
    let body = serde_json::to_vec(&json!({"client_id": CID, "redirect_uris": some})).unwrap();
    assert!(loose.lint(&body, Some(CID), None).is_ok());
    assert_eq!(lint_code(&e, &body), Err(ErrorCode::InvalidJson));
}

#[test]
fn invalid_utf8_duplicates_and_nul_bytes() {
    let e = engine();
    let mut latin1 = valid_doc();
    let pos = latin1.iter().position(|b| *b == b'R').unwrap();
    latin1[pos] = 0xd2;
    assert_eq!(lint_code(&e, &latin1), Err(ErrorCode::InvalidJson));
    let nested_dup = format!(r#"{{"client_id":"{CID}","jwks":{{"keys":[{{"kty":"EC","kty":"RSA"}}]}}}}"#);
    assert_eq!(lint_code(&e, nested_dup.as_bytes()), Err(ErrorCode::InvalidJson));
    let escaped_dup = format!(r#"{{"client_id":"{CID}","client\u005fid":"https://evil.example/c.json"}}"#);
    assert_eq!(lint_code(&e, escaped_dup.as_bytes()), Err(ErrorCode::InvalidJson));
    let mut raw_nul = valid_doc();
    raw_nul.insert(raw_nul.len() - 1, 0);
    assert_eq!(lint_code(&e, &raw_nul), Err(ErrorCode::InvalidJson));
    // An escaped NUL is valid JSON, but not inside a client_id or redirect URI.
    let escaped_nul = format!(r#"{{"client_id":"{CID}\u0000","redirect_uris":["https://app.example/cb"]}}"#);
    assert!(lint_code(&e, escaped_nul.as_bytes()).is_err());
    let nul_redirect = format!(r#"{{"client_id":"{CID}","redirect_uris":["https://app.example/cb\u0000"]}}"#);
    assert_eq!(
        lint_code(&e, nul_redirect.as_bytes()),
        Err(ErrorCode::InvalidMetadata)
    );
    assert_eq!(lint_code(&e, b""), Err(ErrorCode::InvalidJson));
    assert_eq!(lint_code(&e, b"\xef\xbb\xbf{}"), Err(ErrorCode::InvalidJson));
}

#[test]
fn very_long_and_hostile_urls_fail_fast() {
    let e = engine();
    let long = format!("https://app.example/{}", "a".repeat(1 << 20));
    let t = Instant::now();
    let err = e.resolve_blocking(&long, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidClientIdUrl);
    assert!(err.description().len() < 400, "the description echoes the input");
    let exactly = format!("https://app.example/{}", "a".repeat(2048 - 20));
    assert_eq!(exactly.len(), 2048);
    assert_ne!(
        e.resolve_blocking(&format!("{exactly}a"), None, None)
            .unwrap_err()
            .code(),
        ErrorCode::Internal
    );
    for hostile in [
        "https://app.example/a\0b.json",
        "https://app.example/\u{202e}gnp.json",
        "https://app.example/a b.json",
        "https://app.example\\a.json",
        "https:\\\\app.example/a.json",
        "https://app.example/%",
        "https://app.example/%2e%2E/x.json",
        "",
        "https://",
        "https:///a.json",
        "\u{feff}https://app.example/a.json",
    ] {
        let err = e.resolve_blocking(hostile, None, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidClientIdUrl, "{hostile:?}");
    }
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(e.stats().fetches, 0);
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_documents_never_panic() {
    let e = engine();
    let base = valid_doc();
    assert_eq!(lint_code(&e, &base), Ok(()));
    let interesting: &[&[u8]] = &[
        b"\"",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"\\",
        b"\\u",
        b"\xff",
        b"\0",
        b"null",
        b"1e999",
        b"-",
        b"\"client_id\":",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut outcomes = std::collections::BTreeMap::new();
    for _ in 0..20_000 {
        let mut doc = base.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(doc.len());
            match rng.below(3) {
                0 => {
                    doc.remove(at);
                }
                1 => {
                    let piece = interesting[rng.below(interesting.len())];
                    doc.splice(at..at, piece.iter().copied());
                }
                _ => doc[at] = rng.next() as u8,
            }
        }
        let outcome = lint_code(&e, &doc);
        assert_ne!(outcome, Err(ErrorCode::Internal));
        *outcomes.entry(format!("{outcome:?}")).or_insert(0) += 1;
    }
    assert!(
        outcomes.len() >= 3,
        "mutations reached too few outcomes: {outcomes:?}"
    );
}

#[test]
fn hostile_configurations_are_errors_not_panics() {
    let mut rng = Rng(42);
    let keys = [
        "allow_loopback",
        "max_document_bytes",
        "per_host_rate",
        "allowed_hosts",
        "private_network_allowlist",
        "min_cache_ttl_s",
        "nope",
    ];
    let values = [
        json!(null),
        json!(-1),
        json!(1e300),
        json!("x"),
        json!([]),
        json!({}),
        json!([1, "a"]),
        json!(u64::MAX),
        json!(true),
    ];
    for _ in 0..2000 {
        let mut obj = serde_json::Map::new();
        for _ in 0..1 + rng.below(3) {
            obj.insert(
                keys[rng.below(keys.len())].into(),
                values[rng.below(values.len())].clone(),
            );
        }
        let _ = Config::from_value(serde_json::Value::Object(obj));
    }
    for text in [
        "",
        "{",
        "null",
        "[]",
        "\"x\"",
        "{\"a\":1}",
        "{\"allow_loopback\":true,\"allow_loopback\":false}",
    ] {
        assert!(Config::from_json(text).is_err(), "{text:?} was accepted");
    }
}
