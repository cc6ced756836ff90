package dev.cimd.keycloak.testing;

import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory;

import org.keycloak.component.ComponentModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.storage.StorageId;
import org.keycloak.storage.client.ClientStorageProvider;

import java.util.List;
import java.util.stream.Stream;

import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * A mocked Keycloak session whose realm has one enabled cimd component with the given settings, found through the
 * real {@link CimdClientStorageProviderFactory} (which starts a real engine for it), and the clients a test needs:
 * URL clients of that component and database clients. Close it to free the engine.
 */
public final class CimdRealm implements AutoCloseable {
    public static final String COMPONENT_ID = "comp-1";

    public final CimdClientStorageProviderFactory factory = new CimdClientStorageProviderFactory();
    public final KeycloakSession session = mock(KeycloakSession.class);
    public final RealmModel realm = mock(RealmModel.class);
    public final ComponentModel component = new ComponentModel();

    /** A realm whose cimd component sets {@code key} to {@code values} (no setting when {@code key} is null). */
    public CimdRealm(String key, List<String> values) {
        component.setId(COMPONENT_ID);
        component.setName("cimd");
        component.setProviderId(CimdClientStorageProviderFactory.PROVIDER_ID);
        component.setProviderType(ClientStorageProvider.class.getName());
        component.setParentId("realm-1");
        component.getConfig().putSingle("enabled", "true");
        if (key != null) {
            component.getConfig().put(key, values);
        }
        when(realm.getId()).thenReturn("realm-1");
        when(realm.getName()).thenReturn("r");
        when(realm.getComponent(anyString())).thenAnswer(i -> COMPONENT_ID.equals(i.getArgument(0)) ? component : null);
        when(realm.getComponentsStream("realm-1", ClientStorageProvider.class.getName()))
                .thenAnswer(i -> Stream.of(new ComponentModel(component)));
        KeycloakSessionFactory sessionFactory = mock(KeycloakSessionFactory.class);
        when(sessionFactory.getProviderFactory(ClientStorageProvider.class, CimdClientStorageProviderFactory.PROVIDER_ID))
                .thenReturn(factory);
        when(session.getKeycloakSessionFactory()).thenReturn(sessionFactory);
    }

    /** A URL client served by the component. */
    public ClientModel urlClient(String clientId) {
        return client(clientId, StorageId.keycloakId(component, clientId));
    }

    /** A client of the realm database (its id is a plain UUID-like string), whatever its client_id. */
    public ClientModel databaseClient(String clientId) {
        return client(clientId, "0b5f7b0e-5d35-4b53-9a3c-6b1d2f0e7a11");
    }

    private ClientModel client(String clientId, String id) {
        ClientModel c = mock(ClientModel.class);
        when(c.getClientId()).thenReturn(clientId);
        when(c.getId()).thenReturn(id);
        when(c.getRealm()).thenReturn(realm);
        return c;
    }

    @Override
    public void close() {
        factory.close();
    }
}
