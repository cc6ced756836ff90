package dev.cimd.keycloak.shared;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one pre-filter every provider uses: URL-shaped client_ids go to the engine, others never do. */
class UrlClientIdsTest {
    @Test
    void urlShapedClientIdsAreForTheEngine() {
        assertTrue(UrlClientIds.isCandidate("https://app.example.com/c.json"));
        assertTrue(UrlClientIds.isCandidate("http://app.example.com/c.json"), "refused by the engine, precisely");
        assertTrue(UrlClientIds.isCandidate("HTTPS://app.example.com/c.json"));
        assertTrue(UrlClientIds.isCandidate("a+b-c.d9://x"));
        assertFalse(UrlClientIds.isCandidate("my-app"));
        assertFalse(UrlClientIds.isCandidate("urn:example:app"));
        assertFalse(UrlClientIds.isCandidate(null));
        assertFalse(UrlClientIds.isCandidate("://no-scheme"));
        assertFalse(UrlClientIds.isCandidate("ht tp://x"), "a scheme has no spaces");
        assertFalse(UrlClientIds.isCandidate("h\u00e9://x"), "a scheme is ASCII (RFC 3986 3.1)");
        assertFalse(UrlClientIds.isCandidate("my app with a :// inside"));
    }
}
