package dev.cimd.keycloak.shared;

import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ConfiguredProvider;
import org.keycloak.provider.Provider;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderFactory;

import java.util.List;
import java.util.function.Function;

/**
 * A provider factory that the admin console lists with a help text and settings: it states them once, with how
 * a provider is made, as an {@link About}, and what Keycloak asks the factory is read from it.
 */
public interface ConfiguredFactory<T extends Provider> extends ProviderFactory<T>, ConfiguredProvider {

    /** The provider id, the help text the admin console shows, the settings it offers, and the constructor. */
    record About<T>(String id, String helpText, List<ProviderConfigProperty> properties,
                    Function<KeycloakSession, T> maker) {
        public About {
            properties = List.copyOf(properties);
        }
    }

    About<T> about();

    @Override
    default T create(KeycloakSession session) {
        return about().maker().apply(session);
    }

    @Override
    default String getId() {
        return about().id();
    }

    @Override
    default String getHelpText() {
        return about().helpText();
    }

    @Override
    default List<ProviderConfigProperty> getConfigProperties() {
        return about().properties();
    }
}
