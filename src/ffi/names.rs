//! Static C strings for the names the engine defines (error codes, OAuth errors, sources).
//!
//! The engine spells each name once, as a Rust `&'static str` without a NUL terminator. Rather than spell them a
//! second time as C literals here, each name is copied once into a NUL-terminated string that lives for the rest
//! of the process, and handed out from then on. Only name lookups come here, never the resolve path.

use std::ffi::{c_char, CStr, CString};
use std::sync::Mutex;

use once_cell::sync::Lazy;

use super::panic::value_boundary;

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

/// The body of every `_name` export (statuses, error codes, sources): the name of the value of `all` whose ABI
/// number is `number`, or NULL when no value has it.
pub(crate) fn name_of<T: Copy>(
    all: &[T],
    number: u32,
    number_of: impl Fn(T) -> u32,
    name: impl Fn(T) -> *const c_char,
) -> *const c_char {
    value_boundary(std::ptr::null(), || {
        all.iter()
            .find(|&&value| number_of(value) == number)
            .map_or(std::ptr::null(), |&value| name(value))
    })
}

/// Checks an ABI numbering and its `_name` export: the values of `all` are numbered `first`, `first + 1`, ... in
/// order; the export gives each number the name `name` gives its value, and no two values the same name; and it
/// has no name for the number after the last, nor for the one before the first.
#[cfg(test)]
pub(crate) fn assert_numbered<T: Copy + std::fmt::Debug>(
    all: &[T],
    first: u32,
    number_of: impl Fn(T) -> u32,
    export: extern "C" fn(u32) -> *const c_char,
    name: impl Fn(T) -> &'static str,
) {
    let mut names = std::collections::HashSet::new();
    for (i, value) in all.iter().copied().enumerate() {
        let number = number_of(value);
        assert_eq!(number, first + i as u32, "{value:?}");
        let exported = export(number);
        assert!(!exported.is_null(), "{value:?} has no name");
        // SAFETY: a non-NULL result is a static NUL-terminated string.
        assert_eq!(unsafe { CStr::from_ptr(exported) }.to_str(), Ok(name(value)));
        assert!(
            names.insert(name(value)),
            "{value:?} has the name of another value"
        );
    }
    assert!(export(first + all.len() as u32).is_null());
    if let Some(before) = first.checked_sub(1) {
        assert!(export(before).is_null());
    }
}
