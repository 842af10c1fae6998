package io.extentflow.engine.io;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A read-only megabyte of zeros, shared by everything that writes or sends zeros as bytes: a file
 * system that cannot punch holes, an NBD server without WRITE_ZEROES, an imageio upload of a zero
 * range, checksums of holes.
 *
 * <p>Why not {@link ByteBuffer#allocateDirect}: a direct buffer is cleared when it is made, so each
 * class that kept one of its own held up to a megabyte of resident memory per process from its
 * first use on, whether it ever sent a zero or not, and peak RSS is one of the figures a copy is
 * judged by (perf/README.md, "Memory"). This one is an anonymous mapping nothing can write: each
 * page read maps the kernel's shared zero page, which costs the process nothing. Where no mapping
 * can be made (see {@link Posix}), it is an ordinary cleared direct buffer.
 */
public final class ZeroBuffer {

    /** Bytes of zeros available at once. */
    public static final int CAPACITY = 1 << 20;

    private static final ByteBuffer ZEROS = map();

    private ZeroBuffer() {
    }

    /**
     * {@code length} zeros ({@code 0 < length <= CAPACITY}) as a new read-only buffer, position 0;
     * its capacity is {@code length}.
     */
    public static ByteBuffer of(int length) {
        if (length <= 0 || length > CAPACITY) {
            throw new IllegalArgumentException("zeros come in 1 to " + CAPACITY + " bytes, not " + length);
        }
        return ZEROS.slice(0, length);
    }

    private static ByteBuffer map() {
        try {
            long address = Posix.mapZeros(CAPACITY);
            // never unmapped: it lives as long as the process, like the buffers it replaced
            return MemorySegment.ofAddress(address).reinterpret(CAPACITY).asReadOnly().asByteBuffer();
        } catch (Posix.ErrnoException | UnsupportedOperationException | IllegalCallerException
                 | LinkageError | IllegalStateException e) {
            return ByteBuffer.allocateDirect(CAPACITY).asReadOnlyBuffer();
        }
    }
}
