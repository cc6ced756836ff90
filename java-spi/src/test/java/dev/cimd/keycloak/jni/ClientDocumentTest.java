package dev.cimd.keycloak.jni;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientDocumentTest {
    @Test
    void decodesTheSection6Fields() {
        ClientDocument d = Documents.resolution("{\"client_id\":\"https://a.example/c.json\",\"client_name\":\"A\","
                + "\"redirect_uris\":[\"https://a.example/cb\"],\"grant_types\":[\"authorization_code\"],"
                + "\"response_types\":[\"code\"],\"token_endpoint_auth_method\":\"private_key_jwt\","
                + "\"jwks_uri\":\"https://a.example/jwks\",\"display_host\":{\"ascii\":\"a.example\",\"unicode\":\"a.example\"}}")
                .document();
        assertEquals("https://a.example/c.json", d.clientId());
        assertEquals("A", d.clientName());
        assertEquals(List.of("https://a.example/cb"), d.redirectUris());
        assertEquals("private_key_jwt", d.tokenEndpointAuthMethod());
        assertFalse(d.isPublicClient());
        assertFalse(d.hasInlineJwks());
        assertEquals("https://a.example/jwks", d.jwksUri());
        assertNull(d.logoUri());
        assertEquals(3, d.generation());
        assertTrue(d.postLogoutRedirectUris().isEmpty());
    }
}
