package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon killed with SIGKILL mid-copy resumes the job from its durable checkpoint when started
 * again on the same state directory, and the target ends byte-identical; a job whose target cannot
 * go on part way (a qcow2 file) starts again from zero instead.
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

    /**
     * A qcow2 target holds its metadata in memory until the copy ends, and a killed copy leaves a file
     * without the magic that the sink will not open again: the restarted daemon removes it and copies
     * from zero, and says so in the job (restarts 1, nothing resumed).
     */
    @Test
    void killedMidCopyIntoQcow2RestartsFromZero() throws Exception {
        long size = 32L << 20;
        Path src = dir.resolve("sparse.raw");
        TestImages.randomSparseRaw(src, size, 62, 50, 1 << 20);
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=40ms");
        Path dst = dir.resolve("dst.qcow2");
        Path state = dir.resolve("state");
        String[] args = {"--control-socket", dir.resolve("ctl.sock").toString(), "--state-dir", state.toString(),
                "--checkpoint-interval", "100ms", "--max-jobs", "1"};
        String id;
        try (DaemonProcess first = DaemonProcess.start(dir, JobsClient.TOKEN, args)) {
            JobsClient api = new JobsClient(first.port);
            id = api.submit(slow.uri(), dst.toString(), JobsClient.JSON.createObjectNode()
                    .put("request_size", 256 << 10).put("max_in_flight", 256 << 10).put("cluster_size", 65536));
            var events = api.eventsUntil(id, e -> e.data().get("data_bytes").asLong() >= (2 << 20));
            JsonNode last = events.getLast().data();
            assertEquals("running", last.get("state").asText(), last.toString());
            first.kill();
        }
        // what the killed copy left: a file without the qcow2 magic, which qemu does not take for qcow2
        assertTrue(Files.exists(dst), "the killed copy left no file");
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(dst)) {
            in.readNBytes(head, 0, 4);
        }
        assertTrue(Arrays.equals(new byte[4], head), "magic written before the end: " + Arrays.toString(head));

        try (DaemonProcess second = DaemonProcess.start(dir, JobsClient.TOKEN, args)) {
            JobsClient api = new JobsClient(second.port);
            JsonNode result = api.awaitResult(id);
            assertEquals("done", result.get("state").asText(), result + "\n" + second.log());
            assertEquals(1, result.get("restarts").asInt(), result::toString);
            assertEquals(0, result.get("resumed_bytes").asLong(), result::toString);
            assertEquals(size, result.get("data_bytes").asLong() + result.get("zeroed_bytes").asLong()
                    + result.get("skipped_bytes").asLong(), result::toString);
            String log = second.log();
            assertTrue(log.contains("cannot resume, restarting the copy from zero"), log);
        }
        QemuImg.check(dst);
        QemuImg.compare(src, dst);
    }
}
