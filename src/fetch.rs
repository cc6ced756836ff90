//! The SSRF-safe fetcher (docs/contract.md §2; requirements FET-*, SSRF-*, SIZE-01).
//!
//! The metadata URL is chosen by a stranger, so every step is defensive:
//!
//! * The host name is resolved exactly once, by [`VettingResolver`], which classifies every answer against the
//!   IANA special-purpose registries ([`crate::addr`]) and fails closed if any address is special-use. The HTTP
//!   client connects only to the addresses that resolver returned (there is no second lookup a rebinding DNS
//!   server could answer differently), and the connected peer is checked again after the response arrives.
//! * No environment proxy, no redirects (one request, whatever the status), no retries, no cookies, no
//!   decompression (a `Content-Encoding` is an error), HTTP/1.1 only, a byte cap enforced while reading (with or
//!   without `Content-Length`) and one total deadline from the DNS lookup to the last body byte.
//! * TLS is rustls with the platform's roots plus an optional extra PEM file.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};

use crate::addr::AddressPolicy;
use crate::cache::{CacheHeaders, Validators};
use crate::config::{Config, ConfigError};
use crate::error::Error;
use crate::uri::FetchTarget;

/// A boxed future, as returned by [`Resolver::lookup`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Name resolution, replaceable so that tests can answer with stub addresses (and so that a DNS-rebinding
/// resolver can be simulated without any real DNS).
pub trait Resolver: Send + Sync + 'static {
    /// All addresses for `host`. An empty list is treated as "no such host".
    fn lookup(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver (getaddrinfo through tokio's blocking pool).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn lookup(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// The resolver handed to the HTTP client: resolve once, vet every answer, return only vetted addresses.
struct VettingResolver {
    inner: Arc<dyn Resolver>,
    policy: AddressPolicy,
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let lookup = self.inner.lookup(&host);
        let policy = self.policy.clone();
        Box::pin(async move {
            let ips = match lookup.await {
                Ok(ips) if !ips.is_empty() => ips,
                Ok(_) => {
                    return Err(boxed(crate::err!(
                        DnsError,
                        "host {host} has no addresses (FET-05)"
                    )));
                }
                Err(e) => {
                    return Err(boxed(crate::err!(
                        DnsError,
                        "host {host} could not be resolved: {e} (FET-05)"
                    )));
                }
            };
            // Fail closed: one special-use answer blocks the host, even if another answer is public.
            for ip in &ips {
                policy.vet(&host, *ip).map_err(boxed)?;
            }
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

fn boxed(e: Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}

/// The caching headers of a response, kept for the cache's lifetime computation.
#[derive(Clone, Debug, Default)]
pub struct ResponseMeta {
    /// Every `Cache-Control` header value.
    pub cache_control: Vec<String>,
    /// `Expires`.
    pub expires: Option<String>,
    /// `Age`.
    pub age: Option<String>,
    /// `Date`.
    pub date: Option<String>,
    /// New validators for the next revalidation.
    pub validators: Validators,
}

impl ResponseMeta {
    /// The caching headers, as the cache reads them.
    pub fn cache_headers(&self) -> CacheHeaders<'_> {
        CacheHeaders {
            cache_control: self.cache_control.iter().map(String::as_str).collect(),
            expires: self.expires.as_deref(),
            age: self.age.as_deref(),
            date: self.date.as_deref(),
        }
    }
}

/// A successful fetch.
#[derive(Debug)]
pub enum Fetched {
    /// Status 200 with an acceptable body.
    Document {
        /// The body, at most `max_document_bytes`.
        body: Vec<u8>,
        /// Caching headers.
        meta: ResponseMeta,
    },
    /// Status 304 in answer to our own conditional request: the cached document is still valid.
    NotModified {
        /// Caching headers of the 304.
        meta: ResponseMeta,
    },
}

/// A failed fetch: the error, and the status when the host answered (what the cache policy decides on,
/// docs/contract.md §4).
#[derive(Clone, Debug)]
pub struct FetchFailure {
    /// The error for the caller.
    pub error: Error,
    /// The status, when the host answered.
    pub status: Option<u16>,
}

impl FetchFailure {
    fn new(error: Error) -> FetchFailure {
        FetchFailure { error, status: None }
    }
}

impl From<Error> for FetchFailure {
    fn from(error: Error) -> FetchFailure {
        FetchFailure::new(error)
    }
}

/// An HTTP client configured for metadata fetches. Cheap to share; bound to the tokio runtime it was built in.
pub struct Fetcher {
    client: reqwest::Client,
    policy: AddressPolicy,
    max_bytes: usize,
    fetch_timeout: Duration,
    connect_timeout: Duration,
}

impl Fetcher {
    /// Builds the client. Must be called inside the tokio runtime that will drive it.
    pub fn new(
        config: &Config,
        tls: rustls::ClientConfig,
        resolver: Arc<dyn Resolver>,
    ) -> Result<Fetcher, ConfigError> {
        let policy = AddressPolicy::from_config(config);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(VettingResolver {
                inner: resolver,
                policy: policy.clone(),
            }))
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .referer(false)
            .http1_only()
            .https_only(true)
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(2)
            .user_agent(concat!(
                "cimd/",
                env!("CARGO_PKG_VERSION"),
                " (client metadata fetcher)"
            ))
            .build()
            .map_err(|e| ConfigError::new("", format!("HTTP client set-up failed: {e}")))?;
        Ok(Fetcher {
            client,
            policy,
            max_bytes: config.max_document_bytes,
            fetch_timeout: config.fetch_timeout,
            connect_timeout: config.connect_timeout,
        })
    }

    /// One GET of `target`, conditional when `validators` are given. `deadline` shortens the configured
    /// `fetch_timeout_ms` (never lengthens it).
    pub async fn fetch(
        &self,
        target: &FetchTarget,
        validators: Option<&Validators>,
        deadline: Instant,
    ) -> Result<Fetched, FetchFailure> {
        self.vet_literal(target)?;
        let limit = self
            .fetch_timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        match tokio::time::timeout(limit, self.fetch_inner(target, validators)).await {
            Ok(result) => result,
            Err(_) => Err(FetchFailure::new(crate::err!(
                Timeout,
                "fetching {} did not complete within {} ms (FET-05)",
                target.url(),
                limit.as_millis()
            ))),
        }
    }

    /// A host written as an address is never resolved, so the vetting resolver never sees it: it is vetted
    /// here, before any connection (and before the engine counts a fetch or takes a rate-limit token).
    pub(crate) fn vet_literal(&self, target: &FetchTarget) -> Result<(), Error> {
        match target.ip() {
            Some(ip) => self.policy.vet(target.host(), ip),
            None => Ok(()),
        }
    }

    async fn fetch_inner(
        &self,
        target: &FetchTarget,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchFailure> {
        let mut request = self
            .client
            .get(target.url().clone())
            .header(ACCEPT, "application/json");
        let conditional = validators.is_some_and(|v| !v.is_empty());
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(reqwest::header::IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = request.send().await.map_err(|e| self.classify(&e, target))?;

        // The connection went to an address our resolver vetted; check the peer once more anyway, so that no
        // future change in the HTTP stack (a pool keyed differently, a happy-eyeballs fallback) can bypass it.
        let peer = response.remote_addr();
        match peer {
            Some(p) => self.policy.vet(target.host(), p.ip())?,
            None => {
                return Err(crate::err!(
                Internal,
                "the HTTP stack did not report the connected address for {}; refusing to trust the response",
                target.host()
            )
                .into())
            }
        }

        let status = response.status().as_u16();
        let headers = response.headers();
        let meta = response_meta(headers);
        if status == 304 && conditional {
            return Ok(Fetched::NotModified { meta });
        }
        if (300..400).contains(&status) && status != 304 {
            return Err(FetchFailure {
                error: crate::err!(
                    RedirectNotFollowed,
                    "{} answered {status} (a redirect{}); redirects are never followed (FET-04)",
                    target.url(),
                    headers
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(|l| format!(" to {}", truncate(l, 200)))
                        .unwrap_or_default()
                ),
                status: Some(status),
            });
        }
        if status != 200 {
            let reason = response.status().canonical_reason().unwrap_or("");
            let why = if status == 304 {
                " (an unsolicited 304: no conditional request was sent)"
            } else {
                ""
            };
            return Err(FetchFailure {
                error: crate::err!(
                    HttpStatus,
                    "{} answered {status} {reason}{why}; only 200 is a document (FET-01)",
                    target.url()
                ),
                status: Some(status),
            });
        }
        check_content_type(headers)?;
        if let Some(len) = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
        {
            if len > self.max_bytes as u64 {
                return Err(too_large(self.max_bytes, &format!("Content-Length is {len}")).into());
            }
        }
        let mut body = Vec::with_capacity(1024.min(self.max_bytes));
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > self.max_bytes {
                        return Err(too_large(self.max_bytes, "the body is longer").into());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(self.classify(&e, target)),
            }
        }
        Ok(Fetched::Document { body, meta })
    }

    /// Maps a client error to the contract's codes, finding our own errors (DNS, blocked address) and TLS
    /// errors in the source chain.
    fn classify(&self, e: &reqwest::Error, target: &FetchTarget) -> FetchFailure {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        let mut tls: Option<String> = None;
        let mut io_kind: Option<io::ErrorKind> = None;
        while let Some(s) = source {
            if let Some(ours) = s.downcast_ref::<Error>() {
                return FetchFailure::new(ours.clone());
            }
            if let Some(t) = s.downcast_ref::<rustls::Error>() {
                tls.get_or_insert_with(|| t.to_string());
            }
            // io::Error's source() skips the error it wraps, and TLS errors arrive as io::Errors nested in
            // io::Errors: unwrap them by hand.
            let mut inner = s.downcast_ref::<io::Error>();
            while let Some(ioe) = inner {
                if ioe.kind() != io::ErrorKind::Other {
                    io_kind.get_or_insert(ioe.kind());
                }
                let wrapped = ioe.get_ref();
                if let Some(t) = wrapped.and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    tls.get_or_insert_with(|| t.to_string());
                }
                inner = wrapped.and_then(|i| i.downcast_ref::<io::Error>());
            }
            source = s.source();
        }
        let url = target.url();
        let host = target.host();
        let error = if let Some(t) = tls {
            crate::err!(TlsError, "TLS with {} failed: {t} (FET-05)", host)
        } else if e.is_timeout() {
            if e.is_connect() {
                crate::err!(
                    Timeout,
                    "connecting to {} did not complete within connect_timeout_ms ({} ms) (FET-05)",
                    host,
                    self.connect_timeout.as_millis()
                )
            } else {
                crate::err!(Timeout, "fetching {url} timed out (FET-05)")
            }
        } else if e.is_connect() {
            match io_kind {
                Some(io::ErrorKind::ConnectionRefused) => {
                    crate::err!(ConnectError, "connection to {} was refused (FET-05)", host)
                }
                Some(io::ErrorKind::InvalidData) => {
                    crate::err!(
                        TlsError,
                        "TLS with {} failed: the peer does not speak TLS (FET-05)",
                        host
                    )
                }
                _ => crate::err!(
                    ConnectError,
                    "connecting to {} failed: {} (FET-05)",
                    host,
                    chain(e)
                ),
            }
        } else if e.is_body() || e.is_request() {
            crate::err!(
                ConnectError,
                "the connection to {} failed before the full response arrived: {} (FET-05)",
                host,
                chain(e)
            )
        } else {
            crate::err!(ConnectError, "fetching {url} failed: {} (FET-05)", chain(e))
        };
        FetchFailure::new(error)
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    truncate(&out, 300).to_owned()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn too_large(max: usize, what: &str) -> Error {
    crate::err!(
        TooLarge,
        "the document exceeds max_document_bytes ({max} bytes): {what} (SIZE-01)"
    )
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn response_meta(headers: &HeaderMap) -> ResponseMeta {
    ResponseMeta {
        cache_control: headers
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect(),
        expires: header_string(headers, "expires"),
        age: header_string(headers, "age"),
        date: header_string(headers, "date"),
        validators: Validators {
            etag: header_string(headers, "etag"),
            last_modified: header_string(headers, "last-modified"),
        },
    }
}

/// `application/json` or `application/<anything>+json`, optional parameters, a charset only if UTF-8, and no
/// content coding (docs/contract.md §2, FET-02).
pub fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let encodings: Vec<&str> = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("identity"))
        .collect();
    if !encodings.is_empty() {
        return Err(crate::err!(
            InvalidContentType,
            "the response has Content-Encoding {}; cimd never decompresses documents (SIZE-01)",
            encodings.join(", ")
        ));
    }
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(crate::err!(
            InvalidContentType,
            "the response must have exactly one Content-Type, application/json (FET-02)"
        ));
    };
    let value = value.to_str().map_err(|_| {
        crate::err!(
            InvalidContentType,
            "the Content-Type header is not readable text (FET-02)"
        )
    })?;
    media_type_is_json(value)
}

/// The media-type rule on one header value.
pub fn media_type_is_json(value: &str) -> Result<(), Error> {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let ok_type = match essence.split_once('/') {
        Some(("application", sub)) => {
            sub == "json" || (sub.len() > 5 && sub.ends_with("+json") && !sub.contains(char::is_whitespace))
        }
        _ => false,
    };
    if !ok_type {
        return Err(crate::err!(
            InvalidContentType,
            "Content-Type {:?} is not application/json or application/*+json (FET-02)",
            truncate(value, 100)
        ));
    }
    for param in parts {
        let Some((name, val)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            let val = val.trim().trim_matches('"');
            if !val.eq_ignore_ascii_case("utf-8") && !val.eq_ignore_ascii_case("utf8") {
                return Err(crate::err!(
                    InvalidContentType,
                    "Content-Type charset {val:?} is not UTF-8; JSON documents must be UTF-8 (RFC 8259 §8.1)"
                ));
            }
        }
    }
    Ok(())
}

// The loopback HTTPS origin and throwaway PKI of the integration tests (network safety: loopback only).
#[cfg(test)]
#[path = "../tests/support/mod.rs"]
mod test_support;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    use super::test_support as support;

    /// Answers every name with 127.0.0.1.
    struct Loopback;

    impl Resolver for Loopback {
        fn lookup(&self, _host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
            Box::pin(async { Ok(vec![IpAddr::from([127, 0, 0, 1])]) })
        }
    }

    /// G2 (docs/contract.md §2): the address the connection actually reached is vetted again after the request,
    /// with the fetcher's own policy. No resolver stub can make the HTTP stack connect to an address the vetting
    /// resolver refused, so this test gives the two checks different policies: the resolver's lets loopback
    /// through, the peer check's is the production one. The request reaches the loopback origin and its answer
    /// is still refused as blocked_address; with equal policies the same fetch succeeds.
    #[test]
    fn g2_the_connected_peer_is_vetted_again_after_connect() {
        let pki = support::TestPki::new(&["peer.example"]);
        let server = support::Server::start(pki.server_config());
        let id = crate::client_id::ClientIdUrl::parse(
            &server.url("peer.example", "/doc.json"),
            &Default::default(),
        )
        .unwrap();
        let target = FetchTarget::client_id(&id);
        server.route(
            "/doc.json",
            vec![support::Reply::json(br#"{"client_id": "x"}"#.to_vec())],
        );
        let lenient = Config {
            allow_loopback: true,
            ..Config::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let fetch = |fetcher: &Fetcher| {
            let deadline = Instant::now() + Duration::from_secs(10);
            runtime.block_on(fetcher.fetch(&target, None, deadline))
        };

        let mut fetcher = Fetcher::new(&lenient, (*pki.client_config()).clone(), Arc::new(Loopback)).unwrap();
        assert!(matches!(fetch(&fetcher), Ok(Fetched::Document { .. })));
        assert_eq!(server.hits("/doc.json"), 1);

        fetcher.policy = AddressPolicy::from_config(&Config::default());
        let failure = fetch(&fetcher).unwrap_err();
        assert_eq!(
            failure.error.code(),
            ErrorCode::BlockedAddress,
            "{}",
            failure.error
        );
        assert!(
            failure.error.description().contains("127.0.0.1"),
            "{}",
            failure.error
        );
        // The request did reach the origin: the refusal came from the re-check, not from the resolver.
        assert_eq!(server.hits("/doc.json"), 2);
    }

    #[test]
    fn fet_02_json_media_types() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "application/x+json",
            "application/vnd.conformance+json; charset=utf-8",
            "application/jwk-set+json",
        ] {
            assert!(media_type_is_json(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "text/json",
            "application/xml",
            "text/html; charset=utf-8",
            "application/json; charset=iso-8859-1",
            "application/+json",
            "application/jsonx",
            "application",
            "json",
        ] {
            let e = media_type_is_json(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidContentType, "{bad}");
        }
    }

    #[test]
    fn content_encoding_is_rejected_identity_allowed() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(check_content_type(&h).is_ok());
        h.insert(CONTENT_ENCODING, "identity".parse().unwrap());
        assert!(check_content_type(&h).is_ok());
        h.insert(CONTENT_ENCODING, "gzip".parse().unwrap());
        assert_eq!(
            check_content_type(&h).unwrap_err().code(),
            ErrorCode::InvalidContentType
        );
        let mut none = HeaderMap::new();
        assert_eq!(
            check_content_type(&none).unwrap_err().code(),
            ErrorCode::InvalidContentType
        );
        none.append(CONTENT_TYPE, "application/json".parse().unwrap());
        none.append(CONTENT_TYPE, "text/html".parse().unwrap());
        assert_eq!(
            check_content_type(&none).unwrap_err().code(),
            ErrorCode::InvalidContentType
        );
    }
}
