package dev.cimd.keycloak.cluster;

import org.keycloak.cluster.ClusterEvent;

/**
 * What the cimd operator endpoints send through Keycloak's {@code ClusterProvider} ({@link CimdCluster#TASK_KEY}):
 * a request that every other node carries out on its own engines ({@code op} names it, for a realm, optionally one
 * component and one client_id), or a node's answer to a request ({@code op} is {@link #ANSWER}, {@code payload}
 * its JSON). Marshalled by {@link CimdClusterSchema}; every field is a string, any may be null.
 */
public record CimdClusterEvent(String op, String requestId, String sender, String realmId, String componentId,
                               String clientId, String payload) implements ClusterEvent {
    public static final String ANSWER = "answer";

    public boolean isAnswer() {
        return ANSWER.equals(op);
    }

    /** This node's answer to {@code request}. */
    public static CimdClusterEvent answer(CimdClusterEvent request, String sender, String payload) {
        return new CimdClusterEvent(ANSWER, request.requestId(), sender, request.realmId(), request.componentId(),
                request.clientId(), payload);
    }
}
