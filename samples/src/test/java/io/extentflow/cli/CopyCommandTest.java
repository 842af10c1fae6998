package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.io.Posix;
import io.extentflow.engine.nbd.NbdClient;
import io.extentflow.engine.testing.TestImages;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CopyCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void copiesRandomSparseImagesExactlyAndSparsely(long seed) throws Exception {
        Path src = dir.resolve("src.raw");
        Path dst = dir.resolve("dst.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(src, 48L << 20, seed, 35, 1 << 20);
        long nonZeroData = runs.stream().filter(r -> !r.kind().equals("zero")).mapToLong(TestImages.Run::length).sum();

        // --no-offload: the kernel's copy (the default between local files) copies written zeros as they
        // are; zero detection, which keeps them out of the target, runs on the copy's own reads
        Cli.Result r = Cli.run("copy", "--no-offload", src.toString(), dst.toString());

        assertEquals(0, r.exitCode(), r::toString);
        TestImages.assertSameContent(src, dst);
        long allocated = Posix.allocatedBytes(dst);
        assertTrue(allocated <= nonZeroData + nonZeroData / 100,
                "target allocates " + allocated + " bytes for " + nonZeroData + " bytes of non-zero data");
        assertTrue(r.out().startsWith("copied 48 MiB: "), r::toString);
        assertEquals("", r.err());
    }

    @Test
    void helpDefaultsAreTheEngineDefaults() {
        assertEquals(CopyOptions.DEFAULT_REQUEST_SIZE, Sizes.parse(CopyCommand.DEFAULT_REQUEST_SIZE));
        assertEquals(NbdClient.PREFERRED_REQUEST_SIZE, Sizes.parse(CopyCommand.NBD_REQUEST_SIZE));
        assertEquals(NbdClient.PREFERRED_WRITE_SIZE, Sizes.parse(CopyCommand.NBD_WRITE_SIZE));
        assertEquals(CopyOptions.DEFAULT_MAX_IN_FLIGHT, Sizes.parse(CopyCommand.DEFAULT_MAX_IN_FLIGHT));
    }

    @Test
    void copiesIntoAnExistingTargetOfTheSameSize() throws Exception {
        Path src = dir.resolve("src.raw");
        Path dst = dir.resolve("dst.raw");
        TestImages.randomSparseRaw(src, 8L << 20, 7, 50, 256 << 10);
        TestImages.randomSparseRaw(dst, 8L << 20, 8, 50, 256 << 10); // stale content to be replaced

        Cli.Result r = Cli.run("copy", "--request-size", "1M", "--max-in-flight", "4MiB", src.toString(),
                "file:" + dst);

        assertEquals(0, r.exitCode(), r::toString);
        TestImages.assertSameContent(src, dst);
    }

    @Test
    void oneTebibyteEmptyImageCopiesQuicklyAndStaysSparse() throws Exception {
        Path src = dir.resolve("empty-1t.raw");
        Path dst = dir.resolve("copy-1t.raw");
        try (RandomAccessFile f = new RandomAccessFile(src.toFile(), "rw")) {
            f.setLength(1L << 40);
        }

        long t0 = System.nanoTime();
        Cli.Result r = Cli.run("copy", "--json", src.toString(), dst.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(seconds < 5, "took " + seconds + " s");
        assertEquals(1L << 40, dst.toFile().length());
        assertTrue(Posix.allocatedBytes(dst) <= 64 << 10, "allocated " + Posix.allocatedBytes(dst));
        JsonNode j = JSON.readTree(r.out());
        assertEquals(1L << 40, j.get("size").asLong());
        assertEquals(0, j.get("dataBytes").asLong());
        assertEquals(0, j.get("readBytes").asLong());
        assertEquals(1L << 40, j.get("skippedBytes").asLong() + j.get("zeroedBytes").asLong());
    }

    @Test
    void jsonSummaryParsesAndAddsUp() throws Exception {
        Path src = dir.resolve("src.raw");
        Path dst = dir.resolve("dst.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(src, 16L << 20, 11, 40, 512 << 10);
        long written = runs.stream().mapToLong(TestImages.Run::length).sum();

        Cli.Result r = Cli.run("copy", "--json", "--no-flush", src.toString(), dst.toString());

        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(1, r.out().lines().count(), r::toString);
        JsonNode j = JSON.readTree(r.out());
        assertEquals(src.toString(), j.get("source").asText());
        assertEquals(dst.toString(), j.get("target").asText());
        assertEquals(16L << 20, j.get("size").asLong());
        assertEquals(j.get("size").asLong(),
                j.get("dataBytes").asLong() + j.get("zeroedBytes").asLong() + j.get("skippedBytes").asLong());
        assertEquals(written, j.get("readBytes").asLong(), "reads exactly the allocated runs");
        assertTrue(j.get("seconds").asDouble() > 0);
        assertTrue(j.get("bytesPerSecond").asLong() > 0);
        assertTrue(j.get("peakBytesInFlight").asLong() <= 64L << 20);
        TestImages.assertSameContent(src, dst);
    }

    @Test
    void withoutZeroDetectionWrittenZerosAreCopiedAsData() throws Exception {
        Path src = dir.resolve("src.raw");
        Path dst = dir.resolve("dst.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(src, 16L << 20, 5, 60, 512 << 10);
        long written = runs.stream().mapToLong(TestImages.Run::length).sum();
        assertTrue(runs.stream().anyMatch(run -> run.kind().equals("zero")), "the image has written zeros");

        Cli.Result r = Cli.run("copy", "--json", "--no-detect-zeroes", src.toString(), dst.toString());

        assertEquals(0, r.exitCode(), r::toString);
        assertEquals(written, JSON.readTree(r.out()).get("dataBytes").asLong());
        TestImages.assertSameContent(src, dst);
    }
}
