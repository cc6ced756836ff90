package dev.cimd.keycloak.storage;

import dev.cimd.keycloak.shared.RequestAnswers;
import dev.cimd.keycloak.jni.CimdEngine;
import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.Documents;
import dev.cimd.keycloak.jni.Resolution;

import jakarta.ws.rs.core.MultivaluedHashMap;
import jakarta.ws.rs.core.UriInfo;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.keycloak.component.ComponentModel;
import org.keycloak.http.HttpRequest;
import org.keycloak.models.ClientProvider;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.storage.client.ClientStorageProviderModel;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

/** The read-only client Keycloak sees for a resolved document. */
class CimdClientAdapterTest {
    static final String WEB = "https://app.example.com/clients/web.json";
    static final String CLAUDE = "https://app.example.com/clients/claude.json";

    KeycloakSession session;
    RealmModel realm;
    KeycloakContext context;
    CimdEngine engine;
    ClientStorageProviderModel component;
    MultivaluedHashMap<String, String> query;

    @BeforeEach
    void setUp() {
        session = mock(KeycloakSession.class);
        // Session attributes behave as in Keycloak: one map for the request.
        Map<String, Object> attributes = new HashMap<>();
        when(session.getAttribute(anyString())).thenAnswer(i -> attributes.get(i.<String>getArgument(0)));
        doAnswer(i -> attributes.put(i.getArgument(0), i.getArgument(1))).when(session).setAttribute(anyString(), any());
        realm = mock(RealmModel.class);
        context = mock(KeycloakContext.class);
        engine = mock(CimdEngine.class);
        when(session.getContext()).thenReturn(context);
        when(realm.getName()).thenReturn("r");
        ComponentModel model = new ComponentModel();
        model.setId("comp-1");
        model.setProviderId("cimd");
        component = new ClientStorageProviderModel(model);
        query = new MultivaluedHashMap<>();
        HttpRequest request = mock(HttpRequest.class);
        UriInfo uri = mock(UriInfo.class);
        when(uri.getQueryParameters()).thenReturn(query);
        when(request.getUri()).thenReturn(uri);
        when(request.getHttpMethod()).thenReturn("GET");
        when(context.getHttpRequest()).thenReturn(request);
    }

    static Resolution web(String extra) {
        return Documents.resolution("{\"client_id\":\"" + WEB + "\",\"client_name\":\"Web ${realm}\","
                + "\"logo_uri\":\"https://app.example.com/logo.png\",\"tos_uri\":\"https://app.example.com/tos\","
                + "\"redirect_uris\":[\"https://app.example.com/cb\",\"https://app.example.com/*\"],"
                + "\"grant_types\":[\"authorization_code\",\"refresh_token\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"none\""
                + extra + ",\"display_host\":{\"ascii\":\"app.example.com\",\"unicode\":\"app.example.com\"}}");
    }

    CimdClientAdapter adapter(Resolution r) {
        return new CimdClientAdapter(session, realm, component, engine, r);
    }

    @Test
    void aPublicClientWithTheRulesOfIssue4() {
        CimdClientAdapter c = adapter(web(""));
        assertEquals(WEB, c.getClientId());
        assertEquals("f:comp-1:" + WEB, c.getId());
        assertEquals("openid-connect", c.getProtocol());
        assertTrue(c.isPublicClient());
        assertTrue(c.isConsentRequired());
        assertTrue(c.isStandardFlowEnabled());
        assertFalse(c.isImplicitFlowEnabled());
        assertFalse(c.isDirectAccessGrantsEnabled());
        assertFalse(c.isServiceAccountsEnabled());
        assertFalse(c.isFullScopeAllowed());
        assertFalse(c.isBearerOnly());
        assertEquals("S256", c.getAttribute("pkce.code.challenge.method"));
        assertEquals("true", c.getAttribute("use.refresh.tokens"));
        assertEquals("https://app.example.com/logo.png", c.getAttributes().get("logoUri"));
        assertEquals("https://app.example.com/tos", c.getAttributes().get("tosUri"));
        assertNull(c.getSecret());
        assertFalse(c.validateSecret("anything"));
    }

    @Test
    void theConsentNameShowsTheHostAndCannotInjectThemeExpressions() {
        CimdClientAdapter c = adapter(web(""));
        assertEquals("Web $ {realm} (app.example.com)", c.getName());
    }

    @Test
    void withoutARequestTheDocumentsUrisMinusAnythingKeycloakWouldReadAsAWildcard() {
        query.clear();
        assertEquals(Set.of("https://app.example.com/cb"), adapter(web("")).getRedirectUris());
    }

    @Test
    void theEngineDecidesTheRequestsRedirectUri() throws Exception {
        Resolution claude = Documents.resolution("{\"client_id\":\"" + CLAUDE + "\",\"redirect_uris\":"
                + "[\"http://localhost/callback\"],\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"none\",\"display_host\":{\"ascii\":\"app.example.com\"}}");
        query.putSingle("client_id", CLAUDE);
        query.putSingle("redirect_uri", "http://localhost:58135/callback");
        when(engine.resolve(CLAUDE, "http://localhost:58135/callback", null)).thenReturn(claude);
        assertEquals(Set.of("http://localhost:58135/callback"), adapter(claude).getRedirectUris());

        query.putSingle("redirect_uri", "https://evil.example/cb");
        when(engine.resolve(CLAUDE, "https://evil.example/cb", null)).thenThrow(
                new CimdException("redirect_uri_mismatch", "not registered", "invalid_request", false));
        assertEquals(Set.of(), adapter(claude).getRedirectUris());
    }

    @Test
    void privateKeyJwtUsesTheKeysTheEngineFetched() throws Exception {
        Resolution pk = Documents.resolution("{\"client_id\":\"" + WEB + "\",\"redirect_uris\":[\"https://app.example.com/cb\"],"
                + "\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"private_key_jwt\",\"jwks_uri\":\"https://keys.example.com/jwks\","
                + "\"display_host\":{\"ascii\":\"app.example.com\"}}");
        when(engine.resolveJwks(WEB, null)).thenReturn("{\"keys\":[]}");
        CimdClientAdapter c = adapter(pk);
        assertFalse(c.isPublicClient());
        assertEquals("client-jwt", c.getClientAuthenticatorType());
        assertEquals("true", c.getAttribute("use.jwks.string"));
        assertEquals("false", c.getAttribute("use.jwks.url"));
        assertEquals("false", c.getAttribute("use.refresh.tokens"));
        assertFalse(c.getAttributes().containsKey("jwks.string"), "keys are never fetched to render a page");
        verify(engine, never()).resolveJwks(any(), any());
        assertEquals("{\"keys\":[]}", c.getAttribute("jwks.string"));
    }

    @Test
    void theClientIsReadOnly() {
        CimdClientAdapter c = adapter(web(""));
        assertThrows(RuntimeException.class, () -> c.setName("x"));
        assertThrows(RuntimeException.class, () -> c.addRedirectUri("https://evil.example/*"));
    }

    @Test
    void nonUrlClientIdsNeverReachTheEngine() {
        CimdClientStorageProvider p = new CimdClientStorageProvider(session, component, engine);
        assertNull(p.getClientByClientId(realm, "my-confidential-app"));
        assertNull(p.getClientByClientId(realm, "urn:example:app"));
        assertNull(p.getClientById(realm, "f:other-component:" + WEB));
        assertNull(p.getClientById(realm, "8c9a0c1e-local-uuid"));
        verifyNoInteractions(engine);
    }

    /** The one pre-filter (UrlClientIds): a URL-shaped client_id goes to the engine, which applies the rules. */
    @Test
    void urlShapedClientIdsAreTheEnginesToRefuse() throws Exception {
        String http = "http://app.example.com/c.json";
        when(engine.resolve(eq(http), eq(null), eq(null))).thenThrow(
                new CimdException("invalid_client_id_url", "client_id URL must use the https scheme (URL-01)",
                        "invalid_client", false));
        CimdClientStorageProvider p = new CimdClientStorageProvider(session, component, engine);
        assertNull(p.getClientByClientId(realm, http));
        assertNull(p.getClientByClientId(realm, http), "the refusal is remembered for the request");
        verify(engine, times(1)).resolve(eq(http), eq(null), eq(null));
    }

    @Test
    void aRequestResolvesEachClientOnce() throws Exception {
        when(engine.resolve(eq(WEB), eq(null), eq(null))).thenReturn(web(""));
        CimdClientStorageProvider p = new CimdClientStorageProvider(session, component, engine);
        assertEquals(WEB, p.getClientByClientId(realm, WEB).getClientId());
        assertEquals(WEB, p.getClientById(realm, "f:comp-1:" + WEB).getClientId());
        verify(engine).resolve(WEB, null, null);
    }

    @Test
    void aRejectedClientIsNotFound() throws Exception {
        when(engine.resolve(eq(WEB), eq(null), eq(null))).thenThrow(
                new CimdException("blocked_address", "host resolves to 10.0.0.5", "invalid_client", false));
        assertNull(new CimdClientStorageProvider(session, component, engine).getClientByClientId(realm, WEB));
    }

    static Resolution claude() {
        return Documents.resolution("{\"client_id\":\"" + CLAUDE + "\",\"redirect_uris\":"
                + "[\"http://localhost/callback\"],\"grant_types\":[\"authorization_code\"],\"response_types\":[\"code\"],"
                + "\"token_endpoint_auth_method\":\"none\",\"display_host\":{\"ascii\":\"app.example.com\"}}");
    }

    @Test
    void theClientPolicysAnswersServeTheLookupAndTheRedirectCheckOfTheSameRequest() throws Exception {
        Resolution claude = claude();
        // What the client-policy condition recorded when it asked the engine at the start of the request.
        RequestAnswers answers = RequestAnswers.of(session, "comp-1");
        answers.accepted(CLAUDE, "http://localhost:58135/callback", claude);
        answers.refused(CLAUDE, "https://evil.example/cb",
                new CimdException("redirect_uri_mismatch", "not registered", "invalid_request", false));

        CimdClientStorageProvider p = new CimdClientStorageProvider(session, component, engine);
        CimdClientAdapter c = (CimdClientAdapter) p.getClientByClientId(realm, CLAUDE);
        assertEquals(claude, c.resolution());
        query.putSingle("client_id", CLAUDE);
        query.putSingle("redirect_uri", "http://localhost:58135/callback");
        assertEquals(Set.of("http://localhost:58135/callback"), c.getRedirectUris());
        query.putSingle("redirect_uri", "https://evil.example/cb");
        assertEquals(Set.of(), adapter(claude).getRedirectUris());
        verifyNoInteractions(engine);

        // A redirect URI the policy did not ask about goes to the engine, byte for byte.
        query.putSingle("redirect_uri", "http://localhost:58135/callback/");
        when(engine.resolve(CLAUDE, "http://localhost:58135/callback/", null)).thenThrow(
                new CimdException("redirect_uri_mismatch", "not registered", "invalid_request", false));
        assertEquals(Set.of(), c.getRedirectUris());
        verify(engine).resolve(CLAUDE, "http://localhost:58135/callback/", null);
    }

    @Test
    void answersBelongToOneComponentAndOneRequest() throws Exception {
        RequestAnswers.of(session, "comp-2").accepted(CLAUDE, null, claude());
        assertNull(RequestAnswers.of(session, "comp-1").resolution(CLAUDE));
        assertEquals(RequestAnswers.of(session, "comp-2"), RequestAnswers.of(session, "comp-2"));
        KeycloakSession nextRequest = mock(KeycloakSession.class);
        assertNull(RequestAnswers.of(nextRequest, "comp-2").resolution(CLAUDE));

        // Another component's answer is not this component's: its own engine is asked.
        when(engine.resolve(CLAUDE, null, null)).thenReturn(claude());
        new CimdClientStorageProvider(session, component, engine).getClientByClientId(realm, CLAUDE);
        verify(engine).resolve(CLAUDE, null, null);
    }

    @Test
    void aFailedLookupIsRememberedForTheRestOfTheRequest() throws Exception {
        when(engine.resolve(eq(WEB), eq(null), eq(null))).thenThrow(
                new CimdException("http_status", "the host answered 503", "invalid_client", true));
        assertNull(new CimdClientStorageProvider(session, component, engine).getClientByClientId(realm, WEB));
        // A second provider instance of the same request (Keycloak makes one per session, tests make two): the
        // failure is taken, the document is not fetched again.
        assertNull(new CimdClientStorageProvider(session, component, engine).getClientByClientId(realm, WEB));
        verify(engine).resolve(WEB, null, null);
        RequestAnswers.Verdict v = RequestAnswers.of(session, "comp-1").verdict(WEB, null);
        assertFalse(v.allowed());
        assertEquals("http_status", v.refusal().code());
    }

    @Test
    void clientScopesAreComputedOncePerRequest() {
        ClientProvider clients = mock(ClientProvider.class);
        when(session.clients()).thenReturn(clients);
        ClientScopeModel basic = mock(ClientScopeModel.class);
        CimdClientAdapter c = adapter(web(""));
        when(clients.getClientScopes(realm, c, true)).thenReturn(new HashMap<>(Map.of("basic", basic)));
        when(clients.getClientScopes(realm, c, false)).thenReturn(new HashMap<>());
        for (int i = 0; i < 3; i++) {
            assertEquals(Map.of("basic", basic), c.getClientScopes(true));
            assertEquals(Map.of(), c.getClientScopes(false));
        }
        verify(clients).getClientScopes(realm, c, true);
        verify(clients).getClientScopes(realm, c, false);
        assertThrows(UnsupportedOperationException.class, () -> c.getClientScopes(true).clear());
    }
}
