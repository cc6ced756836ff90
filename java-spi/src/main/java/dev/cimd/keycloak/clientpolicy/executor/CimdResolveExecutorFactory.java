package dev.cimd.keycloak.clientpolicy.executor;

import dev.cimd.keycloak.shared.ConfiguredFactory;
import dev.cimd.keycloak.shared.StatelessFactory;

import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProviderFactory;

import java.util.List;

/** Factory of {@link CimdResolveExecutor} ({@code cimd-resolve}). */
public final class CimdResolveExecutorFactory
        implements ClientPolicyExecutorProviderFactory, StatelessFactory<ClientPolicyExecutorProvider>,
        ConfiguredFactory<ClientPolicyExecutorProvider> {
    public static final String PROVIDER_ID = "cimd-resolve";

    private static final About<ClientPolicyExecutorProvider> ABOUT = new About<>(PROVIDER_ID,
            "Resolves URL client_ids with the realm's cimd engine before the client lookup and shows the precise"
                    + " cimd error (code and rule) instead of \"Client not found\"; never redirects to an unverified"
                    + " redirect_uri; refuses a URL client's resource (RFC 8707) that the cimd component's"
                    + " allowed_resources does not list with invalid_target, redirected to the client.",
            List.of(), CimdResolveExecutor::new);

    @Override
    public About<ClientPolicyExecutorProvider> about() {
        return ABOUT;
    }
}
