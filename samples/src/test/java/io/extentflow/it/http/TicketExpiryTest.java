package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ticket that expires releases what it holds at once: its backend (the open file) is closed and
 * transfers still in flight are cut, as a DELETE would, without waiting for the next request.
 * Open files are observed in {@code /proc/self/fd}.
 */
class TicketExpiryTest {

    @TempDir
    Path dir;
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
            ServerFixture.await("file closed", () -> openDescriptors(image) == 0);

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
            ServerFixture.await("file closed", () -> openDescriptors(image) == 0);
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
            try (Socket s = ServerFixture.stalledDownload(f.server.port(), "/images/stall")) {
                assertTrue(openDescriptors(image) > 0);
                ServerFixture.await("transfer active", () -> f.request(f.control, HttpMethod.GET, "/tickets/stall", null).body()
                        .contains("\"active\":true"));
                // nothing moves now (reading the socket would be progress): the expiry must cut the transfer
                ServerFixture.await("transfer cut", () -> f.request(f.control, HttpMethod.GET, "/tickets/stall", null).body()
                        .contains("\"active\":false"));
                long got = ServerFixture.readUntilClosed(s);
                assertTrue(got < size, "the download was cut, got " + got);
            }
            ServerFixture.await("file closed", () -> openDescriptors(image) == 0);
            ServerFixture.await("buffers back", () -> f.server.buffersInUse() == 0);
            String info = f.request(f.control, HttpMethod.GET, "/tickets/stall", null).body();
            assertTrue(info.contains("\"active\":false"), info);
            assertEquals(403, f.request(f.data, HttpMethod.OPTIONS, "/images/stall", null).status());
        }
    }
}
