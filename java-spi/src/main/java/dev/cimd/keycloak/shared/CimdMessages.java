package dev.cimd.keycloak.shared;

import org.keycloak.models.KeycloakContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.theme.Theme;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.text.MessageFormat;
import java.util.Locale;
import java.util.Properties;

/**
 * The texts the extension shows on Keycloak's pages, from {@code theme-resources/messages/messages_*.properties}
 * (which Keycloak merges into every theme, so that a realm's theme can translate them), in the request's locale.
 * When no theme is at hand (unit tests, a session without a realm) the English texts shipped in the jar are used.
 */
public final class CimdMessages {
    /** The error page of a refused URL client: the cimd code and the engine's sentence. */
    public static final String CLIENT_REFUSED = "cimdClientRefused";
    /** A URL client's name on the login and consent pages: its client_name and its client_id host. */
    public static final String CLIENT_NAME_WITH_HOST = "cimdClientNameWithHost";
    /** A URL client's description: its client_id. */
    public static final String CLIENT_DESCRIPTION = "cimdClientDescription";

    private static final Properties ENGLISH = load();

    private CimdMessages() {
    }

    /** The text of {@code key} with {@code args}, in the locale of {@code session}'s request. */
    public static String format(KeycloakSession session, String key, Object... args) {
        String pattern = null;
        try {
            KeycloakContext context = session == null ? null : session.getContext();
            if (context != null && context.getRealm() != null && session.theme() != null) {
                Locale locale = context.resolveLocale(null);
                Theme theme = session.theme().getTheme(Theme.Type.LOGIN);
                if (theme != null && locale != null) {
                    pattern = theme.getEnhancedMessages(context.getRealm(), locale).getProperty(key);
                }
            }
        } catch (IOException | RuntimeException e) {
            pattern = null;
        }
        if (pattern == null) {
            pattern = ENGLISH.getProperty(key, key);
        }
        return new MessageFormat(pattern, Locale.ROOT).format(args);
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = CimdMessages.class.getResourceAsStream("/theme-resources/messages/messages_en.properties")) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks theme-resources/messages/messages_en.properties");
            }
            p.load(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }
}
