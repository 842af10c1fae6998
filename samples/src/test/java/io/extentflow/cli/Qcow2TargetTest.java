package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The acceptance matrix of qcow2 targets: every kind of source (the project's raw, qcow2 and zlib
 * qcow2 images, an empty 1 TiB qcow2, a fragmented image, an NBD export, a sparse stream file), copied
 * by {@code extentflow copy} into 4 KiB, 64 KiB and 2 MiB clusters, plain, zlib, zstd and as an overlay
 * on a backing file. Every image passes {@code qemu-img check} (no errors, no leaks) and
 * {@code qemu-img compare} with the source (an overlay through its backing file); the project's
 * {@code map --output=json} prints what {@code qemu-img map --output=json} prints; the project's own
 * reader gives back the source's bytes; {@code qemu-img info} shows the layout asked for.
 *
 * <p>An overlay of the empty 1 TiB image is the incremental case: its source is an empty qcow2 over a
 * 1 TiB backing file, copied with {@code --top-layer-only} over that backing file, so nothing is
 * written. (Hiding a 1 TiB backing file instead needs a zero cluster per cluster: 2 GiB of L2 tables
 * with 4 KiB clusters, for qemu-img as for us, which is no test of anything here.)
 */
class Qcow2TargetTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Not a multiple of any cluster size: the last cluster is short. */
    private static final long SIZE = (5L << 20) + (12 << 10);
    private static final long TIB = 1L << 40;

    @TempDir
    static Path dir;
    private static Path sparse;
    private static final NbdServers SERVERS = new NbdServers();
    private static final Map<String, Source> SOURCES = new LinkedHashMap<>();

    /**
     * A source of the matrix.
     *
     * @param address what {@code extentflow copy} reads
     * @param image   what qemu compares the copy with (the file behind an NBD export, the raw image a
     *                sparse stream was made of)
     * @param backing a raw file of the source's size for the overlay mode (with other content than the source)
     * @param overlay the source of the overlay mode, when it is another one; or null
     * @param flags   what the copy needs besides the target's options ({@code --top-layer-only})
     */
    record Source(String address, Path image, Path backing, Source overlay, List<String> flags) {
        Source(String address, Path image, Path backing) {
            this(address, image, backing, null, List.of());
        }

        Source forOverlay() {
            return overlay == null ? this : overlay;
        }
    }

    @BeforeAll
    static void images() throws Exception {
        sparse = dir.resolve("sparse.raw");
        TestImages.randomSparseRaw(sparse, SIZE, 61, 50, 192 << 10);
        SOURCES.put("raw", new Source(sparse.toString(), sparse, backing("raw", SIZE, 62)));

        Path qcow2 = dir.resolve("source.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", sparse.toString(), qcow2.toString());
        // zero clusters and an unaligned write, so the source has every kind of extent
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 1M 256k", "-c", "write -P 0x5a 3000k 7k",
                qcow2.toString());
        SOURCES.put("qcow2", new Source(qcow2.toString(), qcow2, backing("qcow2", SIZE, 63)));

        Path zlib = dir.resolve("zlib.qcow2");
        ExternalTool.check("qemu-img", "convert", "-c", "-O", "qcow2", "-o", "cluster_size=16384",
                sparse.toString(), zlib.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 2M 512k", "-c", "write -P 9 4100k 3k", zlib.toString());
        SOURCES.put("zlib qcow2", new Source(zlib.toString(), zlib, backing("zlib", SIZE, 64)));

        Path empty = dir.resolve("empty-1t.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", empty.toString(), "1T");
        Path bigBacking = dir.resolve("backing-1t.raw");
        try (FileChannel ch = FileChannel.open(bigBacking, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            byte[] data = new byte[1 << 20];
            new SplittableRandom(65).nextBytes(data);
            for (long at : new long[] {0, 3L << 30, 700L << 30, TIB - data.length}) {
                ch.write(ByteBuffer.wrap(data), at);
            }
        }
        Path emptyTop = dir.resolve("empty-1t-top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", bigBacking.getFileName().toString(),
                "-F", "raw", emptyTop.toString());
        SOURCES.put("empty 1 TiB", new Source(empty.toString(), empty, bigBacking,
                new Source(emptyTop.toString(), emptyTop, bigBacking, null, List.of("--top-layer-only")), List.of()));

        Path fragmented = dir.resolve("fragmented.raw");
        TestImages.randomSparseRaw(fragmented, 4L << 20, 66, 50, 4096);
        SOURCES.put("fragmented", new Source(fragmented.toString(), fragmented, backing("fragmented", 4L << 20, 67)));

        NbdServers.Server nbd = SERVERS.qemuNbd(dir, "-r", "-f", "qcow2", qcow2.toString());
        SOURCES.put("NBD export", new Source(nbd.uri(), qcow2, SOURCES.get("qcow2").backing()));

        Path stream = dir.resolve("stream.sparse");
        Cli.Result r = Cli.run("copy", sparse.toString(), stream.toString());
        assertEquals(0, r.exitCode(), r::toString);
        SOURCES.put("sparse stream", new Source(stream.toString(), sparse, SOURCES.get("raw").backing()));
    }

    private static Path backing(String name, long size, long seed) throws IOException {
        Path p = dir.resolve("backing-" + name.replace(' ', '-') + ".raw");
        TestImages.randomSparseRaw(p, size, seed, 70, 1 << 20);
        return p;
    }

    @AfterAll
    static void stopServers() {
        SERVERS.close();
    }

    enum Mode { PLAIN, ZLIB, ZSTD, OVERLAY }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String source : List.of("raw", "qcow2", "zlib qcow2", "empty 1 TiB", "fragmented", "NBD export",
                "sparse stream")) {
            for (String clusterSize : List.of("4K", "64K", "2M")) {
                for (Mode mode : Mode.values()) {
                    out.add(Arguments.of(source, clusterSize, mode));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} into {1} clusters, {2}")
    @MethodSource("cases")
    void qemuAndTheProjectReadWhatTheCopyWrote(String sourceName, String clusterSize, Mode mode) throws Exception {
        Source source = mode == Mode.OVERLAY ? SOURCES.get(sourceName).forOverlay() : SOURCES.get(sourceName);
        Path out = dir.resolve(sourceName.replace(' ', '-') + "-" + clusterSize + "-" + mode + ".qcow2");
        List<String> args = new ArrayList<>(List.of("copy", "--cluster-size", clusterSize));
        args.addAll(source.flags());
        switch (mode) {
            case ZLIB -> args.add("--compress=zlib");
            case ZSTD -> args.add("--compress");
            // a relative name: the backing file is beside the overlay
            case OVERLAY -> args.addAll(List.of("--backing", source.backing().getFileName().toString()));
            default -> { }
        }
        args.addAll(List.of(source.address(), out.toString()));
        Cli.Result copy = Cli.run(args.toArray(String[]::new));
        assertEquals(0, copy.exitCode(), copy::toString);

        JsonNode check = QemuImg.check(out);
        QemuImg.compare(source.image(), out);
        JsonNode info = QemuImg.info(out);
        assertEquals(Sizes.parse(clusterSize), info.get("cluster-size").asLong(), info::toString);
        assertEquals(mode == Mode.ZSTD ? "zstd" : "zlib", info.at("/format-specific/data/compression-type").asText(),
                info::toString);
        if (mode == Mode.OVERLAY) {
            assertEquals(source.backing().getFileName().toString(), info.get("backing-filename").asText(),
                    info::toString);
            assertEquals("raw", info.get("backing-filename-format").asText(), info::toString);
        } else {
            assertTrue(info.path("backing-filename").isMissingNode(), info::toString);
        }
        if ((mode == Mode.ZLIB || mode == Mode.ZSTD) && !sourceName.startsWith("empty")) {
            // every source but the empty one has compressible runs
            assertTrue(check.path("compressed-clusters").asLong() > 0, check::toString);
        }

        Cli.Result map = Cli.run("map", "--output=json", out.toString());
        assertEquals(0, map.exitCode(), map::toString);
        assertEquals(QemuImg.map(out), JSON.readTree(map.out()));

        // the project's reader, through a raw copy (sparse: the 1 TiB ones are mostly holes)
        Path back = dir.resolve(out.getFileName() + ".raw");
        try (ImageSource written = Endpoints.source(out.toString()).block(TIMEOUT);
             ImageSink raw = Endpoints.sink(back.toString(), written.size()).block(TIMEOUT)) {
            Copy.from(written).to(raw).run().block(TIMEOUT);
        }
        QemuImg.compare("raw", back, source.image());
        Files.delete(back);
    }

    /**
     * At a realistic size: 1 GiB with data (random, compressible, written zeros) spread over it in
     * runs up to 4 MiB, some 80 MiB in all, through the command as a user runs it (its own process).
     */
    @ParameterizedTest(name = "copy {0}")
    @ValueSource(strings = {"--cluster-size 64K", "--compress"})
    void aSparseGibibyteRawBecomesAQcow2ImageQemuReadsAsIt(String options) throws Exception {
        Path gib = dir.resolve("sparse-1g.raw");
        synchronized (Qcow2TargetTest.class) {
            if (!Files.exists(gib)) {
                TestImages.randomSparseRaw(gib, 1L << 30, 68, 8, 4 << 20);
            }
        }
        Path out = dir.resolve("sparse-1g-" + options.replaceAll("[^a-z0-9]", "") + ".qcow2");
        List<String> args = new ArrayList<>(List.of("copy"));
        args.addAll(List.of(options.split(" ")));
        args.addAll(List.of(gib.toString(), out.toString()));
        Cli.Result r = Cli.runProcess(List.of(), args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode check = QemuImg.check(out);
        QemuImg.compare(gib, out);
        assertEquals(QemuImg.map(out), JSON.readTree(Cli.run("map", "--output=json", out.toString()).out()));
        // data only: the image is far smaller than 1 GiB (the source holds about 80 MiB)
        long allocated = check.get("allocated-clusters").asLong() * QemuImg.info(out).get("cluster-size").asLong();
        assertTrue(allocated < TestImages.allocatedBytes(gib) + (8 << 20), "allocated " + allocated);
        assertTrue(Files.size(out) < 200L << 20, "file of " + Files.size(out) + " bytes");
    }

    @Test
    void aQcow2TargetOfTheCopyCommandIsAQcow2Image() throws Exception {
        Path out = dir.resolve("cli.qcow2");
        Cli.Result r = Cli.run("copy", sparse.toString(), out.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        assertEquals("qcow2", info.get("format").asText());
        ExternalTool.check("qemu-img", "check", out.toString());
        ExternalTool.check("qemu-img", "compare", sparse.toString(), out.toString());
    }

    @Test
    void aStreamIntoAQcow2FileIsOneClearLine() throws Exception {
        Path out = dir.resolve("stream.qcow2");
        Cli.Result r = Cli.runProcess(List.of("bash", "-c", "exec \"$@\" < " + sparse, "--"), "copy", "-", out.toString());
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), r::toString);
        assertFalse(Files.exists(out), r::toString);
    }
}
