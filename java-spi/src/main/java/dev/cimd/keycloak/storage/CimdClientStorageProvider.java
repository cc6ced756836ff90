package dev.cimd.keycloak.storage;

import dev.cimd.keycloak.shared.CimdLog;
import dev.cimd.keycloak.shared.RequestAnswers;
import dev.cimd.keycloak.shared.UrlClientIds;
import dev.cimd.keycloak.jni.CimdEngine;
import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.Resolution;

import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.OIDCLoginProtocol;
import org.keycloak.storage.StorageId;
import org.keycloak.storage.client.ClientStorageProvider;
import org.keycloak.storage.client.ClientStorageProviderModel;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Looks URL client_ids up through the engine. Keycloak asks the realm database first and comes here only for
 * client_ids it does not know; a client_id that is not URL-shaped ({@link UrlClientIds}) returns null at once,
 * without touching the engine. Nothing is ever written: the client exists only as long as the engine can resolve it,
 * and a restarted server finds it again by its id ({@code f:<component>:<url>}), the same way.
 *
 * <p>One instance per Keycloak session (request); it remembers the clients it built for the request, and takes
 * the resolution the client policy got earlier in the request ({@link RequestAnswers}), so that the many lookups
 * of one request cost at most one engine call per client.
 */
public final class CimdClientStorageProvider implements ClientStorageProvider {
    private final KeycloakSession session;
    private final ClientStorageProviderModel component;
    private final CimdEngine engine;
    private final Map<String, ClientModel> seen = new HashMap<>();

    CimdClientStorageProvider(KeycloakSession session, ClientStorageProviderModel component, CimdEngine engine) {
        this.session = session;
        this.component = component;
        this.engine = engine;
    }

    @Override
    public ClientModel getClientById(RealmModel realm, String id) {
        StorageId storageId = new StorageId(id);
        if (!component.getId().equals(storageId.getProviderId())) {
            return null;
        }
        return getClientByClientId(realm, storageId.getExternalId());
    }

    @Override
    public ClientModel getClientByClientId(RealmModel realm, String clientId) {
        if (!UrlClientIds.isCandidate(clientId)) {
            return null;
        }
        ClientModel known = seen.get(clientId);
        if (known != null) {
            return known;
        }
        RequestAnswers answers = RequestAnswers.of(session, component.getId());
        RequestAnswers.Verdict earlier = answers.verdict(clientId, null);
        if (earlier != null && !earlier.allowed()) {
            return null;
        }
        try {
            Resolution r = answers.resolution(clientId);
            if (r == null) {
                r = engine.resolve(clientId, null, null);
                CimdLog.resolved(realm.getName(), r);
                answers.accepted(clientId, null, r);
            }
            ClientModel client = new CimdClientAdapter(session, realm, component, engine, r);
            seen.put(clientId, client);
            return client;
        } catch (CimdException e) {
            CimdLog.rejected(realm.getName(), clientId, e);
            // The client-policy executor shows this error without asking again (asking again would fetch again).
            answers.refused(clientId, null, e);
            return null;
        } catch (IllegalStateException e) {
            // The engine was replaced (settings changed) while this request used it; the next request gets the new one.
            return null;
        }
    }

    /** Admin searches never trigger fetches: URL clients are listed by the cimd admin resource instead. */
    @Override
    public Stream<ClientModel> searchClientsByClientIdStream(RealmModel realm, String clientId, Integer firstResult,
                                                             Integer maxResults) {
        return Stream.empty();
    }

    @Override
    public Stream<ClientModel> searchClientsByAttributes(RealmModel realm, Map<String, String> attributes,
                                                         Integer firstResult, Integer maxResults) {
        return Stream.empty();
    }

    /**
     * The realm's default client scopes (default or optional) for OpenID Connect, so that tokens carry what the
     * realm's own clients get by default ({@code basic} for {@code sub}, {@code profile}, {@code email}...).
     */
    @Override
    public Map<String, ClientScopeModel> getClientScopes(RealmModel realm, ClientModel client, boolean defaultScopes) {
        return realm.getDefaultClientScopesStream(defaultScopes)
                .filter(s -> OIDCLoginProtocol.LOGIN_PROTOCOL.equals(s.getProtocol()))
                .collect(Collectors.toMap(ClientScopeModel::getName, s -> s, (a, b) -> a));
    }

    @Override
    public void close() {
    }
}
