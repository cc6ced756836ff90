//! The client_id URL rules (docs/contract.md §1) on arbitrary bytes. The first byte picks the UrlRules switches.
//! Beyond "no panic": an accepted client_id is kept byte for byte, and an independent reading of the raw string
//! finds no scheme other than `https://`, no userinfo, no fragment, no dot segment, no control character.
#![no_main]

use cimd::internals::{ClientIdUrl, UrlRules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let rules = UrlRules {
        allow_query: flags & 1 != 0,
        allow_root_path: flags & 2 != 0,
    };
    let Ok(url) = ClientIdUrl::parse(raw, &rules) else {
        return;
    };
    assert_eq!(url.as_str(), raw, "accepted client_ids are never normalised");
    let after = raw.strip_prefix("https://").expect("scheme is exactly https://");
    assert!(!raw.contains('#'), "fragment accepted: {raw:?}");
    assert!(
        !raw.bytes().any(|b| b <= 0x20 || b == 0x7f || b == b'\\'),
        "control, space or backslash accepted: {raw:?}"
    );
    let authority_end = after.find(['/', '?']).unwrap_or(after.len());
    assert!(
        !after[..authority_end].contains('@'),
        "userinfo accepted: {raw:?}"
    );
    let path_and_query = &after[authority_end..];
    let path = &path_and_query[..path_and_query.find('?').unwrap_or(path_and_query.len())];
    assert!(path.starts_with('/'), "no path: {raw:?}");
    for seg in path.split('/') {
        let name = seg
            .split(';')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
            .replace("%2e", ".");
        assert!(name != "." && name != "..", "dot segment accepted: {raw:?}");
    }
    if !rules.allow_query {
        assert!(!raw.contains('?'), "query accepted while not allowed: {raw:?}");
    }
    if !rules.allow_root_path {
        assert_ne!(path, "/", "root path accepted while not allowed: {raw:?}");
    }
    assert!(raw.len() <= cimd::internals::MAX_CLIENT_ID_LEN);
    // The host the fetcher and the policy use is lower-case ASCII, never an IP address.
    let host = url.host();
    assert!(
        !host.is_empty() && host.is_ascii() && host.to_ascii_lowercase() == host,
        "{host:?}"
    );
    assert!(
        cimd::internals::parse_numeric_host(host).is_none(),
        "IP literal accepted: {raw:?}"
    );
    assert_eq!(url.url().scheme(), "https");
    assert_eq!(
        url.url().host_str(),
        Some(host),
        "url crate disagrees about the host of {raw:?}"
    );
    let shown = url.display_host();
    assert_eq!(shown.ascii, host);
    assert!(!shown.unicode.is_empty());
});
