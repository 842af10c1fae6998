package io.extentflow.sinks.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Copies every kind of source into qcow2 images of every cluster size, plain, compressed both ways
 * and as an overlay on a backing file, and has qemu judge each result: {@code qemu-img check} finds
 * no error and no leak, {@code qemu-img compare} finds the source's content (an overlay's through
 * its backing file), {@code qemu-img info} shows the layout asked for.
 */
class Qcow2FileSinkMatrixTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Not a multiple of any cluster size: the last cluster is short. */
    private static final long SMALL = (6L << 20) + (20 << 10) + 512;
    private static final long LARGE = 4L << 30;

    @TempDir
    static Path dir;

    /** A source: the image qemu maps and compares with, and a raw file with its bytes. */
    record Source(String name, Path image, Path raw, Path backing) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final List<Source> SOURCES = new ArrayList<>();

    @BeforeAll
    static void makeSources() throws IOException {
        Path sparse = dir.resolve("sparse.raw");
        TestImages.randomSparseRaw(sparse, SMALL, 23, 50, 256 << 10);
        SOURCES.add(new Source("sparse raw", sparse, sparse, backing("sparse", SMALL, 7)));

        Path qcow2 = dir.resolve("source.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", sparse.toString(), qcow2.toString());
        // zero clusters and an unaligned write, so the source has every kind of extent
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 1M 256k", "-c", "write -P 0x5a 3000k 7k",
                qcow2.toString());
        Path qcow2Raw = dir.resolve("source.qcow2.raw");
        ExternalTool.check("qemu-img", "convert", "-f", "qcow2", "-O", "raw", qcow2.toString(), qcow2Raw.toString());
        SOURCES.add(new Source("qcow2", qcow2, qcow2Raw, backing("qcow2", SMALL, 8)));

        Path empty = dir.resolve("empty.raw");
        try (FileChannel ch = FileChannel.open(empty, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            ch.write(ByteBuffer.allocate(1), LARGE - 1); // the last byte is a zero: qemu maps it as data
        }
        Path emptyBacking = dir.resolve("empty-backing.raw");
        try (FileChannel ch = FileChannel.open(emptyBacking, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] data = new byte[1 << 20];
            new SplittableRandom(9).nextBytes(data);
            ch.write(ByteBuffer.wrap(data), 1L << 30);
            ch.write(ByteBuffer.wrap(data), LARGE - data.length);
        }
        SOURCES.add(new Source("empty 4 GiB", empty, empty, emptyBacking));

        Path fragmented = dir.resolve("fragmented.raw");
        TestImages.randomSparseRaw(fragmented, 4L << 20, 29, 50, 4096);
        SOURCES.add(new Source("fragmented", fragmented, fragmented, backing("fragmented", 4L << 20, 10)));
    }

    private static Path backing(String name, long size, long seed) throws IOException {
        Path p = dir.resolve(name + "-backing.raw");
        TestImages.randomSparseRaw(p, size, seed, 70, 1 << 20);
        return p;
    }

    enum Mode { PLAIN, ZLIB, ZSTD, OVERLAY }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            for (int clusterSize : new int[] {4 << 10, 64 << 10, 2 << 20}) {
                for (Mode mode : Mode.values()) {
                    out.add(Arguments.of(s, clusterSize, mode));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "source {0}, {1}-byte clusters, {2}")
    @MethodSource("cases")
    void qemuReadsWhatWasWritten(int sourceIndex, int clusterSize, Mode mode) throws Exception {
        Source source = SOURCES.get(sourceIndex);
        Path out = dir.resolve("out-" + sourceIndex + "-" + clusterSize + "-" + mode + ".qcow2");
        Qcow2SinkOptions options = new Qcow2SinkOptions(clusterSize, switch (mode) {
            case ZLIB -> Qcow2Compression.ZLIB;
            case ZSTD -> Qcow2Compression.ZSTD;
            default -> Qcow2Compression.NONE;
        }, mode == Mode.OVERLAY ? source.backing().getFileName().toString() : null, null);

        try (QemuMappedSource src = QemuMappedSource.of(source.image(), source.raw(), false);
             Qcow2FileSink sink = Qcow2FileSink.open(out, src.size(), options).block(TIMEOUT)) {
            Copy.from(src).to(sink).run().block(TIMEOUT);
        }

        JsonNode check = JSON.readTree(ExternalTool.check("qemu-img", "check", "--output=json", out.toString()));
        assertEquals(0, check.path("check-errors").asInt(), check.toString());
        assertEquals(0, check.path("corruptions").asInt(), check.toString());
        assertEquals(0, check.path("leaks").asInt(), check.toString());
        ExternalTool.check("qemu-img", "compare", source.image().toString(), out.toString());

        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        assertEquals(clusterSize, info.get("cluster-size").asInt(), info.toString());
        JsonNode specific = info.get("format-specific").get("data");
        assertEquals("1.1", specific.get("compat").asText(), info.toString());
        assertEquals(16, specific.get("refcount-bits").asInt(), info.toString());
        assertEquals(mode == Mode.ZSTD ? "zstd" : "zlib", specific.get("compression-type").asText(), info.toString());
        assertTrue(!specific.path("corrupt").asBoolean(), info.toString());
        if (mode == Mode.OVERLAY) {
            assertEquals(source.backing().getFileName().toString(), info.get("backing-filename").asText(), info.toString());
            assertEquals("raw", info.get("backing-filename-format").asText(), info.toString());
        }
        if ((mode == Mode.ZLIB || mode == Mode.ZSTD) && !source.name().startsWith("empty")) {
            // every source but the empty one has compressible runs
            assertTrue(check.path("compressed-clusters").asLong() > 0, check.toString());
        }
        if (mode != Mode.OVERLAY) {
            // without a backing file nothing but data is allocated: at most the source's data, rounded to clusters
            long allocated = check.path("allocated-clusters").asLong() * clusterSize;
            assertTrue(allocated <= roundedData(source, clusterSize), "allocated " + allocated);
        }
    }

    /** The source's data extents as whole clusters: what an image without backing file may allocate at most. */
    private static long roundedData(Source source, int clusterSize) throws IOException {
        JsonNode map = JSON.readTree(ExternalTool.check("qemu-img", "map", "--output=json", source.image().toString()));
        long clusters = 0;
        long lastCluster = -1;
        for (JsonNode e : map) {
            if (!e.get("data").asBoolean()) {
                continue;
            }
            long first = e.get("start").asLong() / clusterSize;
            long last = (e.get("start").asLong() + e.get("length").asLong() - 1) / clusterSize;
            clusters += last - Math.max(first, lastCluster + 1) + 1;
            lastCluster = last;
        }
        return clusters * clusterSize;
    }

    static {
        // qemu's tools must be there: a missing one fails with an install hint, never skips
        ExternalTool.require("qemu-img");
        ExternalTool.require("qemu-io");
    }
}
