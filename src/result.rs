//! What a resolution hands back (docs/contract.md §6, §11.7).
//!
//! A [`ResolvedClient`] is one validated version of one document. It is built once per fetch, serialised to
//! JSON once, and shared (behind an `Arc`) by every caller and every front end until the document changes, so a
//! cache hit costs a reference-count increment, not a serialisation. A [`Resolution`] adds what differs per call:
//! where the answer came from and until when it is fresh.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::client_id::DisplayHost;
use crate::document::ClientMetadata;

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Fetched for this request (or confirmed by a 304).
    Network,
    /// Served from the cache while fresh.
    Cache,
    /// Served from the cache after expiry: during stale-while-revalidate, or stale-if-error after a failure.
    Stale,
    /// Validated from a local file (`cimd lint`); nothing was fetched.
    Local,
}

impl Source {
    /// The contract's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Network => "network",
            Source::Cache => "cache",
            Source::Stale => "stale",
            Source::Local => "local",
        }
    }
}

/// The `client` object of every answer: the registration's fields that are present, plus `display_host`.
#[derive(Debug, Serialize)]
struct Registration {
    #[serde(flatten)]
    metadata: ClientMetadata,
    display_host: DisplayHost,
}

/// A stored version costs its own estimate (the store's byte budget is kept under it).
impl crate::cache::Cost for Arc<ResolvedClient> {
    fn cost(&self) -> usize {
        ResolvedClient::cost(self)
    }
}

/// One validated version of a client's document.
#[derive(Debug)]
pub struct ResolvedClient {
    registration: Registration,
    warnings: Vec<String>,
    changed: Vec<String>,
    fetched_at: SystemTime,
    generation: u64,
    client_json: String,
    document_json: String,
    cost: usize,
}

impl ResolvedClient {
    /// Wraps a validated document. `changed` lists the fields that differ from the previous version, if any.
    pub fn new(
        metadata: ClientMetadata,
        display_host: DisplayHost,
        warnings: Vec<String>,
        changed: Vec<String>,
        fetched_at: SystemTime,
        generation: u64,
        body_len: usize,
    ) -> ResolvedClient {
        let registration = Registration {
            metadata,
            display_host,
        };
        let client_json = serde_json::to_string(&registration).unwrap_or_else(|_| String::from("{}"));
        let document_json = format!(
            "{{\"client\":{client_json},\"warnings\":{},\"changed\":{},\"fetched_at\":\"{}\",\"generation\":{generation}}}",
            json_list(&warnings),
            json_list(&changed),
            rfc3339(fetched_at),
        );
        // Rough resident size: the parsed fields are about the size of their JSON, plus the JSON strings.
        let cost = 512 + body_len + 2 * client_json.len() + document_json.len();
        ResolvedClient {
            registration,
            warnings,
            changed,
            fetched_at,
            generation,
            client_json,
            document_json,
            cost,
        }
    }

    /// The validated metadata.
    pub fn metadata(&self) -> &ClientMetadata {
        &self.registration.metadata
    }

    /// The client_id host as consent screens should show it.
    pub fn display_host(&self) -> &DisplayHost {
        &self.registration.display_host
    }

    /// Warning codes (snake_case), e.g. `localhost_redirects_only`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Fields that changed from the previous version of this client's document (empty for a first fetch).
    pub fn changed(&self) -> &[String] {
        &self.changed
    }

    /// When the document was fetched.
    pub fn fetched_at(&self) -> SystemTime {
        self.fetched_at
    }

    /// Changes only when the document changes; a binding may keep its decoded object while this stays equal.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The `client` object: the metadata fields that are present, plus `display_host`.
    pub fn client_json(&self) -> &str {
        &self.client_json
    }

    /// Everything that belongs to this version, as one JSON object built once:
    /// `{"client": {...}, "warnings": [...], "changed": [...], "fetched_at": "...", "generation": N}`.
    /// Front ends hand these bytes out on every hit and decode them once per generation.
    pub fn document_json(&self) -> &str {
        &self.document_json
    }

    /// Approximate memory held, for the cache's byte budget.
    pub fn cost(&self) -> usize {
        self.cost
    }
}

/// A successful resolution.
#[derive(Clone, Debug)]
pub struct Resolution {
    client: Arc<ResolvedClient>,
    source: Source,
    expires_at: SystemTime,
}

impl Resolution {
    /// Combines a document version with per-call facts.
    pub fn new(client: Arc<ResolvedClient>, source: Source, expires_at: SystemTime) -> Resolution {
        Resolution {
            client,
            source,
            expires_at,
        }
    }

    /// The shared document version.
    pub fn client(&self) -> &Arc<ResolvedClient> {
        &self.client
    }

    /// The validated metadata.
    pub fn metadata(&self) -> &ClientMetadata {
        self.client.metadata()
    }

    /// Where this answer came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// Until when the document is fresh.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The CLI's ok line (docs/contract.md §11.7), without a trailing newline.
    pub fn to_json_line(&self) -> String {
        let c = &self.client;
        let mut line = OkLine::with_capacity(c.client_json.len() + 160);
        line.json("client", &c.client_json)
            .text("source", self.source.as_str())
            .json("warnings", &json_list(&c.warnings))
            .text("fetched_at", &rfc3339(c.fetched_at))
            .text("expires_at", &rfc3339(self.expires_at));
        if !c.changed.is_empty() {
            line.json("changed", &json_list(&c.changed));
        }
        line.end()
    }
}

/// A list of strings as JSON.
fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

/// A front end's one-line answer `{"ok":true,...}`, assembled from parts that are JSON already (a document
/// version's serialisation is made once), so that handing out a cached answer serialises nothing again. The
/// CLI's ok line, the key set line and the JNI bridge's lines are built with it.
pub(crate) struct OkLine(String);

impl OkLine {
    /// `{"ok":true`, with room for `capacity` bytes in all.
    pub(crate) fn with_capacity(capacity: usize) -> OkLine {
        let mut out = String::with_capacity(capacity);
        out.push_str("{\"ok\":true");
        OkLine(out)
    }

    /// Adds `,"name":json`; `json` is JSON text.
    pub(crate) fn json(&mut self, name: &str, json: &str) -> &mut OkLine {
        self.name(name);
        self.0.push_str(json);
        self
    }

    /// Adds `,"name":"text"`, for a text that needs no escaping (a fixed name, a timestamp).
    pub(crate) fn text(&mut self, name: &str, text: &str) -> &mut OkLine {
        self.name(name);
        self.0.push('"');
        self.0.push_str(text);
        self.0.push('"');
        self
    }

    fn name(&mut self, name: &str) {
        self.0.push_str(",\"");
        self.0.push_str(name);
        self.0.push_str("\":");
    }

    /// The finished line, without a trailing newline.
    pub(crate) fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// Formats a time as RFC 3339 in UTC with second precision, e.g. `2026-11-22T01:18:24Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil-from-days algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The registration of a minimal public client on host `c.example`, for unit tests of the modules that hold
/// clients (`ResolvedClient::new(metadata, host, ...)`).
#[cfg(test)]
pub(crate) fn sample_registration(client_id: &str) -> (ClientMetadata, DisplayHost) {
    let metadata = ClientMetadata {
        client_id: client_id.into(),
        redirect_uris: vec!["https://c.example/cb".into()],
        grant_types: vec!["authorization_code".into()],
        response_types: vec!["code".into()],
        token_endpoint_auth_method: "none".into(),
        ..Default::default()
    };
    let host = DisplayHost {
        ascii: "c.example".into(),
        unicode: "c.example".into(),
    };
    (metadata, host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn document_json_is_built_once_and_parses() {
        let (metadata, host) = sample_registration("https://c.example/a.json");
        let c = ResolvedClient::new(
            metadata,
            host,
            vec!["w".into()],
            vec!["scope".into()],
            UNIX_EPOCH,
            7,
            100,
        );
        let v: serde_json::Value = serde_json::from_str(c.document_json()).unwrap();
        assert_eq!(v["client"]["client_id"], "https://c.example/a.json");
        assert_eq!(v["client"]["display_host"]["ascii"], "c.example");
        assert_eq!(v["warnings"], serde_json::json!(["w"]));
        assert_eq!(v["changed"], serde_json::json!(["scope"]));
        assert_eq!(v["fetched_at"], "1970-01-01T00:00:00Z");
        assert_eq!(v["generation"], 7);
        assert!(std::ptr::eq(c.document_json(), c.document_json()));
    }

    #[test]
    fn rfc3339_formats_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_310_304)),
            "2026-11-22T01:18:24Z"
        );
        // Cross-check against the HTTP-date formatter over many days.
        for day in (0..40_000u64).step_by(37) {
            let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 3_723);
            let http = httpdate::fmt_http_date(t);
            let ours = rfc3339(t);
            let parsed = httpdate::parse_http_date(&http).unwrap();
            assert_eq!(parsed, t);
            assert!(ours.ends_with("T01:02:03Z"), "{ours}");
            let (y, rest) = ours.split_once('-').unwrap();
            assert!(http.contains(y), "{http} vs {ours} ({rest})");
        }
    }
}
