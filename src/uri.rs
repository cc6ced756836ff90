//! The one reader of raw URI strings, and [`FetchTarget`], the only thing the fetcher accepts.
//!
//! cimd never lets a general-purpose URL parser decide what a client_id, a redirect URI or a `jwks_uri` says:
//! parsers repair their input, and a repair is a place where the string we checked and the request we send can
//! differ. So every module that reads a URI (the client_id rules, document validation, redirect matching) splits
//! it here, the same way, into the components of RFC 3986 §3, as written and without decoding or normalising
//! anything. The rules about what each component may hold stay with their owners; this module only reads.
//!
//! The fetcher needs a `url::Url`, which only a validated client_id ([`crate::ClientIdUrl`]) or a `jwks_uri` that
//! passed the document rules can provide, through [`FetchTarget`]. Its fields are private, so an unvalidated URL
//! cannot reach the network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::client_id::ClientIdUrl;
use crate::error::Error;

/// The components of a URI after its scheme, as written (RFC 3986 §3): `//authority`, path, `?query`,
/// `#fragment`. A component that is absent is `None`; an empty one (`?` alone, `#` alone) is `Some("")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    /// What follows `//`, up to the first `/`, `?` or `#`; `None` without `//`.
    pub authority: Option<&'a str>,
    /// Up to the first `?` or `#`.
    pub path: &'a str,
    /// After `?`, up to the first `#`.
    pub query: Option<&'a str>,
    /// After `#`.
    pub fragment: Option<&'a str>,
}

/// Splits what follows `scheme:` into its components.
pub(crate) fn parts(after_scheme: &str) -> Parts<'_> {
    let (authority, rest) = match after_scheme.strip_prefix("//") {
        Some(rest) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, rest) = rest.split_at(end);
            (Some(authority), rest)
        }
        None => (None, after_scheme),
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    Parts {
        authority,
        path,
        query,
        fragment,
    }
}

/// Splits `scheme:rest`, checking the RFC 3986 §3.1 scheme syntax. The reason completes "the URI ...".
pub(crate) fn split_scheme(uri: &str) -> Result<(&str, &str), &'static str> {
    let (scheme, rest) = uri
        .split_once(':')
        .ok_or("is not an absolute URI: it has no scheme")?;
    let mut bytes = scheme.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if valid {
        Ok((scheme, rest))
    } else {
        Err("has no valid scheme (RFC 3986 §3.1: a letter, then letters, digits, '+', '-' or '.')")
    }
}

/// An authority as written: `userinfo@host:port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Authority<'a> {
    /// Before the last `@`, when there is one.
    pub userinfo: Option<&'a str>,
    /// The host as written; an IPv6 literal keeps its brackets.
    pub host: &'a str,
    /// After the `:` that follows the host (possibly empty), when there is one.
    pub port: Option<&'a str>,
}

/// Splits an authority. Fails only on an IPv6 literal that is not closed or is followed by something other
/// than `:port`; the reason completes "the URI ...".
pub(crate) fn authority(authority: &str) -> Result<Authority<'_>, &'static str> {
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, rest)) => (Some(userinfo), rest),
        None => (None, authority),
    };
    let (host, port) = if host_port.starts_with('[') {
        let close = host_port.find(']').ok_or("has an unterminated IPv6 literal")?;
        let (host, after) = host_port.split_at(close + 1);
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or("has characters after its IPv6 literal")?,
                ),
            ),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    Ok(Authority { userinfo, host, port })
}

/// The contents of a bracketed IPv6 literal, when `host` is one (`[::1]` → `::1`).
pub(crate) fn ipv6_literal(host: &str) -> Option<&str> {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
}

/// True for a port as RFC 3986 allows it and a connection can use it: 1 to 5 digits, at most 65535.
pub(crate) fn is_valid_port(port: &str) -> bool {
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| p <= 65535)
}

/// The only loopback host spellings that `http` redirect URIs may use and for which the port may differ
/// (docs/contract.md §3, §5). Exact, case-sensitive strings: `LOCALHOST` or `127.000.000.001` are not on the
/// list, so they have to match byte for byte, and an `http` URI on them is refused.
pub(crate) const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// True for one of [`LOOPBACK_HOSTS`], exactly as written.
pub(crate) fn is_exact_loopback_host(host: &str) -> bool {
    LOOPBACK_HOSTS.contains(&host)
}

/// True when `host` names this machine in any common spelling: `localhost` and `*.localhost` (RFC 6761 §6.3,
/// ignoring case and a trailing dot), any dotted-quad address in 127.0.0.0/8, and any spelling of `[::1]`. For
/// warnings only, where a false positive costs nothing.
pub(crate) fn names_this_machine(host: &str) -> bool {
    if let Some(inner) = ipv6_literal(host) {
        return inner.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    let lower = host.to_ascii_lowercase();
    lower == "localhost" || (lower.len() > ".localhost".len() && lower.ends_with(".localhost"))
}

/// Where a fetch goes: built only from a validated client_id or a `jwks_uri` that passed the document rules.
#[derive(Clone, Debug)]
pub struct FetchTarget {
    url: url::Url,
    host: String,
    ip: Option<IpAddr>,
}

impl FetchTarget {
    /// The target of a validated client_id.
    pub(crate) fn client_id(id: &ClientIdUrl) -> FetchTarget {
        FetchTarget {
            url: id.url().clone(),
            host: id.host().to_owned(),
            ip: None,
        }
    }

    /// The target of a `jwks_uri` that passed the document rules (docs/contract.md §3: absolute `https`, printable
    /// ASCII, no userinfo or fragment, a plain host). The URL parser's reading of the host must agree with ours;
    /// an IP-literal host is kept as an address, which the fetcher vets before connecting (there is no DNS
    /// answer to vet for it).
    pub(crate) fn jwks_uri(uri: &str) -> Result<FetchTarget, Error> {
        let refused = |why: &str| crate::err!(InvalidMetadata, "jwks_uri {uri} {why} (SSRF-05)");
        let (scheme, rest) = split_scheme(uri).map_err(refused)?;
        if scheme != "https" {
            return Err(refused("does not use the https scheme"));
        }
        let written = parts(rest)
            .authority
            .ok_or_else(|| refused("has no host"))
            .and_then(|a| authority(a).map_err(refused))?;
        let url = url::Url::parse(uri).map_err(|e| refused(&format!("is not a URL: {e}")))?;
        let (host, ip) = match url.host() {
            Some(url::Host::Domain(d)) => (d.to_ascii_lowercase(), None),
            Some(url::Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(url::Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => return Err(refused("has no host")),
        };
        let ours = ipv6_literal(written.host)
            .unwrap_or(written.host)
            .to_ascii_lowercase();
        let agrees = match ip {
            None => ours == host,
            Some(ip) => ours.parse::<IpAddr>().is_ok_and(|o| o == ip),
        };
        if !agrees || written.userinfo.is_some() {
            return Err(refused(
                "is read differently by the URL parser than by the document rules",
            ));
        }
        Ok(FetchTarget { url, host, ip })
    }

    /// The URL to GET.
    pub(crate) fn url(&self) -> &url::Url {
        &self.url
    }

    /// The lower-case host (a DNS name, or an address written as one).
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The address, when the host is an IP literal.
    pub(crate) fn ip(&self) -> Option<IpAddr> {
        self.ip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_read_as_written() {
        let p = parts("//u@h:1/a/b?q=1#f");
        assert_eq!(p.authority, Some("u@h:1"));
        assert_eq!((p.path, p.query, p.fragment), ("/a/b", Some("q=1"), Some("f")));
        let p = parts("//h");
        assert_eq!(
            (p.authority, p.path, p.query, p.fragment),
            (Some("h"), "", None, None)
        );
        let p = parts("//h?#");
        assert_eq!((p.path, p.query, p.fragment), ("", Some(""), Some("")));
        let p = parts("/cb");
        assert_eq!((p.authority, p.path), (None, "/cb"));
        // A `?` after the `#` belongs to the fragment.
        let p = parts("//h/p#f?x");
        assert_eq!((p.query, p.fragment), (None, Some("f?x")));
        assert_eq!(parts("").path, "");
    }

    #[test]
    fn authorities_split_at_the_last_at_and_keep_ipv6_brackets() {
        let a = authority("u:p@[::1]:8443").unwrap();
        assert_eq!((a.userinfo, a.host, a.port), (Some("u:p"), "[::1]", Some("8443")));
        let a = authority("a@b@c.example").unwrap();
        assert_eq!((a.userinfo, a.host), (Some("a@b"), "c.example"));
        let a = authority("c.example:").unwrap();
        assert_eq!(a.port, Some(""));
        assert_eq!(authority("[::1").unwrap_err(), "has an unterminated IPv6 literal");
        assert_eq!(
            authority("[::1]x").unwrap_err(),
            "has characters after its IPv6 literal"
        );
        assert_eq!(ipv6_literal("[::1]"), Some("::1"));
        assert_eq!(ipv6_literal("::1"), None);
    }

    #[test]
    fn ports_and_loopback_hosts() {
        for (port, ok) in [
            ("1", true),
            ("65535", true),
            ("65536", false),
            ("", false),
            ("8o", false),
            ("000443", false),
        ] {
            assert_eq!(is_valid_port(port), ok, "{port}");
        }
        for h in LOOPBACK_HOSTS {
            assert!(is_exact_loopback_host(h) && names_this_machine(h), "{h}");
        }
        for h in [
            "LOCALHOST",
            "127.0.0.2",
            "[0:0:0:0:0:0:0:1]",
            "app.localhost",
            "localhost.",
        ] {
            assert!(!is_exact_loopback_host(h) && names_this_machine(h), "{h}");
        }
        for h in ["localhost.evil.example", "10.0.0.1", "[::2]", "c.example"] {
            assert!(!names_this_machine(h), "{h}");
        }
    }

    #[test]
    fn jwks_uri_targets_agree_with_the_parser_and_keep_ip_literals() {
        let t = FetchTarget::jwks_uri("https://Keys.Example:8443/jwks.json").unwrap();
        assert_eq!((t.host(), t.ip()), ("keys.example", None));
        assert_eq!(t.url().port(), Some(8443));
        let t = FetchTarget::jwks_uri("https://10.0.0.5/jwks.json").unwrap();
        assert_eq!(t.ip(), Some("10.0.0.5".parse().unwrap()));
        let t = FetchTarget::jwks_uri("https://[fd00::1]/jwks.json").unwrap();
        assert_eq!(t.ip(), Some("fd00::1".parse().unwrap()));
        for bad in [
            "http://k.example/j",
            "https:k.example/j",
            "https://u@k.example/j",
            "https://0x7f.1/j",
        ] {
            let e = FetchTarget::jwks_uri(bad).unwrap_err();
            assert_eq!(e.code(), crate::error::ErrorCode::InvalidMetadata, "{bad}: {e}");
            assert!(e.description().contains("SSRF-05"), "{e}");
        }
    }
}
