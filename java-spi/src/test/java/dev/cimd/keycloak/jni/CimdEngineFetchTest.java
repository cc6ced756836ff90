package dev.cimd.keycloak.jni;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import java.io.FileInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bridge against the real engine and a document host it really fetches from: an HTTPS server on
 * 127.0.0.1 ({@code localhost}) with a throwaway CA made by keytool for this run. Nothing leaves loopback.
 * Covers what only a fetched document shows: every answer, a cache hit included, is the engine's own (the Java
 * side keeps no answers), so an invalidation, a refresh or the end of a document's freshness is seen at once.
 */
class CimdEngineFetchTest {
    private static final String PASS = "changeit";
    private static HttpsServer server;
    private static String caFile;
    private static final AtomicReference<String> body = new AtomicReference<>();
    private static final AtomicReference<String> cacheControl = new AtomicReference<>();
    private static final AtomicInteger fetches = new AtomicInteger();
    private static String id;
    private static String cb;

    @BeforeAll
    static void documentHost(@TempDir Path dir) throws Exception {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        String ca = dir.resolve("ca.p12").toString();
        String leaf = dir.resolve("leaf.p12").toString();
        caFile = dir.resolve("ca.pem").toString();
        String csr = dir.resolve("leaf.csr").toString();
        String leafPem = dir.resolve("leaf.pem").toString();
        List<String> ec = List.of("-keyalg", "EC", "-groupname", "secp256r1", "-storetype", "PKCS12",
                "-storepass", PASS, "-validity", "2");
        run(keytool, concat(List.of("-genkeypair", "-alias", "ca", "-dname", "CN=cimd test CA", "-ext", "bc:c",
                "-keystore", ca), ec));
        run(keytool, List.of("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", PASS,
                "-file", caFile));
        run(keytool, concat(List.of("-genkeypair", "-alias", "leaf", "-dname", "CN=localhost", "-keystore", leaf), ec));
        run(keytool, List.of("-certreq", "-alias", "leaf", "-keystore", leaf, "-storepass", PASS, "-file", csr));
        run(keytool, List.of("-gencert", "-alias", "ca", "-keystore", ca, "-storepass", PASS, "-infile", csr,
                "-outfile", leafPem, "-rfc", "-validity", "2", "-ext", "san=dns:localhost", "-ext", "eku=serverAuth"));
        run(keytool, List.of("-importcert", "-alias", "ca", "-file", caFile, "-keystore", leaf, "-storepass", PASS,
                "-noprompt"));
        run(keytool, List.of("-importcert", "-alias", "leaf", "-file", leafPem, "-keystore", leaf, "-storepass", PASS,
                "-noprompt"));

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(leaf)) {
            ks.load(in, PASS.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASS.toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/client.json", exchange -> {
            fetches.incrementAndGet();
            byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.getResponseHeaders().set("Cache-Control", cacheControl.get());
            exchange.sendResponseHeaders(200, b.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(b);
            }
        });
        server.start();
        id = "https://localhost:" + server.getAddress().getPort() + "/client.json";
        cb = "https://localhost:" + server.getAddress().getPort() + "/cb";
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @BeforeEach
    void publish() {
        body.set(document(cb));
        cacheControl.set("max-age=300");
        fetches.set(0);
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
            assertEquals(1, fetches.get());
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
            assertEquals(1, fetches.get(), "resolveCached never fetches");
        }
    }

    /** A refresh that drops a redirect URI: the URI is refused at once, not when the old version would expire. */
    @Test
    void aRefreshThatDropsARedirectUriIsSeenAtOnce() throws Exception {
        String other = "https://localhost:" + server.getAddress().getPort() + "/other";
        body.set(document(cb, other));
        try (CimdEngine engine = engine("")) {
            engine.resolve(id, other, null);
            engine.resolveCached(id, other).orElseThrow();
            engine.resolveCached(id, other).orElseThrow();
            body.set(document(cb));
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
        cacheControl.set("no-store");
        try (CimdEngine engine = engine(", \"min_cache_ttl_s\": 0")) {
            assertEquals("network", engine.resolve(id, cb, null).source());
            for (int i = 0; i < 3; i++) {
                assertTrue(engine.resolveCached(id, cb).isEmpty(), "a no-store document was answered from the cache");
            }
            assertEquals("network", engine.resolve(id, cb, null).source());
            assertEquals(2, fetches.get());
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

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static void run(String keytool, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(keytool);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
        }
    }
}
