package dev.cimd.keycloak.clientpolicy.executor;

import dev.cimd.keycloak.shared.StatelessFactory;

import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProviderFactory;

import java.util.List;

/** Factory of {@link CimdResolveExecutor} ({@code cimd-resolve}). */
public final class CimdResolveExecutorFactory
        implements ClientPolicyExecutorProviderFactory, StatelessFactory<ClientPolicyExecutorProvider> {
    public static final String PROVIDER_ID = "cimd-resolve";

    @Override
    public ClientPolicyExecutorProvider create(KeycloakSession session) {
        return new CimdResolveExecutor(session);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Resolves URL client_ids with the realm's cimd engine before the client lookup and shows the precise"
                + " cimd error (code and rule) instead of \"Client not found\"; never redirects to an unverified"
                + " redirect_uri.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }
}
