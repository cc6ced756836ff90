package dev.cimd.keycloak.clientpolicy.condition;

import dev.cimd.keycloak.clientpolicy.executor.CimdResolveExecutor;

import org.keycloak.models.KeycloakSession;
import org.keycloak.representations.idm.ClientPolicyConditionConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.condition.AbstractClientPolicyConditionProvider;

/**
 * True for an authorization request whose URL-shaped client_id ({@link dev.cimd.keycloak.shared.UrlClientIds}) the realm's cimd engine
 * rejects, together with the request's redirect_uri, before Keycloak looks the client up, and for a URL client's
 * authorization request whose {@code resource} the realm does not allow
 * ({@link dev.cimd.keycloak.config.AllowedResources}). The executor ({@code cimd-resolve}) then shows the engine's
 * precise error, or redirects {@code invalid_target} to the client.
 *
 * <p>The engine is asked here, not in the executor, for speed: Keycloak parses a matching policy's profiles and
 * builds its executors on every request, so a condition that matched every URL client would make each of their
 * authorization requests pay for that, success or not. Asked here (a cache hit costs microseconds), the policy
 * matches only the requests it has to refuse.
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
        return CimdResolveExecutor.refusal(session, context) != null ? ClientPolicyVote.YES : ClientPolicyVote.ABSTAIN;
    }
}
