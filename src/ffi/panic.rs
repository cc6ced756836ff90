//! The panic boundary around every export.
//!
//! A panic must never cross into the host. Unwinding through a C, JVM or Go frame is undefined behaviour, and
//! aborting instead would take down a whole identity server (a Keycloak node, a Go service) because of one bad
//! request. So every exported function runs its body inside [`std::panic::catch_unwind`] and turns a panic
//! into `CIMD_STATUS_PANIC` (or, for the few accessors that return a value rather than a status, a documented
//! neutral value such as 0 or NULL).
//!
//! Why this is safe to continue from: the engine's shared state is behind locks that tolerate poisoning and
//! is updated by single assignments, so a panic cannot leave half-written data behind; and the boundary sits
//! at the outermost frame, so nothing of the failed call is used afterwards. `AssertUnwindSafe` records that
//! reasoning rather than proving it.
//!
//! This only works when the library is built with `panic = "unwind"` (the release profile sets it); under
//! `panic = "abort"` there is nothing to catch.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::status::cimd_status;

/// Runs the body of a status-returning export. The body returns `Err(status)` for any failure, so that early
/// returns read as `?`.
pub(crate) fn status_boundary(body: impl FnOnce() -> Result<(), cimd_status>) -> cimd_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => cimd_status::Ok,
        Ok(Err(status)) => status,
        Err(_) => cimd_status::Panic,
    }
}

/// Runs the body of a value-returning export; a panic returns `on_panic`.
pub(crate) fn value_boundary<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// Test builds only (cargo feature `ffi-test-panic`, never in a release artifact, not in the header): panics
/// inside the boundary, so that the C tests can show a panic comes back as `CIMD_STATUS_PANIC` and the process
/// goes on.
#[cfg(feature = "ffi-test-panic")]
#[no_mangle]
pub extern "C" fn cimd_test_panic() -> cimd_status {
    status_boundary(|| panic!("cimd_test_panic: a panic injected by the test build"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_status_or_the_fallback_value() {
        assert_eq!(status_boundary(|| panic!("boom")), cimd_status::Panic);
        assert_eq!(
            status_boundary(|| Err(cimd_status::NotFound)),
            cimd_status::NotFound
        );
        assert_eq!(status_boundary(|| Ok(())), cimd_status::Ok);
        assert_eq!(value_boundary(0u64, || panic!("boom")), 0);
        assert_eq!(value_boundary(0u64, || 7), 7);
    }
}
