package dev.cimd.keycloak.admin;

import org.keycloak.events.admin.OperationType;
import org.keycloak.services.resources.admin.AdminEventBuilder;

import java.util.Map;

/**
 * The admin events of the operator actions that change the cache ({@code invalidate}, {@code refresh}), so that
 * event listeners and SIEM exports see who forgot or refetched which URL client. Keycloak stores them when the
 * realm has admin events enabled; the representation (the action's answer) when admin event details are enabled.
 *
 * <p>Operation {@code ACTION}, resource type {@value #RESOURCE_TYPE}, resource path {@code cimd/<action>}, details
 * {@code cimd_action}, {@code client_id} and the outcome ({@code invalidated} true/false, or {@code cimd_error}
 * with the error code when a refresh fails).
 */
final class CimdAdminEvents {
    static final String RESOURCE_TYPE = "CIMD_CLIENT";

    private CimdAdminEvents() {
    }

    /** Sends one admin event for {@code action} on {@code clientId}; does nothing without a builder. */
    static void record(AdminEventBuilder events, String action, String clientId, Map<String, String> outcome,
                       Object representation) {
        if (events == null) {
            return;
        }
        AdminEventBuilder e = events.operation(OperationType.ACTION)
                .resource(RESOURCE_TYPE)
                .resourcePath("cimd", action)
                .detail("cimd_action", action)
                .detail("client_id", clientId);
        outcome.forEach(e::detail);
        if (representation != null) {
            e.representation(representation);
        }
        e.success();
    }
}
