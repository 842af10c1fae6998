package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.copy.CopyResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The copy command's summary line tells data, zeros and ranges left unallocated apart. */
class CopySummaryTest {

    private static final long MIB = 1L << 20;

    @Test
    void zerosWrittenAndSkippedAreZero() {
        CopyResult r = new CopyResult(8 * MIB, 0, 2 * MIB, MIB, 5 * MIB, 2 * MIB, 2 * MIB, Duration.ofSeconds(2));
        assertEquals("copied 8 MiB: 2 MiB data, 6 MiB zero in 2.000 s (4 MiB/s)", CopySummary.line(r, 0));
    }

    @Test
    void rangesLeftUnallocatedAreNotCalledZero() {
        // a --top-layer-only copy: of 5 MiB skipped, 4 MiB fall through to the backing chain
        CopyResult r = new CopyResult(8 * MIB, 0, 2 * MIB, MIB, 5 * MIB, 2 * MIB, 2 * MIB, Duration.ofSeconds(2));
        assertEquals("copied 8 MiB: 2 MiB data, 2 MiB zero, 4 MiB unallocated in 2.000 s (4 MiB/s)",
                CopySummary.line(r, 4 * MIB));
    }
}
