package io.extentflow.sinks.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Exceptions;

/** The qcow2 sink's overlays, its refusals of bad input, and what a failed or killed copy leaves. */
class Qcow2FileSinkTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(1);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void aQcow2TargetAddressOpensAQcow2SinkWithDefaultOptions() throws Exception {
        Path out = dir.resolve("t.qcow2");
        try (ImageSink sink = Endpoints.sink(out.toString(), 1 << 20).block(TIMEOUT)) {
            assertTrue(sink instanceof Qcow2FileSink, sink.getClass().getName());
            assertEquals(Qcow2SinkOptions.defaults(), ((Qcow2FileSink) sink).options());
            sink.finish().block(TIMEOUT);
        }
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        assertEquals("qcow2", info.get("format").asText());
        assertEquals(65536, info.get("cluster-size").asInt());
        assertEquals(1 << 20, info.get("virtual-size").asLong());
        // other files stay raw
        try (ImageSink sink = Endpoints.sink(dir.resolve("t.img").toString(), 1 << 20).block(TIMEOUT)) {
            assertFalse(sink instanceof Qcow2FileSink);
        }
    }

    @Test
    void onlyChangedExtentsGoIntoAnOverlayOnThePreviousCopy() throws Exception {
        long size = 16L << 20;
        Path base = dir.resolve("base.raw");
        TestImages.randomSparseRaw(base, size, 41, 60, 1 << 20);
        // the previous copy: a qcow2 written by the sink
        Path previous = dir.resolve("previous.qcow2");
        copy(QemuMappedSource.of(base, base, false), previous, Qcow2SinkOptions.defaults());
        // the new state of the image: qemu's overlay on the base with some changes, zeros included
        Path changed = dir.resolve("changed.qcow2");
        ExternalTool.check("qemu-img", "create", "-f", "qcow2", "-b", base.toString(), "-F", "raw", changed.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 1M 192k", "-c", "write -z 5M 1M",
                "-c", "write -P 0x22 9M 64k", "-c", "write -P 0x33 15M 1M", changed.toString());
        Path changedRaw = dir.resolve("changed.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", changed.toString(), changedRaw.toString());

        Path overlay = dir.resolve("overlay.qcow2");
        long changedData;
        try (QemuMappedSource top = QemuMappedSource.of(changed, changedRaw, true)) {
            changedData = top.dataBytes();
            copy(top, overlay, Qcow2SinkOptions.defaults().withBacking("previous.qcow2", null));
        }
        assertEquals((192 << 10) + (64 << 10) + (1 << 20), changedData);
        ExternalTool.check("qemu-img", "check", overlay.toString());
        ExternalTool.check("qemu-img", "compare", changedRaw.toString(), overlay.toString());
        JsonNode check = JSON.readTree(ExternalTool.check("qemu-img", "check", "--output=json", overlay.toString()));
        // data clusters: the changed data only; the zeroed MiB is zero clusters, not data
        assertEquals(changedData / 65536, check.get("allocated-clusters").asLong(), check.toString());
        // the file: that data plus header, L1, one L2 table, refcount block and table
        assertTrue(Files.size(overlay) <= changedData + 5 * 65536, "overlay has " + Files.size(overlay) + " bytes");
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", overlay.toString()));
        assertEquals("previous.qcow2", info.get("backing-filename").asText());
        assertEquals("qcow2", info.get("backing-filename-format").asText());
    }

    @Test
    void clustersArrivingInManySmallUnalignedPiecesAreGatheredWhole() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, (3L << 20) + 4096, 43, 60, 96 << 10);
        Path backing = dir.resolve("backing.raw");
        TestImages.randomSparseRaw(backing, (3L << 20) + 4096, 44, 90, 1 << 20);
        // 12 KiB requests: every 64 KiB cluster comes in six pieces, most of them straddling clusters
        CopyOptions small = CopyOptions.defaults().withRequestSize(12 << 10);
        for (Qcow2SinkOptions options : new Qcow2SinkOptions[] {Qcow2SinkOptions.defaults(),
                Qcow2SinkOptions.defaults().withCompression(Qcow2Compression.ZSTD),
                Qcow2SinkOptions.defaults().withCompression(Qcow2Compression.ZLIB).withBacking("backing.raw", "raw"),
                Qcow2SinkOptions.defaults().withBacking("backing.raw", null)}) {
            Path out = dir.resolve("out.qcow2");
            Files.deleteIfExists(out);
            try (QemuMappedSource source = QemuMappedSource.of(src, src, false);
                 Qcow2FileSink sink = Qcow2FileSink.open(out, source.size(), options).block(TIMEOUT)) {
                Copy.from(source).to(sink).options(small).run().block(TIMEOUT);
            }
            ExternalTool.check("qemu-img", "check", out.toString());
            ExternalTool.check("qemu-img", "compare", src.toString(), out.toString());
        }
    }

    @Test
    void aClusterWrittenInPartAndSkippedInPartFailsTheCopyAtEitherEndOfTheSkip() throws Exception {
        Path backing = dir.resolve("backing.raw");
        TestImages.randomSparseRaw(backing, 1 << 20, 45, 90, 1 << 20);
        Qcow2SinkOptions over = Qcow2SinkOptions.defaults().withBacking("backing.raw", "raw");
        byte[] piece = new byte[4096];
        new SplittableRandom(5).nextBytes(piece);
        // cluster 1 (64-128 KiB) written in part at its start, then cluster 3 at its end: each is
        // cut by the skip between them, once at the skip's start and once at its end
        for (long[] writeThenSkip : new long[][] {{64 << 10, 68 << 10, 256 << 10}, {252 << 10, 128 << 10, 252 << 10}}) {
            Path out = dir.resolve("o.qcow2");
            Files.deleteIfExists(out);
            try (Qcow2FileSink sink = Qcow2FileSink.open(out, 1 << 20, over).block(TIMEOUT)) {
                sink.write(writeThenSkip[0], ByteBuffer.wrap(piece)).block(TIMEOUT);
                sink.skip(writeThenSkip[1], writeThenSkip[2] - writeThenSkip[1]).block(TIMEOUT);
                Exception e = assertThrows(Exception.class, () -> sink.finish().block(TIMEOUT));
                long cluster = writeThenSkip[0] & ~0xFFFFL;
                assertEquals("file:" + out + ": guest cluster at offset " + cluster + " (65536-byte clusters) is "
                        + "written in part and left to the backing file in part; the source's holes are finer than "
                        + "the clusters: give a cluster size no larger than the source's", Exceptions.unwrap(e).getMessage());
            }
            assertFalse(Files.exists(out));
        }
        // whole clusters skipped around written ones: the skipped ones read from the backing file
        Path out = dir.resolve("whole.qcow2");
        byte[] cluster = new byte[65536];
        new SplittableRandom(6).nextBytes(cluster);
        try (Qcow2FileSink sink = Qcow2FileSink.open(out, 1 << 20, over).block(TIMEOUT)) {
            sink.skip(0, 128 << 10).block(TIMEOUT);
            sink.write(128 << 10, ByteBuffer.wrap(cluster)).block(TIMEOUT);
            sink.skip(192 << 10, (1 << 20) - (192 << 10)).block(TIMEOUT);
            sink.finish().block(TIMEOUT);
        }
        ExternalTool.check("qemu-img", "check", out.toString());
        byte[] expected = Files.readAllBytes(backing);
        System.arraycopy(cluster, 0, expected, 128 << 10, cluster.length);
        Path read = dir.resolve("whole.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", out.toString(), read.toString());
        assertTrue(Arrays.equals(expected, Files.readAllBytes(read)), "overlay reads as backing + written cluster");
    }

    @Test
    void withAndWithoutAFlushManyL2TablesAndRefcountBlocksAreWrittenWhole() throws Exception {
        // 4 KiB clusters, 4 KiB of data every 2 MiB of a 4 GiB image: 2048 L2 tables (8 MiB, more than
        // one batch of metadata writes) and several refcount blocks
        long size = 4L << 30;
        Path src = dir.resolve("spread.raw");
        byte[] piece = new byte[4096];
        SplittableRandom random = new SplittableRandom(7);
        try (RandomAccessFile file = new RandomAccessFile(src.toFile(), "rw"); FileChannel ch = file.getChannel()) {
            file.setLength(size);
            for (long i = 0; i < size >>> 21; i++) {
                random.nextBytes(piece);
                ByteBuffer b = ByteBuffer.wrap(piece);
                long at = (i << 21) + (i % 3) * 4096;
                while (b.hasRemaining()) {
                    ch.write(b, at + b.position());
                }
            }
        }
        Path backing = dir.resolve("spread-backing.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", backing.toString(), Long.toString(size));
        for (boolean flush : new boolean[] {false, true}) {
            for (Qcow2SinkOptions options : new Qcow2SinkOptions[] {Qcow2SinkOptions.defaults().withClusterSize(4096),
                    Qcow2SinkOptions.defaults().withClusterSize(4096).withBacking(backing.getFileName().toString(), null)}) {
                Path out = dir.resolve("spread.qcow2");
                Files.deleteIfExists(out);
                try (QemuMappedSource source = QemuMappedSource.of(src, src, false);
                     Qcow2FileSink sink = Qcow2FileSink.open(out, size, options).block(TIMEOUT)) {
                    Copy.from(source).to(sink).options(CopyOptions.defaults().withFlush(flush)).run().block(TIMEOUT);
                }
                ExternalTool.check("qemu-img", "check", out.toString());
                ExternalTool.check("qemu-img", "compare", src.toString(), out.toString());
                JsonNode check = JSON.readTree(ExternalTool.check("qemu-img", "check", "--output=json", out.toString()));
                assertEquals(size >>> 21, check.get("allocated-clusters").asLong(), check.toString());
            }
        }
    }

    @Test
    void aClusterSizeOutOfRangeIsOneClearLine() {
        for (int bad : new int[] {0, 512, 2048, 3 << 12, 100_000, 4 << 20, -65536}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Qcow2SinkOptions.defaults().withClusterSize(bad));
            assertEquals("cluster size " + bad + " is not a power of two from 4 KiB (4096) to 2 MiB (2097152)",
                    e.getMessage());
        }
    }

    @Test
    void aMissingBackingFileIsOneClearLineAndNoFile() {
        Path out = dir.resolve("o.qcow2");
        Exception e = assertThrows(Exception.class, () -> Qcow2FileSink.open(out, 1 << 20,
                Qcow2SinkOptions.defaults().withBacking("gone.raw", null)).block(TIMEOUT));
        assertEquals("backing file gone.raw (" + dir.resolve("gone.raw") + ") does not exist", Exceptions.unwrap(e).getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aBackingFileOfAnotherSizeIsOneClearLine() throws Exception {
        Path backing = dir.resolve("b.qcow2");
        ExternalTool.check("qemu-img", "create", "-f", "qcow2", backing.toString(), "2M");
        Path out = dir.resolve("o.qcow2");
        Exception e = assertThrows(Exception.class, () -> Qcow2FileSink.open(out, 1 << 20,
                Qcow2SinkOptions.defaults().withBacking(backing.toString(), null)).block(TIMEOUT));
        assertEquals("backing file " + backing + " has virtual size 2097152 but the image has 1048576; "
                + "an overlay must have its backing file's size", Exceptions.unwrap(e).getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void anExistingFileIsNotOverwritten() throws Exception {
        Path out = dir.resolve("o.qcow2");
        Files.write(out, new byte[] {1});
        Exception e = assertThrows(Exception.class, () -> Qcow2FileSink.open(out, 1 << 20,
                Qcow2SinkOptions.defaults()).block(TIMEOUT));
        assertEquals(out + ": exists; a qcow2 image is written into a new (or empty) file, remove it or give a new target",
                Exceptions.unwrap(e).getMessage());
        assertEquals(1, Files.size(out));
    }

    @Test
    void untilTheCopyEndsTheFileIsNoQcow2AndAFailedCopyRemovesIt() throws Exception {
        Path out = dir.resolve("o.qcow2");
        try (Qcow2FileSink sink = Qcow2FileSink.open(out, 4 << 20, Qcow2SinkOptions.defaults()).block(TIMEOUT)) {
            byte[] data = new byte[1 << 20];
            new SplittableRandom(3).nextBytes(data);
            sink.write(1 << 20, ByteBuffer.wrap(data)).block(TIMEOUT);
            // what a killed copy would leave: qemu finds no qcow2 magic and takes it for raw bytes
            JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
            assertEquals("raw", info.get("format").asText());
            assertEquals(0, ByteBuffer.wrap(Files.readAllBytes(out), 0, 4).getInt());
        }
        // closed without finishing, as after a failed copy
        assertFalse(Files.exists(out));
    }

    @Test
    void aCopyStartingAgainRemovesOnlyWhatAKilledCopyLeft() throws Exception {
        Path out = dir.resolve("k.qcow2");
        String address = out.toString();
        var options = io.extentflow.engine.endpoint.EndpointOptions.defaults();
        // a qcow2 target cannot go on part way: its metadata is written at the end
        assertFalse(Endpoints.resumable(address, options));
        assertTrue(Endpoints.resumable(dir.resolve("k.raw").toString(), options));
        // what a killed copy leaves: zeros where the magic goes, data further on
        byte[] partial = new byte[3 << 20];
        new SplittableRandom(5).nextBytes(partial);
        java.util.Arrays.fill(partial, 0, 65536, (byte) 0);
        Files.write(out, partial);
        Endpoints.discardPartial(address, options).block(TIMEOUT);
        assertFalse(Files.exists(out));
        Endpoints.discardPartial(address, options).block(TIMEOUT); // nothing there: nothing to do
        // a finished image and a file of another kind stay
        try (ImageSink sink = Endpoints.sink(address, 1 << 20).block(TIMEOUT)) {
            sink.finish().block(TIMEOUT);
        }
        Endpoints.discardPartial(address, options).block(TIMEOUT);
        assertTrue(Files.size(out) > 0);
        ExternalTool.check("qemu-img", "check", out.toString());
        Path other = dir.resolve("other.qcow2");
        Files.write(other, new byte[] {0, 0, 0, 1});
        Endpoints.discardPartial(other.toString(), options).block(TIMEOUT);
        assertTrue(Files.exists(other));
    }

    @Test
    void aFullFileSystemFailsTheCopyAndLeavesNothing() throws Exception {
        Path mnt = Files.createDirectory(dir.resolve("small"));
        ExternalTool.check("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString());
        try {
            Path src = dir.resolve("src.raw");
            TestImages.randomSparseRaw(src, 8 << 20, 5, 100, 1 << 20);
            Path out = mnt.resolve("t.qcow2");
            try (QemuMappedSource source = QemuMappedSource.of(src, src, false)) {
                Exception e = assertThrows(Exception.class,
                        () -> copy(source, out, Qcow2SinkOptions.defaults()));
                assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
            }
            assertFalse(Files.exists(out));
        } finally {
            ExternalTool.check("umount", mnt.toString());
        }
    }

    private static void copy(QemuMappedSource source, Path out, Qcow2SinkOptions options) throws IOException {
        try (source; Qcow2FileSink sink = Qcow2FileSink.open(out, source.size(), options).block(TIMEOUT)) {
            Copy.from(source).to(sink).run().block(TIMEOUT);
        }
    }
}
