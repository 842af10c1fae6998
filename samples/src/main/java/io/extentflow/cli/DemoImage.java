package io.extentflow.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * The demo's sample disk: a sparse raw file of {@link #SIZE} bytes, the same on every run (fixed
 * seed). Runs of random and text-like data in 8 MiB slots, a 4 MiB run of written zeros in the
 * middle (allocated on disk, but nothing worth copying), holes everywhere else.
 */
final class DemoImage {

    static final long SIZE = 256L << 20;
    private static final long SLOT = 8L << 20;
    private static final long WRITTEN_ZEROS_SLOT = 16;

    /** What was written. */
    record Layout(long size, long dataBytes, int dataRuns, long zeroBytes) {
    }

    private DemoImage() {
    }

    /** Writes the image to {@code path} (replacing it). Blocking. */
    static Layout write(Path path) throws IOException {
        SplittableRandom rnd = new SplittableRandom(20261121);
        long data = 0;
        long zeros = 0;
        int runs = 0;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.truncate(0);
            for (long slot = 0; slot < SIZE / SLOT; slot++) {
                long base = slot * SLOT;
                if (slot == WRITTEN_ZEROS_SLOT) {
                    zeros += fill(ch, base, 4L << 20, Kind.ZEROS, rnd);
                } else if (slot == 0) {
                    data += fill(ch, 0, 1L << 20, Kind.RANDOM, rnd); // a "boot sector and partition table"
                    runs++;
                } else if (slot == SIZE / SLOT - 1) {
                    data += fill(ch, SIZE - (256 << 10), 256 << 10, Kind.TEXT, rnd); // data up to the end
                    runs++;
                } else if (rnd.nextInt(3) > 0) {
                    long length = 64L * 1024 * (1 + rnd.nextInt(16));
                    long offset = base + 4096L * rnd.nextInt((int) ((SLOT - length) / 4096));
                    data += fill(ch, offset, length, rnd.nextBoolean() ? Kind.RANDOM : Kind.TEXT, rnd);
                    runs++;
                }
            }
        }
        try (var raf = new java.io.RandomAccessFile(path.toFile(), "rw")) {
            raf.setLength(SIZE); // the tail is a hole: growing a file allocates nothing
        }
        return new Layout(SIZE, data, runs, zeros);
    }

    private enum Kind { RANDOM, TEXT, ZEROS }

    private static long fill(FileChannel ch, long offset, long length, Kind kind, SplittableRandom rnd)
            throws IOException {
        byte[] bytes = new byte[(int) length];
        if (kind != Kind.ZEROS) {
            rnd.nextBytes(bytes);
        }
        if (kind == Kind.TEXT) {
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) ('a' + (bytes[i] & 0x0f));
            }
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        long pos = offset;
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
        return length;
    }
}
