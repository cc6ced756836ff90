package dev.cimd.keycloak.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The totals of the stats endpoint: numbers add up, nested counters (failures by code) too. */
class CimdAdminResourceTest {
    @Test
    void countersOfSeveralComponentsOrNodesAddUp() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode totals = JsonNodeFactory.instance.objectNode();
        CimdAdminResource.add(totals, json.readTree("{\"hits\":2,\"fetches\":1,\"failures\":{\"http_status\":1},\"v\":\"x\"}"));
        CimdAdminResource.add(totals, json.readTree("{\"hits\":3,\"failures\":{\"http_status\":2,\"too_large\":1},\"v\":\"y\"}"));
        assertEquals("{\"hits\":5,\"fetches\":1,\"failures\":{\"http_status\":3,\"too_large\":1},\"v\":\"x\"}",
                totals.toString());
    }

    @Test
    void histogramsAddUpBucketByBucketOverTheSameBounds() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode totals = JsonNodeFactory.instance.objectNode();
        CimdAdminResource.add(totals, json.readTree(
                "{\"fetch_duration_ms\":{\"le\":[1,5,10],\"counts\":[0,2,3],\"count\":3,\"sum_us\":9000}}"));
        CimdAdminResource.add(totals, json.readTree(
                "{\"fetch_duration_ms\":{\"le\":[1,5,10],\"counts\":[1,1,1],\"count\":2,\"sum_us\":30000}}"));
        assertEquals("{\"fetch_duration_ms\":{\"le\":[1,5,10],\"counts\":[1,3,4],\"count\":5,\"sum_us\":39000}}",
                totals.toString());
    }
}
