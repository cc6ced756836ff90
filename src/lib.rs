//! # cimd: OAuth Client ID Metadata Documents, resolved safely
//!
//! In the Client ID Metadata Document scheme (draft-ietf-oauth-client-id-metadata-document, adopted by the MCP
//! authorization spec), a client's `client_id` is an HTTPS URL, and the authorization server fetches the JSON
//! document at that URL and uses it as the client's registration. This crate is the engine that does that for an
//! existing identity server: one data path, with each concern in its own module:
//!
//! client_id URL ([`client_id`]) → host policy ([`config`]) → cache ([`cache`]) → rate limits ([`limits`]) →
//! SSRF-safe fetch ([`fetch`], [`addr`]) → strict JSON ([`json`]) → document validation and auth-method
//! negotiation ([`document`]) → freshness ([`freshness`]) → redirect_uri matching ([`redirect`]) → result
//! ([`result`]).
//!
//! [`Engine`] ties them together. Every front end (the `cimd` CLI, the C ABI in [`ffi`], the Keycloak extension,
//! the Python and Go bindings) is a thin door onto it: the same configuration keys ([`Config`]), the same error
//! codes ([`ErrorCode`]), the same results.
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
pub mod error;
pub mod addr;
pub mod cache;
pub mod client_id;
pub mod config;
pub mod document;
pub mod engine;
pub mod fetch;
pub mod ffi;
#[cfg(feature = "jni")]
pub mod jni;
pub mod json;
pub mod jwks;
pub mod limits;
pub mod redirect;
pub mod result;
pub mod rules;
pub mod tls;
pub mod uri;

pub use client_id::{ClientIdUrl, DisplayHost};
pub use config::{Config, ConfigError};
pub use document::ClientMetadata;
pub use engine::{Engine, EngineBuilder, EntryInfo, Stats};
pub use error::{Error, ErrorCode};
pub use jwks::{JwkSet, KeySource};
pub use result::{Resolution, ResolvedClient, Source};
