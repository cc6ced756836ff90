package dev.cimd.keycloak.jni;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's accepting cache-hit answers ({@link CimdEngine#resolveCached}), remembered on the Java side while
 * the document they came from is fresh, so that the authorization requests of a busy client cost no native call.
 *
 * <p>Only what cannot change while the document is fresh is kept: the engine serves a fresh document from its
 * cache without any I/O, and its verdict on a redirect URI depends only on that document and the URI's exact
 * string. So an answer is kept for one client_id and one byte-identical redirect URI (or none), until one second
 * before the document's freshness ends, measured on the monotonic clock from the moment it was stored. After
 * that the engine is asked again (it decides whether to serve stale while it revalidates, or to fetch). Refusals
 * are never kept: the engine's error is asked for each time. Whatever changes the engine's answer from the
 * outside (an operator's invalidate or refresh, a new version of the document seen by any call, the engine
 * closed) forgets the client's answers first.
 *
 * <p>Bounded: at most {@code capacity} answers (0: none are kept); storing one more clears the map (each client's
 * next request asks the engine and stores its answer again). The hits are counted, so that the engine's counters
 * stay whole.
 */
final class FreshAnswers {
    /** The part of the remaining freshness not used, for rounding (the engine reports whole seconds). */
    static final long MARGIN_NANOS = 1_000_000_000L;

    private final int capacity;
    private final Map<Question, Answer> answers = new ConcurrentHashMap<>();
    private final LongAdder hits = new LongAdder();

    FreshAnswers(int capacity) {
        this.capacity = capacity;
    }

    /** The kept answer for this question, or null. {@code nowNanos}: {@link System#nanoTime()}. */
    Resolution get(String clientId, String redirectUri, long nowNanos) {
        Question q = new Question(clientId, redirectUri);
        Answer a = answers.get(q);
        if (a == null) {
            return null;
        }
        if (nowNanos - a.untilNanos >= 0) {
            answers.remove(q, a);
            return null;
        }
        hits.increment();
        return a.resolution;
    }

    /**
     * Keeps the engine's accepting answer {@code r} (a fresh cache hit) for this question, if its document stays
     * fresh for more than the margin. {@code nowEpochMillis}: the wall clock the engine's expiry is expressed in;
     * {@code nowNanos}: the monotonic clock the answer is kept by.
     */
    void put(String clientId, String redirectUri, Resolution r, long nowEpochMillis, long nowNanos) {
        long remainingNanos = (r.expiresAtEpochSeconds() * 1000 - nowEpochMillis) * 1_000_000L - MARGIN_NANOS;
        if (remainingNanos <= 0 || capacity == 0) {
            return;
        }
        if (answers.size() >= capacity) {
            answers.clear();
        }
        Resolution kept = r.newVersion()
                ? new Resolution(r.document(), r.source(), r.expiresAtEpochSeconds(), false) : r;
        answers.put(new Question(clientId, redirectUri), new Answer(kept, nowNanos + remainingNanos));
    }

    /** Forgets every answer about {@code clientId}. */
    void forget(String clientId) {
        answers.keySet().removeIf(q -> q.clientId.equals(clientId));
    }

    void clear() {
        answers.clear();
    }

    int size() {
        return answers.size();
    }

    /** The questions answered here since the engine was created. */
    long hits() {
        return hits.sum();
    }

    /** One client_id and the exact redirect URI checked with it (or null). */
    private record Question(String clientId, String redirectUri) {
    }

    private record Answer(Resolution resolution, long untilNanos) {
    }
}
