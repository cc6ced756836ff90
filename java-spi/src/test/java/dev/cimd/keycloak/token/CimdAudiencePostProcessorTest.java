package dev.cimd.keycloak.token;

import dev.cimd.keycloak.config.AllowedResources;
import dev.cimd.keycloak.testing.CimdRealm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.MultivaluedMap;

import org.keycloak.OAuth2Constants;
import org.keycloak.OAuthErrorException;
import org.keycloak.http.HttpRequest;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.protocol.oidc.token.TokenInterceptorException;
import org.keycloak.protocol.oidc.token.TokenPostProcessorContext;
import org.keycloak.protocol.oidc.utils.OAuth2Code;
import org.keycloak.representations.AccessToken;
import org.keycloak.representations.RefreshToken;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * The token endpoint's side: a URL client's access token gets the audience of its grant at the code exchange and
 * on refresh, the refresh token carries the grant on, and a token request naming a resource outside it is
 * refused with invalid_target. Keycloak's own objects, a mocked session, the real component lookup and engine.
 */
class CimdAudiencePostProcessorTest {
    static final String MCP = "http://127.0.0.1:18080/mcp";
    static final String PREFIX = "https://mcp.example.com/servers/";
    static final String WEB = "https://app.example.com/clients/web.json";
    static final String[] MAPPED = {"account"};

    CimdRealm realm = new CimdRealm(AllowedResources.KEY, List.of(MCP, PREFIX));

    @AfterEach
    void tearDown() {
        realm.close();
    }

    /** A token response being built, as Keycloak hands it to the post-processors. */
    record Issued(TokenPostProcessorContext ctx, AccessToken access, RefreshToken refresh) {
    }

    static Issued issue(ClientModel client, String grantType, String codeResource, RefreshToken presented,
                        String requested) {
        AuthenticatedClientSessionModel clientSession = mock(AuthenticatedClientSessionModel.class);
        when(clientSession.getClient()).thenReturn(client);
        ClientSessionContext csc = mock(ClientSessionContext.class);
        when(csc.getClientSession()).thenReturn(clientSession);
        when(csc.getAttribute(OAuth2Constants.GRANT_TYPE, String.class)).thenReturn(grantType);
        when(csc.getAttribute(OAuth2Constants.RESOURCE, String.class)).thenReturn(requested);
        OAuth2Code code = null;
        if (OAuth2Constants.AUTHORIZATION_CODE.equals(grantType)) {
            code = mock(OAuth2Code.class);
            when(code.getResource()).thenReturn(codeResource);
        }
        AccessToken access = new AccessToken();
        access.audience(MAPPED);
        RefreshToken refresh = new RefreshToken(access, null, "Refresh");
        return new Issued(new TokenPostProcessorContext(code, presented, refresh, access, csc), access, refresh);
    }

    Issued run(ClientModel client, String grantType, String codeResource, RefreshToken presented, String requested) {
        Issued i = issue(client, grantType, codeResource, presented, requested);
        new CimdAudiencePostProcessor(realm.session).process(i.ctx());
        return i;
    }

    @Test
    void theAuthorizedResourceIsTheAudienceAndTheRefreshTokenCarriesIt() {
        Issued code = run(realm.urlClient(WEB), OAuth2Constants.AUTHORIZATION_CODE, MCP, null, null);
        assertArrayEquals(new String[] {MCP}, code.access().getAudience(), "exactly the resource");
        assertEquals(List.of(MCP), code.refresh().getOtherClaims().get(CimdAudiencePostProcessor.GRANT_CLAIM));

        // Refresh with the refresh token just issued: the same audience, the grant carried on.
        Issued refreshed = run(realm.urlClient(WEB), OAuth2Constants.REFRESH_TOKEN, null, code.refresh(), null);
        assertArrayEquals(new String[] {MCP}, refreshed.access().getAudience());
        assertEquals(List.of(MCP), CimdAudiencePostProcessor.grantOf(refreshed.refresh()));

        // Naming the granted resource keeps it; naming another is refused.
        Issued same = run(realm.urlClient(WEB), OAuth2Constants.REFRESH_TOKEN, null, refreshed.refresh(), MCP);
        assertArrayEquals(new String[] {MCP}, same.access().getAudience());
        TokenInterceptorException e = assertThrows(TokenInterceptorException.class,
                () -> run(realm.urlClient(WEB), OAuth2Constants.REFRESH_TOKEN, null, refreshed.refresh(),
                        PREFIX + "weather"));
        assertEquals(OAuthErrorException.INVALID_TARGET, e.getError());
        assertTrue(e.getDescription().contains("was not granted"), e.getDescription());
    }

    @Test
    void anOfflineTokensRefreshKeepsTheAudienceThoughKeycloakNamesNoGrantType() {
        // Keycloak 26.7.3 leaves the grant type out of the context when it refreshes an offline token (found by the
        // MCP suite: the Python and Go SDKs ask for offline_access, and their refreshed tokens lost the audience).
        Issued code = run(realm.urlClient(WEB), OAuth2Constants.AUTHORIZATION_CODE, MCP, null, null);
        Issued refreshed = run(realm.urlClient(WEB), null, null, code.refresh(), null);
        assertArrayEquals(new String[] {MCP}, refreshed.access().getAudience());
        assertEquals(List.of(MCP), CimdAudiencePostProcessor.grantOf(refreshed.refresh()));
        assertEquals(OAuthErrorException.INVALID_TARGET, assertThrows(TokenInterceptorException.class,
                () -> run(realm.urlClient(WEB), null, null, code.refresh(), PREFIX + "weather")).getError());

        // Nor does Keycloak put the request's resource in that context: the form of the token request says it.
        KeycloakContext context = mock(KeycloakContext.class);
        HttpRequest request = mock(HttpRequest.class);
        MultivaluedMap<String, String> form = new MultivaluedHashMap<>();
        form.putSingle(OAuth2Constants.RESOURCE, PREFIX + "weather");
        when(realm.session.getContext()).thenReturn(context);
        when(context.getHttpRequest()).thenReturn(request);
        when(request.getHttpMethod()).thenReturn("POST");
        when(request.getDecodedFormParameters()).thenReturn(form);
        assertEquals(OAuthErrorException.INVALID_TARGET, assertThrows(TokenInterceptorException.class,
                () -> run(realm.urlClient(WEB), null, null, code.refresh(), null)).getError());
        form.putSingle(OAuth2Constants.RESOURCE, MCP);
        assertArrayEquals(new String[] {MCP}, run(realm.urlClient(WEB), null, null, code.refresh(), null)
                .access().getAudience());
    }

    @Test
    void theCodeExchangeCannotSwapOrAddAResource() {
        assertEquals(OAuthErrorException.INVALID_TARGET, assertThrows(TokenInterceptorException.class,
                () -> run(realm.urlClient(WEB), OAuth2Constants.AUTHORIZATION_CODE, MCP, null, PREFIX + "x"))
                .getError());
        assertEquals(OAuthErrorException.INVALID_TARGET, assertThrows(TokenInterceptorException.class,
                () -> run(realm.urlClient(WEB), OAuth2Constants.AUTHORIZATION_CODE, null, null, MCP)).getError());
        // An authorization request that escaped the client policy (a realm without it) is caught here.
        assertEquals(OAuthErrorException.INVALID_TARGET, assertThrows(TokenInterceptorException.class,
                () -> run(realm.urlClient(WEB), OAuth2Constants.AUTHORIZATION_CODE, "https://evil.example/", null,
                        null)).getError());
    }

    @Test
    void refreshTokensFromBeforeTheSettingOrWithoutAResourceKeepKeycloaksAudience() {
        RefreshToken old = new RefreshToken(new AccessToken(), null, "Refresh");
        Issued i = run(realm.urlClient(WEB), OAuth2Constants.REFRESH_TOKEN, null, old, null);
        assertArrayEquals(MAPPED, i.access().getAudience());
        assertFalse(i.refresh().getOtherClaims().containsKey(CimdAudiencePostProcessor.GRANT_CLAIM));
        Issued code = run(realm.urlClient(WEB), OAuth2Constants.AUTHORIZATION_CODE, null, null, null);
        assertArrayEquals(MAPPED, code.access().getAudience());
    }

    @Test
    void databaseClientsAndOtherGrantTypesAreLeftAlone() {
        for (ClientModel c : List.of(realm.databaseClient("db-client"),
                realm.databaseClient("https://app.example.net/clients/dbclient.json"))) {
            Issued i = run(c, OAuth2Constants.AUTHORIZATION_CODE, "https://anything.example/", null, "https://x.example/");
            assertArrayEquals(MAPPED, i.access().getAudience(), c.getClientId());
        }
        Issued other = run(realm.urlClient(WEB), OAuth2Constants.CLIENT_CREDENTIALS, null, null, "https://x.example/");
        assertArrayEquals(MAPPED, other.access().getAudience());
    }

    @Test
    void withoutTheSettingNothingChanges() {
        try (CimdRealm plain = new CimdRealm(null, null)) {
            Issued i = issue(plain.urlClient(WEB), OAuth2Constants.AUTHORIZATION_CODE, MCP, null, "https://x.example/");
            new CimdAudiencePostProcessor(plain.session).process(i.ctx());
            assertArrayEquals(MAPPED, i.access().getAudience());
            assertFalse(i.refresh().getOtherClaims().containsKey(CimdAudiencePostProcessor.GRANT_CLAIM));
        }
    }

    @Test
    void theGrantClaimIsReadAsAListOrOneString() {
        RefreshToken t = new RefreshToken(new AccessToken(), null, "Refresh");
        assertEquals(List.of(), CimdAudiencePostProcessor.grantOf(t));
        t.getOtherClaims().put(CimdAudiencePostProcessor.GRANT_CLAIM, MCP);
        assertEquals(List.of(MCP), CimdAudiencePostProcessor.grantOf(t));
        t.getOtherClaims().put(CimdAudiencePostProcessor.GRANT_CLAIM, List.of(MCP, 7, PREFIX));
        assertEquals(List.of(MCP, PREFIX), CimdAudiencePostProcessor.grantOf(t));
    }
}
