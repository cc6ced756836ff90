package dev.cimd.keycloak.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.cimd.keycloak.cluster.CimdCluster;
import dev.cimd.keycloak.cluster.CimdClusterEvent;
import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.Resolution;
import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory;
import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory.Component;
import dev.cimd.keycloak.shared.CimdLog;

import jakarta.ws.rs.GET;
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

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Operator endpoints under {@code /admin/realms/{realm}/cimd}: the realm's cached CIMD clients and counters, for
 * every cimd component of the realm (each entry names its component: {@code component_id}, {@code component}), or
 * for the one named by {@code component=} (its id or name). Reading needs realm-management {@code view-clients},
 * changing needs {@code manage-clients}. The client_id is a query parameter ({@code ?client_id=https://...})
 * because it is a URL.
 *
 * <ul>
 *   <li>{@code GET clients[?scope=cluster]}: every cached client with its freshness, version and source;</li>
 *   <li>{@code GET client?client_id=}: one client as the engine holds it (no fetch);</li>
 *   <li>{@code POST invalidate?client_id=}: forget it on every node (the next request fetches it again);</li>
 *   <li>{@code POST refresh?client_id=}: fetch it again now, under the policy of the component that serves it;
 *       every other node forgets its copy, so the next request there fetches the new version;</li>
 *   <li>{@code GET stats[?scope=cluster]}: hits, misses, fetches, coalesced waits, stale serves, failures by code.</li>
 * </ul>
 *
 * <p>{@code scope=node} (the default) answers for the node asked; {@code scope=cluster} adds every other node's
 * answer ({@link CimdCluster}), each labelled with its node, and names the members that did not answer in time.
 */
@Produces(MediaType.APPLICATION_JSON)
public final class CimdAdminResource {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SCOPE_NODE = "node";
    static final String SCOPE_CLUSTER = "cluster";

    private final KeycloakSession session;
    private final RealmModel realm;
    private final AdminPermissionEvaluator auth;
    private final CimdClientStorageProviderFactory factory;
    /** Invalidate and refresh are admin events ({@link CimdAdminEvents}). */
    private final AdminEventBuilder adminEvent;

    CimdAdminResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth,
                      AdminEventBuilder adminEvent) {
        this.session = session;
        this.realm = realm;
        this.auth = auth;
        this.adminEvent = adminEvent;
        this.factory = CimdClientStorageProviderFactory.of(session);
    }

    /** A refusal carried to the endpoint's answer. */
    private static final class Refusal extends RuntimeException {
        final transient Response response;

        Refusal(Response.Status status, String code, String description) {
            super(description, null, false, false);
            this.response = failure(status, code, description);
        }
    }

    /** The components a request covers: the one {@code component} names, or every one of the realm's. */
    private List<Component> components(String component) {
        List<Component> all = factory == null ? List.of() : factory.componentsOf(session, realm);
        if (all.isEmpty()) {
            throw new Refusal(Response.Status.NOT_FOUND, "no_component",
                    "realm " + realm.getName() + " has no enabled cimd client-storage component");
        }
        if (component == null || component.isBlank()) {
            return all;
        }
        return List.of(factory.component(session, realm, component).orElseThrow(() -> new Refusal(
                Response.Status.NOT_FOUND, "unknown_component", "realm " + realm.getName()
                + " has no enabled cimd component " + component + "; its cimd components: "
                + String.join(", ", all.stream().map(Component::label).toList()))));
    }

    private static boolean cluster(String scope) {
        if (scope == null || scope.isBlank() || SCOPE_NODE.equals(scope)) {
            return false;
        }
        if (SCOPE_CLUSTER.equals(scope)) {
            return true;
        }
        throw new Refusal(Response.Status.BAD_REQUEST, "invalid_scope",
                "scope must be " + SCOPE_NODE + " (this node, the default) or " + SCOPE_CLUSTER + " (every node)");
    }

    private static void require(String clientId) {
        if (clientId == null || clientId.isBlank()) {
            throw new Refusal(Response.Status.BAD_REQUEST, "invalid_request", "the client_id query parameter is required");
        }
    }

    private String node() {
        CimdCluster c = factory == null ? null : factory.cluster();
        return c == null ? "local" : c.nodeName(session);
    }

    /** Every other node's answer to a request, with the members that did not answer; none without a cluster. */
    private CimdCluster.Answers ask(String op, List<Component> components, String component, String clientId) {
        CimdCluster c = factory.cluster();
        if (c == null) {
            return new CimdCluster.Answers(Map.of(), List.of());
        }
        String componentId = component == null || component.isBlank() ? null : components.get(0).model().getId();
        return c.ask(session, op, realm.getId(), componentId, clientId);
    }

    @GET
    @Path("clients")
    public Response clients(@QueryParam("component") String component, @QueryParam("scope") String scope) {
        return view("clients", component, scope, components -> entries(components, node()), (out, mine, answers) -> {
            ArrayNode all = out.putArray("clients");
            mine.forEach(all::add);
            answers.byNode().values().forEach(p -> parse(p).path("clients").forEach(all::add));
        });
    }

    /**
     * A read-only endpoint: {@code local}'s answer over this node's engines, or with {@code scope=cluster} a cluster
     * answer (nodes, missing) into which {@code merge} puts that answer and every other node's.
     */
    private Response view(String op, String component, String scope, Function<List<Component>, JsonNode> local,
                          Merge merge) {
        return answering(() -> {
            auth.clients().requireView();
            boolean everyNode = cluster(scope);
            List<Component> components = components(component);
            JsonNode mine = local.apply(components);
            if (!everyNode) {
                return Response.ok(mine).build();
            }
            CimdCluster.Answers answers = ask(op, components, component, null);
            ObjectNode out = clusterAnswer(answers);
            merge.into(out, mine, answers);
            return Response.ok(out).build();
        });
    }

    /** How a cluster-wide read puts this node's answer and the others' into the answer. */
    @FunctionalInterface
    private interface Merge {
        void into(ObjectNode out, JsonNode mine, CimdCluster.Answers answers);
    }

    /** Runs an endpoint; a refusal (a bad parameter, an unknown component) is its answer. */
    private static Response answering(Supplier<Response> endpoint) {
        try {
            return endpoint.get();
        } catch (Refusal r) {
            return r.response;
        }
    }

    @GET
    @Path("client")
    public Response client(@QueryParam("client_id") String clientId, @QueryParam("component") String component) {
        return naming(clientId, component, false, components -> {
            for (Component c : components) {
                for (JsonNode entry : c.engine().entries()) {
                    if (clientId.equals(entry.path("client_id").asText())) {
                        ObjectNode out = labelled(entry, c);
                        c.engine().probe(clientId).ifPresent(r -> out.set("document", describe(r)));
                        return Response.ok(out).build();
                    }
                }
            }
            return failure(Response.Status.NOT_FOUND, "not_cached", clientId + " is not in the cache");
        });
    }

    @POST
    @Path("invalidate")
    public Response invalidate(@QueryParam("client_id") String clientId, @QueryParam("component") String component) {
        return naming(clientId, component, true, components -> {
            ObjectNode mine = invalidated(components, clientId, node());
            CimdCluster.Answers answers = ask("invalidate", components, component, clientId);
            ObjectNode out = clusterAnswer(answers);
            out.put("client_id", clientId);
            ArrayNode nodes = out.putArray("results");
            nodes.add(mine);
            boolean any = mine.path("invalidated").asBoolean();
            for (String p : answers.byNode().values()) {
                JsonNode theirs = parse(p);
                nodes.add(theirs);
                any |= theirs.path("invalidated").asBoolean();
            }
            out.put("invalidated", any);
            CimdAdminEvents.record(adminEvent, "invalidate", clientId, Map.of("invalidated", String.valueOf(any)),
                    out);
            return Response.ok(out).build();
        });
    }

    /**
     * An endpoint about one client_id: for a caller allowed to view clients, or to manage them when it changes the
     * cache ({@code manage}).
     */
    private Response naming(String clientId, String component, boolean manage,
                            Function<List<Component>, Response> action) {
        return answering(() -> {
            if (manage) {
                auth.clients().requireManage();
            } else {
                auth.clients().requireView();
            }
            require(clientId);
            return action.apply(components(component));
        });
    }

    /**
     * Fetches the client again under the policy of the component that serves it: the one {@code component} names;
     * else the first (in Keycloak's lookup order) that holds it; else the first that accepts it, as a lookup would
     * find it. The other nodes then forget their copy under that component.
     */
    @POST
    @Path("refresh")
    public Response refresh(@QueryParam("client_id") String clientId, @QueryParam("component") String component) {
        return naming(clientId, component, true, components -> {
            List<Component> order = new ArrayList<>();
            components.stream().filter(c -> holds(c, clientId)).findFirst().ifPresent(order::add);
            components.stream().filter(c -> !order.contains(c)).forEach(order::add);
            CimdException refused = null;
            Component refusedBy = null;
            for (Component c : order) {
                try {
                    Resolution r = c.engine().refresh(clientId, null);
                    CimdLog.resolved(realm.getName(), r);
                    CimdCluster.Answers answers = ask("refresh", List.of(c), c.model().getId(), clientId);
                    ObjectNode out = clusterAnswer(answers);
                    out.setAll(labelled(describe(r), c));
                    out.put("node", node());
                    ArrayNode others = out.putArray("results");
                    answers.byNode().values().forEach(p -> others.add(parse(p)));
                    CimdAdminEvents.record(adminEvent, "refresh", clientId, Map.of("cimd_source", r.source()), out);
                    return Response.ok(out).build();
                } catch (CimdException e) {
                    if (CimdClientStorageProviderFactory.shown(refused, e) == e) {
                        refused = e;
                        refusedBy = c;
                    }
                }
            }
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            out.put("error", refused.code());
            out.put("error_description", refused.description());
            out.put("component_id", refusedBy.model().getId());
            out.put("component", refusedBy.model().getName());
            CimdAdminEvents.record(adminEvent, "refresh", clientId, Map.of("cimd_error", refused.code()), null);
            return Response.status(Response.Status.BAD_GATEWAY).type(MediaType.APPLICATION_JSON).entity(out).build();
        });
    }

    @GET
    @Path("stats")
    public Response stats(@QueryParam("component") String component, @QueryParam("scope") String scope) {
        return view("stats", component, scope, components -> stats(components, node()), (out, mine, answers) -> {
            ArrayNode nodes = out.putArray("results");
            nodes.add(mine);
            answers.byNode().values().forEach(p -> nodes.add(parse(p)));
            ObjectNode totals = JsonNodeFactory.instance.objectNode();
            nodes.forEach(n -> add(totals, n.path("totals")));
            out.set("totals", totals);
        });
    }

    /**
     * What another node asked this one to do ({@link CimdCluster}), carried out on this node's engines: the answer's
     * JSON, or null when this node has no such realm or component (it then does not answer).
     */
    public static String carryOut(KeycloakSession session, CimdClusterEvent request) {
        CimdClientStorageProviderFactory factory = CimdClientStorageProviderFactory.of(session);
        RealmModel realm = factory == null ? null : session.realms().getRealm(request.realmId());
        if (realm == null) {
            return null;
        }
        List<Component> components = request.componentId() == null ? factory.componentsOf(session, realm)
                : factory.component(session, realm, request.componentId()).map(List::of).orElse(List.of());
        String node = factory.cluster() == null ? "local" : factory.cluster().nodeName(session);
        ObjectNode out = switch (request.op()) {
            // Another node fetched the new version: forget ours, the next request here fetches it.
            case "invalidate", "refresh" -> request.clientId() == null ? null
                    : invalidated(components, request.clientId(), node);
            case "clients" -> {
                ObjectNode o = JsonNodeFactory.instance.objectNode();
                o.put("node", node);
                o.set("clients", entries(components, node));
                yield o;
            }
            case "stats" -> stats(components, node);
            default -> null;
        };
        return out == null ? null : out.toString();
    }

    static ArrayNode entries(List<Component> components, String node) {
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (Component c : components) {
            c.engine().entries().forEach(e -> out.add(labelled(e, c).put("node", node)));
        }
        return out;
    }

    static ObjectNode invalidated(List<Component> components, String clientId, String node) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        out.put("node", node);
        boolean any = false;
        ArrayNode each = out.putArray("components");
        for (Component c : components) {
            boolean had = c.engine().invalidate(clientId);
            any |= had;
            each.add(labelled(JsonNodeFactory.instance.objectNode(), c).put("invalidated", had));
        }
        out.put("invalidated", any);
        return out;
    }

    /** A node's counters: its totals over the components asked, and each component's own. */
    static ObjectNode stats(List<Component> components, String node) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode totals = JsonNodeFactory.instance.objectNode();
        ArrayNode each = JsonNodeFactory.instance.arrayNode();
        for (Component c : components) {
            JsonNode s = c.engine().stats();
            add(totals, s);
            each.add(labelled(s, c));
        }
        out.put("node", node);
        // The totals also at the top level, as a single-component realm has always answered.
        out.setAll(totals.deepCopy());
        out.set("totals", totals);
        out.set("components", each);
        return out;
    }

    /**
     * Adds {@code from}'s numbers into {@code into}, recursively (failures by code...) and bucket by bucket (a
     * histogram's counts); other values are kept once.
     */
    static void add(ObjectNode into, JsonNode from) {
        for (Iterator<Map.Entry<String, JsonNode>> it = from.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            JsonNode mine = into.get(f.getKey());
            JsonNode theirs = f.getValue();
            if (theirs.isIntegralNumber()) {
                into.put(f.getKey(), (mine != null && mine.isNumber() ? mine.asLong() : 0) + theirs.asLong());
            } else if (theirs.isNumber()) {
                into.put(f.getKey(), (mine != null && mine.isNumber() ? mine.asDouble() : 0) + theirs.asDouble());
            } else if (theirs.isObject()) {
                add(mine instanceof ObjectNode o ? o : into.putObject(f.getKey()), theirs);
            } else if (!"le".equals(f.getKey()) && mine instanceof ArrayNode a && sameLengthNumbers(a, theirs)) {
                // A histogram's counts per bucket: the bounds (`le`) are the same everywhere and kept once.
                for (int i = 0; i < a.size(); i++) {
                    a.set(i, JsonNodeFactory.instance.numberNode(a.get(i).asLong() + theirs.get(i).asLong()));
                }
            } else if (mine == null) {
                into.set(f.getKey(), theirs.deepCopy());
            }
        }
    }

    private static boolean sameLengthNumbers(ArrayNode a, JsonNode b) {
        if (!b.isArray() || a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!a.get(i).isIntegralNumber() || !b.get(i).isIntegralNumber()) {
                return false;
            }
        }
        return true;
    }

    private static boolean holds(Component c, String clientId) {
        for (JsonNode entry : c.engine().entries()) {
            if (clientId.equals(entry.path("client_id").asText())) {
                return true;
            }
        }
        return false;
    }

    private static ObjectNode labelled(JsonNode entry, Component c) {
        ObjectNode out = entry.isObject() ? ((ObjectNode) entry).deepCopy() : JsonNodeFactory.instance.objectNode();
        out.put("component_id", c.model().getId());
        out.put("component", c.model().getName());
        return out;
    }

    /** The cluster part of an answer: which nodes answered and which members did not in time. */
    private ObjectNode clusterAnswer(CimdCluster.Answers answers) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode nodes = out.putArray("nodes");
        nodes.add(node());
        answers.byNode().keySet().forEach(nodes::add);
        ArrayNode missing = out.putArray("missing");
        answers.missing().forEach(missing::add);
        return out;
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            return JsonNodeFactory.instance.objectNode().put("error", "malformed answer");
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
