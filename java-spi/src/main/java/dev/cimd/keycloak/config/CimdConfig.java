package dev.cimd.keycloak.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.cimd.keycloak.jni.CimdEngine;

import org.keycloak.component.ComponentModel;
import org.keycloak.provider.ProviderConfigProperty;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The component's settings in the admin console, one per engine configuration key, and their translation into the
 * engine's configuration JSON. The settings are built from the engine's own description of its keys
 * ({@link CimdEngine#configSchema}: name, title, type, default, range, meaning), so a key added to the engine
 * appears here without a change to this class, and each property's name <em>is</em> the engine key: the realm
 * JSON, the admin console, the CLI's config file and the other bindings all use the same words.
 *
 * <p>Values are checked by the engine, not here: {@link #toEngineJson} only converts types (a boolean stays a
 * boolean, a number a number, a list a list, JSON text JSON), and the engine refuses unknown keys, wrong types
 * and out-of-range values with a sentence naming the key. Unset or empty settings are left out, so the engine's
 * defaults apply.
 *
 * <p>After the engine's keys come the settings of the extension itself ({@link #EXTENSION_SETTINGS}, e.g.
 * {@link AllowedResources#KEY}), which only Keycloak has and the engine never sees.
 */
public final class CimdConfig {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How a setting's text becomes a JSON value. */
    enum Kind { BOOLEAN, NUMBER, LIST, JSON, STRING }

    /** One engine key as a component setting. */
    record Setting(String key, Kind kind, String label, String defaultText, String help) {
    }

    static final List<Setting> SETTINGS = settingsOf(CimdEngine.configSchema());

    /**
     * The component's settings that are the extension's own, not engine keys: listed after the engine's in the
     * admin console, never handed to the engine, each described once, by the class that reads it.
     */
    static final List<ProviderConfigProperty> EXTENSION_SETTINGS = List.of(AllowedResources.property());

    /** The settings for the engine's schema JSON. */
    static List<Setting> settingsOf(String schemaJson) {
        JsonNode keys;
        try {
            keys = JSON.readTree(schemaJson).path("keys");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the engine's configuration schema is not JSON: " + e.getOriginalMessage());
        }
        List<Setting> out = new ArrayList<>();
        for (JsonNode key : keys) {
            Kind kind = switch (key.path("type").asText()) {
                case "boolean" -> Kind.BOOLEAN;
                case "integer" -> Kind.NUMBER;
                case "string_list" -> Kind.LIST;
                case "object", "object_list" -> Kind.JSON;
                default -> Kind.STRING;
            };
            JsonNode d = key.path("default");
            String defaultText = switch (kind) {
                case LIST -> d.isArray() && d.isEmpty() ? "" : String.join(", ", JSON.convertValue(d, String[].class));
                case JSON -> d.toString();
                default -> d.isNull() ? "" : d.asText();
            };
            String help = key.path("description").asText();
            if (key.has("min")) {
                String unit = key.path("unit").asText();
                help += " Range " + key.path("min").asText() + " .. " + key.path("max").asText()
                        + (unit.isEmpty() ? "" : " " + unit) + ".";
            }
            if (key.has("values")) {
                help += " Values: " + String.join(", ", JSON.convertValue(key.path("values"), String[].class)) + ".";
            }
            out.add(new Setting(key.path("name").asText(), kind, key.path("title").asText(), defaultText, help));
        }
        return Collections.unmodifiableList(out);
    }

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
            p.setType(switch (s.kind()) {
                case BOOLEAN -> ProviderConfigProperty.BOOLEAN_TYPE;
                // The admin console's number field (whole numbers, no sign): every engine number is a count or a
                // duration, none is negative.
                case NUMBER -> ProviderConfigProperty.INTEGER_TYPE;
                case LIST -> ProviderConfigProperty.MULTIVALUED_STRING_TYPE;
                case JSON -> ProviderConfigProperty.TEXT_TYPE;
                case STRING -> ProviderConfigProperty.STRING_TYPE;
            });
            p.setDefaultValue(defaultValueOf(s));
            p.setRequired(false);
            out.add(p);
        }
        out.addAll(EXTENSION_SETTINGS);
        return Collections.unmodifiableList(out);
    }

    /**
     * A setting's default as the admin console shows it in a new component's form: the text of a boolean, number,
     * string or JSON setting, the items of a list setting; none when the engine has no default (an empty list, an
     * unset string).
     */
    static Object defaultValueOf(Setting s) {
        if (s.defaultText().isEmpty()) {
            return null;
        }
        if (s.kind() == Kind.LIST) {
            List<String> items = new ArrayList<>();
            for (String item : s.defaultText().split(",")) {
                items.add(item.trim());
            }
            return Collections.unmodifiableList(items);
        }
        return s.defaultText();
    }

    /**
     * The engine configuration for a component's settings.
     *
     * @throws IllegalArgumentException naming the setting, when a JSON setting is not JSON; type, range and meaning
     *                                  are checked by the engine
     */
    public static String toEngineJson(ComponentModel model) {
        ObjectNode out = JSON.createObjectNode();
        for (Setting s : SETTINGS) {
            List<String> present = valuesOf(model, s.key());
            if (present.isEmpty()) {
                continue;
            }
            String first = present.get(0);
            switch (s.kind()) {
                // A value that is not a boolean or a whole number goes to the engine as the text it is, and the
                // engine refuses it with its own sentence naming the key ("expected a whole number, got a string").
                case BOOLEAN -> {
                    if (first.equalsIgnoreCase("true") || first.equalsIgnoreCase("false")) {
                        out.put(s.key(), Boolean.parseBoolean(first));
                    } else {
                        out.put(s.key(), first);
                    }
                }
                case NUMBER -> {
                    try {
                        out.put(s.key(), Long.parseLong(first));
                    } catch (NumberFormatException e) {
                        out.put(s.key(), first);
                    }
                }
                case LIST -> {
                    ArrayNode list = out.putArray(s.key());
                    listOf(model, s.key()).forEach(list::add);
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

    /** A setting's non-blank values, trimmed, in order. */
    private static List<String> valuesOf(ComponentModel model, String key) {
        List<String> values = model.getConfig() == null ? null : model.getConfig().get(key);
        List<String> present = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                if (v != null && !v.isBlank()) {
                    present.add(v.trim());
                }
            }
        }
        return present;
    }

    /**
     * A list setting's items: the values of a realm import or the REST API (one item each), and the admin console's
     * multivalued form field (all items in one value, joined with {@code ##}).
     */
    public static List<String> listOf(ComponentModel model, String key) {
        List<String> items = new ArrayList<>();
        for (String v : valuesOf(model, key)) {
            for (String item : v.split("##")) {
                if (!item.isBlank()) {
                    items.add(item.trim());
                }
            }
        }
        return items;
    }

    /** True when the component runs with the development-only loopback exception. */
    public static boolean allowsLoopback(ComponentModel model) {
        return Boolean.parseBoolean(model.get("allow_loopback"));
    }
}
