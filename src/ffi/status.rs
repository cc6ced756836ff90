//! The status every fallible export returns.
//!
//! The numbers are the ABI: a binding compiled against one minor version must understand the statuses of every
//! later minor version it links against, so values are only ever added, never renumbered or reused. A binding
//! should treat a number it does not know as a failure.

use std::ffi::c_char;

use super::names::name_of;

/// The outcome of a call. `CIMD_STATUS_OK` is 0; every other value is a failure, and no out-parameter was
/// written. The numbering is stable within a major ABI version.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cimd_status {
    /// Success: the out-parameters were written.
    Ok = 0,
    /// A required pointer was NULL, or a length was impossible. A bug in the caller.
    InvalidArgument = 1,
    /// A string argument is not valid UTF-8.
    InvalidUtf8 = 2,
    /// A handle is not a live object of the expected kind (wrong type, or already freed: detected on a
    /// best-effort basis only, since freed memory may be reused). A bug in the caller.
    InvalidHandle = 3,
    /// `cimd_engine_new` refused the configuration; the error object (if requested) holds the message.
    ConfigError = 4,
    /// The engine refused the request; the error object (if requested) holds the error code and its
    /// description.
    Rejected = 5,
    /// Nothing cached for this client_id (`cimd_probe`, `cimd_invalidate`).
    NotFound = 6,
    /// A bug inside cimd panicked and was stopped at the boundary. The process, the engine and every other
    /// object stay usable; please report it.
    Panic = 7,
}

impl cimd_status {
    const ALL: [cimd_status; 8] = [
        cimd_status::Ok,
        cimd_status::InvalidArgument,
        cimd_status::InvalidUtf8,
        cimd_status::InvalidHandle,
        cimd_status::ConfigError,
        cimd_status::Rejected,
        cimd_status::NotFound,
        cimd_status::Panic,
    ];

    fn name(self) -> &'static std::ffi::CStr {
        match self {
            cimd_status::Ok => c"ok",
            cimd_status::InvalidArgument => c"invalid_argument",
            cimd_status::InvalidUtf8 => c"invalid_utf8",
            cimd_status::InvalidHandle => c"invalid_handle",
            cimd_status::ConfigError => c"config_error",
            cimd_status::Rejected => c"rejected",
            cimd_status::NotFound => c"not_found",
            cimd_status::Panic => c"panic",
        }
    }
}

/// The snake_case name of a status (e.g. `"rejected"`), for logs.
///
/// Returns a static NUL-terminated string that must not be freed, or NULL if `status` is not a status this
/// library knows.
#[no_mangle]
pub extern "C" fn cimd_status_name(status: u32) -> *const c_char {
    name_of(&cimd_status::ALL, status, |s| s as u32, |s| s.name().as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_and_names_unique() {
        let name = |s: cimd_status| s.name().to_str().unwrap_or_default();
        crate::ffi::names::assert_numbered(&cimd_status::ALL, 0, |s| s as u32, cimd_status_name, name);
    }
}
