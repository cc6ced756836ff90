package dev.cimd.keycloak.config;

import dev.cimd.keycloak.jni.CimdEngine;

import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;
import org.keycloak.provider.ProviderConfigProperty;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AllowedResourcesTest {
    static final String MCP = "http://127.0.0.1:18080/mcp";
    static final String PREFIX = "https://mcp.example.com/servers/";

    static ComponentModel component(List<String> values) {
        ComponentModel m = new ComponentModel();
        m.setId("comp-1");
        m.setName("cimd");
        m.getConfig().put(AllowedResources.KEY, values);
        return m;
    }

    @Test
    void anEntryMatchesItselfAndAPrefixEntryWhatIsUnderIt() {
        AllowedResources a = AllowedResources.of(List.of(MCP, PREFIX));
        assertTrue(a.allows(MCP));
        assertTrue(a.allows(PREFIX));
        assertTrue(a.allows(PREFIX + "weather"));
        assertTrue(a.allows(PREFIX + "weather/v2/"));
        // Without a trailing slash an entry is exact: no prefix, no neighbour.
        assertFalse(a.allows(MCP + "/other"));
        assertFalse(a.allows(MCP + "2"));
        assertFalse(a.allows("http://127.0.0.1:18081/mcp"));
        // A prefix stops at its slash: a longer host or a sibling path is not under it.
        assertFalse(a.allows("https://mcp.example.com/servers"));
        assertFalse(a.allows("https://mcp.example.com/serversx/a"));
        assertFalse(a.allows("https://mcp.example.com.evil.example/servers/a"));
        // Byte for byte.
        assertFalse(a.allows("https://MCP.example.com/servers/a"));
        assertFalse(a.allows(null));
        assertFalse(a.allows("urn:example:mcp"));
    }

    @Test
    void aPrefixNeverLetsARequestClimbOutOrAddAQuery() {
        AllowedResources a = AllowedResources.of(List.of(PREFIX));
        for (String r : List.of(PREFIX + "../admin", PREFIX + "a/../../admin", PREFIX + "%2e%2e/admin",
                PREFIX + "%2E./admin", PREFIX + "./a", PREFIX + "a/..", PREFIX + "a?x=1", PREFIX + "a#f")) {
            assertFalse(a.allows(r), r);
        }
        assertTrue(a.allows(PREFIX + "a..b/.c"), "dots inside a segment are ordinary characters");
    }

    @Test
    void badEntriesAreRefusedWithTheEntryAndTheRule() {
        String[][] cases = {
                {"not a url", "is not a URL"},
                {"/mcp", "is not an absolute http or https URL"},
                {"ftp://files.example.com/", "is not an absolute http or https URL"},
                {"urn:example:mcp", "is not an absolute http or https URL"},
                {"https:///mcp", "has no host"},
                {"https://user@mcp.example.com/", "must not carry user information"},
                {"https://mcp.example.com/mcp?tenant=1", "must not have a query (RFC 8707 §2)"},
                {"https://mcp.example.com/mcp?", "must not have a query (RFC 8707 §2)"},
                {"https://mcp.example.com/mcp#x", "must not have a fragment (RFC 8707 §2)"},
                {"https://mcp.example.com/a/../b/", "must not have . or .. path segments"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> AllowedResources.of(component(List.of(MCP, c[0]))), c[0]);
            assertTrue(e.getMessage().startsWith("allowed_resources: \"" + c[0] + "\" " + c[1]), e.getMessage());
        }
    }

    @Test
    void absentOrEmptyMeansNotSet() {
        assertTrue(AllowedResources.of(new ComponentModel()).isEmpty());
        assertTrue(AllowedResources.of(component(List.of())).isEmpty());
        assertTrue(AllowedResources.of(component(List.of(" ", ""))).isEmpty());
        assertFalse(AllowedResources.of(component(List.of(MCP))).isEmpty());
    }

    @Test
    void theAdminConsolesJoinedValueIsSplit() {
        AllowedResources a = AllowedResources.of(component(List.of(MCP + "##" + PREFIX)));
        assertEquals(List.of(MCP, PREFIX), a.entries());
    }

    @Test
    void aBrokenSettingThatEscapedValidationStillCountsAsSetAndItsBadEntriesMatchNothing() {
        // A realm import does not run the component's validation.
        AllowedResources a = AllowedResources.inEffect(component(List.of("https://mcp.example.com/?q", MCP)));
        assertFalse(a.isEmpty());
        assertEquals(List.of(MCP), a.entries());
        AllowedResources none = AllowedResources.inEffect(component(List.of("https://mcp.example.com/?q")));
        assertFalse(none.isEmpty(), "a broken setting refuses resources rather than ignoring them");
        assertFalse(none.allows("https://mcp.example.com/?q"));
    }

    @Test
    void theSettingIsOfferedAfterTheEngineKeysAndNeverReachesTheEngine() {
        List<ProviderConfigProperty> all = CimdConfig.configProperties();
        ProviderConfigProperty last = all.get(all.size() - 1);
        assertEquals(AllowedResources.KEY, last.getName());
        assertEquals(ProviderConfigProperty.MULTIVALUED_STRING_TYPE, last.getType());
        assertTrue(last.getHelpText().contains("invalid_target"), last.getHelpText());
        ComponentModel m = component(List.of(MCP));
        assertFalse(CimdConfig.toEngineJson(m).contains(AllowedResources.KEY));
        // The engine refuses unknown keys: that it starts proves the setting is not one.
        CimdEngine.create(CimdConfig.toEngineJson(m)).close();
        assertNull(AllowedResources.problemOf(PREFIX));
    }
}
