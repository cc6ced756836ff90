package dev.cimd.keycloak.shared;

import dev.cimd.keycloak.jni.CimdException;
import dev.cimd.keycloak.jni.Resolution;

import org.keycloak.models.KeycloakSession;

import java.util.HashMap;
import java.util.Map;

/**
 * What one cimd component's engine answered during the current HTTP request (a Keycloak session is one request),
 * so that the client-policy condition, the executor, the client lookup and the redirect URI check ask the engine
 * once between them instead of once each. It lives only as long as the request: the next request asks the engine
 * again, and the engine's cache is where freshness is decided.
 *
 * <p>Answers are kept per component (its engine) and per exact string: a verdict on a redirect URI is reused only
 * for the same client_id and the byte-identical redirect URI.
 */
public final class RequestAnswers {
    private static final Object ACCEPTED = new Object();

    private final Map<String, Resolution> resolutions = new HashMap<>();
    private final Map<Question, Object> verdicts = new HashMap<>();

    private RequestAnswers() {
    }

    /** The answers of component {@code componentId}'s engine in this request. */
    public static RequestAnswers of(KeycloakSession session, String componentId) {
        String key = "cimd.answers." + componentId;
        Object known = session.getAttribute(key);
        if (known instanceof RequestAnswers a) {
            return a;
        }
        RequestAnswers created = new RequestAnswers();
        session.setAttribute(key, created);
        return created;
    }

    /** The resolution of {@code clientId} the engine gave earlier in this request, or null. */
    public Resolution resolution(String clientId) {
        return resolutions.get(clientId);
    }

    /**
     * Records that the engine accepted {@code clientId} with {@code redirectUri} (null: no redirect URI was
     * checked), and the resolution it gave.
     */
    public void accepted(String clientId, String redirectUri, Resolution r) {
        resolutions.put(clientId, r);
        verdicts.put(new Question(clientId, redirectUri), ACCEPTED);
    }

    /**
     * Records that the engine refused {@code clientId} with {@code redirectUri} (null: none was checked). Worth
     * remembering for the rest of the request: the engine never caches a failure, so asking again would fetch again.
     */
    public void refused(String clientId, String redirectUri, CimdException e) {
        verdicts.put(new Question(clientId, redirectUri), e);
    }

    /**
     * The engine's verdict on {@code clientId} with {@code redirectUri} (null: none checked) given earlier in this
     * request: null when it was not asked, else {@link Verdict#allowed()} or the engine's refusal.
     */
    public Verdict verdict(String clientId, String redirectUri) {
        Object v = verdicts.get(new Question(clientId, redirectUri));
        if (v == null) {
            return null;
        }
        return new Verdict(v instanceof CimdException e ? e : null);
    }

    /** One question put to the engine: a client_id and the redirect URI checked with it (or null). */
    private record Question(String clientId, String redirectUri) {
    }

    /** A verdict: allowed, or refused with the engine's error. */
    public record Verdict(CimdException refusal) {
        public boolean allowed() {
            return refusal == null;
        }
    }
}
