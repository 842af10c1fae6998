package io.extentflow.perf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * Ways to ask "is this 4 KiB block all zeros?", compared by {@link ZeroDetectorBenchmark} against
 * the engine's {@code ZeroDetector} (which uses {@link MemorySegment#mismatch} against a zero array).
 */
final class ZeroBlockTests {

    static final int BLOCK = 4096;
    private static final MemorySegment ZEROS_HEAP = MemorySegment.ofArray(new byte[BLOCK]);
    private static final MemorySegment ZEROS_NATIVE = MemorySegment.ofBuffer(ByteBuffer.allocateDirect(BLOCK));
    private static final ByteBuffer ZEROS_BUFFER = ByteBuffer.allocateDirect(BLOCK);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private ZeroBlockTests() {
    }

    /** The engine's way, against a zero segment in native memory instead of a heap array. */
    static boolean mismatchNativeZeros(MemorySegment s, long off) {
        return MemorySegment.mismatch(s, off, off + BLOCK, ZEROS_NATIVE, 0, BLOCK) == -1;
    }

    /** The engine's way, spelled out (heap zero array). */
    static boolean mismatchHeapZeros(MemorySegment s, long off) {
        return MemorySegment.mismatch(s, off, off + BLOCK, ZEROS_HEAP, 0, BLOCK) == -1;
    }

    /** OR of all longs of the block, eight at a time (no early exit inside a group of eight). */
    static boolean longOr(MemorySegment s, long off) {
        long end = off + BLOCK;
        for (long p = off; p < end; p += 64) {
            long acc = s.get(LONG, p) | s.get(LONG, p + 8) | s.get(LONG, p + 16) | s.get(LONG, p + 24)
                    | s.get(LONG, p + 32) | s.get(LONG, p + 40) | s.get(LONG, p + 48) | s.get(LONG, p + 56);
            if (acc != 0) {
                return false;
            }
        }
        return true;
    }

    /** {@link ByteBuffer#mismatch} of a slice against a zero direct buffer. */
    static boolean byteBufferMismatch(ByteBuffer b, int off) {
        return b.slice(off, BLOCK).mismatch(ZEROS_BUFFER.duplicate()) == -1;
    }
}
