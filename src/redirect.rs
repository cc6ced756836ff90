//! Matching an authorization request's `redirect_uri` against a client's registered `redirect_uris`
//! (docs/contract.md §5; RED-02, RED-03).
//!
//! The comparison is byte-exact (RFC 3986 §6.2.1 simple string comparison): nothing is parsed into a URL object,
//! normalised, lower-cased or re-serialised, because any normalisation that the identity server applies and the
//! browser does not (or the other way round) is a way to steer the authorization code somewhere else.
//!
//! The one exception is the loopback port (RFC 8252 §7.3, RFC 9700 §4.1.3): a native app cannot know in advance
//! which port it will be able to listen on, so for `http` URIs whose host is literally `127.0.0.1`, `[::1]` or
//! `localhost` — the same string in both URIs — the port is ignored. Real clients depend on this: Claude Code
//! registers `http://localhost/callback` and redirects to `http://localhost:<ephemeral>/callback`. Everything
//! else (scheme, host, path, query) still has to match byte for byte, and `https` URIs are never relaxed.

use crate::error::Error;

/// The longest part of a rejected redirect_uri quoted in an error description, so a hostile request cannot fill
/// the log.
const MAX_QUOTED_URI_CHARS: usize = 200;

/// True when `requested` is one of the `registered` redirect URIs.
///
/// A match is either byte-exact equality with an entry, or — only when `loopback_any_port` is true — the
/// loopback exception: both URIs start with `http://` (lower case), neither has userinfo, both hosts are the
/// same string and one of `127.0.0.1`, `[::1]`, `localhost`, any port present is 1–5 digits no greater than
/// 65535, and everything after the authority (path and query) is byte-equal. The ports themselves are ignored,
/// whether or not either URI has one.
///
/// A requested URI with a fragment never matches (RFC 6749 §3.1.2: a redirection endpoint must not contain one),
/// even if some registered entry carries the same fragment. Malformed input (empty, no scheme, odd authority)
/// simply does not match; nothing here can panic.
pub fn redirect_uri_matches(registered: &[String], requested: &str, loopback_any_port: bool) -> bool {
    if requested.is_empty() || requested.contains('#') {
        return false;
    }
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    if !loopback_any_port {
        return false;
    }
    let Some(want) = loopback_parts(requested) else {
        return false;
    };
    registered
        .iter()
        .filter_map(|r| loopback_parts(r))
        .any(|have| have == want)
}

/// [`redirect_uri_matches`] as a check: a mismatch is a
/// [`RedirectUriMismatch`](crate::error::ErrorCode::RedirectUriMismatch) error, which the host must show on an
/// error page and never redirect to (docs/contract.md §5).
pub fn check_redirect_uri(
    registered: &[String],
    requested: &str,
    loopback_any_port: bool,
) -> Result<(), Error> {
    if redirect_uri_matches(registered, requested, loopback_any_port) {
        return Ok(());
    }
    let quoted = crate::error::quote_bounded(requested, MAX_QUOTED_URI_CHARS);
    if requested.contains('#') {
        return Err(err!(
            RedirectUriMismatch,
            "redirect_uri {quoted} has a fragment, which a redirection endpoint must not have (RED-02, RFC 6749 \
             §3.1.2)"
        ));
    }
    let rule = if loopback_any_port && loopback_parts(requested).is_some() {
        "it must equal a registered redirect_uri byte for byte, apart from the port of an http loopback URI"
    } else {
        "it must equal a registered redirect_uri byte for byte"
    };
    Err(err!(
        RedirectUriMismatch,
        "redirect_uri {quoted} is not registered for this client: {rule} (RED-02)"
    ))
}

/// True when `uri` is an `http` or `https` URI whose host is on the loopback interface, i.e. the redirect lands
/// on the user's own machine, where any local program can listen. Used for the `localhost_redirects_only`
/// warning (a document whose only redirect URIs are loopback can be presented by anyone, so the consent screen
/// should say so).
///
/// Deliberately broader than the matching exception, because a false positive only adds a warning: the scheme
/// and host are compared ignoring ASCII case, userinfo and port are skipped, a trailing dot is ignored, and the
/// loopback hosts are `localhost` and any `*.localhost` name (RFC 6761 §6.3), any dotted-quad address in
/// 127.0.0.0/8, and any spelling of `[::1]`.
pub fn is_loopback_redirect(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return false;
    }
    crate::uri::parts(rest)
        .authority
        .and_then(|a| crate::uri::authority(a).ok())
        .is_some_and(|a| crate::uri::names_this_machine(a.host))
}

/// For a URI that qualifies for the loopback port exception, the parts that must still match:
/// `(host, everything after the authority)`. `None` when the URI does not qualify.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http:")?;
    let authority = crate::uri::parts(rest).authority?;
    let tail = rest.get(2 + authority.len()..)?;
    let a = crate::uri::authority(authority).ok()?;
    if a.userinfo.is_some() || !crate::uri::is_exact_loopback_host(a.host) {
        return None;
    }
    // An empty port (`http://127.0.0.1:/cb`) is legal RFC 3986 but unusual enough that parsers disagree on it;
    // like any other odd form it has to match byte for byte.
    if a.port.is_some_and(|p| !crate::uri::is_valid_port(p)) {
        return None;
    }
    Some((a.host, tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::test_tables::section;

    fn reg(uris: &[&str]) -> Vec<String> {
        uris.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The cases of section `name` of src/testdata/redirect.tsv: (registered, requested, expected with
    /// loopback_any_port = true).
    fn check_table(name: &str) {
        for [registered, requested, want] in section(include_str!("testdata/redirect.tsv"), name) {
            let (registered, requested) = (registered.as_str(), requested.as_str());
            let want: bool = want
                .parse()
                .unwrap_or_else(|_| panic!("{want:?} is not true or false"));
            let r = reg(&[registered]);
            assert_eq!(
                redirect_uri_matches(&r, requested, true),
                want,
                "registered {registered:?}, requested {requested:?}"
            );
            // With the exception off, only byte equality counts.
            assert_eq!(
                redirect_uri_matches(&r, requested, false),
                registered == requested && !requested.contains('#'),
                "loopback_any_port=false: registered {registered:?}, requested {requested:?}"
            );
        }
    }

    #[test]
    fn red_02_exact_match_and_near_misses() {
        check_table("red_02_exact_match_and_near_misses");
    }

    #[test]
    fn red_02_fragment_never_matches() {
        check_table("red_02_fragment_never_matches");
    }

    #[test]
    fn red_03_claude_code_localhost_any_port() {
        let r = reg(&["http://localhost/callback"]);
        assert!(redirect_uri_matches(&r, "http://localhost:58135/callback", true));
        assert!(redirect_uri_matches(&r, "http://localhost/callback", true));
        assert!(!redirect_uri_matches(
            &r,
            "http://localhost:58135/callback",
            false
        ));
        assert!(check_redirect_uri(&r, "http://localhost:58135/callback", true).is_ok());
    }

    #[test]
    fn red_03_loopback_ip_literals_with_and_without_ports() {
        check_table("red_03_loopback_ip_literals_with_and_without_ports");
    }

    #[test]
    fn red_03_loopback_hosts_not_interchangeable_and_not_normalised() {
        check_table("red_03_loopback_hosts_not_interchangeable_and_not_normalised");
    }

    #[test]
    fn red_03_path_query_and_trailing_slash_still_exact() {
        check_table("red_03_path_query_and_trailing_slash_still_exact");
    }

    #[test]
    fn red_03_https_loopback_never_relaxed() {
        check_table("red_03_https_loopback_never_relaxed");
    }

    #[test]
    fn red_03_odd_ports_and_userinfo_only_match_exactly() {
        check_table("red_03_odd_ports_and_userinfo_only_match_exactly");
    }

    #[test]
    fn red_02_weird_inputs_never_match_never_panic() {
        let inputs = [
            "",
            "localhost",
            "//localhost/cb",
            "http:",
            "http://",
            "http://:5/cb",
            "http://[",
            "http://[]:5/cb",
            "http://]:5",
            ":",
            "\u{0}",
            "http://localhost\u{0}:5/cb",
            "http://é:5/cb",
            "http://localhost:é/cb",
            "http://[::1]:é/cb",
        ];
        let registered = reg(&[
            "http://localhost/cb",
            "http://[::1]/cb",
            "",
            "http://[x",
            "http://:7/cb",
        ]);
        for input in inputs {
            assert!(!redirect_uri_matches(&registered, input, true), "{input:?}");
            assert!(check_redirect_uri(&registered, input, true).is_err(), "{input:?}");
            let _ = is_loopback_redirect(input);
        }
        // An empty registered list matches nothing.
        assert!(!redirect_uri_matches(&[], "http://localhost/cb", true));
    }

    #[test]
    fn red_02_several_registered_entries() {
        let r = reg(&[
            "https://c.example/cb",
            "http://127.0.0.1/native",
            "com.example.app:/cb",
        ]);
        assert!(redirect_uri_matches(&r, "com.example.app:/cb", true));
        assert!(redirect_uri_matches(&r, "https://c.example/cb", true));
        assert!(redirect_uri_matches(&r, "http://127.0.0.1:50000/native", true));
        assert!(!redirect_uri_matches(&r, "http://127.0.0.1:50000/cb", true));
    }

    #[test]
    fn red_02_mismatch_error_names_rule_and_quotes_uri() {
        let r = reg(&["https://c.example/cb"]);
        let e = check_redirect_uri(&r, "https://c.example/cb/", true).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RedirectUriMismatch);
        assert_eq!(e.oauth_error(), "invalid_request");
        assert_eq!(
            e.description(),
            "redirect_uri \"https://c.example/cb/\" is not registered for this client: it must equal a \
             registered redirect_uri byte for byte (RED-02)"
        );
        let e = check_redirect_uri(&r, "https://c.example/cb#x", true).unwrap_err();
        assert!(e.description().contains("has a fragment"), "{}", e.description());
        let e = check_redirect_uri(&r, "http://localhost:5/x", true).unwrap_err();
        assert!(
            e.description().contains("apart from the port"),
            "{}",
            e.description()
        );
        let e = check_redirect_uri(&r, &format!("https://x/{}\n", "a".repeat(1000)), true).unwrap_err();
        assert!(
            e.description().len() < 400 && !e.description().contains('\n'),
            "{}",
            e.description()
        );
        assert!(check_redirect_uri(&r, "https://c.example/cb", false).is_ok());
    }

    #[test]
    fn localhost_redirects_only_detection() {
        let cases: [(&str, bool); 22] = [
            ("http://localhost/cb", true),
            ("http://localhost:5/cb", true),
            ("https://localhost:8443/cb", true),
            ("HTTP://LOCALHOST/cb", true),
            ("http://localhost./cb", true),
            ("http://app.localhost/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://127.0.0.1:1234?x", true),
            ("http://127.1.2.3/cb", true),
            ("http://[::1]/cb", true),
            ("http://[::1]:5/cb", true),
            ("http://[0:0:0:0:0:0:0:1]/cb", true),
            ("http://user@localhost/cb", true),
            ("https://c.example/cb", false),
            ("https://localhost.example/cb", false),
            ("https://notlocalhost/cb", false),
            ("http://[::2]/cb", false),
            ("http://10.0.0.1/cb", false),
            ("com.example.app:/cb", false),
            ("ftp://localhost/cb", false),
            ("localhost/cb", false),
            ("http://[::1/cb", false),
        ];
        for (uri, want) in cases {
            assert_eq!(is_loopback_redirect(uri), want, "{uri}");
        }
    }
}
