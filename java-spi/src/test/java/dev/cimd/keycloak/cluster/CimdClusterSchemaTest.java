package dev.cimd.keycloak.cluster;

import org.infinispan.protostream.ProtobufUtil;
import org.infinispan.protostream.SerializationContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The cluster event survives ProtoStream marshalling as Keycloak's work cache does it (a wrapped message). */
class CimdClusterSchemaTest {
    @Test
    void anEventRoundTripsWithEveryFieldAndWithNulls() throws Exception {
        SerializationContext ctx = ProtobufUtil.newSerializationContext();
        new CimdClusterSchema().register(ctx);
        CimdClusterEvent full = new CimdClusterEvent("refresh", "req-1", "node-a", "realm-1", "comp-1",
                "https://app.example.com/clients/web.json", "{\"node\":\"node-a\",\"ü\":true}");
        CimdClusterEvent sparse = new CimdClusterEvent("clients", "req-2", "node-b", "realm-1", null, null, null);
        for (CimdClusterEvent e : new CimdClusterEvent[]{full, sparse}) {
            byte[] bytes = ProtobufUtil.toWrappedByteArray(ctx, e);
            assertEquals(e, ProtobufUtil.fromWrappedByteArray(ctx, bytes));
        }
    }
}
