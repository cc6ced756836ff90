//! Resolving through the ABI: `cimd_resolve`, the I/O-free `cimd_probe`, and the operator's `cimd_refresh`.
//!
//! Each is the engine's call of the same name with its arguments converted; the result or the error is handed
//! back as an object. These calls block the calling thread until the engine answers (a cache hit returns at
//! once), so hosts call them from their request threads, never from inside an event loop that must not block.

use std::ffi::c_char;

use super::args::{optional_str_arg, required_out, timeout_arg, OutParam};
use super::engine::{cimd_engine, engine_and_client_id};
use super::error::{cimd_error, report, ErrorDetails};
use super::handle;
use super::panic::status_boundary;
use super::result::cimd_result;
use super::status::cimd_status;
use crate::{Error, Resolution};

/// What `cimd_resolve` and `cimd_refresh` ask of the engine. A redirect_uri is read only after the engine and the
/// client_id, as in every call about one client, so that the status of a call with several bad arguments does
/// not depend on which call it is.
enum Call {
    Resolve {
        redirect_uri: *const c_char,
        redirect_uri_len: usize,
    },
    Refresh,
}

/// The body of `cimd_resolve` and `cimd_refresh`: the arguments checked in order (the result out-parameter, the
/// engine and the client_id, then what the call adds), the engine's call within the call's deadline, and its
/// outcome handed back.
///
/// # Safety
/// As for `cimd_resolve`.
unsafe fn answer(
    engine: *const cimd_engine,
    client_id: *const c_char,
    client_id_len: usize,
    call: Call,
    timeout_ms: u64,
    result: *mut *mut cimd_result,
    error: *mut *mut cimd_error,
) -> Result<(), cimd_status> {
    let result = required_out(result)?;
    // SAFETY: forwarded contract.
    let (engine, client_id) = unsafe { engine_and_client_id(engine, client_id, client_id_len) }?;
    let timeout = timeout_arg(timeout_ms);
    let outcome = match call {
        Call::Resolve {
            redirect_uri,
            redirect_uri_len,
        } => {
            // SAFETY: forwarded contract.
            let redirect_uri = unsafe { optional_str_arg(redirect_uri, redirect_uri_len) }?;
            engine.resolve_blocking(client_id, redirect_uri, timeout)
        }
        Call::Refresh => engine.refresh_blocking(client_id, timeout),
    };
    // SAFETY: forwarded contract.
    unsafe { deliver(outcome, result, error) }
}

/// Hands the outcome of an engine call to the caller.
///
/// # Safety
/// `result` was checked writable; `error` is NULL or valid for writes.
unsafe fn deliver(
    outcome: Result<Resolution, Error>,
    result: OutParam<*mut cimd_result>,
    error: *mut *mut cimd_error,
) -> Result<(), cimd_status> {
    match outcome {
        Ok(resolution) => {
            // SAFETY: forwarded contract.
            unsafe { result.write(handle::into_raw(resolution)) };
            Ok(())
        }
        // SAFETY: forwarded contract.
        Err(rejected) => Err(unsafe { report(error, ErrorDetails::rejected(&rejected)) }),
    }
}

/// Resolves a client_id (an HTTPS URL) into a validated registration, checking `redirect_uri` against it when
/// one is given: from the cache when fresh, else by fetching and validating the document.
///
/// - `client_id`, `client_id_len`: the client_id as UTF-8 bytes (no NUL needed). Required.
/// - `redirect_uri`, `redirect_uri_len`: the authorization request's redirect_uri as UTF-8, or NULL (then
///   `redirect_uri_len` is ignored) to skip that check.
/// - `timeout_ms`: a deadline for this call in milliseconds, or 0 for none; it can only shorten the configured
///   `fetch_timeout_ms`. A cache hit returns at once whatever the deadline.
/// - On success `*result` receives a result the caller owns (release it with `cimd_result_free`).
/// - If the engine refuses, the status is `CIMD_STATUS_REJECTED` and, if `error` is not NULL, `*error` receives
///   an error object with the error code and description, which the caller owns (`cimd_error_free`).
///
/// Blocks the calling thread until the answer. Safe to call from many threads at once; concurrent calls for
/// one client_id share a single fetch.
///
/// # Safety
/// `engine` is NULL or a live engine; the strings are NULL or valid for reads of their lengths; `result` and
/// `error` are NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_resolve(
    engine: *const cimd_engine,
    client_id: *const c_char,
    client_id_len: usize,
    redirect_uri: *const c_char,
    redirect_uri_len: usize,
    timeout_ms: u64,
    result: *mut *mut cimd_result,
    error: *mut *mut cimd_error,
) -> cimd_status {
    let call = Call::Resolve {
        redirect_uri,
        redirect_uri_len,
    };
    // SAFETY: forwarded contract.
    status_boundary(|| unsafe { answer(engine, client_id, client_id_len, call, timeout_ms, result, error) })
}

/// The cached answer for a client_id, without any I/O and without starting a refresh: `CIMD_STATUS_OK` and a
/// result the caller owns in `*result` if the cache holds a fresh document (or one still servable while stale),
/// else `CIMD_STATUS_NOT_FOUND` (a resolve would have to fetch). No redirect_uri check: resolve for that.
///
/// # Safety
/// `engine` is NULL or a live engine; `client_id` is NULL or valid for reads of `client_id_len` bytes; `result`
/// is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_probe(
    engine: *const cimd_engine,
    client_id: *const c_char,
    client_id_len: usize,
    result: *mut *mut cimd_result,
) -> cimd_status {
    status_boundary(|| {
        let result = required_out(result)?;
        // SAFETY: forwarded contract.
        let (engine, client_id) = unsafe { engine_and_client_id(engine, client_id, client_id_len) }?;
        let cached = engine.probe(client_id).ok_or(cimd_status::NotFound)?;
        // SAFETY: `result` is valid for writes per the contract.
        unsafe { result.write(handle::into_raw(cached)) };
        Ok(())
    })
}

/// Fetches a client_id's document again now, whatever its freshness (conditionally, when the cache holds
/// validators), for operators. Arguments and outcome as for `cimd_resolve`, without a redirect_uri. A changed
/// document gets a new generation and lists the changed fields in its JSON's `changed`.
///
/// # Safety
/// As for `cimd_resolve`.
#[no_mangle]
pub unsafe extern "C" fn cimd_refresh(
    engine: *const cimd_engine,
    client_id: *const c_char,
    client_id_len: usize,
    timeout_ms: u64,
    result: *mut *mut cimd_result,
    error: *mut *mut cimd_error,
) -> cimd_status {
    let call = Call::Refresh;
    // SAFETY: forwarded contract.
    status_boundary(|| unsafe { answer(engine, client_id, client_id_len, call, timeout_ms, result, error) })
}
