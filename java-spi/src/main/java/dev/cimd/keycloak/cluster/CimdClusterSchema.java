package dev.cimd.keycloak.cluster;

import org.infinispan.protostream.FileDescriptorSource;
import org.infinispan.protostream.ProtobufTagMarshaller;
import org.infinispan.protostream.SerializationContext;
import org.infinispan.protostream.SerializationContextInitializer;
import org.infinispan.protostream.TagReader;
import org.infinispan.protostream.TagWriter;
import org.infinispan.protostream.descriptors.WireType;

import java.io.IOException;

/**
 * The ProtoStream schema and marshaller of {@link CimdClusterEvent}: Keycloak sends cluster events through its
 * replicated work cache, whose marshaller knows only registered types. Keycloak registers every
 * {@link SerializationContextInitializer} its providers list in
 * {@code META-INF/services/org.infinispan.protostream.SerializationContextInitializer} when it builds the server.
 * Unknown fields are skipped, so a node of a later version can add fields without breaking an older one.
 */
public final class CimdClusterSchema implements SerializationContextInitializer {
    static final String PROTO_FILE = "dev.cimd.keycloak.cluster.proto";
    static final String TYPE = "dev.cimd.keycloak.ClusterEvent";
    static final String PROTO = """
            syntax = "proto3";
            package dev.cimd.keycloak;

            message ClusterEvent {
              string op = 1;
              string requestId = 2;
              string sender = 3;
              string realmId = 4;
              string componentId = 5;
              string clientId = 6;
              string payload = 7;
            }
            """;

    @Override
    public void registerSchema(SerializationContext ctx) {
        ctx.registerProtoFiles(FileDescriptorSource.fromString(PROTO_FILE, PROTO));
    }

    @Override
    public void registerMarshallers(SerializationContext ctx) {
        ctx.registerMarshaller(new Marshaller());
    }

    static final class Marshaller implements ProtobufTagMarshaller<CimdClusterEvent> {
        @Override
        public Class<? extends CimdClusterEvent> getJavaClass() {
            return CimdClusterEvent.class;
        }

        @Override
        public String getTypeName() {
            return TYPE;
        }

        @Override
        public CimdClusterEvent read(ReadContext ctx) throws IOException {
            TagReader in = ctx.getReader();
            String[] f = new String[8];
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                int field = WireType.getTagFieldNumber(tag);
                if (field >= 1 && field <= 7 && (tag & 7) == WireType.WIRETYPE_LENGTH_DELIMITED) {
                    f[field] = in.readString();
                } else if (!in.skipField(tag)) {
                    break;
                }
            }
            return new CimdClusterEvent(f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
        }

        @Override
        public void write(WriteContext ctx, CimdClusterEvent e) throws IOException {
            TagWriter out = ctx.getWriter();
            String[] f = {e.op(), e.requestId(), e.sender(), e.realmId(), e.componentId(), e.clientId(), e.payload()};
            for (int i = 0; i < f.length; i++) {
                if (f[i] != null) {
                    out.writeString(i + 1, f[i]);
                }
            }
        }
    }
}
