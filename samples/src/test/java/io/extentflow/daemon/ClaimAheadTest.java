package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** How many jobs a fleet daemon claims ahead of its slots, from what it measured. */
class ClaimAheadTest {

    private static final long MS = 1_000_000;
    private static final long POLL = 1000 * MS;

    @Test
    void noneUntilAShortJobEnded() {
        ClaimAhead ahead = new ClaimAhead(4, 64, POLL);
        assertEquals(0, ahead.jobs(), "no job ended yet");
        ahead.exchanged(20 * MS);
        assertEquals(0, ahead.jobs());
        ahead.jobRan(3 * MS);
        assertEquals(64, ahead.jobs(), "4 x 4 slots x 20 ms / 3 ms, at most 64");
    }

    @Test
    void asManyAsTheSlotsWhileExchangesAreQuickerThanJobs() {
        ClaimAhead ahead = new ClaimAhead(4, 64, POLL);
        ahead.jobRan(50 * MS);
        ahead.exchanged(5 * MS);
        assertEquals(4, ahead.jobs(), "4 x 4 slots x 5 ms / 50 ms = 1.6: the slots' number");
    }

    @Test
    void coversWhatEndsDuringAnExchangeUpToTheBound() {
        ClaimAhead ahead = new ClaimAhead(2, 32, POLL);
        ahead.jobRan(10 * MS);
        ahead.exchanged(25 * MS);
        assertEquals(20, ahead.jobs(), "4 x 2 slots x 25 ms / 10 ms");
        ahead.exchanged(25_000 * MS); // one exchange that hung moves the average a lot, not past the bound
        assertEquals(32, ahead.jobs());
    }

    @Test
    void followsTheAveragesNotTheLastMeasurement() {
        ClaimAhead ahead = new ClaimAhead(1, 100, POLL);
        ahead.jobRan(10 * MS);
        ahead.exchanged(10 * MS);
        assertEquals(4, ahead.jobs());
        ahead.exchanged(90 * MS); // the average moves an eighth of the way: 20 ms
        assertEquals(8, ahead.jobs());
        ahead.jobRan(90 * MS); // 20 ms on average; the last job still short
        assertEquals(4, ahead.jobs());
    }

    @Test
    void noneWhileTheLastJobWasLongOrAfterAStop() {
        ClaimAhead ahead = new ClaimAhead(4, 64, POLL);
        ahead.jobRan(3 * MS);
        ahead.exchanged(20 * MS);
        ahead.jobRan(POLL);
        assertEquals(0, ahead.jobs(), "the last job ran a poll interval");
        ahead.jobRan(3 * MS);
        assertEquals(4, ahead.jobs(), "short again; the long job still weighs in the average run time (112 ms)");
        ahead.stop();
        assertEquals(0, ahead.jobs(), "jobs claimed ahead waited too long");
    }

    @Test
    void noneUnderAPerHostLimit() {
        ClaimAhead ahead = new ClaimAhead(4, 0, POLL);
        ahead.jobRan(3 * MS);
        ahead.exchanged(20 * MS);
        assertEquals(0, ahead.jobs());
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new ClaimAhead(0, 4, POLL));
        assertThrows(IllegalArgumentException.class, () -> new ClaimAhead(4, -1, POLL));
        assertThrows(IllegalArgumentException.class, () -> new ClaimAhead(4, 4, 0));
    }
}
