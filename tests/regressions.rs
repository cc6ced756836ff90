//! Regression tests for the bugs that the property tests (tests/properties.rs) and the fuzz targets (fuzz/)
//! found. Each test names the finder and the input; each stays in the normal suite so the bug cannot return.

use cimd::internals::{parse_strict, JsonLimits};
use cimd::internals::{validate, DocumentPolicy};
use cimd::Config;

/// Found by `prop_doc_accepted_documents_round_trip_through_their_serialisation`: serde_json's default float
/// parser is not correctly rounded, so `-2.2785483117015325e+142` in a document was read as
/// `-2.2785483117015328e+142`, a different number from the one any correctly rounding JSON parser (and the
/// publisher) reads: a parser differential, and a document whose serialised result did not validate to the
/// same metadata. Fixed by enabling serde_json's `float_roundtrip` feature.
#[test]
fn regression_json_numbers_are_read_correctly_rounded() {
    for text in [
        "-2.2785483117015325e+142",
        "2.2250738585072014e-308",
        "0.1",
        "1.7976931348623157e308",
        "5e-324",
        "9007199254740993.0",
        "1.00000000000000011102230246251565404236316680908203125",
        "123456789012345678901234567890",
    ] {
        let v = parse_strict(format!("[{text}]").as_bytes(), &JsonLimits::default()).unwrap();
        let got = v[0].as_f64().unwrap();
        let want: f64 = text.parse().unwrap();
        assert_eq!(
            got.to_bits(),
            want.to_bits(),
            "{text}: read {got:e}, want {want:e}"
        );
    }
}

#[test]
fn regression_documents_with_float_members_round_trip() {
    let client_id = "https://c.example/client.json";
    let body = format!(
        r#"{{"client_id": "{client_id}", "redirect_uris": ["https://c.example/cb"],
            "jwks": {{"keys": [{{"kty": "RSA", "n": "a", "e": "AQAB", "x_extra": -2.2785483117015325e+142}}]}}}}"#
    );
    let config = Config::default();
    let policy = DocumentPolicy::from_config(&config);
    let first = validate(body.as_bytes(), client_id, &policy).unwrap();
    let again = serde_json::to_vec(&first.metadata).unwrap();
    let second = validate(&again, client_id, &policy).unwrap();
    assert_eq!(first.metadata, second.metadata);
    assert_eq!(
        first.metadata.jwks.as_ref().unwrap()["keys"][0]["x_extra"].as_f64(),
        Some(-2.2785483117015325e142)
    );
}

/// Found while writing the `c_abi` fuzz target, whose configurations may name any file: with
/// `{"extra_ca_file": "/dev/zero"}` (the input in a file, given to the built target) `cimd_engine_new` read until
/// libFuzzer's memory limit stopped it (an unbounded `std::fs::read`), and a FIFO would have blocked it
/// forever. Now `extra_ca_file` must be a regular file of at most 16 MiB, else the engine is refused with a
/// message.
#[test]
fn regression_extra_ca_file_dev_zero_is_a_config_error_not_an_endless_read() {
    let dir = std::env::temp_dir().join(format!("cimd-regression-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let large = dir.join("large.pem");
    std::fs::write(&large, vec![b'a'; (16 << 20) + 1]).unwrap();
    let fifo = dir.join("ca.fifo");
    let made_fifo = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let mut cases = vec![
        ("/dev/zero".to_owned(), "not a regular file"),
        (dir.display().to_string(), "not a regular file"),
        (large.display().to_string(), "larger than 16 MiB"),
    ];
    if made_fifo {
        cases.push((fifo.display().to_string(), "not a regular file"));
    }
    for (path, why) in cases {
        let config = serde_json::json!({ "extra_ca_file": path }).to_string();
        let started = std::time::Instant::now();
        let Err(e) = cimd::Engine::from_json(&config) else {
            panic!("{path}: accepted");
        };
        assert!(e.to_string().contains(why), "{path}: {e}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{path}: slow"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
