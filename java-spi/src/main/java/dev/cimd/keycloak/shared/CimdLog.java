package dev.cimd.keycloak.shared;

import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.ClientDocument;
import dev.cimd.keycloak.jni.Resolution;

import org.jboss.logging.Logger;

/**
 * What operators see in the server log: INFO when a client is seen for the first time and when its metadata
 * changes (with the changed fields), WARN when a client_id's host resolves to a blocked address or a host is
 * rate limited (both can be attacks or misconfiguration worth a look), DEBUG for other rejections (a stranger's
 * broken document is not the operator's problem).
 */
public final class CimdLog {
    private static final Logger LOG = Logger.getLogger("dev.cimd.keycloak");

    private CimdLog() {
    }

    public static void resolved(String realm, Resolution r) {
        if (!r.newVersion()) {
            return;
        }
        ClientDocument d = r.document();
        if (d.changed().isEmpty()) {
            LOG.infof("cimd: realm %s: first sight of client %s (\"%s\", host %s, auth %s, %d redirect URIs, source %s)",
                    realm, d.clientId(), d.clientName() == null ? "" : d.clientName(), d.displayHostAscii(),
                    d.tokenEndpointAuthMethod(), d.redirectUris().size(), r.source());
        } else {
            LOG.infof("cimd: realm %s: client %s metadata changed: %s (generation %d)", realm, d.clientId(),
                    String.join(", ", d.changed()), d.generation());
        }
    }

    public static void rejected(String realm, String clientId, CimdException e) {
        switch (e.code()) {
            case "blocked_address", "rate_limited", "host_not_allowed" ->
                    LOG.warnf("cimd: realm %s: client %s refused: %s: %s", realm, clientId, e.code(), e.description());
            default -> LOG.debugf("cimd: realm %s: client %s refused: %s: %s", realm, clientId, e.code(),
                    e.description());
        }
    }
}
