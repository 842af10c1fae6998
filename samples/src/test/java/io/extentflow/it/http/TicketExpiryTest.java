package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * A ticket that expires releases what it holds at once: its backend (the open file) is closed and
 * transfers still in flight are cut, as a DELETE would, without waiting for the next request.
 * Open files are observed in {@code /proc/self/fd}.
 */
class TicketExpiryTest {

    @TempDir
    Path dir;

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Mono.delay(Duration.ofMillis(10)).block();
        }
    }

    /** Descriptors of this JVM open on {@code file}. */
    private static long openDescriptors(Path file) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            Path real = file.toRealPath();
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(real);
                } catch (IOException gone) {
                    return false; // closed while listing
                }
            }).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void addTicket(ServerFixture f, String id, Path image, long size, int timeout, int inactivity) {
        String json = "{\"uuid\":\"" + id + "\",\"size\":" + size + ",\"url\":\"file://" + image + "\",\"timeout\":"
                + timeout + ",\"inactivity_timeout\":" + inactivity + ",\"ops\":[\"read\"],\"transfer_id\":\"tr-" + id
                + "\"}";
        assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/" + id, json).status());
    }

    @Test
    void expiredIdleTicketClosesItsFile() throws Exception {
        long size = 1 << 20;
        Path image = dir.resolve("idle.raw");
        TestImages.randomSparseRaw(image, size, 3, 10, 64 << 10);
        Path other = dir.resolve("other.raw");
        TestImages.randomSparseRaw(other, size, 4, 10, 64 << 10);
        try (ServerFixture f = new ServerFixture(dir)) {
            addTicket(f, "idle", image, size, 300, 60);
            f.addTicket("other", other, size, "read");
            assertEquals(200, f.request(f.data, HttpMethod.OPTIONS, "/images/idle", null).status());
            assertEquals(200, f.request(f.data, HttpMethod.OPTIONS, "/images/other", null).status());
            assertTrue(openDescriptors(image) > 0, "OPTIONS opens the backend");

            // the ticket expires now: no request comes, yet the file is closed
            assertEquals(200, f.request(f.control, HttpMethod.PATCH, "/tickets/idle", "{\"timeout\":0}").status());
            await("file closed", () -> openDescriptors(image) == 0);

            ServerFixture.Reply r = f.request(f.data, HttpMethod.GET, "/images/idle", null,
                    h -> h.set(HttpHeaderNames.RANGE, "bytes=0-9"));
            assertEquals(403, r.status());
            assertEquals("You are not allowed to access this resource: Transfer=tr-idle expired\n", r.body());
            String info = f.request(f.control, HttpMethod.GET, "/tickets/idle", null).body();
            assertTrue(info.contains("\"active\":false") && info.contains("\"canceled\":false"), info);
            // extending an expired ticket does not revive it
            assertEquals(200, f.request(f.control, HttpMethod.PATCH, "/tickets/idle", "{\"timeout\":300}").status());
            assertEquals(403, f.request(f.data, HttpMethod.OPTIONS, "/images/idle", null).status());
            assertEquals(0, openDescriptors(image));

            // the other ticket keeps its file and serves
            assertTrue(openDescriptors(other) > 0);
            assertEquals(206, f.request(f.data, HttpMethod.GET, "/images/other", null,
                    h -> h.set(HttpHeaderNames.RANGE, "bytes=0-9")).status());
        }
    }

    @Test
    void ticketExpiringOnItsOwnTimeoutClosesItsFile() throws Exception {
        long size = 1 << 20;
        Path image = dir.resolve("short.raw");
        TestImages.randomSparseRaw(image, size, 5, 10, 64 << 10);
        try (ServerFixture f = new ServerFixture(dir)) {
            addTicket(f, "short", image, size, 1, 60);
            // opened by a request unless the ticket already expired (a slow machine): either way it ends closed
            int status = f.request(f.data, HttpMethod.OPTIONS, "/images/short", null).status();
            assertTrue(status == 200 || status == 403, "status " + status);
            // watched without requests to the data API: those would be activity that keeps the ticket alive
            await("file closed", () -> openDescriptors(image) == 0);
            ServerFixture.Reply r = f.request(f.data, HttpMethod.OPTIONS, "/images/short", null);
            assertEquals(403, r.status());
            assertEquals("You are not allowed to access this resource: Transfer=tr-short expired\n", r.body());
        }
    }

    @Test
    void expiryCutsAStalledTransferAndClosesTheFile() throws Exception {
        long size = 1L << 30; // sparse: socket buffers cannot absorb the download
        Path image = dir.resolve("big.raw");
        try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
            raf.setLength(size);
        }
        try (ServerFixture f = new ServerFixture(dir)) {
            // inactivity far away: only the expiry, 3 s after the last buffer moved, can end the stalled transfer
            addTicket(f, "stall", image, size, 3, 600);
            try (Socket s = new Socket("127.0.0.1", f.server.port())) {
                s.setReceiveBufferSize(64 << 10);
                s.getOutputStream().write("GET /images/stall HTTP/1.1\r\nHost: x\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                s.getInputStream().readNBytes(4096);
                assertTrue(openDescriptors(image) > 0);
                await("transfer active", () -> f.request(f.control, HttpMethod.GET, "/tickets/stall", null).body()
                        .contains("\"active\":true"));
                // nothing moves now (reading the socket would be progress): the expiry must cut the transfer
                await("transfer cut", () -> f.request(f.control, HttpMethod.GET, "/tickets/stall", null).body()
                        .contains("\"active\":false"));
                long got = drain(s);
                assertTrue(got < size, "the download was cut, got " + got);
            }
            await("file closed", () -> openDescriptors(image) == 0);
            await("buffers back", () -> f.server.buffersInUse() == 0);
            String info = f.request(f.control, HttpMethod.GET, "/tickets/stall", null).body();
            assertTrue(info.contains("\"active\":false"), info);
            assertEquals(403, f.request(f.data, HttpMethod.OPTIONS, "/images/stall", null).status());
        }
    }

    /** Reads until the server closes the connection; returns the bytes read. */
    private static long drain(Socket s) throws IOException {
        s.setSoTimeout(20_000);
        long n = 0;
        try (InputStream in = s.getInputStream()) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                n += r;
            }
        } catch (java.net.SocketException reset) {
            // closed with unread data: as good as an end
        }
        return n;
    }
}
