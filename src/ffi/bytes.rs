//! Owned byte buffers handed to the caller (the counters, the discovery fields and the cache entries as JSON).
//!
//! A [`cimd_bytes`] is a plain struct the caller reads directly. Its memory belongs to cimd's allocator, so it
//! goes back through `cimd_bytes_free`, never `free()`. The bytes are followed by a NUL (not counted in `len`)
//! so that C can print them as a string.

use serde::Serialize;

use super::panic::value_boundary;

/// Bytes owned by the caller: `len` bytes of UTF-8 at `data`, followed by a NUL byte that `len` does not count.
/// Release with `cimd_bytes_free`; do not change the fields before that.
#[repr(C)]
#[derive(Debug)]
pub struct cimd_bytes {
    /// The first byte; NULL only after `cimd_bytes_free`.
    pub data: *const u8,
    /// The number of bytes, without the trailing NUL.
    pub len: usize,
}

impl cimd_bytes {
    /// Serialises `value` as JSON into a new buffer.
    pub(crate) fn json(value: &impl Serialize) -> cimd_bytes {
        let mut bytes = serde_json::to_vec(value).expect("serialising plain data to JSON cannot fail");
        let len = bytes.len();
        bytes.push(0);
        let data = Box::into_raw(bytes.into_boxed_slice()).cast::<u8>();
        cimd_bytes { data, len }
    }
}

/// Frees the buffer in `*bytes` and sets its fields to NULL and 0. Does nothing if `bytes` is NULL or
/// `bytes->data` is NULL, so calling it twice on the same struct is harmless.
///
/// # Safety
/// `bytes` is NULL or points to a `cimd_bytes` filled in by this library (and not modified since), or one
/// whose `data` is NULL.
#[no_mangle]
pub unsafe extern "C" fn cimd_bytes_free(bytes: *mut cimd_bytes) {
    value_boundary((), || {
        if bytes.is_null() {
            return;
        }
        // SAFETY: non-NULL and pointing at a `cimd_bytes` per the contract.
        let bytes = unsafe { &mut *bytes };
        if bytes.data.is_null() {
            return;
        }
        let all = std::ptr::slice_from_raw_parts_mut(bytes.data.cast_mut(), bytes.len + 1);
        bytes.data = std::ptr::null();
        bytes.len = 0;
        // SAFETY: `data` and `len + 1` are exactly the boxed slice made by `cimd_bytes::json` (contract), released
        // once: the struct no longer points at it.
        drop(unsafe { Box::from_raw(all) });
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_nul_terminated_and_free_once() {
        let mut b = cimd_bytes::json(&serde_json::json!({"a": 1}));
        // SAFETY: `b` was made by `cimd_bytes::json`; its `len + 1` bytes are readable until freed.
        unsafe {
            let all = std::slice::from_raw_parts(b.data, b.len + 1);
            assert_eq!(all, b"{\"a\":1}\0");
            cimd_bytes_free(&mut b);
            assert!(b.data.is_null() && b.len == 0);
            cimd_bytes_free(&mut b);
            cimd_bytes_free(std::ptr::null_mut());
        }
    }
}
