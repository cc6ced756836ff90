//! Property tests (issue 7): the invariants that matter, over generated inputs rather than hand-picked ones.
//!
//! * client_id URL rules: a dot segment, userinfo, a fragment or a scheme other than lower-case `https` is
//!   rejected in every generated spelling (case mixes, percent-encodings, `;params`), and nothing the parser
//!   accepts ever has one (checked by an independent reading of the raw string).
//! * redirect_uri matching agrees with an independently written model: byte-exact, except the port of an
//!   `http` loopback URI.
//! * the address classifier agrees with an independently written model of the IANA special-purpose registries
//!   (longest-prefix match over the registry rows as published) for random addresses inside every block, at
//!   both boundaries, just outside them, and anywhere.
//! * a document accepted once is accepted again after serialising the result, with the same metadata.
//! * freshness never panics and always lands within `[min_ttl, max_ttl]`.
//!
//! `PROPTEST_CASES=N` raises the number of cases for a longer run; the defaults keep `make test` fast.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cimd::internals::classify;
use cimd::internals::redirect_uri_matches;
use cimd::internals::{freshness, CacheHeaders};
use cimd::internals::{validate, DocumentPolicy};
use cimd::internals::{ClientIdUrl, UrlRules};
use cimd::{Config, ErrorCode};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use serde_json::{json, Map, Value};

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------------------
// client_id URL rules
// ---------------------------------------------------------------------------------------------------------

/// Every combination of the two URL switches: the rejections below must hold under all of them.
fn any_rules() -> impl Strategy<Value = UrlRules> {
    (any::<bool>(), any::<bool>()).prop_map(|(allow_query, allow_root_path)| UrlRules {
        allow_query,
        allow_root_path,
    })
}

/// Flips the ASCII case of the letters of `s` selected by the bits of `mask`.
fn case_mix(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                if c.is_ascii_lowercase() {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            } else {
                c
            }
        })
        .collect()
}

/// A DNS host that the rules accept (never numeric: the last label is letters), in a random case mix.
fn host() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[a-z0-9]{1,8}", 0..3),
        "[a-z]{2,6}",
        any::<u64>(),
    )
        .prop_map(|(mut labels, tld, mask)| {
            labels.push(tld);
            case_mix(&labels.join("."), mask)
        })
}

/// `""` or `:PORT` without leading zeros.
fn port() -> impl Strategy<Value = String> {
    prop::option::of(1u16..=65535).prop_map(|p| p.map(|p| format!(":{p}")).unwrap_or_default())
}

/// One ordinary path segment: never all dots; may hold percent-encoded letters and sub-delims.
fn segment() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[A-Za-z0-9_~-]{1,6}",
            1 => Just(".json".to_owned()),
            1 => select(vec!["%41", "%7e", "%C3%A9", "%20", "!", "$", "&", "(", ")", "*", "+", ",", "=", ":", "@"])
                .prop_map(str::to_owned),
        ],
        1..4,
    )
    .prop_map(|parts| {
        let s = parts.concat();
        // A segment made only of dots would be a dot segment; ".json" alone is not, but keep them readable.
        if s.bytes().all(|b| b == b'.') {
            format!("x{s}")
        } else {
            s
        }
    })
}

/// An accepted client_id, in parts: (host, port, path segments).
fn base() -> impl Strategy<Value = (String, String, Vec<String>)> {
    (host(), port(), prop::collection::vec(segment(), 1..4))
}

fn assemble(scheme_and_slashes: &str, authority: &str, segments: &[String]) -> String {
    format!("{scheme_and_slashes}{authority}/{}", segments.join("/"))
}

/// A dot segment in one of its spellings: one or two dots, each `.`, `%2e` or `%2E`, optionally with a
/// `;param` (servlet containers drop it and then resolve the dots).
fn dot_segment() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(select(vec![".", "%2e", "%2E"]), 1..=2),
        prop::option::of("[a-z0-9=]{0,5}"),
    )
        .prop_map(|(dots, param)| match param {
            Some(p) => format!("{};{p}", dots.concat()),
            None => dots.concat(),
        })
}

/// Userinfo in its spellings: a user, optionally `:password`, any of them empty, with raw sub-delims and
/// percent-encodings (including an encoded `@`, `:` or `/`).
fn userinfo() -> impl Strategy<Value = String> {
    let piece = || {
        prop::collection::vec(
            prop_oneof![
                "[A-Za-z0-9._~-]{1,4}",
                select(vec![
                    "%40", "%3A", "%3a", "%2F", "%25", "%00", "!", "$", "'", "(", "*", "+", ",", ";", "="
                ])
                .prop_map(str::to_owned),
            ],
            0..3,
        )
        .prop_map(|v| v.concat())
    };
    (piece(), prop::option::of(piece())).prop_map(|(user, password)| match password {
        Some(p) => format!("{user}:{p}@"),
        None => format!("{user}@"),
    })
}

/// A scheme (with what follows it) that is not exactly `https://`: case mixes of `https`, percent-encoded
/// letters, other schemes, missing or extra slashes.
fn bad_scheme() -> impl Strategy<Value = String> {
    prop_oneof![
        // Case mixes of "https" other than all lower case.
        (1u64..32).prop_map(|mask| format!("{}://", case_mix("https", mask))),
        // A percent-encoded letter of "https".
        (0usize..5, any::<bool>()).prop_map(|(i, upper)| {
            let mut s = String::new();
            for (j, c) in "https".chars().enumerate() {
                if i == j {
                    let e = format!("%{:02x}", c as u32);
                    s.push_str(&if upper { e.to_ascii_uppercase() } else { e });
                } else {
                    s.push(c);
                }
            }
            format!("{s}://")
        }),
        select(vec![
            "http://",
            "ftp://",
            "wss://",
            "ws://",
            "file://",
            "javascript://",
            "data://",
            "httpss://",
            "https+x://",
            "xhttps://",
            "://",
            "//",
            "https:/",
            "https:",
            "HTTPS://",
            "https%3A//",
        ])
        .prop_map(str::to_owned),
        // Any other RFC 3986 scheme.
        "[a-zA-Z][a-zA-Z0-9+.-]{0,8}"
            .prop_filter("not https", |s| s != "https")
            .prop_map(|s| format!("{s}://")),
    ]
}

/// Fragment content: anything, including `#`, `?`, `/`, percent-encodings; the fragment may be empty.
fn fragment() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[A-Za-z0-9._~/?:@!$&'()*+,;=-]{1,5}",
            select(vec!["#", "%23", "%2e", "..", "%zz", "%"]).prop_map(str::to_owned),
        ],
        0..3,
    )
    .prop_map(|v| v.concat())
}

fn assert_rejected(raw: &str, rules: &UrlRules, rule: &str) -> Result<(), TestCaseError> {
    match ClientIdUrl::parse(raw, rules) {
        Ok(_) => Err(TestCaseError::fail(format!(
            "{raw:?} was accepted under {rules:?}; it breaks {rule}"
        ))),
        Err(e) => {
            prop_assert_eq!(e.code(), ErrorCode::InvalidClientIdUrl, "{:?}: {}", raw, e);
            prop_assert!(
                e.description().contains(rule),
                "{:?} was rejected for another reason than {}: {}",
                raw,
                rule,
                e
            );
            Ok(())
        }
    }
}

/// Our own reading of an accepted client_id, written without the engine's code: scheme, userinfo, fragment
/// and dot segments (with `;params` dropped and `%2e` decoded, as a lenient server would).
fn independent_violation(raw: &str) -> Option<&'static str> {
    let Some(rest) = raw.strip_prefix("https://") else {
        return Some("scheme is not exactly https://");
    };
    if raw.contains('#') {
        return Some("has a fragment");
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[..authority_end].contains('@') {
        return Some("has userinfo");
    }
    let after = &rest[authority_end..];
    let path = &after[..after.find('?').unwrap_or(after.len())];
    for seg in path.split('/') {
        let name = seg.split(';').next().unwrap_or("");
        let decoded = name.replace("%2e", ".").replace("%2E", ".");
        if decoded == "." || decoded == ".." {
            return Some("has a dot segment");
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// The generator's base URLs are valid, so each rejection below is due to the one flaw injected.
    #[test]
    fn prop_url_generated_bases_are_accepted((host, port, segs) in base(), rules in any_rules()) {
        let raw = assemble("https://", &format!("{host}{port}"), &segs);
        let parsed = ClientIdUrl::parse(&raw, &rules);
        prop_assert!(parsed.is_ok(), "{:?}: {:?}", raw, parsed.err());
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.as_str(), raw.as_str(), "never normalised");
        prop_assert_eq!(parsed.host(), host.to_ascii_lowercase());
    }

    /// URL-06: a dot segment anywhere in the path, in every spelling, is rejected.
    #[test]
    fn prop_url_06_dot_segments_rejected_in_every_spelling(
        (host, port, mut segs) in base(),
        dot in dot_segment(),
        at in any::<prop::sample::Index>(),
        trailing_slash in any::<bool>(),
        rules in any_rules(),
    ) {
        let i = at.index(segs.len() + 1);
        segs.insert(i, dot);
        let mut raw = assemble("https://", &format!("{host}{port}"), &segs);
        if trailing_slash {
            raw.push('/');
        }
        assert_rejected(&raw, &rules, "(URL-06)")?;
    }

    /// URL-02: userinfo, in every spelling, is rejected.
    #[test]
    fn prop_url_02_userinfo_rejected_in_every_spelling(
        (host, port, segs) in base(),
        user in userinfo(),
        rules in any_rules(),
    ) {
        let raw = assemble("https://", &format!("{user}{host}{port}"), &segs);
        assert_rejected(&raw, &rules, "(URL-02)")?;
    }

    /// URL-08: a fragment, even empty, after the path or after a query, is rejected.
    #[test]
    fn prop_url_08_fragments_rejected_in_every_spelling(
        (host, port, segs) in base(),
        query in prop::option::of("[A-Za-z0-9=&]{0,6}"),
        frag in fragment(),
        allow_root_path in any::<bool>(),
    ) {
        // allow_query so that a query before the fragment is not the first rule broken.
        let rules = UrlRules { allow_query: true, allow_root_path };
        let mut raw = assemble("https://", &format!("{host}{port}"), &segs);
        if let Some(q) = query {
            raw.push('?');
            raw.push_str(&q);
        }
        raw.push('#');
        raw.push_str(&frag);
        assert_rejected(&raw, &rules, "(URL-08)")?;
    }

    /// URL-01: any scheme other than exactly `https://` is rejected, however it is spelt.
    #[test]
    fn prop_url_01_non_https_schemes_rejected_in_every_spelling(
        (host, port, segs) in base(),
        scheme in bad_scheme(),
        rules in any_rules(),
    ) {
        let raw = assemble(&scheme, &format!("{host}{port}"), &segs);
        assert_rejected(&raw, &rules, "(URL-01)")?;
    }

    /// The other direction: whatever a string is made of, if the rules accept it, an independent reading finds
    /// no fragment, no userinfo, no dot segment and the exact `https://` scheme.
    #[test]
    fn prop_url_accepted_strings_have_none_of_the_forbidden_parts(
        tokens in prop::collection::vec(select(vec![
            "https://", "http://", "HTTPS://", "https:", "//", "c.example", "C.Example", "x", "@", ":", "443",
            "8443", "/", ".", "..", "%2e", "%2E", "%2f", ";", "a", "b.json", "%41", "-", "_", "~", "#", "?", "=",
            "[::1]", "127.0.0.1", "%40",
        ]), 1..14),
        rules in any_rules(),
    ) {
        let raw = tokens.concat();
        if ClientIdUrl::parse(&raw, &rules).is_ok() {
            prop_assert_eq!(independent_violation(&raw), None, "{:?} was accepted", raw);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// redirect_uri matching
// ---------------------------------------------------------------------------------------------------------

const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// The model of docs/contract.md §5, written independently of `redirect.rs`: equal strings match; otherwise, with
/// the exception on, two `http://` URIs match when their authorities are the same loopback host string with or
/// without a valid port, neither has a fragment, and everything after the authority is equal.
fn model_matches(registered: &str, requested: &str, any_port: bool) -> bool {
    if requested.is_empty() || requested.contains('#') {
        return false;
    }
    if registered == requested {
        return true;
    }
    if !any_port {
        return false;
    }
    fn strip_port(uri: &str) -> Option<(&'static str, &str)> {
        let rest = uri.strip_prefix("http://")?;
        for host in LOOPBACK_HOSTS {
            if let Some(after) = rest.strip_prefix(host) {
                if after.is_empty() || after.starts_with(['/', '?', '#']) {
                    return Some((host, after));
                }
                if let Some(p) = after.strip_prefix(':') {
                    let digits = p.bytes().take_while(u8::is_ascii_digit).count();
                    let tail = &p[digits..];
                    let port_ok =
                        (1..=5).contains(&digits) && p[..digits].parse::<u32>().is_ok_and(|n| n <= 65535);
                    if port_ok && (tail.is_empty() || tail.starts_with(['/', '?', '#'])) {
                        return Some((host, tail));
                    }
                }
                return None;
            }
        }
        None
    }
    match (strip_port(registered), strip_port(requested)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Redirect URIs as clients register them: https and http, loopback and not, with ports, paths and queries.
fn redirect_uri() -> impl Strategy<Value = String> {
    (
        select(vec!["http", "https", "HTTP", "com.example.app"]),
        prop_oneof![
            select(LOOPBACK_HOSTS.to_vec()).prop_map(str::to_owned),
            select(vec![
                "LOCALHOST",
                "127.0.0.2",
                "[0:0:0:0:0:0:0:1]",
                "localhost.",
                "app.example"
            ])
            .prop_map(str::to_owned),
        ],
        prop::option::of(prop_oneof![
            (1u32..=65535).prop_map(|p| p.to_string()),
            select(vec!["", "0", "080", "65536", "99999", "x"]).prop_map(str::to_owned),
        ]),
        "(/[A-Za-z0-9._~%-]{0,6}){0,3}",
        prop::option::of("[A-Za-z0-9=&/]{0,6}"),
    )
        .prop_map(|(scheme, host, port, path, query)| {
            let mut s = format!("{scheme}://{host}");
            if let Some(p) = port {
                s.push(':');
                s.push_str(&p);
            }
            s.push_str(&path);
            if let Some(q) = query {
                s.push('?');
                s.push_str(&q);
            }
            s
        })
}

/// One-byte edits of a URI: insert, delete, replace, case flip.
fn mutate(uri: &str, op: u8, at: prop::sample::Index, byte: u8) -> String {
    let mut b = uri.as_bytes().to_vec();
    let i = at.index(b.len() + 1);
    let byte = b"/:?#@.%0123456789aAzZ[]-"[usize::from(byte) % 24];
    match op % 4 {
        0 => b.insert(i, byte),
        1 if i < b.len() => {
            b.remove(i);
        }
        2 if i < b.len() => b[i] = byte,
        3 if i < b.len() && b[i].is_ascii_alphabetic() => b[i] ^= 0x20,
        _ => b.push(byte),
    }
    String::from_utf8(b).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1024)))]

    /// The matcher agrees with the model for a registered URI and a one-byte edit of it (or of another one).
    #[test]
    fn prop_red_matching_agrees_with_the_model(
        registered in prop::collection::vec(redirect_uri(), 1..4),
        pick in any::<prop::sample::Index>(),
        op in any::<u8>(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
        any_port in any::<bool>(),
    ) {
        let base = &registered[pick.index(registered.len())];
        for requested in [base.clone(), mutate(base, op, at, byte)] {
            let want = registered.iter().any(|r| model_matches(r, &requested, any_port));
            prop_assert_eq!(
                redirect_uri_matches(&registered, &requested, any_port), want,
                "registered {:?}, requested {:?}, loopback_any_port {}", registered, requested, any_port
            );
        }
    }

    /// Only the port of an http loopback URI may differ: any port (or none) then matches; for https, for other
    /// hosts, or with the exception off, a different port never matches.
    #[test]
    fn prop_red_only_the_loopback_port_is_relaxed(
        scheme in select(vec!["http", "https"]),
        host in select(vec!["127.0.0.1", "[::1]", "localhost", "app.example", "LOCALHOST"]),
        reg_port in prop::option::of(1u32..=65535),
        req_port in prop::option::of(1u32..=65535),
        tail in "(/[a-z0-9]{0,5}){1,3}(\\?[a-z=]{0,4})?",
        any_port in any::<bool>(),
    ) {
        let uri = |p: Option<u32>| match p {
            Some(p) => format!("{scheme}://{host}:{p}{tail}"),
            None => format!("{scheme}://{host}{tail}"),
        };
        let (reg, req) = (uri(reg_port), uri(req_port));
        let relaxed = any_port && scheme == "http" && LOOPBACK_HOSTS.contains(&host);
        prop_assert_eq!(
            redirect_uri_matches(std::slice::from_ref(&reg), &req, any_port),
            reg == req || relaxed,
            "{} vs {}", reg, req
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// Address classification against a model of the IANA registries
// ---------------------------------------------------------------------------------------------------------

/// The IANA IPv4 Special-Purpose Address Registry as published (plus multicast, from its own registry), with
/// the engine's names for each entry. Read by longest-prefix match, so row order does not matter here.
const IANA_V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this_network"),
    ("0.0.0.0/32", "unspecified"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared_cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "protocol_assignments"),
    ("192.0.0.0/29", "ds_lite"),
    ("192.0.0.8/32", "dummy"),
    ("192.0.0.9/32", "protocol_anycast"),
    ("192.0.0.10/32", "protocol_anycast"),
    ("192.0.0.170/32", "nat64_discovery"),
    ("192.0.0.171/32", "nat64_discovery"),
    ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "as112"),
    ("192.52.193.0/24", "amt_relay"),
    ("192.88.99.0/24", "six_to_four_relay"),
    ("192.88.99.2/32", "six_a44_relay"),
    ("192.168.0.0/16", "private"),
    ("192.175.48.0/24", "as112"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "broadcast"),
];

/// The IANA IPv6 Special-Purpose Address Registry as published, plus the architecture-level blocks
/// (IPv4-compatible, site-local, unique-local, link-local, multicast). Anything outside `2000::/3` that no row
/// covers more precisely is `reserved`.
const IANA_V6: &[(&str, &str)] = &[
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "ipv4_compatible"),
    ("::ffff:0:0/96", "ipv4_mapped"),
    ("64:ff9b::/96", "nat64"),
    ("64:ff9b:1::/48", "nat64"),
    ("100::/64", "discard_only"),
    ("100:0:0:1::/64", "dummy"),
    ("2001::/23", "protocol_assignments"),
    ("2001::/32", "teredo"),
    ("2001:1::1/128", "protocol_anycast"),
    ("2001:1::2/128", "protocol_anycast"),
    ("2001:1::3/128", "protocol_anycast"),
    ("2001:2::/48", "benchmarking"),
    ("2001:3::/32", "amt_relay"),
    ("2001:4:112::/48", "as112"),
    ("2001:10::/28", "orchid"),
    ("2001:20::/28", "orchid"),
    ("2001:30::/28", "drone_remote_id"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "six_to_four"),
    ("2620:4f:8000::/48", "as112"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "srv6_sid"),
    ("fc00::/7", "unique_local"),
    ("fe80::/10", "link_local"),
    ("fec0::/10", "site_local"),
    ("ff00::/8", "multicast"),
];

/// (first address, prefix length) of a row, as integers.
fn row_v4(cidr: &str) -> (u32, u32) {
    let (a, p) = cidr.split_once('/').unwrap();
    (u32::from(a.parse::<Ipv4Addr>().unwrap()), p.parse().unwrap())
}

fn row_v6(cidr: &str) -> (u128, u32) {
    let (a, p) = cidr.split_once('/').unwrap();
    (u128::from(a.parse::<Ipv6Addr>().unwrap()), p.parse().unwrap())
}

fn last_v4(first: u32, prefix: u32) -> u32 {
    first | u32::MAX.checked_shr(prefix).unwrap_or(0)
}

fn last_v6(first: u128, prefix: u32) -> u128 {
    first | u128::MAX.checked_shr(prefix).unwrap_or(0)
}

fn model_v4(a: u32) -> Option<&'static str> {
    IANA_V4
        .iter()
        .map(|(c, name)| (row_v4(c), *name))
        .filter(|&((first, prefix), _)| first <= a && a <= last_v4(first, prefix))
        .max_by_key(|&((_, prefix), _)| prefix)
        .map(|(_, name)| name)
}

fn model_v6(a: u128) -> Option<&'static str> {
    let listed = IANA_V6
        .iter()
        .map(|(c, name)| (row_v6(c), *name))
        .filter(|&((first, prefix), _)| first <= a && a <= last_v6(first, prefix))
        .max_by_key(|&((_, prefix), _)| prefix)
        .map(|(_, name)| name);
    // Global unicast is 2000::/3: top three bits 001.
    listed.or(if a >> 125 == 0b001 { None } else { Some("reserved") })
}

fn engine_v4(a: u32) -> Option<&'static str> {
    classify(Ipv4Addr::from(a).into()).map(|k| k.as_str())
}

fn engine_v6(a: u128) -> Option<&'static str> {
    classify(Ipv6Addr::from(a).into()).map(|k| k.as_str())
}

/// Both boundaries of every block, and the addresses just outside them, deterministically.
#[test]
fn ssrf_01_classifier_agrees_with_the_iana_model_at_every_block_boundary() {
    for (cidr, _) in IANA_V4 {
        let (first, prefix) = row_v4(cidr);
        let last = last_v4(first, prefix);
        for a in [first, last, first.wrapping_sub(1), last.wrapping_add(1)] {
            assert_eq!(engine_v4(a), model_v4(a), "{} (block {cidr})", Ipv4Addr::from(a));
        }
    }
    for (cidr, _) in IANA_V6 {
        let (first, prefix) = row_v6(cidr);
        let last = last_v6(first, prefix);
        for a in [first, last, first.wrapping_sub(1), last.wrapping_add(1)] {
            assert_eq!(engine_v6(a), model_v6(a), "{} (block {cidr})", Ipv6Addr::from(a));
        }
    }
    // The global unicast boundaries of the IPv6 default rule.
    for a in [
        0x2000u128 << 112,
        (0x4000u128 << 112) - 1,
        (0x2000u128 << 112) - 1,
        0x4000u128 << 112,
    ] {
        assert_eq!(engine_v6(a), model_v6(a), "{}", Ipv6Addr::from(a));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2048)))]

    /// A random address inside a random IPv4 block (or at/just beyond one of its ends).
    #[test]
    fn prop_ssrf_01_ipv4_blocks_agree_with_the_iana_model(
        row in any::<prop::sample::Index>(), host_bits in any::<u32>(), edge in 0u8..6,
    ) {
        let (first, prefix) = row_v4(IANA_V4[row.index(IANA_V4.len())].0);
        let last = last_v4(first, prefix);
        let a = match edge {
            0 => first,
            1 => last,
            2 => first.wrapping_sub(1),
            3 => last.wrapping_add(1),
            _ => first | (host_bits & (last - first)),
        };
        prop_assert_eq!(engine_v4(a), model_v4(a), "{}", Ipv4Addr::from(a));
    }

    /// The same for IPv6.
    #[test]
    fn prop_ssrf_01_ipv6_blocks_agree_with_the_iana_model(
        row in any::<prop::sample::Index>(), host_bits in any::<u128>(), edge in 0u8..6,
    ) {
        let (first, prefix) = row_v6(IANA_V6[row.index(IANA_V6.len())].0);
        let last = last_v6(first, prefix);
        let a = match edge {
            0 => first,
            1 => last,
            2 => first.wrapping_sub(1),
            3 => last.wrapping_add(1),
            _ => first | (host_bits & (last - first)),
        };
        prop_assert_eq!(engine_v6(a), model_v6(a), "{}", Ipv6Addr::from(a));
    }

    /// Uniformly random addresses of both families (mostly public IPv4 and reserved/global IPv6).
    #[test]
    fn prop_ssrf_01_any_address_agrees_with_the_iana_model(v4 in any::<u32>(), v6 in any::<u128>()) {
        prop_assert_eq!(engine_v4(v4), model_v4(v4), "{}", Ipv4Addr::from(v4));
        prop_assert_eq!(engine_v6(v6), model_v6(v6), "{}", Ipv6Addr::from(v6));
    }
}

// ---------------------------------------------------------------------------------------------------------
// Document round trip
// ---------------------------------------------------------------------------------------------------------

const CLIENT_ID: &str = "https://c.example/client.json";
const AUTH_POOL: [&str; 6] = [
    "none",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
    "client_secret_basic",
    "made_up_method",
];
/// The methods a generated document lists in `token_endpoint_auth_methods_supported`: no shared secret, which
/// draft -03 forbids there (AUTH-10, proven in src/document.rs) and which would make most documents invalid.
const AUTH_LIST_POOL: [&str; 5] = [
    "none",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
    "made_up_method",
];
const GRANT_POOL: [&str; 6] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:device_code",
    "implicit",
];
const RESPONSE_POOL: [&str; 4] = ["code", "token", "id_token", "code id_token"];

fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ]
}

fn public_jwk() -> impl Strategy<Value = Value> {
    (
        select(vec!["RSA", "EC", "OKP"]),
        "[A-Za-z0-9_-]{1,40}",
        prop::option::of("[ -~]{0,12}"),
        prop::option::of(json_scalar()),
    )
        .prop_map(|(kty, n, kid, extra)| {
            let mut k = json!({"kty": kty, "n": n, "e": "AQAB", "use": "sig"});
            if let Some(kid) = kid {
                k["kid"] = json!(kid);
            }
            if let Some(x) = extra {
                k["x_extra"] = x;
            }
            k
        })
}

fn redirect_for_doc() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => "https://[a-z]{1,8}\\.example(:[1-9][0-9]{0,3})?(/[a-z0-9]{0,6}){1,3}(\\?[a-z]=[0-9])?",
        2 => select(vec![
            "http://localhost/callback", "http://127.0.0.1:8080/cb", "http://[::1]/cb", "com.example.app:/cb",
            "mcpjam://oauth/callback",
            "https://c.example/cb?x=1", "https://[2001:db8::1]:8443/cb",
        ]).prop_map(str::to_owned),
        1 => select(vec!["http://evil.example/cb", "javascript:alert(1)", "https://c.example/cb#f", "HTTPS://c.example/"])
            .prop_map(str::to_owned),
    ]
}

fn display_uri() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "https://[a-z]{1,8}\\.example(/[a-z0-9.]{0,8}){0,2}(#[a-z]{0,3})?".prop_map(Value::from),
        2 => select(vec![
            "http://c.example/", "javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "",
            "https://c.example:99999/", "https://user@c.example/", "https://c.example/a b",
        ]).prop_map(Value::from),
        1 => json_scalar(),
    ]
}

fn client_name() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[ -~]{0,40}".prop_map(Value::from),
        2 => any::<String>().prop_map(Value::from),
        2 => prop::collection::vec(
            prop_oneof![
                "[a-zA-Zé漢 ]{1,8}",
                select(vec!["\u{202E}", "\u{200B}", "\n", "\t", "\u{0}", "\u{85}", "\u{2028}", " ", "\u{FEFF}"])
                    .prop_map(str::to_owned),
            ],
            0..12,
        ).prop_map(|v| Value::from(v.concat())),
        1 => "[a-z]{190,230}".prop_map(Value::from),
        1 => json_scalar(),
    ]
}

fn str_list(pool: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(select(pool).prop_map(str::to_owned), 1..max)
}

/// A document (as JSON text) that is often valid and often not in some way, and a random host policy.
fn document_and_config() -> impl Strategy<Value = (Vec<u8>, Config)> {
    let members = (
        (
            prop::option::of(client_name()),
            prop::collection::vec(prop::option::of(display_uri()), 4),
            prop::option::weighted(0.9, prop::collection::vec(redirect_for_doc(), 1..5)),
            prop::option::of(prop::collection::vec(redirect_for_doc(), 0..3)),
            prop::option::weighted(0.4, str_list(&GRANT_POOL, 5)),
            prop::option::weighted(0.4, str_list(&RESPONSE_POOL, 3)),
        ),
        (
            prop::option::weighted(0.4, select(AUTH_POOL.to_vec())),
            prop::option::weighted(0.3, str_list(&AUTH_LIST_POOL, 4)),
            0u8..4,
            prop::collection::vec(public_jwk(), 0..3),
            prop::option::of("[a-z:._-]{1,8}( [a-z:._-]{1,8}){0,3}"),
            prop::option::of(select(vec!["web", "native"])),
        ),
        (
            prop::option::of(prop::collection::vec("[a-z]{1,6}@c\\.example", 0..3)),
            prop::collection::vec(prop::option::of("[ -~]{0,20}"), 3),
            prop::collection::vec(("x_[a-z]{1,6}", json_scalar()), 0..3),
        ),
    );
    // Mostly a host that supports the common values (so most documents are accepted), sometimes any subset.
    fn supported(pool: &[&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
        let (common, others) = (pool[0], pool[1..].to_vec());
        prop_oneof![
            3 => prop::sample::subsequence(others.clone(), 0..=others.len()).prop_map(move |mut v| {
                v.insert(0, common);
                v
            }),
            1 => prop::sample::subsequence(pool.to_vec(), 1..=pool.len()),
        ]
    }
    let policy = (
        supported(&AUTH_POOL[..4]),
        supported(&GRANT_POOL),
        supported(&["code", "token", "id_token"]),
        4usize..=64,
        4usize..=32,
        any::<bool>(),
    );
    (members, policy).prop_map(|(m, p)| {
        let (
            (name, display, redirects, logout, grants, responses),
            (method, methods, keys, jwks, scope, app_type),
            (contacts, software, extra),
        ) = m;
        let mut d = Map::new();
        d.insert("client_id".into(), json!(CLIENT_ID));
        if let Some(n) = name {
            d.insert("client_name".into(), n);
        }
        for (key, v) in ["client_uri", "logo_uri", "tos_uri", "policy_uri"]
            .iter()
            .zip(display)
        {
            if let Some(v) = v {
                d.insert((*key).into(), v);
            }
        }
        if let Some(r) = redirects {
            d.insert("redirect_uris".into(), json!(r));
        }
        if let Some(r) = logout {
            d.insert("post_logout_redirect_uris".into(), json!(r));
        }
        if let Some(g) = grants {
            d.insert("grant_types".into(), json!(g));
        }
        if let Some(r) = responses {
            d.insert("response_types".into(), json!(r));
        }
        if let Some(m) = method {
            d.insert("token_endpoint_auth_method".into(), json!(m));
        }
        if let Some(mut list) = methods {
            // Draft -03 §6 (AUTH-14): the singular is one of the list; inconsistent documents are tested apart.
            if let Some(m) = method {
                if !list.iter().any(|l| l == m) {
                    list.insert(0, m.to_owned());
                }
            }
            d.insert("token_endpoint_auth_methods_supported".into(), json!(list));
        }
        match keys {
            1 => {
                d.insert("jwks".into(), json!({ "keys": jwks }));
            }
            2 => {
                d.insert("jwks_uri".into(), json!("https://c.example/jwks.json"));
            }
            _ => {}
        }
        if let Some(s) = scope {
            d.insert("scope".into(), json!(s));
        }
        if let Some(t) = app_type {
            d.insert("application_type".into(), json!(t));
        }
        if let Some(c) = contacts {
            d.insert("contacts".into(), json!(c));
        }
        for (key, v) in ["software_id", "software_version", "software_statement"]
            .iter()
            .zip(software)
        {
            if let Some(v) = v {
                d.insert((*key).into(), json!(v));
            }
        }
        for (k, v) in extra {
            d.insert(k, v);
        }
        let (auth, grants, responses, arrays, depth, pretty) = p;
        let config = Config {
            auth_methods_supported: auth.into_iter().map(str::to_owned).collect(),
            grant_types_supported: grants.into_iter().map(str::to_owned).collect(),
            response_types_supported: responses.into_iter().map(str::to_owned).collect(),
            max_array_items: arrays,
            max_json_depth: depth,
            ..Config::default()
        };
        let body = if pretty {
            serde_json::to_vec_pretty(&Value::Object(d))
        } else {
            serde_json::to_vec(&Value::Object(d))
        };
        (body.unwrap(), config)
    })
}

/// A document accepted once is accepted again after serialising the result (the `client` object of the ok
/// line, which carries its `client_id`), with the same metadata and nothing left to repair. Run by hand so that
/// the share of accepted documents can be checked too: a generator that produced only rejected documents would
/// make the property vacuous.
#[test]
fn prop_doc_accepted_documents_round_trip_through_their_serialisation() {
    let mut runner = TestRunner::new(RunnerConfig {
        cases: cases(1024),
        ..RunnerConfig::default()
    });
    let accepted = std::cell::Cell::new(0u32);
    let total = std::cell::Cell::new(0u32);
    let result = runner.run(&document_and_config(), |(body, config)| {
        total.set(total.get() + 1);
        let policy = DocumentPolicy::from_config(&config);
        let Ok(first) = validate(&body, CLIENT_ID, &policy) else {
            return Ok(());
        };
        accepted.set(accepted.get() + 1);
        let serialised = serde_json::to_vec(&first.metadata).unwrap();
        let second = validate(&serialised, CLIENT_ID, &policy);
        prop_assert!(
            second.is_ok(),
            "accepted {} but rejected its serialisation {}: {:?}",
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(&serialised),
            second.err()
        );
        let second = second.unwrap();
        prop_assert_eq!(&second.metadata, &first.metadata);
        // Everything repairable was repaired the first time; only the informational warnings can remain.
        for info in ["localhost_redirects_only", "redirect_scheme_not_reverse_domain"] {
            prop_assert_eq!(
                second.warnings.iter().any(|w| w == info),
                first.warnings.iter().any(|w| w == info),
                "{}",
                info
            );
        }
        for w in &second.warnings {
            prop_assert!(
                w == "localhost_redirects_only" || w == "redirect_scheme_not_reverse_domain",
                "{:?}",
                second.warnings
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    println!(
        "accepted {} of {} generated documents",
        accepted.get(),
        total.get()
    );
    assert!(
        accepted.get() * 5 >= total.get(),
        "only {} of {} generated documents were accepted; the generator no longer exercises the property",
        accepted.get(),
        total.get()
    );
}

// ---------------------------------------------------------------------------------------------------------
// Freshness
// ---------------------------------------------------------------------------------------------------------

fn directive() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec![
            "no-store",
            "no-cache",
            "NO-CACHE",
            "public",
            "private",
            "must-revalidate",
            "immutable",
            "no-cache=\"set-cookie, x\"",
            "max-age",
            "s-maxage=",
            "max-age=\"",
            "=",
            "\"",
            "\\",
        ])
        .prop_map(str::to_owned),
        "(max-age|s-maxage|MAX-AGE|S-MaxAge) ?= ?[0-9]{0,25}",
        "(max-age|s-maxage)=\"[0-9]{0,12}\"",
        "max-age=-?[0-9a-z.]{0,6}",
        "\\PC{0,10}",
        any::<String>(),
    ]
}

fn header_line() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(directive(), 0..4),
        select(vec![", ", ",", " , ", ";"]),
    )
        .prop_map(|(ds, sep)| ds.join(sep))
}

/// An HTTP-date for a random second between 1970 and 9999 (valid), or garbage.
fn date_value() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..253_402_300_799).prop_map(|s| httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(s))),
        select(vec![
            "0",
            "-1",
            "",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Mon, 32 Jan 2024 00:00:00 GMT"
        ])
        .prop_map(str::to_owned),
        "\\PC{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2048)))]

    /// CAC-03: whatever the headers, the clock and the bounds, no panic, and the lifetime is inside
    /// `[min_ttl, max_ttl]` (or `max_ttl` when the bounds are inverted, which configuration forbids).
    #[test]
    fn prop_cac_03_freshness_never_panics_and_stays_within_bounds(
        lines in prop::collection::vec(header_line(), 0..3),
        expires in prop::option::of(date_value()),
        date in prop::option::of(date_value()),
        age in prop::option::of(prop_oneof!["[0-9]{0,24}", " ?[0-9]{1,5} ?", "\\PC{0,8}"]),
        now_s in 0u64..253_402_300_799,
        min_s in 0u64..=2_592_000,
        max_s in 0u64..=2_592_000,
    ) {
        let headers = CacheHeaders {
            cache_control: lines.iter().map(String::as_str).collect(),
            expires: expires.as_deref(),
            age: age.as_deref(),
            date: date.as_deref(),
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now_s);
        let (min, max) = (Duration::from_secs(min_s), Duration::from_secs(max_s));
        let f = freshness(&headers, now, min, max);
        if min <= max {
            prop_assert!(min <= f.ttl && f.ttl <= max, "{:?} outside [{:?}, {:?}] for {:?}", f, min, max, headers);
        } else {
            prop_assert_eq!(f.ttl, max);
        }
        prop_assert!(
            ["s-maxage", "max-age", "expires", "no-store", "no-cache", "none"].contains(&f.directive),
            "{:?}", f
        );
    }
}
