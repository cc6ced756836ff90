package dev.cimd.keycloak.jni;

/**
 * The engine refused a client_id (or its keys). {@link #code()} is the stable cimd error code (docs/contract.md §7,
 * e.g. {@code blocked_address}), {@link #description()} the sentence naming the broken rule, {@link #oauthError()}
 * the OAuth error the server should answer with.
 */
public final class CimdException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String code;
    private final String description;
    private final String oauthError;
    private final boolean transientFailure;

    public CimdException(String code, String description, String oauthError, boolean transientFailure) {
        super(code + ": " + description);
        this.code = code;
        this.description = description;
        this.oauthError = oauthError;
        this.transientFailure = transientFailure;
    }

    public String code() {
        return code;
    }

    public String description() {
        return description;
    }

    public String oauthError() {
        return oauthError;
    }

    /** True for failures that say nothing about the client and may pass (network trouble, rate limits). */
    public boolean isTransient() {
        return transientFailure;
    }
}
