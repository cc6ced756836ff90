package dev.cimd.keycloak.shared;

import org.junit.jupiter.api.Test;
import org.keycloak.models.KeycloakContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.ThemeManager;
import org.keycloak.theme.Theme;

import java.util.Locale;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** Page texts come from theme messages in the request's locale, with the jar's English texts as the fallback. */
class CimdMessagesTest {
    @Test
    void withoutAThemeTheEnglishTextsAreUsed() {
        assertEquals("cimd blocked_address: host h resolves to 10.0.0.5",
                CimdMessages.format(null, CimdMessages.CLIENT_REFUSED, "blocked_address", "host h resolves to 10.0.0.5"));
        assertEquals("Claude Code (claude.ai)",
                CimdMessages.format(mock(KeycloakSession.class), CimdMessages.CLIENT_NAME_WITH_HOST, "Claude Code", "claude.ai"));
        assertEquals("Client ID Metadata Document at https://a.example/c.json",
                CimdMessages.format(null, CimdMessages.CLIENT_DESCRIPTION, "https://a.example/c.json"));
        // Arguments are values, never patterns: braces and quotes in them stay as they are.
        assertEquals("it's {0} (h)", CimdMessages.format(null, CimdMessages.CLIENT_NAME_WITH_HOST, "it's {0}", "h"));
    }

    @Test
    void aThemeTranslatesThem() throws Exception {
        KeycloakSession session = mock(KeycloakSession.class);
        KeycloakContext context = mock(KeycloakContext.class);
        RealmModel realm = mock(RealmModel.class);
        ThemeManager themes = mock(ThemeManager.class);
        Theme theme = mock(Theme.class);
        Properties german = new Properties();
        german.setProperty(CimdMessages.CLIENT_NAME_WITH_HOST, "{0} (Adresse {1})");
        when(session.getContext()).thenReturn(context);
        when(context.getRealm()).thenReturn(realm);
        when(context.resolveLocale(null)).thenReturn(Locale.GERMAN);
        when(session.theme()).thenReturn(themes);
        when(themes.getTheme(Theme.Type.LOGIN)).thenReturn(theme);
        when(theme.getEnhancedMessages(any(), any())).thenReturn(german);
        assertEquals("Claude Code (Adresse claude.ai)",
                CimdMessages.format(session, CimdMessages.CLIENT_NAME_WITH_HOST, "Claude Code", "claude.ai"));
        // A key the theme lacks falls back to English.
        assertEquals("cimd x: y", CimdMessages.format(session, CimdMessages.CLIENT_REFUSED, "x", "y"));
    }
}
