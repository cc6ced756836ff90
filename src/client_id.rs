//! The client_id URL rules (docs/contract.md §1 and §11.2, requirements URL-01 to URL-09) and the validated
//! [`ClientIdUrl`] type that the fetcher takes.
//!
//! # Why the raw string
//!
//! A client_id is compared with the document's `client_id` byte for byte (RFC 3986 §6.2.1, URL-09), so the
//! string we check must be the string we compare. General-purpose URL parsers (the WHATWG algorithm that the
//! `url` crate implements) *repair* their input: they drop tabs and newlines anywhere, strip leading and trailing
//! spaces, turn `\` into `/`, collapse `.` and `..` segments, percent-decode the host, read `0x7f.1` as an IPv4
//! address, add a missing `//`, and percent-encode characters they do not like. Each repair is a place where the
//! URL we validated, the URL we fetch and the URL a person reads on a consent screen can differ. So every rule
//! here is checked on the raw string, a URL that a parser would have to repair is rejected rather than repaired,
//! and the parser's serialisation is never used for comparison. After the raw checks pass, the string is also
//! parsed with `url::Url` (the fetcher needs one) and the parse is cross-checked against our own reading: if the
//! two disagree about host, port, path or query the URL is rejected (fail closed).
//!
//! # Decisions beyond the draft (each because two readings of one string must never differ)
//!
//! * **Trailing dot in the host** (`https://c.example./a.json`) is rejected. It names the same DNS host as
//!   `c.example` but is a different client_id string, and hosts' `allowed_hosts` patterns, certificates and
//!   people all read the two differently. Nobody needs it.
//! * **Leading zeros in the port** (`:08443`) are rejected: a parser reads `:8443`, which makes two strings for
//!   one endpoint, the same ambiguity as the trailing dot. `:443` itself is allowed and stays a different client
//!   from no port (URL-09): nothing is normalised.
//! * **An empty port** (`https://c.example:/a.json`) is rejected: a parser silently drops the colon.
//! * **Percent-encoded `/` and `\` in the path** (`%2F`, `%5C`) are rejected: servers and proxies disagree on
//!   whether they separate segments, so they can hide a `..` traversal from us. **Percent-encoded control
//!   characters** (`%00` to `%1F`, `%7F`) are rejected in path and query: they have no use in a document URL and
//!   truncate or split strings when decoded (NUL, CR/LF).
//! * **Dot segments** are found raw and percent-encoded in any case mix (`.`, `..`, `%2e`, `.%2E`, ...), as whole
//!   segments, and also with a `;` parameter (`..;x`), because servlet containers drop the parameter and then
//!   resolve the `..`. `a..b` and `.well-known` are ordinary segments.
//! * **The host** must be a DNS name: ASCII labels of letters, digits, `-` and `_`, or an internationalised name
//!   that IDNA (UTS #46, as in the URL Standard) converts to such labels. Upper-case ASCII is accepted (the raw
//!   string keeps it; [`ClientIdUrl::host`] is lower case). A non-ASCII label must already be in its IDNA-mapped
//!   form (no full-width letters, no upper-case `Ü`, no ideographic full stop `。`, no ignored code points such
//!   as the soft hyphen): otherwise the raw string spells a different host than the one we would contact.
//!   IP literals in every spelling are rejected (docs/contract.md §11.2), even when `allow_loopback` is set.
//! * **The query** (when `allow_query` permits one) may not contain `'`: the URL Standard percent-encodes it in
//!   https queries, so the request would not go to the string we compare.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};

use idna::uts46::{AsciiDenyList, Hyphens, Uts46};

use crate::error::Error;

/// The longest client_id accepted, in bytes (docs/contract.md §1). Real documents' URLs are far shorter; the bound
/// keeps logs, cache keys and error pages small.
pub const MAX_CLIENT_ID_LEN: usize = 2048;

/// DNS limits (RFC 1035 §2.3.4) on the ASCII form of the host.
const MAX_LABEL_LEN: usize = 63;
const MAX_HOST_LEN: usize = 253;

/// Every ASCII character except letters, digits, `-`, `.` and `_`, plus space and the controls: IDNA must fail
/// on a Unicode character that maps to one of these (for example U+FF0F FULLWIDTH SOLIDUS maps to `/`).
const HOST_DENY: AsciiDenyList = AsciiDenyList::new(true, "!\"#$%&'()*+,/:;<=>?@[\\]^`{|}~");

// Byte classes, one table lookup per byte.
const C_PATH: u8 = 1; // RFC 3986 pchar without `%` (unreserved, sub-delims, `:` `@`) plus `/`
const C_QUERY: u8 = 2; // query characters we accept: pchar, `/`, `?`, except `'` (see module docs)
const C_HOST: u8 = 4; // ASCII host characters: letters, digits, `-`, `_`, `.`

const CLASSES: [u8; 256] = byte_classes();

const fn byte_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0usize;
    while b < 128 {
        let c = b as u8;
        let alnum = c.is_ascii_alphanumeric();
        let unreserved = alnum || c == b'-' || c == b'.' || c == b'_' || c == b'~';
        let sub_delim = matches!(
            c,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
        );
        let pchar = unreserved || sub_delim || c == b':' || c == b'@';
        if pchar || c == b'/' {
            t[b] |= C_PATH;
        }
        if (pchar || c == b'/' || c == b'?') && c != b'\'' {
            t[b] |= C_QUERY;
        }
        if alnum || c == b'-' || c == b'_' || c == b'.' {
            t[b] |= C_HOST;
        }
        b += 1;
    }
    t
}

fn class(b: u8) -> u8 {
    CLASSES[usize::from(b)]
}

/// The policy switches of the URL rules, taken from `Config.allow_query` and `Config.allow_root_path`
/// (docs/contract.md §8). Both default to false because the draft discourages both shapes (URL-05, URL-07) and the
/// common deployments (Keycloak, Auth0, the MCP SDKs) reject them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UrlRules {
    /// Accept a query component (`?`, even empty). URL-07.
    pub allow_query: bool,
    /// Accept a path of just `/`. URL-05.
    pub allow_root_path: bool,
}

impl UrlRules {
    /// The rules a configuration asks for.
    pub fn from_config(config: &crate::config::Config) -> UrlRules {
        UrlRules {
            allow_query: config.allow_query,
            allow_root_path: config.allow_root_path,
        }
    }
}

/// The client_id host as a consent screen shows it (docs/contract.md §6).
///
/// `unicode` is the IDNA ToUnicode form (`bücher.example`), what a person recognises; it is not filtered for
/// mixed scripts or look-alikes, so a host that wants to guard against homographs should show `ascii` (the
/// punycode form, `xn--bcher-kva.example`) next to it or instead. Both are lower case. For an ASCII host the two
/// are equal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DisplayHost {
    /// The host as DNS and policy see it (punycode for IDNs).
    pub ascii: String,
    /// The IDNA ToUnicode form.
    pub unicode: String,
}

/// A client_id that passed every URL rule. Only [`ClientIdUrl::parse`] builds one, so a function that takes a
/// `ClientIdUrl` (the fetcher, the cache) can rely on the rules without checking again.
///
/// Equality and hashing use the raw string only (byte-exact, as URL-09 requires), and hash like a `str`, so a
/// map keyed by `ClientIdUrl` can be looked up with a `&str`.
#[derive(Clone)]
pub struct ClientIdUrl {
    /// The string exactly as received.
    raw: String,
    /// Byte range of the host in `raw`.
    host_start: usize,
    host_end: usize,
    /// The lower-case ASCII host when it differs from `raw[host_start..host_end]` (upper case or an IDN).
    ascii_host: Option<Box<str>>,
    /// The explicit port, or 443.
    port: u16,
    /// The parsed form for the HTTP client; never compared or shown.
    url: url::Url,
}

impl ClientIdUrl {
    /// Checks every client_id URL rule on the raw string and returns the validated client_id.
    ///
    /// Nothing touches the network. Every failure is [`crate::error::ErrorCode::InvalidClientIdUrl`] with a
    /// description naming the rule and its requirement id; the description never echoes the client_id, which
    /// may be long or hold control characters, only an offset.
    pub fn parse(raw: &str, rules: &UrlRules) -> Result<ClientIdUrl, Error> {
        let bytes = raw.as_bytes();
        if bytes.is_empty() {
            return Err(err!(
                InvalidClientIdUrl,
                "client_id is empty; it must be an https URL (URL-01)"
            ));
        }
        if bytes.len() > MAX_CLIENT_ID_LEN {
            return Err(err!(
                InvalidClientIdUrl,
                "client_id URL is {} bytes long, more than the {MAX_CLIENT_ID_LEN} allowed (URL-10)",
                bytes.len()
            ));
        }
        // Characters that a URL parser strips or rewrites wherever they are: reject them before anything else,
        // so that `ht\ttps://` is reported for its tab rather than for its scheme.
        if let Some((at, b)) = bytes
            .iter()
            .enumerate()
            .find(|(_, b)| matches!(**b, 0x00..=0x20 | 0x7f | b'\\'))
        {
            let what = match *b {
                0 => "a NUL byte",
                b' ' => "a space",
                b'\\' => "a backslash",
                b'\t' => "a tab",
                b'\r' | b'\n' => "a line break",
                _ => "a control character",
            };
            return Err(err!(
                InvalidClientIdUrl,
                "client_id URL contains {what} (byte 0x{b:02x} at offset {at}), which a URL parser would remove or \
                 rewrite (URL-12)"
            ));
        }
        let after_scheme = check_scheme(raw)?;
        // The components as written (a backslash was refused above, so no parser would read them otherwise).
        let parts = crate::uri::parts(raw.get("https:".len()..).ok_or_else(internal)?);
        let authority = parts.authority.ok_or_else(internal)?;
        debug_assert!(after_scheme.starts_with(authority));
        let host_start = "https://".len();
        let (host_raw, port) = check_authority(authority)?;
        let host_end = host_start + host_raw.len();
        let ascii_host = check_host(host_raw)?;

        let path = parts.path;
        let path_offset = host_start + authority.len();
        if path.is_empty() {
            return Err(err!(
                InvalidClientIdUrl,
                "client_id URL must have a path after the host (URL-04)"
            ));
        }
        if path == "/" && !rules.allow_root_path {
            return Err(err!(
                InvalidClientIdUrl,
                "client_id URL path must not be `/` alone unless the allow_root_path setting is on (URL-05)"
            ));
        }
        check_path(path, path_offset)?;

        let query = parts.query;
        if let Some(q) = query {
            if !rules.allow_query {
                return Err(err!(
                    InvalidClientIdUrl,
                    "client_id URL must not have a query component, not even an empty `?`, unless the allow_query \
                     setting is on (URL-07)"
                ));
            }
            check_query(q, path_offset + path.len() + 1)?;
        }
        if parts.fragment.is_some() {
            return Err(err!(
                InvalidClientIdUrl,
                "client_id URL must not have a fragment, not even an empty `#` (URL-08)"
            ));
        }

        let host = ascii_host.as_deref().unwrap_or(host_raw);
        let url = cross_check(raw, host, port, path, query)?;
        Ok(ClientIdUrl {
            raw: raw.to_owned(),
            host_start,
            host_end,
            ascii_host,
            port,
            url,
        })
    }

    /// The client_id exactly as received, byte for byte: what the document's `client_id` must equal (URL-09)
    /// and what cache keys and logs use.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The lower-case ASCII host (the punycode form of an IDN): what DNS resolution, `allowed_hosts` /
    /// `denied_hosts` and `private_network_allowlist` use. The raw string may spell it in upper case.
    pub fn host(&self) -> &str {
        match &self.ascii_host {
            Some(h) => h,
            None => self.raw.get(self.host_start..self.host_end).unwrap_or(""),
        }
    }

    /// The explicit port, or 443 when the URL has none. (Whether the port was explicit matters only for
    /// comparison, which uses [`ClientIdUrl::as_str`].)
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host for consent screens: the ASCII form and the IDNA ToUnicode form (see [`DisplayHost`]).
    /// Computed on each call because only the consent path needs it.
    pub fn display_host(&self) -> DisplayHost {
        let ascii = self.host().to_owned();
        let (unicode, result) = Uts46::new().to_unicode(ascii.as_bytes(), HOST_DENY, Hyphens::Allow);
        // The host passed ToASCII in `parse`, so ToUnicode cannot fail; if it ever did, show the ASCII form
        // rather than text with replacement characters.
        let unicode = if result.is_ok() {
            unicode.into_owned()
        } else {
            ascii.clone()
        };
        DisplayHost { ascii, unicode }
    }

    /// The parsed URL, for the HTTP client only (it needs a `url::Url`). Never compare or display its
    /// serialisation: it drops an explicit `:443` and lower-cases and punycodes the host.
    pub fn url(&self) -> &url::Url {
        &self.url
    }
}

impl PartialEq for ClientIdUrl {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for ClientIdUrl {}

impl Hash for ClientIdUrl {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must hash exactly like `str` for the `Borrow<str>` impl to be sound for maps.
        self.raw.as_str().hash(state);
    }
}

impl Borrow<str> for ClientIdUrl {
    fn borrow(&self) -> &str {
        &self.raw
    }
}

impl AsRef<str> for ClientIdUrl {
    fn as_ref(&self) -> &str {
        &self.raw
    }
}

impl fmt::Debug for ClientIdUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientIdUrl").field(&self.raw).finish()
    }
}

impl fmt::Display for ClientIdUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// A state the raw checks make impossible; reported as a URL rejection so that a bug fails closed.
fn internal() -> Error {
    err!(
        InvalidClientIdUrl,
        "client_id URL could not be split into its components (URL-12)"
    )
}

/// URL-01: the string must start with exactly `https://`. Returns what follows.
fn check_scheme(raw: &str) -> Result<&str, Error> {
    if let Some(rest) = raw.strip_prefix("https://") {
        return Ok(rest);
    }
    let starts_https = raw.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("https:"));
    if raw.starts_with("https:") {
        Err(err!(
            InvalidClientIdUrl,
            "client_id URL must have `//` and a host right after `https:` (URL-01)"
        ))
    } else if starts_https {
        Err(err!(
            InvalidClientIdUrl,
            "client_id URL must use the https scheme in lower case (URL-01)"
        ))
    } else {
        Err(err!(
            InvalidClientIdUrl,
            "client_id URL must use the https scheme (URL-01)"
        ))
    }
}

/// URL-02, URL-03 and the IP-literal rule on the authority. Returns the raw host and the port.
fn check_authority(authority: &str) -> Result<(&str, u16), Error> {
    // One scan: userinfo and brackets anywhere in the authority, and the first `:`.
    let mut colon = None;
    for (i, b) in authority.bytes().enumerate() {
        match b {
            b'@' => {
                return Err(err!(
                    InvalidClientIdUrl,
                    "client_id URL must not contain userinfo (an `@` before the host) (URL-02)"
                ))
            }
            b'[' | b']' => return Err(ip_literal()),
            b':' if colon.is_none() => colon = Some(i),
            _ => {}
        }
    }
    let (host, port) = match colon.and_then(|i| Some((authority.get(..i)?, authority.get(i + 1..)?))) {
        None => (authority, 443),
        Some((host, port)) => (host, check_port(port)?),
    };
    if host.is_empty() {
        return Err(err!(
            InvalidClientIdUrl,
            "client_id URL must have a host after `https://` (URL-11)"
        ));
    }
    Ok((host, port))
}

/// URL-03: 1 to 5 digits, no leading zero, 1..=65535.
fn check_port(port: &str) -> Result<u16, Error> {
    let bad = |why: &str| {
        err!(
            InvalidClientIdUrl,
            "client_id URL port {why}; a port is 1 to 5 digits in 1..=65535 without leading zeros (URL-03)"
        )
    };
    if port.is_empty() {
        return Err(bad(
            "is empty after the `:`, which a URL parser would silently drop",
        ));
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("is not a number"));
    }
    if port.len() > 5 {
        return Err(bad("has too many digits"));
    }
    if port.starts_with('0') {
        return Err(bad("has a leading zero, which a URL parser would remove"));
    }
    match port.parse::<u16>() {
        Ok(p) if p >= 1 => Ok(p),
        _ => Err(bad("is out of range")),
    }
}

fn ip_literal() -> Error {
    err!(
        InvalidClientIdUrl,
        "client_id URL host must be a DNS name, not an IP address in any spelling (URL-11)"
    )
}

fn host_error(why: &str) -> Error {
    err!(InvalidClientIdUrl, "client_id URL host {why} (URL-11)")
}

/// The host rules. Returns the lower-case ASCII host when it differs from the raw host, `None` when the raw
/// host already is that form (the common case, no allocation).
fn check_host(host: &str) -> Result<Option<Box<str>>, Error> {
    if host.ends_with('.') {
        return Err(host_error(
            "must not end with a dot: `c.example.` and `c.example` would be two client_ids for one host",
        ));
    }
    let owned = if host.is_ascii() {
        let shape = check_ascii_host(host)?;
        let lower: Option<Box<str>> = shape.upper.then(|| host.to_ascii_lowercase().into_boxed_str());
        if shape.punycode {
            // `xn--` labels must decode to a valid IDN; ToASCII checks that (and returns its input unchanged).
            let candidate = lower.as_deref().unwrap_or(host);
            match Uts46::new().to_ascii(
                candidate.as_bytes(),
                HOST_DENY,
                Hyphens::Allow,
                idna::uts46::DnsLength::Ignore,
            ) {
                Ok(a) if a == candidate => {}
                _ => {
                    return Err(host_error(
                        "has an `xn--` label that is not valid punycode (IDNA)",
                    ))
                }
            }
        }
        lower
    } else {
        Some(check_idn_host(host)?)
    };
    let ascii = owned.as_deref().unwrap_or(host);
    if crate::addr::parse_numeric_host(ascii).is_some() || crate::addr::looks_numeric(ascii) {
        return Err(ip_literal());
    }
    Ok(owned)
}

/// What the ASCII host scan found.
struct HostShape {
    upper: bool,
    punycode: bool,
}

/// Labels of letters, digits, `-` and `_`, 1..=63 bytes each, at most 253 bytes in all.
fn check_ascii_host(host: &str) -> Result<HostShape, Error> {
    if host.len() > MAX_HOST_LEN {
        return Err(host_error("is longer than 253 bytes"));
    }
    let mut shape = HostShape {
        upper: false,
        punycode: false,
    };
    let bytes = host.as_bytes();
    let mut label_start = 0;
    // One pass; the index runs one past the end so that the last label is closed like the others.
    for i in 0..=bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(b'.');
        if b == b'.' {
            let len = i - label_start;
            if len == 0 {
                return Err(host_error("has an empty label (`..` or a leading dot)"));
            }
            if len > MAX_LABEL_LEN {
                return Err(host_error("has a label longer than 63 bytes"));
            }
            let prefix = bytes.get(label_start..label_start + 4);
            shape.punycode |= prefix.is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"));
            label_start = i + 1;
        } else if class(b) & C_HOST == 0 {
            return Err(if b == b'%' {
                host_error("must not be percent-encoded (a URL parser would decode it)")
            } else {
                host_error(&format!(
                    "may only contain letters, digits, `-`, `_` and `.` (found 0x{b:02x}); write IDNs in Unicode \
                     or punycode"
                ))
            });
        } else {
            shape.upper |= b.is_ascii_uppercase();
        }
    }
    Ok(shape)
}

/// An internationalised host: ToASCII must succeed and give a valid ASCII host, and every non-ASCII label must
/// already be what ToUnicode gives back (see the module docs). Returns the ASCII form.
fn check_idn_host(host: &str) -> Result<Box<str>, Error> {
    if let Some(b) = host.bytes().find(|b| b.is_ascii() && class(*b) & C_HOST == 0) {
        return Err(if b == b'%' {
            host_error("must not be percent-encoded (a URL parser would decode it)")
        } else {
            host_error(&format!(
                "may only contain letters, digits, `-`, `_` and `.` (found 0x{b:02x})"
            ))
        });
    }
    let uts46 = Uts46::new();
    let ascii = uts46
        .to_ascii(
            host.as_bytes(),
            HOST_DENY,
            Hyphens::Allow,
            idna::uts46::DnsLength::Ignore,
        )
        .map_err(|_| host_error("is not a valid internationalised domain name (IDNA ToASCII failed)"))?;
    check_ascii_host(&ascii)?;
    let (unicode, result) = uts46.to_unicode(ascii.as_bytes(), HOST_DENY, Hyphens::Allow);
    if result.is_err() {
        return Err(host_error(
            "is not a valid internationalised domain name (IDNA ToUnicode failed)",
        ));
    }
    let not_canonical = || {
        host_error(
            "is not written in its IDNA-mapped form (for example full-width or upper-case non-ASCII letters, or \
             a non-ASCII dot), so it would name a different host than it spells",
        )
    };
    let mut raw_labels = host.split('.');
    let mut ascii_labels = ascii.split('.');
    let mut unicode_labels = unicode.split('.');
    loop {
        match (raw_labels.next(), ascii_labels.next(), unicode_labels.next()) {
            (None, None, None) => break,
            (Some(r), Some(a), Some(u)) => {
                let expected = if r.is_ascii() { a } else { u };
                let same = r.len() == expected.len()
                    && r.bytes()
                        .zip(expected.bytes())
                        .all(|(x, y)| x.to_ascii_lowercase() == y);
                if !same {
                    return Err(not_canonical());
                }
            }
            _ => return Err(not_canonical()),
        }
    }
    Ok(ascii.into_owned().into_boxed_str())
}

/// Reads `%HH` at the start of `s`; `None` when malformed.
fn percent_byte(s: &[u8]) -> Option<u8> {
    match s {
        [b'%', h, l, ..] => {
            let hi = char::from(*h).to_digit(16)?;
            let lo = char::from(*l).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        }
        _ => None,
    }
}

fn char_error(component: &str, b: u8, at: usize, id: &str) -> Error {
    if b >= 0x80 {
        err!(
            InvalidClientIdUrl,
            "client_id URL {component} contains a non-ASCII character at offset {at}; it must be percent-encoded \
             ({id})"
        )
    } else {
        err!(
            InvalidClientIdUrl,
            "client_id URL {component} contains `{}` at offset {at}, which a URL parser would percent-encode or \
             reinterpret ({id})",
            char::from(b)
        )
    }
}

/// Checks one `%HH` escape at the start of `s` and returns the decoded byte. In the path (`in_path`), encoded
/// `/` and `\` are refused as well.
fn check_escape(s: &[u8], at: usize, component: &str, in_path: bool) -> Result<u8, Error> {
    let id = "URL-12";
    let v = percent_byte(s).ok_or_else(|| {
        err!(
            InvalidClientIdUrl,
            "client_id URL {component} has a `%` at offset {at} that is not followed by two hex digits ({id})"
        )
    })?;
    if v < 0x20 || v == 0x7f {
        return Err(err!(
            InvalidClientIdUrl,
            "client_id URL {component} has a percent-encoded control character (%{v:02X}) at offset {at} ({id})"
        ));
    }
    if in_path && (v == b'/' || v == b'\\') {
        return Err(err!(
            InvalidClientIdUrl,
            "client_id URL path has a percent-encoded `{}` at offset {at}; servers disagree on whether it separates \
             segments ({id})",
            char::from(v)
        ));
    }
    Ok(v)
}

/// How the characters of one component are checked: the class its raw bytes must be in, the rule a byte
/// outside it breaks, and whether an escape may decode to `/` or `\`.
struct Component {
    name: &'static str,
    class: u8,
    id: &'static str,
    in_path: bool,
}

const PATH: Component = Component {
    name: "path",
    class: C_PATH,
    id: "URL-12",
    in_path: true,
};

const QUERY: Component = Component {
    name: "query",
    class: C_QUERY,
    id: "URL-07",
    in_path: false,
};

/// The characters and escapes of a component that starts at `offset` in the client_id; `raw` sees each
/// unescaped byte (and its index in `s`) after it passed, and may refuse it too.
fn check_chars(
    s: &str,
    offset: usize,
    part: &Component,
    mut raw: impl FnMut(usize, u8) -> Result<(), Error>,
) -> Result<(), Error> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            check_escape(
                bytes.get(i..).unwrap_or_default(),
                offset + i,
                part.name,
                part.in_path,
            )?;
            i += 3;
            continue;
        }
        if class(b) & part.class == 0 {
            return Err(char_error(part.name, b, offset + i, part.id));
        }
        raw(i, b)?;
        i += 1;
    }
    Ok(())
}

/// Path characters, escapes and dot segments (URL-06), in one pass. `path` starts with `/`.
fn check_path(path: &str, offset: usize) -> Result<(), Error> {
    let bytes = path.as_bytes();
    let mut segment_start = 0;
    check_chars(path, offset, &PATH, |i, b| {
        if b == b'/' {
            check_segment(bytes.get(segment_start..i).unwrap_or_default())?;
            segment_start = i + 1;
        }
        Ok(())
    })?;
    check_segment(bytes.get(segment_start..).unwrap_or_default())
}

/// URL-06: a segment that is `.` or `..`, each dot raw or `%2e`/`%2E`, optionally followed by `;params`.
fn check_segment(segment: &[u8]) -> Result<(), Error> {
    let name = match segment.iter().position(|b| *b == b';') {
        Some(p) => segment.get(..p).unwrap_or_default(),
        None => segment,
    };
    let mut dots = 0;
    let mut rest = name;
    loop {
        match rest {
            [] => break,
            [b'.', tail @ ..] => rest = tail,
            [b'%', b'2', b'e' | b'E', tail @ ..] => rest = tail,
            _ => return Ok(()),
        }
        dots += 1;
    }
    if (1..=2).contains(&dots) {
        return Err(err!(
            InvalidClientIdUrl,
            "client_id URL has a dot segment (`{}`, raw or percent-encoded) in its path (URL-06)",
            if dots == 1 { "." } else { ".." }
        ));
    }
    Ok(())
}

/// Query characters and escapes (only reached when `allow_query` is set).
fn check_query(query: &str, offset: usize) -> Result<(), Error> {
    check_chars(query, offset, &QUERY, |_, _| Ok(()))
}

/// Parses with the `url` crate (for the fetcher) and makes sure it read the string as we did. The raw checks
/// leave it nothing to repair, so a disagreement means a rule is missing here: reject rather than fetch
/// something other than what we validated.
fn cross_check(raw: &str, host: &str, port: u16, path: &str, query: Option<&str>) -> Result<url::Url, Error> {
    let disagree = || {
        err!(
            InvalidClientIdUrl,
            "client_id URL is read differently by the URL parser than by the client_id rules (URL-13)"
        )
    };
    let url = url::Url::parse(raw).map_err(|_| disagree())?;
    let same = url.scheme() == "https"
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(url.host(), Some(url::Host::Domain(d)) if d == host)
        && url.port_or_known_default() == Some(port)
        && url.path() == path
        && url.query() == query
        && url.fragment().is_none();
    if same {
        Ok(url)
    } else {
        Err(disagree())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const STRICT: UrlRules = UrlRules {
        allow_query: false,
        allow_root_path: false,
    };
    const LENIENT: UrlRules = UrlRules {
        allow_query: true,
        allow_root_path: true,
    };

    fn ok(raw: &str, rules: &UrlRules) -> ClientIdUrl {
        match ClientIdUrl::parse(raw, rules) {
            Ok(c) => c,
            Err(e) => panic!("{raw:?} was rejected: {e}"),
        }
    }

    /// Asserts rejection with the right code and a description carrying `id`.
    fn rejected(raw: &str, rules: &UrlRules, id: &str) {
        match ClientIdUrl::parse(raw, rules) {
            Ok(c) => panic!("{raw:?} was accepted as {c:?}"),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::InvalidClientIdUrl, "{raw:?}");
                assert!(e.description().contains(id), "{raw:?}: {e} does not name {id}");
                assert!(e.description().starts_with("client_id"), "{raw:?}: {e}");
            }
        }
    }

    /// [`rejected`] for each of `raws`.
    fn rejected_all(raws: &[&str], rules: &UrlRules, id: &str) {
        for raw in raws {
            rejected(raw, rules, id);
        }
    }

    #[test]
    fn valid_urls_are_accepted_unchanged() {
        for raw in [
            "https://c.example/app.json",
            "https://c.example/a/b/c.json",
            "https://c.example/.well-known/oauth-client",
            "https://c.example/a..b/c",
            "https://c.example/a/...",
            "https://c.example/a/.../b",
            "https://c.example/.x/x.",
            "https://c.example/%2e%2e%2e",
            "https://c.example/a;b/..x",
            "https://c.example/~user/cli_ent-1.json",
            "https://c.example/a:b@c!$&'()*+,;=",
            "https://c.example/a%20b%C3%BCc",
            "https://c.example//double",
            "https://c.example/a/",
            "https://sub_domain.c-1.example/a",
            "https://localhost:8443/app.json",
            "https://123.example/a",
            "https://0x1f.example/a",
            "https://a-.example/a",
        ] {
            let c = ok(raw, &STRICT);
            assert_eq!(c.as_str(), raw);
            assert_eq!(c.to_string(), raw);
        }
        let c = ok("https://c.example/app.json", &STRICT);
        assert_eq!(c.host(), "c.example");
        assert_eq!(c.port(), 443);
        assert_eq!(c.url().as_str(), "https://c.example/app.json");
    }

    #[test]
    fn url_01_scheme_must_be_lower_case_https() {
        rejected_all(
            &[
                "http://c.example/app.json",
                "ftp://c.example/a",
                "c.example/a.json",
                "//c.example/a",
                "https",
            ],
            &STRICT,
            "(URL-01)",
        );
        let e = ClientIdUrl::parse("http://c.example/app.json", &STRICT).unwrap_err();
        assert_eq!(
            e.description(),
            "client_id URL must use the https scheme (URL-01)"
        );
    }

    #[test]
    fn url_01b_upper_case_scheme_rejected() {
        for raw in [
            "HTTPS://c.example/a.json",
            "Https://c.example/a.json",
            "httpS://c.example/a.json",
        ] {
            rejected(raw, &LENIENT, "(URL-01)");
            let e = ClientIdUrl::parse(raw, &LENIENT).unwrap_err();
            assert_eq!(
                e.description(),
                "client_id URL must use the https scheme in lower case (URL-01)"
            );
        }
        // A parser would add the missing slashes; we do not.
        for raw in ["https:c.example/a.json", "https:/c.example/a.json", "https:"] {
            rejected(raw, &LENIENT, "`//`");
        }
    }

    #[test]
    fn url_02_userinfo_rejected() {
        rejected_all(
            &[
                "https://u:p@c.example/a.json",
                "https://u@c.example/a.json",
                "https://@c.example/a.json",
                "https://:@c.example/a.json",
                "https://c.example@evil.example/a.json",
                "https://u@c.example:8443/a.json",
            ],
            &LENIENT,
            "(URL-02)",
        );
        // `@` after the authority is an ordinary path character.
        assert_eq!(ok("https://c.example/a@b.json", &STRICT).host(), "c.example");
    }

    #[test]
    fn url_03_ports_allowed_and_checked() {
        let c = ok("https://c.example:8443/a.json", &STRICT);
        assert_eq!((c.host(), c.port()), ("c.example", 8443));
        assert_eq!(c.as_str(), "https://c.example:8443/a.json");
        assert_eq!(c.url().port(), Some(8443));
        assert_eq!(ok("https://c.example:1/a", &STRICT).port(), 1);
        assert_eq!(ok("https://c.example:65535/a", &STRICT).port(), 65535);
        rejected_all(
            &[
                "https://c.example:/a.json",
                "https://c.example:0/a.json",
                "https://c.example:65536/a.json",
                "https://c.example:99999/a.json",
                "https://c.example:123456/a.json",
                "https://c.example:08443/a.json",
                "https://c.example:00443/a.json",
                "https://c.example:+443/a.json",
                "https://c.example:44a/a.json",
                "https://c.example:443:443/a.json",
                "https://c.example:0x1bb/a.json",
            ],
            &LENIENT,
            "(URL-03)",
        );
    }

    #[test]
    fn url_04_path_required() {
        rejected_all(
            &[
                "https://c.example",
                "https://c.example:8443",
                "https://c.example?x=1",
                "https://c.example#x",
            ],
            &LENIENT,
            "(URL-04)",
        );
    }

    #[test]
    fn url_05_root_path_follows_the_setting() {
        rejected("https://c.example/", &STRICT, "(URL-05)");
        rejected(
            "https://c.example:8443/",
            &UrlRules {
                allow_query: true,
                allow_root_path: false,
            },
            "(URL-05)",
        );
        let rules = UrlRules {
            allow_query: false,
            allow_root_path: true,
        };
        assert_eq!(ok("https://c.example/", &rules).as_str(), "https://c.example/");
        assert_eq!(ok("https://c.example:8443/", &rules).port(), 8443);
        // Not root-only: a longer path is always fine.
        ok("https://c.example//", &STRICT);
        rejected(
            "https://c.example/?",
            &UrlRules {
                allow_query: true,
                allow_root_path: false,
            },
            "(URL-05)",
        );
        ok("https://c.example/?", &LENIENT);
    }

    #[test]
    fn url_06_dot_segment_raw_and_percent_encoded() {
        for path in [
            "/a/../b.json",
            "/./b.json",
            "/a/.",
            "/a/..",
            "/..",
            "/.",
            "/%2e/b",
            "/%2E/b",
            "/a/%2e%2e/b",
            "/a/%2E%2E/b",
            "/a/%2e%2E/b",
            "/a/.%2e/b",
            "/a/%2e./b",
            "/a/.%2E",
            "/a/%2E.",
            "/a/%2e",
            "/a/%2e%2e",
            "/a/..;/b",
            "/a/.;x=1/b",
            "/a/%2e%2e;jsessionid=1",
            "/../",
            "//../a",
        ] {
            let raw = format!("https://c.example{path}");
            rejected(&raw, &LENIENT, "(URL-06)");
        }
        let e = ClientIdUrl::parse("https://c.example/a/../b.json", &STRICT).unwrap_err();
        assert!(
            e.description().starts_with("client_id URL has a dot segment"),
            "{e}"
        );
        // Dots that are not whole segments.
        for path in [
            "/a..b/",
            "/.well-known/x",
            "/a/...",
            "/a./b",
            "/.a",
            "/a/%2e%2e%2e",
            "/a/x%2e",
            "/a/;./b",
        ] {
            ok(&format!("https://c.example{path}"), &LENIENT);
        }
        rejected("https://c.example/a/.;", &LENIENT, "(URL-06)");
        // The query is not a path: dots there are data.
        ok("https://c.example/a?x=/../", &LENIENT);
    }

    #[test]
    fn url_07_query_follows_the_setting() {
        rejected_all(
            &[
                "https://c.example/a.json?v=1",
                "https://c.example/a.json?",
                "https://c.example/a.json?#",
            ],
            &STRICT,
            "(URL-07)",
        );
        let c = ok("https://c.example/a.json?v=1", &LENIENT);
        assert_eq!(c.as_str(), "https://c.example/a.json?v=1");
        assert_eq!(c.url().query(), Some("v=1"));
        let c = ok("https://c.example/a.json?", &LENIENT);
        assert_eq!(c.as_str(), "https://c.example/a.json?");
        assert_eq!(c.url().query(), Some(""));
        ok("https://c.example/a.json?a=1&b=%41/?:@", &LENIENT);
        rejected_all(
            &[
                "https://c.example/a.json?a='x'",
                "https://c.example/a.json?a=<x>",
                "https://c.example/a.json?a=\"",
                "https://c.example/a.json?a={}",
                "https://c.example/a.json?a=é",
                "https://c.example/a.json?a=%zz",
                "https://c.example/a.json?a=%",
                "https://c.example/a.json?a=%00",
                "https://c.example/a.json?a=%0a",
            ],
            &LENIENT,
            "client_id URL",
        );
    }

    #[test]
    fn url_08_fragment_rejected_even_empty() {
        for rules in [STRICT, LENIENT] {
            for raw in [
                "https://c.example/a.json#x",
                "https://c.example/a.json#",
                "https://c.example/#",
            ] {
                let want = if raw == "https://c.example/#" && !rules.allow_root_path {
                    "(URL-05)"
                } else {
                    "(URL-08)"
                };
                rejected(raw, &rules, want);
            }
        }
        rejected("https://c.example/a.json?x#", &LENIENT, "(URL-08)");
    }

    #[test]
    fn url_09_explicit_443_and_case_are_kept_distinct() {
        let plain = ok("https://c.example/a.json", &STRICT);
        let explicit = ok("https://c.example:443/a.json", &STRICT);
        assert_ne!(plain, explicit);
        assert_ne!(plain.as_str(), explicit.as_str());
        assert_eq!(explicit.as_str(), "https://c.example:443/a.json");
        assert_eq!(plain.host(), explicit.host());
        assert_eq!(plain.port(), explicit.port());
        let upper = ok("https://C.example/a.json", &STRICT);
        assert_ne!(upper, plain);
        assert_eq!(upper.as_str(), "https://C.example/a.json");
        assert_eq!(upper.host(), "c.example");
        // Equality and hash follow the raw string, so a map lookup by &str works.
        let mut set = std::collections::HashSet::new();
        set.insert(explicit.clone());
        assert!(set.contains("https://c.example:443/a.json"));
        assert!(!set.contains("https://c.example/a.json"));
        assert_eq!(explicit.clone(), explicit);
    }

    #[test]
    fn url_11_ip_literals_rejected_in_every_spelling() {
        for host in [
            "127.0.0.1",
            "[::1]",
            "2130706433",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "127.1",
            "1.2.3.999",
            "[::ffff:127.0.0.1]",
            "0x7f000001",
            "0X7F.1",
            "017700000001",
            "10.0.0.1",
            "169.254.169.254",
            "a.1",
            "example.0x",
            "c.example.123",
            "[::1",
            "::1",
            "[fe80::1%25eth0]",
            "0.0.0.0",
            "4294967296",
        ] {
            for suffix in ["/a.json", ":8443/a.json"] {
                let raw = format!("https://{host}{suffix}");
                let e = ClientIdUrl::parse(&raw, &LENIENT).expect_err(&raw);
                assert_eq!(e.code(), ErrorCode::InvalidClientIdUrl);
                if !host.contains(':') {
                    assert!(e.description().contains("(URL-11)"), "{raw}: {e}");
                }
            }
        }
        // Full-width digits map to ASCII digits under IDNA: still an address.
        rejected("https://１２７.０.０.１/a.json", &LENIENT, "client_id URL host");
    }

    #[test]
    fn control_characters_spaces_and_backslashes_rejected() {
        for bad in ["\0", "\t", "\n", "\r", "\x01", "\x1b", "\x1f", "\x7f", " ", "\\"] {
            for raw in [
                format!("{bad}https://c.example/a.json"),
                format!("https://c.example/a.json{bad}"),
                format!("ht{bad}tps://c.example/a.json"),
                format!("https://c.ex{bad}ample/a.json"),
                format!("https://c.example/a{bad}b.json"),
                format!("https://c.example{bad}/a.json"),
                format!("https:{bad}//c.example/a.json"),
            ] {
                rejected(&raw, &LENIENT, "(URL-12)");
                let e = ClientIdUrl::parse(&raw, &LENIENT).unwrap_err();
                assert!(
                    !e.description().contains("c.ex"),
                    "the description must not echo the URL: {e}"
                );
            }
        }
        let e = ClientIdUrl::parse("https://c.example/a\0.json", &STRICT).unwrap_err();
        assert!(
            e.description().contains("NUL byte (byte 0x00 at offset 19)"),
            "{e}"
        );
        let e = ClientIdUrl::parse("https://c.example/a\\b", &STRICT).unwrap_err();
        assert!(e.description().contains("backslash"), "{e}");
    }

    #[test]
    fn characters_a_parser_would_repair_are_rejected() {
        for path in [
            "/a\"b", "/a<b", "/a>b", "/a{b", "/a}b", "/a|b", "/a^b", "/a`b", "/a[b", "/a]b", "/bücher",
            "/a%zz", "/a%", "/a%2", "/a%g0", "/a%00", "/a%1f", "/a%7F", "/a%2fb", "/a%2Fb", "/a%5cb",
            "/a%5C",
        ] {
            let raw = format!("https://c.example{path}");
            rejected(&raw, &LENIENT, "(URL-12)");
        }
        for host in [
            "c%2eexample",
            "exa%6Dple.com",
            "c!.example",
            "c..example",
            ".c.example",
            "c.example.",
            "c.example..",
            "c,example",
            "c*.example",
        ] {
            rejected(&format!("https://{host}/a.json"), &LENIENT, "(URL-11)");
        }
        rejected("https:///a.json", &LENIENT, "must have a host");
        rejected("https:////c.example/a.json", &LENIENT, "must have a host");
        rejected("https://:8443/a.json", &LENIENT, "must have a host");
    }

    #[test]
    fn url_10_length_limit_2048_bytes() {
        let base = "https://c.example/";
        let exact = format!("{base}{}", "a".repeat(MAX_CLIENT_ID_LEN - base.len()));
        assert_eq!(exact.len(), 2048);
        assert_eq!(ok(&exact, &STRICT).as_str(), exact);
        let long = format!("{exact}b");
        assert_eq!(long.len(), 2049);
        rejected(&long, &STRICT, "(URL-10)");
        rejected("", &STRICT, "(URL-01)");
        let label = "a".repeat(63);
        ok(&format!("https://{label}.example/a"), &STRICT);
        rejected(&format!("https://{label}a.example/a"), &STRICT, "63");
        let host = [label.as_str(); 4].join(".");
        assert_eq!(host.len(), 255);
        rejected(&format!("https://{host}/a"), &STRICT, "253");
        let host = format!("{}.{}", [label.as_str(); 3].join("."), "a".repeat(61));
        assert_eq!(host.len(), 253);
        ok(&format!("https://{host}/a"), &STRICT);
    }

    #[test]
    fn idn_host_converted_and_displayed() {
        let c = ok("https://bücher.example/app.json", &STRICT);
        assert_eq!(c.as_str(), "https://bücher.example/app.json");
        assert_eq!(c.host(), "xn--bcher-kva.example");
        assert_eq!(c.url().host_str(), Some("xn--bcher-kva.example"));
        assert_eq!(
            c.display_host(),
            DisplayHost {
                ascii: "xn--bcher-kva.example".into(),
                unicode: "bücher.example".into()
            }
        );
        // Punycode input: the host stays ASCII, the display form is Unicode.
        let p = ok("https://xn--bcher-kva.example/app.json", &STRICT);
        assert_eq!(p.host(), "xn--bcher-kva.example");
        assert_eq!(p.display_host().unicode, "bücher.example");
        assert_ne!(p, c, "different strings are different clients");
        let u = ok("https://XN--BCHER-KVA.Example/app.json", &STRICT);
        assert_eq!(u.host(), "xn--bcher-kva.example");
        assert_eq!(u.display_host().unicode, "bücher.example");
        // Mixed ASCII case next to an IDN label is fine.
        assert_eq!(
            ok("https://Bücher.EXAMPLE/a", &STRICT).host(),
            "xn--bcher-kva.example"
        );
        // Other scripts.
        assert_eq!(
            ok("https://例え.テスト/a", &STRICT).display_host().unicode,
            "例え.テスト"
        );
        let json = serde_json::to_string(&c.display_host()).unwrap();
        assert_eq!(
            json,
            r#"{"ascii":"xn--bcher-kva.example","unicode":"bücher.example"}"#
        );
        // A look-alike is accepted (it is a real IDN) but its ASCII form is always available.
        let spoof = ok("https://аpple.example/a", &STRICT); // Cyrillic а
        assert!(spoof.display_host().ascii.starts_with("xn--"));
        assert_eq!(spoof.display_host().unicode, "аpple.example");
    }

    #[test]
    fn idn_host_not_in_mapped_form_rejected() {
        for host in [
            "BÜCHER.example",         // upper-case non-ASCII: IDNA lower-cases it
            "ｅｘａｍｐｌｅ.com",     // full-width letters map to ASCII
            "bücher。example",        // ideographic full stop is a dot to IDNA
            "bücher．example",        // full-width full stop
            "exa\u{AD}mple.bücher",   // soft hyphen is ignored by IDNA
            "evil.example／good.ü",   // full-width solidus maps to `/`
            "a\u{200B}ü.example",     // zero-width space
            "ü\u{A0}.example",        // no-break space maps to a space
            "xn--zz.example",         // invalid punycode
            "xn--bcher-kva.bücher.x", // fine labels...
        ] {
            let raw = format!("https://{host}/a");
            let r = ClientIdUrl::parse(&raw, &STRICT);
            if host == "xn--bcher-kva.bücher.x" {
                assert_eq!(
                    r.map(|c| c.host().to_owned()).ok().as_deref(),
                    Some("xn--bcher-kva.xn--bcher-kva.x")
                );
            } else {
                let e = r.expect_err(&raw);
                assert!(e.description().contains("client_id URL host"), "{raw}: {e}");
            }
        }
        rejected("https://XN--ZZ.example/a", &STRICT, "punycode");
    }

    #[test]
    fn mixed_case_host_accepted_and_lower_cased() {
        let c = ok("https://App.C.Example:8443/Path/A.json", &STRICT);
        assert_eq!(c.host(), "app.c.example");
        assert_eq!(c.as_str(), "https://App.C.Example:8443/Path/A.json");
        assert_eq!(c.url().path(), "/Path/A.json");
        assert_eq!(c.display_host().unicode, "app.c.example");
    }

    #[test]
    fn url_parse_agrees_with_the_raw_reading() {
        for raw in [
            "https://c.example/a.json",
            "https://C.example:443/a/b;c=d/e%20f",
            "https://bücher.example:8443/x",
            "https://c.example/a.json?q=1&r=%2F",
        ] {
            let c = ok(raw, &LENIENT);
            assert_eq!(c.url().host_str(), Some(c.host()));
            assert_eq!(c.url().port_or_known_default(), Some(c.port()));
            assert_eq!(c.url().scheme(), "https");
        }
    }

    #[test]
    fn client_id_url_is_clone_send_sync() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        assert_traits::<ClientIdUrl>();
        let c = ok("https://c.example/a.json", &STRICT);
        assert_eq!(format!("{c:?}"), r#"ClientIdUrl("https://c.example/a.json")"#);
        assert_eq!(UrlRules::from_config(&crate::config::Config::default()), STRICT);
    }

    /// Every bad element inserted at every position of otherwise-valid URLs must be rejected.
    #[test]
    fn url_06_url_08_url_12_bad_elements_rejected_everywhere() {
        let everywhere = [
            "\0", "\t", "\n", "\r", "\x0b", "\x7f", " ", "\\", "#", "#x", "%zz", "%", "%0", "%00", "\"", "<",
            ">", "{", "}", "|", "^", "`", "[", "]", "%0d%0a", "\u{3000}",
        ];
        let bases = ["https://c.example/dir/app.json", "https://c.example:8443/a/b/c"];
        let mut checked = 0;
        for base in bases {
            // Positions: in the host, before the port/path, inside and at the end of segments, at the end.
            let positions: Vec<usize> = (8..base.len()).chain([base.len()]).collect();
            for bad in everywhere {
                for &pos in &positions {
                    let Some((head, tail)) = base.split_at_checked(pos) else {
                        continue;
                    };
                    let raw = format!("{head}{bad}{tail}");
                    for rules in [STRICT, LENIENT] {
                        let r = ClientIdUrl::parse(&raw, &rules);
                        assert!(r.is_err(), "{raw:?} was accepted");
                        checked += 1;
                    }
                }
            }
        }
        // Dot segments in every spelling at every segment position.
        let dots = [".", "%2e", "%2E"];
        let mut spellings = Vec::new();
        for a in dots {
            spellings.push(a.to_string());
            for b in dots {
                spellings.push(format!("{a}{b}"));
            }
        }
        assert_eq!(spellings.len(), 12);
        for s in &spellings {
            for param in ["", ";", ";x=1"] {
                for shape in ["/{}", "/{}/b", "/a/{}", "/a/{}/b", "/a/{}/", "//{}"] {
                    let raw = format!("https://c.example{}", shape.replace("{}", &format!("{s}{param}")));
                    for rules in [STRICT, LENIENT] {
                        let e = ClientIdUrl::parse(&raw, &rules).expect_err(&raw);
                        assert!(e.description().contains("(URL-06)"), "{raw}: {e}");
                        checked += 1;
                    }
                }
            }
        }
        // Query and userinfo elements with the strict rules.
        for bad in ["?", "?x", "?#", "?a=b"] {
            for raw in [
                format!("https://c.example/a{bad}"),
                format!("https://c.example/x{bad}/a"),
            ] {
                rejected(&raw, &STRICT, "(URL-07)");
                checked += 1;
            }
        }
        for bad in ["@", "u@", "u:p@", ":@", "a@b@"] {
            for raw in [
                format!("https://{bad}c.example/a"),
                format!("https://{bad}c.example:8443/a"),
            ] {
                rejected(&raw, &LENIENT, "(URL-02)");
                checked += 1;
            }
        }
        assert!(checked > 2500, "{checked}");
    }

    /// Pseudo-random strings built from URL fragments: parse never panics, and whatever it accepts keeps the
    /// invariants the rest of the engine relies on.
    #[test]
    fn random_inputs_never_panic_and_accepted_ones_hold_invariants() {
        let pieces = [
            "https://",
            "http://",
            "c.example",
            "C.EX",
            "bücher",
            "xn--bcher-kva",
            ".",
            "..",
            "/",
            "//",
            ":",
            ":443",
            ":0",
            "@",
            "?",
            "#",
            "%",
            "%2e",
            "%2E",
            "%2f",
            "%41",
            "%zz",
            "a",
            "Z",
            "0",
            "1",
            "0x",
            "[",
            "]",
            "\\",
            " ",
            "\t",
            "\0",
            "é",
            "。",
            ";",
            "'",
            "~",
            "-",
            "_",
            "\u{AD}",
            "１",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            let n = 1 + (next() % 10) as usize;
            let mut s = String::from(if next() % 4 == 0 { "" } else { "https://c.example/" });
            for _ in 0..n {
                s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            }
            for rules in [STRICT, LENIENT] {
                if let Ok(c) = ClientIdUrl::parse(&s, &rules) {
                    accepted += 1;
                    assert_eq!(c.as_str(), s);
                    assert!(
                        s.starts_with("https://") && !s.contains(['#', '\\', ' ', '\t', '\0']),
                        "{s:?}"
                    );
                    let after = s.get(8..).unwrap_or_default();
                    let authority = after.split(['/', '?']).next().unwrap_or_default();
                    assert!(!authority.contains(['@', '[', '%']), "{s:?}");
                    let path = after
                        .get(authority.len()..)
                        .unwrap_or_default()
                        .split('?')
                        .next()
                        .unwrap_or_default();
                    assert!(
                        !path.is_empty() && (rules.allow_root_path || path != "/"),
                        "{s:?}"
                    );
                    assert!(
                        !path
                            .split('/')
                            .any(|seg| seg == "." || seg == ".." || seg == "%2e"),
                        "{s:?}"
                    );
                    assert!(rules.allow_query || !s.contains('?'), "{s:?}");
                    assert!(
                        c.host()
                            .bytes()
                            .all(|b| class(b) & C_HOST != 0 && !b.is_ascii_uppercase()),
                        "{s:?}"
                    );
                    assert!(!crate::addr::looks_numeric(c.host()), "{s:?}");
                    assert_eq!(c.url().host_str(), Some(c.host()));
                    assert_eq!(c.url().path(), path, "{s:?}");
                }
            }
        }
        assert!(
            accepted > 100,
            "too few accepted ({accepted}) for the test to mean anything"
        );
    }

    /// Rough timing: `cargo test --release -- --ignored --nocapture bench_parse`.
    #[test]
    #[ignore]
    fn bench_parse() {
        let raw = "https://client.example.com:8443/oauth/client-metadata.json";
        let n = 200_000;
        let start = std::time::Instant::now();
        for _ in 0..n {
            let c = ClientIdUrl::parse(std::hint::black_box(raw), &STRICT);
            std::hint::black_box(c.is_ok());
        }
        let per = start.elapsed() / n;
        let start = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(url::Url::parse(std::hint::black_box(raw)).is_ok());
        }
        println!(
            "ClientIdUrl::parse: {per:?} per call; url::Url::parse alone: {:?}",
            start.elapsed() / n
        );
    }
}
