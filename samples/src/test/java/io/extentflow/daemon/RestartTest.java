package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon killed with SIGKILL mid-copy resumes the job from its durable checkpoint when started
 * again on the same state directory, and the target ends byte-identical.
 */
class RestartTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void killedMidCopyResumesFromCheckpoint() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 61, 100, 1 << 20);
        // every read waits 40 ms, one 256 KiB request at a time: about 6 MiB/s, deterministic slowness
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=40ms");
        Path dst = dir.resolve("dst.raw");
        Path state = dir.resolve("state");
        String[] args = {"--control-socket", dir.resolve("ctl.sock").toString(), "--state-dir", state.toString(),
                "--checkpoint-interval", "100ms", "--max-jobs", "1"};
        String id;
        long checkpointBeforeKill;
        try (DaemonProcess first = DaemonProcess.start(dir, JobsClient.TOKEN, args)) {
            JobsClient api = new JobsClient(first.port);
            id = api.submit(slow.uri(), dst.toString(), JobsClient.JSON.createObjectNode()
                    .put("request_size", 256 << 10).put("max_in_flight", 256 << 10));
            // follow the events until a checkpoint of at least 1 MiB is durable, then crash
            var events = api.eventsUntil(id, e -> e.data().get("checkpoint").asLong() >= (1 << 20));
            JsonNode last = events.getLast().data();
            assertEquals("running", last.get("state").asText(), last.toString());
            checkpointBeforeKill = last.get("checkpoint").asLong();
            first.kill();
        }
        assertTrue(checkpointBeforeKill < SIZE);

        try (DaemonProcess second = DaemonProcess.start(dir, JobsClient.TOKEN, args)) {
            JobsClient api = new JobsClient(second.port);
            JsonNode result = api.awaitResult(id);
            assertEquals("done", result.get("state").asText(), result + "\n" + second.log());
            long resumed = result.get("resumed_bytes").asLong();
            long copiedNow = result.get("data_bytes").asLong() + result.get("zeroed_bytes").asLong()
                    + result.get("skipped_bytes").asLong();
            // resumed from the durable checkpoint (at least what was durable when killed), not from 0
            assertTrue(resumed >= checkpointBeforeKill, "resumed " + resumed + " < " + checkpointBeforeKill);
            assertEquals(SIZE, resumed + copiedNow);
            assertTrue(copiedNow < SIZE, "copied " + copiedNow);
            assertEquals(SIZE, result.get("done_bytes").asLong());
        }
        TestImages.assertSameContent(src, dst);
    }
}
