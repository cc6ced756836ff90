//! The ABI version, checked by bindings when they load the library.
//!
//! Semantic versioning of the C interface, independent of the crate version: the major number changes when
//! anything in `cimd.h` changes incompatibly (a removed or changed function, a renumbered status); the minor
//! number when something is added; the patch number for fixes that leave the header as it is. A binding
//! refuses to load a library whose major version differs from the header it was built with, and may rely on
//! everything of its own minor version when `cimd_abi_version()` reports at least that minor version.

use super::panic::value_boundary;

/// Major version of the C ABI described by this header.
pub const CIMD_ABI_VERSION_MAJOR: u32 = 1;
/// Minor version of the C ABI described by this header.
pub const CIMD_ABI_VERSION_MINOR: u32 = 1;
/// Patch version of the C ABI described by this header.
pub const CIMD_ABI_VERSION_PATCH: u32 = 0;

/// The ABI version of the loaded library, as `(major << 16) | (minor << 8) | patch`.
///
/// Bindings compare `cimd_abi_version() >> 16` with `CIMD_ABI_VERSION_MAJOR` at load time and refuse to run
/// on a mismatch.
#[no_mangle]
pub extern "C" fn cimd_abi_version() -> u32 {
    value_boundary(0, || {
        (CIMD_ABI_VERSION_MAJOR << 16) | (CIMD_ABI_VERSION_MINOR << 8) | CIMD_ABI_VERSION_PATCH
    })
}
