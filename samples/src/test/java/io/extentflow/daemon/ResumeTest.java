package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.NbdServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** What a start does with a journal a crashed daemon left behind. */
@ExtendWith(NettyLeaks.class)
class ResumeTest {

    private static final long SIZE = 4L << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void gracefulStopLeavesRunningJobsToTheNextStart() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 92, 100, 1 << 20);
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=20ms");
        Path dst = dir.resolve("dst.raw");
        DaemonConfig config = DaemonConfig.of(dir.resolve("state"), JobsClient.TOKEN)
                .withCheckpointInterval(java.time.Duration.ofMillis(50));
        String id;
        long saved;
        try (DaemonFixture f = new DaemonFixture(dir, config)) {
            id = f.submit(slow.uri(), dst.toString(), JobsClient.JSON.createObjectNode()
                    .put("request_size", 64 << 10).put("max_in_flight", 64 << 10));
            saved = f.eventsUntil(id, e -> e.data().get("checkpoint").asLong() >= (512 << 10))
                    .getLast().data().get("checkpoint").asLong();
        } // a graceful stop (what SIGTERM does): the copy is stopped, not recorded as cancelled
        try (DaemonFixture f = new DaemonFixture(dir, config)) {
            JsonNode r = f.awaitResult(id);
            // (CI once saw the restarted job refused by a dead nbdkit: say what became of it)
            assertEquals("done", r.get("state").asText(), r + "\nnbdkit " + (slow.isAlive() ? "running" : "gone")
                    + ", its log:\n" + slow.log());
            assertEquals(true, r.get("resumed_bytes").asLong() >= saved, r + " saved " + saved);
            TestImages.assertSameContent(src, dst);
        }
    }

    private static ObjectNode submit(String id, Path src, Path dst) {
        ObjectNode request = JobsClient.JSON.createObjectNode().put("source", src.toString())
                .put("target", dst.toString());
        request.putObject("options");
        ObjectNode o = JobsClient.JSON.createObjectNode().put("op", "submit").put("id", id)
                .put("created", Instant.now().toString());
        o.set("request", request);
        return o;
    }

    private static ObjectNode state(String id, String state) {
        return JobsClient.JSON.createObjectNode().put("op", "state").put("id", id).put("state", state);
    }

    private static ObjectNode checkpoint(String id, long offset) {
        return JobsClient.JSON.createObjectNode().put("op", "checkpoint").put("id", id).put("offset", offset);
    }

    @Test
    void interruptedJobsResumeAndFinishedOnesStay() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 91, 100, 1 << 20);
        // "half": the first 2 MiB were copied and are durable, the rest of the target is garbage
        Path half = dir.resolve("half.raw");
        byte[] target = new byte[(int) SIZE];
        new java.util.Random(1).nextBytes(target);
        System.arraycopy(Files.readAllBytes(src), 0, target, 0, 2 << 20);
        Files.write(half, target);
        // "gone": its checkpoint says 2 MiB, but the target was deleted meanwhile
        Path gone = dir.resolve("gone.raw");
        Path state = Files.createDirectories(dir.resolve("state"));
        try (Journal j = Journal.rewrite(state.resolve(JournalJobStore.FILE), List.of(
                submit("half", src, half), state("half", "running"), checkpoint("half", 2 << 20),
                submit("gone", src, gone), state("gone", "running"), checkpoint("gone", 2 << 20),
                submit("queued", src, dir.resolve("queued.raw")),
                submit("cancelled", src, dir.resolve("cancelled.raw")), state("cancelled", "cancelled")))) {
            // written; closed by try
        }
        // and a torn last line, as a crash in the middle of an append leaves it
        Files.writeString(state.resolve(JournalJobStore.FILE), "3f2a", java.nio.file.StandardOpenOption.APPEND);

        try (DaemonFixture f = new DaemonFixture(dir)) {
            JsonNode h = f.awaitResult("half");
            assertEquals("done", h.get("state").asText(), h.toString());
            assertEquals(2 << 20, h.get("resumed_bytes").asLong());
            assertEquals(SIZE - (2 << 20), h.get("data_bytes").asLong() + h.get("zeroed_bytes").asLong());
            TestImages.assertSameContent(src, half);

            JsonNode g = f.awaitResult("gone");
            assertEquals("done", g.get("state").asText(), g.toString());
            assertEquals(0, g.get("resumed_bytes").asLong(), "a new target is copied whole");
            TestImages.assertSameContent(src, gone);

            assertEquals("done", f.awaitResult("queued").get("state").asText());
            TestImages.assertSameContent(src, dir.resolve("queued.raw"));
            assertEquals("cancelled", f.job("cancelled").get("state").asText());
            assertEquals(false, Files.exists(dir.resolve("cancelled.raw")));
        }
        // after a clean stop the journal replays to the same four finished jobs
        try (DaemonFixture f = new DaemonFixture(dir)) {
            assertEquals(List.of("cancelled", "done", "done", "done"), f.daemon.jobs().list().stream()
                    .map(j -> j.state().wire()).sorted().toList());
        }
    }
}
