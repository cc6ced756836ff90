package dev.cimd.keycloak.shared;

import dev.cimd.keycloak.jni.CimdEngine;

import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What is attached to an engine (its meters) lives exactly as long as the engine. Runs the real native engine. */
class EngineRegistryTest {
    private static ComponentModel component(String maxDocBytes) {
        ComponentModel m = new ComponentModel();
        m.setId("comp-1");
        m.setName("cimd");
        m.setParentId("realm-1");
        m.getConfig().putSingle("max_document_bytes", maxDocBytes);
        return m;
    }

    @Test
    void attached_once_per_engine_and_detached_before_it_is_replaced_removed_or_closed() {
        List<String> log = new ArrayList<>();
        EngineRegistry registry = new EngineRegistry((model, engine) -> {
            String v = model.getConfig().getFirst("max_document_bytes");
            log.add("attach " + v);
            return () -> log.add("detach " + v + (engine.isClosed() ? " after free" : ""));
        });
        CimdEngine a = registry.engineFor(component("10000"));
        assertSame(a, registry.engineFor(component("10000")), "same settings: same engine, attached once");
        CimdEngine b = registry.engineFor(component("20000"));
        assertTrue(a.isClosed());
        registry.remove("comp-1");
        assertTrue(b.isClosed());
        CimdEngine c = registry.engineFor(component("10000"));
        registry.close();
        assertTrue(c.isClosed());
        assertEquals(List.of("attach 10000", "detach 10000", "attach 20000", "detach 20000", "attach 10000",
                "detach 10000"), log);
    }

    @Test
    void an_engine_whose_hook_fails_still_serves() {
        EngineRegistry registry = new EngineRegistry((model, engine) -> {
            throw new IllegalArgumentException("a registry refused the meters");
        });
        CimdEngine e = registry.engineFor(component("10000"));
        assertFalse(e.isClosed());
        assertEquals(0, e.stats().path("fetches").asInt());
        registry.close();
        assertTrue(e.isClosed());
    }
}
