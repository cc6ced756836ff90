package dev.cimd.keycloak.token;

import dev.cimd.keycloak.config.AllowedResources;

import jakarta.ws.rs.core.MultivaluedMap;

import org.keycloak.OAuth2Constants;
import org.keycloak.OAuthErrorException;
import org.keycloak.http.HttpRequest;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.protocol.oidc.token.TokenInterceptorException;
import org.keycloak.protocol.oidc.token.TokenPostProcessor;
import org.keycloak.protocol.oidc.token.TokenPostProcessorContext;
import org.keycloak.representations.RefreshToken;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Sets the audience of a URL client's access token to the resource its grant is for ({@link ResourceGrants}),
 * after Keycloak's protocol mappers and before the tokens are signed, at the code exchange and on refresh. The
 * grant travels in the refresh token ({@value #GRANT_CLAIM}), since Keycloak does not copy other claims from one
 * refresh token to the next and the client session's note is replaced by the client's next login. A refusal is
 * Keycloak's token endpoint error answer: HTTP 400 {@code invalid_target} with the sentence naming the rule.
 *
 * <p>Does nothing for database clients, for realms whose cimd component does not set
 * {@link AllowedResources#KEY}, and for other grant types (URL clients have only these two).
 */
public final class CimdAudiencePostProcessor implements TokenPostProcessor {
    /** The refresh token's claim holding the granted resources (a JSON array of strings). */
    public static final String GRANT_CLAIM = "cimd_resource";

    private final KeycloakSession session;

    public CimdAudiencePostProcessor(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public void process(TokenPostProcessorContext ctx) {
        ClientSessionContext csc = ctx.clientSessionCtx();
        if (csc == null || ctx.accessToken() == null) {
            return;
        }
        // Keycloak names the grant type in the context for a code exchange and an online refresh, but not for the
        // refresh of an offline token (its client session is loaded from the offline store without it): there the
        // refresh token of the request says what this is.
        String grantType = csc.getAttribute(OAuth2Constants.GRANT_TYPE, String.class);
        List<String> granted;
        if (isGrant(grantType, OAuth2Constants.AUTHORIZATION_CODE) && ctx.code() != null) {
            granted = ctx.code().getResource() == null ? List.of() : List.of(ctx.code().getResource());
        } else if (isGrant(grantType, OAuth2Constants.REFRESH_TOKEN) && ctx.requestRefreshToken() != null) {
            granted = grantOf(ctx.requestRefreshToken());
        } else {
            return;
        }
        AuthenticatedClientSessionModel clientSession = csc.getClientSession();
        Optional<AllowedResources> allowed = ResourceGrants.allowedFor(session,
                clientSession == null ? null : clientSession.getClient());
        if (allowed.isEmpty()) {
            return;
        }
        String requested = requestedResource(csc);
        ResourceGrants.Outcome outcome = ResourceGrants.decide(granted, requested, allowed.get());
        if (outcome.refusal() != null) {
            throw new TokenInterceptorException(OAuthErrorException.INVALID_TARGET, outcome.refusal());
        }
        if (outcome.unchanged()) {
            return;
        }
        ctx.accessToken().audience(outcome.audience().toArray(String[]::new));
        if (ctx.refreshToken() != null) {
            ctx.refreshToken().getOtherClaims().put(GRANT_CLAIM, outcome.grant());
        }
    }

    /**
     * The token request's {@code resource}: from the context where Keycloak put it, else (an offline token's refresh,
     * whose context Keycloak leaves bare) from the request's form.
     */
    private String requestedResource(ClientSessionContext csc) {
        String named = csc.getAttribute(OAuth2Constants.RESOURCE, String.class);
        if (named != null) {
            return named;
        }
        HttpRequest request = session.getContext() == null ? null : session.getContext().getHttpRequest();
        if (request == null || !"POST".equals(request.getHttpMethod())) {
            return null;
        }
        MultivaluedMap<String, String> form = request.getDecodedFormParameters();
        return form == null ? null : form.getFirst(OAuth2Constants.RESOURCE);
    }

    /** The grant type is {@code expected}, or unnamed (an offline token's refresh). */
    private static boolean isGrant(String grantType, String expected) {
        return grantType == null || expected.equals(grantType);
    }

    /** The resources a refresh token's grant is for: its {@value #GRANT_CLAIM} claim, a list or one string. */
    static List<String> grantOf(RefreshToken token) {
        Object claim = token.getOtherClaims().get(GRANT_CLAIM);
        List<String> out = new ArrayList<>();
        if (claim instanceof String s) {
            out.add(s);
        } else if (claim instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof String s) {
                    out.add(s);
                }
            }
        }
        return out;
    }
}
