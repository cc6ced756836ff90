package dev.cimd.keycloak.discovery;

import dev.cimd.keycloak.shared.StatelessFactory;

import org.keycloak.models.KeycloakSession;
import org.keycloak.wellknown.WellKnownProvider;
import org.keycloak.wellknown.WellKnownProviderFactory;

/**
 * Takes over a well-known alias from Keycloak's own provider (a lower priority number wins) and decorates its
 * document; Keycloak's provider, with its configuration overrides, still builds everything else.
 */
abstract class CimdWellKnownProviderFactory implements WellKnownProviderFactory, StatelessFactory<WellKnownProvider> {
    /** Below Keycloak's 100, so this decorator is chosen; above the default 1 of operators' own overrides. */
    static final int PRIORITY = 50;

    private final String alias;

    CimdWellKnownProviderFactory(String alias) {
        this.alias = alias;
    }

    @Override
    public WellKnownProvider create(KeycloakSession session) {
        WellKnownProvider keycloakDefault = session.getProvider(WellKnownProvider.class, alias);
        return new CimdWellKnownProvider(session, keycloakDefault);
    }

    @Override
    public String getId() {
        return "cimd-" + alias;
    }

    @Override
    public String getAlias() {
        return alias;
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }

    /** {@code /.well-known/openid-configuration} (OpenID Connect Discovery). */
    public static final class OpenIdConfiguration extends CimdWellKnownProviderFactory {
        public OpenIdConfiguration() {
            super("openid-configuration");
        }
    }

    /** {@code /.well-known/oauth-authorization-server} (RFC 8414), also at the server-metadata path form. */
    public static final class OAuthAuthorizationServer extends CimdWellKnownProviderFactory {
        public OAuthAuthorizationServer() {
            super("oauth-authorization-server");
        }

        @Override
        public boolean isAvailableViaServerMetadata() {
            return true;
        }
    }
}
