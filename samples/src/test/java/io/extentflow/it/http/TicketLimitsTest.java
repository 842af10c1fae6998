package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.server.ServerConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

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

    /**
     * A client on a plain socket that sends a GET, reads the first bytes of the reply and then stops
     * reading: the server's writes back up once the socket buffers are full.
     */
    private static Socket stalledDownload(int port, String uri) throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        s.setReceiveBufferSize(64 << 10);
        s.getOutputStream().write(("GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        s.getInputStream().readNBytes(4096);
        return s;
    }

    /** Reads what is left until the server closes; returns the bytes read. */
    private static long drain(Socket s) throws Exception {
        s.setSoTimeout(20_000);
        long n = 0;
        try (InputStream in = s.getInputStream()) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                n += r;
            }
        } catch (java.net.SocketException reset) {
            // the server closed with unread data: a reset is as good as an end
        }
        return n;
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Mono.delay(Duration.ofMillis(10)).block();
        }
    }

    @Test
    void readersBeyondMaxReadersAreTurnedAway() throws Exception {
        Path image = sparseImage();
        try (ServerFixture f = new ServerFixture(dir, ServerConfig.defaults().withPort(0).withLimits(1, 1))) {
            f.addTicket("one", image, SIZE, "read");
            Socket first = stalledDownload(f.server.port(), "/images/one");
            // the stalled download holds exactly its window of buffers, however big the image
            int window = ServerConfig.defaults().buffersPerRequest();
            await("window full", () -> f.server.buffersInUse() == window);
            ServerFixture.Reply second = f.request(f.data, HttpMethod.GET, "/images/one", null,
                    h -> h.set(HttpHeaderNames.RANGE, "bytes=0-9"));
            assertEquals(503, second.status(), second.body());
            assertTrue(second.body().contains("max_readers"), second.body());
            assertEquals(window, f.server.buffersInUse());
            assertEquals(204, f.request(f.control, HttpMethod.DELETE, "/tickets/one", null).status());
            assertTrue(drain(first) < (64 << 20), "the rest was not sent");
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
            Socket stalled = stalledDownload(f.server.port(), "/images/idle");
            await("transfer cut", () -> f.server.buffersInUse() == 0
                    && Duration.ofNanos(System.nanoTime() - started).toMillis() > 900);
            assertTrue(drain(stalled) < (64 << 20), "the rest was not sent");
            long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
            assertTrue(seconds < 15, "cut after " + seconds + " s");
            await("buffers back", () -> f.server.buffersInUse() == 0);
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
            Socket stalled = stalledDownload(f.server.port(), "/images/s");
            f.server.shutdown(Duration.ofSeconds(5)).block(Duration.ofSeconds(20));
            assertEquals(0, f.server.tickets().size());
            await("buffers back", () -> f.server.buffersInUse() == 0);
            assertTrue(drain(stalled) < (64 << 20), "the rest was not sent");
        } finally {
            f.close();
        }
    }
}
