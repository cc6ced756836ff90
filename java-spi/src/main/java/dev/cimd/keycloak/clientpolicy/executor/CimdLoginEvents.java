package dev.cimd.keycloak.clientpolicy.executor;

import dev.cimd.keycloak.jni.CimdException;

import org.keycloak.events.Details;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The login event of a refused URL client: a {@code LOGIN_ERROR} (Keycloak's own type, so that event listeners,
 * the event store and SIEM exports see it) with the client_id, the OAuth error, and the details
 * {@code reason=cimd_refused}, {@code cimd_error} (the code of docs/contract.md §7), {@code cimd_rule} (the rule
 * id the engine's sentence names, when it names one) and {@code redirect_uri}.
 *
 * <p>Keycloak records its own {@code LOGIN_ERROR} for the same request too (reason {@code client_policy_error},
 * without a client_id: the client policy runs before the client is looked up, and that event is not reachable
 * from a policy); this one is the one that says which client and why.
 */
final class CimdLoginEvents {
    static final String REASON = "cimd_refused";
    /** A rule id as the engine writes it (src/rules.rs {@code rule_of}): two to five capitals, a dash, two digits. */
    private static final Pattern RULE = Pattern.compile("(?<![A-Za-z0-9])[A-Z]{2,5}-[0-9]{2}[a-z]?(?![A-Za-z0-9])");

    private CimdLoginEvents() {
    }

    /** Records the refusal; never throws (an event store failure must not change the answer). */
    static void refused(KeycloakSession session, String clientId, String redirectUri, CimdException e) {
        try {
            KeycloakContext context = session.getContext();
            RealmModel realm = context == null ? null : context.getRealm();
            if (realm == null) {
                return;
            }
            describe(new EventBuilder(realm, session, context.getConnection()), clientId, redirectUri, e)
                    .error(e.oauthError());
        } catch (RuntimeException ex) {
            org.jboss.logging.Logger.getLogger(CimdLoginEvents.class)
                    .debugf("cimd: the login event of a refusal was not recorded: %s", ex.toString());
        }
    }

    /** The event's type, client and details (everything but the error, which sends it). */
    static EventBuilder describe(EventBuilder event, String clientId, String redirectUri, CimdException e) {
        EventBuilder b = event.event(EventType.LOGIN_ERROR)
                .client(clientId)
                .detail(Details.REASON, REASON)
                .detail("cimd_error", e.code());
        String rule = ruleOf(e.description());
        if (rule != null) {
            b = b.detail("cimd_rule", rule);
        }
        if (redirectUri != null) {
            b = b.detail(Details.REDIRECT_URI, redirectUri);
        }
        return b;
    }

    /** The first rule id in an engine sentence, or null. */
    static String ruleOf(String description) {
        if (description == null) {
            return null;
        }
        Matcher m = RULE.matcher(description);
        return m.find() ? m.group() : null;
    }
}
