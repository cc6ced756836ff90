//! # cimd: OAuth Client ID Metadata Documents, resolved safely
//!
//! In the Client ID Metadata Document scheme (draft-ietf-oauth-client-id-metadata-document, adopted by the MCP
//! authorization spec), a client's `client_id` is an HTTPS URL, and the authorization server fetches the JSON
//! document at that URL and uses it as the client's registration. This crate is the engine that does that for an
//! existing identity server, along one data path with each concern in its own module:
//!
//! client_id URL (`client_id`, read by `uri`) → host policy (`config`) → store (`cache`) → rate limits
//! (`limits`) → SSRF-safe fetch (`fetch`, `addr`, `tls`) → strict JSON (`json`) → document validation and
//! auth-method negotiation (`document`) → lifetime and policy (`cache`) → redirect_uri matching (`redirect`) →
//! result (`result`). The `engine` orchestrates them.
//!
//! The public surface is deliberately small: [`Engine`] and its builder, [`Config`] (with [`config::KEYS`], the
//! one description of every configuration key), the results ([`Resolution`], [`ResolvedClient`], [`JwkSet`]),
//! the errors ([`Error`], [`ErrorCode`], [`ConfigError`]), the rule ids messages cite ([`rules`]), and the C ABI
//! ([`ffi`]). Every front end (the `cimd` CLI, the C ABI, the Keycloak extension, the Python and Go bindings) is a
//! thin door onto it: the same configuration keys, the same error codes, the same results.
//!
//! ```no_run
//! let engine = cimd::Engine::from_json(r#"{"auth_methods_supported": ["none"]}"#).unwrap();
//! match engine.resolve_blocking("https://app.example/client.json", Some("https://app.example/cb"), None) {
//!     Ok(r) => println!("{}", r.to_json_line()),
//!     Err(e) => eprintln!("{}: {}", e.code(), e.description()),
//! }
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod error;
mod addr;
mod cache;
mod client_id;
pub mod config;
mod document;
mod engine;
mod fetch;
pub mod ffi;
#[cfg(feature = "jni")]
mod jni;
mod json;
mod jwks;
mod limits;
mod redirect;
mod result;
pub mod rules;
#[cfg(test)]
mod test_tables;
mod tls;
mod uri;

pub use client_id::DisplayHost;
pub use config::{Config, ConfigError};
pub use document::{ClientMetadata, WARNINGS};
pub use engine::{
    Clock, Engine, EngineBuilder, EntryInfo, FetchResults, Histogram, Resolutions, Stats, SystemClock,
    FETCH_DURATION_BUCKETS_MS,
};
pub use error::{Error, ErrorCode};
pub use fetch::{BoxFuture, Resolver};
pub use jwks::{JwkSet, KeySource};
pub use result::{rfc3339, Resolution, ResolvedClient, Source};

/// The engine's internals, for its own fuzz targets, benchmarks and tests only. Not part of the API: anything
/// here may change in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::addr::{classify, parse_numeric_host, AddressPolicy};
    pub use crate::cache::freshness::{freshness, parse_http_date, CacheHeaders, Freshness};
    pub use crate::client_id::{ClientIdUrl, UrlRules, MAX_CLIENT_ID_LEN};
    pub use crate::document::{validate, validate_all, DocumentPolicy};
    pub use crate::json::{parse_strict, JsonLimits};
    pub use crate::redirect::{check_redirect_uri, is_loopback_redirect, redirect_uri_matches};
}
