package dev.cimd.keycloak.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.cimd.keycloak.jni.CimdEngine;

import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;
import org.keycloak.provider.ProviderConfigProperty;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CimdConfigTest {
    /** The engine's own description of its keys (cimd config-schema). */
    static JsonNode schema() throws Exception {
        return new ObjectMapper().readTree(CimdEngine.configSchema()).path("keys");
    }

    @Test
    void everyEngineKeyIsASettingOfTheSameNameAndKind() throws Exception {
        List<ProviderConfigProperty> all = CimdConfig.configProperties();
        // The engine's keys first, then the extension's own settings.
        List<ProviderConfigProperty> properties = all.subList(0, all.size() - CimdConfig.EXTENSION_SETTINGS.size());
        assertEquals(CimdConfig.EXTENSION_SETTINGS, all.subList(properties.size(), all.size()));
        List<String> names = properties.stream().map(ProviderConfigProperty::getName).toList();
        List<String> keys = new java.util.ArrayList<>();
        for (JsonNode k : schema()) {
            keys.add(k.path("name").asText());
        }
        assertEquals(keys, names);
        assertTrue(names.contains("max_json_depth") && names.contains("max_array_items"), names.toString());
        int i = 0;
        for (JsonNode k : schema()) {
            ProviderConfigProperty p = properties.get(i++);
            String type = k.path("type").asText();
            String want = switch (type) {
                case "boolean" -> ProviderConfigProperty.BOOLEAN_TYPE;
                case "string_list" -> ProviderConfigProperty.MULTIVALUED_STRING_TYPE;
                case "object", "object_list" -> ProviderConfigProperty.TEXT_TYPE;
                default -> ProviderConfigProperty.STRING_TYPE;
            };
            assertEquals(want, p.getType(), p.getName());
            assertEquals(k.path("title").asText(), p.getLabel());
            assertTrue(p.getHelpText().startsWith(k.path("description").asText()), p.getHelpText());
            if (k.has("min")) {
                assertTrue(p.getHelpText().contains(k.path("max").asText()), p.getHelpText());
            }
        }
        ProviderConfigProperty loopback = properties.get(0);
        assertTrue(loopback.getLabel().contains("development only"), loopback.getLabel());
    }

    @Test
    void aHostMayPassItsOwnMethodListSharedSecretsIncluded() {
        ComponentModel m = new ComponentModel();
        m.getConfig().put("auth_methods_supported", List.of("client_secret_basic", "none", "private_key_jwt"));
        CimdEngine.create(CimdConfig.toEngineJson(m)).close();
    }

    @Test
    void settingsBecomeTypedEngineJsonThatTheEngineAccepts() throws Exception {
        ComponentModel m = new ComponentModel();
        m.put("allow_loopback", "true");
        m.put("min_cache_ttl_s", "120");
        m.getConfig().put("allowed_hosts", List.of("app.example.com", "*.example.org"));
        m.getConfig().put("auth_methods_supported", List.of("none##private_key_jwt"));
        m.put("per_host_rate", "{\"per_minute\": 30, \"burst\": 5}");
        m.put("private_network_allowlist", "[{\"host\": \"docs.corp.example\", \"cidrs\": [\"10.20.0.0/16\"]}]");
        m.put("denied_hosts", "");
        m.put("cachePolicy", "NO_CACHE");
        String json = CimdConfig.toEngineJson(m);
        JsonNode v = new ObjectMapper().readTree(json);
        assertTrue(v.get("allow_loopback").asBoolean());
        assertEquals(120, v.get("min_cache_ttl_s").asInt());
        assertEquals("[\"app.example.com\",\"*.example.org\"]", v.get("allowed_hosts").toString());
        assertEquals("[\"none\",\"private_key_jwt\"]", v.get("auth_methods_supported").toString());
        assertEquals(30, v.get("per_host_rate").get("per_minute").asInt());
        assertTrue(v.get("denied_hosts") == null, "empty settings are left to the engine's defaults");
        assertTrue(v.get("cachePolicy") == null, "Keycloak's own keys are not engine keys");
        CimdEngine.create(json).close();
    }

    @Test
    void unconvertibleValuesNameTheSetting() {
        ComponentModel m = new ComponentModel();
        m.put("fetch_timeout_ms", "soon");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CimdConfig.toEngineJson(m));
        assertTrue(e.getMessage().contains("fetch_timeout_ms"));
        ComponentModel j = new ComponentModel();
        j.put("per_host_rate", "{per_minute: 3");
        assertThrows(IllegalArgumentException.class, () -> CimdConfig.toEngineJson(j));
    }

    @Test
    void outOfRangeValuesAreRefusedByTheEngine() {
        ComponentModel m = new ComponentModel();
        m.put("max_json_depth", "1000");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CimdEngine.create(CimdConfig.toEngineJson(m)));
        assertTrue(e.getMessage().contains("max_json_depth"), e.getMessage());
    }
}
