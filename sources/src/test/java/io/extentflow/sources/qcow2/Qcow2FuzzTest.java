package io.extentflow.sources.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.testing.ExternalTool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random mutations of the header, L1 and L2 tables of small valid images (fixed seed, bounded
 * number of inputs). Each input must either read consistently (extents cover the image, zero
 * extents read as zeros, two reads agree) or fail cleanly with an {@link IOException} or an
 * {@link ImageIoException}: no hang, no {@link OutOfMemoryError}, no other exception type.
 */
class Qcow2FuzzTest {

    private static final int CASES = 300;
    private static final long SEED = 20261122L;
    private static final Duration PER_CASE = Duration.ofSeconds(10);
    private static final Duration BLOCK = Duration.ofSeconds(8);
    /** Bytes read per case: enough to cover the metadata-heavy start, bounded whatever size the header claims. */
    private static final int READ_LIMIT = 1 << 20;

    @TempDir
    Path dir;

    private List<byte[]> baseImages() throws IOException {
        List<byte[]> out = new ArrayList<>();
        Path a = dir.resolve("a.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=65536", a.toString(), "1M");
        Qcow2Fixtures.qemuIo(a, "qcow2", "write -P 0x61 0 100k", "write -z 192k 64k", "write -c -P 0x62 256k 64k",
                "write -P 0x63 300k 64k", "write -z 300k 64k");
        Path b = dir.resolve("b.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=16384,extended_l2=on",
                b.toString(), "1M");
        Qcow2Fixtures.qemuIo(b, "qcow2", "write -P 0x71 1000 3000", "write -z 16k 1k", "write -P 0x72 40k 16k",
                "write -c -P 0x73 64k 16k");
        Path c = dir.resolve("c.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512,compression_type=zstd",
                c.toString(), "256k");
        Qcow2Fixtures.qemuIo(c, "qcow2", "write -P 0x81 0 5000", "write -c -P 0x82 8k 512", "write -c -P 0x83 8704 512",
                "write -z 16k 4k");
        Path d = dir.resolve("d.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10,cluster_size=4096", d.toString(), "1M");
        Qcow2Fixtures.qemuIo(d, "qcow2", "write -P 0x91 0 20k", "write -c -P 0x92 64k 4k");
        for (Path p : List.of(a, b, c, d)) {
            out.add(Files.readAllBytes(p));
        }
        return out;
    }

    @Test
    void mutatedImagesReadConsistentlyOrFailCleanly() throws IOException {
        List<byte[]> bases = baseImages();
        SplittableRandom rnd = new SplittableRandom(SEED);
        int failedCleanly = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] bytes = bases.get(rnd.nextInt(bases.size())).clone();
            int mutations = 1 + rnd.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                mutate(bytes, rnd);
            }
            Path file = dir.resolve("case-" + i + ".qcow2");
            Files.write(file, bytes);
            int index = i;
            boolean failed = assertTimeoutPreemptively(PER_CASE, () -> check(file), "case " + index + " hung");
            if (failed) {
                failedCleanly++;
            }
            Files.delete(file);
        }
        // the mutations hit metadata: a good share must be caught, and some must still read
        assertFalse(failedCleanly == 0 || failedCleanly == CASES, "failed cleanly: " + failedCleanly + " of " + CASES);
    }

    /** Damages the header, a metadata table or any byte of the file. */
    private static void mutate(byte[] bytes, SplittableRandom rnd) {
        int region = rnd.nextInt(10);
        int limit = region < 5 ? Math.min(bytes.length, 512)          // the header and its extensions
                : region < 9 ? Math.min(bytes.length, 1 << 19)        // refcounts, L1, L2 (qemu puts them first)
                : bytes.length;
        int at = rnd.nextInt(limit);
        switch (rnd.nextInt(4)) {
            case 0 -> bytes[at] = (byte) rnd.nextInt(256);
            case 1 -> bytes[at] ^= (byte) (1 << rnd.nextInt(8));
            case 2 -> {
                at &= ~7;
                long[] interesting = {0, -1, Long.MAX_VALUE, 1L << 62, 0x8000_0000_0000_0000L | rnd.nextLong(1L << 40),
                        rnd.nextLong()};
                ByteBuffer.wrap(bytes).putLong(Math.min(at, bytes.length - 8), interesting[rnd.nextInt(interesting.length)]);
            }
            default -> {
                at &= ~3;
                int[] interesting = {0, -1, Integer.MAX_VALUE, 1 << 20, rnd.nextInt(64), rnd.nextInt()};
                ByteBuffer.wrap(bytes).putInt(Math.min(at, bytes.length - 4), interesting[rnd.nextInt(interesting.length)]);
            }
        }
    }

    /** Returns true if the image was refused cleanly, false if it read consistently; throws otherwise. */
    private static boolean check(Path file) {
        try (Qcow2Source s = Qcow2Source.openNow(file, false)) {
            List<Extent> extents = s.extents(0, s.size()).collectList().block(BLOCK);
            assertCovers(extents, s.size());
            List<MapEntry> map = s.map(0, s.size()).collectList().block(BLOCK);
            assertEquals(s.size(), map.stream().mapToLong(MapEntry::length).sum(), "map covers the image");
            int n = (int) Math.min(s.size(), READ_LIMIT);
            ByteBuffer first = ByteBuffer.allocate(n);
            ByteBuffer second = ByteBuffer.allocateDirect(n);
            s.read(0, first).block(BLOCK);
            s.read(0, second).block(BLOCK);
            byte[] again = new byte[n];
            second.flip().get(again);
            assertArrayEquals(first.array(), again, "two reads agree");
            for (Extent e : extents) {
                for (long p = e.start(); e.zero() && p < Math.min(e.end(), n); p++) {
                    assertEquals(0, first.get((int) p), "zero extent " + e + " reads as zeros");
                }
            }
            return false;
        } catch (IOException | ImageIoException e) {
            assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "error has a message: " + e);
            return true;
        }
    }

    private static void assertCovers(List<Extent> extents, long size) {
        long pos = 0;
        for (Extent e : extents) {
            assertEquals(pos, e.start(), "extents are contiguous");
            pos = e.end();
        }
        assertEquals(size, pos, "extents cover the image");
    }
}
