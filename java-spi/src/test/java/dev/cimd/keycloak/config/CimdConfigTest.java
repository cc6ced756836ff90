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
                case "integer" -> ProviderConfigProperty.INTEGER_TYPE;
                case "object", "object_list" -> ProviderConfigProperty.TEXT_TYPE;
                default -> ProviderConfigProperty.STRING_TYPE;
            };
            assertEquals(want, p.getType(), p.getName());
            // The engine's default, as the admin console shows it in a new component's form.
            JsonNode d = k.path("default");
            Object shown = p.getDefaultValue();
            switch (type) {
                case "boolean", "integer" -> assertEquals(d.asText(), shown, p.getName());
                case "string_list" -> assertEquals(d.isEmpty() ? null
                        : List.of(new ObjectMapper().convertValue(d, String[].class)), shown, p.getName());
                case "object", "object_list" -> assertEquals(d, new ObjectMapper().readTree((String) shown),
                        p.getName());
                default -> assertEquals(d.isNull() ? null : d.asText(), shown, p.getName());
            }
            assertTrue(p.getHelpText().contains("Default: "), p.getHelpText());
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
    void everyKindOfKeyShowsItsDefault() {
        java.util.Map<String, Object> shown = new java.util.HashMap<>();
        CimdConfig.configProperties().forEach(p -> shown.put(p.getName(), p.getDefaultValue()));
        assertEquals("false", shown.get("allow_loopback"));
        assertEquals("5000", shown.get("fetch_timeout_ms"));
        assertEquals(List.of("authorization_code", "refresh_token"), shown.get("grant_types_supported"));
        assertEquals("[]", shown.get("private_network_allowlist"));
        assertTrue(((String) shown.get("per_host_rate")).contains("\"per_minute\":60"), shown.toString());
        assertEquals(null, shown.get("extra_ca_file"));
        assertEquals(null, shown.get("allowed_hosts"));
    }

    @Test
    void theShownDefaultsAreAConfigurationTheEngineAccepts() throws Exception {
        // What the admin console sends for a new component whose form was left as shown.
        ComponentModel m = new ComponentModel();
        for (ProviderConfigProperty p : CimdConfig.configProperties()) {
            if (p.getDefaultValue() instanceof List<?> items) {
                m.getConfig().put(p.getName(), items.stream().map(String::valueOf).toList());
            } else if (p.getDefaultValue() != null) {
                m.put(p.getName(), (String) p.getDefaultValue());
            }
        }
        JsonNode v = new ObjectMapper().readTree(CimdConfig.toEngineJson(m));
        assertEquals(5000, v.get("fetch_timeout_ms").asInt());
        assertTrue(v.get("loopback_any_port").isBoolean());
        CimdEngine.create(v.toString()).close();
    }

    @Test
    void aBadNumberOrBooleanIsRefusedWithTheEnginesSentence() {
        for (String[] bad : new String[][] {{"fetch_timeout_ms", "soon"}, {"fetch_timeout_ms", "1.5"},
                {"allow_query", "yes"}}) {
            ComponentModel m = new ComponentModel();
            m.put(bad[0], bad[1]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CimdEngine.create(CimdConfig.toEngineJson(m)), bad[0] + "=" + bad[1]);
            String want = bad[0].equals("allow_query") ? "a boolean" : "a whole number";
            assertTrue(e.getMessage().contains("invalid configuration: " + bad[0] + ": expected " + want),
                    e.getMessage());
        }
        ComponentModel n = new ComponentModel();
        n.put("max_json_depth", "-3");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CimdEngine.create(CimdConfig.toEngineJson(n)));
        assertTrue(e.getMessage().contains("invalid configuration: max_json_depth: -3 is not a whole number"),
                e.getMessage());
        ComponentModel t = new ComponentModel();
        t.put("allow_query", "TRUE");
        assertTrue(CimdConfig.toEngineJson(t).contains("\"allow_query\":true"));
    }

    @Test
    void unconvertibleJsonNamesTheSetting() {
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
