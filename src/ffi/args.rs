//! Arguments that cross the boundary: strings in as (pointer, length), results out through out-parameters.
//!
//! Every string argument is UTF-8 given as a pointer and a byte length, so that no caller has to NUL-terminate
//! and no byte is read beyond `len`. Out-parameters are checked before any work starts (a NULL out-parameter
//! must not cost a network fetch) and written only when the call succeeds.

use std::ffi::c_char;

use super::status::cimd_status;

/// A required string argument.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes during `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, len: usize) -> Result<&'a str, cimd_status> {
    if ptr.is_null() || len > isize::MAX as usize {
        return Err(cimd_status::InvalidArgument);
    }
    // SAFETY: non-NULL, at most isize::MAX bytes, readable for `'a` per the contract.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|_| cimd_status::InvalidUtf8)
}

/// An optional string argument: NULL means absent (and `len` is ignored).
///
/// # Safety
/// As for [`str_arg`].
pub(crate) unsafe fn optional_str_arg<'a>(
    ptr: *const c_char,
    len: usize,
) -> Result<Option<&'a str>, cimd_status> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { str_arg(ptr, len) }.map(Some)
}

/// Checks that a required out-parameter can be written, before the call does any work.
pub(crate) fn required_out<T>(slot: *mut T) -> Result<OutParam<T>, cimd_status> {
    if slot.is_null() {
        Err(cimd_status::InvalidArgument)
    } else {
        Ok(OutParam(slot))
    }
}

/// An optional out-parameter (NULL: the caller does not want this output).
pub(crate) fn optional_out<T>(slot: *mut T) -> Option<OutParam<T>> {
    (!slot.is_null()).then_some(OutParam(slot))
}

/// A non-NULL out-parameter.
pub(crate) struct OutParam<T>(*mut T);

impl<T> OutParam<T> {
    /// Writes the output (without reading or dropping what was there: the caller's memory may be uninitialised).
    ///
    /// # Safety
    /// The pointer given by the caller is valid for writes of a `T` and suitably aligned.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL (checked at construction), writable per the contract.
        unsafe { self.0.write(value) }
    }
}

/// A per-call deadline in milliseconds; 0 means none (the engine's own `fetch_timeout_ms` still applies).
pub(crate) fn timeout_arg(timeout_ms: u64) -> Option<std::time::Duration> {
    (timeout_ms > 0).then(|| std::time::Duration::from_millis(timeout_ms))
}
