//! Error codes shared by every front end (docs/contract.md §7).
//!
//! An [`Error`] is a stable machine-readable [`ErrorCode`] plus a sentence that names the broken rule and,
//! where one applies, its requirement id (for example "client_id URL has a dot segment (URL-06)"). The code
//! decides what the identity server does; the description is for the person reading the log or the error page.

use std::fmt;
use std::sync::Arc;

/// Why a client_id was not resolved. The string forms are a public contract: they appear in the CLI's JSON
/// lines, the C ABI, the bindings and the Keycloak error pages, and are never renamed within a major version.
/// Codes are only ever added (docs/contract.md §7), so a `match` outside this crate needs a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The client_id breaks a URL rule; nothing was fetched.
    InvalidClientIdUrl,
    /// `allowed_hosts` / `denied_hosts` policy refused the host.
    HostNotAllowed,
    /// The host resolves to a special-use address.
    BlockedAddress,
    /// The host name could not be resolved.
    DnsError,
    /// The TCP connection failed (refused, unreachable, reset before a response).
    ConnectError,
    /// The TLS handshake failed (untrusted, expired or mismatched certificate, protocol error).
    TlsError,
    /// A connect or total fetch deadline passed.
    Timeout,
    /// The host answered with a status other than 200.
    HttpStatus,
    /// The host answered with a redirect, which is never followed.
    RedirectNotFollowed,
    /// The body exceeds `max_document_bytes`.
    TooLarge,
    /// Not a JSON media type, a non-UTF-8 charset, or a content encoding.
    InvalidContentType,
    /// Not UTF-8 JSON, duplicate member names, too deep or too large.
    InvalidJson,
    /// The document's structure or field values are invalid.
    InvalidMetadata,
    /// The document's `client_id` differs from the requested URL.
    ClientIdMismatch,
    /// Secrets, private keys or shared-secret authentication.
    ForbiddenMetadata,
    /// No token endpoint authentication method in common with the host.
    UnsupportedAuthMethod,
    /// The request's redirect_uri is not registered.
    RedirectUriMismatch,
    /// The engine's own concurrency or rate limits refused the fetch.
    RateLimited,
    /// A bug in cimd. Never a panic across a boundary.
    Internal,
}

impl ErrorCode {
    /// Every code, in the order of docs/contract.md §7.
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::InvalidClientIdUrl,
        ErrorCode::HostNotAllowed,
        ErrorCode::BlockedAddress,
        ErrorCode::DnsError,
        ErrorCode::ConnectError,
        ErrorCode::TlsError,
        ErrorCode::Timeout,
        ErrorCode::HttpStatus,
        ErrorCode::RedirectNotFollowed,
        ErrorCode::TooLarge,
        ErrorCode::InvalidContentType,
        ErrorCode::InvalidJson,
        ErrorCode::InvalidMetadata,
        ErrorCode::ClientIdMismatch,
        ErrorCode::ForbiddenMetadata,
        ErrorCode::UnsupportedAuthMethod,
        ErrorCode::RedirectUriMismatch,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ];

    /// The stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidClientIdUrl => "invalid_client_id_url",
            ErrorCode::HostNotAllowed => "host_not_allowed",
            ErrorCode::BlockedAddress => "blocked_address",
            ErrorCode::DnsError => "dns_error",
            ErrorCode::ConnectError => "connect_error",
            ErrorCode::TlsError => "tls_error",
            ErrorCode::Timeout => "timeout",
            ErrorCode::HttpStatus => "http_status",
            ErrorCode::RedirectNotFollowed => "redirect_not_followed",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::InvalidContentType => "invalid_content_type",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidMetadata => "invalid_metadata",
            ErrorCode::ClientIdMismatch => "client_id_mismatch",
            ErrorCode::ForbiddenMetadata => "forbidden_metadata",
            ErrorCode::UnsupportedAuthMethod => "unsupported_auth_method",
            ErrorCode::RedirectUriMismatch => "redirect_uri_mismatch",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
        }
    }

    /// Parses the snake_case name.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// The OAuth 2.0 error a host should return for this code (docs/contract.md §7). No method in common is
    /// `unauthorized_client` (draft -03 §6, AUTH-16): the client is known, it just cannot authenticate here.
    pub const fn oauth_error(self) -> &'static str {
        match self {
            ErrorCode::UnsupportedAuthMethod => "unauthorized_client",
            ErrorCode::RedirectUriMismatch => "invalid_request",
            ErrorCode::RateLimited => "temporarily_unavailable",
            ErrorCode::Internal => "server_error",
            _ => "invalid_client",
        }
    }

    /// True for failures that say nothing about the client and may pass: a host can answer
    /// `temporarily_unavailable` instead of `invalid_client`.
    pub const fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::DnsError
                | ErrorCode::ConnectError
                | ErrorCode::TlsError
                | ErrorCode::Timeout
                | ErrorCode::RateLimited
                | ErrorCode::Internal
        )
    }

    /// True when the failure happens before any connection to the metadata host.
    pub const fn is_pre_network(self) -> bool {
        matches!(
            self,
            ErrorCode::InvalidClientIdUrl | ErrorCode::HostNotAllowed | ErrorCode::BlockedAddress
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resolution failure: a stable code and a description naming the rule.
///
/// Cheap to clone (the description is shared), because one failed fetch is handed to every caller that was
/// waiting for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    description: Arc<str>,
}

impl Error {
    /// A new error with a description that names the rule (and its requirement id).
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Error {
        Error {
            code,
            description: Arc::from(description.into()),
        }
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable sentence.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The OAuth 2.0 error for the host.
    pub fn oauth_error(&self) -> &'static str {
        self.code.oauth_error()
    }

    /// The requirement id the description cites (`DOC-02`, `URL-06`, ...; docs/contract.md explains each).
    pub fn rule(&self) -> Option<&str> {
        crate::rules::rule_of(&self.description)
    }

    /// What a client developer does about it.
    pub fn fix(&self) -> &'static str {
        crate::rules::fix(self.rule(), self.code)
    }

    /// One finding of `cimd lint` as a JSON object, members in this order: `error`, `error_description`,
    /// `rule` (`null` when the description cites none) and `fix`.
    pub fn finding_json(&self) -> String {
        let text = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        format!(
            "{{\"error\":\"{}\",\"error_description\":{},\"rule\":{},\"fix\":{}}}",
            self.code.as_str(),
            text(&self.description),
            self.rule().map_or_else(|| "null".to_owned(), text),
            text(self.fix())
        )
    }

    /// The error line of `cimd lint` (docs/contract.md §11.10), without a trailing newline: the first finding as
    /// `error` and `error_description`, and every finding in `findings`.
    pub fn lint_json_line(findings: &[Error]) -> String {
        let Some(first) = findings.first() else {
            return String::new();
        };
        let all: Vec<String> = findings.iter().map(Error::finding_json).collect();
        let line = first.to_json_line();
        format!("{},\"findings\":[{}]}}", &line[..line.len() - 1], all.join(","))
    }

    /// The CLI's error line (docs/contract.md §11.8), without a trailing newline:
    /// `{"ok":false,"error":"<code>","error_description":"<text>"}`.
    pub fn to_json_line(&self) -> String {
        let description = serde_json::to_string(&*self.description).unwrap_or_else(|_| "\"\"".into());
        format!(
            "{{\"ok\":false,\"error\":\"{}\",\"error_description\":{description}}}",
            self.code.as_str()
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for Error {}

/// Quotes untrusted text for an error description: escaped like a Rust string literal (no control character
/// reaches a log or an error page) and cut after `max_chars` characters, with an ellipsis when cut.
pub(crate) fn quote_bounded(text: &str, max_chars: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max_chars).collect();
    if chars.next().is_some() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

/// Shorthand for building an [`Error`] with `format!` arguments.
#[macro_export]
#[doc(hidden)]
macro_rules! err {
    ($code:ident, $($arg:tt)*) => {
        $crate::error::Error::new($crate::error::ErrorCode::$code, format!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()));
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
        }
        assert_eq!(seen.len(), 19);
        assert_eq!(ErrorCode::from_name("nope"), None);
    }

    #[test]
    fn every_code_maps_to_its_oauth_error() {
        use ErrorCode::*;
        let table = [
            (InvalidClientIdUrl, "invalid_client"),
            (HostNotAllowed, "invalid_client"),
            (BlockedAddress, "invalid_client"),
            (DnsError, "invalid_client"),
            (ConnectError, "invalid_client"),
            (TlsError, "invalid_client"),
            (Timeout, "invalid_client"),
            (HttpStatus, "invalid_client"),
            (RedirectNotFollowed, "invalid_client"),
            (TooLarge, "invalid_client"),
            (InvalidContentType, "invalid_client"),
            (InvalidJson, "invalid_client"),
            (InvalidMetadata, "invalid_client"),
            (ClientIdMismatch, "invalid_client"),
            (ForbiddenMetadata, "invalid_client"),
            (UnsupportedAuthMethod, "unauthorized_client"),
            (RedirectUriMismatch, "invalid_request"),
            (RateLimited, "temporarily_unavailable"),
            (Internal, "server_error"),
        ];
        assert_eq!(table.len(), ErrorCode::ALL.len());
        for (code, oauth) in table {
            assert_eq!(code.oauth_error(), oauth, "{code}");
        }
        let transient: Vec<_> = ErrorCode::ALL.iter().filter(|c| c.is_transient()).collect();
        assert_eq!(
            transient,
            [
                &DnsError,
                &ConnectError,
                &TlsError,
                &Timeout,
                &RateLimited,
                &Internal
            ]
        );
    }

    #[test]
    fn oauth_errors_follow_contract_7() {
        assert_eq!(ErrorCode::RedirectUriMismatch.oauth_error(), "invalid_request");
        assert_eq!(ErrorCode::RateLimited.oauth_error(), "temporarily_unavailable");
        assert_eq!(ErrorCode::Internal.oauth_error(), "server_error");
        assert_eq!(ErrorCode::BlockedAddress.oauth_error(), "invalid_client");
        assert_eq!(ErrorCode::ClientIdMismatch.oauth_error(), "invalid_client");
    }

    #[test]
    fn error_line_has_the_contract_shape() {
        let e = err!(InvalidJson, "bad \"quote\" and \u{1} control");
        let line = e.to_json_line();
        assert!(
            line.starts_with("{\"ok\":false,\"error\":\"invalid_json\""),
            "{line}"
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error_description"], "bad \"quote\" and \u{1} control");
    }

    #[test]
    fn quoting_escapes_and_bounds() {
        assert_eq!(quote_bounded("a\u{1}b", 10), "\"a\\u{1}b\"");
        assert_eq!(quote_bounded("abcdef", 3), "\"abc\"…");
        assert_eq!(quote_bounded("äöü", 3), "\"äöü\"");
    }

    #[test]
    fn display_reads_as_code_and_sentence() {
        let e = err!(
            InvalidClientIdUrl,
            "client_id URL has a dot segment (URL-{:02})",
            6
        );
        assert_eq!(
            e.to_string(),
            "invalid_client_id_url: client_id URL has a dot segment (URL-06)"
        );
        assert_eq!(e.code(), ErrorCode::InvalidClientIdUrl);
    }
}
