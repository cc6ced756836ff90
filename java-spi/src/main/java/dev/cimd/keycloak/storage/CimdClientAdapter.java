package dev.cimd.keycloak.storage;

import dev.cimd.keycloak.shared.CimdLog;
import dev.cimd.keycloak.shared.CimdMessages;
import dev.cimd.keycloak.shared.RequestAnswers;
import dev.cimd.keycloak.jni.CimdEngine;
import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.ClientDocument;
import dev.cimd.keycloak.jni.Resolution;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;

import org.jboss.logging.Logger;
import org.keycloak.http.HttpRequest;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.protocol.oidc.OIDCLoginProtocol;
import org.keycloak.storage.client.AbstractReadOnlyClientStorageAdapter;
import org.keycloak.storage.client.ClientStorageProviderModel;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A read-only Keycloak client for one resolved document version (docs/contract.md §6 → Keycloak's client model).
 *
 * <ul>
 *   <li>clientId: the exact URL; protocol openid-connect; standard flow (authorization code) only;</li>
 *   <li>public client for {@code none}; JWT client authentication ({@code client-jwt}) for {@code private_key_jwt},
 *       with the keys handed over as a JWKS string that the engine fetched, so Keycloak never fetches a URL the
 *       client chose;</li>
 *   <li>PKCE with S256 required, consent required, full scope off (no realm roles in third-party tokens);</li>
 *   <li>redirect URIs: the engine decides. When the current request carries a redirect_uri for this client, the
 *       client's only redirect URI is that exact string if the engine approved it (byte-exact, or the loopback
 *       any-port exception), and none otherwise. Without one, the document's URIs, minus any containing {@code *}
 *       (Keycloak would read it as a wildcard). No wildcard is ever produced from a document;</li>
 *   <li>name, logo, terms and policy links for the login and consent pages; the consent page names the client_id
 *       host next to the client's self-chosen name.</li>
 * </ul>
 */
public final class CimdClientAdapter extends AbstractReadOnlyClientStorageAdapter {
    private static final Logger LOG = Logger.getLogger(CimdClientAdapter.class);

    /** Keycloak's client attribute names used here. */
    static final String PKCE_METHOD = "pkce.code.challenge.method";
    static final String USE_JWKS_STRING = "use.jwks.string";
    static final String JWKS_STRING = "jwks.string";
    static final String USE_JWKS_URL = "use.jwks.url";
    static final String USE_REFRESH_TOKENS = "use.refresh.tokens";
    static final String POST_LOGOUT_REDIRECT_URIS = "post.logout.redirect.uris";
    static final String CLIENT_JWT = "client-jwt";

    private final CimdEngine engine;
    private final Resolution resolution;
    private final ClientDocument doc;
    private final Map<String, String> attributes;
    /** The last redirect URI put to the engine and its verdict: Keycloak asks several times per request. */
    private String decidedRedirectUri;
    private Set<String> decidedRedirectUris;
    /** The client scopes of this request, once asked for. */
    private Map<String, ClientScopeModel> defaultScopes;
    private Map<String, ClientScopeModel> optionalScopes;

    public CimdClientAdapter(KeycloakSession session, RealmModel realm, ClientStorageProviderModel component,
                             CimdEngine engine, Resolution resolution) {
        super(session, realm, component);
        this.engine = engine;
        this.resolution = resolution;
        this.doc = resolution.document();
        this.attributes = Collections.unmodifiableMap(buildAttributes(doc, resolution));
    }

    private static Map<String, String> buildAttributes(ClientDocument doc, Resolution r) {
        Map<String, String> a = new HashMap<>();
        a.put(PKCE_METHOD, "S256");
        a.put(USE_JWKS_URL, "false");
        if (!doc.isPublicClient()) {
            a.put(USE_JWKS_STRING, "true");
        }
        a.put(USE_REFRESH_TOKENS, Boolean.toString(doc.grantTypes().contains("refresh_token")));
        a.put("oauth2.device.authorization.grant.enabled", "false");
        a.put("oidc.ciba.grant.enabled", "false");
        putIfPresent(a, "logoUri", doc.logoUri());
        putIfPresent(a, "tosUri", doc.tosUri());
        putIfPresent(a, "policyUri", doc.policyUri());
        String postLogout = String.join("##", doc.postLogoutRedirectUris().stream().filter(u -> !u.contains("*"))
                .toList());
        putIfPresent(a, POST_LOGOUT_REDIRECT_URIS, postLogout.isEmpty() ? null : postLogout);
        a.put("cimd.display_host", doc.displayHostAscii());
        a.put("cimd.source", r.source());
        a.put("cimd.fetched_at", doc.fetchedAt());
        a.put("cimd.generation", Long.toString(doc.generation()));
        return a;
    }

    private static void putIfPresent(Map<String, String> a, String key, String value) {
        if (value != null && !value.isEmpty()) {
            a.put(key, value);
        }
    }

    /** The resolution this client was built from. */
    public Resolution resolution() {
        return resolution;
    }

    @Override
    public String getClientId() {
        return doc.clientId();
    }

    /**
     * The client's own name followed by the client_id host, e.g. "Claude Code (claude.ai)": the name is chosen by
     * whoever publishes the document, the host is what the user can verify. IDNs show the ASCII (punycode) form
     * next to the Unicode one, so look-alike characters cannot hide the real host. Theme expressions
     * ({@code ${...}}) are neutralised, because Keycloak's templates resolve them as message keys.
     */
    @Override
    public String getName() {
        String host = doc.displayHostUnicode().equals(doc.displayHostAscii()) ? doc.displayHostAscii()
                : doc.displayHostUnicode() + " / " + doc.displayHostAscii();
        String name = doc.clientName();
        if (name == null || name.isBlank()) {
            return host;
        }
        return CimdMessages.format(session, CimdMessages.CLIENT_NAME_WITH_HOST, name.replace("${", "$ {"), host);
    }

    @Override
    public String getDescription() {
        return CimdMessages.format(session, CimdMessages.CLIENT_DESCRIPTION, doc.clientId());
    }

    @Override
    public String getType() {
        return null;
    }

    @Override
    public boolean isEnabled() {
        return true;
    }

    @Override
    public boolean isAlwaysDisplayInConsole() {
        return false;
    }

    @Override
    public Set<String> getWebOrigins() {
        // "+" lets Keycloak derive CORS origins from the redirect URIs below, and from nothing else.
        return Set.of("+");
    }

    @Override
    public Set<String> getRedirectUris() {
        String requested = requestedRedirectUri();
        if (requested != null) {
            if (!requested.equals(decidedRedirectUri)) {
                decidedRedirectUri = requested;
                decidedRedirectUris = engineDecision(requested);
            }
            return decidedRedirectUris;
        }
        Set<String> out = new LinkedHashSet<>();
        for (String uri : doc.redirectUris()) {
            if (!uri.contains("*")) {
                out.add(uri);
            }
        }
        return out;
    }

    /**
     * The engine's verdict on a redirect URI: the URI itself if approved, nothing otherwise. Usually the client
     * policy asked the engine this same question earlier in the request; then its answer is taken.
     */
    private Set<String> engineDecision(String requested) {
        RequestAnswers answers = RequestAnswers.of(session, component.getId());
        RequestAnswers.Verdict earlier = answers.verdict(doc.clientId(), requested);
        if (earlier != null) {
            return earlier.allowed() ? Set.of(requested) : Set.of();
        }
        try {
            answers.accepted(doc.clientId(), requested, engine.resolve(doc.clientId(), requested, null));
            return Set.of(requested);
        } catch (CimdException e) {
            LOG.debugf("cimd: redirect_uri %s refused for %s: %s", requested, doc.clientId(), e.description());
            answers.refused(doc.clientId(), requested, e);
            return Set.of();
        } catch (IllegalStateException e) {
            return Set.of();
        }
    }

    /** The redirect_uri of the current HTTP request, when that request is about this client. */
    private String requestedRedirectUri() {
        HttpRequest request = session.getContext() == null ? null : session.getContext().getHttpRequest();
        if (request == null) {
            return null;
        }
        MultivaluedMap<String, String> query = request.getUri() == null ? null : request.getUri().getQueryParameters();
        String uri = forThisClient(query);
        if (uri == null && "POST".equals(request.getHttpMethod())) {
            MediaType type = request.getHttpHeaders() == null ? null : request.getHttpHeaders().getMediaType();
            if (type != null && MediaType.APPLICATION_FORM_URLENCODED_TYPE.isCompatible(type)) {
                uri = forThisClient(request.getDecodedFormParameters());
            }
        }
        return uri;
    }

    private String forThisClient(MultivaluedMap<String, String> params) {
        if (params == null) {
            return null;
        }
        String redirect = params.getFirst(OIDCLoginProtocol.REDIRECT_URI_PARAM);
        String clientId = params.getFirst(OIDCLoginProtocol.CLIENT_ID_PARAM);
        return redirect != null && (clientId == null || doc.clientId().equals(clientId)) ? redirect : null;
    }

    @Override
    public String getManagementUrl() {
        return null;
    }

    @Override
    public String getRootUrl() {
        return null;
    }

    @Override
    public String getBaseUrl() {
        return doc.clientUri();
    }

    @Override
    public boolean isBearerOnly() {
        return false;
    }

    @Override
    public int getNodeReRegistrationTimeout() {
        return 0;
    }

    @Override
    public String getClientAuthenticatorType() {
        return doc.isPublicClient() ? "client-secret" : CLIENT_JWT;
    }

    @Override
    public boolean validateSecret(String secret) {
        return false;
    }

    @Override
    public String getSecret() {
        return null;
    }

    @Override
    public String getRegistrationToken() {
        return null;
    }

    @Override
    public String getProtocol() {
        return OIDCLoginProtocol.LOGIN_PROTOCOL;
    }

    /**
     * Attributes, plus {@code jwks.string} on demand: the client's keys are fetched (by the engine) only when
     * Keycloak verifies a client assertion, never to render a login page.
     */
    @Override
    public String getAttribute(String name) {
        if (JWKS_STRING.equals(name) && !doc.isPublicClient()) {
            try {
                return engine.resolveJwks(doc.clientId(), null);
            } catch (CimdException e) {
                CimdLog.rejected(realm.getName(), doc.clientId(), e);
                return null;
            }
        }
        return attributes.get(name);
    }

    @Override
    public Map<String, String> getAttributes() {
        return attributes;
    }

    @Override
    public String getAuthenticationFlowBindingOverride(String binding) {
        return null;
    }

    @Override
    public Map<String, String> getAuthenticationFlowBindingOverrides() {
        return Collections.emptyMap();
    }

    @Override
    public boolean isFrontchannelLogout() {
        return false;
    }

    @Override
    public boolean isFullScopeAllowed() {
        return false;
    }

    @Override
    public boolean isPublicClient() {
        return doc.isPublicClient();
    }

    @Override
    public boolean isConsentRequired() {
        return true;
    }

    @Override
    public boolean isStandardFlowEnabled() {
        return doc.grantTypes().contains("authorization_code");
    }

    @Override
    public boolean isImplicitFlowEnabled() {
        return false;
    }

    @Override
    public boolean isDirectAccessGrantsEnabled() {
        return false;
    }

    @Override
    public boolean isServiceAccountsEnabled() {
        return false;
    }

    /**
     * The realm's default or optional OpenID Connect scopes (see {@link CimdClientStorageProvider#getClientScopes}),
     * computed once per request and kind: Keycloak asks several times while checking the requested scope.
     */
    @Override
    public Map<String, ClientScopeModel> getClientScopes(boolean defaultScope) {
        Map<String, ClientScopeModel> known = defaultScope ? defaultScopes : optionalScopes;
        if (known == null) {
            Map<String, ClientScopeModel> scopes = session.clients().getClientScopes(getRealm(), this, defaultScope);
            known = scopes == null ? Map.of() : Collections.unmodifiableMap(scopes);
            if (defaultScope) {
                defaultScopes = known;
            } else {
                optionalScopes = known;
            }
        }
        return known;
    }

    @Override
    public int getNotBefore() {
        return 0;
    }

    @Override
    public Stream<ProtocolMapperModel> getProtocolMappersStream() {
        return Stream.empty();
    }

    @Override
    public ProtocolMapperModel getProtocolMapperById(String id) {
        return null;
    }

    @Override
    public ProtocolMapperModel getProtocolMapperByName(String protocol, String name) {
        return null;
    }

    @Override
    public Stream<RoleModel> getScopeMappingsStream() {
        return Stream.empty();
    }

    @Override
    public Stream<RoleModel> getRealmScopeMappingsStream() {
        return Stream.empty();
    }

    @Override
    public boolean hasScope(RoleModel role) {
        return false;
    }
}
