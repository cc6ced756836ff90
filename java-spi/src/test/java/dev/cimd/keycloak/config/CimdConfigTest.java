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
    /** docs/contract.md §8 plus the two JSON bounds of the README: every engine key is a component setting. */
    static final List<String> ENGINE_KEYS = List.of("allow_loopback", "private_network_allowlist", "extra_ca_file",
            "allowed_hosts", "denied_hosts", "allow_query", "allow_root_path", "max_document_bytes",
            "connect_timeout_ms", "fetch_timeout_ms", "min_cache_ttl_s", "max_cache_ttl_s", "stale_while_revalidate_s",
            "stale_if_error_s", "cache_max_entries", "cache_max_bytes", "auth_methods_supported",
            "grant_types_supported", "response_types_supported", "loopback_any_port", "max_concurrent_fetches",
            "per_host_concurrency", "per_host_rate", "max_json_depth", "max_array_items");

    @Test
    void everyEngineKeyIsASettingOfTheSameName() {
        List<String> names = CimdConfig.configProperties().stream().map(ProviderConfigProperty::getName).toList();
        assertEquals(ENGINE_KEYS, names);
        ProviderConfigProperty loopback = CimdConfig.configProperties().get(0);
        assertTrue(loopback.getLabel().contains("DEVELOPMENT ONLY"));
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
