//! Client ID Metadata Document validation (docs/contract.md §3, §6, §11).
//!
//! [`validate`] takes the body that the fetcher has already read (status, content type and size are checked
//! before it) and turns it into a [`ClientMetadata`] that a host can trust, or an [`Error`] whose code says
//! which rule failed. It is a pure function: it never touches the network, so `cimd lint` and `cimd resolve`
//! apply exactly the same rules. [`validate_all`] runs the same stages but keeps going after a broken rule, so
//! that `cimd lint` can report every finding of a document at once; its first finding is always the error
//! [`validate`] returns, because both walk one code path and differ only in what a [`Findings`] does with a
//! broken rule.
//!
//! The checks run in the order of docs/contract.md §11.1, because that order decides the error a caller sees
//! when several rules fail:
//!
//! 1. JSON intake (`invalid_json`): strict parsing, duplicate members, depth and size limits.
//! 2. Structure (`invalid_metadata`): an object, a string `client_id`, the JSON types of every known member,
//!    and the shape of every URI the engine could act on (`redirect_uris`, `post_logout_redirect_uris`,
//!    `jwks_uri`, `jwks`).
//! 3. `client_id` byte equality with the requested URL (`client_id_mismatch`, DOC-02).
//! 4. Forbidden members (`forbidden_metadata`, DOC-03/04/05, AUTH-10): shared secrets, in the singular method
//!    and anywhere in the plural list, and private keys.
//! 5. Grant and response type filtering (unsupported values are dropped with a warning).
//! 6. Authentication methods (draft -03 §6): the singular method must be one of the plural list
//!    (`invalid_metadata`, AUTH-14), then negotiation against the host (`unsupported_auth_method`, AUTH-13,
//!    AUTH-15, POL-01).
//! 7. `private_key_jwt` needs keys (`invalid_metadata`).
//! 8. `redirect_uris` are required when the effective grant types include `authorization_code`
//!    (`invalid_metadata`, RED-01, RED-04).
//!
//! Tolerance is deliberate and one-sided: members the engine only *shows* (the display fields) are repaired or
//! dropped with a warning, because a bad logo URL is no reason to lock a client out; members the engine *acts on*
//! (redirects, keys, auth methods) are rejected when wrong, because guessing there is how an attacker wins.
//!
//! Decisions this module takes where the brief and the specs leave room:
//! - A display field of the wrong JSON type (or `null`) is dropped with its warning, like an unsafe value;
//!   every other known member of the wrong JSON type, `null` included, is `invalid_metadata` naming it.
//! - `client_id`, `scope`, `contacts`, `software_id`, `software_version` and `software_statement` must be free of
//!   control and bidi characters (`invalid_metadata`), rather than silently edited. `scope` must use RFC 6749
//!   §3.3 characters (spaces between tokens are not counted).
//! - A `software_statement` is never used (AUTH-11): it is checked to be a plain string, then left out of the
//!   result with the `software_statement_ignored` warning, so that no host can mistake its unverified claims for
//!   the registration.
//! - URIs (redirect, post-logout, `jwks_uri`, display) are at most 2048 bytes of printable ASCII with none of the
//!   characters RFC 3986 excludes; `http`/`https` must be written in lower case; hosts are letters, digits,
//!   `-`, `.`, `_` or a bracketed IPv6 literal (no percent-encoding); an explicit port is 1 to 65535.
//! - `application_type` other than `web` or `native` is `invalid_metadata`.
//! - `private_key_jwt` with a `jwks` whose `keys` is empty counts as having no keys.
//! - Empty or sanitised-away `client_name` is dropped with `client_name_sanitized`.

use std::net::Ipv6Addr;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::Error;
use crate::json::{parse_strict, JsonLimits};
use crate::redirect::is_loopback_redirect;
use crate::uri::{self, split_scheme};

/// Warning: a `grant_types` entry the host does not support was dropped.
pub const WARN_GRANT_TYPE_FILTERED: &str = "grant_type_filtered";
/// Warning: a `response_types` entry the host does not support was dropped.
pub const WARN_RESPONSE_TYPE_FILTERED: &str = "response_type_filtered";
/// Warning: a `response_types` entry was dropped because the effective `grant_types` lack the grant it needs
/// (`code` needs `authorization_code`; `token` and `id_token` need `implicit`; RFC 7591 §2.1).
pub const WARN_RESPONSE_TYPE_WITHOUT_GRANT: &str = "response_type_without_grant";
/// Warning: `authorization_code` or `implicit` was dropped from `grant_types` because no effective response type
/// uses it (RFC 7591 §2.1).
pub const WARN_GRANT_TYPE_WITHOUT_RESPONSE_TYPE: &str = "grant_type_without_response_type";
/// Warning: every redirect URI points at the user's own machine, so anyone can present this client_id with a
/// redirect they control locally (MCP 2025-11-25 asks the AS to warn about such clients).
pub const WARN_LOCALHOST_REDIRECTS_ONLY: &str = "localhost_redirects_only";
/// Warning: a `client_uri`, `logo_uri`, `tos_uri` or `policy_uri` was not a safe https URL and was dropped.
pub const WARN_DISPLAY_URI_DROPPED: &str = "display_uri_dropped";
/// Warning: `client_name` was changed (control or bidi characters removed, trimmed, shortened) or dropped.
pub const WARN_CLIENT_NAME_SANITIZED: &str = "client_name_sanitized";
/// Warning: the document has a `software_statement`, which the engine never uses (draft -03 §4.1, AUTH-11).
pub const WARN_SOFTWARE_STATEMENT_IGNORED: &str = "software_statement_ignored";
/// Warning: a redirect URI uses a one-word private-use scheme (`mcpjam://...`) rather than the reverse-domain
/// form RFC 8252 §7.1 recommends (`com.example.app:/cb`), so another app on the device may claim it too.
pub const WARN_REDIRECT_SCHEME_NOT_REVERSE_DOMAIN: &str = "redirect_scheme_not_reverse_domain";

/// Every warning a document can raise, in the order the checks raise them.
pub const WARNINGS: [&str; 9] = [
    WARN_CLIENT_NAME_SANITIZED,
    WARN_DISPLAY_URI_DROPPED,
    WARN_REDIRECT_SCHEME_NOT_REVERSE_DOMAIN,
    WARN_SOFTWARE_STATEMENT_IGNORED,
    WARN_GRANT_TYPE_FILTERED,
    WARN_RESPONSE_TYPE_FILTERED,
    WARN_RESPONSE_TYPE_WITHOUT_GRANT,
    WARN_GRANT_TYPE_WITHOUT_RESPONSE_TYPE,
    WARN_LOCALHOST_REDIRECTS_ONLY,
];

/// Shared-secret token endpoint authentication methods: a CIMD client has no secret (CIMD §4.1, DOC-03).
const SHARED_SECRET_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];
/// JWK members that only exist in private or symmetric keys (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037).
const PRIVATE_KEY_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// Longest URI accepted anywhere in a document, the same bound as for the client_id itself (docs/contract.md §1).
const MAX_URI_BYTES: usize = 2048;
/// Longest `client_name` kept, in characters: enough for any real product name, short enough for a consent page.
const MAX_CLIENT_NAME_CHARS: usize = 200;
/// How much of a document-supplied value an error description quotes.
const MAX_SHOWN_CHARS: usize = 120;
/// The grant type that needs registered redirect URIs (docs/contract.md §11.6).
const AUTHORIZATION_CODE: &str = "authorization_code";
/// The implicit grant (RFC 6749 §4.2), which the `token` and `id_token` response types need.
const IMPLICIT: &str = "implicit";
/// The method that needs the client's public keys.
const PRIVATE_KEY_JWT: &str = "private_key_jwt";

/// Whether a member of [`ClientMetadata`] is left out of its serialisation: an `Option` that is `None` is (absent
/// members are omitted, never `null`); a required member never is.
trait Absent {
    fn is_absent(&self) -> bool {
        false
    }
}

impl<T> Absent for Option<T> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl Absent for String {}

impl<T> Absent for Vec<T> {}

/// Declares a serialisable struct every member of which is skipped when it is [`Absent`]: the one rule "omitted,
/// never `null`" written once rather than as an attribute on each optional member.
macro_rules! omitting_absent_members {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$member_meta:meta])* pub $member:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[$member_meta])*
                #[serde(skip_serializing_if = "Absent::is_absent")]
                pub $member: $ty,
            )*
        }
    };
}

omitting_absent_members! {
    /// The validated client registration (docs/contract.md §6 fields).
    ///
    /// It serialises (serde) to the `client` object of the CLI ok line (docs/contract.md §11.7): absent fields are
    /// omitted, never `null`, so consumers can tell "not declared" from "declared empty" without a null check.
    #[derive(Clone, Debug, Default, PartialEq, Serialize)]
    pub struct ClientMetadata {
        /// The client identifier URL, byte-identical to the requested one (DOC-02).
        pub client_id: String,
        /// The display name, sanitised for safe rendering (control and bidi characters removed, at most 200
        /// characters); absent if missing, not a string or empty after sanitising.
        pub client_name: Option<String>,
        /// Home page; only an absolute https URL is kept (SSRF-05).
        pub client_uri: Option<String>,
        /// Logo; only an absolute https URL is kept, so a consent page never renders `javascript:` or `data:`.
        pub logo_uri: Option<String>,
        /// Terms of service; only an absolute https URL is kept.
        pub tos_uri: Option<String>,
        /// Privacy policy; only an absolute https URL is kept.
        pub policy_uri: Option<String>,
        /// The registered redirect URIs, exactly as written (they are matched byte for byte). Always present;
        /// empty only when no redirect-based grant type is effective (RED-04).
        pub redirect_uris: Vec<String>,
        /// The effective grant types: the declared ones (or the RFC 7591 default) that the host supports,
        /// duplicates removed, in document order.
        pub grant_types: Vec<String>,
        /// The effective response types, built like `grant_types`.
        pub response_types: Vec<String>,
        /// The EFFECTIVE, negotiated token endpoint authentication method (not necessarily the declared one):
        /// the host must enforce this on every token request (AUTH-01).
        pub token_endpoint_auth_method: String,
        /// The client's public keys, kept even when the negotiated method does not use them.
        pub jwks: Option<Value>,
        /// Where the client's public keys are published (https only; fetched under the same SSRF rules).
        pub jwks_uri: Option<String>,
        /// The scope the client asks for by default (RFC 6749 §3.3 characters).
        pub scope: Option<String>,
        /// `web` or `native`.
        pub application_type: Option<String>,
        /// Contacts for the people responsible for the client.
        pub contacts: Option<Vec<String>>,
        /// Identifier of the client software.
        pub software_id: Option<String>,
        /// Version of the client software.
        pub software_version: Option<String>,
        /// Where the client may be sent after logout; same shape rules as `redirect_uris`.
        pub post_logout_redirect_uris: Option<Vec<String>>,
    }
}

/// A document that passed every rule, with the warnings a host should log or show.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidatedDocument {
    /// The registration the host may use.
    pub metadata: ClientMetadata,
    /// snake_case warning codes (the `WARN_*` constants), deduplicated, in the order the checks raised them.
    pub warnings: Vec<String>,
}

/// What the host supports, and the JSON limits for documents. Borrowed from [`Config`] so that validating a
/// document allocates nothing for the policy.
pub struct DocumentPolicy<'a> {
    /// Token endpoint authentication methods the host accepts (never a shared-secret method).
    pub auth_methods_supported: &'a [String],
    /// Grant types the host accepts; others are filtered out of documents.
    pub grant_types_supported: &'a [String],
    /// Response types the host accepts; others are filtered out of documents.
    pub response_types_supported: &'a [String],
    /// Bounds for JSON intake (depth, array length, object size).
    pub limits: JsonLimits,
}

impl<'a> DocumentPolicy<'a> {
    /// Most members in one JSON object. Fixed rather than configurable: the known members number about twenty
    /// and a JWK has under twenty, so 256 leaves room for any extension while bounding hash-map work.
    pub const MAX_OBJECT_MEMBERS: usize = 256;

    /// The policy of an engine configuration.
    pub fn from_config(c: &'a Config) -> Self {
        DocumentPolicy {
            auth_methods_supported: &c.auth_methods_supported,
            grant_types_supported: &c.grant_types_supported,
            response_types_supported: &c.response_types_supported,
            limits: JsonLimits {
                max_depth: c.max_json_depth,
                max_array_items: c.max_array_items,
                max_object_members: Self::MAX_OBJECT_MEMBERS,
            },
        }
    }
}

/// Where the validation stages send a broken rule: `cimd resolve` and every host stop at the first one, `cimd
/// lint` collects every one. Both walk the same stages in the same order, so the first finding of a collecting
/// run is exactly the error of a stopping run (docs/contract.md §11.10).
#[derive(Debug, Default)]
pub struct Findings {
    collect: bool,
    found: Vec<Error>,
}

impl Findings {
    /// Stop at the first broken rule (resolution).
    pub fn first_only() -> Findings {
        Findings::default()
    }

    /// Record every broken rule and go on where the document still allows it (lint).
    pub fn every() -> Findings {
        Findings {
            collect: true,
            found: Vec::new(),
        }
    }

    /// Records a broken rule. When stopping at the first, the rule comes back as the error that ends the
    /// validation; when collecting, validation goes on.
    pub fn report(&mut self, e: Error) -> Result<(), Error> {
        if self.collect {
            self.found.push(e);
            Ok(())
        } else {
            Err(e)
        }
    }

    /// The value of a check, or `None` once its error is reported.
    fn keep<T>(&mut self, result: Result<T, Error>) -> Result<Option<T>, Error> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) => self.report(e).map(|()| None),
        }
    }

    /// The value of a stage that may end the run, recording its error unless it is one already recorded (a
    /// collecting run's stage returns its first finding when it cannot hand back a value).
    pub fn absorb<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                if !self.found.contains(&e) {
                    self.found.push(e);
                }
                None
            }
        }
    }

    /// True when a collecting run has recorded something.
    pub fn any(&self) -> bool {
        !self.found.is_empty()
    }

    /// What was recorded, in the order of docs/contract.md §11.1.
    pub fn into_errors(self) -> Vec<Error> {
        self.found
    }
}

/// A known member after the structure stage: absent, present with a usable value, or broken (its error was
/// reported). Later stages skip the rules that depend on a broken member, so that one mistake in a document is
/// reported once, not again as a consequence ("redirect_uris missing" after "redirect_uris[0] is not a URI").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member<T> {
    Absent,
    Present(T),
    Broken,
}

impl<T> Member<T> {
    fn from_checked(checked: Option<Option<T>>) -> Member<T> {
        match checked {
            None => Member::Broken,
            Some(None) => Member::Absent,
            Some(Some(v)) => Member::Present(v),
        }
    }

    fn value(&self) -> Option<&T> {
        match self {
            Member::Present(v) => Some(v),
            _ => None,
        }
    }

    fn is_absent(&self) -> bool {
        matches!(self, Member::Absent)
    }

    fn is_broken(&self) -> bool {
        matches!(self, Member::Broken)
    }
}

/// Validates a fetched body for the requested `client_id` (the raw URL string, which is also the fetched URL:
/// redirects are never followed).
///
/// Returns the effective registration and its warnings, or the first failing rule in docs/contract.md §11.1
/// order.
pub fn validate(body: &[u8], client_id: &str, policy: &DocumentPolicy) -> Result<ValidatedDocument, Error> {
    validate_reporting(body, client_id, policy, &mut Findings::first_only())
}

/// Like [`validate`], but reports every broken rule of the document (at least one on failure), in the order of
/// docs/contract.md §11.1; the first is the error [`validate`] returns. For `cimd lint`.
pub fn validate_all(
    body: &[u8],
    client_id: &str,
    policy: &DocumentPolicy,
) -> Result<ValidatedDocument, Vec<Error>> {
    let mut findings = Findings::every();
    match validate_reporting(body, client_id, policy, &mut findings) {
        Ok(doc) => Ok(doc),
        Err(e) if !findings.any() => Err(vec![e]),
        Err(_) => Err(findings.into_errors()),
    }
}

/// The stages, reporting each broken rule to `f`. JSON intake and a body that is not an object end the run in
/// both modes: nothing after them can be read.
pub fn validate_reporting(
    body: &[u8],
    client_id: &str,
    policy: &DocumentPolicy,
    f: &mut Findings,
) -> Result<ValidatedDocument, Error> {
    let value = parse_strict(body, &policy.limits)?;
    let obj = match &value {
        Value::Object(obj) => obj,
        other => {
            return Err(err!(
                InvalidMetadata,
                "the document is a JSON {}, not a JSON object (DOC-01, FET-02)",
                kind(other)
            ))
        }
    };
    let mut warnings = Warnings::default();
    let doc = Structure::read(obj, &mut warnings, f)?;

    if let Some(document_id) = doc.client_id {
        if document_id.as_bytes() != client_id.as_bytes() {
            f.report(err!(
                ClientIdMismatch,
                "document client_id {} does not equal the requested client_id {} byte for byte (DOC-02)",
                shown(document_id),
                shown(client_id)
            ))?;
        }
    }

    check_forbidden(obj, &doc, f)?;

    let types_usable = !doc.grant_types.is_broken() && !doc.response_types.is_broken();
    let types = if types_usable {
        let grant_types = f.keep(filter_types(
            "grant_types",
            doc.grant_types.value().map(Vec::as_slice),
            AUTHORIZATION_CODE,
            policy.grant_types_supported,
            WARN_GRANT_TYPE_FILTERED,
            &mut warnings,
        ))?;
        let response_types = f.keep(filter_types(
            "response_types",
            doc.response_types.value().map(Vec::as_slice),
            "code",
            policy.response_types_supported,
            WARN_RESPONSE_TYPE_FILTERED,
            &mut warnings,
        ))?;
        match (grant_types, response_types) {
            (Some(g), Some(r)) => f.keep(reconcile_types(
                g,
                r,
                !doc.response_types.is_absent(),
                &mut warnings,
            ))?,
            _ => None,
        }
    } else {
        None
    };

    let singular = doc.auth_method.value().copied();
    let plural = doc.auth_methods.value().map(Vec::as_slice);
    // A shared-secret method was reported as forbidden above; negotiating around it would only report the same
    // mistake again as "nothing in common".
    let secret_declared = singular.is_some_and(is_shared_secret)
        || plural.is_some_and(|l| l.iter().any(|m| is_shared_secret(m)));
    let method = if doc.auth_method.is_broken() || doc.auth_methods.is_broken() {
        None
    } else {
        f.keep(check_consistent(singular, plural))?;
        if secret_declared {
            None
        } else {
            f.keep(negotiate(singular, plural, policy.auth_methods_supported))?
        }
    };

    if method == Some(PRIVATE_KEY_JWT) && !doc.jwks.is_broken() && !doc.jwks_uri.is_broken() {
        let has_keys =
            !doc.jwks_uri.is_absent() || doc.jwks.value().is_some_and(|(_, keys)| !keys.is_empty());
        if !has_keys {
            f.report(err!(
                InvalidMetadata,
                "the negotiated token_endpoint_auth_method is private_key_jwt, but the document publishes no key to \
                 verify client assertions with (no jwks_uri, and no jwks or an empty jwks.keys) (AUTH-02)"
            ))?;
        }
    }

    let redirect_uris = doc.redirect_uris.value().cloned().unwrap_or_default();
    if let Some((grant_types, _)) = &types {
        if !doc.redirect_uris.is_broken()
            && redirect_uris.is_empty()
            && grant_types.iter().any(|g| g == AUTHORIZATION_CODE)
        {
            f.report(err!(
                InvalidMetadata,
                "redirect_uris is {}, but the effective grant_types include authorization_code, which needs at \
                 least one registered redirect URI (RED-01)",
                if doc.redirect_uris.is_absent() { "missing" } else { "empty" }
            ))?;
        }
    }
    if !redirect_uris.is_empty() && redirect_uris.iter().all(|u| is_loopback_redirect(u)) {
        warnings.push(WARN_LOCALHOST_REDIRECTS_ONLY);
    }

    // Collecting: a run that recorded something has no document to return. Stopping: every report above
    // already returned, so the values below are all there.
    let (Some(client_id), Some((grant_types, response_types)), Some(method)) = (doc.client_id, types, method)
    else {
        return Err(f.found.first().cloned().unwrap_or_else(|| {
            err!(
                Internal,
                "document validation ended without a result or a finding"
            )
        }));
    };
    if f.any() {
        return Err(f.found[0].clone());
    }

    let metadata = ClientMetadata {
        client_id: client_id.to_owned(),
        client_name: doc.client_name,
        client_uri: owned(doc.client_uri),
        logo_uri: owned(doc.logo_uri),
        tos_uri: owned(doc.tos_uri),
        policy_uri: owned(doc.policy_uri),
        redirect_uris: owned_list(redirect_uris),
        grant_types,
        response_types,
        token_endpoint_auth_method: method.to_owned(),
        jwks: doc.jwks.value().map(|(v, _)| (*v).clone()),
        jwks_uri: owned(doc.jwks_uri.value().copied()),
        scope: owned(doc.scope),
        application_type: owned(doc.application_type),
        contacts: doc.contacts.map(owned_list),
        software_id: owned(doc.software_id),
        software_version: owned(doc.software_version),
        post_logout_redirect_uris: doc.post_logout_redirect_uris.map(owned_list),
    };
    Ok(ValidatedDocument {
        metadata,
        warnings: warnings.0.into_iter().map(str::to_owned).collect(),
    })
}

/// Validates a JWK Set fetched from a document's `jwks_uri`.
///
/// The private-key ban (DOC-05) applies to fetched keys too: a client that publishes its private key has
/// leaked it, and accepting assertions signed with it would let anyone impersonate the client. Checks run in
/// the §11.1 order: JSON intake, then shape (`{"keys": [...]}` of objects with a string `kty`), then private
/// members (`forbidden_metadata`). Returns the set unchanged.
pub fn validate_jwks(body: &[u8], policy: &DocumentPolicy) -> Result<Value, Error> {
    let value = parse_strict(body, &policy.limits)?;
    let keys = jwks_keys("the JWK Set from jwks_uri", &value)?;
    check_private_keys("the JWK Set from jwks_uri", keys)?;
    Ok(value)
}

/// Warning codes in first-raised order, without duplicates. A handful at most, so a linear scan beats hashing.
#[derive(Default)]
struct Warnings(Vec<&'static str>);

impl Warnings {
    fn push(&mut self, code: &'static str) {
        if !self.0.contains(&code) {
            self.0.push(code);
        }
    }
}

/// The document's members after the structure stage, borrowed from the parsed value. `client_id` is `None`
/// when it was missing or broken (reported).
struct Structure<'a> {
    client_id: Option<&'a str>,
    client_name: Option<String>,
    client_uri: Option<&'a str>,
    logo_uri: Option<&'a str>,
    tos_uri: Option<&'a str>,
    policy_uri: Option<&'a str>,
    redirect_uris: Member<Vec<&'a str>>,
    post_logout_redirect_uris: Option<Vec<&'a str>>,
    grant_types: Member<Vec<&'a str>>,
    response_types: Member<Vec<&'a str>>,
    auth_method: Member<&'a str>,
    auth_methods: Member<Vec<&'a str>>,
    /// The whole `jwks` value and its `keys` array.
    jwks: Member<(&'a Value, &'a [Value])>,
    jwks_uri: Member<&'a str>,
    scope: Option<&'a str>,
    application_type: Option<&'a str>,
    contacts: Option<Vec<&'a str>>,
    software_id: Option<&'a str>,
    software_version: Option<&'a str>,
}

impl<'a> Structure<'a> {
    /// The structure stage: JSON types and shapes of every known member, in a fixed order so the reported
    /// error is deterministic. Display fields never fail here; they are repaired or dropped with a warning.
    fn read(
        obj: &'a Map<String, Value>,
        warnings: &mut Warnings,
        f: &mut Findings,
    ) -> Result<Structure<'a>, Error> {
        let client_id = f.keep(match obj.get("client_id") {
            None => Err(err!(
                InvalidMetadata,
                "the document has no client_id member; CIMD §4 requires it (DOC-01)"
            )),
            Some(Value::String(s)) => check_plain("client_id", s).map(|()| s.as_str()),
            Some(other) => Err(err!(
                InvalidMetadata,
                "the document's client_id is a JSON {}, not a string (DOC-01)",
                kind(other)
            )),
        })?;

        let redirect_uris = redirect_list(obj, "redirect_uris", warnings, f)?;
        let post_logout_redirect_uris = redirect_list(obj, "post_logout_redirect_uris", warnings, f)?;
        let grant_types = Member::from_checked(f.keep(str_list(obj, "grant_types"))?);
        let response_types = Member::from_checked(f.keep(str_list(obj, "response_types"))?);
        let auth_method = Member::from_checked(f.keep(opt_str(obj, "token_endpoint_auth_method"))?);
        let auth_methods =
            Member::from_checked(f.keep(str_list(obj, "token_endpoint_auth_methods_supported"))?);

        let jwks = Member::from_checked(f.keep(match obj.get("jwks") {
            None => Ok(None),
            Some(v) => jwks_keys("the document's jwks", v).map(|keys| Some((v, keys))),
        })?);
        let jwks_uri = Member::from_checked(f.keep(opt_str(obj, "jwks_uri").and_then(|uri| match uri {
            Some(uri) => match check_https_url(uri, false) {
                Ok(()) => Ok(Some(uri)),
                Err(why) => Err(err!(
                    InvalidMetadata,
                    "jwks_uri {} is not an acceptable https URL: it {why}; keys are only fetched over https \
                     (SSRF-05)",
                    shown(uri)
                )),
            },
            None => Ok(None),
        }))?);
        if obj.contains_key("jwks") && obj.contains_key("jwks_uri") {
            f.report(err!(
                InvalidMetadata,
                "the document has both jwks and jwks_uri; RFC 7591 §2 makes them mutually exclusive, so which keys \
                 count would be ambiguous (DOC-08)"
            ))?;
        }

        let scope = f
            .keep(opt_str(obj, "scope").and_then(|scope| {
                match scope.and_then(|s| s.bytes().find(|&b| !(b == b' ' || is_nqchar(b)))) {
                    Some(b) => Err(err!(
                        InvalidMetadata,
                        "scope contains the byte 0x{b:02X}, which RFC 6749 §3.3 does not allow in a scope token (DOC-09)"
                    )),
                    None => Ok(scope),
                }
            }))?
            .flatten();
        let application_type = f
            .keep(opt_str(obj, "application_type").and_then(|t| match t {
                Some(t) if t != "web" && t != "native" => Err(err!(
                    InvalidMetadata,
                    "application_type is {}, but only \"web\" and \"native\" are defined (DOC-09, \
                     OpenID Connect Registration §2)",
                    shown(t)
                )),
                t => Ok(t),
            }))?
            .flatten();
        let contacts = f
            .keep(str_list(obj, "contacts").and_then(|list| {
                for (i, c) in list.iter().flatten().enumerate() {
                    check_plain(&format!("contacts[{i}]"), c)?;
                }
                Ok(list)
            }))?
            .flatten();
        let mut plain = |key: &str| -> Result<Option<&'a str>, Error> {
            let value = opt_str(obj, key).and_then(|v| match v {
                Some(v) => check_plain(key, v).map(|()| Some(v)),
                None => Ok(None),
            });
            Ok(f.keep(value)?.flatten())
        };
        let software_id = plain("software_id")?;
        let software_version = plain("software_version")?;
        if plain("software_statement")?.is_some() {
            warnings.push(WARN_SOFTWARE_STATEMENT_IGNORED);
        }

        let client_name = match obj.get("client_name") {
            None => None,
            Some(Value::String(raw)) => {
                let clean = sanitize_name(raw);
                if clean.is_empty() || clean != *raw {
                    warnings.push(WARN_CLIENT_NAME_SANITIZED);
                }
                Some(clean).filter(|n| !n.is_empty())
            }
            Some(_) => {
                warnings.push(WARN_CLIENT_NAME_SANITIZED);
                None
            }
        };
        let mut display = |key: &str| -> Option<&'a str> {
            match obj.get(key) {
                None => None,
                Some(Value::String(s)) if check_https_url(s, true).is_ok() => Some(s.as_str()),
                Some(_) => {
                    warnings.push(WARN_DISPLAY_URI_DROPPED);
                    None
                }
            }
        };
        let client_uri = display("client_uri");
        let logo_uri = display("logo_uri");
        let tos_uri = display("tos_uri");
        let policy_uri = display("policy_uri");

        Ok(Structure {
            client_id,
            client_name,
            client_uri,
            logo_uri,
            tos_uri,
            policy_uri,
            redirect_uris,
            post_logout_redirect_uris: post_logout_redirect_uris.value().cloned(),
            grant_types,
            response_types,
            auth_method,
            auth_methods,
            jwks,
            jwks_uri,
            scope,
            application_type,
            contacts,
            software_id,
            software_version,
        })
    }
}

/// The forbidden-members stage (DOC-03, DOC-04, DOC-05, AUTH-10). Runs after the client_id check, so a copied
/// document at the wrong URL reports the mismatch first, and before negotiation, so a shared-secret method is
/// reported as what it is whatever the host supports (docs/contract.md §11.1).
fn check_forbidden(obj: &Map<String, Value>, doc: &Structure, f: &mut Findings) -> Result<(), Error> {
    for key in ["client_secret", "client_secret_expires_at"] {
        if obj.contains_key(key) {
            f.report(err!(
                ForbiddenMetadata,
                "the document has a {key} member (any value, even empty, 0 or null); a client metadata document is \
                 public and must carry no shared secret (DOC-04)"
            ))?;
        }
    }
    if let Some(m) = doc.auth_method.value() {
        if is_shared_secret(m) {
            f.report(err!(
                ForbiddenMetadata,
                "token_endpoint_auth_method is {m}, a shared-secret method; a client identified by a metadata \
                 document has no secret (DOC-03)"
            ))?;
        }
    }
    if let Some(list) = doc.auth_methods.value() {
        let secrets: Vec<&str> = list.iter().copied().filter(|m| is_shared_secret(m)).collect();
        if !secrets.is_empty() {
            f.report(err!(
                ForbiddenMetadata,
                "token_endpoint_auth_methods_supported lists {}, shared-secret {}; draft -03 §4.1 forbids them in \
                 the list as in the singular, because a client identified by a metadata document has no secret \
                 (AUTH-10)",
                shown_list(&secrets),
                if secrets.len() == 1 { "method" } else { "methods" }
            ))?;
        }
    }
    if let Some((_, keys)) = doc.jwks.value() {
        f.keep(check_private_keys("the document's jwks", keys))?;
    }
    Ok(())
}

/// DOC-05: no key in the set may carry private or symmetric key material. The message names the member and
/// the key, never the value (it is a secret, and errors end up in logs).
fn check_private_keys(what: &str, keys: &[Value]) -> Result<(), Error> {
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key.as_object() else { continue };
        if let Some(member) = PRIVATE_KEY_MEMBERS.iter().find(|m| key.contains_key(**m)) {
            let kty = key.get("kty").and_then(Value::as_str).unwrap_or("");
            let kid = match key.get("kid").and_then(Value::as_str) {
                Some(kid) => format!(", kid {}", shown(kid)),
                None => String::new(),
            };
            return Err(err!(
                ForbiddenMetadata,
                "{what}: key {i} (kty {}{kid}) has the private key member \"{member}\"; only public keys may be \
                 published (DOC-05)",
                shown(kty)
            ));
        }
    }
    Ok(())
}

/// The shape of a JWK Set: an object whose `keys` is an array of objects, each with a string `kty`.
fn jwks_keys<'v>(what: &str, v: &'v Value) -> Result<&'v [Value], Error> {
    let obj = v.as_object().ok_or_else(|| {
        err!(
            InvalidMetadata,
            "{what} is a JSON {}, not a JWK Set object (DOC-12, RFC 7517 §5)",
            kind(v)
        )
    })?;
    let keys = match obj.get("keys") {
        Some(Value::Array(keys)) => keys,
        Some(other) => {
            return Err(err!(
                InvalidMetadata,
                "{what}: \"keys\" is a JSON {}, not an array (DOC-12, RFC 7517 §5)",
                kind(other)
            ))
        }
        None => {
            return Err(err!(
                InvalidMetadata,
                "{what} has no \"keys\" member (DOC-12, RFC 7517 §5)"
            ))
        }
    };
    for (i, key) in keys.iter().enumerate() {
        match key.as_object().map(|k| k.get("kty")) {
            None => {
                return Err(err!(
                    InvalidMetadata,
                    "{what}: key {i} is a JSON {}, not a JWK object (DOC-12, RFC 7517 §4)",
                    kind(key)
                ))
            }
            Some(Some(Value::String(_))) => {}
            Some(_) => {
                return Err(err!(
                    InvalidMetadata,
                    "{what}: key {i} has no string \"kty\" member (DOC-12, RFC 7517 §4.1)"
                ))
            }
        }
    }
    Ok(keys)
}

/// Keeps the declared (or default) values the host supports, in document order, without duplicates.
fn filter_types(
    field: &str,
    declared: Option<&[&str]>,
    default: &'static str,
    supported: &[String],
    warning: &'static str,
    warnings: &mut Warnings,
) -> Result<Vec<String>, Error> {
    let defaults = [default];
    let items = declared.unwrap_or(&defaults);
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for &item in items {
        if !supported.iter().any(|s| s == item) {
            warnings.push(warning);
        } else if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    // A declared empty response_types is a client that uses no authorization-endpoint flow (e.g. only
    // client_credentials); whether that is consistent with its grant_types is reconcile_types' question.
    let empty_by_choice = field == "response_types" && items.is_empty();
    if out.is_empty() && !empty_by_choice {
        return Err(err!(
            InvalidMetadata,
            "no usable {field} remain: the document {} {}, and the host supports {:?} (DOC-10, RFC 7591 §2)",
            if declared.is_some() {
                "declares"
            } else {
                "declares none, so the RFC 7591 default applies:"
            },
            shown_list(items),
            supported
        ));
    }
    Ok(out)
}

/// The grant a component of a response type needs (RFC 7591 §2.1; OAuth 2.0 Multiple Response Types for the
/// combined forms such as `code id_token`). Components the table does not name need none.
fn grant_for(component: &str) -> Option<&'static str> {
    match component {
        "code" => Some(AUTHORIZATION_CODE),
        "token" | "id_token" => Some(IMPLICIT),
        _ => None,
    }
}

/// RFC 7591 §2.1: `grant_types` and `response_types` must be consistent. Applied to the effective (filtered)
/// lists, in the spirit of docs/contract.md §3: what cannot be used is dropped with a warning, and the document
/// fails only when nothing consistent remains. A response type whose grant is missing is dropped; then
/// `authorization_code` and `implicit` are dropped when no remaining response type uses them. The RFC 7591
/// default `response_types` (`["code"]`) applies only when `authorization_code` is a grant: a document that
/// declares neither, e.g. `client_credentials` alone, uses no response type at all.
fn reconcile_types(
    grants: Vec<String>,
    responses: Vec<String>,
    responses_declared: bool,
    warnings: &mut Warnings,
) -> Result<(Vec<String>, Vec<String>), Error> {
    let needs_missing_grant = |r: &str| {
        r.split(' ')
            .filter_map(grant_for)
            .any(|g| !grants.iter().any(|have| have == g))
    };
    let (kept, dropped): (Vec<String>, Vec<String>) =
        responses.into_iter().partition(|r| !needs_missing_grant(r));
    if !dropped.is_empty() {
        if responses_declared {
            warnings.push(WARN_RESPONSE_TYPE_WITHOUT_GRANT);
        }
        if responses_declared && kept.is_empty() {
            return Err(err!(
                InvalidMetadata,
                "grant_types and response_types are inconsistent: the effective grant_types {} include no grant for \
                 any of the effective response_types {} (code needs authorization_code; token and id_token need \
                 implicit) (DOC-11, RFC 7591 §2.1)",
                shown_list(&grants.iter().map(String::as_str).collect::<Vec<_>>()),
                shown_list(&dropped.iter().map(String::as_str).collect::<Vec<_>>())
            ));
        }
    }
    let used = |g: &str| {
        kept.iter()
            .any(|r| r.split(' ').filter_map(grant_for).any(|n| n == g))
    };
    let before = grants.len();
    let grants: Vec<String> = grants
        .into_iter()
        .filter(|g| !matches!(g.as_str(), AUTHORIZATION_CODE | IMPLICIT) || used(g))
        .collect();
    if grants.len() != before {
        warnings.push(WARN_GRANT_TYPE_WITHOUT_RESPONSE_TYPE);
        if grants.is_empty() {
            return Err(err!(
                InvalidMetadata,
                "grant_types and response_types are inconsistent: no effective response type uses the effective \
                 grant_types, and no other grant remains (DOC-11, RFC 7591 §2.1)"
            ));
        }
    }
    Ok((grants, kept))
}

/// Draft -03 §6: when a document declares both properties, its singular method must be one of its plural list
/// (AUTH-14). Otherwise the document contradicts itself, and which method the client will use is a guess.
fn check_consistent(singular: Option<&str>, plural: Option<&[&str]>) -> Result<(), Error> {
    match (singular, plural) {
        (Some(m), Some(list)) if !list.contains(&m) => Err(err!(
            InvalidMetadata,
            "token_endpoint_auth_method {} is not one of token_endpoint_auth_methods_supported {}; draft -03 §6 \
             requires the singular method to be in the list when both are present (AUTH-14)",
            shown(m),
            shown_list(list)
        )),
        _ => Ok(()),
    }
}

/// Draft -03 §6 negotiation against the host's methods: the singular `token_endpoint_auth_method` if the host
/// supports it; else the first entry of `token_endpoint_auth_methods_supported` that it supports (AUTH-15); a
/// document with neither property means `none` (AUTH-12), but a missing singular is not `none` when the list is
/// present (AUTH-13). Shared-secret methods are never chosen, even when the host lists them (a document that
/// declares one is already `forbidden_metadata`). Nothing in common is `unsupported_auth_method`, which hosts
/// answer as `unauthorized_client` (AUTH-16).
fn negotiate<'d>(
    singular: Option<&'d str>,
    plural: Option<&[&'d str]>,
    host: &[String],
) -> Result<&'d str, Error> {
    let usable = |m: &str| !is_shared_secret(m) && host.iter().any(|h| h == m);
    if let Some(m) = singular.filter(|m| usable(m)) {
        return Ok(m);
    }
    if let Some(m) = plural.and_then(|list| list.iter().copied().find(|m| usable(m))) {
        return Ok(m);
    }
    let host_methods: Vec<&str> = host
        .iter()
        .map(String::as_str)
        .filter(|m| !is_shared_secret(m))
        .collect();
    match (singular, plural) {
        (None, None) if usable("none") => Ok("none"),
        (None, None) => Err(err!(
            UnsupportedAuthMethod,
            "the document declares no token endpoint authentication method, which means none (AUTH-12), and the \
             host supports only {} for URL clients (POL-01, AUTH-16)",
            shown_list(&host_methods)
        )),
        (None, Some(list)) => Err(err!(
            UnsupportedAuthMethod,
            "the document declares no token_endpoint_auth_method and token_endpoint_auth_methods_supported {}, \
             none of which the host supports ({}); without the singular the method comes from that list, never \
             from the none default (AUTH-13, AUTH-16)",
            shown_list(list),
            shown_list(&host_methods)
        )),
        (Some(m), list) => Err(err!(
            UnsupportedAuthMethod,
            "no token endpoint authentication method in common with the host: the document declares \
             token_endpoint_auth_method {}{}, the host supports {} for URL clients (POL-01, AUTH-16)",
            shown(m),
            match list {
                Some(list) => format!(" and token_endpoint_auth_methods_supported {}", shown_list(list)),
                None => String::new(),
            },
            shown_list(&host_methods)
        )),
    }
}

fn is_shared_secret(method: &str) -> bool {
    SHARED_SECRET_METHODS.contains(&method)
}

/// How a redirect URI may send the user back (docs/contract.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RedirectKind {
    /// `https://host/...`.
    Https,
    /// `http://` on 127.0.0.1, [::1] or localhost (RFC 8252 §7.3, §8.3).
    LoopbackHttp,
    /// A reverse-domain private-use scheme, `com.example.app:/cb` (RFC 8252 §7.1).
    PrivateUse,
    /// A one-word private-use scheme, `mcpjam://oauth/callback`: accepted with a warning.
    PrivateUseOneWord,
}

/// Schemes that are never a redirect target, compared ignoring ASCII case: they run script or content in the
/// browser (`javascript`, `data`, `vbscript`, `blob`, `filesystem`, `view-source`, `about`), reach the local
/// disk (`file`) or are not a way back to an app at all (`ws`, `wss`, `ftp`). `http` and `https` have their
/// own rules.
const REFUSED_REDIRECT_SCHEMES: [&str; 11] = [
    "javascript",
    "data",
    "vbscript",
    "file",
    "blob",
    "about",
    "filesystem",
    "view-source",
    "ws",
    "wss",
    "ftp",
];

/// Checks a redirect URI's shape. The reason completes the sentence "the URI ...".
fn classify_redirect(uri: &str) -> Result<RedirectKind, &'static str> {
    check_uri_chars(uri, false)?;
    let (scheme, rest) = split_scheme(uri)?;
    match scheme {
        "https" => authority_host(rest).map(|_| RedirectKind::Https),
        "http" => match authority_host(rest)? {
            host if uri::is_exact_loopback_host(host) => Ok(RedirectKind::LoopbackHttp),
            _ => Err("uses http on a host other than 127.0.0.1, [::1] or localhost; only loopback redirect URIs \
                      may use http (RFC 8252 §7.3)"),
        },
        _ if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") => {
            Err("writes the http(s) scheme with upper-case letters; write it in lower case")
        }
        _ if REFUSED_REDIRECT_SCHEMES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme)) =>
        {
            Err("uses a web or browser-internal scheme (javascript, data, vbscript, file, blob, about, filesystem, \
                 view-source, ws, wss or ftp), which is never a redirect target")
        }
        _ if rest.is_empty() => Err("has nothing after the private-use scheme"),
        _ if scheme.contains('.') => Ok(RedirectKind::PrivateUse),
        _ => Ok(RedirectKind::PrivateUseOneWord),
    }
}

/// An optional array of redirect URIs: every entry a string of an accepted shape, each broken entry reported.
fn redirect_list<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    warnings: &mut Warnings,
    f: &mut Findings,
) -> Result<Member<Vec<&'a str>>, Error> {
    let Some(list) = f.keep(str_list(obj, key))? else {
        return Ok(Member::Broken);
    };
    let Some(list) = list else {
        return Ok(Member::Absent);
    };
    let mut broken = false;
    for (i, uri) in list.iter().enumerate() {
        match classify_redirect(uri) {
            Ok(RedirectKind::PrivateUseOneWord) => warnings.push(WARN_REDIRECT_SCHEME_NOT_REVERSE_DOMAIN),
            Ok(_) => {}
            Err(why) => {
                broken = true;
                f.report(err!(InvalidMetadata, "{key}[{i}] {} {why} (RED-05)", shown(uri)))?;
            }
        }
    }
    Ok(if broken {
        Member::Broken
    } else {
        Member::Present(list)
    })
}

/// An absolute `https://host...` URL: the only shape for `jwks_uri` and the display URIs.
fn check_https_url(uri: &str, allow_fragment: bool) -> Result<(), &'static str> {
    check_uri_chars(uri, allow_fragment)?;
    match split_scheme(uri)? {
        ("https", rest) => authority_host(rest).map(|_| ()),
        _ => Err("does not use the https scheme"),
    }
}

/// Bytes that may appear in a URI as written in a document: printable ASCII without space and without the
/// characters RFC 3986 excludes (`"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`). `#` is allowed here and
/// judged separately. A table, because this runs over every byte of every URI in the document.
static URI_BYTE_OK: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        table[b] = !matches!(
            b as u8,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        );
        b += 1;
    }
    table
};

/// Byte-level rules shared by every URI: nothing a parser would have to repair or that could hide the real
/// target (a backslash reads as a slash in browsers; spaces and controls split logs and headers).
fn check_uri_chars(uri: &str, allow_fragment: bool) -> Result<(), &'static str> {
    if uri.is_empty() {
        return Err("is empty");
    }
    if uri.len() > MAX_URI_BYTES {
        return Err("is longer than 2048 bytes");
    }
    if uri.bytes().all(|b| URI_BYTE_OK[usize::from(b)]) {
        if !allow_fragment && uri.contains('#') {
            return Err("has a fragment ('#'), which an absolute URI must not have (RFC 3986 §4.3)");
        }
        return Ok(());
    }
    // Slow path, only for a URI that fails: name the first offending byte.
    let why = match uri.bytes().find(|&b| !URI_BYTE_OK[usize::from(b)]) {
        Some(0..=0x1f | 0x7f) => "contains a control character",
        Some(b' ') => "contains a space",
        Some(0x80..=0xff) => {
            "contains a non-ASCII character (percent-encode it, and write host names in punycode form)"
        }
        Some(b'\\') => "contains a backslash, which browsers read as a slash",
        _ => "contains a character that RFC 3986 does not allow in a URI",
    };
    Err(why)
}

/// Reads the `//authority` after `scheme:` (through [`crate::uri`]) and returns the host exactly as written (IPv6
/// with brackets), after the document rules on it: no userinfo, a non-empty host of letters, digits, `-`, `.`,
/// `_` or a valid IPv6 literal, and a valid port when one is written.
fn authority_host(rest: &str) -> Result<&str, &'static str> {
    let authority = uri::parts(rest)
        .authority
        .ok_or("has no authority (expected scheme://host/...)")?;
    let a = uri::authority(authority)?;
    if a.userinfo.is_some() {
        return Err(
            "has userinfo ('@' in the authority), which can make the URI look like it goes to another host",
        );
    }
    if let Some(inner) = uri::ipv6_literal(a.host) {
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err("has an invalid IPv6 literal");
        }
    } else if a.host.is_empty() {
        return Err("has an empty host");
    } else if !a
        .host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err("has a host with characters other than letters, digits, '-', '.' and '_'");
    }
    if a.port.is_some_and(|p| !uri::is_valid_port(p)) {
        return Err("has an empty, non-numeric or out-of-range port");
    }
    Ok(a.host)
}

/// RFC 6749 §3.3 NQCHAR: printable ASCII except space, `"` and `\`.
fn is_nqchar(b: u8) -> bool {
    b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b)
}

/// Characters that must never reach a log line or a consent page: C0/C1 controls, and the invisible
/// direction and separator marks that can reorder or hide text ("Trojan Source"-style spoofing).
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Rejects unsafe characters in a member the engine keeps verbatim.
fn check_plain(key: &str, value: &str) -> Result<(), Error> {
    match value.chars().find(|c| is_unsafe_char(*c)) {
        None => Ok(()),
        Some(c) => Err(err!(
            InvalidMetadata,
            "{key} contains the control or bidirectional-formatting character U+{:04X}, which could corrupt logs \
             or disguise the value (DOC-09)",
            u32::from(c)
        )),
    }
}

/// The display form of `client_name`: unsafe characters removed (line-breaking ones become a space), trimmed,
/// and at most [`MAX_CLIENT_NAME_CHARS`] characters, cut on a character boundary.
fn sanitize_name(raw: &str) -> String {
    let mut clean = String::with_capacity(raw.len());
    for c in raw.chars() {
        if !is_unsafe_char(c) {
            clean.push(c);
        } else if c.is_whitespace() {
            clean.push(' ');
        }
    }
    let trimmed = clean.trim();
    let capped = match trimmed.char_indices().nth(MAX_CLIENT_NAME_CHARS) {
        Some((cut, _)) => trimmed.get(..cut).unwrap_or(trimmed).trim_end(),
        None => trimmed,
    };
    if capped.len() == clean.len() {
        clean
    } else {
        capped.to_owned()
    }
}

/// An optional string member; any other JSON type (null included) is `invalid_metadata`.
fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Error> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(type_error(key, other, "a string")),
    }
}

/// An optional array-of-strings member.
fn str_list<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<Vec<&'a str>>, Error> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.as_str()),
                    other => {
                        return Err(err!(
                            InvalidMetadata,
                            "{key}[{i}] is a JSON {}, not a string (DOC-07, RFC 7591 §2)",
                            kind(other)
                        ))
                    }
                }
            }
            Ok(Some(out))
        }
        Some(other) => Err(type_error(key, other, "an array of strings")),
    }
}

fn type_error(key: &str, value: &Value, expected: &str) -> Error {
    err!(
        InvalidMetadata,
        "{key} is a JSON {}, not {expected} (DOC-07, RFC 7591 §2)",
        kind(value)
    )
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A document-supplied string for an error description: quoted, escaped (no raw control or bidi characters
/// reach a log), and shortened.
fn shown(s: &str) -> String {
    match s.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((cut, _)) => format!("{:?}...", s.get(..cut).unwrap_or("")),
        None => format!("{s:?}"),
    }
}

fn shown_list(items: &[&str]) -> String {
    let parts: Vec<String> = items.iter().map(|s| shown(s)).collect();
    format!("[{}]", parts.join(", "))
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn owned_list(list: Vec<&str>) -> Vec<String> {
    list.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    const ID: &str = "https://c.example/a.json";

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn host(auth: &[&str]) -> Config {
        Config {
            auth_methods_supported: strings(auth),
            ..Config::default()
        }
    }

    fn run_with(doc: &Value, id: &str, config: &Config) -> Result<ValidatedDocument, Error> {
        let body = serde_json::to_vec(doc).unwrap();
        validate(&body, id, &DocumentPolicy::from_config(config))
    }

    fn run(doc: &Value, auth: &[&str]) -> Result<ValidatedDocument, Error> {
        run_with(doc, ID, &host(auth))
    }

    /// A minimal valid document with extra members merged in (a `null` in `extra` removes a member).
    fn doc(extra: Value) -> Value {
        let mut base = json!({"client_id": ID, "redirect_uris": ["https://c.example/cb"]});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    b.remove(k);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        base
    }

    fn ok(doc: &Value, auth: &[&str]) -> ValidatedDocument {
        match run(doc, auth) {
            Ok(v) => v,
            Err(e) => panic!("{doc} was rejected: {e}"),
        }
    }

    fn fails(doc: &Value, auth: &[&str], code: ErrorCode, needle: &str) {
        match run(doc, auth) {
            Ok(v) => panic!("{doc} was accepted: {v:?}"),
            Err(e) => {
                assert_eq!(e.code(), code, "{doc}: {e}");
                assert!(e.description().contains(needle), "{doc}: {e} lacks {needle:?}");
            }
        }
    }

    fn rsa_public() -> Value {
        json!({"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": "sXch", "e": "AQAB"})
    }

    #[test]
    fn doc_01_not_an_object_or_no_string_client_id() {
        for (body, needle) in [
            (json!([{"client_id": ID}]), "array"),
            (json!(ID), "string"),
            (json!(null), "null"),
            (json!({"redirect_uris": ["https://c.example/cb"]}), "no client_id"),
            (json!({"client_id": 1}), "number"),
            (json!({"client_id": null}), "null"),
            (json!({"client_id": [ID]}), "array"),
        ] {
            fails(&body, &["none"], ErrorCode::InvalidMetadata, needle);
            let e = run(&body, &["none"]).unwrap_err();
            assert!(e.description().contains("DOC-01"), "{e}");
        }
    }

    #[test]
    fn doc_01_invalid_json_is_invalid_json() {
        let config = Config::default();
        let e = validate(b"{\"client_id\": ", ID, &DocumentPolicy::from_config(&config)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
        let e = validate(b"\xff\xfe", ID, &DocumentPolicy::from_config(&config)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
    }

    #[test]
    fn doc_02_client_id_compared_byte_for_byte() {
        for (requested, in_doc) in [
            (ID, "https://c.example/a.json/"),
            (ID, "https://evil.example/a.json"),
            (ID, "https://c.example/A.json"),
            (ID, "https://C.example/a.json"),
            (ID, "https://c.example:443/a.json"),
            ("https://c.example:443/a.json", ID),
            (ID, "HTTPS://c.example/a.json"),
            (ID, "https://c.example/a%2Ejson"),
            (ID, "https://c.example/a.json?"),
            (ID, ""),
        ] {
            let body = json!({"client_id": in_doc, "redirect_uris": ["https://c.example/cb"]});
            let e = run_with(&body, requested, &Config::default()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ClientIdMismatch, "{in_doc}: {e}");
            assert!(e.description().contains("DOC-02"), "{e}");
            assert!(e.description().contains(&format!("{in_doc:?}")), "{e}");
            assert!(e.description().contains(&format!("{requested:?}")), "{e}");
        }
        let e = run(&doc(json!({"client_id": "https://c.example/a.json/"})), &["none"]).unwrap_err();
        assert_eq!(
            e.description(),
            "document client_id \"https://c.example/a.json/\" does not equal the requested client_id \
             \"https://c.example/a.json\" byte for byte (DOC-02)"
        );
        // The same string with an explicit port is accepted when both sides carry it (URL-03).
        let with_port = "https://c.example:8443/a.json";
        let body = json!({"client_id": with_port, "redirect_uris": ["https://c.example/cb"]});
        assert_eq!(
            run_with(&body, with_port, &Config::default())
                .unwrap()
                .metadata
                .client_id,
            with_port
        );
    }

    #[test]
    fn doc_02_control_characters_in_document_client_id_are_invalid_and_escaped() {
        for bad in [
            "https://c.example/a.json\n",
            "https://c.example/\u{202E}a.json",
            "\u{0}",
        ] {
            let e = run(&doc(json!({ "client_id": bad })), &["none"]).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidMetadata, "{e}");
            assert!(e.description().contains("client_id"), "{e}");
            assert!(!e.description().chars().any(is_unsafe_char), "{e:?}");
        }
        // A mismatch description never carries raw bidi characters from a document either.
        let shown = shown("a\u{202E}b\u{2066}\n");
        assert!(!shown.chars().any(is_unsafe_char), "{shown}");
    }

    #[test]
    fn doc_03_shared_secret_methods_are_forbidden_whatever_the_host_supports() {
        for method in SHARED_SECRET_METHODS {
            for auth in [&["none"][..], &["private_key_jwt"][..], &["tls_client_auth"][..]] {
                let body = doc(json!({ "token_endpoint_auth_method": method }));
                fails(&body, auth, ErrorCode::ForbiddenMetadata, "DOC-03");
                fails(&body, auth, ErrorCode::ForbiddenMetadata, method);
            }
        }
    }

    #[test]
    fn auth_10_shared_secret_methods_in_the_plural_list_are_forbidden() {
        for method in SHARED_SECRET_METHODS {
            for list in [
                vec!["none", method],
                vec![method],
                vec![method, "private_key_jwt"],
            ] {
                let body = doc(
                    json!({ "token_endpoint_auth_methods_supported": list, "jwks_uri": "https://c.example/j" }),
                );
                for auth in [&["none"][..], &["none", "private_key_jwt", method][..]] {
                    fails(&body, auth, ErrorCode::ForbiddenMetadata, "AUTH-10");
                    fails(&body, auth, ErrorCode::ForbiddenMetadata, method);
                }
            }
        }
        // Every shared-secret entry is named in the one finding.
        let body = doc(
            json!({"token_endpoint_auth_methods_supported": ["client_secret_post", "none", "client_secret_jwt"]}),
        );
        let e = run(&body, &["none"]).unwrap_err();
        assert!(
            e.description().contains("client_secret_post") && e.description().contains("client_secret_jwt"),
            "{e}"
        );
    }

    #[test]
    fn doc_04_client_secret_and_expiry_are_forbidden_with_any_value() {
        for (key, value) in [
            ("client_secret", json!("x")),
            ("client_secret", json!("")),
            ("client_secret", json!(null)),
            ("client_secret", json!(42)),
            ("client_secret_expires_at", json!(0)),
            ("client_secret_expires_at", json!(null)),
            ("client_secret_expires_at", json!(1_900_000_000)),
        ] {
            let mut body = doc(json!({"token_endpoint_auth_method": "none"}));
            body[key] = value;
            fails(&body, &["none"], ErrorCode::ForbiddenMetadata, "DOC-04");
            fails(&body, &["none"], ErrorCode::ForbiddenMetadata, key);
        }
    }

    #[test]
    fn doc_05_private_key_members_are_forbidden_in_jwks_and_fetched_sets() {
        let secret = json!("SECRETVALUE");
        let rsa = json!({"kty": "RSA", "n": "sXch", "e": "AQAB"});
        // An RSA public key with each private member in turn, then the private members of the other key types.
        let mut cases: Vec<(Value, &str, Value)> = ["d", "p", "q", "dp", "dq", "qi"]
            .into_iter()
            .map(|member| (rsa.clone(), member, secret.clone()))
            .collect();
        cases.extend([
            (rsa, "oth", json!([{"r": "SECRETVALUE"}])),
            (
                json!({"kty": "EC", "crv": "P-256", "x": "f8", "y": "x_"}),
                "d",
                secret.clone(),
            ),
            (
                json!({"kty": "OKP", "crv": "Ed25519", "x": "11"}),
                "d",
                secret.clone(),
            ),
            (json!({"kty": "oct"}), "k", secret),
        ]);
        let config = host(&["none", "private_key_jwt"]);
        for (mut key, member, value) in cases {
            key[member] = value;
            let set = json!({"keys": [rsa_public(), key]});
            let body = doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": set}));
            let e = run_with(&body, ID, &config).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ForbiddenMetadata, "{e}");
            assert!(e.description().contains("DOC-05"), "{e}");
            assert!(e.description().contains(&format!("\"{member}\"")), "{e}");
            assert!(e.description().contains("key 1"), "{e}");
            assert!(!e.description().contains("SECRETVALUE"), "secret leaked: {e}");
            // Also when the host would not use the keys at all.
            assert_eq!(
                run(&body, &["none"]).unwrap_err().code(),
                ErrorCode::ForbiddenMetadata
            );
            // And in a set fetched from jwks_uri.
            let e = validate_jwks(
                &serde_json::to_vec(&set).unwrap(),
                &DocumentPolicy::from_config(&config),
            )
            .unwrap_err();
            assert_eq!(e.code(), ErrorCode::ForbiddenMetadata, "{e}");
            assert!(
                e.description().contains("jwks_uri") && !e.description().contains("SECRETVALUE"),
                "{e}"
            );
        }
    }

    #[test]
    fn doc_05_public_keys_are_accepted_and_kept() {
        let set = json!({"keys": [rsa_public(), {"kty": "EC", "crv": "P-256", "x": "f8", "y": "x_"}]});
        let body = doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": set.clone()}));
        let v = ok(&body, &["none", "private_key_jwt"]);
        assert_eq!(v.metadata.token_endpoint_auth_method, "private_key_jwt");
        assert_eq!(v.metadata.jwks, Some(set.clone()));
        let config = Config::default();
        let policy = DocumentPolicy::from_config(&config);
        assert_eq!(
            validate_jwks(&serde_json::to_vec(&set).unwrap(), &policy).unwrap(),
            set
        );
    }

    #[test]
    fn doc_05_fetched_jwk_set_shape_is_checked() {
        let config = Config::default();
        let policy = DocumentPolicy::from_config(&config);
        assert_eq!(
            validate_jwks(b"not json", &policy).unwrap_err().code(),
            ErrorCode::InvalidJson
        );
        for bad in [
            json!([rsa_public()]),
            json!({}),
            json!({"keys": rsa_public()}),
            json!({"keys": ["x"]}),
            json!({"keys": [{"n": "x"}]}),
            json!({"keys": [{"kty": 1}]}),
        ] {
            let e = validate_jwks(&serde_json::to_vec(&bad).unwrap(), &policy).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidMetadata, "{bad}: {e}");
        }
        // Shape errors come before the private-key check (§11.1 order).
        let bad = json!({"keys": [{"kty": "oct", "k": "s"}, 5]});
        let e = validate_jwks(&serde_json::to_vec(&bad).unwrap(), &policy).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidMetadata, "{e}");
    }

    #[test]
    fn doc_06_auth_11_software_statement_parses_and_is_never_used() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJyZWRpcmVjdF91cmlzIjpbImh0dHBzOi8vZXZpbC5leGFtcGxlL2NiIl19.c2ln";
        for statement in [jwt, "opaque"] {
            let v = ok(&doc(json!({ "software_statement": statement })), &["none"]);
            assert_eq!(v.warnings, vec![WARN_SOFTWARE_STATEMENT_IGNORED]);
            // Its claims grant nothing: the registration is the document's own members, and the statement is
            // not handed to the host at all.
            assert_eq!(v.metadata.redirect_uris, vec!["https://c.example/cb"]);
            let out = serde_json::to_string(&v.metadata).unwrap();
            assert!(
                !out.contains("software_statement") && !out.contains(statement),
                "{out}"
            );
        }
        // The document's own rules still decide: a statement does not make a shared secret acceptable.
        let body =
            doc(json!({"software_statement": jwt, "token_endpoint_auth_method": "client_secret_basic"}));
        fails(&body, &["none"], ErrorCode::ForbiddenMetadata, "DOC-03");
    }

    #[test]
    fn red_01_authorization_code_needs_redirect_uris() {
        for (body, needle) in [
            (doc(json!({"redirect_uris": null})), "missing"),
            (doc(json!({"redirect_uris": []})), "empty"),
            (
                doc(json!({"redirect_uris": null, "grant_types": ["authorization_code"]})),
                "missing",
            ),
            (
                doc(json!({"redirect_uris": [], "grant_types": ["refresh_token", "authorization_code"]})),
                "empty",
            ),
        ] {
            fails(&body, &["none"], ErrorCode::InvalidMetadata, "RED-01");
            fails(&body, &["none"], ErrorCode::InvalidMetadata, needle);
        }
    }

    #[test]
    fn red_04_client_credentials_only_needs_no_redirect_uris() {
        let config = Config {
            auth_methods_supported: strings(&["none", "private_key_jwt"]),
            grant_types_supported: strings(&["authorization_code", "refresh_token", "client_credentials"]),
            ..Config::default()
        };
        let body = json!({
            "client_id": ID,
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://c.example/jwks.json"
        });
        let v = run_with(&body, ID, &config).unwrap();
        assert!(v.metadata.redirect_uris.is_empty());
        assert_eq!(v.metadata.grant_types, vec!["client_credentials"]);
        assert_eq!(v.metadata.token_endpoint_auth_method, "private_key_jwt");
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        let out = serde_json::to_value(&v.metadata).unwrap();
        assert_eq!(out["redirect_uris"], json!([]));
        // With authorization_code filtered out by the host, the redirect requirement goes too.
        let body = json!({"client_id": ID, "grant_types": ["authorization_code", "client_credentials"]});
        let only_cc = Config {
            grant_types_supported: strings(&["client_credentials"]),
            ..Config::default()
        };
        let v = run_with(&body, ID, &only_cc).unwrap();
        assert_eq!(v.metadata.grant_types, vec!["client_credentials"]);
        assert_eq!(v.warnings, vec![WARN_GRANT_TYPE_FILTERED]);
    }

    #[test]
    fn pol_01_no_common_auth_method_is_unsupported() {
        let jwks_uri = "https://c.example/jwks.json";
        for (body, auth) in [
            (
                doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks_uri})),
                &["none"][..],
            ),
            (
                doc(json!({"token_endpoint_auth_method": "none"})),
                &["private_key_jwt"][..],
            ),
            (doc(json!({})), &["private_key_jwt"][..]),
            (
                doc(json!({"token_endpoint_auth_method": "tls_client_auth"})),
                &["none"][..],
            ),
        ] {
            fails(&body, auth, ErrorCode::UnsupportedAuthMethod, "AUTH-16");
        }
        let e = run(
            &doc(json!({"token_endpoint_auth_method": "private_key_jwt"})),
            &["none"],
        )
        .unwrap_err();
        assert!(
            e.description().contains("\"private_key_jwt\"") && e.description().contains("[\"none\"]"),
            "{e}"
        );
    }

    #[test]
    fn auth_negotiation_table() {
        let keys = "https://c.example/jwks.json";
        for (extra, auth, expected) in [
            (json!({}), &["none"][..], "none"),
            (json!({}), &["none", "private_key_jwt"][..], "none"),
            (
                json!({"token_endpoint_auth_method": "none"}),
                &["none"][..],
                "none",
            ),
            (
                json!({"token_endpoint_auth_method": "private_key_jwt"}),
                &["none", "private_key_jwt"][..],
                "private_key_jwt",
            ),
            (
                json!({"token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"]}),
                &["none"][..],
                "none",
            ),
            (
                json!({"token_endpoint_auth_methods_supported": ["private_key_jwt", "none"]}),
                &["none", "private_key_jwt"][..],
                "private_key_jwt",
            ),
            (
                json!({"token_endpoint_auth_method": "tls_client_auth", "token_endpoint_auth_methods_supported": ["tls_client_auth", "none"]}),
                &["none", "private_key_jwt"][..],
                "none",
            ),
        ] {
            let mut body = doc(extra);
            body["jwks_uri"] = json!(keys);
            assert_eq!(
                ok(&body, auth).metadata.token_endpoint_auth_method,
                expected,
                "{body}"
            );
        }
    }

    #[test]
    fn auth_12_no_auth_properties_means_none() {
        assert_eq!(
            ok(&doc(json!({})), &["none"]).metadata.token_endpoint_auth_method,
            "none"
        );
        // RFC 7591's client_secret_basic default is never used, even when the host lists it.
        let v = ok(&doc(json!({})), &["client_secret_basic", "none"]);
        assert_eq!(v.metadata.token_endpoint_auth_method, "none");
        fails(
            &doc(json!({})),
            &["private_key_jwt"],
            ErrorCode::UnsupportedAuthMethod,
            "AUTH-12",
        );
        fails(
            &doc(json!({})),
            &["client_secret_basic"],
            ErrorCode::UnsupportedAuthMethod,
            "AUTH-12",
        );
    }

    #[test]
    fn auth_13_a_missing_singular_is_not_none_when_the_list_is_present() {
        let keys = "https://c.example/jwks.json";
        let body =
            doc(json!({"token_endpoint_auth_methods_supported": ["private_key_jwt"], "jwks_uri": keys}));
        fails(&body, &["none"], ErrorCode::UnsupportedAuthMethod, "AUTH-13");
        assert_eq!(
            ok(&body, &["none", "private_key_jwt"])
                .metadata
                .token_endpoint_auth_method,
            "private_key_jwt"
        );
        // An empty list declares no method at all: nothing to negotiate, and still not none.
        let body = doc(json!({"token_endpoint_auth_methods_supported": []}));
        fails(&body, &["none"], ErrorCode::UnsupportedAuthMethod, "AUTH-13");
        // The method comes from the list, in the document's order of preference.
        let body = doc(json!({"token_endpoint_auth_methods_supported": ["tls_client_auth", "none"]}));
        assert_eq!(
            ok(&body, &["none", "tls_client_auth"])
                .metadata
                .token_endpoint_auth_method,
            "tls_client_auth"
        );
        assert_eq!(ok(&body, &["none"]).metadata.token_endpoint_auth_method, "none");
    }

    #[test]
    fn auth_14_the_singular_must_be_in_the_plural_list() {
        let keys = "https://c.example/jwks.json";
        for (singular, plural) in [
            ("private_key_jwt", json!(["none"])),
            ("none", json!(["private_key_jwt"])),
            ("none", json!([])),
            ("none", json!(["None"])),
        ] {
            let body = doc(json!({"token_endpoint_auth_method": singular,
                                  "token_endpoint_auth_methods_supported": plural, "jwks_uri": keys}));
            // Whatever the host supports: the document contradicts itself.
            for auth in [&["none"][..], &["none", "private_key_jwt"][..]] {
                fails(&body, auth, ErrorCode::InvalidMetadata, "AUTH-14");
            }
        }
        // Listed: fine, and the singular wins when the host supports it.
        let body = doc(json!({"token_endpoint_auth_method": "private_key_jwt",
                              "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"], "jwks_uri": keys}));
        assert_eq!(
            ok(&body, &["none", "private_key_jwt"])
                .metadata
                .token_endpoint_auth_method,
            "private_key_jwt"
        );
        // A shared-secret singular outside the list is forbidden first (contract §11.1).
        let body = doc(json!({"token_endpoint_auth_method": "client_secret_basic",
                              "token_endpoint_auth_methods_supported": ["none"]}));
        fails(&body, &["none"], ErrorCode::ForbiddenMetadata, "DOC-03");
    }

    #[test]
    fn auth_15_a_listed_alternative_is_used_when_the_singular_is_not_supported() {
        let body = doc(json!({"token_endpoint_auth_method": "private_key_jwt",
                              "token_endpoint_auth_methods_supported": ["private_key_jwt", "none"],
                              "jwks_uri": "https://c.example/jwks.json"}));
        assert_eq!(ok(&body, &["none"]).metadata.token_endpoint_auth_method, "none");
        // Without the list there is no alternative.
        let body =
            doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://c.example/j"}));
        fails(&body, &["none"], ErrorCode::UnsupportedAuthMethod, "AUTH-16");
    }

    #[test]
    fn auth_16_no_method_in_common_is_unsupported_and_answered_unauthorized_client() {
        let body = doc(json!({"token_endpoint_auth_method": "tls_client_auth"}));
        let e = run(&body, &["none", "private_key_jwt"]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnsupportedAuthMethod);
        assert_eq!(e.oauth_error(), "unauthorized_client");
        // The host's own shared-secret methods are not offered as an alternative in the sentence.
        let e = run(&body, &["none", "client_secret_basic"]).unwrap_err();
        assert!(!e.description().contains("client_secret_basic"), "{e}");
    }

    #[test]
    fn a_host_list_with_shared_secret_methods_never_negotiates_them() {
        let host = [
            "client_secret_basic",
            "client_secret_post",
            "client_secret_jwt",
            "none",
            "private_key_jwt",
        ];
        for (extra, want) in [
            (json!({}), "none"),
            (json!({"token_endpoint_auth_method": "none"}), "none"),
            (
                json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://c.example/j"}),
                "private_key_jwt",
            ),
        ] {
            assert_eq!(ok(&doc(extra), &host).metadata.token_endpoint_auth_method, want);
        }
        // A document that declares one is still forbidden, whatever the host lists.
        for method in SHARED_SECRET_METHODS {
            fails(
                &doc(json!({ "token_endpoint_auth_method": method })),
                &host,
                ErrorCode::ForbiddenMetadata,
                "DOC-03",
            );
        }
    }

    #[test]
    fn lint_reports_every_finding_and_the_first_is_the_resolve_error() {
        let body = json!({
            "client_id": "https://evil.example/a.json",
            "client_secret": "s",
            "redirect_uris": ["javascript:alert(1)", "https://c.example/cb#frag", "https://c.example/ok"],
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "scope": "a\tb",
            "application_type": "desktop"
        });
        let bytes = serde_json::to_vec(&body).unwrap();
        let config = host(&["none"]);
        let policy = DocumentPolicy::from_config(&config);
        let first = validate(&bytes, ID, &policy).unwrap_err();
        let all = validate_all(&bytes, ID, &policy).unwrap_err();
        assert_eq!(all[0], first);
        let codes: Vec<(ErrorCode, bool)> = all
            .iter()
            .map(|e| (e.code(), e.description().is_empty()))
            .collect();
        assert_eq!(
            codes.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![
                ErrorCode::InvalidMetadata, // redirect_uris[0]
                ErrorCode::InvalidMetadata, // redirect_uris[1]
                ErrorCode::InvalidMetadata, // scope
                ErrorCode::InvalidMetadata, // application_type
                ErrorCode::ClientIdMismatch,
                ErrorCode::ForbiddenMetadata, // client_secret
                ErrorCode::ForbiddenMetadata, // the plural list's shared secret
                ErrorCode::InvalidMetadata,   // singular not in the list
            ],
            "{all:#?}"
        );
        assert!(all[0].description().contains("redirect_uris[0]"));
        assert!(all[1].description().contains("redirect_uris[1]"));
        // A broken member is reported once: no "redirect_uris missing" after its entries failed, no
        // negotiation finding after the auth members' own.
        assert!(
            !all.iter().any(|e| e.description().contains("RED-01")),
            "{all:#?}"
        );
        // A valid document has no findings; a document that cannot be read has exactly one.
        assert!(validate_all(&serde_json::to_vec(&doc(json!({}))).unwrap(), ID, &policy).is_ok());
        let all = validate_all(b"{\"client_id\": ", ID, &policy).unwrap_err();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].code(), ErrorCode::InvalidJson);
        let all = validate_all(b"[]", ID, &policy).unwrap_err();
        assert_eq!((all.len(), all[0].code()), (1, ErrorCode::InvalidMetadata));
    }

    #[test]
    fn ssrf_05_unsafe_display_uris_are_dropped_with_a_warning() {
        for bad in [
            json!("javascript:alert(1)"),
            json!("file:///etc/passwd"),
            json!("data:image/svg+xml;base64,PHN2Zz4="),
            json!("http://c.example/logo.png"),
            json!("HTTPS://c.example/logo.png"),
            json!("https://user@c.example/logo.png"),
            json!("https://c.example/lo go.png"),
            json!("https://c.example/\u{202E}gnp.exe"),
            json!("https:///logo.png"),
            json!("//c.example/logo.png"),
            json!(format!("https://c.example/{}", "a".repeat(2048))),
            json!(""),
            json!(null),
            json!(7),
            json!(["https://c.example/logo.png"]),
        ] {
            for key in ["client_uri", "logo_uri", "tos_uri", "policy_uri"] {
                let mut body = doc(json!({}));
                body[key] = bad.clone();
                let v = ok(&body, &["none"]);
                let out = serde_json::to_value(&v.metadata).unwrap();
                assert!(out.get(key).is_none(), "{key}={bad} kept");
                assert_eq!(v.warnings, vec![WARN_DISPLAY_URI_DROPPED], "{key}={bad}");
            }
        }
        let good = "https://c.example/logo.png#dark";
        let v = ok(
            &doc(json!({ "logo_uri": good, "client_uri": "https://c.example" })),
            &["none"],
        );
        assert_eq!(v.metadata.logo_uri.as_deref(), Some(good));
        assert_eq!(v.metadata.client_uri.as_deref(), Some("https://c.example"));
        assert!(v.warnings.is_empty());
    }

    #[test]
    fn ssrf_05_jwks_uri_must_be_https() {
        for bad in [
            "ftp://c.example/jwks.json",
            "http://c.example/jwks.json",
            "file:///etc/jwks.json",
            "https://u:p@c.example/jwks.json",
            "https://c.example/jwks.json#k",
            "/jwks.json",
            "",
        ] {
            let body = doc(json!({ "jwks_uri": bad }));
            fails(&body, &["none"], ErrorCode::InvalidMetadata, "SSRF-05");
            fails(&body, &["none"], ErrorCode::InvalidMetadata, "jwks_uri");
        }
    }

    /// A published client's document as these tests keep it (`src/testdata/documents/`), and its client_id.
    fn published(json: &str) -> (Value, String) {
        let body: Value = serde_json::from_str(json).unwrap();
        let id = body["client_id"].as_str().unwrap().to_owned();
        (body, id)
    }

    /// A published client with an extension grant (jwt-bearer, device_code) that the default host does not
    /// support: the grant is filtered out with a warning and the rest of the registration stands.
    fn extension_grant_filtered(json: &str) -> ValidatedDocument {
        let (body, id) = published(json);
        let v = run_with(&body, &id, &Config::default()).unwrap();
        assert_eq!(
            v.metadata.grant_types,
            vec!["authorization_code", "refresh_token"]
        );
        assert_eq!(v.warnings, vec![WARN_GRANT_TYPE_FILTERED]);
        v
    }

    #[test]
    fn chatgpt_document_negotiates_against_the_host() {
        let (body, id) = published(include_str!("testdata/documents/chatgpt.json"));
        assert_eq!(id, "https://chatgpt.com/oauth/client-metadata.json");
        let v = run_with(&body, &id, &host(&["none"])).unwrap();
        assert_eq!(v.metadata.token_endpoint_auth_method, "none");
        assert_eq!(
            v.metadata.jwks_uri.as_deref(),
            Some("https://chatgpt.com/oauth/connector/jwks.json")
        );
        assert_eq!(v.metadata.client_name.as_deref(), Some("ChatGPT"));
        assert_eq!(
            v.metadata.grant_types,
            vec!["authorization_code", "refresh_token"]
        );
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        let v = run_with(&body, &id, &host(&["none", "private_key_jwt"])).unwrap();
        assert_eq!(v.metadata.token_endpoint_auth_method, "private_key_jwt");
        let v = run_with(&body, &id, &host(&["private_key_jwt"])).unwrap();
        assert_eq!(v.metadata.token_endpoint_auth_method, "private_key_jwt");
    }

    #[test]
    fn claude_code_document_warns_localhost_redirects_only() {
        let (body, id) = published(include_str!("testdata/documents/claude-code.json"));
        assert_eq!(id, "https://claude.ai/oauth/claude-code-client-metadata");
        let v = run_with(&body, &id, &Config::default()).unwrap();
        assert_eq!(v.metadata.token_endpoint_auth_method, "none");
        assert_eq!(v.warnings, vec![WARN_LOCALHOST_REDIRECTS_ONLY]);
        assert_eq!(
            v.metadata.redirect_uris,
            vec!["http://localhost/callback", "http://127.0.0.1/callback"]
        );
        // One https redirect among them: no warning.
        let mut mixed = body.clone();
        mixed["redirect_uris"] = json!(["http://localhost/callback", "https://claude.ai/cb"]);
        assert!(run_with(&mixed, &id, &Config::default())
            .unwrap()
            .warnings
            .is_empty());
    }

    #[test]
    fn claude_ai_jwt_bearer_grant_is_filtered_with_a_warning() {
        extension_grant_filtered(include_str!("testdata/documents/claude-ai.json"));
    }

    #[test]
    fn vscode_device_code_grant_is_filtered_with_a_warning() {
        let v = extension_grant_filtered(include_str!("testdata/documents/vscode.json"));
        assert_eq!(v.metadata.application_type.as_deref(), Some("native"));
    }

    #[test]
    fn grant_and_response_types_filter_dedupe_and_fail_when_empty() {
        let v = ok(
            &doc(
                json!({"grant_types": ["authorization_code", "authorization_code", "implicit", "password"],
                        "response_types": ["code", "token", "code"]}),
            ),
            &["none"],
        );
        assert_eq!(v.metadata.grant_types, vec!["authorization_code"]);
        assert_eq!(v.metadata.response_types, vec!["code"]);
        assert_eq!(
            v.warnings,
            vec![WARN_GRANT_TYPE_FILTERED, WARN_RESPONSE_TYPE_FILTERED]
        );
        let v = ok(&doc(json!({})), &["none"]);
        assert_eq!(v.metadata.grant_types, vec!["authorization_code"]);
        assert_eq!(v.metadata.response_types, vec!["code"]);
        fails(
            &doc(json!({"grant_types": ["implicit"]})),
            &["none"],
            ErrorCode::InvalidMetadata,
            "grant_types",
        );
        fails(
            &doc(json!({"grant_types": []})),
            &["none"],
            ErrorCode::InvalidMetadata,
            "grant_types",
        );
        fails(
            &doc(json!({"response_types": ["token"]})),
            &["none"],
            ErrorCode::InvalidMetadata,
            "response_types",
        );
        // The host decides: if it lists implicit and token, implicit stays.
        let config = Config {
            grant_types_supported: strings(&["authorization_code", "implicit"]),
            response_types_supported: strings(&["code", "token"]),
            ..Config::default()
        };
        let v = run_with(
            &doc(json!({"grant_types": ["implicit", "authorization_code"], "response_types": ["token", "code"]})),
            ID,
            &config,
        )
        .unwrap();
        assert_eq!(v.metadata.grant_types, vec!["implicit", "authorization_code"]);
        assert_eq!(v.metadata.response_types, vec!["token", "code"]);
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        // The RFC 7591 default counts as declared when the host does not support it.
        let config = Config {
            grant_types_supported: strings(&["client_credentials"]),
            ..Config::default()
        };
        let e = run_with(&doc(json!({})), ID, &config).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidMetadata);
        assert!(e.description().contains("default"), "{e}");
    }

    #[test]
    fn g9_grant_and_response_types_are_made_consistent() {
        let config = Config {
            grant_types_supported: strings(&[
                "authorization_code",
                "implicit",
                "refresh_token",
                "client_credentials",
            ]),
            response_types_supported: strings(&["code", "token", "code id_token"]),
            ..Config::default()
        };
        let run = |extra: Value| run_with(&doc(extra), ID, &config);
        // implicit with only the code response type: implicit is unused and dropped.
        let v = run(json!({"grant_types": ["authorization_code", "implicit"], "response_types": ["code"]}))
            .unwrap();
        assert_eq!(v.metadata.grant_types, vec!["authorization_code"]);
        assert_eq!(v.warnings, vec![WARN_GRANT_TYPE_WITHOUT_RESPONSE_TYPE]);
        // The RFC 7591 default response type (code) does not make implicit usable either.
        let v = run(json!({"grant_types": ["implicit", "authorization_code"]})).unwrap();
        assert_eq!(v.metadata.grant_types, vec!["authorization_code"]);
        assert_eq!(v.metadata.response_types, vec!["code"]);
        // token without implicit: the response type goes, code stays.
        let v =
            run(json!({"grant_types": ["authorization_code"], "response_types": ["code", "token"]})).unwrap();
        assert_eq!(v.metadata.response_types, vec!["code"]);
        assert_eq!(v.warnings, vec![WARN_RESPONSE_TYPE_WITHOUT_GRANT]);
        // A combined response type needs every grant it names.
        let v = run(json!({"grant_types": ["authorization_code", "refresh_token"],
                           "response_types": ["code id_token", "code"]}))
        .unwrap();
        assert_eq!(v.metadata.response_types, vec!["code"]);
        assert_eq!(
            v.metadata.grant_types,
            vec!["authorization_code", "refresh_token"]
        );
        let v = run(
            json!({"grant_types": ["authorization_code", "implicit"], "response_types": ["code id_token"]}),
        )
        .unwrap();
        assert_eq!(v.metadata.grant_types, vec!["authorization_code", "implicit"]);
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        // Nothing consistent remains: precise invalid_metadata.
        let e = run(json!({"grant_types": ["refresh_token"], "response_types": ["code"]})).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidMetadata);
        assert!(e.description().contains("RFC 7591 §2.1"), "{e}");
        assert!(e.description().contains("refresh_token"), "{e}");
        let e = run(json!({"grant_types": ["implicit"], "response_types": ["code"]})).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidMetadata, "{e}");
        // Without declared response types, grants that need none use none (no code default, no warning); the
        // result, an empty list, reads back the same (a document accepted once is accepted again).
        let body = doc(json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"}));
        let v = run_with(&body, ID, &config).unwrap();
        assert_eq!(v.metadata.grant_types, vec!["client_credentials"]);
        assert!(v.metadata.response_types.is_empty());
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        let again = run_with(&serde_json::to_value(&v.metadata).unwrap(), ID, &config).unwrap();
        assert_eq!(again.metadata, v.metadata);
        // Declared empty response types with authorization_code: that grant is unusable, nothing remains.
        let e = run(json!({"response_types": []})).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidMetadata);
        assert!(e.description().contains("RFC 7591 §2.1"), "{e}");
        // refresh_token beside authorization_code is consistent and needs no response type of its own.
        let v = run(json!({"grant_types": ["authorization_code", "refresh_token"]})).unwrap();
        assert_eq!(
            v.metadata.grant_types,
            vec!["authorization_code", "refresh_token"]
        );
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
    }

    #[test]
    fn order_of_checks_follows_contract_11_1() {
        // Mismatch and client_secret: the mismatch wins.
        let body = doc(json!({"client_id": "https://evil.example/a.json", "client_secret": "s"}));
        fails(&body, &["none"], ErrorCode::ClientIdMismatch, "DOC-02");
        // Structure and mismatch: structure wins.
        let body =
            doc(json!({"client_id": "https://evil.example/a.json", "redirect_uris": "https://c.example/cb"}));
        fails(&body, &["none"], ErrorCode::InvalidMetadata, "redirect_uris");
        // Shared secret with nothing in common: forbidden wins over unsupported.
        let body = doc(json!({"token_endpoint_auth_method": "client_secret_basic"}));
        fails(
            &body,
            &["private_key_jwt"],
            ErrorCode::ForbiddenMetadata,
            "DOC-03",
        );
        // Forbidden wins over filtering failures and missing redirects.
        let body = doc(json!({"client_secret": "s", "grant_types": ["password"], "redirect_uris": []}));
        fails(&body, &["none"], ErrorCode::ForbiddenMetadata, "DOC-04");
        // Filtering wins over negotiation.
        let body = doc(json!({"grant_types": ["password"], "token_endpoint_auth_method": "private_key_jwt"}));
        fails(&body, &["none"], ErrorCode::InvalidMetadata, "grant_types");
        // Negotiation wins over the missing-keys and missing-redirects rules.
        let body = doc(json!({"redirect_uris": null, "token_endpoint_auth_method": "private_key_jwt"}));
        fails(&body, &["none"], ErrorCode::UnsupportedAuthMethod, "POL-01");
        // Missing keys win over missing redirects.
        fails(&body, &["private_key_jwt"], ErrorCode::InvalidMetadata, "AUTH-02");
        // Private keys in jwks are forbidden even when the document also lacks redirect_uris.
        let body = doc(json!({"redirect_uris": null, "jwks": {"keys": [{"kty": "oct", "k": "x"}]}}));
        fails(&body, &["none"], ErrorCode::ForbiddenMetadata, "DOC-05");
    }

    #[test]
    fn jwks_and_jwks_uri_are_mutually_exclusive() {
        let body = doc(json!({"jwks": {"keys": [rsa_public()]}, "jwks_uri": "https://c.example/jwks.json"}));
        fails(&body, &["none"], ErrorCode::InvalidMetadata, "mutually exclusive");
    }

    #[test]
    fn private_key_jwt_without_keys_is_invalid() {
        let auth = &["none", "private_key_jwt"];
        for body in [
            doc(json!({"token_endpoint_auth_method": "private_key_jwt"})),
            doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": []}})),
            doc(json!({"token_endpoint_auth_methods_supported": ["private_key_jwt"]})),
        ] {
            fails(&body, auth, ErrorCode::InvalidMetadata, "private_key_jwt");
        }
        // When negotiation settles on none, keys are not needed.
        let body = doc(json!({"token_endpoint_auth_method": "private_key_jwt",
                             "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"]}));
        assert_eq!(ok(&body, &["none"]).metadata.token_endpoint_auth_method, "none");
    }

    #[test]
    fn known_members_with_wrong_types_are_invalid_metadata_naming_the_member() {
        for (key, value) in [
            ("redirect_uris", json!("https://c.example/cb")),
            ("redirect_uris", json!([1])),
            ("redirect_uris", json!(null)),
            ("redirect_uris", json!({"a": "https://c.example/cb"})),
            ("post_logout_redirect_uris", json!("https://c.example/bye")),
            ("post_logout_redirect_uris", json!([true])),
            ("grant_types", json!("authorization_code")),
            ("grant_types", json!([null])),
            ("response_types", json!("code")),
            ("response_types", json!([["code"]])),
            ("token_endpoint_auth_method", json!(["none"])),
            ("token_endpoint_auth_method", json!(null)),
            ("token_endpoint_auth_methods_supported", json!("none")),
            ("token_endpoint_auth_methods_supported", json!([1])),
            ("jwks", json!("x")),
            ("jwks", json!(null)),
            ("jwks", json!({})),
            ("jwks", json!({"keys": {}})),
            ("jwks", json!({"keys": [1]})),
            ("jwks", json!({"keys": [{}]})),
            ("jwks", json!({"keys": [{"kty": 1}]})),
            ("jwks_uri", json!(1)),
            ("jwks_uri", json!(null)),
            ("scope", json!(["openid"])),
            ("scope", json!(null)),
            ("scope", json!("openid \"x\"")),
            ("scope", json!("openid\tprofile")),
            ("application_type", json!(1)),
            ("application_type", json!("desktop")),
            ("application_type", json!("Web")),
            ("contacts", json!("ops@c.example")),
            ("contacts", json!([1])),
            ("contacts", json!(["ops@c.example\r\nX-Injected: 1"])),
            ("software_id", json!(1)),
            ("software_id", json!("id\u{0}")),
            ("software_version", json!(1.0)),
            ("software_statement", json!({})),
            ("software_statement", json!("a.b\n.c")),
        ] {
            let mut body = doc(json!({}));
            body[key] = value.clone();
            let e = run(&body, &["none"]).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidMetadata, "{key}={value}: {e}");
            let named = if key == "jwks" { "jwks" } else { key };
            assert!(e.description().contains(named), "{key}={value}: {e}");
        }
    }

    #[test]
    fn optional_members_of_the_right_type_are_kept() {
        let body = doc(json!({
            "scope": "openid profile mcp:tools",
            "application_type": "web",
            "contacts": ["ops@c.example", "Ünïcode Person"],
            "software_id": "4NRB1-0XZABZI9E6-5SM3R",
            "software_version": "2.1",
            "post_logout_redirect_uris": ["https://c.example/bye"],
            "unknown_member": {"nested": [1, 2, {"x": null}]},
            "client_name#ja-Jpan-JP": "クライアント名"
        }));
        let m = ok(&body, &["none"]).metadata;
        assert_eq!(m.scope.as_deref(), Some("openid profile mcp:tools"));
        assert_eq!(m.application_type.as_deref(), Some("web"));
        assert_eq!(m.contacts, Some(strings(&["ops@c.example", "Ünïcode Person"])));
        assert_eq!(m.software_id.as_deref(), Some("4NRB1-0XZABZI9E6-5SM3R"));
        assert_eq!(m.software_version.as_deref(), Some("2.1"));
        assert_eq!(
            m.post_logout_redirect_uris,
            Some(strings(&["https://c.example/bye"]))
        );
    }

    #[test]
    fn redirect_uri_shapes() {
        for good in [
            "https://c.example/cb",
            "https://c.example",
            "https://c.example:8443/cb?x=1",
            "https://127.0.0.1/cb",
            "https://[2001:db8::1]:8443/cb",
            "https://my_host.example/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:51004/cb",
            "http://[::1]/cb",
            "http://[::1]:8080",
            "http://localhost/callback",
            "http://localhost:3000/callback",
            "com.example.app:/oauth2redirect/example-provider",
            "com.example.app://callback",
            "vscode.dev-insiders:/cb",
            "com.example+x-1.app:cb",
        ] {
            assert!(
                classify_redirect(good).is_ok(),
                "{good}: {:?}",
                classify_redirect(good)
            );
            let body = doc(json!({ "redirect_uris": [good], "post_logout_redirect_uris": [good] }));
            assert_eq!(ok(&body, &["none"]).metadata.redirect_uris, vec![good]);
        }
        for (bad, why) in [
            ("", "empty"),
            ("https://c.example/cb#frag", "fragment"),
            ("https://c.example/cb#", "fragment"),
            ("http://c.example/cb", "loopback"),
            ("http://127.0.0.2/cb", "loopback"),
            ("http://LOCALHOST/cb", "loopback"),
            ("http://localhost.evil.example/cb", "loopback"),
            ("http://[::2]/cb", "loopback"),
            ("HTTPS://c.example/cb", "lower case"),
            ("Http://localhost/cb", "lower case"),
            ("https://user@c.example/cb", "userinfo"),
            ("https://c.example@evil.example/cb", "userinfo"),
            ("http://localhost@evil.example/cb", "userinfo"),
            ("https:///cb", "empty host"),
            ("https://:443/cb", "empty host"),
            ("https:c.example/cb", "authority"),
            ("https://c.example:/cb", "port"),
            ("https://c.example:99999/cb", "port"),
            ("https://c.example:8o/cb", "port"),
            ("https://[::1/cb", "IPv6"),
            ("https://[zz::1]/cb", "IPv6"),
            ("https://[::1]x/cb", "IPv6"),
            ("https://c.exa%6Dple/cb", "host"),
            ("https://c.example\\@evil.example/cb", "backslash"),
            ("https://c.example/c b", "space"),
            ("https://c.example/cb\n", "control"),
            ("https://c.example/\u{202E}bc", "non-ASCII"),
            ("https://bücher.example/cb", "non-ASCII"),
            ("https://c.example/<script>", "RFC 3986"),
            ("/cb", "no scheme"),
            ("cb", "no scheme"),
            ("1com.example:/cb", "scheme"),
            (":/cb", "scheme"),
            ("javascript:alert(1)", "browser-internal"),
            ("JavaScript:alert(1)", "browser-internal"),
            ("data:text/html,x", "browser-internal"),
            ("DATA:text/html,x", "browser-internal"),
            ("vbscript:msgbox", "browser-internal"),
            ("file:///etc/passwd", "browser-internal"),
            ("File://host/share", "browser-internal"),
            ("blob:https://c.example/uuid", "browser-internal"),
            ("about:blank", "browser-internal"),
            ("filesystem:https://c.example/temporary/x", "browser-internal"),
            ("view-source:https://c.example/", "browser-internal"),
            ("ws://c.example/cb", "browser-internal"),
            ("WSS://c.example/cb", "browser-internal"),
            ("ftp://c.example/cb", "browser-internal"),
            ("HTTP://c.example/cb", "lower case"),
            ("HTTP://localhost/cb", "lower case"),
            ("myapp:", "nothing after"),
            ("com.example.app:", "nothing after"),
        ] {
            match classify_redirect(bad) {
                Ok(kind) => panic!("{bad:?} accepted as {kind:?}"),
                Err(reason) => assert!(reason.contains(why), "{bad:?}: {reason}"),
            }
            for key in ["redirect_uris", "post_logout_redirect_uris"] {
                let mut body = doc(json!({}));
                body[key] = json!(["https://c.example/ok", bad]);
                let e = run(&body, &["none"]).unwrap_err();
                assert_eq!(e.code(), ErrorCode::InvalidMetadata, "{bad:?}: {e}");
                assert!(e.description().contains(&format!("{key}[1]")), "{e}");
                assert!(!e.description().chars().any(is_unsafe_char), "{e:?}");
            }
        }
        let long = format!("https://c.example/{}", "a".repeat(MAX_URI_BYTES));
        assert!(classify_redirect(&long).unwrap_err().contains("2048"));
        assert_eq!(
            classify_redirect("http://[::1]/cb"),
            Ok(RedirectKind::LoopbackHttp)
        );
        assert_eq!(
            classify_redirect("com.example.app:/cb"),
            Ok(RedirectKind::PrivateUse)
        );
        assert_eq!(classify_redirect("https://c.example/cb"), Ok(RedirectKind::Https));
    }

    #[test]
    fn red_05_private_use_schemes_as_real_clients_publish_them() {
        // MCPJam's published redirect URIs: one-word private-use schemes and loopback URIs.
        let mcpjam = [
            "mcpjam://oauth/callback",
            "mcpjam://authkit/callback",
            "http://127.0.0.1:6274/oauth/callback",
            "http://localhost:6274/oauth/callback",
        ];
        let v = ok(&doc(json!({ "redirect_uris": mcpjam })), &["none"]);
        assert_eq!(v.metadata.redirect_uris, strings(&mcpjam));
        assert_eq!(v.warnings, vec![WARN_REDIRECT_SCHEME_NOT_REVERSE_DOMAIN]);
        for (uri, kind) in [
            ("mcpjam://oauth/callback", RedirectKind::PrivateUseOneWord),
            ("myapp:/cb", RedirectKind::PrivateUseOneWord),
            ("x-app+v2:cb", RedirectKind::PrivateUseOneWord),
            (
                "cursor://anysphere.cursor-mcp/oauth/callback",
                RedirectKind::PrivateUseOneWord,
            ),
            ("com.example.app:/cb", RedirectKind::PrivateUse),
            ("vscode.dev-insiders:/cb", RedirectKind::PrivateUse),
        ] {
            assert_eq!(classify_redirect(uri), Ok(kind), "{uri}");
        }
        // Reverse-domain schemes raise no warning; post-logout URIs follow the same rule.
        let v = ok(
            &doc(
                json!({"redirect_uris": ["com.example.app:/cb"], "post_logout_redirect_uris": ["myapp:/bye"]}),
            ),
            &["none"],
        );
        assert_eq!(v.warnings, vec![WARN_REDIRECT_SCHEME_NOT_REVERSE_DOMAIN]);
        let v = ok(&doc(json!({"redirect_uris": ["com.example.app:/cb"]})), &["none"]);
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        // Every refused scheme, whatever its case, is refused.
        for scheme in REFUSED_REDIRECT_SCHEMES {
            for spelled in [scheme.to_owned(), scheme.to_ascii_uppercase()] {
                let uri = format!("{spelled}://c.example/cb");
                let e = run(&doc(json!({ "redirect_uris": [uri] })), &["none"]).unwrap_err();
                assert_eq!(e.code(), ErrorCode::InvalidMetadata, "{uri}");
                assert!(e.description().contains("RED-05"), "{e}");
            }
        }
    }

    #[test]
    fn client_name_is_sanitized_bounded_or_dropped() {
        let long = "é".repeat(MAX_CLIENT_NAME_CHARS + 10);
        let capped = "é".repeat(MAX_CLIENT_NAME_CHARS);
        for (raw, expected, warned) in [
            (json!("ChatGPT"), Some("ChatGPT"), false),
            (json!("Cursor – IDE 日本"), Some("Cursor – IDE 日本"), false),
            (json!("  Padded  "), Some("Padded"), true),
            (json!("Evil\u{202E}gnp.exe"), Some("Evilgnp.exe"), true),
            (json!("a\u{2066}b\u{2069}c\u{200F}"), Some("abc"), true),
            (json!("Line\nBreak"), Some("Line Break"), true),
            (json!("Bell\u{7}\u{0}\u{9B}"), Some("Bell"), true),
            (json!("\u{FEFF}Bom"), Some("Bom"), true),
            (json!(long), Some(capped.as_str()), true),
            (json!("\n\u{202E} \t"), None, true),
            (json!(""), None, true),
            (json!(5), None, true),
            (json!(null), None, true),
            (json!(["ChatGPT"]), None, true),
        ] {
            let mut body = doc(json!({}));
            body["client_name"] = raw.clone();
            let v = ok(&body, &["none"]);
            assert_eq!(v.metadata.client_name.as_deref(), expected, "{raw}");
            let want: Vec<String> = if warned {
                strings(&[WARN_CLIENT_NAME_SANITIZED])
            } else {
                Vec::new()
            };
            assert_eq!(v.warnings, want, "{raw}");
        }
        // A name cut after a space does not keep the trailing space.
        let name = format!("{} tail", "x".repeat(MAX_CLIENT_NAME_CHARS - 1));
        assert_eq!(sanitize_name(&name), "x".repeat(MAX_CLIENT_NAME_CHARS - 1));
    }

    #[test]
    fn warnings_are_deduplicated_in_stable_order() {
        let body = json!({
            "client_id": ID,
            "client_name": " x ",
            "logo_uri": "javascript:alert(1)",
            "tos_uri": "data:,x",
            "policy_uri": "file:///p",
            "redirect_uris": ["http://127.0.0.1/cb"],
            "grant_types": ["authorization_code", "password", "implicit"],
            "response_types": ["code", "token", "id_token"]
        });
        let v = ok(&body, &["none"]);
        assert_eq!(
            v.warnings,
            strings(&[
                WARN_CLIENT_NAME_SANITIZED,
                WARN_DISPLAY_URI_DROPPED,
                WARN_GRANT_TYPE_FILTERED,
                WARN_RESPONSE_TYPE_FILTERED,
                WARN_LOCALHOST_REDIRECTS_ONLY,
            ])
        );
    }

    #[test]
    fn serialisation_omits_absent_fields_and_never_emits_null() {
        let v = ok(&doc(json!({})), &["none"]);
        let out = serde_json::to_value(&v.metadata).unwrap();
        let keys: Vec<&str> = out.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "client_id",
            "grant_types",
            "redirect_uris",
            "response_types",
            "token_endpoint_auth_method",
        ];
        want.sort_unstable();
        assert_eq!(keys, want);
        assert!(!serde_json::to_string(&v.metadata).unwrap().contains("null"));

        let full = doc(json!({
            "client_name": "C", "client_uri": "https://c.example", "logo_uri": "https://c.example/l.png",
            "tos_uri": "https://c.example/tos", "policy_uri": "https://c.example/privacy",
            "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [rsa_public()]},
            "scope": "openid", "application_type": "web", "contacts": ["a@c.example"], "software_id": "s",
            "software_version": "1", "post_logout_redirect_uris": ["https://c.example/bye"]
        }));
        let v = ok(&full, &["private_key_jwt"]);
        let out = serde_json::to_value(&v.metadata).unwrap();
        // Every §6 field but jwks_uri (mutually exclusive with jwks).
        assert_eq!(out.as_object().unwrap().len(), 17, "{out}");
        assert!(out.as_object().unwrap().values().all(|v| !v.is_null()));
        // With jwks_uri instead, jwks is omitted and not null.
        let v = ok(
            &doc(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://c.example/j"})),
            &["private_key_jwt"],
        );
        let out = serde_json::to_value(&v.metadata).unwrap();
        assert!(
            out.get("jwks").is_none() && out["jwks_uri"] == json!("https://c.example/j"),
            "{out}"
        );
    }

    #[test]
    fn policy_from_config_maps_limits_and_lists() {
        let config = Config {
            max_json_depth: 7,
            max_array_items: 9,
            ..host(&["none", "private_key_jwt"])
        };
        let p = DocumentPolicy::from_config(&config);
        assert_eq!(p.limits.max_depth, 7);
        assert_eq!(p.limits.max_array_items, 9);
        assert_eq!(p.limits.max_object_members, 256);
        assert_eq!(p.auth_methods_supported, &config.auth_methods_supported[..]);
        assert_eq!(p.grant_types_supported, &config.grant_types_supported[..]);
        assert_eq!(p.response_types_supported, &config.response_types_supported[..]);
    }

    #[test]
    fn long_values_are_shortened_in_descriptions() {
        let long = format!("https://c.example/{}", "a".repeat(5000));
        let e = run(&doc(json!({ "client_id": long })), &["none"]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ClientIdMismatch);
        assert!(e.description().len() < 500, "{}", e.description().len());
    }
}
