package dev.cimd.keycloak.token;

import dev.cimd.keycloak.config.AllowedResources;

import org.jboss.logging.Logger;
import org.keycloak.common.Profile;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.protocol.oidc.token.TokenPostProcessor;
import org.keycloak.protocol.oidc.token.TokenPostProcessorFactory;

/**
 * Factory of {@link CimdAudiencePostProcessor} ({@value #PROVIDER_ID}), a provider of Keycloak's internal
 * {@code token-interceptor} SPI. It runs after Keycloak's own token post-processors (they run highest
 * {@link #order()} first; theirs are 0), so the audience it sets is the one signed.
 */
public final class CimdAudiencePostProcessorFactory implements TokenPostProcessorFactory {
    public static final String PROVIDER_ID = "cimd-audience";
    private static final Logger LOG = Logger.getLogger(CimdAudiencePostProcessorFactory.class);

    @Override
    public TokenPostProcessor create(KeycloakSession session) {
        return new CimdAudiencePostProcessor(session);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public int order() {
        return -100;
    }

    /** Keycloak's experimental resource-indicators feature works on the same parameter: said once at startup. */
    @Override
    public void postInit(KeycloakSessionFactory factory) {
        if (Profile.isFeatureEnabled(Profile.Feature.RESOURCE_INDICATORS)) {
            LOG.warnf("cimd: Keycloak's resource-indicators feature is enabled; for URL clients it refuses or fails"
                    + " token requests that name a resource (it accepts only realm clients' resource_url), so do not"
                    + " combine it with the cimd component's %s (docs/keycloak.md)", AllowedResources.KEY);
        }
    }
}
