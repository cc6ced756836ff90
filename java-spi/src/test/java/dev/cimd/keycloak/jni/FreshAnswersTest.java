package dev.cimd.keycloak.jni;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The Java-side memory of the engine's accepting cache hits: exact questions, freshness, forgetting, bounds. */
class FreshAnswersTest {
    private static final String ID = "https://app.example.com/client.json";
    private static final String CB = "https://app.example.com/cb";
    private static final long WALL_MS = 1_795_310_000_000L;
    private static final long MONO = 5_000_000_000L;
    private static final long SECOND = 1_000_000_000L;

    private static Resolution freshFor(long seconds, boolean newVersion) {
        Resolution r = Documents.resolution("{\"client_id\":\"" + ID + "\",\"redirect_uris\":[\"" + CB + "\"]}");
        return new Resolution(r.document(), "cache", WALL_MS / 1000 + seconds, newVersion);
    }

    @Test
    void anAnswerIsGivenAgainOnlyForTheSameClientIdAndByteIdenticalRedirectUri() {
        FreshAnswers f = new FreshAnswers(16);
        Resolution r = freshFor(300, false);
        f.put(ID, CB, r, WALL_MS, MONO);
        assertSame(r, f.get(ID, CB, MONO + SECOND));
        assertNull(f.get(ID, CB + "/", MONO), "a different redirect URI is the engine's question");
        assertNull(f.get(ID, "https://APP.example.com/cb", MONO));
        assertNull(f.get(ID, null, MONO), "no redirect URI is a question of its own");
        assertNull(f.get(ID + "?", CB, MONO));
        assertEquals(1, f.hits());
    }

    /** RFC 9111 freshness as the engine computed it, less a one-second margin, on the monotonic clock. */
    @Test
    void anAnswerLastsUntilOneSecondBeforeTheDocumentStopsBeingFresh() {
        FreshAnswers f = new FreshAnswers(16);
        f.put(ID, CB, freshFor(10, false), WALL_MS, MONO);
        assertFalse(f.get(ID, CB, MONO + 9 * SECOND - 1) == null);
        assertNull(f.get(ID, CB, MONO + 9 * SECOND), "past fresh-until minus the margin: ask the engine");
        assertEquals(0, f.size(), "an outdated answer is dropped when found");
        assertNull(f.get(ID, CB, MONO), "and not given again afterwards");
    }

    @Test
    void aDocumentAboutToExpireIsNotKept() {
        FreshAnswers f = new FreshAnswers(16);
        f.put(ID, CB, freshFor(1, false), WALL_MS, MONO);
        f.put(ID, null, freshFor(0, false), WALL_MS, MONO);
        f.put(ID, "x", freshFor(-5, false), WALL_MS, MONO);
        assertEquals(0, f.size());
    }

    @Test
    void aKeptAnswerIsNeverReportedAsANewVersionAgain() {
        FreshAnswers f = new FreshAnswers(16);
        f.put(ID, CB, freshFor(300, true), WALL_MS, MONO);
        Resolution again = f.get(ID, CB, MONO);
        assertFalse(again.newVersion(), "first sight is logged once, by the call that saw it");
        assertEquals("cache", again.source());
    }

    @Test
    void forgettingAClientDropsAllItsAnswersAndNoOtherClients() {
        FreshAnswers f = new FreshAnswers(16);
        f.put(ID, CB, freshFor(300, false), WALL_MS, MONO);
        f.put(ID, null, freshFor(300, false), WALL_MS, MONO);
        f.put("https://other.example/c.json", CB, freshFor(300, false), WALL_MS, MONO);
        f.forget(ID);
        assertNull(f.get(ID, CB, MONO));
        assertNull(f.get(ID, null, MONO));
        assertEquals(1, f.size());
        f.clear();
        assertEquals(0, f.size());
    }

    /** Many distinct redirect URIs (loopback ports) cannot grow the map past its capacity. */
    @Test
    void theMapIsBounded() {
        FreshAnswers f = new FreshAnswers(8);
        for (int port = 1000; port < 1100; port++) {
            f.put(ID, "http://localhost:" + port + "/callback", freshFor(300, false), WALL_MS, MONO);
            assertFalse(f.size() > 8, "size " + f.size());
        }
        assertFalse(f.get(ID, "http://localhost:1099/callback", MONO) == null, "the newest answer is kept");
    }

    @Test
    void aCapacityOfZeroKeepsNothing() {
        FreshAnswers f = new FreshAnswers(0);
        f.put(ID, CB, freshFor(300, false), WALL_MS, MONO);
        assertEquals(0, f.size());
        assertNull(f.get(ID, CB, MONO));
    }

    /** The operator's bound ({@value CimdEngine#KEPT_ANSWERS_PROPERTY}): a number in range, or a precise error. */
    @Test
    void theCapacityComesFromASystemPropertyCheckedForRange() {
        assertEquals(CimdEngine.DEFAULT_KEPT_ANSWERS, CimdEngine.keptAnswers(null));
        assertEquals(CimdEngine.DEFAULT_KEPT_ANSWERS, CimdEngine.keptAnswers(" "));
        assertEquals(0, CimdEngine.keptAnswers("0"));
        assertEquals(100, CimdEngine.keptAnswers(" 100 "));
        for (String bad : new String[] {"-1", "1000001", "many", "1e3"}) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                    IllegalArgumentException.class, () -> CimdEngine.keptAnswers(bad));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(CimdEngine.KEPT_ANSWERS_PROPERTY),
                    e.getMessage());
        }
    }
}
