//! Static C strings for the names the engine defines (error codes, OAuth errors, sources).
//!
//! The engine spells each name once, as a Rust `&'static str` without a NUL terminator. Rather than spell them a
//! second time as C literals here, each name is copied once into a NUL-terminated string that lives for the rest
//! of the process, and handed out from then on. Only name lookups come here, never the resolve path.

use std::ffi::{c_char, CStr, CString};
use std::sync::Mutex;

use once_cell::sync::Lazy;

/// A list rather than a hash map: a few dozen names, looked up rarely; and a hash table's allocation is only
/// referenced from its middle, which leak checkers such as valgrind report as "possibly lost".
static INTERNED: Lazy<Mutex<Vec<(&'static str, &'static CStr)>>> = Lazy::new(Default::default);

/// `name` as a static NUL-terminated string, or NULL if it contains a NUL (no engine name does).
pub(crate) fn c_name(name: &'static str) -> *const c_char {
    let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, c)) = interned.iter().find(|(n, _)| *n == name) {
        return c.as_ptr();
    }
    match CString::new(name) {
        Ok(c) => {
            let c: &'static CStr = Box::leak(c.into_boxed_c_str());
            interned.push((name, c));
            c.as_ptr()
        }
        Err(_) => std::ptr::null(),
    }
}
