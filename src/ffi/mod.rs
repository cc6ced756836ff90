//! The stable C ABI (`include/cimd.h`, generated from this module by cbindgen).
//!
//! Identity servers reach the engine through this door: the Keycloak extension over JNI, the Python and Go
//! bindings, and C programs that link `libcimd`. It adds no rules of its own; every decision is the engine's.
//! What it adds is the contract that lets those hosts call it for years, from many threads, without crashing:
//!
//! - **Status codes.** Every fallible function returns a [`cimd_status`] whose numbers never change within a
//!   major ABI version (new ones are only added). Outputs go through out-parameters that are written only when
//!   the status is `CIMD_STATUS_OK`; on failure they are left untouched.
//! - **Errors as objects, not thread state.** When the engine rejects a request (`CIMD_STATUS_REJECTED`) or a
//!   configuration (`CIMD_STATUS_CONFIG_ERROR`), the detail comes back as a [`cimd_error`] object through an
//!   out-parameter. There is no thread-local "last error": a Go goroutine may continue on another OS thread
//!   between two calls.
//! - **Opaque handles with explicit ownership.** [`cimd_engine`], [`cimd_result`] and [`cimd_error`] are
//!   created by cimd and released by their `_free` function, which takes the address of the caller's pointer
//!   and sets it to NULL. Borrowed data (the result's JSON, error messages, names) is valid for as long as the
//!   object it was borrowed from. Owned buffers ([`cimd_bytes`]) have their own free function. The
//!   `handle` module explains how each use checks a handle.
//! - **Strings in, as (pointer, length) UTF-8.** No NUL terminator is needed or looked for. A NULL pointer
//!   where a value is required is `CIMD_STATUS_INVALID_ARGUMENT`; bytes that are not UTF-8 are
//!   `CIMD_STATUS_INVALID_UTF8`.
//! - **A panic boundary on every export.** A bug that panics inside cimd becomes `CIMD_STATUS_PANIC`; it never
//!   unwinds into the host or aborts the process (the `panic` module explains the design).
//! - **No callbacks** into the host: every call returns when its work is done.
//! - **Threads and fork.** Every function may be called on one engine from any number of threads at once
//!   (except `cimd_engine_free`, which must be the last call, and waits for the engine's I/O threads to
//!   finish). After `fork()`, the child keeps using the
//!   parent's engine: the cache is inherited, and the I/O runtime (threads do not survive a fork) is started
//!   again on first need.
//!
//! Rust callers should use [`crate::Engine`] directly; these functions exist for hosts that speak C, and they
//! are `unsafe` because they trust the pointers they are given.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(non_camel_case_types)]

// In the order of the header: version, statuses, the engine, resolving, results, errors, owned buffers.
mod version;

mod status;

mod engine;

mod resolve;

mod result;

mod error;

mod bytes;

// Internals: argument conversion, handles, the panic boundary, static names.
mod args;
mod handle;
mod names;
mod panic;

pub use bytes::{cimd_bytes, cimd_bytes_free};
pub use engine::{
    cimd_config_schema_json, cimd_discovery_json, cimd_engine, cimd_engine_free, cimd_engine_new,
    cimd_entries_json, cimd_invalidate, cimd_stats_json,
};
pub use error::{
    cimd_code, cimd_code_name, cimd_error, cimd_error_code, cimd_error_free, cimd_error_is_transient,
    cimd_error_message, cimd_error_oauth_error, cimd_error_status,
};
#[cfg(feature = "ffi-test-panic")]
pub use panic::cimd_test_panic;
pub use resolve::{cimd_probe, cimd_refresh, cimd_resolve};
pub use result::{
    cimd_result, cimd_result_expires_at_unix_ms, cimd_result_free, cimd_result_generation, cimd_result_json,
    cimd_result_source, cimd_source, cimd_source_name,
};
pub use status::{cimd_status, cimd_status_name};
pub use version::{cimd_abi_version, CIMD_ABI_VERSION_MAJOR, CIMD_ABI_VERSION_MINOR, CIMD_ABI_VERSION_PATCH};
