package io.extentflow.it.http;

import static io.extentflow.it.http.CliOverHttpTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.it.http.CliOverHttpTest.Run;
import io.netty.handler.codec.http.HttpMethod;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code extentflow copy SRC URL --output-format qcow2} into a ticket of {@code extentflow serve} over a
 * file, as a user types it: the qcow2 file goes to the ticket's file in one {@code PUT}, sized first with
 * {@code extentflow measure}; qemu-img then checks the ticket's file and compares it with the source. A
 * ticket too small, compression, and the server dying mid-upload each end in one line.
 */
class Qcow2TicketTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = (24L << 20) + (20 << 10);

    @TempDir
    static Path images;
    private static Path raw;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @BeforeAll
    static void images() throws Exception {
        raw = images.resolve("src.raw");
        TestImages.randomSparseRaw(raw, SIZE, 23, 40, 1 << 20);
        try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("the last bytes of the image".getBytes()), SIZE - 27); // a short last cluster
        }
        // data, zero clusters and unallocated clusters, in 32 KiB clusters
        Path qcow2 = images.resolve("src.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=32768",
                raw.toString(), qcow2.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 3M 1M", "-c", "write -P 5 9M 100k",
                qcow2.toString());
        // the same content as the qcow2 image, as a sparse stream file (a source of known size)
        Path qcow2Content = images.resolve("qcow2-content.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", qcow2.toString(), qcow2Content.toString());
        Run sparse = cli("copy", "--no-progress", qcow2.toString(), images.resolve("src.sparse").toString());
        assertEquals(0, sparse.code(), sparse.toString());
    }

    /** What {@code extentflow measure --output-format qcow2 --output=json SRC ARGS} says a copy needs. */
    private static long required(String source, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("measure", "--output-format", "qcow2",
                "--output=json", source));
        command.addAll(List.of(args));
        Run measure = cli(command.toArray(String[]::new));
        assertEquals(0, measure.code(), measure.toString());
        return JSON.readTree(measure.out()).get("required").asLong();
    }

    /** A new, sparse file of {@code size} bytes: what a ticket's image is before an upload. */
    private Path ticketFile(String name, long size) throws Exception {
        Path file = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
        }
        return file;
    }

    /** {@code qemu-img check} with no errors and no leaks; returns where the image ends. */
    private static long checked(Path image) throws Exception {
        ExternalTool.Result r = ExternalTool.run("qemu-img", "check", "--output=json", image.toString());
        assertEquals(0, r.exitCode(), "qemu-img check (0: no errors, no leaks): " + r);
        JsonNode check = JSON.readTree(r.stdout());
        assertEquals(0, check.path("leaks").asLong(), r::stdout);
        assertEquals(0, check.path("corruptions").asLong(), r::stdout);
        return check.get("image-end-offset").asLong();
    }

    /** {@code 4K}, {@code 2M} in bytes. */
    private static long bytes(String size) {
        return Long.parseLong(size.substring(0, size.length() - 1)) << (size.endsWith("M") ? 20 : 10);
    }

    private static void assertOneSuccessfulPut(ServerFixture f) {
        ServerFixture.await("the PUT to be counted", () -> f.counter("extentflow.server.requests", "op", "PUT") >= 1);
        assertEquals(1.0, f.counter("extentflow.server.requests", "op", "PUT", "status", "200"),
                "PUT 200s; all PUTs: " + f.counter("extentflow.server.requests", "op", "PUT"));
        assertEquals(1.0, f.counter("extentflow.server.requests", "op", "PUT"), "one request for the whole image");
        assertEquals(0.0, f.counter("extentflow.server.requests", "op", "PATCH"), "no PATCH");
    }

    @ParameterizedTest(name = "from {0}, {1} clusters")
    @CsvSource({"src.raw,4K,src.raw", "src.raw,64K,src.raw", "src.raw,2M,src.raw", "src.qcow2,64K,src.qcow2",
            "src.qcow2,4K,src.qcow2", "src.sparse,64K,qcow2-content.raw"})
    void aQcow2ImageReachesTheTicketsFileInOneRequest(String name, String clusterSize, String sameContent)
            throws Exception {
        String source = images.resolve(name).toString();
        long need = required(source, "--cluster-size", clusterSize);
        // exactly the size measure gave, not a byte to spare; named as the image it receives (the server
        // writes the bytes it is sent, whatever the name)
        Path file = ticketFile("ticket.qcow2", need);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("q", file, need, "read", "write");
            Run copy = cli("copy", "--no-progress", source, url, "--output-format", "qcow2", "--cluster-size",
                    clusterSize);
            assertEquals(0, copy.code(), copy.toString());
            assertEquals("", copy.err(), "nothing on standard error");
            assertOneSuccessfulPut(f);
        }
        assertEquals(need, checked(file), "the image ends where measure said it would");
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", file.toString()));
        assertEquals("qcow2", info.get("format").asText(), info::toString);
        assertEquals(bytes(clusterSize), info.get("cluster-size").asLong());
        ExternalTool.check("qemu-img", "compare", images.resolve(sameContent).toString(), file.toString());
    }

    @Test
    void aSparseImageOfOneGibibyteThroughTheCommand() throws Exception {
        long size = 1L << 30;
        Path sparse = dir.resolve("sparse-1g.raw");
        TestImages.randomSparseRaw(sparse, size, 29, 2, 1 << 20);
        long need = required(sparse.toString());
        ExternalTool.Result qemu = ExternalTool.run("qemu-img", "measure", "-O", "qcow2", "--output=json",
                sparse.toString());
        long qemuRequired = JSON.readTree(qemu.stdout()).get("required").asLong();
        System.out.println("1 GiB sparse image: extentflow measure required " + need + ", qemu-img measure "
                + qemuRequired);
        Path file = ticketFile("big.img", need);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("big", file, need, "read", "write");
            Run copy = cli("copy", "--no-progress", sparse.toString(), url, "--output-format", "qcow2");
            assertEquals(0, copy.code(), copy.toString());
            assertOneSuccessfulPut(f);
        }
        assertEquals(need, checked(file));
        ExternalTool.check("qemu-img", "compare", sparse.toString(), file.toString());
        assertTrue(need < size / 10, "the image holds the data and its metadata only: " + need);
    }

    @Test
    void aWriteTicketOnAQcow2ImageIsRefused() throws Exception {
        Path image = dir.resolve("existing.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "1G");
        long size = java.nio.file.Files.size(image);
        try (ServerFixture f = new ServerFixture(dir)) {
            AssertionError refused = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                    () -> f.addTicket("existing", image, size, "read", "write"));
            assertTrue(refused.getMessage().contains("status=400")
                    && refused.getMessage().contains("holds a qcow2 image, which a ticket serves read-only"),
                    refused.getMessage());
            f.addTicket("existing", image, 1L << 30, "read"); // its disk, read-only
        }
        ExternalTool.check("qemu-img", "check", image.toString());
    }

    @Test
    void aTicketTooSmallIsRefusedInOneLineBeforeAnythingIsSent() throws Exception {
        long need = required(raw.toString());
        Path file = ticketFile("small.img", need - 4096);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("small", file, need - 4096, "read", "write");
            Run copy = cli("copy", "--no-progress", raw.toString(), url, "--output-format", "qcow2");
            assertEquals(1, copy.code(), copy.toString());
            List<String> lines = copy.err().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), copy.err());
            String line = lines.get(0);
            assertTrue(line.contains(url) && line.contains("the ticket holds " + (need - 4096) + " bytes")
                    && line.contains("the qcow2 image needs " + need) && line.contains("extentflow measure"), line);
            assertEquals(0.0, f.counter("extentflow.server.requests", "op", "PUT"), "no PUT was sent");
        }
        assertEquals(0, TestImages.allocatedBytes(file), "the ticket's file was not written");
    }

    @Test
    void compressionBackingFilesVerifyAndStreamSourcesAreRefusedBeforeAnythingIsSent() throws Exception {
        Path file = ticketFile("c.img", 64L << 20);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("c", file, 64L << 20, "read", "write");
            for (List<String> option : List.of(List.of("--compress"), List.of("--compress=zlib"),
                    List.of("--backing", raw.toString()))) {
                List<String> args = new java.util.ArrayList<>(List.of("copy", "--no-progress", raw.toString(), url,
                        "--output-format", "qcow2"));
                args.addAll(option);
                Run copy = cli(args.toArray(String[]::new));
                assertEquals(2, copy.code(), copy.toString());
                List<String> lines = copy.err().lines().filter(l -> !l.isBlank()).toList();
                assertEquals(1, lines.size(), copy.err());
                assertTrue(lines.get(0).contains("does not apply to target " + url + " (qcow2 imageio ticket)")
                        && lines.get(0).contains("qcow2 file targets"), lines.get(0));
            }
            // --verify would read the ticket back as a disk, but it holds the qcow2 file's bytes
            Run verify = cli("copy", "--no-progress", "--verify", raw.toString(), url, "--output-format", "qcow2");
            assertNotEquals(0, verify.code(), verify.toString());
            List<String> lines = verify.err().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), verify.err());
            assertTrue(lines.get(0).contains("--verify reads " + url + " back as a disk"), lines.get(0));
            // a stream on standard input tells its size only at its end, too late to lay the image out
            Path err = dir.resolve("stdin.err");
            Process fromStdin = startCli(err, images.resolve("src.sparse"), "copy", "--no-progress", "-", url,
                    "--output-format", "qcow2");
            assertTrue(fromStdin.waitFor(2, TimeUnit.MINUTES));
            String printed = java.nio.file.Files.readString(err);
            assertEquals(1, fromStdin.exitValue(), printed);
            assertEquals(1, printed.lines().filter(l -> !l.isBlank()).count(), printed);
            assertTrue(printed.contains(url + ": a qcow2 image needs its size before the first byte"), printed);
            assertEquals(0.0, f.counter("extentflow.server.requests", "op", "PUT"), "no PUT was sent");
        }
        assertEquals(0, TestImages.allocatedBytes(file));
    }

    @Test
    void theServerDyingMidUploadIsOneClearErrorAndNoImage() throws Exception {
        // a source slowed by a delay on every read: the upload lasts seconds however fast the machine
        String slow = servers.nbdkit(dir, "--filter=delay", "pattern", "size=128M", "rdelay=50ms").uri();
        long need = required(slow);
        Path file = ticketFile("dying.img", need);
        ServerFixture f = new ServerFixture(dir);
        try {
            String url = f.addTicket("dying", file, need, "read", "write");
            // a process of its own, so that everything it prints on standard error is seen, as a user sees it
            Path err = dir.resolve("copy.err");
            Process copy = startCli(err, "copy", "--no-progress", "--request-size", "256K", "--max-in-flight", "1M",
                    slow, url, "--output-format", "qcow2");
            ServerFixture.await("the upload to start", () -> f.request(f.control, HttpMethod.GET, "/tickets/dying",
                    null).body().contains("\"active\":true"));
            f.close();
            assertTrue(copy.waitFor(2, TimeUnit.MINUTES), "the copy ends once the server is gone");
            String printed = java.nio.file.Files.readString(err);
            assertEquals(1, copy.exitValue(), printed);
            List<String> lines = printed.lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), printed);
            assertTrue(lines.get(0).startsWith("extentflow: upload of " + need + " bytes at offset 0 on " + url
                    + " failed: "), lines.get(0));
        } finally {
            f.close();
        }
        // what reached the file is no image qemu passes: its refcount table, sent last, is missing
        ExternalTool.Result check = ExternalTool.run("qemu-img", "check", file.toString());
        assertNotEquals(0, check.exitCode(), check.stdout().lines().limit(3).toList().toString());
    }

    /** {@code extentflow ARGS} as a new JVM with this test's class path, standard error into {@code err}. */
    private static Process startCli(Path err, String... args) throws java.io.IOException {
        return startCli(err, null, args);
    }

    /** The same, with standard input read from {@code in} (null: none). */
    private static Process startCli(Path err, Path in, String... args) throws java.io.IOException {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), io.extentflow.cli.Extentflow.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile());
        if (in != null) {
            process.redirectInput(in.toFile());
        }
        return process.start();
    }
}
