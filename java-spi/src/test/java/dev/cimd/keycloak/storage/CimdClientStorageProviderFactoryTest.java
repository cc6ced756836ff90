package dev.cimd.keycloak.storage;

import dev.cimd.keycloak.jni.CimdEngine;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.RealmModel;
import org.keycloak.storage.client.ClientStorageProvider;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

/**
 * The realm's cimd component and its engine, as the client policy, discovery and the admin resource find them on
 * every request: searched once, then taken while the realm cache hands out the same component model, searched
 * again when it changes, and never an engine that was freed. Runs against the real native engine.
 */
class CimdClientStorageProviderFactoryTest {
    CimdClientStorageProviderFactory factory;
    RealmModel realm;
    /** The component model the realm cache currently holds for comp-1 (a new object after every change). */
    AtomicReference<ComponentModel> current = new AtomicReference<>();

    static ComponentModel cimd(String id, boolean enabled, String maxDocBytes) {
        ComponentModel m = new ComponentModel();
        m.setId(id);
        m.setProviderId(CimdClientStorageProviderFactory.PROVIDER_ID);
        m.setProviderType(ClientStorageProvider.class.getName());
        m.getConfig().putSingle("enabled", Boolean.toString(enabled));
        if (maxDocBytes != null) {
            m.getConfig().putSingle("max_document_bytes", maxDocBytes);
        }
        return m;
    }

    @BeforeEach
    void setUp() {
        factory = new CimdClientStorageProviderFactory();
        realm = mock(RealmModel.class);
        when(realm.getId()).thenReturn("realm-1");
        when(realm.getName()).thenReturn("r");
        current.set(cimd("comp-1", true, null));
        when(realm.getComponent(anyString())).thenAnswer(i -> "comp-1".equals(i.getArgument(0)) ? current.get() : null);
        // As in Keycloak's cached realm: the search hands out other objects (copies) than the lookup by id.
        when(realm.getComponentsStream("realm-1", ClientStorageProvider.class.getName()))
                .thenAnswer(i -> current.get() == null ? Stream.empty() : Stream.of(new ComponentModel(current.get())));
    }

    @AfterEach
    void tearDown() {
        factory.close();
    }

    @Test
    void theComponentIsSearchedOnceWhileTheRealmCacheHoldsTheSameModel() {
        CimdClientStorageProviderFactory.Component first = factory.componentOf(realm).orElseThrow();
        for (int i = 0; i < 5; i++) {
            assertSame(first, factory.componentOf(realm).orElseThrow());
        }
        verify(realm, times(1)).getComponentsStream("realm-1", ClientStorageProvider.class.getName());
        assertEquals("comp-1", first.model().getId());
    }

    @Test
    void aChangedComponentIsSearchedAgainAndGetsAnEngineForItsNewSettings() throws Exception {
        CimdClientStorageProviderFactory.Component first = factory.componentOf(realm).orElseThrow();
        ComponentModel changed = cimd("comp-1", true, "2048");
        factory.onUpdate(null, realm, current.get(), changed);
        current.set(changed);
        CimdClientStorageProviderFactory.Component second = factory.componentOf(realm).orElseThrow();
        assertNotSame(first.engine(), second.engine());
        assertEquals("2048", second.model().getConfig().getFirst("max_document_bytes"));
        assertThrows(IllegalStateException.class, () -> first.engine().stats(), "the old engine was freed");
        assertTrue(second.engine().stats().isObject());
    }

    @Test
    void aNewModelObjectFromTheRealmCacheIsCheckedAgainEvenWithoutAnUpdateEvent() {
        // Another cluster node changed the component: this node sees only the realm cache's new objects.
        CimdClientStorageProviderFactory.Component first = factory.componentOf(realm).orElseThrow();
        current.set(cimd("comp-1", true, null));
        CimdClientStorageProviderFactory.Component second = factory.componentOf(realm).orElseThrow();
        verify(realm, times(2)).getComponentsStream("realm-1", ClientStorageProvider.class.getName());
        assertSame(first.engine(), second.engine(), "same settings: the same engine");
        current.set(cimd("comp-1", true, "4096"));
        CimdEngine third = factory.componentOf(realm).orElseThrow().engine();
        assertNotSame(first.engine(), third, "new settings: a new engine");
    }

    @Test
    void aDisabledOrRemovedComponentIsNoLongerFound() {
        factory.componentOf(realm).orElseThrow();
        current.set(cimd("comp-1", false, null));
        assertTrue(factory.componentOf(realm).isEmpty());
        current.set(null);
        assertTrue(factory.componentOf(realm).isEmpty());
    }

    @Test
    void anEngineFreedByRemovalIsNeverHandedOut() {
        CimdClientStorageProviderFactory.Component first = factory.componentOf(realm).orElseThrow();
        factory.preRemove(null, realm, current.get());
        CimdClientStorageProviderFactory.Component again = factory.componentOf(realm).orElseThrow();
        assertNotSame(first.engine(), again.engine());
        assertTrue(again.engine().stats().isObject());
    }

    @Test
    void savingAComponentWithABadAllowedResourceIsRefusedWithTheEntryAndTheRule() {
        ComponentModel m = cimd("comp-1", true, null);
        m.getConfig().put("allowed_resources", List.of("http://127.0.0.1:18080/mcp", "https://mcp.example.com/?x=1"));
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> factory.validateConfiguration(null, realm, m));
        assertEquals("cimd: allowed_resources: \"https://mcp.example.com/?x=1\" must not have a query (RFC 8707 §2)",
                e.getMessage());
        m.getConfig().put("allowed_resources", List.of("http://127.0.0.1:18080/mcp", "https://mcp.example.com/"));
        factory.validateConfiguration(null, realm, m);
    }

    @Test
    void savingABadNumberOrBooleanIsRefusedWithTheEnginesSentence() {
        ComponentModel m = cimd("comp-1", true, null);
        m.getConfig().putSingle("fetch_timeout_ms", "soon");
        ComponentValidationException e = assertThrows(ComponentValidationException.class,
                () -> factory.validateConfiguration(null, realm, m));
        assertTrue(e.getMessage().startsWith(
                "cimd: invalid configuration: fetch_timeout_ms: expected a whole number, got a string"), e.getMessage());
        m.getConfig().putSingle("fetch_timeout_ms", "999999");
        e = assertThrows(ComponentValidationException.class, () -> factory.validateConfiguration(null, realm, m));
        assertTrue(e.getMessage().contains("fetch_timeout_ms: 999999 is outside 1..=120000"),
                e.getMessage());
        m.getConfig().putSingle("fetch_timeout_ms", "5000");
        m.getConfig().putSingle("allow_query", "yes");
        e = assertThrows(ComponentValidationException.class, () -> factory.validateConfiguration(null, realm, m));
        assertTrue(e.getMessage().contains("allow_query: expected a boolean, got a string"), e.getMessage());
        m.getConfig().putSingle("allow_query", "false");
        factory.validateConfiguration(null, realm, m);
    }

    @Test
    void everyEnabledComponentIsFoundInKeycloaksLookupOrderEachWithItsOwnEngine() {
        ComponentModel internal = cimd("comp-0", true, null);
        internal.setName("internal");
        internal.getConfig().putSingle("priority", "10");
        ComponentModel first = current.get();
        first.setName("public");
        first.getConfig().putSingle("priority", "0");
        ComponentModel off = cimd("comp-2", false, null);
        when(realm.getComponent(anyString())).thenAnswer(i -> switch ((String) i.getArgument(0)) {
            case "comp-0" -> internal;
            case "comp-1" -> first;
            case "comp-2" -> off;
            default -> null;
        });
        // The realm's own order puts the internal one first: the priority decides, as in Keycloak's client storage.
        when(realm.getComponentsStream("realm-1", ClientStorageProvider.class.getName()))
                .thenAnswer(i -> Stream.of(new ComponentModel(internal), new ComponentModel(first), new ComponentModel(off)));
        List<CimdClientStorageProviderFactory.Component> found = factory.componentsOf(realm);
        assertEquals(List.of("comp-1", "comp-0"), found.stream().map(c -> c.model().getId()).toList());
        assertNotSame(found.get(0).engine(), found.get(1).engine());
        assertSame(found.get(0), factory.componentOf(realm).orElseThrow());
        // Found again without a search while the realm cache holds the same models.
        assertSame(found, factory.componentsOf(realm));
        verify(realm, times(1)).getComponentsStream("realm-1", ClientStorageProvider.class.getName());
    }
}
