package dev.cimd.keycloak.token;

import dev.cimd.keycloak.config.AllowedResources;
import dev.cimd.keycloak.storage.CimdClientStorageProviderFactory;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;

import java.util.List;
import java.util.Optional;

/**
 * The rules that bind a URL client's tokens to the resource (RFC 8707) it asked for, where the realm's cimd
 * component sets {@link AllowedResources}: one place for the authorization endpoint (the client policy) and the
 * token endpoint ({@link CimdAudiencePostProcessor}).
 *
 * <ul>
 *   <li>authorization request: a named resource must be allowed;</li>
 *   <li>code exchange: the grant is the resource of the authorization request; the token request may repeat it,
 *       never name another;</li>
 *   <li>refresh: the grant is the one the refresh token carries; the request may narrow the audience to one of
 *       the granted resources, never name another;</li>
 *   <li>the access token's audience is the granted resources (or the one the request narrowed to), and nothing
 *       else; the new refresh token carries the whole grant again, so a narrowed refresh never shrinks it;</li>
 *   <li>a granted resource the operator no longer allows is refused;</li>
 *   <li>no resource anywhere: nothing changes (Keycloak's own audience, as without the setting).</li>
 * </ul>
 */
public final class ResourceGrants {
    private ResourceGrants() {
    }

    /** What the token endpoint does: leave the token alone, set its audience, or refuse with invalid_target. */
    public record Outcome(List<String> audience, List<String> grant, String refusal) {
        static final Outcome UNCHANGED = new Outcome(null, List.of(), null);

        static Outcome refused(String why) {
            return new Outcome(null, List.of(), why);
        }

        public boolean unchanged() {
            return audience == null && refusal == null;
        }
    }

    /**
     * The token endpoint's decision.
     *
     * @param granted   the resources granted so far: the authorization request's (code exchange) or the refresh
     *                  token's (refresh); empty when none was
     * @param requested the token request's {@code resource}, or null
     * @param allowed   the component's setting, not empty
     */
    public static Outcome decide(List<String> granted, String requested, AllowedResources allowed) {
        if (granted.isEmpty()) {
            return requested == null ? Outcome.UNCHANGED : Outcome.refused(notGranted(requested, granted));
        }
        for (String g : granted) {
            if (!allowed.allows(g)) {
                return Outcome.refused(notAllowed(g));
            }
        }
        if (requested == null) {
            return new Outcome(granted, granted, null);
        }
        if (!granted.contains(requested)) {
            return Outcome.refused(notGranted(requested, granted));
        }
        return new Outcome(List.of(requested), granted, null);
    }

    /**
     * Why an authorization request's {@code resource} is refused, or null when it is not: no resource, not a URL
     * client of the realm's cimd component, no {@link AllowedResources} set, or an allowed resource.
     */
    public static String refusalAtAuthorization(KeycloakSession session, ClientModel client, String resource) {
        if (resource == null) {
            return null;
        }
        Optional<AllowedResources> allowed = allowedFor(session, client);
        return allowed.isEmpty() || allowed.get().allows(resource) ? null : notAllowed(resource);
    }

    /** The setting that applies to {@code client}: present only for a URL client of a component that sets it. */
    public static Optional<AllowedResources> allowedFor(KeycloakSession session, ClientModel client) {
        return CimdClientStorageProviderFactory.serving(session, client)
                .map(c -> AllowedResources.inEffect(c.model()))
                .filter(a -> !a.isEmpty());
    }

    static String notAllowed(String resource) {
        return "resource \"" + resource + "\" is not among the resources this realm allows for URL clients ("
                + AllowedResources.KEY + ")";
    }

    static String notGranted(String resource, List<String> granted) {
        return "resource \"" + resource + "\" was not granted: "
                + (granted.isEmpty() ? "the authorization request named no resource"
                : "the grant is for " + String.join(", ", granted))
                + "; a token request can only keep or narrow the audience of its grant";
    }
}
