//! redirect_uri matching (docs/contract.md §5) on arbitrary bytes: the first byte holds the flags, the rest is
//! split on newlines into registered URIs and, last, the requested one. Checks the contract: with the loopback
//! exception off a match is byte equality; a requested URI with a fragment never matches; a relaxed match is
//! only ever between `http://` loopback URIs; the mismatch error quotes a bounded, escaped URI.
#![no_main]

use cimd::internals::{check_redirect_uri, is_loopback_redirect, redirect_uri_matches};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut parts: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let requested = parts.pop().unwrap_or_default();
    let registered = parts;
    let any_port = flags & 1 != 0;

    let exact = registered.iter().any(|r| *r == requested);
    let strict = redirect_uri_matches(&registered, &requested, false);
    assert_eq!(strict, exact && !requested.is_empty() && !requested.contains('#'));
    let relaxed = redirect_uri_matches(&registered, &requested, any_port);
    if relaxed && !exact {
        assert!(any_port);
        assert!(requested.starts_with("http://"), "{requested:?}");
        assert!(registered.iter().any(|r| r.starts_with("http://")));
        assert!(
            is_loopback_redirect(&requested),
            "relaxed match on a non-loopback URI {requested:?}"
        );
    }
    if requested.contains('#') {
        assert!(!relaxed);
    }
    match check_redirect_uri(&registered, &requested, any_port) {
        Ok(()) => assert!(relaxed),
        Err(e) => {
            assert!(!relaxed);
            assert_eq!(e.code(), cimd::ErrorCode::RedirectUriMismatch);
            assert!(
                !e.description().chars().any(|c| c.is_control()),
                "unescaped control character"
            );
            assert!(e.description().len() < 2048, "unbounded description");
        }
    }
});
