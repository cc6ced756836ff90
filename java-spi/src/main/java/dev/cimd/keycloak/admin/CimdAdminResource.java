package dev.cimd.keycloak.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.cimd.keycloak.jni.CimdEngine;
import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.Resolution;
import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory;
import dev.cimd.keycloak.shared.CimdLog;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

import java.util.Map;

/**
 * Operator endpoints under {@code /admin/realms/{realm}/cimd}: the realm's cached CIMD clients and counters.
 * Reading needs realm-management {@code view-clients}, changing needs {@code manage-clients}. The client_id is a
 * query parameter ({@code ?client_id=https://...}) because it is a URL.
 *
 * <ul>
 *   <li>{@code GET clients}: every cached client with its freshness, version and source;</li>
 *   <li>{@code GET client?client_id=}: one client as the engine holds it (no fetch);</li>
 *   <li>{@code POST invalidate?client_id=}: forget it (the next request fetches it again);</li>
 *   <li>{@code POST refresh?client_id=}: fetch it again now;</li>
 *   <li>{@code GET stats}: hits, misses, fetches, coalesced waits, stale serves, failures by code.</li>
 * </ul>
 */
@Produces(MediaType.APPLICATION_JSON)
public final class CimdAdminResource {
    private final RealmModel realm;
    private final AdminPermissionEvaluator auth;
    private final CimdEngine engine;
    /** Invalidate and refresh are admin events ({@link CimdAdminEvents}). */
    private final AdminEventBuilder adminEvent;

    CimdAdminResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth,
                      AdminEventBuilder adminEvent) {
        this.realm = realm;
        this.auth = auth;
        this.adminEvent = adminEvent;
        CimdClientStorageProviderFactory factory = CimdClientStorageProviderFactory.of(session);
        this.engine = factory == null ? null : factory.componentOf(session, realm).map(CimdClientStorageProviderFactory.Component::engine)
                .orElse(null);
    }

    private CimdEngine engine() {
        if (engine == null) {
            throw new NotFoundException("realm " + realm.getName() + " has no enabled cimd client-storage component");
        }
        return engine;
    }

    /** The engine, for a caller allowed to view clients. */
    private CimdEngine viewing() {
        auth.clients().requireView();
        return engine();
    }

    /** The engine, for a caller allowed to manage clients, with the client_id the request names. */
    private CimdEngine managing(String clientId) {
        auth.clients().requireManage();
        require(clientId);
        return engine();
    }

    @GET
    @Path("clients")
    public JsonNode clients() {
        return viewing().entries();
    }

    @GET
    @Path("client")
    public Response client(@QueryParam("client_id") String clientId) {
        CimdEngine cimd = viewing();
        require(clientId);
        for (JsonNode entry : cimd.entries()) {
            if (clientId.equals(entry.path("client_id").asText())) {
                ObjectNode out = entry.deepCopy();
                cimd.probe(clientId).ifPresent(r -> out.set("document", describe(r)));
                return Response.ok(out).build();
            }
        }
        return failure(Response.Status.NOT_FOUND, "not_cached", clientId + " is not in the cache");
    }

    @POST
    @Path("invalidate")
    public JsonNode invalidate(@QueryParam("client_id") String clientId) {
        CimdEngine cimd = managing(clientId);
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("client_id", clientId);
        boolean invalidated = cimd.invalidate(clientId);
        out.put("invalidated", invalidated);
        CimdAdminEvents.record(adminEvent, "invalidate", clientId, Map.of("invalidated", String.valueOf(invalidated)),
                out);
        return out;
    }

    @POST
    @Path("refresh")
    public Response refresh(@QueryParam("client_id") String clientId) {
        CimdEngine cimd = managing(clientId);
        try {
            Resolution r = cimd.refresh(clientId, null);
            CimdLog.resolved(realm.getName(), r);
            ObjectNode out = describe(r);
            CimdAdminEvents.record(adminEvent, "refresh", clientId, Map.of("cimd_source", r.source()), out);
            return Response.ok(out).build();
        } catch (CimdException e) {
            CimdAdminEvents.record(adminEvent, "refresh", clientId, Map.of("cimd_error", e.code()), null);
            return failure(Response.Status.BAD_GATEWAY, e.code(), e.description());
        }
    }

    @GET
    @Path("stats")
    public JsonNode stats() {
        return viewing().stats();
    }

    private static void require(String clientId) {
        if (clientId == null || clientId.isBlank()) {
            throw new jakarta.ws.rs.BadRequestException("the client_id query parameter is required");
        }
    }

    private static ObjectNode describe(Resolution r) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("client_id", r.document().clientId());
        out.put("client_name", r.document().clientName());
        out.put("token_endpoint_auth_method", r.document().tokenEndpointAuthMethod());
        out.putPOJO("redirect_uris", r.document().redirectUris());
        out.put("source", r.source());
        out.put("generation", r.document().generation());
        out.put("fetched_at", r.document().fetchedAt());
        out.put("expires_at_epoch_s", r.expiresAtEpochSeconds());
        out.putPOJO("changed", r.document().changed());
        out.putPOJO("warnings", r.document().warnings());
        return out;
    }

    private static Response failure(Response.Status status, String code, String description) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("error", code);
        out.put("error_description", description);
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(out).build();
    }
}
