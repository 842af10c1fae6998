package io.extentflow.sources.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * Corrupt and refused images: each gives a clear error naming the image and the problem, quickly,
 * without a large allocation. Valid images are made by qemu-img, then damaged byte by byte.
 */
@Timeout(60)
class Qcow2CorruptImageTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    /** A 4 MiB image with 64 KiB clusters: data in the first clusters (so L1[0] has an L2 table). */
    private Path image(String... extraOptions) {
        Path img = dir.resolve("img.qcow2");
        String opts = extraOptions.length == 0 ? "cluster_size=65536" : "cluster_size=65536," + String.join(",", extraOptions);
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", opts, img.toString(), "4M");
        Qcow2Fixtures.qemuIo(img, "qcow2", "write -P 0x41 0 128k", "write -z 1M 64k");
        return img;
    }

    private Path compressedImage() {
        return compressedImage("zlib");
    }

    private Path compressedImage(String type) {
        Path img = dir.resolve(type + ".qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compression_type=" + type, img.toString(), "4M");
        Qcow2Fixtures.qemuIo(img, "qcow2", "write -c -P 0x42 0 64k");
        return img;
    }

    private static long getLong(Path file, long at) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(8);
            ch.read(b, at);
            return b.getLong(0);
        }
    }

    private static void putLong(Path file, long at, long value) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).putLong(0, value), at);
        }
    }

    private static void putInt(Path file, long at, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).putInt(0, value), at);
        }
    }

    private static long l1Offset(Path img) throws IOException {
        return getLong(img, 40);
    }

    private static long firstL2Offset(Path img) throws IOException {
        return getLong(img, l1Offset(img)) & 0x00FF_FFFF_FFFF_FE00L;
    }

    /** Opening fails with an IOException whose message names the image and contains {@code words}. */
    private static void assertOpenFails(Path img, String words) {
        IOException e = assertThrows(IOException.class, () -> Qcow2Source.openNow(img, false).close());
        assertTrue(e.getMessage().contains(img.getFileName().toString()), e.getMessage());
        assertTrue(e.getMessage().contains(words), "expected '" + words + "' in: " + e.getMessage());
    }

    /** Opening works, but reading the whole image fails with an ImageIoException naming the problem. */
    private static void assertReadFails(Path img, String words) throws IOException {
        try (Qcow2Source s = Qcow2Source.openNow(img, false)) {
            StepVerifier.create(s.read(0, ByteBuffer.allocate((int) s.size())))
                    .expectErrorSatisfies(e -> assertProblem(e, img, words))
                    .verify(TIMEOUT);
        }
    }

    private static void assertExtentsFail(Path img, String words) throws IOException {
        try (Qcow2Source s = Qcow2Source.openNow(img, false)) {
            StepVerifier.create(s.extents(0, s.size()))
                    .thenConsumeWhile(e -> true)
                    .expectErrorSatisfies(e -> assertProblem(e, img, words))
                    .verify(TIMEOUT);
            StepVerifier.create(s.map(0, s.size()))
                    .thenConsumeWhile(e -> true)
                    .expectErrorSatisfies(e -> assertProblem(e, img, words))
                    .verify(TIMEOUT);
        }
    }

    private static void assertProblem(Throwable e, Path img, String words) {
        assertTrue(e instanceof ImageIoException, "not an ImageIoException: " + e);
        assertTrue(e.getMessage().contains(img.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(words), "expected '" + words + "' in: " + e.getMessage());
    }

    @Test
    void truncatedHeader() throws IOException {
        Path img = image();
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(90);
        }
        assertOpenFails(img, "too short for a version 3 header");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(20);
        }
        assertOpenFails(img, "too short for a qcow2 header");
    }

    @Test
    void truncatedBeforeTheL1Table() throws IOException {
        Path img = image();
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(l1Offset(img) + 4);
        }
        assertOpenFails(img, "L1 table");
    }

    @Test
    void truncatedBeforeAnL2Table() throws IOException {
        Path img = image();
        long l2 = firstL2Offset(img);
        long l1End = l1Offset(img) + 65536;
        assertTrue(l2 >= l1End, "qemu put the L2 table after the L1 table");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.truncate(l2 + 100);
        }
        assertExtentsFail(img, "L2 table at offset " + l2);
        assertReadFails(img, "L2 table at offset " + l2);
    }

    @Test
    void l1EntryPastTheEnd() throws IOException {
        Path img = image();
        putLong(img, l1Offset(img), 0x8000_0000_4000_0000L);
        assertExtentsFail(img, "past the end of the file");
        assertReadFails(img, "past the end of the file");
    }

    @Test
    void l2EntryPastTheEnd() throws IOException {
        Path img = image();
        putLong(img, firstL2Offset(img), 0x8000_0010_0000_0000L);
        assertExtentsFail(img, "data cluster for guest offset 0");
        assertReadFails(img, "data cluster for guest offset 0");
    }

    @Test
    void unalignedL2Entry() throws IOException {
        Path img = image();
        putLong(img, firstL2Offset(img), 0x8000_0000_0003_0200L);
        assertExtentsFail(img, "unaligned host offset");
    }

    @Test
    void absurdL1Size() throws IOException {
        Path img = image();
        putInt(img, 36, 0x7fff_ffff);
        assertOpenFails(img, "too large");
        putInt(img, 36, 0);
        assertOpenFails(img, "too few for the virtual size");
    }

    @Test
    void absurdVirtualSize() throws IOException {
        Path img = image();
        putLong(img, 24, Long.MAX_VALUE);
        assertOpenFails(img, "too few for the virtual size");
        putLong(img, 24, -512);
        assertOpenFails(img, "virtual size");
    }

    @Test
    void badClusterBitsAndVersion() throws IOException {
        Path img = image();
        putInt(img, 20, 30);
        assertOpenFails(img, "cluster_bits 30");
        putInt(img, 20, 16);
        putInt(img, 4, 4);
        assertOpenFails(img, "version 4 is not supported");
        putInt(img, 0, 0x12345678);
        assertOpenFails(img, "not a qcow2 image");
    }

    @Test
    void compressedDescriptorPastTheEnd() throws IOException {
        Path img = compressedImage();
        long entry = getLong(img, firstL2Offset(img));
        assertTrue((entry & (1L << 62)) != 0, "qemu wrote a compressed cluster");
        // 64 KiB clusters: 54-bit host offset; keep the sector count, move the data to 1 TiB
        long moved = (entry & ~((1L << 54) - 1)) | (1L << 40);
        putLong(img, firstL2Offset(img), moved);
        assertReadFails(img, "compressed cluster for guest offset 0 at host offset " + (1L << 40));
    }

    @Test
    void compressedDataGarbage() throws IOException {
        for (String type : new String[] {"zlib", "zstd"}) {
            Path img = compressedImage(type);
            long host = getLong(img, firstL2Offset(img)) & ((1L << 54) - 1);
            putLong(img, host, 0xdead_beef_dead_beefL);
            putLong(img, host + 8, 0xdead_beef_dead_beefL);
            assertReadFails(img, "compressed cluster at host offset " + host);
        }
    }

    @Test
    void backingChainLoop() {
        Path a = dir.resolve("a.qcow2");
        Path b = dir.resolve("b.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", a.toString(), "1M");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", "a.qcow2", "-F", "qcow2", b.toString());
        ExternalTool.check("qemu-img", "rebase", "-u", "-b", "b.qcow2", "-F", "qcow2", a.toString());
        assertOpenFails(b, "backing chain loops");
        // a file that is its own backing file
        ExternalTool.check("qemu-img", "rebase", "-u", "-b", "a.qcow2", "-F", "qcow2", a.toString());
        assertOpenFails(a, "backing chain loops");
    }

    @Test
    void missingBackingFile() throws IOException {
        Path base = dir.resolve("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "1M");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top.toString());
        Files.delete(base);
        IOException e = assertThrows(IOException.class, () -> Qcow2Source.openNow(top, false));
        assertTrue(e.getMessage().contains("base.qcow2") && e.getMessage().contains("backing file of " + top)
                && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void luksEncryption() throws IOException {
        Path img = dir.resolve("luks.qcow2");
        // qemu-img times its key derivation with getrusage and, on a busy machine, sometimes measures
        // no CPU time at all ("Unable to get accurate CPU usage"): try a few times, then fall back to
        // marking a plain image as LUKS-encrypted in its header (crypt_method 2), which is what the
        // reader checks
        ExternalTool.Result r = null;
        for (int attempt = 0; attempt < 5 && (r == null || r.exitCode() != 0); attempt++) {
            r = ExternalTool.run("qemu-img", "create", "-q", "-f", "qcow2", "--object", "secret,id=sec0,data=swordfish",
                    "-o", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10", img.toString(), "1M");
        }
        if (r.exitCode() != 0) {
            assertTrue(r.stderr().contains("accurate CPU usage"), "qemu-img create a LUKS image: " + r.stderr());
            ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "1M");
            putInt(img, 32, 2);
        }
        assertOpenFails(img, "encrypted (LUKS");
    }

    @Test
    void aesEncryption() throws IOException {
        Path img = image();
        putInt(img, 32, 1);
        assertOpenFails(img, "encrypted (AES");
    }

    @Test
    void externalDataFile() {
        Path img = dir.resolve("ext.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=" + dir.resolve("data.raw"),
                img.toString(), "1M");
        assertOpenFails(img, "external data file");
    }

    @Test
    void unknownIncompatibleBit() throws IOException {
        Path img = image();
        putLong(img, 72, getLong(img, 72) | (1L << 20));
        assertOpenFails(img, "unsupported incompatible feature bit 20");
    }

    @Test
    void unknownCompressionType() throws IOException {
        Path img = image("compression_type=zstd");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {7}), 104);
        }
        assertOpenFails(img, "unknown compression type 7");
    }

    @Test
    void dirtyOrCorruptMarkedImageIsReadWithAWarning() throws IOException {
        Path img = image();
        Path expected = Qcow2Fixtures.qemuRaw(img, dir.resolve("expected.raw"));
        putLong(img, 72, getLong(img, 72) | 1L | 2L); // dirty and corrupt: both readable with our bounds checks
        try (Qcow2Source s = Qcow2Source.openNow(img, false)) {
            assertEquals(Boolean.TRUE, s.details().get("dirty"));
            assertEquals(Boolean.TRUE, s.details().get("corrupt"));
            ByteBuffer all = ByteBuffer.allocate((int) s.size());
            s.read(0, all).block(TIMEOUT);
            Path actual = dir.resolve("actual.raw");
            Files.write(actual, all.array());
            TestImages.assertSameContent(expected, actual);
        }
    }

    @Test
    void readPastTheEndIsRefused() throws IOException {
        Path img = image();
        try (Qcow2Source s = Qcow2Source.openNow(img, false)) {
            StepVerifier.create(s.read(s.size() - 10, ByteBuffer.allocate(20)))
                    .expectError(ImageIoException.class).verify(TIMEOUT);
            StepVerifier.create(s.extents(0, s.size() + 1)).expectError(ImageIoException.class).verify(TIMEOUT);
        }
    }
}
