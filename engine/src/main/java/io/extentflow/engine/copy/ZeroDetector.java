package io.extentflow.engine.copy;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * Finds all-zero blocks in data that was read, so they can become zero requests instead of writes.
 *
 * <p>Works at {@value #BLOCK_SIZE}-byte granularity, block boundaries being multiples of the block
 * size in the image (the buffer's image offset is a multiple of it). Compares against a zero segment
 * with {@link MemorySegment#mismatch}, which the JDK vectorises.
 */
public final class ZeroDetector {

    /** Granularity of detection; zero runs shorter than this stay inside data writes. */
    public static final int BLOCK_SIZE = 4096;

    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[BLOCK_SIZE]);

    private ZeroDetector() {
    }

    /** True if {@code length} bytes of {@code segment} at {@code offset} are all zero. */
    public static boolean isZero(MemorySegment segment, long offset, long length) {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long n = Math.min(BLOCK_SIZE, end - pos);
            if (MemorySegment.mismatch(segment, pos, pos + n, ZEROS, 0, n) != -1) {
                return false;
            }
            pos += n;
        }
        return true;
    }

    /** True if every byte between the buffer's position and limit is zero. */
    public static boolean isZero(ByteBuffer buffer) {
        MemorySegment s = MemorySegment.ofBuffer(buffer);
        return isZero(s, 0, s.byteSize());
    }

    /** Receives the runs of a scanned buffer, in order. */
    public interface RunConsumer {
        /** {@code [offset, offset + length)} relative to the buffer's position is data or zero. */
        void run(int offset, int length, boolean zero);
    }

    /**
     * Splits the bytes between the buffer's position and limit into maximal runs of data and of zero
     * blocks, and hands them to {@code consumer} in order.
     */
    public static void scan(ByteBuffer buffer, RunConsumer consumer) {
        MemorySegment s = MemorySegment.ofBuffer(buffer);
        scan(s, 0, (int) s.byteSize(), consumer);
    }

    /**
     * Splits {@code [offset, offset + length)} of {@code segment} into maximal runs of data and of
     * zero blocks, blocks counted from {@code offset}, and hands them to {@code consumer} in order,
     * relative to {@code offset}. The pieces of a gathered request are scanned this way within the
     * one segment of its buffer: a segment and a buffer slice per 4 KiB piece were a tenth of what a
     * copy of nbdkit's sparse-random runlength=1000 allocated (perf/README.md, "Memory").
     */
    public static void scan(MemorySegment segment, long offset, int length, RunConsumer consumer) {
        int runStart = 0;
        boolean runZero = false;
        for (int pos = 0; pos < length; pos += BLOCK_SIZE) {
            int n = Math.min(BLOCK_SIZE, length - pos);
            boolean zero = MemorySegment.mismatch(segment, offset + pos, offset + pos + n, ZEROS, 0, n) == -1;
            if (pos == 0) {
                runZero = zero;
            } else if (zero != runZero) {
                consumer.run(runStart, pos - runStart, runZero);
                runStart = pos;
                runZero = zero;
            }
        }
        if (length > 0) {
            consumer.run(runStart, length - runStart, runZero);
        }
    }
}
