package dev.cimd.keycloak.jni;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JNI bridge against the real native library (packaged under target/classes/native like in the jar). */
class CimdEngineTest {

    @Test
    void theLibraryLoadsFromTheJarLayoutAndReportsItsVersion() {
        assertTrue(CimdEngine.nativeVersion().matches("\\d+\\.\\d+\\.\\d+.*"), CimdEngine.nativeVersion());
    }

    @Test
    void anInvalidConfigurationIsAnIllegalArgumentNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CimdEngine.create("{\"max_doc_bytes\": 10}"));
        assertTrue(e.getMessage().contains("max_doc_bytes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CimdEngine.create("{\"fetch_timeout_ms\": 0}"));
        assertTrue(e.getMessage().contains("fetch_timeout_ms"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CimdEngine.create("not json"));
    }

    @Test
    void engineErrorsBecomeCimdExceptionsWithCodeDescriptionAndOauthError() {
        try (CimdEngine engine = CimdEngine.create("{}")) {
            CimdException e = assertThrows(CimdException.class,
                    () -> engine.resolve("http://app.example/client.json", null, null));
            assertEquals("invalid_client_id_url", e.code());
            assertEquals("invalid_client", e.oauthError());
            assertFalse(e.isTransient());
            assertFalse(e.description().isEmpty());
            e = assertThrows(CimdException.class, () -> engine.resolve("https://app.example/../x.json", null, null));
            assertEquals("invalid_client_id_url", e.code());
            JsonNode stats = engine.stats();
            assertEquals(2, stats.path("failures").path("invalid_client_id_url").asInt());
            assertEquals(0, stats.path("fetches").asInt(), "rejected before any network activity");
        }
    }

    @Test
    void hostPolicyIsAppliedByTheEngine() {
        try (CimdEngine engine = CimdEngine.create("{\"denied_hosts\": [\"evil.example\"]}")) {
            CimdException e = assertThrows(CimdException.class,
                    () -> engine.resolve("https://evil.example/c.json", null, null));
            assertEquals("host_not_allowed", e.code());
            assertTrue(engine.probe("https://evil.example/c.json").isEmpty());
            assertFalse(engine.invalidate("https://evil.example/c.json"));
            assertEquals(0, engine.entries().size());
        }
    }

    /**
     * Strings cross the bridge intact both ways: non-ASCII (an IDN host) and supplementary characters (an emoji),
     * into the engine and back in its messages.
     */
    @Test
    void nonAsciiAndSupplementaryCharactersCrossTheBridgeIntact() throws Exception {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> CimdEngine.create("{\"denied_hosts\": [\"b\u00fccher\ud83d\ude00.example\"]}"));
        assertTrue(bad.getMessage().contains("\"b\u00fccher\ud83d\ude00.example\""), bad.getMessage());
        try (CimdEngine engine = CimdEngine.create("{\"denied_hosts\": [\"xn--bcher-kva.example\"]}")) {
            CimdException e = assertThrows(CimdException.class,
                    () -> engine.resolve("https://b\u00fccher.example/c.json", null, null));
            assertEquals("host_not_allowed", e.code(), "the IDN host reached the engine intact: " + e.description());
            e = assertThrows(CimdException.class,
                    () -> engine.resolve("https://b\u00fccher.example/\ud83d\ude00.json", null, null));
            assertEquals("invalid_client_id_url", e.code());
            assertTrue(e.description().contains("non-ASCII character at offset 24"), "UTF-8 offsets: " + e.description());
            assertTrue(engine.resolveCached("https://ok.example/\ud83d\ude00.json", "http://localhost/\u00e9").isEmpty());
        }
    }

    @Test
    void resolveCachedNeverFetches() throws Exception {
        try (CimdEngine engine = CimdEngine.create("{}")) {
            assertTrue(engine.resolveCached("https://app.example/client.json", null).isEmpty());
            assertTrue(engine.resolveCached("https://app.example/client.json", "https://app.example/cb").isEmpty());
            assertTrue(engine.resolveCached("http://not-a-cimd-url/c.json", null).isEmpty());
            JsonNode stats = engine.stats();
            assertEquals(0, stats.path("fetches").asInt());
            assertEquals(0, stats.path("misses").asInt(), "a cache-only question is not a miss");
            assertEquals(0, stats.path("hits").asInt());
            assertEquals(0, engine.entries().size());
        }
    }

    @Test
    void discoveryFollowsTheEngineConfiguration() {
        try (CimdEngine engine = CimdEngine.create("{\"auth_methods_supported\": [\"none\", \"private_key_jwt\"]}")) {
            JsonNode d = engine.discovery();
            assertTrue(d.path("client_id_metadata_document_supported").asBoolean());
            assertEquals("[\"none\",\"private_key_jwt\"]", d.path("token_endpoint_auth_methods_supported").toString());
            assertEquals("[\"S256\"]", d.path("code_challenge_methods_supported").toString());
        }
    }

    @Test
    void aPanicInNativeCodeBecomesAnExceptionNotACrash() {
        IllegalStateException e = assertThrows(IllegalStateException.class, CimdNative::panicForTest);
        assertTrue(e.getMessage().contains("deliberate test panic"), e.getMessage());
        // The JVM and the library are still fine afterwards.
        try (CimdEngine engine = CimdEngine.create("{}")) {
            assertFalse(engine.isClosed());
        }
    }

    @Test
    void aClosedEngineRefusesCallsAndCloseIsIdempotent() {
        CimdEngine engine = CimdEngine.create("{}");
        engine.close();
        engine.close();
        assertTrue(engine.isClosed());
        assertThrows(IllegalStateException.class, () -> engine.resolve("https://a.example/c.json", null, null));
        assertThrows(IllegalStateException.class, engine::stats);
        assertThrows(IllegalStateException.class, () -> engine.resolveCached("https://a.example/c.json", null),
                "a closed engine answers nothing");
    }

    @Test
    void closeWaitsForCallsInFlightAndLaterCallsFailCleanly() throws Exception {
        CimdEngine engine = CimdEngine.create("{}");
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger closed = new AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    start.await();
                    for (int n = 0; n < 2000; n++) {
                        try {
                            engine.resolve("http://not-https.example/c.json", null, null);
                        } catch (CimdException e) {
                            refused.incrementAndGet();
                        } catch (IllegalStateException e) {
                            closed.incrementAndGet();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            workers.add(t);
            t.start();
        }
        start.countDown();
        Thread.sleep(5);
        engine.close();
        for (Thread t : workers) {
            t.join();
        }
        assertEquals(threads * 2000, refused.get() + closed.get());
    }

    @Test
    void theOkLineIsReadWithoutAJsonParser() {
        CimdEngine.OkLine ok = CimdEngine.OkLine.parse(
                "{\"ok\":true,\"source\":\"cache\",\"expires_at_epoch_s\":1795310304,\"generation\":7}");
        assertEquals("cache", ok.source);
        assertEquals(1795310304L, ok.expiresAt);
        assertEquals(7, ok.generation);
        assertEquals(-1, ok.documentStart);
        String withDoc = "{\"ok\":true,\"source\":\"network\",\"expires_at_epoch_s\":1,\"generation\":2,\"document\":{\"a\":1}}";
        ok = CimdEngine.OkLine.parse(withDoc);
        assertEquals("{\"a\":1}", withDoc.substring(ok.documentStart, withDoc.length() - 1));
        assertNull(CimdEngine.OkLine.parse("{\"ok\":false,\"error\":\"x\"}"));
        assertNull(CimdEngine.OkLine.parse("{\"ok\":true,\"source\":\"cache\",\"expires_at_epoch_s\":x,\"generation\":7}"));
        assertNull(CimdEngine.OkLine.parse("{\"ok\":true,\"source\":\"cache\",\"expires_at_epoch_s\":1,\"generation\":7,\"x\":1}"));
    }
}
