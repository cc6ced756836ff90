package dev.cimd.keycloak.clientpolicy.executor;

import dev.cimd.keycloak.jni.CimdException;

import org.junit.jupiter.api.Test;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

class CimdLoginEventsTest {
    /** An event builder that returns itself from every step, as Keycloak's does. */
    static EventBuilder builder() {
        EventBuilder b = mock(EventBuilder.class);
        when(b.event(EventType.LOGIN_ERROR)).thenReturn(b);
        when(b.client(anyString())).thenReturn(b);
        when(b.detail(anyString(), anyString())).thenReturn(b);
        return b;
    }

    @Test
    void a_refusal_is_a_login_error_with_the_client_the_code_and_the_rule() {
        EventBuilder b = builder();
        CimdException e = new CimdException("blocked_address",
                "host evil.example resolves to 10.0.0.5, a special-use address (SSRF-01)", "invalid_client", false);
        CimdLoginEvents.describe(b, "https://evil.example/c.json", "https://evil.example/cb", e);
        verify(b).event(EventType.LOGIN_ERROR);
        verify(b).client("https://evil.example/c.json");
        verify(b).detail("reason", "cimd_refused");
        verify(b).detail("cimd_error", "blocked_address");
        verify(b).detail("cimd_rule", "SSRF-01");
        verify(b).detail("redirect_uri", "https://evil.example/cb");
    }

    @Test
    void no_rule_detail_when_the_sentence_names_none() {
        EventBuilder b = builder();
        CimdLoginEvents.describe(b, "https://c.example/a.json", null,
                new CimdException("timeout", "the fetch took too long", "invalid_client", true));
        verify(b, never()).detail(org.mockito.ArgumentMatchers.eq("cimd_rule"), anyString());
        verify(b, never()).detail(org.mockito.ArgumentMatchers.eq("redirect_uri"), anyString());
    }

    @Test
    void rule_ids_are_read_as_the_engine_writes_them() {
        assertEquals("URL-01", CimdLoginEvents.ruleOf("use https (URL-01)"));
        assertEquals("RED-02", CimdLoginEvents.ruleOf("RED-02: no match; see also DOC-06"));
        assertEquals("AUTH-10", CimdLoginEvents.ruleOf("private members in jwks (draft -03 §4.1; AUTH-10)"));
        assertNull(CimdLoginEvents.ruleOf("XURL-011 and url-01 are not ids"));
        assertNull(CimdLoginEvents.ruleOf(null));
    }
}
