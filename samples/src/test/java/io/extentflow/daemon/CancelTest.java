package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NbdkitLog;
import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import io.extentflow.engine.testing.NettyLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** DELETE stops a running copy and releases its connection and file; queued jobs wait for a free slot. */
@ExtendWith(NettyLeaks.class)
class CancelTest {

    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void cancelReleasesConnectionAndFile() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 31, 100, 1 << 20);
        Path nbdLog = dir.resolve("nbdkit-requests.log");
        // every read waits 100 ms: the copy is slow for sure, without sleeping in the test
        var slow = servers.nbdkit(dir, "--filter=log", "--filter=delay", "file", src.toString(),
                "logfile=" + nbdLog, "rdelay=100ms");
        Path dst = dir.resolve("dst.raw");
        try (DaemonFixture f = new DaemonFixture(dir, DaemonConfig.of(dir.resolve("state"), DaemonFixture.TOKEN)
                .withMaxRunning(1))) {
            var options = DaemonFixture.JSON.createObjectNode().put("request_size", 256 << 10)
                    .put("max_in_flight", 512 << 10);
            String id = f.submit(slow.uri(), dst.toString(), options);
            // a second job waits behind the first (one job at a time)
            String queued = f.submit(src.toString(), dir.resolve("other.raw").toString(), null);
            assertEquals("queued", f.job(queued).get("state").asText());

            // wait until it has copied something (event-driven: the first progress event with bytes done)
            var events = f.eventsUntil(id, e -> e.data().get("data_bytes").asLong() > 0);
            assertEquals("running", events.getLast().data().get("state").asText(), events.toString());
            String metrics = f.metrics();
            assertTrue(metrics.contains("extentflow_daemon_job_bytes_per_second{job=\"" + id + "\"}"), metrics);
            assertTrue(metrics.contains("extentflow_daemon_jobs{state=\"queued\"} 1.0"), metrics);

            var reply = f.request(HttpMethod.DELETE, "/v1/copies/" + id, null);
            assertEquals(200, reply.status(), reply.toString());
            JsonNode job = reply.json();
            assertEquals("cancelled", job.get("state").asText());
            assertTrue(job.get("done_bytes").asLong() < SIZE, job.toString());

            // released: the daemon holds no descriptor of the target any more, and nbdkit saw every connection end
            assertEquals(0, openDescriptorsOf(dst), "target still open after cancel");
            assertTrue(NbdkitLog.count(nbdLog, " Connect ") > 0, "the job connected to " + slow.uri());
            slow.untilNoConnectionOpen(Duration.ofSeconds(10));
            // the events stream of a cancelled job ends with its result at once
            assertEquals("cancelled", f.awaitResult(id).get("state").asText());
            // the queued job ran once the slot was free
            assertEquals("done", f.awaitResult(queued).get("state").asText());
            TestImages.assertSameContent(src, dir.resolve("other.raw"));
            assertTrue(f.metrics().contains("extentflow_daemon_jobs{state=\"cancelled\"} 1.0"));
            assertTrue(!f.metrics().contains("extentflow_daemon_job_bytes_per_second{job=\"" + id + "\"}"));

            // cancelling a finished job changes nothing
            var again = f.request(HttpMethod.DELETE, "/v1/copies/" + queued, null);
            assertEquals("done", again.json().get("state").asText());
        }
    }

    /** Descriptors of this JVM open on {@code file}. */
    static long openDescriptorsOf(Path file) throws IOException {
        Path real = file.toRealPath();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        }
    }
}
