package dev.cimd.keycloak.shared;

/**
 * The one cheap test, shared by every provider, that decides whether a client_id goes to the cimd engine at all:
 * URL-shaped, {@code scheme://...} with the scheme in ASCII letters, digits, {@code + - .}. Ordinary client_ids
 * never reach the engine; a URL-shaped one always does, even with a scheme the engine refuses, so that an
 * {@code http://} client_id gets the engine's precise {@code invalid_client_id_url} rather than "Client not
 * found". Every rule about the URL itself is the engine's.
 */
public final class UrlClientIds {
    private UrlClientIds() {
    }

    /** True when {@code clientId} is URL-shaped (a plain loop: it is asked on every request). */
    public static boolean isCandidate(String clientId) {
        if (clientId == null) {
            return false;
        }
        int sep = clientId.indexOf("://");
        if (sep <= 0) {
            return false;
        }
        for (int i = 0; i < sep; i++) {
            char c = clientId.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '+' || c == '-' || c == '.';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
