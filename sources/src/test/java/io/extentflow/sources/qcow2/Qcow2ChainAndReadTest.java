package io.extentflow.sources.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Chains beyond the matrix (deep, absolute names, no declared backing format), preallocated images,
 * concurrent partial reads of compressed clusters, calls from parallel threads (BlockHound is on),
 * {@code details()} and opening through {@link Endpoints}.
 */
@Timeout(120)
class Qcow2ChainAndReadTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private void assertMatchesQemu(Path image) throws IOException {
        Path expected = Qcow2Fixtures.qemuRaw(image, dir.resolve("expected.raw"));
        var qemuMap = Qcow2Fixtures.qemuMap(image, -1, -1);
        try (Qcow2Source s = Qcow2Source.openNow(image, false)) {
            Qcow2Fixtures.assertSameList(qemuMap, s.map(0, s.size()).collectList().block(TIMEOUT), "map");
            Qcow2Fixtures.assertSameList(Qcow2Fixtures.extentsFromMap(qemuMap, false),
                    s.extents(0, s.size()).collectList().block(TIMEOUT), "extents");
            Path actual = Qcow2SourceMatrixTest.readAll(s, dir.resolve("actual.raw"),
                    new java.util.SplittableRandom(image.hashCode()));
            TestImages.assertSameContent(expected, actual);
        }
    }

    @Test
    void deepChainWithAbsoluteNamesAndNoDeclaredFormat() throws IOException {
        Path base = dir.resolve("l0.raw");
        TestImages.randomSparseRaw(base, 4L << 20, 11, 50, 128 << 10);
        Path below = base;
        for (int i = 1; i <= 12; i++) {
            Path layer = dir.resolve("l" + i + ".qcow2");
            String fmt = i == 1 ? "raw" : "qcow2";
            ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=" + (i % 2 == 0 ? 4096 : 65536),
                    "-b", below.toAbsolutePath().toString(), "-F", fmt, layer.toString(), "4M");
            Qcow2Fixtures.qemuIo(layer, "qcow2", "write -P " + i + " " + (i * 300_000) + " 70000",
                    "write -z " + (i * 200_000 + 4096 * i) + " 8192");
            below = layer;
        }
        // hide the declared backing format of two layers (over qcow2 and over raw): their backing files
        // are then probed, as qemu does
        hideBackingFormat(dir.resolve("l6.qcow2"));
        hideBackingFormat(dir.resolve("l1.qcow2"));
        assertMatchesQemu(below);
        try (Qcow2Source s = Qcow2Source.openNow(below, false)) {
            @SuppressWarnings("unchecked")
            List<String> chain = (List<String>) s.details().get("backing chain");
            assertEquals(12, chain.size(), "backing chain " + chain);
            assertTrue(chain.get(11).endsWith("l0.raw (raw)"), chain.get(11));
        }
    }

    /** Renames the backing-format header extension to a type readers skip. */
    private static void hideBackingFormat(Path image) throws IOException {
        byte[] b = Files.readAllBytes(image);
        ByteBuffer bb = ByteBuffer.wrap(b);
        int at = -1;
        for (int i = 104; i + 4 <= 4096; i += 4) {
            if (bb.getInt(i) == 0xE2792ACA) {
                at = i;
                break;
            }
        }
        assertTrue(at > 0, "backing format extension found in " + image);
        try (var ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, 0x0BADF00D), at);
        }
    }

    @Test
    void preallocatedImages() throws IOException {
        for (String prealloc : List.of("metadata", "falloc", "full")) {
            Path img = dir.resolve(prealloc + ".qcow2");
            ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=" + prealloc,
                    img.toString(), "3M");
            Qcow2Fixtures.qemuIo(img, "qcow2", "write -P 5 100k 50k", "write -z 1M 128k", "write -z -u 2M 64k");
            assertMatchesQemu(img);
        }
    }

    /** A virtual size that is not a whole number of clusters, over a raw file of odd length. */
    @Test
    void oddSizes() throws IOException {
        Path base = dir.resolve("odd.raw");
        TestImages.randomSparseRaw(base, 777_777, 21, 70, 64 << 10);
        Path img = dir.resolve("odd.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", "odd.raw", "-F", "raw", img.toString(), "1000000");
        Qcow2Fixtures.qemuIo(img, "qcow2", "write -P 6 700000 100000", "write -z 950000 50448");
        assertMatchesQemu(img);
        try (Qcow2Source s = Qcow2Source.openNow(img, false)) {
            assertEquals(1_000_448, s.size(), "qemu rounds the size up to 512 bytes");
        }
    }

    /** Internal snapshots (shared clusters without the COPIED bit) and persistent bitmaps (a header extension). */
    @Test
    void snapshotsAndBitmaps() throws IOException {
        Path img = dir.resolve("snap.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "4M");
        Qcow2Fixtures.qemuIo(img, "qcow2", "write -P 1 0 1M", "write -z 2M 64k");
        ExternalTool.check("qemu-img", "snapshot", "-c", "first", img.toString());
        Qcow2Fixtures.qemuIo(img, "qcow2", "write -P 2 512k 100k", "write -z -u 0 64k", "write -P 3 3M 64k");
        ExternalTool.check("qemu-img", "bitmap", "--add", img.toString(), "b0");
        assertMatchesQemu(img);
        try (Qcow2Source s = Qcow2Source.openNow(img, false)) {
            assertEquals(1, s.details().get("snapshots"));
        }
    }

    @Test
    void concurrentPartialReadsOfCompressedClusters() throws IOException {
        Path raw = dir.resolve("c.raw");
        TestImages.randomSparseRaw(raw, 8L << 20, 12, 90, 1 << 20);
        Path img = dir.resolve("c.qcow2");
        ExternalTool.check("qemu-img", "convert", "-q", "-c", "-O", "qcow2", "-o", "cluster_size=2M,compression_type=zstd",
                raw.toString(), img.toString());
        Path expected = Qcow2Fixtures.qemuRaw(img, dir.resolve("expected.raw"));
        byte[] want = Files.readAllBytes(expected);
        try (Qcow2Source s = Qcow2Source.openNow(img, false)) {
            int chunk = 100_000;
            ByteBuffer all = ByteBuffer.allocateDirect((int) s.size());
            Flux.range(0, (int) ((s.size() + chunk - 1) / chunk))
                    .flatMap(i -> {
                        long off = (long) i * chunk;
                        int n = (int) Math.min(chunk, s.size() - off);
                        return s.read(off, all.slice((int) off, n));
                    }, 16)
                    .blockLast(TIMEOUT);
            byte[] got = new byte[want.length];
            all.get(0, got);
            assertEquals(-1, java.util.Arrays.mismatch(want, got), "content");
        }
    }

    @Test
    void callsFromParallelThreadsDoNotBlock() throws IOException {
        Path base = dir.resolve("base.raw");
        TestImages.randomSparseRaw(base, 4L << 20, 13, 50, 128 << 10);
        Path img = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", img.toString());
        Qcow2Fixtures.qemuIo(img, "qcow2", "write -c -P 3 0 64k", "write -P 4 1M 100k");
        try (ImageSource s = Endpoints.source(img.toString(), EndpointOptions.defaults()).block(TIMEOUT)) {
            assertTrue(s instanceof Qcow2Source, "opened by magic: " + s);
            List<Extent> extents = Mono.defer(() -> s.extents(0, s.size()).collectList())
                    .subscribeOn(Schedulers.parallel()).block(TIMEOUT);
            assertEquals(s.size(), extents.get(extents.size() - 1).end());
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            Mono.defer(() -> s.read(0, buf)).subscribeOn(Schedulers.parallel()).block(TIMEOUT);
            assertEquals(3, buf.get(0));
            var map = Mono.defer(() -> ((Qcow2Source) s).map(0, s.size()).collectList())
                    .subscribeOn(Schedulers.parallel()).block(TIMEOUT);
            assertEquals(Qcow2Fixtures.qemuMap(img, -1, -1), map);
        }
    }

    @Test
    void detailsForInfo() throws IOException {
        Path base = dir.resolve("base.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "1M");
        Path img = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o",
                "cluster_size=16384,extended_l2=on,compression_type=zstd", "-b", "base.qcow2", "-F", "qcow2",
                img.toString(), "2M");
        try (Qcow2Source s = Qcow2Source.openNow(img, true)) {
            Map<String, Object> d = s.details();
            assertEquals(3, d.get("version"));
            assertEquals("1.1", d.get("compat"));
            assertEquals(16384, d.get("cluster size"));
            assertEquals("zstd", d.get("compression type"));
            assertEquals(true, d.get("extended l2"));
            assertEquals("base.qcow2", d.get("backing file"));
            assertEquals("qcow2", d.get("backing file format"));
            assertEquals(16, d.get("refcount bits"));
            assertEquals(List.of(img, dir.resolve("base.qcow2")), s.files());
            assertEquals(true, d.get("top layer only"));
            // with only the top exposed, everything the top leaves to its backing is a hole without zero
            assertEquals(List.of(new Extent(0, 2L << 20, false, true)), s.extents(0, s.size()).collectList().block(TIMEOUT));
        }
    }
}
