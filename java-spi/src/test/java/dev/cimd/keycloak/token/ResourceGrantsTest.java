package dev.cimd.keycloak.token;

import dev.cimd.keycloak.config.AllowedResources;
import dev.cimd.keycloak.testing.CimdRealm;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResourceGrantsTest {
    static final String MCP = "http://127.0.0.1:18080/mcp";
    static final String PREFIX = "https://mcp.example.com/servers/";
    static final String WEATHER = PREFIX + "weather";
    static final AllowedResources ALLOWED = AllowedResources.of(List.of(MCP, PREFIX));

    @Test
    void noResourceAnywhereChangesNothing() {
        ResourceGrants.Outcome o = ResourceGrants.decide(List.of(), null, ALLOWED);
        assertTrue(o.unchanged());
        assertEquals(List.of(), o.grant());
    }

    @Test
    void theGrantIsTheAudienceAndIsKept() {
        ResourceGrants.Outcome o = ResourceGrants.decide(List.of(MCP), null, ALLOWED);
        assertEquals(List.of(MCP), o.audience());
        assertEquals(List.of(MCP), o.grant());
        assertNull(o.refusal());
        // The token request may repeat it.
        assertEquals(List.of(MCP), ResourceGrants.decide(List.of(MCP), MCP, ALLOWED).audience());
    }

    @Test
    void narrowingTakesOneGrantedResourceAndKeepsTheWholeGrant() {
        ResourceGrants.Outcome o = ResourceGrants.decide(List.of(MCP, WEATHER), WEATHER, ALLOWED);
        assertEquals(List.of(WEATHER), o.audience());
        assertEquals(List.of(MCP, WEATHER), o.grant(), "the next refresh can still name the other one");
    }

    @Test
    void aClientCanNeverWidenItsGrant() {
        // Another allowed resource, not granted.
        ResourceGrants.Outcome other = ResourceGrants.decide(List.of(MCP), WEATHER, ALLOWED);
        assertNull(other.audience());
        assertTrue(other.refusal().contains("\"" + WEATHER + "\" was not granted: the grant is for " + MCP),
                other.refusal());
        // A resource where the authorization request named none.
        ResourceGrants.Outcome fromNothing = ResourceGrants.decide(List.of(), MCP, ALLOWED);
        assertNull(fromNothing.audience());
        assertTrue(fromNothing.refusal().contains("the authorization request named no resource"), fromNothing.refusal());
        // A resource the realm does not allow at all.
        assertNotNull(ResourceGrants.decide(List.of(MCP), "https://evil.example/", ALLOWED).refusal());
    }

    @Test
    void aGrantTheOperatorNoLongerAllowsIsRefused() {
        AllowedResources now = AllowedResources.of(List.of(PREFIX));
        ResourceGrants.Outcome o = ResourceGrants.decide(List.of(MCP), null, now);
        assertNull(o.audience());
        assertTrue(o.refusal().startsWith("resource \"" + MCP + "\" is not among the resources this realm allows"),
                o.refusal());
    }

    @Test
    void atAuthorizationOnlyAURLClientOfTheComponentWithTheSettingIsChecked() {
        try (CimdRealm r = new CimdRealm(AllowedResources.KEY, List.of(MCP))) {
            var url = r.urlClient("https://app.example.com/c.json");
            assertNull(ResourceGrants.refusalAtAuthorization(r.session, url, MCP));
            assertNull(ResourceGrants.refusalAtAuthorization(r.session, url, null));
            assertTrue(ResourceGrants.refusalAtAuthorization(r.session, url, WEATHER).contains("not among"));
            // Database clients, even one whose client_id is a URL, keep Keycloak's behaviour.
            assertNull(ResourceGrants.refusalAtAuthorization(r.session, r.databaseClient("db-client"), WEATHER));
            assertNull(ResourceGrants.refusalAtAuthorization(r.session,
                    r.databaseClient("https://app.example.net/db.json"), WEATHER));
        }
        try (CimdRealm r = new CimdRealm(null, null)) {
            assertNull(ResourceGrants.refusalAtAuthorization(r.session, r.urlClient("https://app.example.com/c.json"),
                    WEATHER), "without the setting, as before");
        }
    }
}
