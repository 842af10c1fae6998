package io.extentflow.it.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.file.FileSinkOptions;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Raw file to raw file copies through the real source, sink and copy operator. */
class FileCopyTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    static CopyResult copy(Path from, Path to, CopyOptions options) {
        return copy(from, to, options, EndpointOptions.defaults());
    }

    static CopyResult copy(Path from, Path to, CopyOptions options, EndpointOptions targetOptions) {
        ImageSource src = Endpoints.source(from.toString()).block(TIMEOUT);
        try (src; ImageSink dst = Endpoints.sink(to.toString(), src.size(), targetOptions).block(TIMEOUT)) {
            return Copy.from(src).to(dst).options(options).run().block(TIMEOUT);
        }
    }

    static long dataBytes(List<TestImages.Run> runs) {
        return runs.stream().filter(r -> !r.kind().equals("zero")).mapToLong(TestImages.Run::length).sum();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4})
    void randomSparseImagesCopyExactlyAndStaySparse(long seed) throws Exception {
        Path src = dir.resolve("src.raw");
        Path dst = dir.resolve("dst.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(src, 48L << 20, seed, 35, 3 << 20);
        // without the kernel's copy offload, which copies written zeros as they are (CopyOffloadTest)
        CopyResult r = copy(src, dst, CopyOptions.defaults().withRequestSize(1 << 20).withMaxInFlight(8 << 20),
                EndpointOptions.defaults().with(FileSinkOptions.NO_OFFLOAD, true));
        TestImages.assertSameContent(src, dst);
        long data = dataBytes(runs);
        assertTrue(TestImages.allocatedBytes(dst) <= data + data / 100 + 4096,
                "allocated " + TestImages.allocatedBytes(dst) + " for " + data + " bytes of data");
        assertEquals(data, r.dataBytes(), "written zeros in the source must not be written as data");
        assertEquals(48L << 20, r.dataBytes() + r.zeroedBytes() + r.skippedBytes());
    }

    @Test
    void anEmptyTerabyteCopiesWithoutReadingAnything() throws Exception {
        Path src = dir.resolve("empty.raw");
        try (RandomAccessFile f = new RandomAccessFile(src.toFile(), "rw")) {
            f.setLength(1L << 40);
        }
        Path dst = dir.resolve("copy.raw");
        CopyResult r = copy(src, dst, CopyOptions.defaults());
        assertEquals(0, r.readBytes());
        assertEquals(1L << 40, Files.size(dst));
        assertEquals(0, TestImages.allocatedBytes(dst));
    }

    @Test
    void unalignedSizeIsKeptExactly() throws Exception {
        Path src = dir.resolve("odd.raw");
        byte[] bytes = new byte[10_000_001];
        new SplittableRandom(8).nextBytes(bytes);
        Files.write(src, bytes);
        Path dst = dir.resolve("odd.copy");
        copy(src, dst, CopyOptions.defaults().withRequestSize(1 << 20));
        TestImages.assertSameContent(src, dst);
    }

    @Test
    void overwritingAnExistingTargetZeroesWhatMustReadAsZero() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 16L << 20, 77, 30, 1 << 20);
        Path dst = dir.resolve("dst.raw");
        byte[] garbage = new byte[16 << 20];
        new SplittableRandom(78).nextBytes(garbage);
        Files.write(dst, garbage);
        CopyResult r = copy(src, dst, CopyOptions.defaults());
        TestImages.assertSameContent(src, dst);
        assertTrue(r.zeroedBytes() > 0);
    }
}
