package dev.cimd.keycloak.jni;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One validated version of a client's metadata document, as the engine reports it (docs/contract.md §6): the
 * effective registration after validation and auth-method negotiation. Immutable; decoded once per document
 * version ({@link #generation()}) and shared by every request that sees that version.
 *
 * @param tokenEndpointAuthMethod the effective method after negotiation: {@code none} or {@code private_key_jwt}
 * @param displayHostAscii the client_id host as shown on consent screens (ASCII form; punycode for IDNs)
 * @param displayHostUnicode the same host in Unicode (equal to the ASCII form when it is not an IDN)
 * @param warnings the engine's warnings about this version (docs/contract.md)
 * @param changed watched fields that changed in this version (redirect_uris, auth method, keys, scope, grant types)
 * @param generation the version's number, which the native cache-hit call compares against
 */
public record ClientDocument(
        String clientId,
        String clientName,
        String clientUri,
        String logoUri,
        String tosUri,
        String policyUri,
        List<String> redirectUris,
        List<String> postLogoutRedirectUris,
        List<String> grantTypes,
        List<String> responseTypes,
        String tokenEndpointAuthMethod,
        boolean hasInlineJwks,
        String jwksUri,
        String scope,
        String applicationType,
        String displayHostAscii,
        String displayHostUnicode,
        List<String> warnings,
        List<String> changed,
        String fetchedAt,
        long generation) {

    /** Decodes the engine's {@code document_json}. */
    public static ClientDocument fromJson(JsonNode document) {
        JsonNode c = document.path("client");
        JsonNode host = c.path("display_host");
        String ascii = host.path("ascii").asText();
        return new ClientDocument(c.path("client_id").asText(),
                text(c, "client_name"), text(c, "client_uri"), text(c, "logo_uri"), text(c, "tos_uri"),
                text(c, "policy_uri"),
                list(c, "redirect_uris"), list(c, "post_logout_redirect_uris"), list(c, "grant_types"),
                list(c, "response_types"),
                c.path("token_endpoint_auth_method").asText("none"), c.has("jwks"), text(c, "jwks_uri"),
                text(c, "scope"), text(c, "application_type"),
                ascii, host.path("unicode").asText(ascii),
                list(document, "warnings"), list(document, "changed"),
                document.path("fetched_at").asText(), document.path("generation").asLong());
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<String> list(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isArray()) {
            return Collections.emptyList();
        }
        List<String> out = new ArrayList<>(v.size());
        v.forEach(item -> out.add(item.asText()));
        return Collections.unmodifiableList(out);
    }

    public boolean isPublicClient() {
        return "none".equals(tokenEndpointAuthMethod);
    }
}
