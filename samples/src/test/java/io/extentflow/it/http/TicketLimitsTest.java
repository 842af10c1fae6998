package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.server.ServerConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-ticket limits: max_readers, the inactivity timeout, and graceful shutdown with a stalled client. */
class TicketLimitsTest {

    /** Big enough that socket buffers cannot absorb it: sparse, so it costs no disk. */
    private static final long SIZE = 1L << 30;

    @TempDir
    Path dir;

    private Path sparseImage() throws Exception {
        Path p = dir.resolve("sparse.raw");
        try (RandomAccessFile raf = new RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(SIZE);
        }
        return p;
    }

    @Test
    void readersBeyondMaxReadersAreTurnedAway() throws Exception {
        Path image = sparseImage();
        try (ServerFixture f = new ServerFixture(dir, ServerConfig.defaults().withPort(0).withLimits(1, 1))) {
            f.addTicket("one", image, SIZE, "read");
            Socket first = ServerFixture.stalledDownload(f.server.port(), "/images/one");
            // the stalled download holds exactly its window of buffers, however big the image
            int window = ServerConfig.defaults().buffersPerRequest();
            ServerFixture.await("window full", () -> f.server.buffersInUse() == window);
            ServerFixture.Reply second = f.request(f.data, HttpMethod.GET, "/images/one", null,
                    h -> h.set(HttpHeaderNames.RANGE, "bytes=0-9"));
            assertEquals(503, second.status(), second.body());
            assertTrue(second.body().contains("max_readers"), second.body());
            assertEquals(window, f.server.buffersInUse());
            assertEquals(204, f.request(f.control, HttpMethod.DELETE, "/tickets/one", null).status());
            assertTrue(ServerFixture.readUntilClosed(first) < (64 << 20), "the rest was not sent");
        }
    }

    @Test
    void inactiveTransferIsCutAndTheTicketStaysUsable() throws Exception {
        Path image = sparseImage();
        try (ServerFixture f = new ServerFixture(dir)) {
            String json = "{\"uuid\":\"idle\",\"size\":" + SIZE + ",\"url\":\"file://" + image + "\",\"timeout\":300,"
                    + "\"inactivity_timeout\":1,\"ops\":[\"read\"]}";
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/idle", json).status());
            long started = System.nanoTime();
            Socket stalled = ServerFixture.stalledDownload(f.server.port(), "/images/idle");
            ServerFixture.await("transfer cut", () -> f.server.buffersInUse() == 0
                    && Duration.ofNanos(System.nanoTime() - started).toMillis() > 900);
            assertTrue(ServerFixture.readUntilClosed(stalled) < (64 << 20), "the rest was not sent");
            long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
            assertTrue(seconds < 15, "cut after " + seconds + " s");
            ServerFixture.await("buffers back", () -> f.server.buffersInUse() == 0);
            assertEquals(206, f.request(f.data, HttpMethod.GET, "/images/idle", null,
                    h -> h.set(HttpHeaderNames.RANGE, "bytes=0-9")).status());
        }
    }

    @Test
    void gracefulShutdownStopsStalledTransfers() throws Exception {
        Path image = sparseImage();
        ServerFixture f = new ServerFixture(dir);
        try {
            f.addTicket("s", image, SIZE, "read");
            Socket stalled = ServerFixture.stalledDownload(f.server.port(), "/images/s");
            f.server.shutdown(Duration.ofSeconds(5)).block(Duration.ofSeconds(20));
            assertEquals(0, f.server.tickets().size());
            ServerFixture.await("buffers back", () -> f.server.buffersInUse() == 0);
            assertTrue(ServerFixture.readUntilClosed(stalled) < (64 << 20), "the rest was not sent");
        } finally {
            f.close();
        }
    }
}
