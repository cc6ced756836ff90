package dev.cimd.keycloak.shared;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.Provider;
import org.keycloak.provider.ProviderFactory;

/**
 * A provider factory that holds nothing of its own: no configuration to read at boot, nothing to start after the
 * other factories, nothing to free. The cimd engines are held by the client-storage factory alone
 * ({@link EngineRegistry}); every other factory here only makes providers.
 */
public interface StatelessFactory<T extends Provider> extends ProviderFactory<T> {
    @Override
    default void init(Config.Scope config) {
    }

    @Override
    default void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    default void close() {
    }
}
