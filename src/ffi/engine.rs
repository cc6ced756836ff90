//! The engine handle: creation from the configuration JSON, release, and the operator calls (invalidate one
//! entry, read the counters, the cache entries and the discovery fields).

use std::ffi::c_char;
use std::time::Duration;

use super::args::{required_out, str_arg};
use super::bytes::cimd_bytes;
use super::error::{cimd_error, report, ErrorDetails};
use super::handle::{self, Handle};
use super::panic::{status_boundary, value_boundary};
use super::status::cimd_status;
use crate::Engine;

/// An engine: one configuration, one cache, one I/O runtime. Created by `cimd_engine_new`, owned by the caller,
/// released with `cimd_engine_free`. Share one engine between all threads (every call but `cimd_engine_free`
/// may run concurrently with any other); create one per configuration.
pub struct cimd_engine {
    _opaque: [u8; 0],
}

impl Handle for cimd_engine {
    type Value = Engine;
    const MAGIC: u64 = u64::from_le_bytes(*b"cimd:eng");
}

/// Creates an engine from a configuration JSON object, with the keys every cimd front end shares (`{}` gives
/// the production defaults).
///
/// `config` points to `config_len` bytes of UTF-8 (no NUL needed). On success `*engine` receives the new
/// engine, which the caller owns. If the configuration is refused (not JSON, an unknown key, a wrong type, an
/// out-of-range value, an unreadable `extra_ca_file`), the status is `CIMD_STATUS_CONFIG_ERROR` and, if
/// `error` is not NULL, `*error` receives an error object with the message, which the caller owns.
///
/// # Safety
/// `config` is NULL or valid for reads of `config_len` bytes; `engine` and `error` are NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_engine_new(
    config: *const c_char,
    config_len: usize,
    engine: *mut *mut cimd_engine,
    error: *mut *mut cimd_error,
) -> cimd_status {
    status_boundary(|| {
        let engine = required_out(engine)?;
        // SAFETY: forwarded contract.
        let config = unsafe { str_arg(config, config_len) }?;
        match Engine::from_json(config) {
            // SAFETY: `engine` is valid for writes per the contract.
            Ok(created) => unsafe { engine.write(handle::into_raw(created)) },
            // SAFETY: `error` is NULL or valid for writes per the contract.
            Err(refused) => return Err(unsafe { report(error, ErrorDetails::config(&refused.to_string())) }),
        }
        Ok(())
    })
}

/// How long `cimd_engine_free` waits for the engine's I/O threads to finish.
const FREE_TIMEOUT: Duration = Duration::from_secs(1);

/// Frees the engine in `*engine` and sets `*engine` to NULL. Does nothing if `engine` or `*engine` is NULL, so
/// calling it twice on the same variable is harmless. Results and errors obtained from the engine stay valid
/// (free them separately).
///
/// The engine's I/O threads are stopped, and the call waits for them (at most one second), so that when it
/// returns no thread or socket of the engine remains. Fetches still in flight are abandoned.
///
/// # Safety
/// `engine` is NULL or points to a pointer that is NULL or an engine from this library that has not been freed
/// through another copy of the pointer. No other thread may be inside a call on this engine, or start one.
#[no_mangle]
pub unsafe extern "C" fn cimd_engine_free(engine: *mut *mut cimd_engine) {
    value_boundary((), || {
        if engine.is_null() {
            return;
        }
        // SAFETY: `engine` is non-NULL and readable per the contract.
        if let Ok(live) = unsafe { handle::borrow(engine.read()) } {
            // Waiting panics inside async code (a host that calls us from its own event loop); the engine is
            // freed all the same, its threads then stop in the background.
            value_boundary((), || live.shutdown(FREE_TIMEOUT));
        }
        // SAFETY: forwarded contract.
        unsafe { handle::free(engine) }
    })
}

/// The engine and the client_id of a call: the first arguments of every call about one client.
///
/// # Safety
/// `engine` is NULL or a live engine; `client_id` is NULL or valid for reads of `client_id_len` bytes, both
/// during `'a`.
pub(crate) unsafe fn engine_and_client_id<'a>(
    engine: *const cimd_engine,
    client_id: *const c_char,
    client_id_len: usize,
) -> Result<(&'a Engine, &'a str), cimd_status> {
    // SAFETY: forwarded contract.
    unsafe { Ok((handle::borrow(engine)?, str_arg(client_id, client_id_len)?)) }
}

/// Forgets the cached document of one client_id, so that the next resolve fetches it again. Returns
/// `CIMD_STATUS_OK` if there was one, `CIMD_STATUS_NOT_FOUND` if not. Never does I/O.
///
/// # Safety
/// `engine` is NULL or a live engine; `client_id` is NULL or valid for reads of `client_id_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cimd_invalidate(
    engine: *const cimd_engine,
    client_id: *const c_char,
    client_id_len: usize,
) -> cimd_status {
    status_boundary(|| {
        // SAFETY: forwarded contract.
        let (engine, client_id) = unsafe { engine_and_client_id(engine, client_id, client_id_len) }?;
        if engine.invalidate(client_id) {
            Ok(())
        } else {
            Err(cimd_status::NotFound)
        }
    })
}

/// Writes `value` of the engine as JSON into `*out`.
///
/// # Safety
/// `engine` is NULL or a live engine; `out` is NULL or valid for writes.
unsafe fn engine_json<T: serde::Serialize>(
    engine: *const cimd_engine,
    out: *mut cimd_bytes,
    value: impl FnOnce(&Engine) -> T,
) -> cimd_status {
    status_boundary(|| {
        let out = required_out(out)?;
        // SAFETY: forwarded contract.
        let engine = unsafe { handle::borrow(engine) }?;
        let json = cimd_bytes::json(&value(engine));
        // SAFETY: `out` is valid for writes per the contract.
        unsafe { out.write(json) };
        Ok(())
    })
}

/// The counters as a JSON object: `hits`, `misses`, `fetches`, `not_modified`, `coalesced_waits`,
/// `stale_served`, `background_refreshes`, `evictions`, `invalidations`, `entries`, `cache_bytes`, and
/// `failures` (an object from error code name to count). On success `*out` receives a buffer the caller owns and
/// releases with `cimd_bytes_free`.
///
/// # Safety
/// `engine` is NULL or a live engine; `out` is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_stats_json(engine: *const cimd_engine, out: *mut cimd_bytes) -> cimd_status {
    // SAFETY: forwarded contract.
    unsafe { engine_json(engine, out, Engine::stats) }
}

/// The fields a host should add to its authorization-server metadata (RFC 8414, OpenID discovery) when it
/// enables cimd, as a JSON object: `client_id_metadata_document_supported`,
/// `token_endpoint_auth_methods_supported`, `code_challenge_methods_supported`. On success `*out` receives a
/// buffer the caller owns and releases with `cimd_bytes_free`.
///
/// # Safety
/// `engine` is NULL or a live engine; `out` is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_discovery_json(
    engine: *const cimd_engine,
    out: *mut cimd_bytes,
) -> cimd_status {
    // SAFETY: forwarded contract.
    unsafe { engine_json(engine, out, Engine::discovery_metadata) }
}

/// The description of every configuration key, as the JSON object `{"keys": [...]}`: for each key its `name`,
/// `title`, `type` (`boolean`, `integer`, `string`, `string_list`, `object`, `object_list`), `default`, `min`,
/// `max` and `unit` (integers), `values` (closed lists), `fields` (objects) and `description`. The same text as
/// `cimd config-schema`; bindings and settings forms read it instead of restating the keys. Needs no engine. On
/// success `*out` receives a buffer the caller owns and releases with `cimd_bytes_free`.
///
/// # Safety
/// `out` is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_config_schema_json(out: *mut cimd_bytes) -> cimd_status {
    status_boundary(|| {
        let out = required_out(out)?;
        let json = cimd_bytes::json(&crate::config::schema_json());
        // SAFETY: `out` is valid for writes per the contract.
        unsafe { out.write(json) };
        Ok(())
    })
}

/// The cache entries, for operators, as a JSON array of objects with `client_id`, `state` (`fresh`, `stale`,
/// `expired`), `fetched_at`, `confirmed_at`, `expires_at`, `generation`, `etag`, `bytes`, `client_name` and
/// `changed`. On success `*out` receives a buffer the caller owns and releases with `cimd_bytes_free`.
///
/// # Safety
/// `engine` is NULL or a live engine; `out` is NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_entries_json(engine: *const cimd_engine, out: *mut cimd_bytes) -> cimd_status {
    // SAFETY: forwarded contract.
    unsafe { engine_json(engine, out, Engine::entries) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    #[test]
    fn free_from_inside_async_code_still_frees() {
        let config = "{}";
        let mut engine = ptr::null_mut();
        // SAFETY: valid config bytes; the out-parameter is a local.
        let created =
            unsafe { cimd_engine_new(config.as_ptr().cast(), config.len(), &mut engine, ptr::null_mut()) };
        assert_eq!(created, cimd_status::Ok);
        let host_loop = tokio::runtime::Builder::new_current_thread().build().unwrap();
        // SAFETY: `engine` is live and used by no one else.
        host_loop.block_on(async { unsafe { cimd_engine_free(&mut engine) } });
        assert!(engine.is_null());
    }
}
