package dev.cimd.keycloak.shared;

import com.fasterxml.jackson.databind.JsonNode;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * One engine's figures as Micrometer meters (Keycloak's {@code /metrics} on the management interface when it runs
 * with {@code --metrics-enabled=true}). The meters count nothing themselves: each reads the engine's own counters
 * from its stats snapshot (one native call, reused for {@link #SNAPSHOT_MILLIS} so that one scrape costs one
 * call), so the figures are the engine's, the same as {@code GET /admin/realms/{realm}/cimd/stats}.
 *
 * <p>Labels are bounded: {@code realm} (the realm's id) and {@code component} (the cimd component's name), both
 * configured objects, and closed sets: {@code outcome}, {@code source}, {@code result}, {@code code} (the error
 * codes of docs/contract.md §7) and {@code le}. Never a URL, a host or an error text.
 *
 * <p>Meters are registered when the engine is created and removed by {@link #close()} when it is replaced or freed.
 */
public final class EngineMeters implements AutoCloseable {
    /** The error codes of docs/contract.md §7 (only ever added to); a code not listed here is counted as "other". */
    static final List<String> ERROR_CODES = List.of(
            "invalid_client_id_url", "host_not_allowed", "blocked_address", "dns_error", "connect_error", "tls_error",
            "timeout", "http_status", "redirect_not_followed", "too_large", "invalid_content_type", "invalid_json",
            "invalid_metadata", "client_id_mismatch", "forbidden_metadata", "unsupported_auth_method",
            "redirect_uri_mismatch", "rate_limited", "internal");
    /** How long one stats snapshot serves the meters. */
    static final long SNAPSHOT_MILLIS = 1000;

    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final Snapshot snapshot;

    private EngineMeters(MeterRegistry registry, Supplier<JsonNode> stats) {
        this.registry = registry;
        this.snapshot = new Snapshot(stats);
    }

    /**
     * Registers the meters of one engine.
     *
     * @param stats the engine's stats JSON (called at most once per {@link #SNAPSHOT_MILLIS}; an exception, e.g.
     *              from an engine closed under a scrape, keeps the last snapshot)
     */
    public static EngineMeters bind(MeterRegistry registry, String realmId, String component, Supplier<JsonNode> stats) {
        EngineMeters m = new EngineMeters(registry, stats);
        Tags base = Tags.of("realm", String.valueOf(realmId), "component", String.valueOf(component));
        try {
            m.register(base);
        } catch (RuntimeException e) {
            // A registry that refuses one meter (e.g. a name clash) gets none: no half-bound engine.
            m.close();
            throw e;
        }
        return m;
    }

    private void register(Tags base) {
        for (String source : List.of("network", "cache", "stale")) {
            counter("cimd.resolutions", "Resolutions by outcome and by the source of the answer",
                    base.and("outcome", "ok", "source", source), s -> s.path("resolutions").path(source).asDouble());
        }
        counter("cimd.resolutions", "Resolutions by outcome and by the source of the answer",
                base.and("outcome", "error", "source", "none"), s -> s.path("resolutions").path("failed").asDouble());
        for (String result : List.of("document", "not_modified", "error")) {
            counter("cimd.fetches", "Fetches of metadata documents and key sets by how the host answered",
                    base.and("result", result), s -> s.path("fetch_results").path(result).asDouble());
        }
        for (String code : ERROR_CODES) {
            counter("cimd.failures", "Refusals by cimd error code", base.and("code", code),
                    s -> s.path("failures").path(code).asDouble());
        }
        counter("cimd.failures", "Refusals by cimd error code", base.and("code", "other"), EngineMeters::otherFailures);
        counter("cimd.cache.hits", "Answers from a fresh cache entry", base, s -> s.path("hits").asDouble());
        counter("cimd.cache.misses", "Lookups that found no usable entry", base, s -> s.path("misses").asDouble());
        counter("cimd.cache.evictions", "Entries evicted by the count or byte bounds", base,
                s -> s.path("evictions").asDouble());
        counter("cimd.cache.invalidations", "Entries removed by operators", base,
                s -> s.path("invalidations").asDouble());
        counter("cimd.coalesced.waits", "Callers that waited for another caller's fetch", base,
                s -> s.path("coalesced_waits").asDouble());
        counter("cimd.stale.served", "Answers served from an expired entry", base,
                s -> s.path("stale_served").asDouble());
        counter("cimd.background.refreshes", "Background refreshes started", base,
                s -> s.path("background_refreshes").asDouble());
        gauge("cimd.cache.entries", "Documents cached now", base, s -> s.path("entries").asDouble());
        gauge("cimd.cache.bytes", "Approximate bytes cached now", base, s -> s.path("cache_bytes").asDouble());

        // The fetch-duration histogram, kept by the engine with fixed buckets, in the Prometheus histogram layout:
        // cimd_fetch_duration_seconds_bucket{le} (cumulative, le in seconds), _count and _sum. Plain gauges, because
        // Micrometer publishes a histogram only from observations it records itself (and a function timer's
        // collector claims the _bucket name).
        gauge("cimd.fetch.duration.seconds.count", "Fetches observed (equals cimd_fetches_total once fetches end)",
                base, s -> s.path("fetch_duration_ms").path("count").asDouble());
        gauge("cimd.fetch.duration.seconds.sum", "Total time of the fetches observed, in seconds", base,
                s -> s.path("fetch_duration_ms").path("sum_us").asDouble() / 1_000_000.0);
        JsonNode bounds = snapshot.get().path("fetch_duration_ms").path("le");
        for (int i = 0; i < bounds.size(); i++) {
            int bucket = i;
            String le = seconds(bounds.get(i).asLong());
            gauge("cimd.fetch.duration.seconds.bucket", "Fetches that took at most le seconds (cumulative)",
                    base.and("le", le), s -> s.path("fetch_duration_ms").path("counts").path(bucket).asDouble());
        }
        gauge("cimd.fetch.duration.seconds.bucket", "Fetches that took at most le seconds (cumulative)",
                base.and("le", "+Inf"), s -> s.path("fetch_duration_ms").path("count").asDouble());
    }

    /** A bound in milliseconds as Prometheus writes an {@code le} in seconds: 0.005, 0.25, 1.0, 10.0. */
    static String seconds(long millis) {
        return Double.toString(millis / 1000.0);
    }

    private static double otherFailures(JsonNode s) {
        double n = 0;
        var it = s.path("failures").fields();
        while (it.hasNext()) {
            var e = it.next();
            if (!ERROR_CODES.contains(e.getKey())) {
                n += e.getValue().asDouble();
            }
        }
        return n;
    }

    private void counter(String name, String help, Tags tags, ToDoubleFunction<JsonNode> f) {
        meters.add(FunctionCounter.builder(name, snapshot, sn -> f.applyAsDouble(sn.get()))
                .description(help).tags(tags).register(registry));
    }

    private void gauge(String name, String help, Tags tags, ToDoubleFunction<JsonNode> f) {
        meters.add(Gauge.builder(name, snapshot, sn -> f.applyAsDouble(sn.get()))
                .description(help).tags(tags).register(registry));
    }

    /** The meters registered (for tests). */
    List<Meter> meters() {
        return List.copyOf(meters);
    }

    /** Removes this engine's meters. Idempotent. */
    @Override
    public void close() {
        synchronized (meters) {
            meters.forEach(registry::remove);
            meters.clear();
        }
    }

    /** The engine's stats, read at most once per {@link #SNAPSHOT_MILLIS}. */
    static final class Snapshot {
        private static final JsonNode EMPTY = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        private final Supplier<JsonNode> stats;
        private JsonNode last = EMPTY;
        private long readAt = Long.MIN_VALUE;

        Snapshot(Supplier<JsonNode> stats) {
            this.stats = stats;
        }

        synchronized JsonNode get() {
            long now = System.nanoTime();
            if (readAt == Long.MIN_VALUE || now - readAt >= TimeUnit.MILLISECONDS.toNanos(SNAPSHOT_MILLIS)) {
                try {
                    JsonNode s = stats.get();
                    if (s != null) {
                        last = s;
                    }
                } catch (RuntimeException e) {
                    // The engine was closed under a scrape (its meters are being removed): keep the last figures.
                }
                readAt = now;
            }
            return last;
        }
    }
}
