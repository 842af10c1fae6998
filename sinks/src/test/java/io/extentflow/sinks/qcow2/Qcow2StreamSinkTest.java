package io.extentflow.sinks.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.qcow2.Qcow2Format;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.file.DirectWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.publisher.Mono;

/**
 * The one-pass qcow2 writer: images written front to back pass {@code qemu-img check} and compare
 * equal to their source; an image cut short anywhere fails {@code qemu-img check}; on a regular file
 * a failed copy leaves no qcow2 magic; what it cannot stream it refuses in one line.
 */
class Qcow2StreamSinkTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Not a multiple of any cluster size: the last guest cluster is short. */
    private static final long SIZE = (5L << 20) + (12 << 10);

    @TempDir
    static Path dir;
    private static Path sparse;
    private static Path qcow2;
    private static Path qcow2Raw;

    @BeforeAll
    static void images() throws Exception {
        sparse = dir.resolve("sparse.raw");
        TestImages.randomSparseRaw(sparse, SIZE, 81, 50, 192 << 10);
        // a qcow2 source with data, zero clusters and unallocated clusters, in 16 KiB clusters
        qcow2 = dir.resolve("source.qcow2");
        ExternalTool.check("qemu-img", "convert", "-O", "qcow2", "-o", "cluster_size=16384", sparse.toString(),
                qcow2.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 2M 512k", "-c", "write -P 9 4100k 3k",
                "-c", "write -P 7 0 1k", qcow2.toString());
        qcow2Raw = dir.resolve("source.qcow2.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", qcow2.toString(), qcow2Raw.toString());
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String source : List.of("raw", "qcow2")) {
            for (int clusterSize : new int[] {4 << 10, 64 << 10, 2 << 20}) {
                for (String mode : List.of("pipe", "file", "direct")) {
                    out.add(Arguments.of(source, clusterSize, mode));
                }
            }
        }
        return out.stream();
    }

    private static ImageSource source(String kind) throws IOException {
        return kind.equals("raw") ? QemuMappedSource.of(sparse, sparse, false) : QemuMappedSource.of(qcow2, qcow2Raw, false);
    }

    /**
     * Streams {@code source} into {@code out}: as into a pipe (no positioned write), as into a regular
     * file, or as into a regular file with aligned data written directly.
     */
    private static void stream(ImageSource source, Path out, int clusterSize, String mode) throws IOException {
        try (OpenFile file = OpenFile.readWrite(out, true);
             DirectWriter direct = mode.equals("direct") ? DirectWriter.open(out, file.fd()) : null;
             Qcow2StreamSink sink = new Qcow2StreamSink(file.channel(), mode.equals("pipe") ? null : file.channel(),
                     direct, "file:" + out, source.size(), Qcow2SinkOptions.defaults().withClusterSize(clusterSize))) {
            if (mode.equals("direct")) {
                assertTrue(direct != null, "no direct I/O on the test's file system");
            }
            Copy.from(source).to(sink).options(CopyOptions.defaults().withRequestSize(256 << 10)
                    .withMaxInFlight(2 << 20)).run().block(TIMEOUT);
        }
    }

    @ParameterizedTest(name = "{0} source, {1}-byte clusters, into a {2}")
    @MethodSource("cases")
    void aStreamedImagePassesCheckAndEqualsItsSource(String kind, int clusterSize, String mode) throws Exception {
        Path out = dir.resolve(kind + "-" + clusterSize + "-" + mode + ".qcow2");
        long expectedAllocated = 0;
        try (ImageSource source = source(kind)) {
            // every guest cluster an extent with data touches is allocated, and nothing else
            TreeSet<Long> clusters = new TreeSet<>();
            for (var e : source.extents(0, SIZE).collectList().block(TIMEOUT)) {
                for (long c = e.start() / clusterSize; e.isData() && c <= (e.end() - 1) / clusterSize; c++) {
                    clusters.add(c);
                }
            }
            for (long c : clusters) {
                expectedAllocated += Math.min(clusterSize, SIZE - c * clusterSize);
            }
            stream(source, out, clusterSize, mode);
        }
        ExternalTool.check("qemu-img", "check", out.toString());
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        assertEquals("qcow2", info.get("format").asText());
        assertEquals(clusterSize, info.get("cluster-size").asInt());
        assertEquals(SIZE, info.get("virtual-size").asLong());
        ExternalTool.check("qemu-img", "compare", "-f", "raw", "-F", "qcow2",
                (kind.equals("raw") ? sparse : qcow2Raw).toString(), out.toString());
        long allocated = 0;
        for (JsonNode m : JSON.readTree(ExternalTool.check("qemu-img", "map", "--output=json", out.toString()))) {
            allocated += m.get("data").asBoolean() ? m.get("length").asLong() : 0;
        }
        assertEquals(expectedAllocated, allocated);
    }

    @Test
    void anImageCutShortAnywhereFailsCheck() throws Exception {
        Path whole = dir.resolve("whole.qcow2");
        try (ImageSource source = QemuMappedSource.of(sparse, sparse, false)) {
            stream(source, whole, 4096, "pipe");
        }
        ExternalTool.check("qemu-img", "check", whole.toString());
        byte[] bytes = Files.readAllBytes(whole);
        ByteBuffer header = ByteBuffer.wrap(bytes);
        long l1 = header.getLong(Qcow2Format.HEADER_L1_TABLE_OFFSET);
        long table = header.getLong(Qcow2Format.HEADER_REFCOUNT_TABLE_OFFSET);
        TreeSet<Long> cuts = new TreeSet<>(List.of(4096L, 4096L + 100, l1, l1 + 8, l1 + 4096, (l1 + table) / 2,
                table - 4096, table - 4095, table - 1, table, table + 4));
        for (long cut : cuts) {
            Path cutFile = dir.resolve("cut-" + cut + ".qcow2");
            Files.write(cutFile, java.util.Arrays.copyOf(bytes, (int) cut));
            ExternalTool.Result r = ExternalTool.run("qemu-img", "check", cutFile.toString());
            assertNotEquals(0, r.exitCode(), "an image cut at " + cut + " of " + bytes.length + " passed check: "
                    + r.stdout());
        }
    }

    @Test
    void aFailedCopyToARegularFileLeavesItEmpty() throws Exception {
        Path out = dir.resolve("failed.qcow2");
        try (ImageSource good = QemuMappedSource.of(sparse, sparse, false);
             FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ImageSource failing = new ForwardingImageSource() {
                @Override
                public ImageSource delegate() {
                    return good;
                }

                @Override
                public Mono<Void> read(long offset, ByteBuffer target) {
                    return offset >= (3 << 20) ? Mono.error(new IOException("disk gone at " + offset))
                            : good.read(offset, target);
                }
            };
            Qcow2StreamSink sink = new Qcow2StreamSink(ch, ch, null, "file:" + out, SIZE, Qcow2SinkOptions.defaults());
            Exception e = assertThrows(Exception.class, () -> Copy.from(failing).to(sink).run().block(TIMEOUT));
            assertTrue(e.getMessage().contains("disk gone"), e.getMessage());
            // before the close, what was written has no magic
            assertTrue(Files.size(out) > 0);
            assertEquals(0, ByteBuffer.wrap(Files.readAllBytes(out)).getInt(0), "magic before the end");
            sink.close();
        }
        assertEquals(0, Files.size(out));
    }

    @Test
    void whatCannotBeStreamedIsRefusedInOneLine() {
        Qcow2SinkOptions plain = Qcow2SinkOptions.defaults();
        for (var c : List.of(
                new Object[] {ImageSource.UNKNOWN_SIZE, plain, "needs its size before the first byte"},
                new Object[] {SIZE, plain.withCompression(Qcow2Compression.ZSTD), "cannot be streamed in one pass"},
                new Object[] {SIZE, plain.withBacking("base.raw", "raw"), "overlay on a backing file"})) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Qcow2StreamSink(null, null, null, "stdout", (long) c[0], (Qcow2SinkOptions) c[1]));
            assertTrue(e.getMessage().contains((String) c[2]) && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
