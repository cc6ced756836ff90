//! Opaque handles: how a Rust value becomes a pointer that the host holds, and how it comes back.
//!
//! The header declares every handle as an incomplete struct (`typedef struct cimd_engine cimd_engine;`), so C
//! can hold and pass the pointer but never look inside. Behind it is a heap-allocated [`Tagged`] value: a
//! magic number that names the kind of handle, then the Rust value.
//!
//! The magic number is checked on every use. A pointer to another kind of handle (a `cimd_error *` cast to a
//! `cimd_result *`) is refused with `CIMD_STATUS_INVALID_HANDLE` instead of being misread, and so, most of the
//! time, is a pointer that was already freed, because freeing clears the magic number. "Most of the time"
//! because freed memory can be reused by the allocator; the check catches mistakes, it is not a guarantee.
//!
//! The guarantee against double free is in the free functions' signature: they take the address of the
//! caller's pointer and set it to NULL, and freeing NULL does nothing. A binding whose `close()` and finalizer
//! both free the same field therefore frees once.

use std::ptr;

use super::panic::value_boundary;
use super::status::cimd_status;

/// A C-visible handle type and the Rust value behind it.
pub(crate) trait Handle {
    /// What the handle owns.
    type Value;
    /// Distinct for every handle kind; never 0 (0 marks a freed handle).
    const MAGIC: u64;
}

/// The allocation behind a handle. `repr(C)` puts the magic number first in every kind of handle, so reading
/// it through a pointer of the wrong kind stays inside the allocation.
#[repr(C)]
struct Tagged<T> {
    magic: u64,
    value: T,
}

/// Moves `value` to the heap and returns the handle the host will own.
pub(crate) fn into_raw<H: Handle>(value: H::Value) -> *mut H {
    Box::into_raw(Box::new(Tagged {
        magic: H::MAGIC,
        value,
    }))
    .cast()
}

/// Borrows the value behind a handle for the duration of a call.
///
/// # Safety
/// `handle` is NULL or a pointer returned by [`into_raw`] for some handle kind, not freed, and not freed by
/// another thread during `'a`.
pub(crate) unsafe fn borrow<'a, H: Handle>(handle: *const H) -> Result<&'a H::Value, cimd_status> {
    if handle.is_null() {
        return Err(cimd_status::InvalidArgument);
    }
    let tagged = handle.cast::<Tagged<H::Value>>();
    // SAFETY: per the contract, `handle` points at a live `Tagged<_>` of some kind; all kinds are `repr(C)` and
    // start with the u64 magic, so this read is in bounds and aligned whatever the kind.
    let magic = unsafe { ptr::addr_of!((*tagged).magic).read() };
    if magic != H::MAGIC {
        return Err(cimd_status::InvalidHandle);
    }
    // SAFETY: the magic number says this allocation is a `Tagged<H::Value>` made by `into_raw::<H>`, and it
    // stays alive during `'a` per the contract. Only shared references are ever made to it.
    Ok(unsafe { &(*tagged).value })
}

/// Frees the handle in `*slot` and sets `*slot` to NULL. Does nothing when `slot` or `*slot` is NULL, or when
/// `*slot` is not a live handle of kind `H` (leaking is better than freeing what is not ours).
///
/// # Safety
/// `slot` is NULL or points to a writable pointer that is NULL or was returned by [`into_raw`] for some handle
/// kind; no other thread uses that handle during or after this call.
pub(crate) unsafe fn free<H: Handle>(slot: *mut *mut H) {
    if slot.is_null() {
        return;
    }
    // SAFETY: `slot` is non-NULL and points to a readable pointer per the contract.
    let handle = unsafe { slot.read() };
    // SAFETY: `handle` is NULL or a live handle per the contract.
    if unsafe { borrow(handle) }.is_err() {
        return;
    }
    let tagged = handle.cast::<Tagged<H::Value>>();
    // SAFETY: `borrow` checked that this is a live `Tagged<H::Value>`, which nobody else uses (contract). The
    // volatile write keeps the compiler from dropping the store as dead before the deallocation.
    unsafe { ptr::addr_of_mut!((*tagged).magic).write_volatile(0) };
    // SAFETY: `slot` is writable per the contract.
    unsafe { slot.write(ptr::null_mut()) };
    // SAFETY: the allocation came from `Box::new` in `into_raw` and is released exactly once: here, after which
    // the caller's pointer is NULL.
    drop(unsafe { Box::from_raw(tagged) });
}

/// The body of the `_free` export of a handle that has nothing to stop first: [`free`] inside the panic boundary.
///
/// # Safety
/// As for [`free`].
pub(crate) unsafe fn free_export<H: Handle>(slot: *mut *mut H) {
    // SAFETY: forwarded contract.
    value_boundary((), || unsafe { free(slot) })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Apples;
    impl Handle for Apples {
        type Value = String;
        const MAGIC: u64 = 1;
    }
    struct Pears;
    impl Handle for Pears {
        type Value = u64;
        const MAGIC: u64 = 2;
    }

    #[test]
    fn handles_check_their_kind_and_free_once() {
        let mut apple = into_raw::<Apples>("apple".to_owned());
        // SAFETY: `apple` is live; the pear view only reads the magic number.
        unsafe {
            assert_eq!(borrow(apple).map(String::as_str), Ok("apple"));
            assert_eq!(
                borrow(apple.cast::<Pears>().cast_const()).err(),
                Some(cimd_status::InvalidHandle)
            );
            let mut as_pear = apple.cast::<Pears>();
            free(&mut as_pear);
            assert!(!as_pear.is_null(), "a handle of another kind is left alone");
            free(&mut apple);
            assert!(apple.is_null());
            free(&mut apple);
            free::<Apples>(ptr::null_mut());
            assert_eq!(borrow(apple).err(), Some(cimd_status::InvalidArgument));
        }
    }
}
