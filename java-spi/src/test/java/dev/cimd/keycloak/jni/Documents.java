package dev.cimd.keycloak.jni;

import com.fasterxml.jackson.databind.ObjectMapper;

/** Test fixtures: engine document JSON as the bridge sends it. */
public final class Documents {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Documents() {
    }

    public static Resolution resolution(String clientJson) {
        try {
            String document = "{\"client\":" + clientJson + ",\"warnings\":[],\"changed\":[],"
                    + "\"fetched_at\":\"2026-11-22T01:00:00Z\",\"generation\":3}";
            return new Resolution(ClientDocument.fromJson(JSON.readTree(document)), "cache", 1795310304L, false);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }
}
