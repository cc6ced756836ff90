package dev.cimd.keycloak.jni;

import com.fasterxml.jackson.databind.JsonNode;

import dev.cimd.keycloak.testing.OriginClient;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bridge against the real engine and a document host it really fetches from: a listener of the test origin
 * ({@link OriginClient}: HTTPS on 127.0.0.1, {@code localhost}, with the origin run's throwaway CA). Nothing leaves
 * loopback. Covers what only a fetched document shows: every answer, a cache hit included, is the engine's own (the
 * Java side keeps no answers), so an invalidation, a refresh or the end of a document's freshness is seen at once.
 */
class CimdEngineFetchTest {
    private static final String PATH = "/client.json";
    private static OriginClient origin;
    private static OriginClient.Listener host;
    private static String caFile;
    private static String id;
    private static String cb;

    @BeforeAll
    static void documentHost() throws Exception {
        origin = new OriginClient();
        caFile = origin.caFile();
        host = origin.listen(List.of("localhost"));
        id = "https://localhost:" + host.port() + PATH;
        cb = "https://localhost:" + host.port() + "/cb";
    }

    @AfterAll
    static void stop() throws IOException {
        if (origin != null) {
            origin.close();
        }
    }

    @BeforeEach
    void publish() throws IOException {
        serve(document(cb), "max-age=300");
        host.clear();
    }

    /** From now on the host answers every fetch of the document with this body and Cache-Control. */
    private static void serve(String body, String cacheControl) throws IOException {
        host.route(PATH, new OriginClient.Reply(200, List.of(Map.entry("Content-Type", "application/json"),
                Map.entry("Cache-Control", cacheControl)), body));
    }

    private static int fetches() throws IOException {
        return host.count(PATH);
    }

    private static String document(String... redirectUris) {
        StringBuilder uris = new StringBuilder();
        for (String u : redirectUris) {
            uris.append(uris.length() == 0 ? "" : ",").append('"').append(u).append('"');
        }
        return "{\"client_id\":\"" + id + "\",\"client_name\":\"Fetch test\",\"redirect_uris\":[" + uris
                + "],\"token_endpoint_auth_method\":\"none\"}";
    }

    private static CimdEngine engine(String extra) {
        return CimdEngine.create("{\"allow_loopback\": true, \"extra_ca_file\": \"" + caFile + "\"" + extra + "}");
    }

    @Test
    void everyCacheHitIsTheEnginesAndIsCountedThere() throws Exception {
        try (CimdEngine engine = engine("")) {
            assertEquals("network", engine.resolve(id, cb, null).source());
            Resolution first = engine.resolveCached(id, cb).orElseThrow();
            for (int i = 0; i < 4; i++) {
                Resolution r = engine.resolveCached(id, cb).orElseThrow();
                assertEquals(id, r.document().clientId());
                assertEquals("cache", r.source());
                assertTrue(r.document() == first.document(), "one document version is decoded once");
            }
            JsonNode stats = engine.stats();
            assertEquals(5, stats.path("hits").asInt(), "every hit reached the engine: " + stats);
            assertTrue(stats.path("hits_answered_in_jvm").isMissingNode(), stats.toString());
            assertEquals(1, stats.path("fetches").asInt());
            assertEquals(1, fetches());
        }
    }

    @Test
    void aRefusedRedirectUriIsAskedAgainEachTime() throws Exception {
        try (CimdEngine engine = engine("")) {
            engine.resolve(id, null, null);
            for (int i = 0; i < 3; i++) {
                CimdException e = assertThrows(CimdException.class, () -> engine.resolveCached(id, cb + "x"));
                assertEquals("redirect_uri_mismatch", e.code());
            }
            assertEquals(3, engine.stats().path("failures").path("redirect_uri_mismatch").asInt());
        }
    }

    /** Requirement OPS (admin invalidate): the next question goes to the engine, which no longer holds it. */
    @Test
    void afterAnInvalidateTheClientIsNoLongerACacheHit() throws Exception {
        try (CimdEngine engine = engine("")) {
            engine.resolve(id, cb, null);
            engine.resolveCached(id, cb).orElseThrow();
            engine.resolveCached(id, cb).orElseThrow();
            assertTrue(engine.invalidate(id));
            assertTrue(engine.resolveCached(id, cb).isEmpty(), "a hit outlived the invalidation");
            assertEquals(1, fetches(), "resolveCached never fetches");
        }
    }

    /** A refresh that drops a redirect URI: the URI is refused at once, not when the old version would expire. */
    @Test
    void aRefreshThatDropsARedirectUriIsSeenAtOnce() throws Exception {
        String other = "https://localhost:" + host.port() + "/other";
        serve(document(cb, other), "max-age=300");
        try (CimdEngine engine = engine("")) {
            engine.resolve(id, other, null);
            engine.resolveCached(id, other).orElseThrow();
            engine.resolveCached(id, other).orElseThrow();
            serve(document(cb), "max-age=300");
            Resolution refreshed = engine.refresh(id, null);
            assertEquals(List.of("redirect_uris"), refreshed.document().changed());
            CimdException e = assertThrows(CimdException.class, () -> engine.resolveCached(id, other));
            assertEquals("redirect_uri_mismatch", e.code());
            assertEquals(cb, engine.resolveCached(id, cb).orElseThrow().document().redirectUris().get(0));
        }
    }

    /** CAC-07: a no-store document with a zero floor is never a cache hit, so every question needs a fetch. */
    @Test
    void aNoStoreDocumentIsNeverAnsweredFromTheCache() throws Exception {
        serve(document(cb), "no-store");
        try (CimdEngine engine = engine(", \"min_cache_ttl_s\": 0")) {
            assertEquals("network", engine.resolve(id, cb, null).source());
            for (int i = 0; i < 3; i++) {
                assertTrue(engine.resolveCached(id, cb).isEmpty(), "a no-store document was answered from the cache");
            }
            assertEquals("network", engine.resolve(id, cb, null).source());
            assertEquals(2, fetches());
        }
    }

    @Test
    void aClosedEngineAnswersNothing() throws Exception {
        CimdEngine engine = engine("");
        engine.resolve(id, cb, null);
        engine.resolveCached(id, cb).orElseThrow();
        engine.close();
        assertThrows(IllegalStateException.class, () -> engine.resolveCached(id, cb));
    }
}
