package dev.cimd.keycloak.clientpolicy;

import jakarta.ws.rs.core.MultivaluedHashMap;

import dev.cimd.keycloak.clientpolicy.condition.CimdClientIdCondition;

import org.junit.jupiter.api.Test;
import org.keycloak.models.KeycloakSession;
import org.keycloak.services.clientpolicy.ClientPolicyVote;
import org.keycloak.services.clientpolicy.context.PreAuthorizationRequestContext;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mockito.Mockito.mock;

class CimdClientIdConditionTest {
    ClientPolicyVote vote(String clientId) throws Exception {
        CimdClientIdCondition c = new CimdClientIdCondition(mock(KeycloakSession.class));
        c.setupConfiguration(null);
        return c.applyPolicy(new PreAuthorizationRequestContext(clientId, new MultivaluedHashMap<>()));
    }

    @Test
    void urlShapedClientIdsAreForTheEngineOthersAreNot() throws Exception {
        assertEquals(ClientPolicyVote.YES, vote("https://app.example.com/c.json"));
        assertEquals(ClientPolicyVote.YES, vote("http://app.example.com/c.json"));
        assertEquals(ClientPolicyVote.ABSTAIN, vote("my-app"));
        assertEquals(ClientPolicyVote.ABSTAIN, vote("urn:example:app"));
        assertEquals(ClientPolicyVote.ABSTAIN, vote(null));
        assertEquals(ClientPolicyVote.ABSTAIN, vote("://no-scheme"));
    }
}
