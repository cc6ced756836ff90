package dev.cimd.keycloak.admin;

import dev.cimd.keycloak.shared.StatelessFactory;

import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProvider;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

/** Mounts {@link CimdAdminResource} at {@code /admin/realms/{realm}/cimd}. */
public final class CimdAdminResourceProviderFactory
        implements AdminRealmResourceProviderFactory, AdminRealmResourceProvider, StatelessFactory<AdminRealmResourceProvider> {
    public static final String PROVIDER_ID = "cimd";

    @Override
    public AdminRealmResourceProvider create(KeycloakSession session) {
        return this;
    }

    @Override
    public Object getResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth,
                              AdminEventBuilder adminEvent) {
        return new CimdAdminResource(session, realm, auth, adminEvent == null ? null : adminEvent.clone(session));
    }

    /** Both a factory and its own provider: one no-op for both lifecycles. */
    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }
}
