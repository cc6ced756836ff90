//! Every fetch outcome against a real HTTPS origin on loopback (docs/contract.md §2; FET-*, SIZE-01, SSRF-*).

mod common;

use std::time::{Duration, Instant};

use cimd::ErrorCode;
use common::*;
use serde_json::json;

fn code(r: Result<cimd::Resolution, cimd::Error>) -> ErrorCode {
    match r {
        Ok(r) => panic!("expected an error, got {}", r.to_json_line()),
        Err(e) => e.code(),
    }
}

#[test]
fn fet_03_first_request_fetches_exactly_once_with_accept_json() {
    let w = World::new();
    let url = w.url("c.example", "/app.json");
    w.server.route("/app.json", vec![json_reply(&doc(&url))]);
    let e = w.engine(json!({}));
    let r = e.resolve_blocking(&url, None, None).unwrap();
    assert_eq!(r.source().as_str(), "network");
    assert_eq!(r.metadata().client_id, url);
    assert_eq!(w.server.hits("/app.json"), 1);
    let req = &w.server.requests()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.header("accept"), Some("application/json"));
    assert!(req.header("cookie").is_none() && req.header("authorization").is_none());
    let enc = req.header("accept-encoding").unwrap_or("identity");
    assert!(
        !enc.contains("gzip") && !enc.contains("br"),
        "asked for compression: {enc}"
    );
    let ua = req.header("user-agent").unwrap_or("");
    assert!(ua.starts_with("cimd/"), "user agent {ua:?}");
}

#[test]
fn cookies_set_by_a_host_are_never_sent_back() {
    let w = World::new();
    let url = w.url("c.example", "/cookie.json");
    w.server.route(
        "/cookie.json",
        vec![json_reply(&doc(&url)).header("Set-Cookie", "session=abc; Path=/; Secure")],
    );
    let e = w.engine(json!({}));
    e.resolve_blocking(&url, None, None).unwrap();
    e.refresh_blocking(&url, None).unwrap();
    let reqs = w.server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].header("cookie").is_none(), "a cookie was sent back");
}

#[test]
fn order_of_checks_before_the_document_stage() {
    let w = World::new();
    // URL rules come before host policy: a denied host with a bad URL is an URL error.
    let e = w.engine(json!({"denied_hosts": ["c.example"]}));
    let err = e
        .resolve_blocking("https://c.example/a/../b.json", None, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidClientIdUrl);
    // Host policy comes before address classification: nothing is resolved.
    assert_eq!(
        code(e.resolve_blocking(&w.url("c.example", "/a.json"), None, None)),
        ErrorCode::HostNotAllowed
    );
    assert_eq!(w.resolver.total(), 0, "a denied host was resolved");
    // Content type before size, size before JSON.
    let e = w.engine(json!({"max_document_bytes": 100}));
    let u1 = w.url("c.example", "/html-and-big.json");
    w.server.route(
        "/html-and-big.json",
        vec![Reply::json(vec![b'x'; 500]).content_type("text/html")],
    );
    assert_eq!(
        code(e.resolve_blocking(&u1, None, None)),
        ErrorCode::InvalidContentType
    );
    let u2 = w.url("c.example", "/big-and-broken.json");
    w.server
        .route("/big-and-broken.json", vec![Reply::json(vec![b'{'; 500])]);
    assert_eq!(code(e.resolve_blocking(&u2, None, None)), ErrorCode::TooLarge);
}

#[test]
fn fet_05_a_slow_dns_lookup_counts_against_fetch_timeout() {
    let w = World::new();
    w.resolver.set_delay(Duration::from_secs(10));
    let e = w.engine(json!({"fetch_timeout_ms": 400, "connect_timeout_ms": 60000}));
    let url = w.url("c.example", "/a.json");
    let t = Instant::now();
    assert_eq!(code(e.resolve_blocking(&url, None, None)), ErrorCode::Timeout);
    assert!(t.elapsed() < Duration::from_millis(2000), "{:?}", t.elapsed());
    assert_eq!(w.server.connections(), 0);
}

#[test]
fn fet_01_every_status_other_than_200_is_http_status() {
    let w = World::new();
    let e = w.engine(json!({}));
    for status in [
        201u16, 203, 204, 206, 304, 400, 401, 403, 404, 410, 429, 451, 500, 502, 503,
    ] {
        let path = format!("/s{status}.json");
        let url = w.url("c.example", &path);
        w.server
            .route(&path, vec![json_reply(&doc(&url)).with_status(status)]);
        let err = e.resolve_blocking(&url, None, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::HttpStatus, "status {status}: {err}");
        assert!(err.description().contains(&status.to_string()), "{err}");
        assert_eq!(w.server.hits(&path), 1, "status {status}");
    }
}

#[test]
fn fet_04_redirects_are_never_followed_one_request_only() {
    let w = World::new();
    let e = w.engine(json!({}));
    let target = w.url("d.example", "/target.json");
    w.server.route("/target.json", vec![json_reply(&doc(&target))]);
    for status in [301u16, 302, 303, 307, 308, 300] {
        let path = format!("/r{status}.json");
        let url = w.url("c.example", &path);
        w.server
            .route(&path, vec![Reply::status(status).header("Location", &target)]);
        let err = e.resolve_blocking(&url, None, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::RedirectNotFollowed, "{status}: {err}");
        assert_eq!(w.server.hits(&path), 1);
    }
    // A 3xx without Location is the same.
    let url = w.url("c.example", "/noloc.json");
    w.server.route("/noloc.json", vec![Reply::status(302)]);
    assert_eq!(
        code(e.resolve_blocking(&url, None, None)),
        ErrorCode::RedirectNotFollowed
    );
    assert_eq!(
        w.server.hits("/target.json"),
        0,
        "the redirect target was contacted"
    );
}

#[test]
fn size_01_cap_with_and_without_content_length() {
    let w = World::new();
    let e = w.engine(json!({"max_document_bytes": 1000}));
    let big = |url: &str, n: usize| {
        let mut d = doc(url);
        d["x_padding"] = json!("p".repeat(n));
        serde_json::to_vec(&d).unwrap()
    };
    // Declared too large: rejected without reading.
    let u1 = w.url("c.example", "/cl.json");
    w.server.route("/cl.json", vec![Reply::json(big(&u1, 2000))]);
    assert_eq!(code(e.resolve_blocking(&u1, None, None)), ErrorCode::TooLarge);
    // Chunked, no Content-Length.
    let u2 = w.url("c.example", "/chunked.json");
    w.server
        .route("/chunked.json", vec![Reply::json(big(&u2, 2000)).chunked()]);
    assert_eq!(code(e.resolve_blocking(&u2, None, None)), ErrorCode::TooLarge);
    // Close-delimited, no Content-Length.
    let u3 = w.url("c.example", "/close.json");
    w.server
        .route("/close.json", vec![Reply::json(big(&u3, 2000)).close_delimited()]);
    assert_eq!(code(e.resolve_blocking(&u3, None, None)), ErrorCode::TooLarge);
    // An endless body stops at the cap, quickly.
    let u4 = w.url("c.example", "/forever.json");
    w.server
        .route("/forever.json", vec![Reply::json(Vec::new()).stream_forever()]);
    let t = Instant::now();
    assert_eq!(code(e.resolve_blocking(&u4, None, None)), ErrorCode::TooLarge);
    assert!(t.elapsed() < Duration::from_secs(3));
    // Exactly at the cap is fine, chunked or not.
    let u5 = w.url("c.example", "/exact.json");
    let mut body = big(&u5, 0);
    let pad = 1000 - body.len();
    body = big(&u5, pad);
    assert_eq!(body.len(), 1000);
    w.server
        .route("/exact.json", vec![Reply::json(body.clone()).chunked()]);
    assert!(e.resolve_blocking(&u5, None, None).is_ok());
    // A Content-Length smaller than the body sent: the extra bytes are never read as document.
    let u6 = w.url("c.example", "/lies.json");
    w.server
        .route("/lies.json", vec![Reply::json(big(&u6, 2000)).content_length(10)]);
    assert!(e.resolve_blocking(&u6, None, None).is_err());
    // Errors are not cached: the too-large documents are fetched again.
    assert_eq!(code(e.resolve_blocking(&u2, None, None)), ErrorCode::TooLarge);
    assert_eq!(w.server.hits("/chunked.json"), 2);
}

#[test]
fn fet_05_slow_drip_and_hang_time_out_within_the_total_deadline() {
    let w = World::new();
    let e = w.engine(json!({"fetch_timeout_ms": 700}));
    let u1 = w.url("c.example", "/drip.json");
    // 1 byte every 100 ms: the body would take far longer than the deadline.
    w.server.route(
        "/drip.json",
        vec![json_reply(&doc(&u1)).drip(Duration::from_millis(100), 1)],
    );
    let t = Instant::now();
    assert_eq!(code(e.resolve_blocking(&u1, None, None)), ErrorCode::Timeout);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(650) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    let u2 = w.url("c.example", "/hang.json");
    w.server.route("/hang.json", vec![Reply::json(Vec::new()).hang()]);
    let t = Instant::now();
    assert_eq!(code(e.resolve_blocking(&u2, None, None)), ErrorCode::Timeout);
    assert!(t.elapsed() < Duration::from_millis(2500));
    // Headers that never finish arriving.
    let u3 = w.url("c.example", "/slowhead.json");
    w.server.route(
        "/slowhead.json",
        vec![json_reply(&doc(&u3)).delay(Duration::from_secs(10))],
    );
    assert_eq!(code(e.resolve_blocking(&u3, None, None)), ErrorCode::Timeout);
}

#[test]
fn fet_05_a_stalled_tls_handshake_is_a_timeout() {
    let w = World::new();
    let silent = support::SilentListener::start();
    let e = w.engine(json!({"connect_timeout_ms": 300, "fetch_timeout_ms": 2000}));
    let url = format!("https://c.example:{}/a.json", silent.port());
    let t = Instant::now();
    let err = e.resolve_blocking(&url, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert!(t.elapsed() < Duration::from_millis(1800), "{:?}", t.elapsed());
}

#[test]
fn fet_05_connection_refused_is_connect_error() {
    let w = World::new();
    let e = w.engine(json!({}));
    let url = format!("https://c.example:{}/a.json", support::closed_port());
    assert_eq!(
        code(e.resolve_blocking(&url, None, None)),
        ErrorCode::ConnectError
    );
}

#[test]
fn fet_05_unknown_host_is_dns_error_without_connection() {
    let w = World::new();
    let e = w.engine(json!({}));
    let url = w.url("nowhere.example", "/a.json");
    let err = e.resolve_blocking(&url, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::DnsError, "{err}");
    w.resolver.set("empty.example", &[]);
    assert_eq!(
        code(e.resolve_blocking(&w.url("empty.example", "/a.json"), None, None)),
        ErrorCode::DnsError
    );
    assert_eq!(w.server.connections(), 0);
}

#[test]
fn fet_05_tls_failures_are_tls_error() {
    let w = World::new();
    type MakeTls = Box<dyn Fn(&TestPki) -> std::sync::Arc<rustls::ServerConfig>>;
    let cases: Vec<(&str, MakeTls)> = vec![
        ("expired", Box::new(|p: &TestPki| p.expired_config("c.example"))),
        ("wrong name", Box::new(|p: &TestPki| p.wrong_name_config())),
        (
            "self-signed",
            Box::new(|p: &TestPki| p.self_signed_config("c.example")),
        ),
        (
            "foreign CA",
            Box::new(|p: &TestPki| p.foreign_ca_config("c.example")),
        ),
    ];
    let e = w.engine(json!({}));
    for (what, make) in cases {
        let server = Server::start(make(&w.pki));
        let url = format!("https://c.example:{}/a.json", server.port());
        server.route("/a.json", vec![json_reply(&doc(&url))]);
        let err = e.resolve_blocking(&url, None, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::TlsError, "{what}: {err}");
        assert_eq!(
            server.hits("/a.json"),
            0,
            "{what}: a request was sent over a bad channel"
        );
    }
    // A plain-HTTP port.
    let plain = Server::start_plain();
    let url = format!("https://c.example:{}/a.json", plain.port());
    assert_eq!(code(e.resolve_blocking(&url, None, None)), ErrorCode::TlsError);
    // Without extra_ca_file, the test CA is not trusted.
    let url = w.url("c.example", "/a.json");
    w.server.route("/a.json", vec![json_reply(&doc(&url))]);
    let untrusting = cimd::Engine::builder(cimd::Config::from_json(r#"{"allow_loopback": true}"#).unwrap())
        .resolver(w.resolver.clone())
        .build()
        .unwrap();
    assert_eq!(
        code(untrusting.resolve_blocking(&url, None, None)),
        ErrorCode::TlsError
    );
}

#[test]
fn fet_02_content_type_and_encoding() {
    let w = World::new();
    let e = w.engine(json!({}));
    let cases: Vec<(&str, Option<&str>, Option<&str>, bool)> = vec![
        ("/ct1.json", Some("application/json"), None, true),
        (
            "/ct2.json",
            Some("application/vnd.example+json; charset=utf-8"),
            None,
            true,
        ),
        ("/ct3.json", Some("text/html"), None, false),
        ("/ct4.json", Some("application/xml"), None, false),
        ("/ct5.json", None, None, false),
        (
            "/ct6.json",
            Some("application/json; charset=iso-8859-1"),
            None,
            false,
        ),
        ("/ct7.json", Some("application/json"), Some("gzip"), false),
        ("/ct8.json", Some("application/json"), Some("br"), false),
        ("/ct9.json", Some("application/json"), Some("identity"), true),
    ];
    for (path, ctype, encoding, ok) in cases {
        let url = w.url("c.example", path);
        let mut reply = json_reply(&doc(&url));
        reply = match ctype {
            Some(t) => reply.content_type(t),
            None => reply.no_content_type(),
        };
        if let Some(enc) = encoding {
            reply = reply.header("Content-Encoding", enc);
        }
        w.server.route(path, vec![reply]);
        let r = e.resolve_blocking(&url, None, None);
        if ok {
            assert!(r.is_ok(), "{path}: {:?}", r.err());
        } else {
            assert_eq!(code(r), ErrorCode::InvalidContentType, "{path}");
        }
    }
}

#[test]
fn fet_02_body_that_is_not_a_json_object() {
    let w = World::new();
    let e = w.engine(json!({}));
    for (path, body, want) in [
        ("/arr.json", "[1,2]", ErrorCode::InvalidMetadata),
        ("/str.json", "\"https://c.example\"", ErrorCode::InvalidMetadata),
        ("/trail.json", "{\"client_id\": 1,}", ErrorCode::InvalidJson),
        (
            "/dup.json",
            "{\"client_id\": \"a\", \"client_id\": \"b\"}",
            ErrorCode::InvalidJson,
        ),
        ("/empty.json", "", ErrorCode::InvalidJson),
    ] {
        let url = w.url("c.example", path);
        w.server.route(path, vec![Reply::json(body.as_bytes().to_vec())]);
        assert_eq!(code(e.resolve_blocking(&url, None, None)), want, "{path}");
    }
    let url = w.url("c.example", "/latin1.json");
    let mut bytes = serde_json::to_vec(&doc(&url)).unwrap();
    let at = bytes.len() - 2;
    bytes.insert(at, 0xe9);
    w.server.route("/latin1.json", vec![Reply::json(bytes)]);
    assert_eq!(code(e.resolve_blocking(&url, None, None)), ErrorCode::InvalidJson);
}

#[test]
fn ssrf_01_blocked_addresses_are_never_connected() {
    let w = World::new();
    let e = w.engine(json!({"allow_loopback": false}));
    // Production mode: a name on loopback is blocked before any connection.
    let url = w.url("c.example", "/a.json");
    w.server.route("/a.json", vec![json_reply(&doc(&url))]);
    let err = e.resolve_blocking(&url, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BlockedAddress, "{err}");
    for (name, addrs) in [
        ("private.example", vec!["10.0.0.5"]),
        ("meta.example", vec!["169.254.169.254"]),
        ("zero.example", vec!["0.0.0.0"]),
        ("v6.example", vec!["::1"]),
        ("ula.example", vec!["fc00::1"]),
        ("mapped.example", vec!["::ffff:127.0.0.1"]),
        ("cgnat.example", vec!["100.64.0.1"]),
        // Fail closed: one special-use answer among public ones blocks the host.
        ("mixed.example", vec!["93.184.215.14", "10.1.2.3"]),
    ] {
        w.resolver.set(name, &addrs);
        let err = e
            .resolve_blocking(&w.url(name, "/a.json"), None, None)
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::BlockedAddress, "{name}: {err}");
    }
    // With allow_loopback, only loopback is admitted.
    let dev = w.engine(json!({}));
    assert_eq!(
        code(dev.resolve_blocking(&w.url("private.example", "/a.json"), None, None)),
        ErrorCode::BlockedAddress
    );
    assert_eq!(w.server.connections(), 0);
}

#[test]
fn ssrf_03_dns_rebinding_never_reaches_loopback() {
    if !isolated("ssrf_03_dns_rebinding_never_reaches_loopback") {
        return;
    }
    // Inside the namespace only loopback exists: a connection to the public address fails with "network
    // unreachable" and no packet leaves the machine.
    let w = World::new();
    let url = w.url("rebind.example", "/a.json");
    w.server.route("/a.json", vec![json_reply(&doc(&url))]);
    w.resolver.set_sequence(
        "rebind.example",
        vec![
            Ok(vec!["93.184.215.14".parse().unwrap()]),
            Ok(vec!["127.0.0.1".parse().unwrap()]),
        ],
    );
    let e = w.engine(json!({"allow_loopback": false}));
    let err = e.resolve_blocking(&url, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConnectError, "{err}");
    assert_eq!(
        w.resolver.lookups("rebind.example"),
        1,
        "the host was resolved more than once"
    );
    assert_eq!(w.server.connections(), 0, "the engine connected to loopback");
    // Each later fetch resolves once more, and now the loopback answer is blocked.
    let err = e.resolve_blocking(&url, None, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::BlockedAddress, "{err}");
    assert_eq!(w.server.connections(), 0);
}

#[test]
fn ssrf_04_loopback_exception_defaults_off() {
    let w = World::new();
    let url = w.url("localhost", "/a.json");
    w.server.route("/a.json", vec![json_reply(&doc(&url))]);
    let prod = cimd::Engine::builder(w.config(json!({"allow_loopback": false})))
        .resolver(w.resolver.clone())
        .build()
        .unwrap();
    assert_eq!(
        code(prod.resolve_blocking(&url, None, None)),
        ErrorCode::BlockedAddress
    );
    assert!(w.engine(json!({})).resolve_blocking(&url, None, None).is_ok());
}

#[test]
fn private_network_allowlist_admits_one_host_in_its_ranges() {
    let w = World::new();
    let url = w.url("c.example", "/a.json");
    w.server.route("/a.json", vec![json_reply(&doc(&url))]);
    // A grant cannot open loopback (only private, CGNAT and unique-local ranges can be granted).
    let e = w.engine(json!({"allow_loopback": false,
        "private_network_allowlist": [{"host": "c.example", "cidrs": ["127.0.0.0/8"]}]}));
    assert_eq!(
        code(e.resolve_blocking(&url, None, None)),
        ErrorCode::BlockedAddress
    );
}

#[test]
fn ipv6_loopback_origin_works() {
    let w = World::new();
    let v6 = Server::start_v6(w.pki.server_config());
    w.resolver.set("e.example", &["::1"]);
    let url = format!("https://e.example:{}/a.json", v6.port());
    v6.route("/a.json", vec![json_reply(&doc(&url))]);
    let r = w.engine(json!({})).resolve_blocking(&url, None, None).unwrap();
    assert_eq!(r.metadata().client_id, url);
    assert_eq!(v6.hits("/a.json"), 1);
}

#[test]
fn the_callers_deadline_shortens_the_fetch() {
    let w = World::new();
    let url = w.url("c.example", "/slow.json");
    w.server.route(
        "/slow.json",
        vec![json_reply(&doc(&url)).delay(Duration::from_millis(1500))],
    );
    let e = w.engine(json!({}));
    let t = Instant::now();
    let err = e
        .resolve_blocking(&url, None, Some(Duration::from_millis(200)))
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout);
    assert!(t.elapsed() < Duration::from_millis(1000), "{:?}", t.elapsed());
}

#[test]
fn rate_limits_are_reported_as_rate_limited() {
    let w = World::new();
    let e = w.engine(json!({"per_host_rate": {"per_minute": 1, "burst": 2}}));
    let mut codes = Vec::new();
    for i in 0..4 {
        let path = format!("/rl{i}.json");
        let url = w.url("c.example", &path);
        w.server.route(&path, vec![json_reply(&doc(&url))]);
        codes.push(
            e.resolve_blocking(&url, None, None)
                .map(|_| ())
                .map_err(|e| e.code()),
        );
    }
    assert_eq!(codes[..2], [Ok(()), Ok(())]);
    assert_eq!(
        codes[2..],
        [Err(ErrorCode::RateLimited), Err(ErrorCode::RateLimited)]
    );
    assert_eq!(w.server.requests().len(), 2);
}
