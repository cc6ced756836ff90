package dev.cimd.keycloak.storage;

import dev.cimd.keycloak.admin.CimdAdminResource;
import dev.cimd.keycloak.cluster.CimdCluster;
import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.shared.EngineMeters;
import dev.cimd.keycloak.shared.EngineRegistry;
import dev.cimd.keycloak.shared.UrlClientIds;
import dev.cimd.keycloak.config.AllowedResources;
import dev.cimd.keycloak.config.CimdConfig;
import dev.cimd.keycloak.jni.CimdEngine;

import org.jboss.logging.Logger;
import org.keycloak.component.ComponentModel;
import org.keycloak.component.ComponentValidationException;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.models.utils.PostMigrationEvent;
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
    private static final Logger LOG = Logger.getLogger(CimdClientStorageProviderFactory.class);

    private final EngineRegistry engines = new EngineRegistry((model, engine) -> EngineMeters.bind(
            io.micrometer.core.instrument.Metrics.globalRegistry, model.getParentId(), model.getName(), engine::stats));
    /** Cluster-wide operator requests (the admin resource); set by postInit. */
    private volatile CimdCluster cluster;
    /** By realm id: its cimd components as last found ({@link #componentsOf(RealmModel)}). */
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
    public void onCreate(KeycloakSession session, RealmModel realm, ComponentModel model) {
        // The realm's next lookup finds the new component too.
        found.remove(realm.getId());
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
        CimdCluster c = new CimdCluster(factory, CimdAdminResource::carryOut);
        cluster = c;
        // The listener goes on Keycloak's cluster provider once the server has started (PostMigrationEvent): here,
        // during postInit, that provider may not be buildable yet (its JGroups discovery reads the database, whose
        // factory may not be initialised: seen as an NPE on one node of two).
        factory.register(event -> {
            if (event instanceof PostMigrationEvent) {
                try {
                    KeycloakModelUtils.runJobInTransaction(factory, c::register);
                } catch (RuntimeException e) {
                    LOG.warnf(e, "cimd: operator requests act on this node only (no cluster listener)");
                }
            }
        });
    }

    /** The cluster-wide operator requests of this server (null before postInit). */
    public CimdCluster cluster() {
        return cluster;
    }

    @Override
    public void close() {
        found.clear();
        engines.close();
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * The realm's first enabled cimd component ({@link #componentsOf(KeycloakSession, RealmModel)}), if it has one:
     * the one whose discovery metadata the realm advertises.
     */
    public Optional<Component> componentOf(KeycloakSession session, RealmModel realm) {
        return componentsOf(session, realm).stream().findFirst();
    }

    /** {@link #componentsOf(RealmModel)}, remembered for the rest of the session (one HTTP request). */
    @SuppressWarnings("unchecked")
    public List<Component> componentsOf(KeycloakSession session, RealmModel realm) {
        String key = "cimd.components." + realm.getId();
        Object known = session.getAttribute(key);
        if (known instanceof List<?> list) {
            return (List<Component>) list;
        }
        List<Component> found = componentsOf(realm);
        session.setAttribute(key, found);
        return found;
    }

    /** The realm's first enabled cimd component, if it has one ({@link #componentsOf(RealmModel)}). */
    public Optional<Component> componentOf(RealmModel realm) {
        return componentsOf(realm).stream().findFirst();
    }

    /**
     * The realm's enabled cimd components, in the order Keycloak's client storage asks them for a client_id
     * (priority, then the realm's order): a URL client is served by the first whose engine accepts it. Remembered
     * per realm with the component models they were found from: while Keycloak's realm cache hands out those same
     * model objects (it builds new ones whenever the realm or a component changes), and the engines built for them
     * are still the registered ones, the answer stands; otherwise the realm's components are searched again. The
     * search copies the realm's whole component map (Keycloak's cached realm does that on every call), too much to
     * pay on every authorization request.
     */
    public List<Component> componentsOf(RealmModel realm) {
        Known known = found.get(realm.getId());
        if (known != null && known.stillCurrent(realm, engines)) {
            return known.components();
        }
        List<ClientStorageProviderModel> models = realm.getComponentsStream(realm.getId(), ClientStorageProvider.class.getName())
                .filter(c -> PROVIDER_ID.equals(c.getProviderId()))
                .map(ClientStorageProviderModel::new)
                .sorted(ClientStorageProviderModel.comparator)
                .filter(ClientStorageProviderModel::isEnabled)
                .toList();
        if (models.isEmpty()) {
            found.remove(realm.getId());
            return List.of();
        }
        List<Component> components = models.stream().map(m -> new Component(m, engines.engineFor(m))).toList();
        // The realm cache keeps the search's models and those by id in two collections, as distinct objects: the
        // ones compared on the next request are those by id.
        List<ComponentModel> byId = components.stream().map(c -> realm.getComponent(c.model().getId())).toList();
        if (byId.stream().allMatch(java.util.Objects::nonNull)) {
            found.put(realm.getId(), new Known(byId, components));
        }
        return components;
    }

    /** The realm's enabled cimd component named by {@code idOrName}: its id, or its name when no id matches. */
    public Optional<Component> component(KeycloakSession session, RealmModel realm, String idOrName) {
        List<Component> all = componentsOf(session, realm);
        return all.stream().filter(c -> c.model().getId().equals(idOrName)).findFirst()
                .or(() -> all.stream().filter(c -> idOrName.equals(c.model().getName())).findFirst());
    }

    /**
     * Which of two refusals of one client_id by a realm's components (taken in lookup order) to show: the first,
     * unless it is only a host policy's (allowed_hosts, denied_hosts, the address rules) and the later one is not:
     * the refusal shown is that of the first component whose policy let the host through, if any. {@code shown}
     * may be null (no refusal yet).
     */
    public static CimdException shown(CimdException shown, CimdException next) {
        return shown == null || (isHostPolicy(shown) && !isHostPolicy(next)) ? next : shown;
    }

    private static boolean isHostPolicy(CimdException e) {
        return "host_not_allowed".equals(e.code()) || "blocked_address".equals(e.code());
    }

    /**
     * The realm's cimd component that serves {@code client}, if it is a URL client of one; empty for database
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
        return factory.componentsOf(session, realm).stream().filter(c -> c.model().getId().equals(provider)).findFirst();
    }

    /** A realm's components as found, and the model objects of the realm cache they were found from. */
    private record Known(List<ComponentModel> sources, List<Component> components) {
        boolean stillCurrent(RealmModel realm, EngineRegistry engines) {
            for (int i = 0; i < sources.size(); i++) {
                ComponentModel current = realm.getComponent(sources.get(i).getId());
                if (current != sources.get(i) || engines.existing(current.getId()) != components.get(i).engine()) {
                    return false;
                }
            }
            return true;
        }
    }

    /** The factory registered with Keycloak, for the policy executor, discovery and the admin resource. */
    public static CimdClientStorageProviderFactory of(KeycloakSession session) {
        KeycloakSessionFactory factory = session.getKeycloakSessionFactory();
        return factory == null ? null
                : (CimdClientStorageProviderFactory) factory.getProviderFactory(ClientStorageProvider.class, PROVIDER_ID);
    }

    /** A realm's cimd component and its engine. */
    public record Component(ClientStorageProviderModel model, CimdEngine engine) {
        /** "name (id)", for messages. */
        public String label() {
            return model.getName() + " (" + model.getId() + ")";
        }
    }
}
