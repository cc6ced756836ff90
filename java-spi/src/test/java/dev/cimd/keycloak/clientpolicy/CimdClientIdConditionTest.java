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
import static org.junit.jupiter.api.Assertions.assertFalse;
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
    void urlShapedClientIdsAreForTheEngine() {
        assertTrue(CimdClientIdCondition.isUrlShaped("https://app.example.com/c.json"));
        assertTrue(CimdClientIdCondition.isUrlShaped("http://app.example.com/c.json"));
        assertFalse(CimdClientIdCondition.isUrlShaped("my-app"));
        assertFalse(CimdClientIdCondition.isUrlShaped("urn:example:app"));
        assertFalse(CimdClientIdCondition.isUrlShaped(null));
        assertFalse(CimdClientIdCondition.isUrlShaped("://no-scheme"));
        assertTrue(CimdClientIdCondition.isUrlShaped("a+b-c.d9://x"));
        assertFalse(CimdClientIdCondition.isUrlShaped("ht tp://x"), "a scheme has no spaces");
        assertFalse(CimdClientIdCondition.isUrlShaped("h\u00e9://x"), "a scheme is ASCII (RFC 3986 3.1)");
        assertFalse(CimdClientIdCondition.isUrlShaped("my app with a :// inside"));
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
