package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import io.extentflow.engine.testing.NbdServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a write ticket does to its file: {@code "sparse"} decides whether zeroing deallocates (as in
 * ovirt-imageio, where {@code false} is the default), and a file that cannot take the ticket is
 * refused when the ticket is added, with a one-line 400.
 */
class WriteTicketTest {

    private static final int SIZE = 8 << 20;
    private static final int ZERO_AT = 1 << 20;
    private static final int ZERO_LENGTH = 4 << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    /** A file of random bytes: every block allocated. */
    private Path allocatedFile(String name, long seed) throws Exception {
        byte[] bytes = new byte[SIZE];
        new Random(seed).nextBytes(bytes);
        return Files.write(dir.resolve(name), bytes);
    }

    private static String ticketJson(String id, Path file, long size, String sparse) {
        return ticketJson(id, "file://" + file, size, sparse);
    }

    private static String ticketJson(String id, String url, long size, String sparse) {
        return "{\"uuid\":\"" + id + "\",\"size\":" + size + ",\"url\":\"" + url + "\",\"timeout\":300,"
                + (sparse == null ? "" : "\"sparse\":" + sparse + ",") + "\"ops\":[\"write\"]}";
    }

    /** Zeroes the middle of the file through the ticket and checks the bytes; returns the file's allocation. */
    private static long zeroMiddle(ServerFixture f, String id, Path file) throws Exception {
        byte[] before = Files.readAllBytes(file);
        ServerFixture.Reply zero = f.request(f.data, HttpMethod.PATCH, "/images/" + id,
                "{\"op\":\"zero\",\"offset\":" + ZERO_AT + ",\"size\":" + ZERO_LENGTH + ",\"flush\":true}");
        assertEquals(200, zero.status(), zero.body());
        byte[] after = Files.readAllBytes(file);
        byte[] expected = before.clone();
        Arrays.fill(expected, ZERO_AT, ZERO_AT + ZERO_LENGTH, (byte) 0);
        assertArrayEquals(expected, after, id + ": only the range is zero");
        return TestImages.allocatedBytes(file);
    }

    @Test
    void sparseFalseAllocatesZeroesAndSparseTruePunchesHoles() throws Exception {
        Path dense = allocatedFile("dense.raw", 1);
        Path byDefault = allocatedFile("default.raw", 2);
        Path sparse = allocatedFile("sparse.raw", 3);
        assertTrue(TestImages.allocatedBytes(dense) >= SIZE, "the test files start fully allocated");
        try (ServerFixture f = new ServerFixture(dir)) {
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/d", ticketJson("d", dense, SIZE, "false"))
                    .status());
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/n", ticketJson("n", byDefault, SIZE, null))
                    .status());
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/s", ticketJson("s", sparse, SIZE, "true"))
                    .status());
            // both kinds offer zero, as upstream
            for (String id : new String[] {"d", "s"}) {
                String options = f.request(f.data, HttpMethod.OPTIONS, "/images/" + id, null).body();
                assertTrue(options.contains("\"zero\""), options);
            }
            assertTrue(zeroMiddle(f, "d", dense) >= SIZE, "sparse=false keeps the zeroed range allocated");
            assertTrue(zeroMiddle(f, "n", byDefault) >= SIZE, "sparse is false by default");
            long punched = zeroMiddle(f, "s", sparse);
            assertTrue(punched <= SIZE - ZERO_LENGTH + (64 << 10), "sparse=true deallocates, allocated " + punched);
        }
    }

    @Test
    void nbdTicketsHonourSparseToo() throws Exception {
        Path dense = allocatedFile("nbd-dense.raw", 5);
        Path sparse = allocatedFile("nbd-sparse.raw", 6);
        // --discard=unmap: qemu-nbd may punch holes for zero requests that allow it (no NO_HOLE flag)
        var denseExport = servers.qemuNbd(dir, "-e", "8", "--discard=unmap", "-f", "raw", dense.toString());
        var sparseExport = servers.qemuNbd(dir, "-e", "8", "--discard=unmap", "-f", "raw", sparse.toString());
        try (ServerFixture f = new ServerFixture(dir)) {
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/nd",
                    ticketJson("nd", denseExport.uri(), SIZE, "false")).status());
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/ns",
                    ticketJson("ns", sparseExport.uri(), SIZE, "true")).status());
            assertTrue(zeroMiddle(f, "nd", dense) >= SIZE, "sparse=false zeroes with NO_HOLE");
            long punched = zeroMiddle(f, "ns", sparse);
            assertTrue(punched <= SIZE - ZERO_LENGTH + (64 << 10), "sparse=true lets qemu-nbd punch, allocated "
                    + punched);
        }
    }

    @Test
    void existingFileOfAnotherSizeIsRefusedWhenTheTicketIsAdded() throws Exception {
        Path small = allocatedFile("small.raw", 4);
        byte[] content = Files.readAllBytes(small);
        try (ServerFixture f = new ServerFixture(dir)) {
            ServerFixture.Reply r = f.request(f.control, HttpMethod.PUT, "/tickets/big",
                    ticketJson("big", small, 2L * SIZE, "true"));
            assertEquals(400, r.status(), r.body());
            assertEquals(1, r.body().lines().count(), r.body());
            assertTrue(r.body().startsWith("Invalid ticket: cannot write file://" + small + ": "), r.body());
            assertTrue(r.body().contains(Integer.toString(SIZE)) && r.body().contains(Long.toString(2L * SIZE)),
                    r.body());
            assertEquals(404, f.request(f.control, HttpMethod.GET, "/tickets/big", null).status());
            assertEquals(403, f.request(f.data, HttpMethod.OPTIONS, "/images/big", null).status());
            assertArrayEquals(content, Files.readAllBytes(small), "the file is left alone");

            // a missing directory is refused the same way
            ServerFixture.Reply nowhere = f.request(f.control, HttpMethod.PUT, "/tickets/x",
                    ticketJson("x", dir.resolve("no/such/dir.raw"), SIZE, "true"));
            assertEquals(400, nowhere.status(), nowhere.body());
            assertEquals(1, nowhere.body().lines().count(), nowhere.body());

            // the server keeps serving; a read ticket may cover more than the file (reads stop at its end)
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/ok", ticketJson("ok", small, SIZE, "true"))
                    .status());
            assertEquals(200, f.request(f.data, HttpMethod.PUT, "/images/ok?flush=n", "abcd",
                    h -> h.set(HttpHeaderNames.CONTENT_RANGE, "bytes 0-3/*")).status());
            String readOnly = "{\"uuid\":\"ro\",\"size\":" + 2L * SIZE + ",\"url\":\"file://" + small
                    + "\",\"timeout\":300,\"ops\":[\"read\"]}";
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/ro", readOnly).status());
            String options = f.request(f.data, HttpMethod.OPTIONS, "/images/ro", null).body();
            assertTrue(options.contains("\"size\":" + SIZE), options);
        }
    }
}
