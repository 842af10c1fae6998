package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A long copy's checkpoints do not grow the journal without bound: it is compacted while running. */
class CompactionTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void journalIsCompactedWhileACopyRuns() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 101, 100, 1 << 20);
        // 64 KiB reads, 15 ms each: 128 requests over ~2 s, a checkpoint every 10 ms
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=15ms");
        Path state = dir.resolve("state");
        DaemonConfig config = DaemonConfig.of(state, JobsClient.TOKEN)
                .withCheckpointInterval(Duration.ofMillis(10)).withJournalLimits(2, 5);
        String last;
        long checkpoints;
        try (DaemonFixture f = new DaemonFixture(dir, config)) {
            // three finished jobs first: only the two most recent are kept once the journal is compacted
            for (int i = 0; i < 3; i++) {
                f.awaitResult(f.submit(src.toString(), dir.resolve("quick" + i + ".raw").toString(), null));
            }
            last = f.submit(slow.uri(), dir.resolve("dst.raw").toString(), JobsClient.JSON.createObjectNode()
                    .put("request_size", 64 << 10).put("max_in_flight", 64 << 10));
            var events = f.events(last);
            assertEquals("done", events.getLast().data().get("state").asText());
            // at least this many checkpoint records were appended (events show only some of them)
            checkpoints = events.stream().map(e -> e.data().get("checkpoint").asLong()).distinct().count();
            assertTrue(checkpoints > 5, "too few checkpoints to need a compaction: " + checkpoints);
            assertEquals(3, f.daemon.jobs().list().size(), "the oldest finished job is forgotten");
        }
        var records = Journal.replay(state.resolve(JournalJobStore.FILE));
        long appended = 4 + 4 * 2 + checkpoints; // at least: 4 submits, running and done of each, the checkpoints
        assertTrue(records.size() < appended, "not compacted: " + records.size() + " records of " + appended);
        try (DaemonFixture f = new DaemonFixture(dir, config)) {
            assertEquals("done", f.job(last).get("state").asText());
            TestImages.assertSameContent(src, dir.resolve("dst.raw"));
        }
    }
}
