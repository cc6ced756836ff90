package dev.cimd.keycloak.jni;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One cimd engine (its configuration, cache, HTTP client and counters) behind a native handle.
 *
 * <p>Thread-safe. Every call holds the read lock while it uses the handle; {@link #close()} takes the write
 * lock, so the native engine is never freed under a running call and never used after it is freed. The rules
 * (URL checks, SSRF-safe fetch, validation, redirect matching, caching) all live in the engine, and every answer
 * is the engine's: this class only moves arguments in and results out, and keeps each document version decoded
 * once (by its generation, which the engine gives), so that a cache hit costs one native call and no JSON parse.
 */
public final class CimdEngine implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Decoded versions kept at most; beyond that the map is cleared (the engine's own cache is the bound). */
    private static final int MAX_DECODED = 10_000;

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Map<String, ClientDocument> decoded = new ConcurrentHashMap<>();
    private long handle;

    private CimdEngine(long handle) {
        this.handle = handle;
    }

    /**
     * A new engine for a configuration JSON object (docs/contract.md §8).
     *
     * @throws IllegalArgumentException when the engine refuses the configuration; the message names the key
     */
    public static CimdEngine create(String configJson) {
        return new CimdEngine(CimdNative.engineNew(configJson));
    }

    /**
     * The engine's description of every configuration key (docs/contract.md §8): {@code {"keys": [...]}}, each
     * with name, title, type, default, range and meaning. Loads the library if needed.
     */
    public static String configSchema() {
        return CimdNative.configSchema();
    }

    /** The native library's version; loads the library if needed. */
    public static String nativeVersion() {
        return CimdNative.version();
    }

    /**
     * Resolves {@code clientId}, checking {@code redirectUri} when it is not null (docs/contract.md §5).
     *
     * @param timeout bounds a fetch, when one is needed (null: the configured deadlines)
     * @throws CimdException when the engine refuses the client_id or the redirect URI
     */
    public Resolution resolve(String clientId, String redirectUri, Duration timeout) throws CimdException {
        return versioned(clientId, (h, known) -> CimdNative.resolve(h, clientId, redirectUri, millis(timeout), known));
    }

    /**
     * What {@link #resolve} would answer when it needs no fetch: a cache hit (or a stale one being refreshed in
     * the background), with {@code redirectUri} checked when it is not null; empty when a resolve would have to
     * fetch. One native call, and no decoding while our decoded copy is current.
     *
     * @throws CimdException when the engine refuses the redirect URI of a client it holds
     */
    public Optional<Resolution> resolveCached(String clientId, String redirectUri) throws CimdException {
        return Optional.ofNullable(
                versioned(clientId, (h, known) -> CimdNative.resolveCached(h, clientId, redirectUri, known)));
    }

    /** The cached answer without any I/O, if a resolve would not have to fetch. */
    public Optional<Resolution> probe(String clientId) {
        String line = call(h -> CimdNative.probe(h, clientId));
        if (line == null) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(decode(clientId, line, null));
        } catch (CimdException e) {
            return Optional.empty();
        }
    }

    /** Fetches {@code clientId} again now, whatever its freshness. */
    public Resolution refresh(String clientId, Duration timeout) throws CimdException {
        return decode(clientId, call(h -> CimdNative.refresh(h, clientId, millis(timeout))), null);
    }

    /** Forgets the cached document (and fetched keys) of {@code clientId}. True if there was one. */
    public boolean invalidate(String clientId) {
        decoded.remove(clientId);
        return call(h -> CimdNative.invalidate(h, clientId));
    }

    /**
     * The JWK Set that verifies {@code clientId}'s client assertions: the document's {@code jwks}, or the set the
     * engine fetched from its {@code jwks_uri} under the same SSRF rules, limits and cache as documents.
     *
     * @return the set as JSON text, {@code {"keys": [...]}}
     */
    public String resolveJwks(String clientId, Duration timeout) throws CimdException {
        JsonNode v = parse(call(h -> CimdNative.resolveJwks(h, clientId, millis(timeout))));
        throwIfError(v);
        return v.path("jwks").toString();
    }

    /** The engine's counters (hits, misses, fetches, coalesced waits, stale serves, failures by code...). */
    public JsonNode stats() {
        return parse(call(CimdNative::statsJson));
    }

    /** The cache's entries with their freshness, for operators. */
    public JsonNode entries() {
        return parse(call(CimdNative::entriesJson));
    }

    /** The authorization-server metadata to advertise (docs/contract.md §10). */
    public JsonNode discovery() {
        return parse(call(CimdNative::discoveryJson));
    }

    /** Frees the native engine. Idempotent; calls after it throw {@link IllegalStateException}. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (handle != 0) {
                long h = handle;
                handle = 0;
                CimdNative.engineFree(h);
            }
            decoded.clear();
        } finally {
            lock.writeLock().unlock();
        }
    }

    public boolean isClosed() {
        lock.readLock().lock();
        try {
            return handle == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    @FunctionalInterface
    private interface NativeCall<T> {
        T apply(long handle);
    }

    /** A native call told which document generation we hold decoded (-1: none), so that it can omit the document. */
    @FunctionalInterface
    private interface VersionedCall {
        String apply(long handle, long knownGeneration);
    }

    /** Makes a versioned call and decodes its line; null when the native call returned null. */
    private Resolution versioned(String clientId, VersionedCall f) throws CimdException {
        ClientDocument known = decoded.get(clientId);
        long knownGeneration = known == null ? -1 : known.generation();
        String line = call(h -> f.apply(h, knownGeneration));
        Resolution r = line == null ? null : decode(clientId, line, known);
        if (line != null && r == null) {
            // Another thread replaced our decoded copy between the lookup and the call: ask for the document.
            line = call(h -> f.apply(h, -1));
            r = line == null ? null : decode(clientId, line, null);
        }
        return r;
    }

    private <T> T call(NativeCall<T> f) {
        lock.readLock().lock();
        try {
            if (handle == 0) {
                throw new IllegalStateException("the cimd engine is closed");
            }
            return f.apply(handle);
        } finally {
            lock.readLock().unlock();
        }
    }

    private static long millis(Duration timeout) {
        return timeout == null ? 0 : Math.max(1, timeout.toMillis());
    }

    /**
     * Decodes a result line. Returns null when the line omits the document because our decoded copy was current
     * when we asked, but has been replaced since (the caller asks again).
     */
    private Resolution decode(String clientId, String line, ClientDocument known) throws CimdException {
        OkLine ok = OkLine.parse(line);
        if (ok == null) {
            JsonNode v = parse(line);
            throwIfError(v);
            throw new IllegalStateException("cimd: unexpected result line " + line);
        }
        ClientDocument document;
        boolean newVersion = false;
        if (ok.documentStart < 0) {
            document = known != null && known.generation() == ok.generation ? known : decoded.get(clientId);
            if (document == null || document.generation() != ok.generation) {
                return null;
            }
        } else {
            document = ClientDocument.fromJson(parse(line.substring(ok.documentStart, line.length() - 1)));
            if (decoded.size() >= MAX_DECODED) {
                decoded.clear();
            }
            ClientDocument previous = decoded.put(clientId, document);
            newVersion = previous == null || previous.generation() != document.generation();
        }
        return new Resolution(document, ok.source, ok.expiresAt, newVersion);
    }

    private static void throwIfError(JsonNode v) throws CimdException {
        if (!v.path("ok").asBoolean(false)) {
            throw new CimdException(v.path("error").asText("internal"), v.path("error_description").asText(""),
                    v.path("oauth_error").asText("server_error"), v.path("transient").asBoolean(false));
        }
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cimd: the engine returned malformed JSON", e);
        }
    }

    /**
     * The fixed prefix of the bridge's ok line, {@code {"ok":true,"source":"S","expires_at_epoch_s":N,
     * "generation":N[,"document":{...}]}}, read without a JSON parser: it is on every authorization request.
     */
    static final class OkLine {
        private static final String PREFIX = "{\"ok\":true,\"source\":\"";
        private static final String EXPIRES = ",\"expires_at_epoch_s\":";
        private static final String GENERATION = ",\"generation\":";
        private static final String DOCUMENT = ",\"document\":";

        final String source;
        final long expiresAt;
        final long generation;
        final int documentStart;

        private OkLine(String source, long expiresAt, long generation, int documentStart) {
            this.source = source;
            this.expiresAt = expiresAt;
            this.generation = generation;
            this.documentStart = documentStart;
        }

        static OkLine parse(String line) {
            if (line == null || !line.startsWith(PREFIX)) {
                return null;
            }
            int sourceEnd = line.indexOf('"', PREFIX.length());
            if (sourceEnd < 0 || !line.startsWith(EXPIRES, sourceEnd + 1)) {
                return null;
            }
            String source = line.substring(PREFIX.length(), sourceEnd);
            int p = sourceEnd + 1 + EXPIRES.length();
            int expiresEnd = digitsEnd(line, p);
            if (expiresEnd == p || !line.startsWith(GENERATION, expiresEnd)) {
                return null;
            }
            long expires = Long.parseLong(line, p, expiresEnd, 10);
            p = expiresEnd + GENERATION.length();
            int generationEnd = digitsEnd(line, p);
            if (generationEnd == p) {
                return null;
            }
            long generation = Long.parseLong(line, p, generationEnd, 10);
            int documentStart = -1;
            if (line.startsWith(DOCUMENT, generationEnd)) {
                documentStart = generationEnd + DOCUMENT.length();
            } else if (generationEnd != line.length() - 1) {
                return null;
            }
            return new OkLine(source, expires, generation, documentStart);
        }

        private static int digitsEnd(String s, int from) {
            int i = from;
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            return i;
        }
    }
}
