package dev.cimd.keycloak.clientpolicy;

import jakarta.ws.rs.core.MultivaluedHashMap;

import dev.cimd.keycloak.clientpolicy.condition.CimdClientIdCondition;

import org.junit.jupiter.api.Test;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
