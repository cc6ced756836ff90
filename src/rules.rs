//! The rule ids that error descriptions cite, what a client developer does about each, and the warnings as
//! sentences (docs/contract.md §11.10).
//!
//! Every error description names the rule it enforces with an id in parentheses, e.g. "(DOC-02)" or
//! "(URL-06)". The id is part of the sentence rather than a separate field set beside it, so that the sentence
//! and the id can never disagree; [`rule_of`] reads it back. docs/contract.md explains every id, and a test
//! fails when a description cites an id that the contract does not explain.

use crate::error::ErrorCode;

/// The first requirement id a description cites (`URL-06`, `DOC-02`, `AUTH-14`, ...), if any.
pub fn rule_of(description: &str) -> Option<&str> {
    let bytes = description.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_uppercase() {
            i += 1;
        }
        let letters = i - start;
        let boundary = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        if boundary && (2..=5).contains(&letters) && bytes.get(i) == Some(&b'-') {
            let digits_start = i + 1;
            let mut j = digits_start;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            if j - digits_start == 2 {
                if bytes.get(j).is_some_and(|b| b.is_ascii_lowercase()) {
                    j += 1;
                }
                if !bytes.get(j).is_some_and(|b| b.is_ascii_alphanumeric()) {
                    return description.get(start..j);
                }
            }
        }
        i = if i == start { i + 1 } else { i };
    }
    None
}

/// How a client developer fixes a broken rule: specific to the rule where the id says more than the code.
pub fn fix(rule: Option<&str>, code: ErrorCode) -> &'static str {
    let specific = match rule {
        Some("URL-01") => "use an https:// URL, with the scheme in lower case",
        Some("URL-02") => "remove the userinfo (user@ or user:password@) from the URL",
        Some("URL-04" | "URL-05") => "give the URL a path, such as /oauth/client.json",
        Some("URL-06") => "remove . and .. segments (also as %2e) from the path",
        Some("URL-07") => "remove the query: this server accepts no client_id URL with one",
        Some("URL-08") => "remove the fragment (#...), even an empty one",
        Some("URL-09" | "DOC-02") => {
            "set client_id in the document to the exact URL it is served at, byte for byte"
        }
        Some("URL-10") => "shorten the URL to at most 2048 bytes",
        Some("URL-11") => "serve the document at a DNS host name, not an IP address",
        Some("URL-12" | "URL-13") => "remove or percent-encode the character named above",
        Some("DOC-01") => "make the document a JSON object with a string client_id member",
        Some("DOC-03") => {
            "use none (a public client) or private_key_jwt; a metadata document carries no secret"
        }
        Some("DOC-04") => "remove client_secret and client_secret_expires_at",
        Some("DOC-05") => "publish only public keys: remove d, p, q, dp, dq, qi, oth and k",
        Some("DOC-07") => "give the member named above the JSON type RFC 7591 §2 defines for it",
        Some("DOC-08") => "keep either jwks or jwks_uri, not both",
        Some("DOC-09") => "remove control and direction-formatting characters, and use only defined values",
        Some("DOC-10") => "declare at least one grant type and response type this server supports",
        Some("DOC-11") => "make grant_types and response_types agree (code needs authorization_code)",
        Some("DOC-12") => "publish a JWK Set: {\"keys\": [{\"kty\": ...}, ...]}",
        Some("RED-01") => "list at least one redirect URI in redirect_uris",
        Some("RED-02" | "RED-03") => "register the exact redirect URI in redirect_uris",
        Some("RED-05") => {
            "use https, http on 127.0.0.1, [::1] or localhost, or a private-use scheme such as \
             com.example.app:/callback"
        }
        Some("AUTH-02") => "publish the keys for private_key_jwt in jwks or jwks_uri",
        Some("AUTH-10") => "remove the shared-secret methods from token_endpoint_auth_methods_supported",
        Some("AUTH-14") => {
            "add token_endpoint_auth_method to token_endpoint_auth_methods_supported, or drop one of the two"
        }
        Some("SSRF-05") => "publish jwks_uri as an https URL",
        Some("FET-02") => {
            "fix the JSON: UTF-8, no duplicate member names, no trailing commas, within the bounds"
        }
        Some("POL-02") => "this server only accepts clients from the hosts its operator listed",
        _ => "",
    };
    if specific.is_empty() {
        code_fix(code)
    } else {
        specific
    }
}

/// The fix for a code, when the rule says nothing more specific.
fn code_fix(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InvalidClientIdUrl => {
            "publish the document at a plain https URL with a path, no query, fragment, userinfo, dot segments or IP \
             address"
        }
        ErrorCode::HostNotAllowed => "this server only accepts clients from the hosts its operator listed",
        ErrorCode::BlockedAddress => "serve the document from a publicly routable address",
        ErrorCode::DnsError => "check that the host name exists in public DNS",
        ErrorCode::ConnectError => "check that the host accepts HTTPS connections on that port",
        ErrorCode::TlsError => "serve a valid certificate for the host from a publicly trusted CA",
        ErrorCode::Timeout => "the host must answer within the server's time limit (default 5 s)",
        ErrorCode::HttpStatus => "serve the document with status 200 at exactly this URL",
        ErrorCode::RedirectNotFollowed => "serve the document at the client_id URL itself; redirects are not followed",
        ErrorCode::TooLarge => "keep the document small (servers read at most 5 KB by default)",
        ErrorCode::InvalidContentType => "serve it as Content-Type: application/json, without compression",
        ErrorCode::InvalidJson => "fix the JSON: UTF-8, no duplicate member names, no trailing commas",
        ErrorCode::InvalidMetadata => "fix the member named above (RFC 7591 §2 defines the metadata members)",
        ErrorCode::ClientIdMismatch => "set client_id in the document to the exact URL it is served at, byte for byte",
        ErrorCode::ForbiddenMetadata => "remove secrets and private keys; use none or private_key_jwt",
        ErrorCode::UnsupportedAuthMethod => {
            "list a method this server supports (usually none) in token_endpoint_auth_methods_supported"
        }
        ErrorCode::RedirectUriMismatch => "register the exact redirect URI in redirect_uris",
        ErrorCode::RateLimited => "the server is limiting fetches to this host; try again shortly",
        ErrorCode::Internal => "this is a bug in cimd; please report it",
    }
}

/// A warning code as a sentence for people (the codes stay in JSON output). Unknown codes come back as they are.
pub fn warning_sentence(code: &str) -> &str {
    use crate::document::*;
    match code {
        WARN_GRANT_TYPE_FILTERED => "a grant type this server does not support was ignored",
        WARN_RESPONSE_TYPE_FILTERED => "a response type this server does not support was ignored",
        WARN_RESPONSE_TYPE_WITHOUT_GRANT => {
            "a response type was ignored because the grant it needs is not among the effective grant types"
        }
        WARN_GRANT_TYPE_WITHOUT_RESPONSE_TYPE => {
            "a grant type was ignored because no effective response type uses it"
        }
        WARN_LOCALHOST_REDIRECTS_ONLY => {
            "every redirect URI points at the user's own machine, so anyone can present this client_id; a consent \
             screen should say so"
        }
        WARN_DISPLAY_URI_DROPPED => "a client_uri, logo_uri, tos_uri or policy_uri that is not a safe https URL was dropped",
        WARN_CLIENT_NAME_SANITIZED => "client_name was cleaned up (control or direction characters, length) or dropped",
        WARN_SOFTWARE_STATEMENT_IGNORED => "the software_statement was not used: its claims grant nothing",
        WARN_REDIRECT_SCHEME_NOT_REVERSE_DOMAIN => {
            "a redirect URI uses a one-word private-use scheme; a reverse-domain scheme such as com.example.app \
             (RFC 8252 §7.1) cannot be claimed by another app as easily"
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_read_from_descriptions() {
        for (text, want) in [
            ("client_id URL has a dot segment (URL-06)", Some("URL-06")),
            ("x (RED-02, RFC 6749 §3.1.2)", Some("RED-02")),
            ("x (POL-01, AUTH-16)", Some("POL-01")),
            ("URL-01b: upper case", Some("URL-01b")),
            ("AUTH-14 first", Some("AUTH-14")),
            ("no id here (RFC 7591 §2)", None),
            (
                "xURL-06 is not an id, nor URL-6, nor URL-066, nor URL-06X, nor ABCDEF-01",
                None,
            ),
            ("dURL-06", None),
            ("", None),
            ("-", None),
        ] {
            assert_eq!(rule_of(text), want, "{text}");
        }
    }

    #[test]
    fn every_warning_has_a_sentence() {
        for code in crate::document::WARNINGS {
            let s = warning_sentence(code);
            assert_ne!(s, code, "{code}");
            assert!(s.len() > 30 && s.contains(' '), "{code}: {s}");
        }
        assert_eq!(warning_sentence("something_new"), "something_new");
    }

    #[test]
    fn every_code_has_a_fix() {
        for code in ErrorCode::ALL {
            assert!(!fix(None, code).is_empty(), "{code}");
            assert!(!fix(Some("ZZZ-99"), code).is_empty(), "{code}");
        }
        assert_eq!(
            fix(Some("AUTH-14"), ErrorCode::InvalidMetadata),
            "add token_endpoint_auth_method to token_endpoint_auth_methods_supported, or drop one of the two"
        );
    }
}
