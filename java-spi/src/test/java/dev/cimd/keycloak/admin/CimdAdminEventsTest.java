package dev.cimd.keycloak.admin;

import org.junit.jupiter.api.Test;
import org.keycloak.events.admin.OperationType;
import org.keycloak.services.resources.admin.AdminEventBuilder;

import java.util.Map;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.RETURNS_SELF;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

class CimdAdminEventsTest {
    @Test
    void invalidate_is_an_action_on_a_cimd_client_with_its_details() {
        AdminEventBuilder b = mock(AdminEventBuilder.class, RETURNS_SELF);
        Object answer = Map.of("invalidated", true);
        CimdAdminEvents.record(b, "invalidate", "https://c.example/a.json", Map.of("invalidated", "true"), answer);
        verify(b).operation(OperationType.ACTION);
        verify(b).resource("CIMD_CLIENT");
        verify(b).resourcePath("cimd", "invalidate");
        verify(b).detail("cimd_action", "invalidate");
        verify(b).detail("client_id", "https://c.example/a.json");
        verify(b).detail("invalidated", "true");
        verify(b).representation(answer);
        verify(b).success();
    }

    @Test
    void a_failed_refresh_is_recorded_with_its_code() {
        AdminEventBuilder b = mock(AdminEventBuilder.class, RETURNS_SELF);
        CimdAdminEvents.record(b, "refresh", "https://c.example/a.json", Map.of("cimd_error", "http_status"), null);
        verify(b).detail("cimd_error", "http_status");
        verify(b, org.mockito.Mockito.never()).representation(any());
        verify(b).success();
    }

    @Test
    void no_builder_no_event() {
        CimdAdminEvents.record(null, "refresh", "x", Map.of(), null);
    }
}
