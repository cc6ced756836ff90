//! The C ABI (include/cimd.h) on arbitrary bytes, called the way a C host calls it: through `extern "C"`
//! declarations that read every status as a plain `uint32_t`, so a status outside the documented numbers would
//! be seen rather than assumed away by a Rust enum.
//!
//! Input: two flag bytes, then up to three parts separated by 0xff (a byte that UTF-8 never contains, so a part
//! can still hold NULs and any other invalid UTF-8): the configuration JSON, the client_id and the redirect_uri.
//! The first flag byte chooses, per string, the part itself, NULL, a length that covers only a prefix of the
//! part, or an impossible length (more than `isize::MAX`), and which error out-parameters are NULL; the second
//! one of three fixed "fenced" engines, the call deadline and the number given to the name functions.
//!
//! Asserts, beyond "no panic crosses the boundary and nothing leaks":
//! - every status is one of the documented numbers and never `CIMD_STATUS_PANIC`; out-parameters are written
//!   exactly when the status is `CIMD_STATUS_OK`;
//! - `cimd_engine_new` agrees with the Rust configuration parser: invalid UTF-8 is `INVALID_UTF8`, a refused
//!   configuration is `CONFIG_ERROR` with an error object whose accessors say so (no engine code, no OAuth
//!   error, not transient, a non-empty NUL-terminated UTF-8 message);
//! - a resolve or refresh that the engine refuses before any I/O has the same error code as the Rust checks
//!   (`ClientIdUrl::parse`, then the host policy), with an OAuth error and a description;
//! - probe and invalidate answer `NOT_FOUND` on an engine that never fetched; the JSON buffers are valid JSON
//!   followed by a NUL; handles of the wrong kind are `INVALID_HANDLE`; every free function tolerates NULL and
//!   a second call on the same variable.
//!
//! No network I/O, ever: the engine only fetches a client_id that parses and passes the host policy, and such a
//! client_id is never given to `cimd_resolve` or `cimd_refresh` (the Rust checks decide before the call; the
//! fenced engines' `allowed_hosts` name one `.invalid` host, so nearly every URL still reaches the policy
//! check). scripts/fuzz also runs the targets inside scripts/netns, where only loopback exists.
#![no_main]

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::OnceLock;

use cimd::internals::{ClientIdUrl, UrlRules};
use cimd::{Config, ErrorCode};
use libfuzzer_sys::fuzz_target;

#[repr(C)]
struct Opaque {
    _private: [u8; 0],
}
type Engine = Opaque;
type Outcome = Opaque;
type Failure = Opaque;

#[repr(C)]
struct Bytes {
    data: *const u8,
    len: usize,
}

extern "C" {
    fn cimd_abi_version() -> u32;
    fn cimd_status_name(status: u32) -> *const c_char;
    fn cimd_code_name(code: u32) -> *const c_char;
    fn cimd_source_name(source: u32) -> *const c_char;
    fn cimd_engine_new(
        config: *const c_char,
        len: usize,
        engine: *mut *mut Engine,
        error: *mut *mut Failure,
    ) -> u32;
    fn cimd_engine_free(engine: *mut *mut Engine);
    fn cimd_invalidate(engine: *const Engine, client_id: *const c_char, len: usize) -> u32;
    fn cimd_stats_json(engine: *const Engine, out: *mut Bytes) -> u32;
    fn cimd_discovery_json(engine: *const Engine, out: *mut Bytes) -> u32;
    fn cimd_entries_json(engine: *const Engine, out: *mut Bytes) -> u32;
    fn cimd_resolve(
        engine: *const Engine,
        client_id: *const c_char,
        client_id_len: usize,
        redirect_uri: *const c_char,
        redirect_uri_len: usize,
        timeout_ms: u64,
        result: *mut *mut Outcome,
        error: *mut *mut Failure,
    ) -> u32;
    fn cimd_probe(
        engine: *const Engine,
        client_id: *const c_char,
        len: usize,
        result: *mut *mut Outcome,
    ) -> u32;
    fn cimd_refresh(
        engine: *const Engine,
        client_id: *const c_char,
        client_id_len: usize,
        timeout_ms: u64,
        result: *mut *mut Outcome,
        error: *mut *mut Failure,
    ) -> u32;
    fn cimd_result_json(result: *const Outcome, json: *mut *const u8, len: *mut usize) -> u32;
    fn cimd_result_generation(result: *const Outcome) -> u64;
    fn cimd_result_source(result: *const Outcome) -> u32;
    fn cimd_result_expires_at_unix_ms(result: *const Outcome) -> i64;
    fn cimd_result_free(result: *mut *mut Outcome);
    fn cimd_error_status(error: *const Failure) -> u32;
    fn cimd_error_code(error: *const Failure) -> u32;
    fn cimd_error_message(error: *const Failure, message: *mut *const c_char, len: *mut usize) -> u32;
    fn cimd_error_oauth_error(error: *const Failure) -> *const c_char;
    fn cimd_error_is_transient(error: *const Failure) -> bool;
    fn cimd_error_free(error: *mut *mut Failure);
    fn cimd_bytes_free(bytes: *mut Bytes);
}

const OK: u32 = 0;
const INVALID_ARGUMENT: u32 = 1;
const INVALID_UTF8: u32 = 2;
const INVALID_HANDLE: u32 = 3;
const CONFIG_ERROR: u32 = 4;
const REJECTED: u32 = 5;
const NOT_FOUND: u32 = 6;
const PANIC: u32 = 7;
/// The highest status, error code and source numbers of ABI 1.0.
const LAST_STATUS: u32 = PANIC;
const LAST_CODE: u32 = 19;
const LAST_SOURCE: u32 = 4;

/// Marks an out-parameter so that a write on failure shows.
const UNTOUCHED: usize = 0x5a5a_5a5a;

/// Engines whose configuration the fuzzer does not choose; `allowed_hosts` names one host under `.invalid`.
const FENCED: [&str; 3] = [
    r#"{"allowed_hosts": ["fenced.invalid"]}"#,
    r#"{"allowed_hosts": ["fenced.invalid"], "allow_query": true, "allow_root_path": true}"#,
    r#"{"denied_hosts": ["*.example"], "allowed_hosts": ["*.fenced.invalid"], "allow_query": true}"#,
];

/// The fenced engines, created once: creating one loads the platform's roots and starts its I/O threads,
/// which would dominate every execution. They live for the whole process (reachable, so not a leak).
fn fenced(i: usize) -> *const Engine {
    static ENGINES: OnceLock<Vec<usize>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        FENCED
            .iter()
            .map(|config| {
                let mut engine = ptr::null_mut();
                // SAFETY: a valid string and a local out-parameter.
                let status = unsafe {
                    cimd_engine_new(config.as_ptr().cast(), config.len(), &mut engine, ptr::null_mut())
                };
                assert_eq!(status, OK, "fenced configuration refused: {config}");
                engine as usize
            })
            .collect()
    })[i] as *const Engine
}

/// A string argument as a C host may pass it, chosen by two flag bits: the part itself, NULL, a prefix of the
/// part (the length says where the string ends, wherever the bytes go on), or an impossible length.
struct Arg<'a> {
    ptr: *const c_char,
    len: usize,
    /// The bytes cimd may read (None for NULL and for the impossible length, which must be refused unread).
    bytes: Option<&'a [u8]>,
}

fn arg(part: &[u8], mode: u8) -> Arg<'_> {
    match mode & 3 {
        0 => Arg {
            ptr: part.as_ptr().cast(),
            len: part.len(),
            bytes: Some(part),
        },
        1 => Arg {
            ptr: ptr::null(),
            len: part.len(),
            bytes: None,
        },
        2 => {
            let len = part.len() / 2;
            Arg {
                ptr: part.as_ptr().cast(),
                len,
                bytes: Some(&part[..len]),
            }
        }
        _ => Arg {
            ptr: part.as_ptr().cast(),
            len: usize::MAX,
            bytes: None,
        },
    }
}

/// The status expected for a required string argument that is not valid, if it is not.
fn arg_status(a: &Arg<'_>) -> Option<u32> {
    match a.bytes {
        None => Some(INVALID_ARGUMENT),
        Some(b) if std::str::from_utf8(b).is_err() => Some(INVALID_UTF8),
        Some(_) => None,
    }
}

fn checked(status: u32) -> u32 {
    assert!(status <= LAST_STATUS, "undocumented status {status}");
    assert_ne!(status, PANIC, "a panic reached the boundary");
    status
}

/// A static name: NUL-terminated ASCII snake_case.
fn name(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: cimd returns static NUL-terminated strings.
    let s = unsafe { CStr::from_ptr(p) }
        .to_str()
        .expect("names are UTF-8")
        .to_owned();
    assert!(
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
        "{s:?}"
    );
    s
}

/// Checks an error object against the status that produced it (and the engine code, if known), then frees it
/// twice through the same variable.
fn check_error(mut error: *mut Failure, status: u32, code: Option<ErrorCode>) {
    assert!(
        !error.is_null() && error as usize != UNTOUCHED,
        "no error object for status {status}"
    );
    // SAFETY: a live error object from cimd, used by this thread only.
    unsafe {
        assert_eq!(cimd_error_status(error), status);
        let got = cimd_error_code(error);
        let mut message = ptr::null();
        let mut len = 0;
        assert_eq!(cimd_error_message(error, &mut message, &mut len), OK);
        let text = std::slice::from_raw_parts(message.cast::<u8>(), len + 1);
        assert_eq!(text[len], 0, "message not NUL-terminated");
        let text = std::str::from_utf8(&text[..len]).expect("message is UTF-8");
        assert!(!text.is_empty());
        assert_eq!(cimd_error_message(error, &mut message, ptr::null_mut()), OK);
        assert_eq!(
            cimd_error_message(error, ptr::null_mut(), &mut len),
            INVALID_ARGUMENT
        );
        if status == CONFIG_ERROR {
            assert_eq!(got, 0);
            assert!(cimd_error_oauth_error(error).is_null());
            assert!(!cimd_error_is_transient(error));
        } else {
            assert!((1..=LAST_CODE).contains(&got), "code {got}");
            let got_name = name(cimd_code_name(got));
            if let Some(code) = code {
                assert_eq!(
                    got_name,
                    code.as_str(),
                    "the C ABI and the Rust checks disagree: {text}"
                );
            }
            let oauth = name(cimd_error_oauth_error(error));
            assert!([
                "invalid_client",
                "invalid_request",
                "temporarily_unavailable",
                "server_error"
            ]
            .contains(&oauth.as_str()));
        }
        // An error object is not a result: every result accessor refuses it.
        let as_result = error.cast::<Outcome>();
        let mut json = ptr::null();
        let mut json_len = 0;
        assert_eq!(
            cimd_result_json(as_result, &mut json, &mut json_len),
            INVALID_HANDLE
        );
        assert!(json.is_null());
        assert_eq!(cimd_result_generation(as_result), 0);
        assert_eq!(cimd_result_source(as_result), 0);
        assert_eq!(cimd_result_expires_at_unix_ms(as_result), 0);
        let mut alias = as_result;
        cimd_result_free(&mut alias);
        assert_eq!(alias, as_result, "a result free released an error object");
        cimd_error_free(&mut error);
        assert!(error.is_null());
        cimd_error_free(&mut error);
    }
}

/// The three JSON buffers of an engine: valid JSON, NUL after `len`, freed twice.
fn check_json_buffers(engine: *const Engine) {
    for get in [cimd_stats_json, cimd_discovery_json, cimd_entries_json] {
        let mut out = Bytes {
            data: ptr::null(),
            len: 0,
        };
        // SAFETY: a live engine and a local buffer struct.
        unsafe {
            assert_eq!(get(engine, &mut out), OK);
            let bytes = std::slice::from_raw_parts(out.data, out.len + 1);
            assert_eq!(bytes[out.len], 0);
            serde_json::from_slice::<serde_json::Value>(&bytes[..out.len]).expect("valid JSON");
            cimd_bytes_free(&mut out);
            assert!(out.data.is_null() && out.len == 0);
            cimd_bytes_free(&mut out);
            assert_eq!(get(engine, ptr::null_mut()), INVALID_ARGUMENT);
            assert_eq!(get(ptr::null(), &mut out), INVALID_ARGUMENT);
        }
    }
}

/// The engine's error code for a client_id refused before any I/O, or None when the engine would go on to
/// resolve the host.
fn offline_refusal(config: &Config, client_id: &str) -> Option<ErrorCode> {
    match ClientIdUrl::parse(client_id, &UrlRules::from_config(config)) {
        Err(e) => Some(e.code()),
        Ok(url) if !config.host_allowed(url.host()) => Some(ErrorCode::HostNotAllowed),
        Ok(_) => None,
    }
}

/// Every call about one client_id on one engine; `config` is the engine's configuration as Rust reads it.
fn exercise(engine: *const Engine, config: &Config, flags: [u8; 2], client_id: &[u8], redirect_uri: &[u8]) {
    let id = arg(client_id, flags[0] >> 2);
    let uri = match (flags[0] >> 4) & 3 {
        0 => Arg {
            ptr: ptr::null(),
            len: redirect_uri.len(),
            bytes: None,
        },
        1 => arg(redirect_uri, 0),
        m => arg(redirect_uri, m),
    };
    let timeout_ms = u64::from((flags[1] >> 2) & 3) * 50;
    let id_bad = arg_status(&id);
    // An optional argument: NULL is fine, an impossible length or invalid UTF-8 is not.
    let uri_bad = if uri.ptr.is_null() { None } else { arg_status(&uri) };

    // SAFETY (every call below): the strings are valid for their lengths (or NULL, or an impossible length that
    // cimd must refuse before reading), the out-parameters are locals, and the engine is live.
    unsafe {
        let mut result = UNTOUCHED as *mut Outcome;
        assert_eq!(
            checked(cimd_probe(engine, id.ptr, id.len, &mut result)),
            id_bad.unwrap_or(NOT_FOUND)
        );
        assert_eq!(result as usize, UNTOUCHED);
        assert_eq!(
            cimd_probe(engine, id.ptr, id.len, ptr::null_mut()),
            INVALID_ARGUMENT
        );
        assert_eq!(
            checked(cimd_invalidate(engine, id.ptr, id.len)),
            id_bad.unwrap_or(NOT_FOUND)
        );

        // Resolve or refresh this client_id (refresh takes no redirect_uri).
        let call = |refresh: bool, result: *mut *mut Outcome, error: *mut *mut Failure| {
            if refresh {
                cimd_refresh(engine, id.ptr, id.len, timeout_ms, result, error)
            } else {
                cimd_resolve(
                    engine, id.ptr, id.len, uri.ptr, uri.len, timeout_ms, result, error,
                )
            }
        };
        // A NULL out-parameter is refused before any work (so even a fetchable client_id costs nothing).
        let mut error = UNTOUCHED as *mut Failure;
        for refresh in [false, true] {
            assert_eq!(call(refresh, ptr::null_mut(), &mut error), INVALID_ARGUMENT);
        }
        assert_eq!(error as usize, UNTOUCHED);

        let client_id_str = id.bytes.and_then(|b| std::str::from_utf8(b).ok());
        let code = match (id_bad, client_id_str) {
            (None, Some(s)) => match offline_refusal(config, s) {
                Some(code) => Some(code),
                // The engine would resolve this host: never call it with this client_id.
                None => return,
            },
            _ => None,
        };
        let expected = id_bad.or(uri_bad).unwrap_or(REJECTED);
        for refresh in [false, true] {
            let mut result = UNTOUCHED as *mut Outcome;
            let mut error = UNTOUCHED as *mut Failure;
            let want_error = flags[0] & 0x80 == 0;
            let error_slot = if want_error {
                &mut error as *mut _
            } else {
                ptr::null_mut()
            };
            let status = checked(call(refresh, &mut result, error_slot));
            // refresh takes no redirect_uri, so only the client_id can make it fail early.
            let expected = if refresh {
                id_bad.unwrap_or(REJECTED)
            } else {
                expected
            };
            assert_eq!(status, expected, "refresh={refresh}");
            assert_eq!(result as usize, UNTOUCHED);
            if status == REJECTED && want_error {
                check_error(error, REJECTED, code);
            } else {
                assert_eq!(error as usize, UNTOUCHED);
            }
        }
    }
}

fuzz_target!(
    init: {
        // No engine of this target ever connects, so the platform's roots are never used; loading them made up
        // 95% of the time of an engine's creation. An empty store keeps executions at about 1 ms.
        std::env::set_var("SSL_CERT_FILE", "/dev/null");
        std::env::set_var("SSL_CERT_DIR", "/dev/null");
    },
    |data: &[u8]| {
    let Some((flags, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let flags = *flags;
    let mut parts = rest.splitn(3, |&b| b == 0xff);
    let config = parts.next().unwrap_or_default();
    let client_id = parts.next().unwrap_or_default();
    let redirect_uri = parts.next().unwrap_or_default();

    // SAFETY (every call in this block): static names and plain numbers.
    unsafe {
        assert_eq!(cimd_abi_version() >> 16, 1);
        let n = u32::from(flags[1]);
        assert_eq!(cimd_status_name(n).is_null(), n > LAST_STATUS);
        assert_eq!(cimd_code_name(n).is_null(), n == 0 || n > LAST_CODE);
        assert_eq!(cimd_source_name(n).is_null(), n == 0 || n > LAST_SOURCE);
    }

    // The fuzzer's configuration, through the constructor.
    let cfg = arg(config, flags[0]);
    let mut engine = UNTOUCHED as *mut Engine;
    let mut error = UNTOUCHED as *mut Failure;
    let error_slot = if flags[0] & 0x40 == 0 { &mut error as *mut _ } else { ptr::null_mut() };
    // SAFETY: the configuration is valid for its length (or NULL, or refused unread); locals out.
    let status = checked(unsafe { cimd_engine_new(cfg.ptr, cfg.len, &mut engine, error_slot) });
    let parsed = match (arg_status(&cfg), cfg.bytes.map(std::str::from_utf8)) {
        (Some(bad), _) => {
            assert_eq!(status, bad);
            None
        }
        (None, Some(Ok(text))) => Some(Config::from_json(text)),
        _ => unreachable!(),
    };
    match parsed {
        None => {}
        // Accepted by Rust: the constructor may still refuse what it reads at creation (extra_ca_file).
        Some(Ok(rust_config)) if status == OK => {
            assert!(!engine.is_null() && engine as usize != UNTOUCHED);
            assert_eq!(error as usize, UNTOUCHED);
            check_json_buffers(engine);
            exercise(engine, &rust_config, flags, client_id, redirect_uri);
            // An engine is neither a result nor an error.
            // SAFETY: a live engine, read only through its magic number.
            unsafe {
                assert_eq!(cimd_error_status(engine.cast()), INVALID_HANDLE);
                assert_eq!(cimd_result_source(engine.cast()), 0);
                cimd_engine_free(&mut engine);
                assert!(engine.is_null());
                cimd_engine_free(&mut engine);
                cimd_engine_free(ptr::null_mut());
            }
        }
        Some(Ok(rust_config)) => {
            assert_eq!(status, CONFIG_ERROR, "accepted by Rust, status {status}");
            assert!(rust_config.extra_ca_file.is_some(), "only extra_ca_file can fail at creation");
        }
        Some(Err(_)) => assert_eq!(status, CONFIG_ERROR),
    }
    if status != OK {
        assert_eq!(engine as usize, UNTOUCHED);
        if status == CONFIG_ERROR && !error_slot.is_null() {
            check_error(error, CONFIG_ERROR, None);
        } else {
            assert_eq!(error as usize, UNTOUCHED);
        }
    }

    // The same client_id and redirect_uri on a fenced engine, whatever the configuration did.
    let which = usize::from(flags[1] & 3) % FENCED.len();
    let fenced_config = Config::from_json(FENCED[which]).expect("fenced configuration");
    exercise(fenced(which), &fenced_config, flags, client_id, redirect_uri);

    // NULL handles everywhere.
    // SAFETY: NULL is a documented argument of every call below.
    unsafe {
        let mut none = ptr::null_mut();
        assert_eq!(cimd_engine_new(ptr::null(), 0, &mut engine, ptr::null_mut()), INVALID_ARGUMENT);
        assert_eq!(cimd_engine_new(config.as_ptr().cast(), 0, ptr::null_mut(), ptr::null_mut()), INVALID_ARGUMENT);
        assert_eq!(cimd_resolve(ptr::null(), client_id.as_ptr().cast(), client_id.len(), ptr::null(), 0, 0, &mut none, ptr::null_mut()), INVALID_ARGUMENT);
        assert_eq!(cimd_error_status(ptr::null()), INVALID_ARGUMENT);
        assert_eq!(cimd_error_code(ptr::null()), 0);
        assert!(cimd_error_oauth_error(ptr::null()).is_null());
        assert!(!cimd_error_is_transient(ptr::null()));
        assert_eq!(cimd_result_generation(ptr::null()), 0);
        cimd_result_free(ptr::null_mut());
        cimd_result_free(&mut none);
        let mut no_error = ptr::null_mut();
        cimd_error_free(&mut no_error);
        cimd_error_free(ptr::null_mut());
        cimd_bytes_free(ptr::null_mut());
    }
});
