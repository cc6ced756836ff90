//! Engine configuration: one JSON object with the keys of decisions.md §8, the same in every front end.
//!
//! The parser is strict on purpose. An unknown key is almost always a typo (`max_doc_bytes`), and a typo in a
//! security setting that is silently ignored leaves a server running with a default its operator believes
//! they changed. So unknown keys, wrong types and out-of-range values are all [`ConfigError`]s.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;

/// A configuration that could not be accepted. The message names the key and the accepted range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {}", self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Token endpoint authentication methods a host may support. Shared-secret methods are not among them:
/// a CIMD client has no secret (CIMD §4.1).
pub const KNOWN_AUTH_METHODS: [&str; 4] = [
    "none",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
];

/// An address range in CIDR notation, e.g. `10.20.0.0/16` or `fd00:1234::/32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ADDR/PREFIX`; the address must have no bits set beyond the prefix.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not in ADDRESS/PREFIX form"))?;
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IP address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("{s:?} has a prefix length outside 0..={max}"))?;
        let cidr = Cidr { network, prefix };
        if cidr.mask(network) != bits(network) {
            return Err(format!("{s:?} has host bits set beyond the /{prefix} prefix"));
        }
        Ok(cidr)
    }

    fn mask(&self, addr: IpAddr) -> u128 {
        let (width, value) = (if addr.is_ipv4() { 32 } else { 128 }, bits(addr));
        if self.prefix == 0 {
            0
        } else {
            value & (u128::MAX << (width - u32::from(self.prefix)))
        }
    }

    /// True when `addr` lies in the range (an IPv4 range never contains an IPv6 address and vice versa).
    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.network.is_ipv4() && self.mask(addr) == bits(self.network)
    }
}

fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// One entry of `private_network_allowlist`: this exact host may resolve into these private ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateNetworkGrant {
    /// The exact host name (lower case), never a pattern: the exception is as narrow as possible.
    pub host: String,
    /// The ranges the host's addresses may fall in.
    pub cidrs: Vec<Cidr>,
}

/// A host pattern for `allowed_hosts` / `denied_hosts`: an exact host, or `*.example.com` for any host
/// below example.com (not example.com itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    /// Matches this host only.
    Exact(String),
    /// Matches any host ending in `.` followed by this suffix.
    Subdomains(String),
}

impl HostPattern {
    fn parse(s: &str) -> Result<HostPattern, String> {
        let (wild, name) = match s.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(format!(
                "{s:?} is not a host name or a *.domain pattern (ASCII; use the punycode form of IDNs)"
            ));
        }
        let name = name.to_ascii_lowercase();
        Ok(if wild {
            HostPattern::Subdomains(name)
        } else {
            HostPattern::Exact(name)
        })
    }

    /// True when the (lower-case) host matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => h == host,
            HostPattern::Subdomains(suffix) => {
                host.len() > suffix.len() + 1
                    && host.ends_with(suffix.as_str())
                    && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
            }
        }
    }
}

/// The per-host token bucket: `per_minute` tokens refill each minute, at most `burst` saved up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Sustained fetches per minute to one host.
    pub per_minute: u32,
    /// How many fetches may go at once before the sustained rate applies.
    pub burst: u32,
}

/// The validated engine configuration. Build it with [`Config::from_json`] or start from
/// [`Config::default`] (safe production defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Development and test only: let hosts resolve to loopback (CIMD §8.6). Default false.
    pub allow_loopback: bool,
    /// Host-scoped exceptions for enterprise-internal document hosts.
    pub private_network_allowlist: Vec<PrivateNetworkGrant>,
    /// PEM file with extra trust anchors (private PKI, tests), added to the platform roots.
    pub extra_ca_file: Option<String>,
    /// If not empty, only these hosts may serve documents.
    pub allowed_hosts: Vec<HostPattern>,
    /// These hosts may never serve documents (checked before `allowed_hosts`).
    pub denied_hosts: Vec<HostPattern>,
    /// Accept client_id URLs with a query component (CIMD §3 SHOULD NOT). Default false.
    pub allow_query: bool,
    /// Accept client_id URLs whose path is `/` (CIMD §3 NOT RECOMMENDED). Default false.
    pub allow_root_path: bool,
    /// Read cap for one document (CIMD §8.7 suggests 5 KB). Default 5120.
    pub max_document_bytes: usize,
    /// Connect deadline (DNS, TCP and TLS). Default 2000 ms.
    pub connect_timeout: Duration,
    /// Total deadline for one fetch, from DNS to the last body byte. Default 5000 ms.
    pub fetch_timeout: Duration,
    /// Lower bound of a cached document's lifetime. Default 60 s.
    pub min_cache_ttl: Duration,
    /// Upper bound of a cached document's lifetime. Default 86400 s.
    pub max_cache_ttl: Duration,
    /// After expiry, serve the old document this long while one background refresh runs. Default 60 s.
    pub stale_while_revalidate: Duration,
    /// After expiry, serve the old document this long while the host fails transiently. Default 3600 s.
    pub stale_if_error: Duration,
    /// Most documents kept in the cache. Default 10000.
    pub cache_max_entries: usize,
    /// Most bytes (documents and their serialisations) kept in the cache. Default 64 MiB.
    pub cache_max_bytes: usize,
    /// Token endpoint authentication methods the host supports. Default `["none"]`.
    pub auth_methods_supported: Vec<String>,
    /// Grant types the host supports; others are filtered out of documents.
    pub grant_types_supported: Vec<String>,
    /// Response types the host supports; others are filtered out of documents.
    pub response_types_supported: Vec<String>,
    /// RFC 8252 §7.3: ignore the port of http loopback redirect URIs. Default true.
    pub loopback_any_port: bool,
    /// Most fetches in flight at once. Default 32.
    pub max_concurrent_fetches: usize,
    /// Most fetches in flight to one host. Default 4.
    pub per_host_concurrency: usize,
    /// Per-host token bucket. Default 60 per minute, burst 20.
    pub per_host_rate: RateLimit,
    /// JSON nesting depth limit for documents. Default 32.
    pub max_json_depth: usize,
    /// Most elements in any JSON array of a document (e.g. `redirect_uris`). Default 64.
    pub max_array_items: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            allow_loopback: false,
            private_network_allowlist: Vec::new(),
            extra_ca_file: None,
            allowed_hosts: Vec::new(),
            denied_hosts: Vec::new(),
            allow_query: false,
            allow_root_path: false,
            max_document_bytes: 5120,
            connect_timeout: Duration::from_millis(2000),
            fetch_timeout: Duration::from_millis(5000),
            min_cache_ttl: Duration::from_secs(60),
            max_cache_ttl: Duration::from_secs(86400),
            stale_while_revalidate: Duration::from_secs(60),
            stale_if_error: Duration::from_secs(3600),
            cache_max_entries: 10_000,
            cache_max_bytes: 64 << 20,
            auth_methods_supported: vec!["none".into()],
            grant_types_supported: vec!["authorization_code".into(), "refresh_token".into()],
            response_types_supported: vec!["code".into()],
            loopback_any_port: true,
            max_concurrent_fetches: 32,
            per_host_concurrency: 4,
            per_host_rate: RateLimit {
                per_minute: 60,
                burst: 20,
            },
            max_json_depth: 32,
            max_array_items: 64,
        }
    }
}

/// The wire form: every key optional, nothing unknown.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    allow_loopback: Option<bool>,
    private_network_allowlist: Option<Vec<RawGrant>>,
    extra_ca_file: Option<String>,
    allowed_hosts: Option<Vec<String>>,
    denied_hosts: Option<Vec<String>>,
    allow_query: Option<bool>,
    allow_root_path: Option<bool>,
    max_document_bytes: Option<u64>,
    connect_timeout_ms: Option<u64>,
    fetch_timeout_ms: Option<u64>,
    min_cache_ttl_s: Option<u64>,
    max_cache_ttl_s: Option<u64>,
    stale_while_revalidate_s: Option<u64>,
    stale_if_error_s: Option<u64>,
    cache_max_entries: Option<u64>,
    cache_max_bytes: Option<u64>,
    auth_methods_supported: Option<Vec<String>>,
    grant_types_supported: Option<Vec<String>>,
    response_types_supported: Option<Vec<String>>,
    loopback_any_port: Option<bool>,
    max_concurrent_fetches: Option<u64>,
    per_host_concurrency: Option<u64>,
    per_host_rate: Option<RateLimit>,
    max_json_depth: Option<u64>,
    max_array_items: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrant {
    host: String,
    cidrs: Vec<String>,
}

/// Checks `value` against an inclusive range and names the key when it is outside.
fn ranged(key: &str, value: Option<u64>, min: u64, max: u64, default: u64) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(v) => Err(ConfigError(format!("{key} = {v} is outside {min}..={max}"))),
    }
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn non_empty_list(
    key: &str,
    list: Option<Vec<String>>,
    default: &[String],
) -> Result<Vec<String>, ConfigError> {
    let list = list.unwrap_or_else(|| default.to_vec());
    if list.is_empty() {
        return Err(ConfigError(format!("{key} must not be empty")));
    }
    if let Some(bad) = list.iter().find(|v| v.is_empty() || v.len() > 256) {
        return Err(ConfigError(format!(
            "{key} has an empty or over-long entry {bad:?}"
        )));
    }
    Ok(list)
}

fn patterns(key: &str, list: Option<Vec<String>>) -> Result<Vec<HostPattern>, ConfigError> {
    list.unwrap_or_default()
        .iter()
        .map(|p| HostPattern::parse(p).map_err(|e| ConfigError(format!("{key}: {e}"))))
        .collect()
}

const DAY_S: u64 = 86_400;

impl Config {
    /// Parses and validates a configuration object. An empty object gives the defaults.
    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        // The same strict intake as documents: a repeated key would silently override a security setting.
        let limits = crate::json::JsonLimits {
            max_depth: 8,
            max_array_items: 10_000,
            max_object_members: 256,
        };
        let value = crate::json::parse_strict(text.as_bytes(), &limits)
            .map_err(|e| ConfigError(e.description().replace("document", "configuration")))?;
        Config::from_value(value)
    }

    /// Like [`Config::from_json`], from an already parsed value.
    pub fn from_value(value: serde_json::Value) -> Result<Config, ConfigError> {
        if !value.is_object() {
            return Err(ConfigError("the configuration must be a JSON object".into()));
        }
        let raw: RawConfig = serde_json::from_value(value).map_err(|e| ConfigError(e.to_string()))?;
        let d = Config::default();
        let secs = |key, v, min, max, def: Duration| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs(ranged(key, v, min, max, def.as_secs())?))
        };
        let millis = |key, v, min, max, def: Duration| -> Result<Duration, ConfigError> {
            Ok(Duration::from_millis(ranged(
                key,
                v,
                min,
                max,
                def.as_millis() as u64,
            )?))
        };
        let auth_methods = non_empty_list(
            "auth_methods_supported",
            raw.auth_methods_supported,
            &d.auth_methods_supported,
        )?;
        if let Some(bad) = auth_methods
            .iter()
            .find(|m| !KNOWN_AUTH_METHODS.contains(&m.as_str()))
        {
            return Err(ConfigError(format!(
                "auth_methods_supported: {bad:?} is not one of {KNOWN_AUTH_METHODS:?} (shared-secret methods cannot be used by CIMD clients)"
            )));
        }
        let mut grants = Vec::new();
        for g in raw.private_network_allowlist.unwrap_or_default() {
            let host = match HostPattern::parse(&g.host) {
                Ok(HostPattern::Exact(h)) => h,
                _ => {
                    return Err(ConfigError(format!(
                        "private_network_allowlist: host {:?} must be one exact host name",
                        g.host
                    )))
                }
            };
            if g.cidrs.is_empty() {
                return Err(ConfigError(format!(
                    "private_network_allowlist: {host} lists no cidrs"
                )));
            }
            let cidrs = g
                .cidrs
                .iter()
                .map(|c| Cidr::parse(c).map_err(|e| ConfigError(format!("private_network_allowlist: {e}"))))
                .collect::<Result<_, _>>()?;
            grants.push(PrivateNetworkGrant { host, cidrs });
        }
        if let Some(path) = &raw.extra_ca_file {
            if path.is_empty() {
                return Err(ConfigError("extra_ca_file must be a file path".into()));
            }
        }
        let rate = raw.per_host_rate.unwrap_or(d.per_host_rate);
        if !(1..=1_000_000).contains(&rate.per_minute) || !(1..=100_000).contains(&rate.burst) {
            return Err(ConfigError(format!(
                "per_host_rate = {{per_minute: {}, burst: {}}}: per_minute must be in 1..=1000000 and burst in 1..=100000",
                rate.per_minute, rate.burst
            )));
        }
        let config = Config {
            allow_loopback: raw.allow_loopback.unwrap_or(d.allow_loopback),
            private_network_allowlist: grants,
            extra_ca_file: raw.extra_ca_file,
            allowed_hosts: patterns("allowed_hosts", raw.allowed_hosts)?,
            denied_hosts: patterns("denied_hosts", raw.denied_hosts)?,
            allow_query: raw.allow_query.unwrap_or(d.allow_query),
            allow_root_path: raw.allow_root_path.unwrap_or(d.allow_root_path),
            max_document_bytes: to_usize(ranged(
                "max_document_bytes",
                raw.max_document_bytes,
                64,
                1 << 20,
                5120,
            )?),
            connect_timeout: millis(
                "connect_timeout_ms",
                raw.connect_timeout_ms,
                1,
                60_000,
                d.connect_timeout,
            )?,
            fetch_timeout: millis(
                "fetch_timeout_ms",
                raw.fetch_timeout_ms,
                1,
                120_000,
                d.fetch_timeout,
            )?,
            min_cache_ttl: secs(
                "min_cache_ttl_s",
                raw.min_cache_ttl_s,
                0,
                30 * DAY_S,
                d.min_cache_ttl,
            )?,
            max_cache_ttl: secs(
                "max_cache_ttl_s",
                raw.max_cache_ttl_s,
                0,
                30 * DAY_S,
                d.max_cache_ttl,
            )?,
            stale_while_revalidate: secs(
                "stale_while_revalidate_s",
                raw.stale_while_revalidate_s,
                0,
                30 * DAY_S,
                d.stale_while_revalidate,
            )?,
            stale_if_error: secs(
                "stale_if_error_s",
                raw.stale_if_error_s,
                0,
                30 * DAY_S,
                d.stale_if_error,
            )?,
            cache_max_entries: to_usize(ranged(
                "cache_max_entries",
                raw.cache_max_entries,
                1,
                10_000_000,
                10_000,
            )?),
            cache_max_bytes: to_usize(ranged(
                "cache_max_bytes",
                raw.cache_max_bytes,
                4096,
                1 << 40,
                64 << 20,
            )?),
            auth_methods_supported: auth_methods,
            grant_types_supported: non_empty_list(
                "grant_types_supported",
                raw.grant_types_supported,
                &d.grant_types_supported,
            )?,
            response_types_supported: non_empty_list(
                "response_types_supported",
                raw.response_types_supported,
                &d.response_types_supported,
            )?,
            loopback_any_port: raw.loopback_any_port.unwrap_or(d.loopback_any_port),
            max_concurrent_fetches: to_usize(ranged(
                "max_concurrent_fetches",
                raw.max_concurrent_fetches,
                1,
                10_000,
                32,
            )?),
            per_host_concurrency: to_usize(ranged(
                "per_host_concurrency",
                raw.per_host_concurrency,
                1,
                1_000,
                4,
            )?),
            per_host_rate: rate,
            max_json_depth: to_usize(ranged("max_json_depth", raw.max_json_depth, 2, 128, 32)?),
            max_array_items: to_usize(ranged("max_array_items", raw.max_array_items, 1, 10_000, 64)?),
        };
        if config.min_cache_ttl > config.max_cache_ttl {
            return Err(ConfigError(format!(
                "min_cache_ttl_s ({}) is greater than max_cache_ttl_s ({})",
                config.min_cache_ttl.as_secs(),
                config.max_cache_ttl.as_secs()
            )));
        }
        Ok(config)
    }

    /// True when `host` may serve documents under `allowed_hosts` / `denied_hosts`.
    pub fn host_allowed(&self, host: &str) -> bool {
        if self.denied_hosts.iter().any(|p| p.matches(host)) {
            return false;
        }
        self.allowed_hosts.is_empty() || self.allowed_hosts.iter().any(|p| p.matches(host))
    }

    /// The private ranges `host` may resolve into, if it has a grant.
    pub fn private_grant(&self, host: &str) -> Option<&PrivateNetworkGrant> {
        self.private_network_allowlist.iter().find(|g| g.host == host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_object_gives_safe_defaults() {
        let c = Config::from_json("{}").unwrap();
        assert_eq!(c, Config::default());
        assert!(!c.allow_loopback);
        assert!(!c.allow_query);
        assert!(!c.allow_root_path);
        assert_eq!(c.max_document_bytes, 5120);
        assert_eq!(c.auth_methods_supported, vec!["none"]);
        assert_eq!(
            c.per_host_rate,
            RateLimit {
                per_minute: 60,
                burst: 20
            }
        );
        assert_eq!(c.cache_max_bytes, 64 << 20);
        assert_eq!(c.connect_timeout, Duration::from_millis(2000));
        assert_eq!(c.fetch_timeout, Duration::from_millis(5000));
        assert_eq!(c.min_cache_ttl, Duration::from_secs(60));
        assert_eq!(c.max_cache_ttl, Duration::from_secs(86400));
        assert_eq!(c.stale_while_revalidate, Duration::from_secs(60));
        assert_eq!(c.stale_if_error, Duration::from_secs(3600));
        assert_eq!(c.cache_max_entries, 10_000);
        assert_eq!(c.max_concurrent_fetches, 32);
        assert_eq!(c.per_host_concurrency, 4);
        assert_eq!(
            c.grant_types_supported,
            vec!["authorization_code", "refresh_token"]
        );
        assert_eq!(c.response_types_supported, vec!["code"]);
        assert!(c.loopback_any_port);
        assert!(c.allowed_hosts.is_empty() && c.denied_hosts.is_empty());
        assert!(c.private_network_allowlist.is_empty() && c.extra_ca_file.is_none());
        assert_eq!((c.max_json_depth, c.max_array_items), (32, 64));
    }

    #[test]
    fn every_documented_key_is_accepted() {
        let text = r#"{"allow_loopback": true,
            "private_network_allowlist": [{"host": "docs.corp.example", "cidrs": ["10.20.0.0/16", "fd00::/8"]}],
            "extra_ca_file": "/tmp/ca.pem", "allowed_hosts": ["*.example.com"], "denied_hosts": ["bad.example.com"],
            "allow_query": true, "allow_root_path": true, "max_document_bytes": 10000, "connect_timeout_ms": 100,
            "fetch_timeout_ms": 200, "min_cache_ttl_s": 1, "max_cache_ttl_s": 2, "stale_while_revalidate_s": 3,
            "stale_if_error_s": 4, "cache_max_entries": 5, "auth_methods_supported": ["none", "private_key_jwt"],
            "grant_types_supported": ["authorization_code"], "response_types_supported": ["code"],
            "loopback_any_port": false, "max_concurrent_fetches": 6, "per_host_concurrency": 7,
            "per_host_rate": {"per_minute": 8, "burst": 9}, "cache_max_bytes": 100000,
            "max_json_depth": 10, "max_array_items": 11}"#;
        let c = Config::from_json(text).unwrap();
        assert!(c.allow_loopback && c.allow_query && c.allow_root_path && !c.loopback_any_port);
        assert_eq!(c.private_network_allowlist[0].host, "docs.corp.example");
        assert_eq!(c.private_network_allowlist[0].cidrs.len(), 2);
        assert_eq!(c.fetch_timeout, Duration::from_millis(200));
        assert_eq!(c.stale_if_error, Duration::from_secs(4));
        assert_eq!(
            c.per_host_rate,
            RateLimit {
                per_minute: 8,
                burst: 9
            }
        );
        assert_eq!(c.max_array_items, 11);
    }

    #[test]
    fn unknown_keys_wrong_types_and_ranges_are_errors() {
        for bad in [
            r#"{"max_doc_bytes": 4096}"#,
            r#"{"allow_loopback": "yes"}"#,
            r#"{"max_document_bytes": -1}"#,
            r#"{"max_document_bytes": 0}"#,
            r#"{"fetch_timeout_ms": 0}"#,
            r#"{"cache_max_entries": 0}"#,
            r#"{"min_cache_ttl_s": 100, "max_cache_ttl_s": 10}"#,
            r#"{"auth_methods_supported": []}"#,
            r#"{"auth_methods_supported": ["client_secret_basic"]}"#,
            r#"{"per_host_rate": {"per_minute": 0, "burst": 1}}"#,
            r#"{"per_host_rate": {"per_minute": 1, "burst": 1, "x": 1}}"#,
            r#"{"allowed_hosts": ["exa mple.com"]}"#,
            r#"{"allowed_hosts": ["*"]}"#,
            r#"{"private_network_allowlist": [{"host": "*.corp", "cidrs": ["10.0.0.0/8"]}]}"#,
            r#"{"private_network_allowlist": [{"host": "a.corp", "cidrs": ["10.0.0.1/8"]}]}"#,
            r#"{"private_network_allowlist": [{"host": "a.corp", "cidrs": []}]}"#,
            r#"[]"#,
            r#"not json"#,
            r#"{"allow_loopback": false, "allow_loopback": true}"#,
        ] {
            assert!(Config::from_json(bad).is_err(), "{bad} was accepted");
        }
        let e = Config::from_json(r#"{"max_doc_bytes": 1}"#).unwrap_err();
        assert!(e.to_string().contains("max_doc_bytes"), "{e}");
    }

    #[test]
    fn host_patterns_match_exact_and_subdomains_only() {
        let c = Config::from_json(r#"{"allowed_hosts": ["*.example.com", "app.example.org"], "denied_hosts": ["evil.example.com"]}"#).unwrap();
        assert!(c.host_allowed("a.example.com"));
        assert!(c.host_allowed("a.b.example.com"));
        assert!(!c.host_allowed("example.com"));
        assert!(!c.host_allowed("badexample.com"));
        assert!(!c.host_allowed("evil.example.com"));
        assert!(c.host_allowed("app.example.org"));
        assert!(!c.host_allowed("x.app.example.org"));
        assert!(Config::default().host_allowed("anything.example"));
    }

    #[test]
    fn cidr_contains_respects_family_and_prefix() {
        let c = Cidr::parse("10.20.0.0/16").unwrap();
        assert!(c.contains("10.20.255.1".parse().unwrap()));
        assert!(!c.contains("10.21.0.1".parse().unwrap()));
        assert!(!c.contains("::ffff:10.20.0.1".parse().unwrap()));
        let all = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        let v6 = Cidr::parse("fd00:1234::/32").unwrap();
        assert!(v6.contains("fd00:1234:ffff::1".parse().unwrap()));
        assert!(!v6.contains("fd00:1235::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0.0").is_err());
    }
}
