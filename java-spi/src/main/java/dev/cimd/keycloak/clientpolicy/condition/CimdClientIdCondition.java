package dev.cimd.keycloak.clientpolicy.condition;

import org.keycloak.models.KeycloakSession;
import org.keycloak.representations.idm.ClientPolicyConditionConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyEvent;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProvider;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;

/**
 * True for an authorization request whose client_id is URL-shaped ({@code scheme://...}), before Keycloak looks
 * the client up. URL-shaped rather than "a valid CIMD URL" on purpose: deciding validity is the engine's job,
 * and an {@code http://} client_id should get the engine's precise {@code invalid_client_id_url}, not Keycloak's
 * "Client not found".
 */
public final class CimdClientIdCondition
        extends AbstractClientPolicyConditionProvider<ClientPolicyConditionConfigurationRepresentation> {

    public CimdClientIdCondition(KeycloakSession session) {
        super(session);
    }

    @Override
    public Class<ClientPolicyConditionConfigurationRepresentation> getConditionConfigurationClass() {
        return ClientPolicyConditionConfigurationRepresentation.class;
    }

    @Override
    public String getProviderId() {
        return CimdClientIdConditionFactory.PROVIDER_ID;
    }

    @Override
    public ClientPolicyVote applyPolicy(ClientPolicyContext context) throws ClientPolicyException {
        if (context.getEvent() == ClientPolicyEvent.PRE_AUTHORIZATION_REQUEST
                && context instanceof PreAuthorizationRequestContext pre && isUrlShaped(pre.getClientId())) {
            return ClientPolicyVote.YES;
        }
        return ClientPolicyVote.ABSTAIN;
    }

    static boolean isUrlShaped(String clientId) {
        if (clientId == null) {
            return false;
        }
        int sep = clientId.indexOf("://");
        return sep > 0 && clientId.substring(0, sep).chars().allMatch(c -> Character.isLetterOrDigit(c)
                || c == '+' || c == '-' || c == '.');
    }
}
