package dev.cimd.keycloak.clientpolicy;

import jakarta.ws.rs.core.MultivaluedHashMap;

import dev.cimd.keycloak.clientpolicy.condition.CimdClientIdCondition;
import dev.cimd.keycloak.clientpolicy.executor.CimdResolveExecutor;
import dev.cimd.keycloak.config.AllowedResources;
import dev.cimd.keycloak.testing.CimdRealm;

import org.junit.jupiter.api.Test;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.endpoints.request.AuthorizationEndpointRequest;
import org.keycloak.services.clientpolicy.ClientPolicyEvent;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.context.AuthorizationRequestContext;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

class CimdClientIdConditionTest {
    ClientPolicyVote vote(KeycloakSession session, String clientId) throws Exception {
        CimdClientIdCondition c = new CimdClientIdCondition(session);
        c.setupConfiguration(null);
        return c.applyPolicy(new PreAuthorizationRequestContext(clientId, new MultivaluedHashMap<>()));
    }

    @Test
    void otherClientIdsAbstainWithoutAnyLookup() throws Exception {
        KeycloakSession session = mock(KeycloakSession.class);
        assertEquals(ClientPolicyVote.ABSTAIN, vote(session, "my-app"));
        assertEquals(ClientPolicyVote.ABSTAIN, vote(session, null));
        verifyNoInteractions(session);
    }

    @Test
    void aRealmWithoutACimdComponentAbstains() throws Exception {
        KeycloakSession session = mock(KeycloakSession.class);
        KeycloakContext context = mock(KeycloakContext.class);
        when(session.getContext()).thenReturn(context);
        when(context.getRealm()).thenReturn(mock(RealmModel.class));
        assertEquals(ClientPolicyVote.ABSTAIN, vote(session, "https://app.example.com/c.json"));
    }

    @Test
    void aURLClientsResourceOutsideTheSettingMatchesAndIsRedirectedAsInvalidTarget() throws Exception {
        String mcp = "http://127.0.0.1:18080/mcp";
        try (CimdRealm realm = new CimdRealm(AllowedResources.KEY, List.of(mcp))) {
            ClientModel url = realm.urlClient("https://app.example.com/c.json");
            CimdClientIdCondition c = new CimdClientIdCondition(realm.session);
            c.setupConfiguration(null);
            CimdResolveExecutor executor = new CimdResolveExecutor(realm.session);
            assertEquals(ClientPolicyVote.ABSTAIN, c.applyPolicy(authorization(url, mcp)));
            assertEquals(ClientPolicyVote.ABSTAIN, c.applyPolicy(authorization(url, null)));
            executor.executeOnEvent(authorization(url, mcp));
            AuthorizationRequestContext other = authorization(url, "http://127.0.0.1:18080/other");
            assertEquals(ClientPolicyVote.YES, c.applyPolicy(other));
            ClientPolicyException e = assertThrows(ClientPolicyException.class, () -> executor.executeOnEvent(other));
            assertEquals("invalid_target", e.getError());
            assertTrue(e.getErrorDetail().contains("\"http://127.0.0.1:18080/other\" is not among"), e.getErrorDetail());
            // A database client keeps Keycloak's behaviour.
            assertEquals(ClientPolicyVote.ABSTAIN,
                    c.applyPolicy(authorization(realm.databaseClient("db-client"), "http://127.0.0.1:18080/other")));
        }
    }

    static AuthorizationRequestContext authorization(ClientModel client, String resource) {
        AuthorizationEndpointRequest request = mock(AuthorizationEndpointRequest.class);
        when(request.getResource()).thenReturn(resource);
        AuthorizationRequestContext ctx = mock(AuthorizationRequestContext.class);
        when(ctx.getEvent()).thenReturn(ClientPolicyEvent.AUTHORIZATION_REQUEST);
        when(ctx.getAuthorizationEndpointRequest()).thenReturn(request);
        when(ctx.getClient()).thenReturn(client);
        return ctx;
    }
}
