package dev.cimd.keycloak.clientpolicy.executor;

import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.Resolution;
import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory;
import dev.cimd.keycloak.storage.CimdLog;

import jakarta.ws.rs.core.Response;

import org.keycloak.models.ClientProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.OIDCLoginProtocol;
import org.keycloak.representations.idm.ClientPolicyExecutorConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyEvent;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;

import java.util.Optional;

/**
 * Resolves a URL client_id through the realm's cimd engine before Keycloak looks the client up
 * ({@code PRE_AUTHORIZATION_REQUEST}), together with the request's redirect_uri, and turns a rejection into an error
 * page that names the cimd error code and its description, e.g.
 * {@code cimd blocked_address: host evil.example resolves to 10.0.0.5, a special-use address...}, instead of
 * Keycloak's generic "Client not found". Keycloak shows a client-policy error at this stage as a page, never as a
 * redirect, so an unverified redirect_uri is never followed.
 *
 * <p>The same engine serves the storage provider right after, so a successful resolution here makes the client
 * lookup a cache hit: one fetch per client, not two. A URL client_id registered in the realm database (a
 * conventional client whose id happens to be a URL) is left alone.
 */
public final class CimdResolveExecutor implements ClientPolicyExecutorProvider<ClientPolicyExecutorConfigurationRepresentation> {
    private final KeycloakSession session;

    public CimdResolveExecutor(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public String getProviderId() {
        return CimdResolveExecutorFactory.PROVIDER_ID;
    }

    @Override
    public void executeOnEvent(ClientPolicyContext context) throws ClientPolicyException {
        if (context.getEvent() != ClientPolicyEvent.PRE_AUTHORIZATION_REQUEST
                || !(context instanceof PreAuthorizationRequestContext pre) || pre.getClientId() == null) {
            return;
        }
        RealmModel realm = session.getContext().getRealm();
        CimdClientStorageProviderFactory factory = CimdClientStorageProviderFactory.of(session);
        Optional<CimdClientStorageProviderFactory.Component> component =
                factory == null ? Optional.empty() : factory.componentOf(session, realm);
        if (component.isEmpty()) {
            return;
        }
        String clientId = pre.getClientId();
        String redirectUri = pre.getRequestParameters() == null ? null
                : pre.getRequestParameters().getFirst(OIDCLoginProtocol.REDIRECT_URI_PARAM);
        try {
            Resolution r = component.get().engine().resolve(clientId, redirectUri, null);
            CimdLog.resolved(realm.getName(), r);
        } catch (CimdException e) {
            if (isDatabaseClient(realm, clientId)) {
                return;
            }
            CimdLog.rejected(realm.getName(), clientId, e);
            throw new ClientPolicyException(e.oauthError(), errorText(e), Response.Status.BAD_REQUEST);
        }
    }

    /** The text of the error page: the stable code first, then the sentence naming the rule. */
    public static String errorText(CimdException e) {
        return "cimd " + e.code() + ": " + e.description();
    }

    /** Whether the realm database (not a storage provider) has this client; asked only after a rejection. */
    private boolean isDatabaseClient(RealmModel realm, String clientId) {
        try {
            ClientProvider database = session.getProvider(ClientProvider.class, "jpa");
            return database != null && database.getClientByClientId(realm, clientId) != null;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
