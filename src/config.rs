//! Engine configuration: one JSON object, the same keys in every front end (docs/contract.md §8).
//!
//! [`KEYS`] describes every key once: its name, type, default, range and meaning. The parser below reads a
//! configuration by that table, [`schema_json`] hands the same table to every front end (`cimd config-schema`,
//! `cimd_config_schema_json` in the C ABI, the Keycloak settings form, the Python and Go bindings), and tests in
//! each front end fail when a key is missing there. A key is added here, once.
//!
//! The parser is strict on purpose. An unknown key is almost always a typo (`max_doc_bytes`), and a typo in a
//! security setting that is silently ignored leaves a server running with a default its operator believes
//! they changed. So unknown keys, wrong types and out-of-range values are all [`ConfigError`]s, each naming the
//! key path (`per_host_rate.burst`, `allowed_hosts[2]`) and, for a typo, the nearest known key.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Map, Value};

/// A configuration that could not be accepted: where (a key path such as `per_host_rate.burst` or
/// `private_network_allowlist[0].cidrs[1]`; empty for the document as a whole) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    path: String,
    reason: String,
}

impl ConfigError {
    /// An error at `path` (empty for the whole configuration).
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The key path, e.g. `per_host_rate.burst`; empty when the configuration as a whole is wrong.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong there, e.g. `expected a boolean, got a string`.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "invalid configuration: {}", self.reason)
        } else {
            write!(f, "invalid configuration: {}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Token endpoint authentication methods a host may list in `auth_methods_supported`. A host may pass its own
/// discovery list, shared-secret methods included; those are never negotiated for a URL client, which has no
/// secret (docs/contract.md §3, §12.2).
pub const KNOWN_AUTH_METHODS: [&str; 7] = [
    "none",
    "private_key_jwt",
    "tls_client_auth",
    "self_signed_tls_client_auth",
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
];

/// The JSON type of a key's value, as the schema names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `true` or `false`.
    Boolean,
    /// A whole number within `min..=max`.
    Integer,
    /// A string.
    String,
    /// An array of strings.
    StringList,
    /// An object with the fields the key's `fields` name.
    Object,
    /// An array of objects with the fields the key's `fields` name.
    ObjectList,
}

impl KeyType {
    /// The schema's name for the type.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyType::Boolean => "boolean",
            KeyType::Integer => "integer",
            KeyType::String => "string",
            KeyType::StringList => "string_list",
            KeyType::Object => "object",
            KeyType::ObjectList => "object_list",
        }
    }
}

/// One field of an object-valued key (`per_host_rate`, the entries of `private_network_allowlist`).
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// The field's name.
    pub name: &'static str,
    /// Its type.
    pub ty: KeyType,
    /// Inclusive bounds, for integers.
    pub range: Option<(u64, u64)>,
    /// What it means.
    pub meaning: &'static str,
}

/// One configuration key: the single description every front end reads.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    /// The key.
    pub name: &'static str,
    /// A short title for settings forms ("Fetch timeout").
    pub title: &'static str,
    /// The type of its value.
    pub ty: KeyType,
    /// The default, as JSON text (`null` for "not set").
    pub default: &'static str,
    /// Inclusive bounds, for integers.
    pub range: Option<(u64, u64)>,
    /// The unit of an integer: `bytes`, `ms`, `s`, `entries`, `fetches`, or empty.
    pub unit: &'static str,
    /// The only values a list may hold, when they are a closed set.
    pub values: &'static [&'static str],
    /// The fields of an object, or of each object of a list.
    pub fields: &'static [FieldSpec],
    /// One sentence: what it does.
    pub meaning: &'static str,
}

const DAY_S: u64 = 86_400;
const MONTH_S: u64 = 30 * DAY_S;

const fn key(name: &'static str, title: &'static str, ty: KeyType, default: &'static str) -> KeySpec {
    KeySpec {
        name,
        title,
        ty,
        default,
        range: None,
        unit: "",
        values: &[],
        fields: &[],
        meaning: "",
    }
}

const fn int(
    name: &'static str,
    title: &'static str,
    default: &'static str,
    min: u64,
    max: u64,
    unit: &'static str,
) -> KeySpec {
    KeySpec {
        range: Some((min, max)),
        unit,
        ..key(name, title, KeyType::Integer, default)
    }
}

const fn means(spec: KeySpec, meaning: &'static str) -> KeySpec {
    KeySpec { meaning, ..spec }
}

const fn field(
    name: &'static str,
    ty: KeyType,
    range: Option<(u64, u64)>,
    meaning: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        range,
        meaning,
    }
}

/// Declares every configuration key once: its [`Config`] member (type and documentation), the reader that turns
/// its JSON value into that member, and its description in [`KEYS`] (name, title, type, default, range, meaning).
/// From the one list it makes the `Config` struct, `KEYS` in the same order, and `Config::read`, which reads
/// every key in that order, its given value or else its default.
macro_rules! config_keys {
    (
        $(#[$config_meta:meta])*
        pub struct Config;
        $(#[$keys_meta:meta])*
        pub const KEYS: [KeySpec; $count:literal];
        $($(#[$member_meta:meta])* $member:ident: $ty:ty = $read:ident($spec:expr) $meaning:literal;)*
    ) => {
        $(#[$config_meta])*
        pub struct Config {
            $($(#[$member_meta])* pub $member: $ty,)*
        }

        $(#[$keys_meta])*
        pub const KEYS: [KeySpec; $count] = [$(means($spec, $meaning)),*];

        impl Config {
            /// Every key of `given` in the order of [`KEYS`], a missing one at its default.
            fn read(given: &Map<String, Value>) -> Result<Config, ConfigError> {
                let [$($member),*] = &KEYS;
                Ok(Config {
                    $($member: read_key(given, $member, $read)?,)*
                })
            }
        }
    };
}

config_keys! {
    /// The validated engine configuration. Build it with [`Config::from_json`] or start from
    /// [`Config::default`] (safe production defaults).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Config;

    /// Every configuration key, in the order of docs/contract.md §8 and the README's table.
    pub const KEYS: [KeySpec; 25];

    /// Development and test only: let hosts resolve to loopback (CIMD §8.6). Default false.
    allow_loopback: bool =
        flag(key("allow_loopback", "Allow loopback (development only)", KeyType::Boolean, "false"))
        "Development and tests only: let client_id hosts resolve to loopback (127.0.0.0/8, ::1). Never on a \
         production server.";
    /// Host-scoped exceptions for enterprise-internal document hosts.
    private_network_allowlist: Vec<PrivateNetworkGrant> = grants(KeySpec {
        fields: &[
            field("host", KeyType::String, None, "one exact host name (no pattern)"),
            field(
                "cidrs",
                KeyType::StringList,
                None,
                "private ranges in CIDR notation (RFC 1918, CGNAT, unique-local)",
            ),
        ],
        ..key("private_network_allowlist", "Private network allowlist", KeyType::ObjectList, "[]")
    })
        "Host-scoped exceptions: this exact host may resolve into these private ranges (never loopback or \
         link-local).";
    /// PEM file with extra trust anchors (private PKI, tests), added to the platform roots.
    extra_ca_file: Option<String> = file_path(key("extra_ca_file", "Extra CA file", KeyType::String, "null"))
        "PEM file of extra trust anchors (private PKI, tests), added to the platform's roots.";
    /// If not empty, only these hosts may serve documents.
    allowed_hosts: Vec<HostPattern> =
        host_patterns(key("allowed_hosts", "Allowed hosts", KeyType::StringList, "[]"))
        "If not empty, only these hosts (app.example.com, or *.example.com for its subdomains) may serve client \
         documents.";
    /// These hosts may never serve documents (checked before `allowed_hosts`).
    denied_hosts: Vec<HostPattern> =
        host_patterns(key("denied_hosts", "Denied hosts", KeyType::StringList, "[]"))
        "These hosts (exact, or *.example.com) may never serve client documents; checked before allowed_hosts.";
    /// Accept client_id URLs with a query component (CIMD §3 SHOULD NOT). Default false.
    allow_query: bool = flag(key("allow_query", "Allow a query in client_id", KeyType::Boolean, "false"))
        "Accept client_id URLs with a query component (the draft says SHOULD NOT).";
    /// Accept client_id URLs whose path is `/` (CIMD §3 NOT RECOMMENDED). Default false.
    allow_root_path: bool = flag(key("allow_root_path", "Allow the root path", KeyType::Boolean, "false"))
        "Accept client_id URLs whose path is / (the draft says NOT RECOMMENDED).";
    /// Read cap for one document (CIMD §8.7 suggests 5 KB). Default 5120.
    max_document_bytes: usize =
        count(int("max_document_bytes", "Max document bytes", "5120", 64, 1 << 20, "bytes"))
        "Read cap for one document or key set; a larger body is too_large.";
    /// Connect deadline (DNS, TCP and TLS). Default 2000 ms.
    connect_timeout: Duration = millis(int("connect_timeout_ms", "Connect timeout", "2000", 1, 60_000, "ms"))
        "Deadline for DNS, TCP and TLS.";
    /// Total deadline for one fetch, from DNS to the last body byte. Default 5000 ms.
    fetch_timeout: Duration = millis(int("fetch_timeout_ms", "Fetch timeout", "5000", 1, 120_000, "ms"))
        "Total deadline of one fetch, from the DNS lookup to the last body byte.";
    /// Lower bound of a cached document's lifetime. Default 60 s.
    min_cache_ttl: Duration = seconds(int("min_cache_ttl_s", "Minimum cache lifetime", "60", 0, MONTH_S, "s"))
        "Floor of a document's lifetime, also for no-store, no-cache or no caching headers.";
    /// Upper bound of a cached document's lifetime. Default 86400 s.
    max_cache_ttl: Duration =
        seconds(int("max_cache_ttl_s", "Maximum cache lifetime", "86400", 0, MONTH_S, "s"))
        "Ceiling of a document's lifetime.";
    /// After expiry, serve the old document this long while one background refresh runs. Default 60 s.
    stale_while_revalidate: Duration =
        seconds(int("stale_while_revalidate_s", "Stale while revalidate", "60", 0, MONTH_S, "s"))
        "After expiry, serve the old document this long while one background refresh runs (not for documents \
         served with no-store, no-cache or must-revalidate).";
    /// After expiry, serve the old document this long while the host fails transiently. Default 3600 s.
    stale_if_error: Duration = seconds(int("stale_if_error_s", "Stale if error", "3600", 0, MONTH_S, "s"))
        "After expiry, serve the old document this long while its host fails (transport errors, timeouts, 429, \
         5xx; not for documents served with no-store, no-cache or must-revalidate).";
    /// Most documents kept in the cache. Default 10000.
    cache_max_entries: usize =
        count(int("cache_max_entries", "Cache max entries", "10000", 1, 10_000_000, "entries"))
        "Most documents cached.";
    /// Most bytes (documents and their serialisations) kept in the cache. Default 64 MiB.
    cache_max_bytes: usize =
        count(int("cache_max_bytes", "Cache max bytes", "67108864", 4096, 1 << 40, "bytes"))
        "Most bytes the cache holds (documents and their serialisations).";
    /// Token endpoint authentication methods the host supports. Default `["none"]`.
    auth_methods_supported: Vec<String> = auth_methods(KeySpec {
        values: &KNOWN_AUTH_METHODS,
        ..key("auth_methods_supported", "Token endpoint auth methods", KeyType::StringList, "[\"none\"]")
    })
        "Token endpoint authentication methods the identity server supports; a document's methods are \
         negotiated against them. Shared-secret methods may be listed but are never used by URL clients.";
    /// Grant types the host supports; others are filtered out of documents.
    grant_types_supported: Vec<String> = non_empty_strings(key(
        "grant_types_supported",
        "Grant types",
        KeyType::StringList,
        "[\"authorization_code\", \"refresh_token\"]",
    ))
        "Grant types the identity server supports; other values are filtered out of documents.";
    /// Response types the host supports; others are filtered out of documents.
    response_types_supported: Vec<String> =
        non_empty_strings(key("response_types_supported", "Response types", KeyType::StringList, "[\"code\"]"))
        "Response types the identity server supports; other values are filtered out of documents.";
    /// RFC 8252 §7.3: ignore the port of http loopback redirect URIs. Default true.
    loopback_any_port: bool =
        flag(key("loopback_any_port", "Loopback redirects on any port", KeyType::Boolean, "true"))
        "RFC 8252 §7.3: ignore the port of http loopback redirect URIs (native clients use ephemeral ports).";
    /// Most fetches in flight at once. Default 32.
    max_concurrent_fetches: usize =
        count(int("max_concurrent_fetches", "Max concurrent fetches", "32", 1, 10_000, "fetches"))
        "Fetches in flight at once.";
    /// Most fetches in flight to one host. Default 4.
    per_host_concurrency: usize =
        count(int("per_host_concurrency", "Per-host concurrency", "4", 1, 1_000, "fetches"))
        "Fetches in flight to one host.";
    /// Per-host token bucket. Default 60 per minute, burst 20.
    per_host_rate: RateLimit = rate_limit(KeySpec {
        fields: &[
            field(
                "per_minute",
                KeyType::Integer,
                Some((1, 1_000_000)),
                "sustained fetches per minute to one host",
            ),
            field(
                "burst",
                KeyType::Integer,
                Some((1, 100_000)),
                "fetches that may go at once before the sustained rate applies",
            ),
        ],
        ..key("per_host_rate", "Per-host rate", KeyType::Object, "{\"per_minute\": 60, \"burst\": 20}")
    })
        "Per-host token bucket; a fetch beyond it is rate_limited.";
    /// JSON nesting depth limit for documents. Default 32.
    max_json_depth: usize = count(int("max_json_depth", "Max JSON depth", "32", 2, 128, ""))
        "Nesting bound for documents.";
    /// Most elements in any JSON array of a document (e.g. `redirect_uris`). Default 64.
    max_array_items: usize = count(int("max_array_items", "Max array items", "64", 1, 10_000, "items"))
        "Most elements in any array of a document, e.g. redirect_uris.";
}

/// The description of `name`, if it is a key.
pub fn key_spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

/// [`KEYS`] as JSON: `{"keys": [{"name", "title", "type", "default", "min", "max", "unit", "values", "fields",
/// "description"}, ...]}`, with `min`/`max`/`unit` only for integers, `values` only for closed lists and
/// `fields` only for objects. Every front end reads this instead of restating the keys.
pub fn schema_json() -> Value {
    let keys: Vec<Value> = KEYS
        .iter()
        .map(|k| {
            let mut o = Map::new();
            o.insert("name".into(), k.name.into());
            o.insert("title".into(), k.title.into());
            o.insert("type".into(), k.ty.as_str().into());
            o.insert(
                "default".into(),
                serde_json::from_str(k.default).unwrap_or(Value::Null),
            );
            if let Some((min, max)) = k.range {
                o.insert("min".into(), min.into());
                o.insert("max".into(), max.into());
                o.insert("unit".into(), k.unit.into());
            }
            if !k.values.is_empty() {
                o.insert("values".into(), k.values.into());
            }
            if !k.fields.is_empty() {
                let fields: Vec<Value> = k
                    .fields
                    .iter()
                    .map(|f| {
                        let mut fo = Map::new();
                        fo.insert("name".into(), f.name.into());
                        fo.insert("type".into(), f.ty.as_str().into());
                        if let Some((min, max)) = f.range {
                            fo.insert("min".into(), min.into());
                            fo.insert("max".into(), max.into());
                        }
                        fo.insert("description".into(), f.meaning.into());
                        Value::Object(fo)
                    })
                    .collect();
                o.insert("fields".into(), fields.into());
            }
            o.insert("description".into(), k.meaning.into());
            Value::Object(o)
        })
        .collect();
    serde_json::json!({ "keys": keys })
}

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained fetches per minute to one host.
    pub per_minute: u32,
    /// How many fetches may go at once before the sustained rate applies.
    pub burst: u32,
}

impl Default for Config {
    /// The production defaults: every key at the default its [`KEYS`] entry gives.
    fn default() -> Config {
        match Config::from_value(serde_json::Value::Object(serde_json::Map::new())) {
            Ok(config) => config,
            // Unreachable: the defaults in KEYS are checked by the tests to parse; a panic here would be a
            // build that shipped a broken table.
            Err(e) => unreachable!("the defaults of KEYS do not parse: {e}"),
        }
    }
}
/// The name of a JSON value's type, for "expected X, got Y".
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn expected(path: &str, what: &str, got: &Value) -> ConfigError {
    ConfigError::new(path, format!("expected {what}, got {}", type_name(got)))
}

/// The nearest of `candidates` to a mistyped `word`, when it is near enough to be the intended one.
fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let (best, distance) = candidates
        .into_iter()
        .map(|c| (c, edit_distance(word, c)))
        .min_by_key(|&(_, d)| d)?;
    (distance <= (word.len() / 2).max(2)).then_some(best)
}

/// Levenshtein distance over bytes (keys are ASCII), bounded work: both strings are short.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 256 || b.len() > 256 {
        return usize::MAX;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A member name as part of a key path: as it is when it is printable ASCII, quoted otherwise, so that a hostile
/// configuration cannot put control characters into a log line.
fn path_part(name: &str) -> String {
    if name.len() <= 64 && !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()) {
        name.to_owned()
    } else {
        crate::error::quote_bounded(name, 60)
    }
}

/// An unknown top-level key.
fn unknown(name: &str, known: &[&str]) -> ConfigError {
    let reason = match nearest(name, known.iter().copied()) {
        Some(near) => format!("unknown key; did you mean {near}?"),
        None => {
            "unknown key (docs/contract.md §8 lists every key; `cimd config-schema` prints them)".to_owned()
        }
    };
    ConfigError::new(path_part(name), reason)
}

/// Reads an object's members against the names it may have; a missing member is `missing`.
struct Fields<'v> {
    path: String,
    map: &'v Map<String, Value>,
}

impl<'v> Fields<'v> {
    fn new(path: String, value: &'v Value, names: &[&str]) -> Result<Fields<'v>, ConfigError> {
        let map = value
            .as_object()
            .ok_or_else(|| expected(&path, "an object", value))?;
        if let Some(bad) = map.keys().find(|k| !names.contains(&k.as_str())) {
            let field_path = format!("{path}.{}", path_part(bad));
            let hint = match nearest(bad, names.iter().copied()) {
                Some(near) => format!("; did you mean {near}?"),
                None => format!(" ({path} has {})", names.join(", ")),
            };
            return Err(ConfigError::new(field_path, format!("unknown field{hint}")));
        }
        Ok(Fields { path, map })
    }

    fn get(&self, name: &str) -> Result<(String, &'v Value), ConfigError> {
        let path = format!("{}.{name}", self.path);
        match self.map.get(name) {
            Some(v) => Ok((path, v)),
            None => Err(ConfigError::new(path, "missing")),
        }
    }
}

fn flag(spec: &KeySpec, v: &Value) -> Result<bool, ConfigError> {
    v.as_bool().ok_or_else(|| expected(spec.name, "a boolean", v))
}

fn integer(path: &str, v: &Value, (min, max): (u64, u64)) -> Result<u64, ConfigError> {
    let n = match v {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| ConfigError::new(path, format!("{n} is not a whole number in {min}..={max}")))?,
        other => return Err(expected(path, "a whole number", other)),
    };
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(ConfigError::new(path, format!("{n} is outside {min}..={max}")))
    }
}

/// A whole number within the key's range.
fn number(spec: &KeySpec, v: &Value) -> Result<u64, ConfigError> {
    integer(spec.name, v, spec.range.unwrap_or((0, u64::MAX)))
}

fn count(spec: &KeySpec, v: &Value) -> Result<usize, ConfigError> {
    number(spec, v).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

fn millis(spec: &KeySpec, v: &Value) -> Result<Duration, ConfigError> {
    number(spec, v).map(Duration::from_millis)
}

fn seconds(spec: &KeySpec, v: &Value) -> Result<Duration, ConfigError> {
    number(spec, v).map(Duration::from_secs)
}

fn string<'v>(path: &str, v: &'v Value) -> Result<&'v str, ConfigError> {
    v.as_str().ok_or_else(|| expected(path, "a string", v))
}

/// A file path, or `null` for none.
fn file_path(spec: &KeySpec, v: &Value) -> Result<Option<String>, ConfigError> {
    let path = spec.name;
    match v {
        Value::Null => Ok(None),
        v if string(path, v)?.is_empty() => Err(ConfigError::new(path, "must be a file path, not empty")),
        v => Ok(Some(string(path, v)?.to_owned())),
    }
}

/// An array of strings, each 1 to 256 bytes.
fn strings<'v>(path: &str, v: &'v Value) -> Result<Vec<(String, &'v str)>, ConfigError> {
    let items = v
        .as_array()
        .ok_or_else(|| expected(path, "an array of strings", v))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let item_path = format!("{path}[{i}]");
            let s = string(&item_path, item)?;
            if s.is_empty() || s.len() > 256 {
                return Err(ConfigError::new(item_path, "must be 1 to 256 bytes long"));
            }
            Ok((item_path, s))
        })
        .collect()
}

/// [`strings`] that must not be empty.
fn non_empty<'v>(path: &str, v: &'v Value) -> Result<Vec<(String, &'v str)>, ConfigError> {
    let list = strings(path, v)?;
    if list.is_empty() {
        return Err(ConfigError::new(path, "must not be empty"));
    }
    Ok(list)
}

fn owned(list: Vec<(String, &str)>) -> Vec<String> {
    list.into_iter().map(|(_, s)| s.to_owned()).collect()
}

fn non_empty_strings(spec: &KeySpec, v: &Value) -> Result<Vec<String>, ConfigError> {
    non_empty(spec.name, v).map(owned)
}

fn host_patterns(spec: &KeySpec, v: &Value) -> Result<Vec<HostPattern>, ConfigError> {
    strings(spec.name, v)?
        .into_iter()
        .map(|(item_path, s)| HostPattern::parse(s).map_err(|e| ConfigError::new(item_path, e)))
        .collect()
}

fn auth_methods(spec: &KeySpec, v: &Value) -> Result<Vec<String>, ConfigError> {
    let list = non_empty(spec.name, v)?;
    for (item_path, m) in &list {
        if !KNOWN_AUTH_METHODS.contains(m) {
            let shown = crate::error::quote_bounded(m, 60);
            let reason = match nearest(m, KNOWN_AUTH_METHODS) {
                Some(near) => {
                    format!("{shown} is not a token endpoint authentication method; did you mean {near}?")
                }
                None => format!("{shown} is not one of {}", KNOWN_AUTH_METHODS.join(", ")),
            };
            return Err(ConfigError::new(item_path.clone(), reason));
        }
    }
    Ok(owned(list))
}

fn grants(spec: &KeySpec, v: &Value) -> Result<Vec<PrivateNetworkGrant>, ConfigError> {
    let path = spec.name;
    let entries = v
        .as_array()
        .ok_or_else(|| expected(path, "an array of {\"host\": ..., \"cidrs\": [...]} objects", v))?;
    let mut grants = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let fields = Fields::new(format!("{path}[{i}]"), entry, &["host", "cidrs"])?;
        let (host_path, host) = fields.get("host")?;
        let host = match HostPattern::parse(string(&host_path, host)?) {
            Ok(HostPattern::Exact(h)) => h,
            Ok(HostPattern::Subdomains(_)) => {
                return Err(ConfigError::new(
                    host_path,
                    "must be one exact host name, not a pattern",
                ))
            }
            Err(e) => return Err(ConfigError::new(host_path, e)),
        };
        let (cidrs_path, cidrs) = fields.get("cidrs")?;
        let cidrs = strings(&cidrs_path, cidrs)?;
        if cidrs.is_empty() {
            return Err(ConfigError::new(cidrs_path, "must list at least one range"));
        }
        let cidrs = cidrs
            .into_iter()
            .map(|(p, c)| Cidr::parse(c).map_err(|e| ConfigError::new(p, e)))
            .collect::<Result<_, _>>()?;
        grants.push(PrivateNetworkGrant { host, cidrs });
    }
    Ok(grants)
}

fn rate_limit(spec: &KeySpec, v: &Value) -> Result<RateLimit, ConfigError> {
    let names: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
    let fields = Fields::new(spec.name.to_owned(), v, &names)?;
    let field = |name: &str| -> Result<u32, ConfigError> {
        let range = spec
            .fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.range)
            .unwrap_or((1, u64::from(u32::MAX)));
        let (p, v) = fields.get(name)?;
        Ok(u32::try_from(integer(&p, v, range)?).unwrap_or(u32::MAX))
    };
    Ok(RateLimit {
        per_minute: field("per_minute")?,
        burst: field("burst")?,
    })
}

/// The value of one key read by `read`: the given one, or else the key's default.
fn read_key<T>(
    given: &Map<String, Value>,
    spec: &KeySpec,
    read: fn(&KeySpec, &Value) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    match given.get(spec.name) {
        Some(v) => read(spec, v),
        None => {
            let default = serde_json::from_str::<Value>(spec.default).map_err(|e| {
                ConfigError::new(spec.name, format!("the built-in default does not parse: {e}"))
            })?;
            read(spec, &default)
        }
    }
}

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
            .map_err(|e| ConfigError::new("", e.description().replace("document", "configuration")))?;
        Config::from_value(value)
    }

    /// Like [`Config::from_json`], from an already parsed value.
    pub fn from_value(value: Value) -> Result<Config, ConfigError> {
        let Value::Object(given) = value else {
            return Err(ConfigError::new(
                "",
                format!("expected a JSON object, got {}", type_name(&value)),
            ));
        };
        let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        if let Some(bad) = given.keys().find(|k| key_spec(k).is_none()) {
            return Err(unknown(bad, &names));
        }
        let config = Config::read(&given)?;
        if config.min_cache_ttl > config.max_cache_ttl {
            return Err(ConfigError::new(
                "min_cache_ttl_s",
                format!(
                    "{} is greater than max_cache_ttl_s ({})",
                    config.min_cache_ttl.as_secs(),
                    config.max_cache_ttl.as_secs()
                ),
            ));
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
            r#"{"auth_methods_supported": ["client_sekret_basic"]}"#,
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

    fn error(text: &str) -> (String, String) {
        let e = Config::from_json(text).unwrap_err();
        (e.path().to_owned(), e.reason().to_owned())
    }

    #[test]
    fn errors_name_the_key_path_and_say_what_was_expected() {
        for (text, path, reason) in [
            (
                r#"{"allow_loopback": "yes"}"#,
                "allow_loopback",
                "expected a boolean, got a string",
            ),
            (
                r#"{"per_host_rate": {"per_minute": 60}}"#,
                "per_host_rate.burst",
                "missing",
            ),
            (
                r#"{"per_host_rate": {"per_minute": 60, "burst": 0}}"#,
                "per_host_rate.burst",
                "0 is outside 1..=100000",
            ),
            (
                r#"{"per_host_rate": {"per_minute": 60, "burst": 1, "burts": 2}}"#,
                "per_host_rate.burts",
                "unknown field; did you mean burst?",
            ),
            (
                r#"{"per_host_rate": 5}"#,
                "per_host_rate",
                "expected an object, got a number",
            ),
            (
                r#"{"max_document_bytes": 1.5}"#,
                "max_document_bytes",
                "1.5 is not a whole number in 64..=1048576",
            ),
            (
                r#"{"max_document_bytes": -1}"#,
                "max_document_bytes",
                "-1 is not a whole number in 64..=1048576",
            ),
            (
                r#"{"fetch_timeout_ms": "5000"}"#,
                "fetch_timeout_ms",
                "expected a whole number, got a string",
            ),
            (
                r#"{"fetch_timeout_ms": 0}"#,
                "fetch_timeout_ms",
                "0 is outside 1..=120000",
            ),
            (
                r#"{"allowed_hosts": ["a.example", "exa mple.com"]}"#,
                "allowed_hosts[1]",
                "is not a host name",
            ),
            (
                r#"{"allowed_hosts": "a.example"}"#,
                "allowed_hosts",
                "expected an array of strings, got a string",
            ),
            (
                r#"{"denied_hosts": [1]}"#,
                "denied_hosts[0]",
                "expected a string, got a number",
            ),
            (
                r#"{"auth_methods_supported": ["none", "privat_key_jwt"]}"#,
                "auth_methods_supported[1]",
                "did you mean private_key_jwt?",
            ),
            (
                r#"{"auth_methods_supported": []}"#,
                "auth_methods_supported",
                "must not be empty",
            ),
            (
                r#"{"grant_types_supported": [""]}"#,
                "grant_types_supported[0]",
                "1 to 256 bytes",
            ),
            (
                r#"{"private_network_allowlist": [{"host": "a.corp", "cidrs": ["10.0.0.0/8", "10.0.0.1/8"]}]}"#,
                "private_network_allowlist[0].cidrs[1]",
                "host bits",
            ),
            (
                r#"{"private_network_allowlist": [{"host": "*.corp", "cidrs": ["10.0.0.0/8"]}]}"#,
                "private_network_allowlist[0].host",
                "exact host",
            ),
            (
                r#"{"private_network_allowlist": [{"cidrs": ["10.0.0.0/8"]}]}"#,
                "private_network_allowlist[0].host",
                "missing",
            ),
            (
                r#"{"private_network_allowlist": [{"host": "a.corp", "cidrs": []}]}"#,
                "private_network_allowlist[0].cidrs",
                "at least one",
            ),
            (r#"{"extra_ca_file": ""}"#, "extra_ca_file", "not empty"),
            (
                r#"{"min_cache_ttl_s": 100, "max_cache_ttl_s": 10}"#,
                "min_cache_ttl_s",
                "greater than max_cache_ttl_s",
            ),
            (
                r#"{"max_doc_bytes": 4096}"#,
                "max_doc_bytes",
                "unknown key; did you mean max_document_bytes?",
            ),
            (
                r#"{"allow_loopbak": true}"#,
                "allow_loopbak",
                "did you mean allow_loopback?",
            ),
            (
                r#"{"stale_if_eror_s": 1}"#,
                "stale_if_eror_s",
                "did you mean stale_if_error_s?",
            ),
            (
                r#"{"frobnicate": 1}"#,
                "frobnicate",
                "unknown key (docs/contract.md",
            ),
            (r#"[]"#, "", "expected a JSON object, got an array"),
        ] {
            let (p, r) = error(text);
            assert_eq!(p, path, "{text}: {r}");
            assert!(r.contains(reason), "{text}: {r:?} lacks {reason:?}");
            let shown = Config::from_json(text).unwrap_err().to_string();
            if path.is_empty() {
                assert!(shown.starts_with("invalid configuration: "), "{shown}");
            } else {
                assert!(
                    shown.starts_with(&format!("invalid configuration: {path}: ")),
                    "{shown}"
                );
            }
        }
        // A key with control characters is quoted in the path, at the top level and in nested objects (found by
        // the config fuzz target).
        let (p, _) = error("{\"a\\u001b[31m\": 1}");
        assert!(p.starts_with('"') && !p.contains('\u{1b}'), "{p:?}");
        let (p, _) = error(r#"{"private_network_allowlist": [{"ho\t": "*.corp", "cidrs": ["10.0.0.0/8"]}]}"#);
        assert_eq!(p, "private_network_allowlist[0].\"ho\\t\"");
    }

    #[test]
    fn the_host_may_list_every_method_it_supports() {
        let c = Config::from_json(
            r#"{"auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "none", "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"]}"#,
        )
        .unwrap();
        assert_eq!(c.auth_methods_supported.len(), 7);
        assert!(Config::from_json(r#"{"auth_methods_supported": ["client_secret_basic"]}"#).is_ok());
        let (p, r) = error(r#"{"auth_methods_supported": ["none", "password"]}"#);
        assert_eq!(p, "auth_methods_supported[1]");
        assert!(r.contains("is not one of"), "{r}");
    }

    #[test]
    fn the_schema_describes_every_key_once_and_its_defaults_are_the_defaults() {
        let schema = schema_json();
        let keys = schema["keys"].as_array().unwrap();
        assert_eq!(keys.len(), KEYS.len());
        let mut names: Vec<&str> = keys.iter().map(|k| k["name"].as_str().unwrap()).collect();
        names.dedup();
        assert_eq!(names.len(), KEYS.len(), "a key is described twice");
        let mut all = serde_json::Map::new();
        for k in keys {
            let name = k["name"].as_str().unwrap();
            for field in ["title", "type", "description"] {
                assert!(
                    k[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{name}: {field}"
                );
            }
            if k["type"] == "integer" {
                let (min, max) = (k["min"].as_u64().unwrap(), k["max"].as_u64().unwrap());
                let d = k["default"].as_u64().unwrap();
                assert!(min <= d && d <= max, "{name}");
                // The bounds are the bounds: both ends accepted, one past either end refused.
                for ok in [min, max] {
                    let mut one = serde_json::Map::new();
                    one.insert(name.into(), ok.into());
                    if name == "max_cache_ttl_s" && ok < 60 {
                        one.insert("min_cache_ttl_s".into(), 0.into());
                    }
                    if name == "min_cache_ttl_s" && ok > 86400 {
                        one.insert("max_cache_ttl_s".into(), ok.into());
                    }
                    Config::from_value(Value::Object(one)).unwrap_or_else(|e| panic!("{name}={ok}: {e}"));
                }
                for bad in [min.checked_sub(1), max.checked_add(1)].into_iter().flatten() {
                    let e = Config::from_value(serde_json::json!({ name: bad })).unwrap_err();
                    assert_eq!(e.path(), name);
                }
            }
            all.insert(name.into(), k["default"].clone());
        }
        // Every key written out at its documented default is exactly the default configuration.
        let mut explicit = Value::Object(all);
        explicit.as_object_mut().unwrap().retain(|_, v| !v.is_null());
        assert_eq!(Config::from_value(explicit).unwrap(), Config::default());
        assert_eq!(Config::from_json("{}").unwrap(), Config::default());
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
