package dev.cimd.keycloak.storage;

import dev.cimd.keycloak.shared.EngineMeters;
import dev.cimd.keycloak.shared.EngineRegistry;
import dev.cimd.keycloak.shared.UrlClientIds;
import dev.cimd.keycloak.config.AllowedResources;
import dev.cimd.keycloak.config.CimdConfig;
import dev.cimd.keycloak.jni.CimdEngine;

import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.storage.CacheableStorageProviderModel;
import org.keycloak.storage.StorageId;
import org.keycloak.storage.client.ClientStorageProvider;
import org.keycloak.storage.client.ClientStorageProviderFactory;
import org.keycloak.storage.client.ClientStorageProviderModel;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code cimd} client-storage component: a realm that adds it accepts URL client_ids, resolved by the cimd
 * engine. Holds the engines (one per component configuration) for the providers, the client-policy executor and
 * the admin resource, and frees them when Keycloak closes the factory.
 */
public final class CimdClientStorageProviderFactory implements ClientStorageProviderFactory<CimdClientStorageProvider> {
    public static final String PROVIDER_ID = "cimd";

    private final EngineRegistry engines = new EngineRegistry((model, engine) -> EngineMeters.bind(
            io.micrometer.core.instrument.Metrics.globalRegistry, model.getParentId(), model.getName(), engine::stats));
    /** By realm id: its cimd component as last found ({@link #componentOf(RealmModel)}). */
    private final Map<String, Known> found = new ConcurrentHashMap<>();

    @Override
    public CimdClientStorageProvider create(KeycloakSession session, ComponentModel model) {
        return new CimdClientStorageProvider(session, new ClientStorageProviderModel(model), engines.engineFor(model));
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getHelpText() {
        return "Client ID Metadata Documents: accept https URL client_ids whose metadata document the cimd engine"
                + " fetches (SSRF-safe), validates and caches. No client is ever written to the database.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CimdConfig.configProperties();
    }

    /**
     * Checks the settings by building an engine from them (the engine is the one place that knows the rules) and
     * the extension's own settings ({@link AllowedResources}) by reading them, and pins the component's Keycloak cache policy to NO_CACHE: freshness is the engine's job (HTTP caching
     * headers, TTL bounds, stale windows), and Keycloak's realm cache would keep a stale copy of a client.
     */
    @Override
    public void validateConfiguration(KeycloakSession session, RealmModel realm, ComponentModel model)
            throws ComponentValidationException {
        try {
            CimdEngine.create(CimdConfig.toEngineJson(model)).close();
            AllowedResources.of(model);
        } catch (IllegalArgumentException e) {
            throw new ComponentValidationException("cimd: " + e.getMessage());
        }
        model.getConfig().putSingle(CacheableStorageProviderModel.CACHE_POLICY,
                CacheableStorageProviderModel.CachePolicy.NO_CACHE.name());
    }

    @Override
    public void onUpdate(KeycloakSession session, RealmModel realm, ComponentModel oldModel, ComponentModel newModel) {
        // The next lookup builds an engine for the new settings and frees the old one.
        found.remove(realm.getId());
        engines.remove(oldModel.getId());
    }

    @Override
    public void preRemove(KeycloakSession session, RealmModel realm, ComponentModel model) {
        found.remove(realm.getId());
        engines.remove(model.getId());
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
        found.clear();
        engines.close();
    }

    /**
     * The engine of the realm's enabled cimd component, if the realm has one; remembered for the rest of the
     * session (one HTTP request), which asks several times (policy executor, discovery, admin resource).
     */
    public Optional<Component> componentOf(KeycloakSession session, RealmModel realm) {
        String key = "cimd.component." + realm.getId();
        Object known = session.getAttribute(key);
        if (known instanceof Component c) {
            return Optional.of(c);
        }
        Optional<Component> found = componentOf(realm);
        found.ifPresent(c -> session.setAttribute(key, c));
        return found;
    }

    /**
     * The engine of the realm's enabled cimd component, if the realm has one. Remembered per realm with the
     * component model it was found from: while Keycloak's realm cache hands out that same model object (it builds
     * new ones whenever the realm or the component changes), and the engine built for it is still the registered
     * one, the answer stands; otherwise the realm's components are searched again. The search copies the realm's
     * whole component map (Keycloak's cached realm does that on every call), too much to pay on every
     * authorization request.
     */
    public Optional<Component> componentOf(RealmModel realm) {
        Known known = found.get(realm.getId());
        if (known != null) {
            ComponentModel current = realm.getComponent(known.component().model().getId());
            if (current == known.source() && engines.existing(current.getId()) == known.component().engine()) {
                return Optional.of(known.component());
            }
        }
        Optional<ComponentModel> source = realm.getComponentsStream(realm.getId(), ClientStorageProvider.class.getName())
                .filter(c -> PROVIDER_ID.equals(c.getProviderId()))
                .filter(c -> new ClientStorageProviderModel(c).isEnabled())
                .findFirst();
        if (source.isEmpty()) {
            found.remove(realm.getId());
            return Optional.empty();
        }
        ClientStorageProviderModel model = new ClientStorageProviderModel(source.get());
        Component component = new Component(model, engines.engineFor(model));
        // The realm cache keeps the search's models and those by id in two collections, as distinct objects: the
        // one compared on the next request is the one by id.
        ComponentModel byId = realm.getComponent(model.getId());
        if (byId != null) {
            found.put(realm.getId(), new Known(byId, component));
        }
        return Optional.of(component);
    }

    /**
     * The realm's cimd component, if {@code client} is a URL client that component serves; empty for database
     * clients (even one whose client_id is a URL) and for clients of other storage providers.
     */
    public static Optional<Component> serving(KeycloakSession session, ClientModel client) {
        if (client == null || !UrlClientIds.isCandidate(client.getClientId()) || client.getId() == null
                || StorageId.isLocalStorage(client.getId())) {
            return Optional.empty();
        }
        CimdClientStorageProviderFactory factory = of(session);
        RealmModel realm = client.getRealm();
        if (factory == null || realm == null) {
            return Optional.empty();
        }
        String provider = StorageId.providerId(client.getId());
        return factory.componentOf(session, realm).filter(c -> c.model().getId().equals(provider));
    }

    /** A realm's component as found, and the model object of the realm cache it was found from. */
    private record Known(ComponentModel source, Component component) {
    }

    /** The factory registered with Keycloak, for the policy executor, discovery and the admin resource. */
    public static CimdClientStorageProviderFactory of(KeycloakSession session) {
        KeycloakSessionFactory factory = session.getKeycloakSessionFactory();
        return factory == null ? null
                : (CimdClientStorageProviderFactory) factory.getProviderFactory(ClientStorageProvider.class, PROVIDER_ID);
    }

    /** A realm's cimd component and its engine. */
    public record Component(ClientStorageProviderModel model, CimdEngine engine) {
    }
}
