//! The JNI bridge for the Keycloak extension (`java-spi/`): the native methods of
//! `dev.cimd.keycloak.jni.CimdNative`. Built only with the `jni` cargo feature.
//!
//! # Design
//!
//! The bridge adds no rule of its own: every method hands its arguments to [`Engine`] and returns what the
//! engine said, as JSON text the Java side decodes (one contract for every front end: the same error codes, the
//! same fields as the CLI's lines).
//!
//! * **Handles.** `engineNew` boxes an [`Engine`] and returns its address as a `long`; `engineFree` takes it
//!   back. The Java class that owns a handle (`CimdEngine`) guarantees that no call uses a handle after, or
//!   during, its `engineFree` (a read-write lock around the handle), and never passes 0 except to mean "none",
//!   which every method here rejects.
//! * **Errors.** An engine error is not an exception at this level: it is a result line
//!   `{"ok":false,"error":"<code>","error_description":"...","oauth_error":"...","transient":bool}` that the Java
//!   side turns into a `CimdException`. Exceptions are thrown only for misuse: an invalid configuration
//!   (`IllegalArgumentException`, with the configuration error's sentence), a closed handle or a JNI failure
//!   (`IllegalStateException`).
//! * **Panics.** Every method body runs inside [`EnvUnowned::with_env`], which catches unwinding; a caught panic
//!   becomes an `IllegalStateException` naming it. No panic crosses into the JVM (that would abort Keycloak).
//! * **Cost.** A cache hit is a hash lookup in the engine plus one Java string for the result. The full
//!   document is sent only when the caller's copy is out of date (`knownGeneration`), so the hot path returns a
//!   line of about 90 bytes and the Java side decodes each document version once.
#![allow(unsafe_code)]

use std::time::Duration;

use jni::errors::ErrorPolicy;
use jni::objects::{JClass, JString};
use jni::refs::Reference as _;
use jni::strings::JNIString;
use jni::sys::{jboolean, jlong};
use jni::{jni_str, Env, EnvUnowned};

use crate::result::OkLine;
use crate::{Engine, Error, Resolution};

/// Why a native method failed without an engine answer.
#[derive(Debug)]
enum Failure {
    /// A JNI call failed (possibly with a Java exception already pending).
    Jni(jni::errors::Error),
    /// `engineNew` was given a configuration the engine refuses.
    Config(String),
    /// A zero handle: the engine was never created or has been freed.
    Closed,
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Failure {
        Failure::Jni(e)
    }
}

/// Turns failures and panics into Java exceptions and returns the type's default (null, 0, false) to Java.
struct Throw;

impl Throw {
    fn throw(env: &mut Env<'_>, class: &'static jni::strings::JNIStr, message: String) {
        if !env.exception_check() {
            // Throwing returns Err(JavaException) by design: the exception is now pending, which is the point.
            let _ = env.throw_new(class, JNIString::new(message));
        }
    }
}

impl<T: Default> ErrorPolicy<T, Failure> for Throw {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        err: Failure,
    ) -> jni::errors::Result<T> {
        match err {
            Failure::Config(message) => {
                Throw::throw(env, jni_str!("java/lang/IllegalArgumentException"), message)
            }
            Failure::Closed => Throw::throw(
                env,
                jni_str!("java/lang/IllegalStateException"),
                "the cimd engine is closed".into(),
            ),
            Failure::Jni(e) => Throw::throw(
                env,
                jni_str!("java/lang/IllegalStateException"),
                format!("cimd JNI call failed: {e}"),
            ),
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        // The payload may own resources whose destructor could panic again: leak it rather than risk that.
        std::mem::forget(payload);
        Throw::throw(
            env,
            jni_str!("java/lang/IllegalStateException"),
            format!("cimd internal error: a panic in native code was caught ({what})"),
        );
        Ok(T::default())
    }
}

/// The engine behind a handle.
fn engine<'h>(handle: jlong) -> Result<&'h Engine, Failure> {
    if handle == 0 {
        return Err(Failure::Closed);
    }
    // SAFETY: a non-zero handle is the address of a `Box<Engine>` leaked by `engineNew` and not yet reclaimed by
    // `engineFree`: the owning Java object (`CimdEngine`) holds a read lock for the duration of every call and
    // takes the write lock, then zeroes its handle, before calling `engineFree`. `Engine` is `Sync`, so shared
    // references from several Java threads at once are sound.
    Ok(unsafe { &*(handle as usize as *const Engine) })
}

/// The Java string as Rust UTF-8. Through the modified-UTF-8 bytes, which are already UTF-8 for every string
/// without NUL and supplementary characters (all URLs), and converted only when not: `JString::try_to_string`
/// goes through `Display`, character by character, a good part of the bridge's cost per call.
fn string(env: &Env<'_>, s: &JString<'_>) -> Result<String, Failure> {
    Ok(s.mutf8_chars(env)?.to_str().into_owned())
}

fn optional_string(env: &Env<'_>, s: &JString<'_>) -> Result<Option<String>, Failure> {
    if s.is_null() {
        Ok(None)
    } else {
        string(env, s).map(Some)
    }
}

fn java_string<'local>(env: &mut Env<'local>, s: &str) -> Result<JString<'local>, Failure> {
    Ok(JString::from_str(env, s)?)
}

fn timeout(ms: jlong) -> Option<Duration> {
    u64::try_from(ms)
        .ok()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

/// The error line of the bridge: the CLI's error line plus the OAuth error and transience the host acts on.
pub fn error_line(e: &Error) -> String {
    serde_json::json!({
        "ok": false,
        "error": e.code().as_str(),
        "error_description": e.description(),
        "oauth_error": e.oauth_error(),
        "transient": e.code().is_transient(),
    })
    .to_string()
}

/// The ok line of the bridge: `{"ok":true,"source":"...","expires_at_epoch_s":N,"generation":N,"document":{...}}`,
/// without `document` when the caller already holds this generation.
pub fn resolution_line(r: &Resolution, known_generation: i64) -> String {
    let client = r.client();
    let generation = client.generation();
    let expires = r
        .expires_at()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let send_document = u64::try_from(known_generation).ok() != Some(generation) || generation == 0;
    let mut line = OkLine::with_capacity(
        96 + if send_document {
            client.document_json().len()
        } else {
            0
        },
    );
    line.text("source", r.source().as_str())
        .json("expires_at_epoch_s", &expires.to_string())
        .json("generation", &generation.to_string());
    if send_document {
        line.json("document", client.document_json());
    }
    line.end()
}

fn result_line(result: Result<Resolution, Error>, known_generation: i64) -> String {
    match result {
        Ok(r) => resolution_line(&r, known_generation),
        Err(e) => error_line(&e),
    }
}

/// Declares one native method of `CimdNative`: the JNI signature (the environment and the class, then the Java
/// parameters) around `body`, which runs inside [`EnvUnowned::with_env`], so that a [`Failure`] or a panic becomes
/// a Java exception through [`Throw`] and never crosses into the JVM. Each method below states only its Java name,
/// its parameters and what it asks of the engine.
macro_rules! native {
    ($($(#[$doc:meta])* fn $name:ident($env:ident $(, $arg:ident: $ty:ty)*) $(-> $ret:ty)? $body:block)*) => {$(
        $(#[$doc])*
        #[unsafe(no_mangle)]
        pub extern "system" fn $name<'local>(
            mut env: EnvUnowned<'local>,
            _class: JClass<'local>,
            $($arg: $ty),*
        ) $(-> $ret)? {
            env.with_env(|$env| -> Result<_, Failure> { $body }).resolve::<Throw>()
        }
    )*};
}

/// The engine behind `handle` and the `clientId` argument, the start of every per-client method.
fn client<'h>(
    env: &Env<'_>,
    handle: jlong,
    client_id: &JString<'_>,
) -> Result<(&'h Engine, String), Failure> {
    Ok((engine(handle)?, string(env, client_id)?))
}

/// An optional result line as a Java string: null when there is none.
fn java_line<'local>(env: &mut Env<'local>, line: Option<String>) -> Result<JString<'local>, Failure> {
    match line {
        Some(line) => java_string(env, &line),
        None => Ok(JString::null()),
    }
}

native! {
    /// `static native long engineNew(String configJson)`: a new engine; throws `IllegalArgumentException` for a
    /// configuration the engine refuses (unknown key, wrong type, out of range, unreadable `extra_ca_file`).
    fn Java_dev_cimd_keycloak_jni_CimdNative_engineNew(env, config: JString<'local>) -> jlong {
        let config = string(env, &config)?;
        let engine = Engine::from_json(&config).map_err(|e| Failure::Config(e.to_string()))?;
        Ok(Box::into_raw(Box::new(engine)) as usize as jlong)
    }

    /// `static native void engineFree(long handle)`: drops the engine (its cache, runtime and connections).
    fn Java_dev_cimd_keycloak_jni_CimdNative_engineFree(_env, handle: jlong) {
        if handle != 0 {
            // SAFETY: the handle came from `engineNew` (Box::into_raw) and the owning `CimdEngine` calls
            // `engineFree` exactly once, under its write lock, after which it never passes the handle again.
            drop(unsafe { Box::from_raw(handle as usize as *mut Engine) });
        }
        Ok(())
    }

    /// `static native String resolve(long handle, String clientId, String redirectUri, long timeoutMs,
    /// long knownGeneration)`: the result line for `clientId` (redirect URI checked when not null; `timeoutMs` ≤ 0
    /// means the configured deadlines only).
    fn Java_dev_cimd_keycloak_jni_CimdNative_resolve(env, handle: jlong, client_id: JString<'local>,
        redirect_uri: JString<'local>, timeout_ms: jlong, known_generation: jlong) -> JString<'local> {
        let (engine, client_id) = client(env, handle, &client_id)?;
        let redirect_uri = optional_string(env, &redirect_uri)?;
        let result = engine.resolve_blocking(&client_id, redirect_uri.as_deref(), timeout(timeout_ms));
        java_string(env, &result_line(result, known_generation))
    }

    /// `static native String probe(long handle, String clientId)`: the cached answer without any I/O, or null.
    fn Java_dev_cimd_keycloak_jni_CimdNative_probe(env, handle: jlong, client_id: JString<'local>)
        -> JString<'local> {
        let (engine, client_id) = client(env, handle, &client_id)?;
        let line = engine.probe(&client_id).map(|r| resolution_line(&r, -1));
        java_line(env, line)
    }

    /// `static native String resolveCached(long handle, String clientId, String redirectUri, long knownGeneration)`:
    /// the result line a resolve would give when it needs no fetch (`Engine::resolve_cached`), or null when it would.
    fn Java_dev_cimd_keycloak_jni_CimdNative_resolveCached(env, handle: jlong, client_id: JString<'local>,
        redirect_uri: JString<'local>, known_generation: jlong) -> JString<'local> {
        let (engine, client_id) = client(env, handle, &client_id)?;
        let redirect_uri = optional_string(env, &redirect_uri)?;
        let result = engine.resolve_cached(&client_id, redirect_uri.as_deref());
        java_line(env, result.map(|result| result_line(result, known_generation)))
    }

    /// `static native boolean invalidate(long handle, String clientId)`: forgets the cached document (and keys).
    fn Java_dev_cimd_keycloak_jni_CimdNative_invalidate(env, handle: jlong, client_id: JString<'local>)
        -> jboolean {
        let (engine, client_id) = client(env, handle, &client_id)?;
        Ok(engine.invalidate(&client_id))
    }

    /// `static native String refresh(long handle, String clientId, long timeoutMs)`: fetches again now.
    fn Java_dev_cimd_keycloak_jni_CimdNative_refresh(env, handle: jlong, client_id: JString<'local>,
        timeout_ms: jlong) -> JString<'local> {
        let (engine, client_id) = client(env, handle, &client_id)?;
        let result = engine.refresh_blocking(&client_id, timeout(timeout_ms));
        java_string(env, &result_line(result, -1))
    }

    /// `static native String resolveJwks(long handle, String clientId, long timeoutMs)`: the client's key set line
    /// `{"ok":true,"jwks":{...},"source":"..."}` or an error line.
    fn Java_dev_cimd_keycloak_jni_CimdNative_resolveJwks(env, handle: jlong, client_id: JString<'local>,
        timeout_ms: jlong) -> JString<'local> {
        let (engine, client_id) = client(env, handle, &client_id)?;
        let line = match engine.resolve_jwks_blocking(&client_id, timeout(timeout_ms)) {
            Ok(set) => set.to_json_line(),
            Err(e) => error_line(&e),
        };
        java_string(env, &line)
    }

    /// `static native String statsJson(long handle)`: the counters.
    fn Java_dev_cimd_keycloak_jni_CimdNative_statsJson(env, handle: jlong) -> JString<'local> {
        let json = serde_json::to_string(&engine(handle)?.stats()).unwrap_or_else(|_| "{}".into());
        java_string(env, &json)
    }

    /// `static native String entriesJson(long handle)`: the cache's entries, for operators.
    fn Java_dev_cimd_keycloak_jni_CimdNative_entriesJson(env, handle: jlong) -> JString<'local> {
        let json = serde_json::to_string(&engine(handle)?.entries()).unwrap_or_else(|_| "[]".into());
        java_string(env, &json)
    }

    /// `static native String discoveryJson(long handle)`: the authorization-server metadata to advertise.
    fn Java_dev_cimd_keycloak_jni_CimdNative_discoveryJson(env, handle: jlong) -> JString<'local> {
        java_string(env, &engine(handle)?.discovery_metadata().to_string())
    }

    /// `static native String configSchema()`: the description of every configuration key (docs/contract.md §8), the
    /// same JSON as `cimd config-schema`; the Keycloak settings form is built from it.
    fn Java_dev_cimd_keycloak_jni_CimdNative_configSchema(env) -> JString<'local> {
        java_string(env, &crate::config::schema_json().to_string())
    }

    /// `static native String version()`: the engine's crate version, logged when the library loads.
    fn Java_dev_cimd_keycloak_jni_CimdNative_version(env) -> JString<'local> {
        java_string(env, env!("CARGO_PKG_VERSION"))
    }

    /// `static native String panicForTest()`: panics inside the boundary, so that the Java tests can prove a panic
    /// becomes an exception and never a crash.
    fn Java_dev_cimd_keycloak_jni_CimdNative_panicForTest(_env) -> JString<'local> {
        panic!("deliberate test panic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_carries_code_oauth_error_and_transience() {
        let e = crate::err!(BlockedAddress, "host h resolves to 10.0.0.1");
        let v: serde_json::Value = serde_json::from_str(&error_line(&e)).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"], "blocked_address");
        assert_eq!(v["oauth_error"], "invalid_client");
        assert_eq!(v["transient"], false);
        assert_eq!(v["error_description"], "host h resolves to 10.0.0.1");
    }

    #[test]
    fn timeouts_of_zero_or_less_mean_the_configured_deadlines() {
        assert_eq!(timeout(0), None);
        assert_eq!(timeout(-5), None);
        assert_eq!(timeout(250), Some(Duration::from_millis(250)));
    }
}
