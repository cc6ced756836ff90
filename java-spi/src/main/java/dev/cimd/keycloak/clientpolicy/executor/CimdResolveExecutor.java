package dev.cimd.keycloak.clientpolicy.executor;

import dev.cimd.keycloak.jni.CimdEngine;
import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.Resolution;
import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory;
import dev.cimd.keycloak.shared.CimdLog;
import dev.cimd.keycloak.shared.CimdMessages;
import dev.cimd.keycloak.shared.RequestAnswers;
import dev.cimd.keycloak.shared.UrlClientIds;
import dev.cimd.keycloak.token.ResourceGrants;

import jakarta.ws.rs.core.Response;

import org.keycloak.OAuthErrorException;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.OIDCLoginProtocol;
import org.keycloak.protocol.oidc.endpoints.request.AuthorizationEndpointRequest;
import org.keycloak.representations.idm.ClientPolicyExecutorConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyEvent;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.context.AuthorizationRequestContext;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.storage.StorageId;

import java.util.List;
import java.util.Optional;

/**
 * Turns the cimd engine's rejection of an authorization request (see {@link #rejection}: the client_id resolved
 * with the request's redirect_uri before Keycloak looks the client up, {@code PRE_AUTHORIZATION_REQUEST}) into an
 * error page that names the cimd error code and its description, e.g.
 * {@code cimd blocked_address: host evil.example resolves to 10.0.0.5, a special-use address...}, instead of
 * Keycloak's generic "Client not found". Keycloak shows a client-policy error at this stage as a page, never as a
 * redirect, so an unverified redirect_uri is never followed.
 *
 * <p>The same engine serves the storage provider right after, so a successful resolution here makes the client
 * lookup a cache hit: one fetch per client, not two. A URL client_id registered in the realm database (a
 * conventional client whose id happens to be a URL) is left alone, and never fetched.
 *
 * <p>At {@code AUTHORIZATION_REQUEST} it refuses a URL client's {@code resource} that the realm does not allow
 * ({@link ResourceGrants}) with {@code invalid_target}, which Keycloak redirects to the client.
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
        ClientPolicyException refusal = refusal(session, context);
        if (refusal == null) {
            return;
        }
        if (context instanceof PreAuthorizationRequestContext pre) {
            CimdLoginEvents.refused(session, pre.getClientId(), redirectUri(pre), rejection(session, pre));
        }
        throw refusal;
    }

    /**
     * What this executor refuses in {@code context}, or null; the condition ({@code cimd-client-id}) votes for the
     * policy exactly when this is not null. At {@code PRE_AUTHORIZATION_REQUEST}: the engine's rejection of a URL
     * client_id and its redirect_uri, as an error page. At {@code AUTHORIZATION_REQUEST}: a resource the realm does
     * not allow, as {@code invalid_target}, which Keycloak redirects to the client's (verified) redirect_uri.
     */
    public static ClientPolicyException refusal(KeycloakSession session, ClientPolicyContext context) {
        if (context.getEvent() == ClientPolicyEvent.AUTHORIZATION_REQUEST
                && context instanceof AuthorizationRequestContext authz) {
            String refused = resourceRefusal(session, authz);
            return refused == null ? null : new ClientPolicyException(OAuthErrorException.INVALID_TARGET, refused);
        }
        if (context.getEvent() == ClientPolicyEvent.PRE_AUTHORIZATION_REQUEST
                && context instanceof PreAuthorizationRequestContext pre && UrlClientIds.isCandidate(pre.getClientId())) {
            CimdException e = rejection(session, pre);
            return e == null ? null
                    : new ClientPolicyException(e.oauthError(), errorText(session, e), Response.Status.BAD_REQUEST);
        }
        return null;
    }

    private static String redirectUri(PreAuthorizationRequestContext pre) {
        return pre.getRequestParameters() == null ? null
                : pre.getRequestParameters().getFirst(OIDCLoginProtocol.REDIRECT_URI_PARAM);
    }

    /**
     * The engine's rejection of this authorization request's client_id and redirect_uri, or null when the engine
     * accepts them, the realm has no cimd component, or the client_id belongs to a database client. Asked once per
     * request: the condition asks first and the executor again, and the client lookup and the redirect URI check
     * that follow take the same answer ({@link RequestAnswers}).
     */
    public static CimdException rejection(KeycloakSession session, PreAuthorizationRequestContext pre) {
        RealmModel realm = session.getContext().getRealm();
        CimdClientStorageProviderFactory factory = CimdClientStorageProviderFactory.of(session);
        List<CimdClientStorageProviderFactory.Component> components =
                factory == null || realm == null ? List.of() : factory.componentsOf(session, realm);
        String clientId = pre.getClientId();
        String redirectUri = redirectUri(pre);
        // Asked in the order Keycloak's client storage asks the components: the first that accepts serves the
        // client, and the request is refused only when every one refuses.
        CimdException shown = null;
        for (CimdClientStorageProviderFactory.Component component : components) {
            CimdException verdict = rejection(session, realm, component, clientId, redirectUri);
            if (verdict == null) {
                return null;
            }
            shown = CimdClientStorageProviderFactory.shown(shown, verdict);
        }
        return shown;
    }

    private static CimdException rejection(KeycloakSession session, RealmModel realm,
                                           CimdClientStorageProviderFactory.Component component, String clientId,
                                           String redirectUri) {
        RequestAnswers answers = RequestAnswers.of(session, component.model().getId());
        RequestAnswers.Verdict known = answers.verdict(clientId, redirectUri);
        if (known != null) {
            return known.refusal();
        }
        CimdException verdict = decide(session, realm, component.model().getId(), component.engine(), answers, clientId, redirectUri);
        if (verdict != null) {
            answers.refused(clientId, redirectUri, verdict);
        }
        return verdict;
    }

    /**
     * The engine's verdict. A client_id the engine holds is decided by the engine alone, in one call (a cache
     * hit). Otherwise the client is looked up the way Keycloak will look it up (realm database first, through its
     * cache, then the cimd storage provider, which resolves it): a database client, even one whose client_id is a
     * URL, is left to Keycloak and never fetched; a client the storage provider could not resolve (or that another
     * cimd component serves) gets the failure it recorded, so a failing document is fetched once per request, not
     * twice.
     */
    private static CimdException decide(KeycloakSession session, RealmModel realm, String componentId,
                                        CimdEngine engine, RequestAnswers answers, String clientId,
                                        String redirectUri) {
        try {
            Optional<Resolution> cached = engine.resolveCached(clientId, redirectUri);
            if (cached.isEmpty()) {
                ClientModel client = session.clients().getClientByClientId(realm, clientId);
                if (client != null && StorageId.isLocalStorage(client.getId())) {
                    return null;
                }
                RequestAnswers.Verdict lookup = answers.verdict(clientId, null);
                boolean servedElsewhere = client != null && !componentId.equals(StorageId.providerId(client.getId()));
                if ((client == null || servedElsewhere) && lookup != null && !lookup.allowed()) {
                    return lookup.refusal();
                }
                cached = Optional.of(engine.resolve(clientId, redirectUri, null));
            }
            CimdLog.resolved(realm.getName(), cached.get());
            answers.accepted(clientId, redirectUri, cached.get());
            return null;
        } catch (CimdException e) {
            CimdLog.rejected(realm.getName(), clientId, e);
            return e;
        } catch (IllegalStateException e) {
            return null;
        }
    }

    /**
     * Why a URL client's authorization request names a resource the realm does not allow, or null
     * ({@link ResourceGrants#refusalAtAuthorization}). Asked at {@code AUTHORIZATION_REQUEST}, when the client and its
     * redirect_uri are known, so that the refusal goes back to the client as {@code invalid_target}.
     */
    public static String resourceRefusal(KeycloakSession session, AuthorizationRequestContext authz) {
        AuthorizationEndpointRequest request = authz.getAuthorizationEndpointRequest();
        return request == null || request.getResource() == null ? null
                : ResourceGrants.refusalAtAuthorization(session, authz.getClient(), request.getResource());
    }

    /** The text of the error page: the stable code first, then the sentence naming the rule. */
    public static String errorText(KeycloakSession session, CimdException e) {
        return CimdMessages.format(session, CimdMessages.CLIENT_REFUSED, e.code(), e.description());
    }
}
