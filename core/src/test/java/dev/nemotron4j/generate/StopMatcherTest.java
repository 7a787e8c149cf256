package dev.nemotron4j.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopMatcherTest {

    @Test
    void stopSpanningPiecesIsNeverReleased() {
        StopMatcher m = new StopMatcher(List.of("<extra_id_1>"));
        StringBuilder out = new StringBuilder();
        for (String piece : new String[] {"Hello", " world<ex", "tra_", "id_1>User"}) {
            out.append(m.push(piece));
        }
        assertTrue(m.stopped());
        assertEquals("<extra_id_1>", m.matched());
        assertEquals("Hello world", out.toString());
        assertEquals("", m.flush());
    }

    @Test
    void heldBackPrefixIsReleasedWhenItTurnsOutNotToBeAStop() {
        StopMatcher m = new StopMatcher(List.of("STOP"));
        assertEquals("a", m.push("aST"));
        assertEquals("STx", m.push("x"));
        assertEquals("", m.push("S"));
        assertFalse(m.stopped());
        assertEquals("S", m.flush());
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopMatcher m = new StopMatcher(List.of("bb", "a"));
        assertEquals("x", m.push("xabb"));
        assertEquals("a", m.matched());
    }

    @Test
    void noStopsPassesEverythingThrough() {
        StopMatcher m = new StopMatcher(List.of());
        assertEquals("abc", m.push("abc"));
        assertEquals("", m.flush());
    }
}
