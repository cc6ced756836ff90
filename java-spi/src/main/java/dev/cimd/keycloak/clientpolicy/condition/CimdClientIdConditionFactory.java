package dev.cimd.keycloak.clientpolicy.condition;

import dev.cimd.keycloak.shared.ConfiguredFactory;

import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProviderFactory;
import org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider;

import java.util.ArrayList;
import java.util.List;

/** Factory of {@link CimdClientIdCondition} ({@code cimd-client-id}). */
public final class CimdClientIdConditionFactory extends AbstractClientPolicyConditionProviderFactory
        implements ConfiguredFactory<ClientPolicyConditionProvider> {
    public static final String PROVIDER_ID = "cimd-client-id";

    private static final About<ClientPolicyConditionProvider> ABOUT = new About<>(PROVIDER_ID,
            "True for authorization requests whose client_id is a URL (a Client ID Metadata Document client),"
                    + " checked before Keycloak looks the client up.",
            properties(), CimdClientIdCondition::new);

    private static List<ProviderConfigProperty> properties() {
        List<ProviderConfigProperty> properties = new ArrayList<>();
        addCommonConfigProperties(properties);
        return properties;
    }

    @Override
    public About<ClientPolicyConditionProvider> about() {
        return ABOUT;
    }
}
