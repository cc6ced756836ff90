package dev.cimd.keycloak.jni;

/**
 * A successful resolution: the document version, where this answer came from ({@code network}, {@code cache},
 * {@code stale}), until when the document is fresh, and whether this engine sees this version for the first time
 * (a new client, or changed metadata: the moments worth logging).
 */
public record Resolution(ClientDocument document, String source, long expiresAtEpochSeconds, boolean newVersion) {
}
