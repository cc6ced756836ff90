package dev.cimd.keycloak.jni;

import java.util.Arrays;

/**
 * The cost of one cache-hit resolve across the JNI boundary, measured the way JMH would do it by hand: warm-up,
 * then several timed rounds of many calls, reporting the median round in nanoseconds per call, with the results
 * consumed so the JIT cannot drop the calls. Run by scripts/keycloak-bench.sh (docs/benchmarks-keycloak.md):
 *
 * <pre>java [-Dcimd.bench.calls=N] -cp ... dev.cimd.keycloak.jni.ResolveCostHarness CONFIG_JSON CLIENT_ID [REDIRECT_URI]</pre>
 *
 * Prints one line per measurement: {@code name ns_per_call}.
 */
public final class ResolveCostHarness {
    private static long sink;

    private ResolveCostHarness() {
    }

    interface Call {
        Object run() throws Exception;
    }

    static double measure(Call call, int rounds, int perRound) throws Exception {
        for (int i = 0; i < perRound; i++) {
            sink += call.run().hashCode();
        }
        double[] ns = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < perRound; i++) {
                sink += call.run().hashCode();
            }
            ns[r] = (System.nanoTime() - start) / (double) perRound;
        }
        Arrays.sort(ns);
        return ns[rounds / 2];
    }

    public static void main(String[] args) throws Exception {
        String config = args[0];
        String clientId = args[1];
        String redirect = args.length > 2 ? args[2] : null;
        try (CimdEngine engine = CimdEngine.create(config)) {
            Resolution first = engine.resolve(clientId, redirect, null);
            System.out.println("first_resolve_source " + first.source());
            int rounds = 7;
            // -Dcimd.bench.calls: fewer calls per round for the smoke run of make test (figures meaningless there).
            int perRound = Integer.getInteger("cimd.bench.calls", 300_000);
            long generation = first.document().generation();
            long handle = handleOf(engine);
            report("native_resolve_hit_raw", measure(
                    () -> CimdNative.resolve(handle, clientId, null, 0, generation), rounds, perRound));
            report("native_resolve_hit_with_redirect_raw", measure(
                    () -> CimdNative.resolve(handle, clientId, redirect, 0, generation), rounds, perRound));
            report("engine_resolve_hit", measure(() -> engine.resolve(clientId, null, null), rounds, perRound));
            report("engine_resolve_hit_with_redirect", measure(() -> engine.resolve(clientId, redirect, null), rounds,
                    perRound));
            report("native_resolve_cached_with_redirect_raw", measure(
                    () -> CimdNative.resolveCached(handle, clientId, redirect, generation), rounds, perRound));
            // What the Keycloak client policy calls: one native cache hit, no decoding.
            report("engine_resolve_cached_with_redirect", measure(
                    () -> engine.resolveCached(clientId, redirect).orElseThrow(), rounds, perRound));
            report("native_resolve_full_document_raw", measure(
                    () -> CimdNative.resolve(handle, clientId, null, 0, -1), rounds, perRound / 3));
            report("native_version_call_baseline", measure(CimdNative::version, rounds, perRound));
            report("java_noop_baseline", measure(() -> clientId, rounds, perRound));
            System.out.println("stats " + engine.stats());
        }
        System.out.println("sink " + (sink & 1));
    }

    private static void report(String name, double nsPerCall) {
        System.out.printf("%s %.0f%n", name, nsPerCall);
    }

    /** The handle, for timing the bare native call (package-private access for the harness only). */
    private static long handleOf(CimdEngine engine) throws Exception {
        java.lang.reflect.Field f = CimdEngine.class.getDeclaredField("handle");
        f.setAccessible(true);
        return f.getLong(engine);
    }
}
