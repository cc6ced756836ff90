package dev.cimd.keycloak.jni;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One validated version of a client's metadata document, as the engine reports it (docs/contract.md §6): the
 * effective registration after validation and auth-method negotiation. Immutable; decoded once per document
 * version ({@link #generation()}) and shared by every request that sees that version.
 */
public final class ClientDocument {
    private final String clientId;
    private final String clientName;
    private final String clientUri;
    private final String logoUri;
    private final String tosUri;
    private final String policyUri;
    private final List<String> redirectUris;
    private final List<String> postLogoutRedirectUris;
    private final List<String> grantTypes;
    private final List<String> responseTypes;
    private final String tokenEndpointAuthMethod;
    private final boolean hasInlineJwks;
    private final String jwksUri;
    private final String scope;
    private final String applicationType;
    private final String displayHostAscii;
    private final String displayHostUnicode;
    private final List<String> warnings;
    private final List<String> changed;
    private final String fetchedAt;
    private final long generation;

    private ClientDocument(JsonNode document) {
        JsonNode c = document.path("client");
        this.clientId = c.path("client_id").asText();
        this.clientName = text(c, "client_name");
        this.clientUri = text(c, "client_uri");
        this.logoUri = text(c, "logo_uri");
        this.tosUri = text(c, "tos_uri");
        this.policyUri = text(c, "policy_uri");
        this.redirectUris = list(c, "redirect_uris");
        this.postLogoutRedirectUris = list(c, "post_logout_redirect_uris");
        this.grantTypes = list(c, "grant_types");
        this.responseTypes = list(c, "response_types");
        this.tokenEndpointAuthMethod = c.path("token_endpoint_auth_method").asText("none");
        this.hasInlineJwks = c.has("jwks");
        this.jwksUri = text(c, "jwks_uri");
        this.scope = text(c, "scope");
        this.applicationType = text(c, "application_type");
        this.displayHostAscii = c.path("display_host").path("ascii").asText();
        this.displayHostUnicode = c.path("display_host").path("unicode").asText(displayHostAscii);
        this.warnings = list(document, "warnings");
        this.changed = list(document, "changed");
        this.fetchedAt = document.path("fetched_at").asText();
        this.generation = document.path("generation").asLong();
    }

    /** Decodes the engine's {@code document_json}. */
    public static ClientDocument fromJson(JsonNode document) {
        return new ClientDocument(document);
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

    public String clientId() { return clientId; }
    public String clientName() { return clientName; }
    public String clientUri() { return clientUri; }
    public String logoUri() { return logoUri; }
    public String tosUri() { return tosUri; }
    public String policyUri() { return policyUri; }
    public List<String> redirectUris() { return redirectUris; }
    public List<String> postLogoutRedirectUris() { return postLogoutRedirectUris; }
    public List<String> grantTypes() { return grantTypes; }
    public List<String> responseTypes() { return responseTypes; }
    /** The effective method after negotiation: {@code none} or {@code private_key_jwt}. */
    public String tokenEndpointAuthMethod() { return tokenEndpointAuthMethod; }
    public boolean hasInlineJwks() { return hasInlineJwks; }
    public String jwksUri() { return jwksUri; }
    public String scope() { return scope; }
    public String applicationType() { return applicationType; }
    /** The client_id host as shown on consent screens (ASCII form; punycode for IDNs). */
    public String displayHostAscii() { return displayHostAscii; }
    public String displayHostUnicode() { return displayHostUnicode; }
    public List<String> warnings() { return warnings; }
    /** Watched fields that changed in this version (redirect_uris, auth method, keys, scope, grant types). */
    public List<String> changed() { return changed; }
    public String fetchedAt() { return fetchedAt; }
    public long generation() { return generation; }

    public boolean isPublicClient() {
        return "none".equals(tokenEndpointAuthMethod);
    }
}
