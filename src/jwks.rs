//! Client keys for `private_key_jwt` (CIMD §5, RFC 7523): the JWK Set that verifies a client's assertions.
//!
//! A document carries its keys inline (`jwks`) or names a URL (`jwks_uri`). That URL is chosen by the client,
//! so it is fetched exactly like a document: the same SSRF-vetting fetcher (one DNS lookup, special-use
//! addresses refused, connection pinned, no redirects, JSON media types only, `max_document_bytes`, one total
//! deadline), the same per-host limits and the same freshness rules (`Cache-Control`/`Expires` clamped to the
//! TTL bounds, conditional revalidation, stale-if-error for transient failures, eviction on 404/410). The fetched
//! set is validated by [`crate::document::validate_jwks`], which refuses private key members. Hosts such as
//! Keycloak get the keys from here and never fetch a client-chosen URL themselves.
//!
//! This module holds the result type. The sets are kept in the engine's one store ([`crate::cache::Store`]) under
//! the same caching policy as documents, and fetched by the engine ([`crate::Engine::resolve_jwks_blocking`]),
//! the one place that owns the fetcher and the limiter.

use std::sync::Arc;

use crate::result::OkLine;

/// Where a key set came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The document's own `jwks` member.
    Inline,
    /// Fetched from `jwks_uri` for this request (or confirmed by a 304).
    Network,
    /// Served from the key cache while fresh.
    Cache,
    /// Served after expiry because the refresh failed transiently (stale-if-error).
    Stale,
}

impl KeySource {
    /// The contract's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeySource::Inline => "inline",
            KeySource::Network => "network",
            KeySource::Cache => "cache",
            KeySource::Stale => "stale",
        }
    }
}

/// A client's validated JWK Set.
#[derive(Clone, Debug)]
pub struct JwkSet {
    json: Arc<str>,
    source: KeySource,
    jwks_uri: Option<Arc<str>>,
}

impl JwkSet {
    /// A set with its serialisation.
    pub fn new(json: Arc<str>, source: KeySource, jwks_uri: Option<Arc<str>>) -> JwkSet {
        JwkSet {
            json,
            source,
            jwks_uri,
        }
    }

    /// The set as JSON text: `{"keys": [...]}` (public members only).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Where the set came from.
    pub fn source(&self) -> KeySource {
        self.source
    }

    /// The URL it was fetched from, when it was not inline.
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.as_deref()
    }

    /// `{"ok":true,"jwks":{...},"source":"...","jwks_uri":"..."}`, the line front ends hand out.
    pub fn to_json_line(&self) -> String {
        let mut line = OkLine::with_capacity(self.json.len() + 96);
        line.json("jwks", &self.json).text("source", self.source.as_str());
        if let Some(uri) = &self.jwks_uri {
            line.json(
                "jwks_uri",
                &serde_json::to_string(&**uri).unwrap_or_else(|_| "null".into()),
            );
        }
        line.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_embeds_the_set_and_its_origin() {
        let set = JwkSet::new(
            Arc::from(r#"{"keys":[]}"#),
            KeySource::Network,
            Some(Arc::from("https://c.example/jwks.json")),
        );
        let v: serde_json::Value = serde_json::from_str(&set.to_json_line()).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["jwks"]["keys"], serde_json::json!([]));
        assert_eq!(v["source"], "network");
        assert_eq!(v["jwks_uri"], "https://c.example/jwks.json");
        let inline = JwkSet::new(Arc::from(r#"{"keys":[]}"#), KeySource::Inline, None);
        assert!(!inline.to_json_line().contains("jwks_uri"));
    }
}
