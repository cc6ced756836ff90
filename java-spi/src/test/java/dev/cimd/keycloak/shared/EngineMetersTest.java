package dev.cimd.keycloak.shared;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineMetersTest {
    private static final String STATS = """
            {"hits": 7, "misses": 3, "fetches": 4, "not_modified": 1, "coalesced_waits": 2, "stale_served": 1,
             "background_refreshes": 0, "evictions": 0, "invalidations": 1, "entries": 2, "cache_bytes": 4096,
             "failures": {"blocked_address": 2, "some_future_code": 1},
             "resolutions": {"network": 2, "cache": 7, "stale": 1, "failed": 3},
             "fetch_results": {"document": 2, "not_modified": 1, "error": 1},
             "fetch_duration_ms": {"le": [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
                                   "counts": [1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], "count": 4, "sum_us": 2500000}}
            """;

    private static JsonNode stats() {
        try {
            return new ObjectMapper().readTree(STATS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void meters_read_the_engines_figures_with_bounded_labels() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicInteger reads = new AtomicInteger();
        EngineMeters m = EngineMeters.bind(registry, "realm-id", "cimd", () -> {
            reads.incrementAndGet();
            return stats();
        });
        assertEquals(2.0, counter(registry, "cimd.resolutions", "source", "network"));
        assertEquals(7.0, counter(registry, "cimd.resolutions", "source", "cache"));
        assertEquals(3.0, counter(registry, "cimd.resolutions", "outcome", "error"));
        assertEquals(1.0, counter(registry, "cimd.fetches", "result", "error"));
        assertEquals(2.0, counter(registry, "cimd.failures", "code", "blocked_address"));
        assertEquals(0.0, counter(registry, "cimd.failures", "code", "timeout"), "every code has a series, zero at first");
        assertEquals(1.0, counter(registry, "cimd.failures", "code", "other"), "an unknown code is counted, not named");
        assertEquals(2.0, counter(registry, "cimd.coalesced.waits", null, null));
        assertEquals(1.0, counter(registry, "cimd.stale.served", null, null));
        assertEquals(4096.0, registry.get("cimd.cache.bytes").gauge().value());
        assertEquals(2.0, registry.get("cimd.cache.entries").gauge().value());
        assertEquals(4.0, registry.get("cimd.fetch.duration.seconds.count").gauge().value());
        assertEquals(2.5, registry.get("cimd.fetch.duration.seconds.sum").gauge().value(), 1e-9);
        assertEquals(2.0, registry.get("cimd.fetch.duration.seconds.bucket").tag("le", "0.005").gauge().value());
        assertEquals(4.0, registry.get("cimd.fetch.duration.seconds.bucket").tag("le", "+Inf").gauge().value());
        assertEquals(1, reads.get(), "one snapshot serves every meter of a scrape");

        Set<String> values = new LinkedHashSet<>();
        for (Meter meter : registry.getMeters()) {
            for (Tag tag : meter.getId().getTags()) {
                values.add(tag.getKey() + "=" + tag.getValue());
            }
        }
        for (String v : values) {
            assertFalse(v.contains("/") || v.contains(":") || v.contains(" "), "label value " + v);
        }

        m.close();
        assertTrue(registry.getMeters().isEmpty(), "closing removes every meter of the engine");
        m.close();
    }

    @Test
    void a_replaced_engine_is_read_through_a_composite_registry_not_the_old_one() {
        SimpleMeterRegistry prometheusLike = new SimpleMeterRegistry();
        CompositeMeterRegistry global = new CompositeMeterRegistry();
        global.add(prometheusLike);
        EngineMeters old = EngineMeters.bind(global, "realm-id", "cimd", EngineMetersTest::stats);
        assertEquals(7.0, prometheusLike.get("cimd.cache.hits").functionCounter().count());
        old.close();
        assertTrue(prometheusLike.getMeters().isEmpty(), "the child registry's meters go with the composite's");
        EngineMeters fresh = EngineMeters.bind(global, "realm-id", "cimd", () -> {
            ObjectNode s = (ObjectNode) stats();
            s.put("hits", 1);
            return s;
        });
        assertEquals(1.0, prometheusLike.get("cimd.cache.hits").functionCounter().count());
        fresh.close();
        assertTrue(prometheusLike.getMeters().isEmpty());
    }

    @Test
    void two_engines_scrape_as_prometheus_text_in_the_histogram_layout() {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        prometheus.throwExceptionOnRegistrationFailure();
        CompositeMeterRegistry global = new CompositeMeterRegistry();
        global.add(prometheus);
        EngineMeters a = EngineMeters.bind(global, "realm-a", "cimd", EngineMetersTest::stats);
        EngineMeters b = EngineMeters.bind(global, "realm-b", "cimd", EngineMetersTest::stats);
        String text = prometheus.scrape();
        for (String line : List.of(
                "cimd_resolutions_total{component=\"cimd\",outcome=\"ok\",realm=\"realm-a\",source=\"cache\",} 7.0",
                "cimd_failures_total{code=\"blocked_address\",component=\"cimd\",realm=\"realm-b\",} 2.0",
                "cimd_fetches_total{component=\"cimd\",realm=\"realm-a\",result=\"not_modified\",} 1.0",
                "cimd_fetch_duration_seconds_bucket{component=\"cimd\",le=\"0.005\",realm=\"realm-a\",} 2.0",
                "cimd_fetch_duration_seconds_bucket{component=\"cimd\",le=\"+Inf\",realm=\"realm-a\",} 4.0",
                "cimd_fetch_duration_seconds_count{component=\"cimd\",realm=\"realm-a\",} 4.0",
                "cimd_fetch_duration_seconds_sum{component=\"cimd\",realm=\"realm-a\",} 2.5",
                "cimd_cache_bytes{component=\"cimd\",realm=\"realm-b\",} 4096.0",
                "cimd_coalesced_waits_total{component=\"cimd\",realm=\"realm-b\",} 2.0")) {
            assertTrue(text.contains(line), line + " not in:\n" + text);
        }
        a.close();
        assertFalse(prometheus.scrape().contains("realm=\"realm-a\""), "a freed engine's series are gone");
        EngineMeters again = EngineMeters.bind(global, "realm-a", "cimd", EngineMetersTest::stats);
        assertTrue(prometheus.scrape().contains("realm=\"realm-a\""));
        again.close();
        b.close();
        assertFalse(prometheus.scrape().contains("cimd_"));
    }

    @Test
    void a_closed_engine_keeps_the_last_figures() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicInteger calls = new AtomicInteger();
        EngineMeters.Snapshot s = new EngineMeters.Snapshot(() -> {
            if (calls.incrementAndGet() > 1) {
                throw new IllegalStateException("the cimd engine is closed");
            }
            return stats();
        });
        assertEquals(7, s.get().path("hits").asInt());
        assertTrue(registry.getMeters().isEmpty());
    }

    @Test
    void the_error_codes_are_the_contracts() throws Exception {
        Path contract = Path.of("..", "docs", "contract.md");
        String text = Files.readString(contract);
        String section = text.substring(text.indexOf("## §7"), text.indexOf("\n## ", text.indexOf("## §7") + 1));
        // The first cell of each row of the table: one code, or several (`dns_error`, `connect_error`, ...).
        Matcher rows = Pattern.compile("(?m)^\\| (`[a-z_]+`(?:, `[a-z_]+`)*) \\|").matcher(section);
        Set<String> codes = new LinkedHashSet<>();
        while (rows.find()) {
            Matcher code = Pattern.compile("`([a-z_]+)`").matcher(rows.group(1));
            while (code.find()) {
                codes.add(code.group(1));
            }
        }
        assertEquals(Set.copyOf(codes), Set.copyOf(EngineMeters.ERROR_CODES));
    }

    @Test
    void bounds_are_written_in_seconds() {
        assertEquals("0.001", EngineMeters.seconds(1));
        assertEquals("0.25", EngineMeters.seconds(250));
        assertEquals("10.0", EngineMeters.seconds(10000));
    }

    private static double counter(SimpleMeterRegistry registry, String name, String key, String value) {
        var search = registry.get(name);
        if (key != null) {
            search = search.tag(key, value);
        }
        FunctionCounter c = search.functionCounter();
        return c.count();
    }
}
