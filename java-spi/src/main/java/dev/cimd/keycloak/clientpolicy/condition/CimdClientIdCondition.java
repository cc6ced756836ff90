package dev.cimd.keycloak.clientpolicy.condition;

import dev.cimd.keycloak.clientpolicy.executor.CimdResolveExecutor;

import org.keycloak.models.KeycloakSession;
import org.keycloak.representations.idm.ClientPolicyConditionConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyEvent;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProvider;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;

/**
 * True for an authorization request whose URL-shaped client_id ({@code scheme://...}) the realm's cimd engine
 * rejects, together with the request's redirect_uri, before Keycloak looks the client up. The executor
 * ({@code cimd-resolve}) then shows the engine's precise error.
 *
 * <p>The engine is asked here, not in the executor, for speed: Keycloak parses a matching policy's profiles and
 * builds its executors on every request, so a condition that matched every URL client would make each of their
 * authorization requests pay for that, success or not. Asked here (a cache hit costs microseconds), the policy
 * matches only the requests it has to refuse. URL-shaped rather than "a valid CIMD URL" on purpose: an
 * {@code http://} client_id gets the engine's precise {@code invalid_client_id_url}, not "Client not found".
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
                && context instanceof PreAuthorizationRequestContext pre && isUrlShaped(pre.getClientId())
                && CimdResolveExecutor.rejection(session, pre) != null) {
            return ClientPolicyVote.YES;
        }
        return ClientPolicyVote.ABSTAIN;
    }

    /** {@code scheme://...}, the scheme in ASCII letters, digits, {@code + - .} (a plain loop: asked per request). */
    public static boolean isUrlShaped(String clientId) {
        if (clientId == null) {
            return false;
        }
        int sep = clientId.indexOf("://");
        if (sep <= 0) {
            return false;
        }
        for (int i = 0; i < sep; i++) {
            char c = clientId.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '-' || c == '.';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
