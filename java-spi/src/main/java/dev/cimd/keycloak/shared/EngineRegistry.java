package dev.cimd.keycloak.shared;

import dev.cimd.keycloak.config.CimdConfig;
import dev.cimd.keycloak.jni.CimdEngine;

import org.jboss.logging.Logger;
import org.keycloak.common.util.MultivaluedHashMap;
import org.keycloak.component.ComponentModel;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;

/**
 * One engine per component configuration: the engine of a {@code cimd} component is created on first use,
 * replaced (and the old one freed) when the component's settings change, freed when the component is removed,
 * and all are freed when the provider factory closes (server shutdown). Engines are keyed by component id, and a
 * cached engine is reused only while the configuration it was built from is unchanged.
 */
public final class EngineRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EngineRegistry.class);

    /** An engine with the settings it was built from (compared on every lookup: a map comparison, no JSON). */
    private record Entry(MultivaluedHashMap<String, String> settings, String configJson, CimdEngine engine,
                         AutoCloseable attached) {
        /** Detaches what was attached to the engine (its meters), then frees the engine. */
        void close() {
            try {
                attached.close();
            } catch (Exception e) {
                LOG.warnf("cimd: detaching from engine failed: %s", e.toString());
            }
            engine.close();
        }
    }

    private final Map<String, Entry> engines = new ConcurrentHashMap<>();
    /** Called once per engine created (e.g. to register its meters); what it returns is closed before the engine. */
    private final BiFunction<ComponentModel, CimdEngine, AutoCloseable> onCreate;

    public EngineRegistry() {
        this((model, engine) -> () -> { });
    }

    public EngineRegistry(BiFunction<ComponentModel, CimdEngine, AutoCloseable> onCreate) {
        this.onCreate = onCreate;
    }

    /** The engine for this component's current configuration. */
    public CimdEngine engineFor(ComponentModel model) {
        Entry current = engines.get(model.getId());
        if (current != null && current.settings().equals(model.getConfig())) {
            return current.engine();
        }
        MultivaluedHashMap<String, String> settings = new MultivaluedHashMap<>(model.getConfig());
        String json = CimdConfig.toEngineJson(model);
        Entry created = engines.compute(model.getId(), (id, existing) -> {
            if (existing != null && existing.configJson().equals(json)) {
                return new Entry(settings, json, existing.engine(), existing.attached());
            }
            if (existing != null) {
                existing.close();
            }
            if (CimdConfig.allowsLoopback(model)) {
                LOG.warnf("cimd component %s has allow_loopback on: a development setting, never for production",
                        model.getName());
            }
            LOG.infof("cimd: engine %s started for component %s (%s)", CimdEngine.nativeVersion(), model.getName(), id);
            CimdEngine engine = CimdEngine.create(json);
            AutoCloseable attached;
            try {
                attached = onCreate.apply(model, engine);
            } catch (RuntimeException | LinkageError e) {
                LOG.warnf("cimd: component %s runs without meters: %s", model.getName(), e.toString());
                attached = () -> { };
            }
            return new Entry(settings, json, engine, attached);
        });
        return created.engine();
    }

    /** The running engine of a component, if it has one. */
    public CimdEngine existing(String componentId) {
        Entry e = engines.get(componentId);
        return e == null ? null : e.engine();
    }

    /** Frees the engine of a removed component. */
    public void remove(String componentId) {
        Entry e = engines.remove(componentId);
        if (e != null) {
            e.close();
        }
    }

    @Override
    public void close() {
        engines.values().forEach(Entry::close);
        engines.clear();
    }
}
