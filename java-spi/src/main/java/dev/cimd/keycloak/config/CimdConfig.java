package dev.cimd.keycloak.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.keycloak.component.ComponentModel;
import org.keycloak.provider.ProviderConfigProperty;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The component's settings in the admin console, one per engine configuration key (docs/contract.md §8), and their
 * translation into the engine's configuration JSON. Each property's name <em>is</em> the engine key, so the
 * realm JSON, the admin console, the CLI's config file and the other bindings all use the same words.
 *
 * <p>Values are checked by the engine, not here: {@link #toEngineJson} only converts types (a boolean stays a
 * boolean, a number a number, a list a list, JSON text JSON), and the engine refuses unknown keys, wrong types
 * and out-of-range values with a sentence naming the key. Unset or empty settings are left out, so the engine's
 * defaults apply.
 */
public final class CimdConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How a setting's text becomes a JSON value. */
    enum Kind { BOOLEAN, NUMBER, LIST, JSON, STRING }

    /** One engine key as a component setting. */
    record Setting(String key, Kind kind, String label, String defaultText, String help) {
    }

    static final List<Setting> SETTINGS = List.of(
            new Setting("allow_loopback", Kind.BOOLEAN, "Allow loopback (DEVELOPMENT ONLY)", "false",
                    "Let client_id hosts resolve to loopback (127.0.0.0/8, ::1). For local development and tests only:"
                            + " never enable it on a production server."),
            new Setting("private_network_allowlist", Kind.JSON, "Private network allowlist", "[]",
                    "JSON array of {\"host\": \"docs.corp.example\", \"cidrs\": [\"10.20.0.0/16\"]}: one exact host may"
                            + " resolve into these private ranges (never loopback or link-local)."),
            new Setting("extra_ca_file", Kind.STRING, "Extra CA file", "",
                    "PEM file of extra trust anchors, added to the platform's roots (private PKI)."),
            new Setting("allowed_hosts", Kind.LIST, "Allowed hosts", "(any)",
                    "If not empty, only these hosts (app.example.com or *.example.com) may serve client documents."),
            new Setting("denied_hosts", Kind.LIST, "Denied hosts", "",
                    "These hosts may never serve client documents (checked first)."),
            new Setting("allow_query", Kind.BOOLEAN, "Allow query in client_id", "false",
                    "Accept client_id URLs with a query component."),
            new Setting("allow_root_path", Kind.BOOLEAN, "Allow root path", "false",
                    "Accept client_id URLs whose path is /."),
            new Setting("max_document_bytes", Kind.NUMBER, "Max document bytes", "5120",
                    "Read cap for one document or key set (64 .. 1048576)."),
            new Setting("connect_timeout_ms", Kind.NUMBER, "Connect timeout (ms)", "2000",
                    "DNS, TCP and TLS (1 .. 60000)."),
            new Setting("fetch_timeout_ms", Kind.NUMBER, "Fetch timeout (ms)", "5000",
                    "Total, from the DNS lookup to the last body byte (1 .. 120000)."),
            new Setting("min_cache_ttl_s", Kind.NUMBER, "Minimum cache TTL (s)", "60",
                    "Floor of a document's lifetime (also for no-store, no-cache or no caching headers)."),
            new Setting("max_cache_ttl_s", Kind.NUMBER, "Maximum cache TTL (s)", "86400",
                    "Ceiling of a document's lifetime."),
            new Setting("stale_while_revalidate_s", Kind.NUMBER, "Stale while revalidate (s)", "60",
                    "After expiry, serve the old document this long while one background refresh runs."),
            new Setting("stale_if_error_s", Kind.NUMBER, "Stale if error (s)", "3600",
                    "After expiry, serve the old document this long while its host fails (transport errors,"
                            + " timeouts, 429, 5xx)."),
            new Setting("cache_max_entries", Kind.NUMBER, "Cache max entries", "10000", "Most documents cached."),
            new Setting("cache_max_bytes", Kind.NUMBER, "Cache max bytes", "67108864", "Most bytes cached (64 MiB)."),
            new Setting("auth_methods_supported", Kind.LIST, "Token endpoint auth methods", "none",
                    "Methods this realm accepts from CIMD clients: none (public clients) and private_key_jwt (keys"
                            + " fetched by the engine). A document's preference is negotiated against this list."),
            new Setting("grant_types_supported", Kind.LIST, "Grant types", "authorization_code, refresh_token",
                    "Other grant types are filtered out of documents."),
            new Setting("response_types_supported", Kind.LIST, "Response types", "code",
                    "Other response types are filtered out of documents."),
            new Setting("loopback_any_port", Kind.BOOLEAN, "Loopback redirects on any port", "true",
                    "RFC 8252 §7.3: ignore the port of http loopback redirect URIs (Claude Code and other native"
                            + " clients use ephemeral ports)."),
            new Setting("max_concurrent_fetches", Kind.NUMBER, "Max concurrent fetches", "32",
                    "Fetches in flight at once."),
            new Setting("per_host_concurrency", Kind.NUMBER, "Per-host concurrency", "4",
                    "Fetches in flight to one host."),
            new Setting("per_host_rate", Kind.JSON, "Per-host rate", "{\"per_minute\": 60, \"burst\": 20}",
                    "Per-host token bucket, as JSON."),
            new Setting("max_json_depth", Kind.NUMBER, "Max JSON depth", "32", "Nesting bound for documents (2 .. 128)."),
            new Setting("max_array_items", Kind.NUMBER, "Max array items", "64",
                    "Most elements in any array of a document, e.g. redirect_uris."));

    private CimdConfig() {
    }

    /** The admin console's form for the component. */
    public static List<ProviderConfigProperty> configProperties() {
        List<ProviderConfigProperty> out = new ArrayList<>();
        for (Setting s : SETTINGS) {
            ProviderConfigProperty p = new ProviderConfigProperty();
            p.setName(s.key());
            p.setLabel(s.label());
            p.setHelpText(s.help() + " Engine key: " + s.key() + ". Default: " + (s.defaultText().isEmpty() ? "none"
                    : s.defaultText()) + ".");
            switch (s.kind()) {
                case BOOLEAN -> {
                    p.setType(ProviderConfigProperty.BOOLEAN_TYPE);
                    p.setDefaultValue(s.defaultText());
                }
                case LIST -> p.setType(ProviderConfigProperty.MULTIVALUED_STRING_TYPE);
                case JSON -> p.setType(ProviderConfigProperty.TEXT_TYPE);
                default -> p.setType(ProviderConfigProperty.STRING_TYPE);
            }
            out.add(p);
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The engine configuration for a component's settings.
     *
     * @throws IllegalArgumentException naming the setting, when a value cannot be converted (not a number, not
     *                                  JSON); range and meaning are checked by the engine
     */
    public static String toEngineJson(ComponentModel model) {
        ObjectNode out = JSON.createObjectNode();
        for (Setting s : SETTINGS) {
            List<String> values = model.getConfig() == null ? null : model.getConfig().get(s.key());
            List<String> present = new ArrayList<>();
            if (values != null) {
                for (String v : values) {
                    if (v != null && !v.isBlank()) {
                        present.add(v.trim());
                    }
                }
            }
            if (present.isEmpty()) {
                continue;
            }
            String first = present.get(0);
            switch (s.kind()) {
                case BOOLEAN -> out.put(s.key(), Boolean.parseBoolean(first));
                case NUMBER -> {
                    try {
                        out.put(s.key(), Long.parseLong(first));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(s.key() + " must be a whole number, not \"" + first + "\"");
                    }
                }
                case LIST -> {
                    ArrayNode list = out.putArray(s.key());
                    for (String v : present) {
                        for (String item : v.split("##")) {
                            if (!item.isBlank()) {
                                list.add(item.trim());
                            }
                        }
                    }
                }
                case JSON -> {
                    try {
                        JsonNode node = JSON.readTree(first);
                        out.set(s.key(), node);
                    } catch (JsonProcessingException e) {
                        throw new IllegalArgumentException(s.key() + " must be JSON: " + e.getOriginalMessage());
                    }
                }
                case STRING -> out.put(s.key(), first);
            }
        }
        return out.toString();
    }

    /** True when the component runs with the development-only loopback exception. */
    public static boolean allowsLoopback(ComponentModel model) {
        return Boolean.parseBoolean(model.get("allow_loopback"));
    }
}
