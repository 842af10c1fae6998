package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A job's JSON options take every endpoint option the providers declare, by its JSON name, and reach the ends. */
class JobEndpointOptionsTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @Test
    void allocateZeroesInAJobReachesTheFileSink() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 11, 40, 256 << 10);
        Path punched = denseFile(dir.resolve("punched.raw"));
        Path kept = denseFile(dir.resolve("kept.raw"));
        try (DaemonFixture f = new DaemonFixture(dir)) {
            JsonNode plain = f.awaitResult(f.submit(src.toString(), punched.toString(), null));
            assertEquals("done", plain.get("state").asText(), plain.toString());
            JsonNode allocating = f.awaitResult(f.submit(src.toString(), kept.toString(),
                    JobsClient.JSON.createObjectNode().put("allocate_zeroes", true)));
            assertEquals("done", allocating.get("state").asText(), allocating.toString());
        }
        TestImages.assertSameContent(src, punched);
        TestImages.assertSameContent(src, kept);
        assertTrue(TestImages.allocatedBytes(punched) < SIZE, "without the option the zero ranges become holes");
        assertTrue(TestImages.allocatedBytes(kept) >= SIZE,
                "allocate_zeroes left " + TestImages.allocatedBytes(kept) + " of " + SIZE + " bytes allocated");
    }

    @Test
    void qcow2OptionsInAJobShapeTheImage() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 13, 50, 256 << 10);
        Path base = dir.resolve("base.raw");
        TestImages.randomSparseRaw(base, SIZE, 14, 70, 1 << 20);
        Path compressed = dir.resolve("compressed.img");
        Path overlay = dir.resolve("overlay.qcow2");
        try (DaemonFixture f = new DaemonFixture(dir)) {
            JsonNode first = f.awaitResult(f.submit(src.toString(), compressed.toString(), JobsClient.JSON
                    .createObjectNode().put("output_format", "qcow2").put("cluster_size", 2 << 20)
                    .put("compress", "zlib")));
            assertEquals("done", first.get("state").asText(), first.toString());
            JsonNode second = f.awaitResult(f.submit(src.toString(), overlay.toString(), JobsClient.JSON
                    .createObjectNode().put("backing", "base.raw").put("backing_format", "raw")
                    .put("cluster_size", 4096).put("compress", true)));
            assertEquals("done", second.get("state").asText(), second.toString());
            Path orphan = dir.resolve("orphan.qcow2");
            JsonNode missing = f.awaitResult(f.submit(src.toString(), orphan.toString(), JobsClient.JSON
                    .createObjectNode().put("backing", "missing.raw")));
            assertEquals("failed", missing.get("state").asText(), missing.toString());
            assertTrue(missing.get("error").asText().contains("backing file missing.raw (" + dir.resolve("missing.raw")
                    + ") does not exist"), missing.toString());
            assertTrue(Files.notExists(orphan), missing.toString());
        }
        JsonNode check = QemuImg.check(compressed);
        assertTrue(check.path("compressed-clusters").asLong() > 0, check::toString);
        QemuImg.compare(src, compressed);
        JsonNode info = QemuImg.info(compressed);
        assertEquals("qcow2", info.get("format").asText(), info::toString);
        assertEquals(2 << 20, info.get("cluster-size").asInt(), info::toString);
        assertEquals("zlib", info.at("/format-specific/data/compression-type").asText(), info::toString);

        QemuImg.check(overlay);
        QemuImg.compare(src, overlay);
        info = QemuImg.info(overlay);
        assertEquals(4096, info.get("cluster-size").asInt(), info::toString);
        assertEquals("zstd", info.at("/format-specific/data/compression-type").asText(), info::toString);
        assertEquals("base.raw", info.get("backing-filename").asText(), info::toString);
        assertEquals("raw", info.get("backing-filename-format").asText(), info::toString);
    }

    @Test
    void aJobSendsAQcow2ImageToATicketInOneRequest() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 15, 40, 256 << 10);
        // the ticket's file gets exactly the size extentflow measure says the image needs
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.PrintWriter print = new java.io.PrintWriter(out, true);
        assertEquals(0, io.extentflow.cli.Extentflow.execute(new io.extentflow.cli.args.CommandSpec.Console(print,
                print), "measure", "--output-format", "qcow2", "--cluster-size", "4K", "--output=json", src.toString()));
        long need = JobsClient.JSON.readTree(out.toString()).get("required").asLong();
        Path file = dir.resolve("ticket.qcow2");
        try (var f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(need);
        }
        try (DaemonFixture f = new DaemonFixture(dir)) {
            String url = f.ticket("q", file, need, "read", "write");
            JsonNode job = f.awaitResult(f.submit(src.toString(), url, JobsClient.JSON.createObjectNode()
                    .put("output_format", "qcow2").put("cluster_size", 4096)));
            assertEquals("done", job.get("state").asText(), job.toString());
        }
        JsonNode check = QemuImg.check(file);
        assertEquals(need, check.get("image-end-offset").asLong(), check::toString);
        QemuImg.compare(src, file);
        assertEquals(4096, QemuImg.info(file).get("cluster-size").asInt());
    }

    @Test
    void aValueOfTheWrongTypeOrRangeIsRefusedInTheOptionsTerms() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 1 << 20, 12, 50, 64 << 10);
        String dst = dir.resolve("dst.raw").toString();
        try (DaemonFixture f = new DaemonFixture(dir)) {
            assertBad(f, src, dst, "{\"allocate_zeroes\":\"yes\"}",
                    "options.allocate_zeroes must be true or false, got \"yes\"");
            assertBad(f, src, dst, "{\"retries\":-1}", "options.retries must be a non-negative integer, got -1");
            assertBad(f, src, dst, "{\"retries\":1.5}", "options.retries must be a non-negative integer, got 1.5");
            assertBad(f, src, dst, "{\"ca_file\":42}", "options.ca_file must be a path, got 42");
            assertBad(f, src, dst, "{\"connections\":65}", "options.connections 65 is more than the daemon allows");
            assertBad(f, src, dst, "{\"cafile\":\"/x.pem\"}", "unknown field \"options.cafile\"");
            assertBad(f, src, dst, "{\"cluster_size\":3000}",
                    "options.cluster_size must be a power of two from 4K to 2M, got 3000");
            assertBad(f, src, dst, "{\"compress\":\"lz4\"}", "options.compress must be one of zlib, zstd, got \"lz4\"");
            // an option neither end takes: refused, not ignored (a raw file is never compressed)
            assertBad(f, src, dst, "{\"compress\":\"zstd\"}", "options.compress does not apply to target " + dst
                    + " (raw file); it applies to: qcow2 file targets");
            assertBad(f, src, dst, "{\"cluster_size\":65536}", "options.cluster_size does not apply to target");
            assertEquals(0, f.daemon.jobs().list().size());
            assertFalse(Files.exists(Path.of(dst)));
        }
    }

    private static void assertBad(DaemonFixture f, Path src, String dst, String options, String expected) {
        var r = f.request(HttpMethod.POST, "/v1/copies", "{\"source\":\"" + src + "\",\"target\":\"" + dst
                + "\",\"options\":" + options + "}");
        assertEquals(400, r.status(), r.toString());
        String error = r.json().get("error").asText();
        assertTrue(error.contains(expected), "expected '" + expected + "' in: " + error);
    }

    private static Path denseFile(Path path) throws Exception {
        byte[] data = new byte[(int) SIZE];
        new SplittableRandom(98).nextBytes(data);
        Files.write(path, data);
        return path;
    }
}
