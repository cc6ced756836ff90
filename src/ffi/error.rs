//! Error objects: why a configuration or a request was refused.
//!
//! The engine's error codes (docs/contract.md §7) get stable numbers here, in [`cimd_code`]. The numbering
//! belongs to the C ABI, not to the engine: [`code_number`] is an exhaustive match, so a code added to the
//! engine does not compile until it has been given the next free number here.

use std::ffi::c_char;

use super::args::{optional_out, required_out};
use super::handle::{self, Handle};
use super::names::{c_name, name_of};
use super::panic::{status_boundary, value_boundary};
use super::status::cimd_status;
use crate::error::{Error, ErrorCode};

/// An error object: the status that produced it, the engine's error code (for `CIMD_STATUS_REJECTED`) and a
/// human-readable description. Created by cimd, owned by the caller, released with `cimd_error_free`.
/// Immutable: it may be read from any thread.
pub struct cimd_error {
    _opaque: [u8; 0],
}

/// What a `cimd_error` handle owns.
pub(crate) struct ErrorDetails {
    status: cimd_status,
    code: Option<ErrorCode>,
    /// The description followed by a NUL byte, so that C can also print it with `%s`.
    message: String,
}

impl Handle for cimd_error {
    type Value = ErrorDetails;
    const MAGIC: u64 = u64::from_le_bytes(*b"cimd:err");
}

impl ErrorDetails {
    /// The engine refused a request.
    pub(crate) fn rejected(error: &Error) -> ErrorDetails {
        ErrorDetails::new(cimd_status::Rejected, Some(error.code()), error.description())
    }

    /// The configuration was refused.
    pub(crate) fn config(message: &str) -> ErrorDetails {
        ErrorDetails::new(cimd_status::ConfigError, None, message)
    }

    fn new(status: cimd_status, code: Option<ErrorCode>, text: &str) -> ErrorDetails {
        let mut message = String::with_capacity(text.len() + 1);
        message.push_str(text);
        message.push('\0');
        ErrorDetails {
            status,
            code,
            message,
        }
    }
}

/// Hands an error object to the caller if it asked for one, and returns `status` for the `?` of the caller.
///
/// # Safety
/// `error_out` is NULL or valid for writing a pointer.
pub(crate) unsafe fn report(error_out: *mut *mut cimd_error, details: ErrorDetails) -> cimd_status {
    let status = details.status;
    if let Some(out) = optional_out(error_out) {
        // SAFETY: forwarded contract.
        unsafe { out.write(handle::into_raw(details)) };
    }
    status
}

/// The error codes shared by every cimd front end, numbered for the C ABI. The numbers never change within a major ABI
/// version; new codes get new numbers. `cimd_code_name` gives the snake_case name used by every front end.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cimd_code {
    /// Not an engine error: the object reports a configuration error, or the handle is NULL or invalid.
    None = 0,
    /// `invalid_client_id_url`: the client_id breaks a URL rule; nothing was fetched.
    InvalidClientIdUrl = 1,
    /// `host_not_allowed`: the `allowed_hosts` / `denied_hosts` policy refused the host.
    HostNotAllowed = 2,
    /// `blocked_address`: the host resolves to a special-use address.
    BlockedAddress = 3,
    /// `dns_error`: the host name could not be resolved.
    DnsError = 4,
    /// `connect_error`: the TCP connection failed.
    ConnectError = 5,
    /// `tls_error`: the TLS handshake failed.
    TlsError = 6,
    /// `timeout`: a connect, fetch or per-call deadline passed.
    Timeout = 7,
    /// `http_status`: a status other than 200.
    HttpStatus = 8,
    /// `redirect_not_followed`: a 3xx answer; redirects are never followed.
    RedirectNotFollowed = 9,
    /// `too_large`: the body exceeds `max_document_bytes`.
    TooLarge = 10,
    /// `invalid_content_type`: not a JSON media type, a non-UTF-8 charset, or a content encoding.
    InvalidContentType = 11,
    /// `invalid_json`: not UTF-8 JSON, duplicate member names, too deep.
    InvalidJson = 12,
    /// `invalid_metadata`: the document's structure or field values are invalid.
    InvalidMetadata = 13,
    /// `client_id_mismatch`: the document's `client_id` differs from the requested URL.
    ClientIdMismatch = 14,
    /// `forbidden_metadata`: secrets, private keys or shared-secret authentication.
    ForbiddenMetadata = 15,
    /// `unsupported_auth_method`: no token endpoint authentication method in common with the host.
    UnsupportedAuthMethod = 16,
    /// `redirect_uri_mismatch`: the request's redirect_uri is not registered. Show an error page; never
    /// redirect to it.
    RedirectUriMismatch = 17,
    /// `rate_limited`: the engine's own concurrency or rate limits refused the fetch.
    RateLimited = 18,
    /// `internal`: a bug in cimd.
    Internal = 19,
}

/// The ABI number of an engine error code.
fn code_number(code: ErrorCode) -> cimd_code {
    match code {
        ErrorCode::InvalidClientIdUrl => cimd_code::InvalidClientIdUrl,
        ErrorCode::HostNotAllowed => cimd_code::HostNotAllowed,
        ErrorCode::BlockedAddress => cimd_code::BlockedAddress,
        ErrorCode::DnsError => cimd_code::DnsError,
        ErrorCode::ConnectError => cimd_code::ConnectError,
        ErrorCode::TlsError => cimd_code::TlsError,
        ErrorCode::Timeout => cimd_code::Timeout,
        ErrorCode::HttpStatus => cimd_code::HttpStatus,
        ErrorCode::RedirectNotFollowed => cimd_code::RedirectNotFollowed,
        ErrorCode::TooLarge => cimd_code::TooLarge,
        ErrorCode::InvalidContentType => cimd_code::InvalidContentType,
        ErrorCode::InvalidJson => cimd_code::InvalidJson,
        ErrorCode::InvalidMetadata => cimd_code::InvalidMetadata,
        ErrorCode::ClientIdMismatch => cimd_code::ClientIdMismatch,
        ErrorCode::ForbiddenMetadata => cimd_code::ForbiddenMetadata,
        ErrorCode::UnsupportedAuthMethod => cimd_code::UnsupportedAuthMethod,
        ErrorCode::RedirectUriMismatch => cimd_code::RedirectUriMismatch,
        ErrorCode::RateLimited => cimd_code::RateLimited,
        ErrorCode::Internal => cimd_code::Internal,
    }
}

/// The snake_case name of an error code (e.g. `"redirect_uri_mismatch"`), the same string every front end uses.
///
/// Returns a static NUL-terminated string that must not be freed, or NULL for `CIMD_CODE_NONE` and for
/// numbers this library does not know.
#[no_mangle]
pub extern "C" fn cimd_code_name(code: u32) -> *const c_char {
    name_of(
        &ErrorCode::ALL,
        code,
        |c| code_number(c) as u32,
        |c| c_name(c.as_str()),
    )
}

/// The status that produced this error: `CIMD_STATUS_REJECTED` or `CIMD_STATUS_CONFIG_ERROR`.
/// `CIMD_STATUS_INVALID_ARGUMENT` or `CIMD_STATUS_INVALID_HANDLE` if `error` is NULL or not an error object.
///
/// # Safety
/// `error` is NULL or a pointer from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn cimd_error_status(error: *const cimd_error) -> cimd_status {
    value_boundary(cimd_status::Panic, || {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(error) } {
            Ok(details) => details.status,
            Err(status) => status,
        }
    })
}

/// The engine's error code of a `CIMD_STATUS_REJECTED` error; `CIMD_CODE_NONE` for a
/// configuration error or a NULL or invalid handle.
///
/// # Safety
/// `error` is NULL or a pointer from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn cimd_error_code(error: *const cimd_error) -> cimd_code {
    value_boundary(cimd_code::None, || {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(error) } {
            Ok(ErrorDetails { code: Some(code), .. }) => code_number(*code),
            _ => cimd_code::None,
        }
    })
}

/// The description: a sentence that names the broken rule and, where one applies, its requirement id, e.g.
/// "client_id URL has a dot segment (URL-06)". For logs and error pages (escape it for HTML).
///
/// On success `*message` points to the UTF-8 text, followed by a NUL byte so that it can also be used as a C
/// string; `*len` (if `len` is not NULL) receives its length in bytes without the NUL. The text is borrowed from
/// `error` and valid until `error` is freed.
///
/// # Safety
/// `error` is NULL or a pointer from this library that has not been freed; `message` and `len` are NULL or
/// valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_error_message(
    error: *const cimd_error,
    message: *mut *const c_char,
    len: *mut usize,
) -> cimd_status {
    status_boundary(|| {
        let message = required_out(message)?;
        // SAFETY: forwarded contract.
        let details = unsafe { handle::borrow(error) }?;
        // SAFETY: both out-parameters are valid for writes per the contract.
        unsafe {
            message.write(details.message.as_ptr().cast());
            if let Some(len) = optional_out(len) {
                len.write(details.message.len() - 1);
            }
        }
        Ok(())
    })
}

/// The OAuth 2.0 error a host should answer with: `"invalid_client"`, `"invalid_request"`
/// (redirect_uri mismatch: show it, never redirect), `"temporarily_unavailable"` or `"server_error"`.
///
/// Returns a static NUL-terminated string that must not be freed; NULL for a configuration error or a NULL or
/// invalid handle.
///
/// # Safety
/// `error` is NULL or a pointer from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn cimd_error_oauth_error(error: *const cimd_error) -> *const c_char {
    value_boundary(std::ptr::null(), || {
        // SAFETY: forwarded contract.
        match unsafe { handle::borrow(error) } {
            Ok(ErrorDetails { code: Some(code), .. }) => c_name(code.oauth_error()),
            _ => std::ptr::null(),
        }
    })
}

/// True when the failure says nothing about the client and may pass (DNS, connect, TLS, timeout, rate limits,
/// internal): a host can answer `temporarily_unavailable` and the user may retry. False otherwise, including for
/// a configuration error or a NULL or invalid handle.
///
/// # Safety
/// `error` is NULL or a pointer from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn cimd_error_is_transient(error: *const cimd_error) -> bool {
    value_boundary(false, || {
        // SAFETY: forwarded contract.
        matches!(unsafe { handle::borrow(error) }, Ok(ErrorDetails { code: Some(code), .. }) if code.is_transient())
    })
}

/// Frees the error object in `*error` and sets `*error` to NULL. Does nothing if `error` or `*error` is NULL, so
/// calling it twice on the same variable is harmless. Strings borrowed from the error are invalid afterwards.
///
/// # Safety
/// `error` is NULL or points to a pointer that is NULL or an error object from this library that has not been
/// freed through another copy of the pointer; no other thread uses the error object meanwhile.
#[no_mangle]
pub unsafe extern "C" fn cimd_error_free(error: *mut *mut cimd_error) {
    // SAFETY: forwarded contract.
    unsafe { handle::free_export(error) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_engine_code_has_a_distinct_number_and_its_engine_name() {
        // Numbers follow the order of docs/contract.md §7, from 1; 0 is "none".
        let number = |c| code_number(c) as u32;
        crate::ffi::names::assert_numbered(&ErrorCode::ALL, 1, number, cimd_code_name, ErrorCode::as_str);
    }

    #[test]
    fn an_error_object_reports_code_message_and_oauth_error() {
        let mut e = handle::into_raw::<cimd_error>(ErrorDetails::rejected(&crate::err!(
            RedirectUriMismatch,
            "not registered"
        )));
        let (mut text, mut len) = (std::ptr::null(), 0usize);
        // SAFETY: `e` is live until freed below; the out-parameters are locals.
        unsafe {
            assert_eq!(cimd_error_status(e), cimd_status::Rejected);
            assert_eq!(cimd_error_code(e), cimd_code::RedirectUriMismatch);
            assert_eq!(cimd_error_message(e, &mut text, &mut len), cimd_status::Ok);
            assert_eq!(CStr::from_ptr(text).to_str(), Ok("not registered"));
            assert_eq!(len, "not registered".len());
            assert_eq!(
                CStr::from_ptr(cimd_error_oauth_error(e)).to_str(),
                Ok("invalid_request")
            );
            assert!(!cimd_error_is_transient(e));
            cimd_error_free(&mut e);
            assert!(e.is_null());
            cimd_error_free(&mut e);
        }
    }
}
