package dev.cimd.keycloak.jni;

/**
 * The native methods of the cimd engine ({@code src/jni.rs} in the Rust crate). Package-private: use
 * {@link CimdEngine}, which owns handles and decodes results.
 *
 * <p>The library is loaded lazily and once: by this class's initializer, the first time a method is called.
 * Results are JSON lines; engine errors are lines with {@code "ok":false}, never exceptions. Exceptions are thrown
 * only for an invalid configuration ({@link IllegalArgumentException}) and for misuse or a caught native panic
 * ({@link IllegalStateException}).
 */
final class CimdNative {
    static {
        NativeLoader.load();
    }

    private CimdNative() {
    }

    static native long engineNew(String configJson);

    static native void engineFree(long handle);

    static native String resolve(long handle, String clientId, String redirectUri, long timeoutMs, long knownGeneration);

    static native String probe(long handle, String clientId);

    static native String resolveCached(long handle, String clientId, String redirectUri, long knownGeneration);

    static native boolean invalidate(long handle, String clientId);

    static native String refresh(long handle, String clientId, long timeoutMs);

    static native String resolveJwks(long handle, String clientId, long timeoutMs);

    static native String statsJson(long handle);

    static native String entriesJson(long handle);

    static native String discoveryJson(long handle);

    static native String configSchema();

    static native String version();

    /** Panics inside the native boundary; for the tests that prove a panic becomes an exception. */
    static native String panicForTest();
}
