package io.extentflow.engine.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic sparse raw images for tests: from a seed, runs of random data, compressible data,
 * written zeros and holes at 4 KiB-aligned (or unaligned, on request) offsets.
 */
public final class TestImages {

    private TestImages() {
    }

    /** What was written where. */
    public record Run(long offset, long length, String kind) {
    }

    /**
     * Writes a sparse raw image of {@code size} bytes to {@code path}: about {@code dataPercent}% of
     * it in runs of 4 KiB..{@code maxRun} bytes. Returns the runs written (holes are not listed).
     */
    public static List<Run> randomSparseRaw(Path path, long size, long seed, int dataPercent, int maxRun)
            throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Run> runs = new ArrayList<>();
        Files.deleteIfExists(path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.truncate(0);
            long pos = 0;
            while (pos < size) {
                long len = Math.min(size - pos, 4096L * (1 + rnd.nextInt(Math.max(1, maxRun / 4096))));
                boolean data = rnd.nextInt(100) < dataPercent;
                if (data) {
                    int k = rnd.nextInt(10);
                    String kind = k < 6 ? "random" : k < 9 ? "compressible" : "zero";
                    write(ch, pos, len, kind, rnd);
                    runs.add(new Run(pos, len, kind));
                }
                pos += len;
            }
            // make the size exact even when the image ends in a hole
            ch.write(ByteBuffer.allocate(0), size);
            if (ch.size() < size) {
                try (var raf = new java.io.RandomAccessFile(path.toFile(), "rw")) {
                    raf.setLength(size);
                }
            }
        }
        return runs;
    }

    private static void write(FileChannel ch, long pos, long len, String kind, SplittableRandom rnd)
            throws IOException {
        byte[] buf = new byte[(int) Math.min(len, 1 << 20)];
        long done = 0;
        while (done < len) {
            int n = (int) Math.min(buf.length, len - done);
            switch (kind) {
                case "random" -> rnd.nextBytes(buf);
                case "compressible" -> {
                    rnd.nextBytes(buf);
                    for (int i = 0; i < n; i++) {
                        buf[i] = (byte) ('A' + (buf[i] & 0x0f));
                    }
                }
                default -> Arrays.fill(buf, (byte) 0);
            }
            ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
            long at = pos + done;
            while (b.hasRemaining()) {
                at += ch.write(b, at);
            }
            done += n;
        }
    }

    /** Fails unless the two files have the same size and bytes, naming the first differing offset. */
    public static void assertSameContent(Path expected, Path actual) throws IOException {
        long size = Files.size(expected);
        if (Files.size(actual) != size) {
            throw new AssertionError("size differs: " + expected + " has " + size + ", " + actual + " has "
                    + Files.size(actual));
        }
        try (FileChannel a = FileChannel.open(expected); FileChannel b = FileChannel.open(actual)) {
            ByteBuffer ba = ByteBuffer.allocateDirect(1 << 20);
            ByteBuffer bb = ByteBuffer.allocateDirect(1 << 20);
            for (long pos = 0; pos < size; pos += ba.capacity()) {
                ba.clear();
                bb.clear();
                int n = (int) Math.min(ba.capacity(), size - pos);
                ba.limit(n);
                bb.limit(n);
                while (ba.hasRemaining()) {
                    a.read(ba, pos + ba.position());
                }
                while (bb.hasRemaining()) {
                    b.read(bb, pos + bb.position());
                }
                ba.flip();
                bb.flip();
                int m = ba.mismatch(bb);
                if (m >= 0) {
                    throw new AssertionError(actual + " differs from " + expected + " at offset " + (pos + m));
                }
            }
        }
    }

    /** Bytes allocated on disk for {@code path} (what {@code du -B1} prints). */
    public static long allocatedBytes(Path path) throws IOException {
        return io.extentflow.engine.io.Posix.allocatedBytes(path);
    }
}
