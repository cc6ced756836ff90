package dev.cimd.keycloak.discovery;

import com.fasterxml.jackson.databind.JsonNode;

import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory;

import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.representations.OIDCConfigurationRepresentation;
import org.keycloak.wellknown.WellKnownProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * Keycloak's own discovery document, plus what the realm's cimd engines say to advertise (docs/contract.md §10):
 * {@code client_id_metadata_document_supported: true}, its auth methods ({@code none}, and {@code private_key_jwt}
 * when enabled) in {@code token_endpoint_auth_methods_supported}, and {@code S256} in
 * {@code code_challenge_methods_supported}. Clients such as Claude choose CIMD only when all three are present.
 * Realms without a cimd component get Keycloak's document unchanged.
 */
final class CimdWellKnownProvider implements WellKnownProvider {
    private final KeycloakSession session;
    private final WellKnownProvider keycloakDefault;

    CimdWellKnownProvider(KeycloakSession session, WellKnownProvider keycloakDefault) {
        this.session = session;
        this.keycloakDefault = keycloakDefault;
    }

    @Override
    public Object getConfig() {
        Object config = keycloakDefault.getConfig();
        RealmModel realm = session.getContext().getRealm();
        CimdClientStorageProviderFactory factory = CimdClientStorageProviderFactory.of(session);
        if (realm == null || factory == null || !(config instanceof OIDCConfigurationRepresentation rep)) {
            return config;
        }
        List<CimdClientStorageProviderFactory.Component> components = factory.componentsOf(session, realm);
        if (components.isEmpty()) {
            return config;
        }
        // With several cimd components, what any of them supports (a client is served by one of them).
        components.forEach(c -> advertise(rep, c.engine().discovery()));
        return rep;
    }

    /** Merges the engine's discovery fields into Keycloak's, keeping every value Keycloak already lists. */
    static void advertise(OIDCConfigurationRepresentation rep, JsonNode engine) {
        rep.setClientIdMetadataDocumentSupported(engine.path("client_id_metadata_document_supported").asBoolean(true));
        rep.setTokenEndpointAuthMethodsSupported(union(rep.getTokenEndpointAuthMethodsSupported(),
                engine.path("token_endpoint_auth_methods_supported")));
        rep.setCodeChallengeMethodsSupported(union(rep.getCodeChallengeMethodsSupported(),
                engine.path("code_challenge_methods_supported")));
    }

    private static List<String> union(List<String> keycloak, JsonNode engine) {
        List<String> out = keycloak == null ? new ArrayList<>() : new ArrayList<>(keycloak);
        engine.forEach(v -> {
            if (!out.contains(v.asText())) {
                out.add(v.asText());
            }
        });
        return out;
    }

    @Override
    public void close() {
        keycloakDefault.close();
    }
}
