package dev.cimd.keycloak.clientpolicy.condition;

import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProviderFactory;
import org.keycloak.services.clientpolicy.condition.ClientPolicyConditionProvider;

import java.util.ArrayList;
import java.util.List;

/** Factory of {@link CimdClientIdCondition} ({@code cimd-client-id}). */
public final class CimdClientIdConditionFactory extends AbstractClientPolicyConditionProviderFactory {
    public static final String PROVIDER_ID = "cimd-client-id";

    private static final List<ProviderConfigProperty> PROPERTIES = new ArrayList<>();

    static {
        addCommonConfigProperties(PROPERTIES);
    }

    @Override
    public ClientPolicyConditionProvider create(KeycloakSession session) {
        return new CimdClientIdCondition(session);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "True for authorization requests whose client_id is a URL (a Client ID Metadata Document client),"
                + " checked before Keycloak looks the client up.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return PROPERTIES;
    }
}
