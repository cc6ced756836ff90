//! Result handles: one successful resolution and its accessors.
//!
//! A result holds a reference to the shared document version (`Arc<ResolvedClient>`), so its JSON is not
//! copied: `cimd_result_json` lends the bytes the engine serialised once when it validated that version. A
//! binding keeps its decoded object as long as `cimd_result_generation` stays the same and decodes only when the
//! document has changed.

use std::ffi::c_char;
use std::time::UNIX_EPOCH;

use super::args::required_out;
use super::handle::{self, Handle};
use super::names::{c_name, name_of};
use super::panic::{status_boundary, value_boundary};
use super::status::cimd_status;
use crate::result::{Resolution, Source};

/// A successful resolution. Created by `cimd_resolve`, `cimd_probe` or `cimd_refresh`, owned by the caller,
/// released with `cimd_result_free`. Immutable: it may be read from any thread. It does not depend on the
/// engine: it stays valid after `cimd_engine_free`.
pub struct cimd_result {
    _opaque: [u8; 0],
}

impl Handle for cimd_result {
    type Value = Resolution;
    const MAGIC: u64 = u64::from_le_bytes(*b"cimd:res");
}

/// Where a result came from.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cimd_source {
    /// Not a result: the handle is NULL or invalid.
    None = 0,
    /// Fetched for this request (or confirmed by the host with a 304).
    Network = 1,
    /// Served from the cache while fresh.
    Cache = 2,
    /// Served from the cache after expiry: while it is revalidated in the background, or while the host fails
    /// (stale-if-error).
    Stale = 3,
    /// Validated from a local document (not produced by this ABI today; reserved so the numbering is total).
    Local = 4,
}

impl From<Source> for cimd_source {
    fn from(source: Source) -> cimd_source {
        match source {
            Source::Network => cimd_source::Network,
            Source::Cache => cimd_source::Cache,
            Source::Stale => cimd_source::Stale,
            Source::Local => cimd_source::Local,
        }
    }
}

impl cimd_source {
    const ALL: [Source; 4] = [Source::Network, Source::Cache, Source::Stale, Source::Local];
}

/// The name of a source as in the CLI's output (`"network"`, `"cache"`, `"stale"`, `"local"`).
///
/// Returns a static NUL-terminated string that must not be freed, or NULL for `CIMD_SOURCE_NONE` and for
/// numbers this library does not know.
#[no_mangle]
pub extern "C" fn cimd_source_name(source: u32) -> *const c_char {
    name_of(
        &cimd_source::ALL,
        source,
        |s| cimd_source::from(s) as u32,
        |s| c_name(s.as_str()),
    )
}

/// The resolved client as one JSON object:
/// `{"client": {...}, "warnings": [...], "changed": [...], "fetched_at": "...", "generation": N}`
/// (`client` holds the document's registration fields that are present, plus `display_host`).
///
/// On success `*json` points to `*len` bytes of UTF-8, **not** NUL-terminated. The bytes are borrowed: they are
/// built once per document version and shared by every result of that version, and stay valid until `result` is
/// freed. Do not write to them.
///
/// # Safety
/// `result` is NULL or a pointer from this library that has not been freed; `json` and `len` are NULL or valid
/// for writes.
#[no_mangle]
pub unsafe extern "C" fn cimd_result_json(
    result: *const cimd_result,
    json: *mut *const u8,
    len: *mut usize,
) -> cimd_status {
    status_boundary(|| {
        let (json, len) = (required_out(json)?, required_out(len)?);
        // SAFETY: forwarded contract.
        let document = unsafe { handle::borrow(result) }?.client().document_json();
        // SAFETY: both out-parameters are valid for writes per the contract.
        unsafe {
            json.write(document.as_ptr());
            len.write(document.len());
        }
        Ok(())
    })
}

/// The document version: equal for two results exactly when they carry the same document, so a binding can keep
/// its decoded JSON while this number stays the same. Starts at 1; 0 for a NULL or invalid handle.
///
/// # Safety
/// `result` is NULL or a pointer from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn cimd_result_generation(result: *const cimd_result) -> u64 {
    value_boundary(0, || {
        // SAFETY: forwarded contract.
        unsafe { handle::borrow(result) }.map_or(0, |r| r.client().generation())
    })
}

/// Where this answer came from (`CIMD_SOURCE_NETWORK`, `_CACHE` or `_STALE`); `CIMD_SOURCE_NONE` for a NULL or
/// invalid handle.
///
/// # Safety
/// `result` is NULL or a pointer from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn cimd_result_source(result: *const cimd_result) -> cimd_source {
    value_boundary(cimd_source::None, || {
        // SAFETY: forwarded contract.
        unsafe { handle::borrow(result) }.map_or(cimd_source::None, |r| r.source().into())
    })
}

/// Until when the document is fresh, in milliseconds since the Unix epoch (negative before 1970). 0 for a
/// NULL or invalid handle.
///
/// # Safety
/// `result` is NULL or a pointer from this library that has not been freed.
#[no_mangle]
pub unsafe extern "C" fn cimd_result_expires_at_unix_ms(result: *const cimd_result) -> i64 {
    value_boundary(0, || {
        // SAFETY: forwarded contract.
        unsafe { handle::borrow(result) }.map_or(0, |r| match r.expires_at().duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
            Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
        })
    })
}

/// Frees the result in `*result` and sets `*result` to NULL. Does nothing if `result` or `*result` is NULL, so
/// calling it twice on the same variable is harmless. The JSON borrowed from the result is invalid afterwards.
///
/// # Safety
/// `result` is NULL or points to a pointer that is NULL or a result from this library that has not been freed
/// through another copy of the pointer; no other thread uses the result meanwhile.
#[no_mangle]
pub unsafe extern "C" fn cimd_result_free(result: *mut *mut cimd_result) {
    // SAFETY: forwarded contract.
    unsafe { handle::free_export(result) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_numbers_and_names_are_stable() {
        let number = |s| cimd_source::from(s) as u32;
        crate::ffi::names::assert_numbered(&cimd_source::ALL, 1, number, cimd_source_name, Source::as_str);
    }
}
