package io.extentflow.engine.copy;

import io.extentflow.engine.io.Posix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * The memory a {@link BufferPool} cuts its buffers from: one anonymous mapping, aligned to and
 * advised for 2 MiB transparent huge pages.
 *
 * <p>Why not {@link ByteBuffer#allocateDirect}: a pool's buffers are touched for the first time
 * while the copy runs, on the thread that moves the data. {@code allocateDirect} clears each buffer,
 * and clearing fresh memory faults it in 4 KiB at a time: on a virtual machine 64 MiB of buffers
 * cost an NBD event loop some 0.3 s of CPU (perf/README.md, "Memory faults"). Here the kernel hands
 * out zero-filled pages, and with huge pages 64 MiB is 32 faults instead of 16,384.
 *
 * <p>The mapping is returned to the kernel when the slab and every buffer cut from it are
 * unreachable (each buffer holds its segment, and the segment holds the automatic arena). Where
 * the mapping cannot be made (not Linux on x86-64, aarch64 or riscv64; native access denied),
 * {@link #map} returns {@code null} and the pool allocates its buffers one by one as before.
 */
final class BufferSlab {

    private static final long HUGE_PAGE = 2L << 20;

    private final MemorySegment memory;

    private BufferSlab(MemorySegment memory) {
        this.memory = memory;
    }

    /** A slab of {@code bytes}, or {@code null} when this platform cannot map one. */
    static BufferSlab map(long bytes) {
        // One huge page more than asked, so the slab can start on a 2 MiB boundary (transparent huge
        // pages only back aligned 2 MiB ranges); the unused head and tail are never touched.
        long length = bytes + HUGE_PAGE;
        long address;
        try {
            address = Posix.mapAnonymous(length);
        } catch (Posix.ErrnoException | UnsupportedOperationException | IllegalCallerException
                 | LinkageError | IllegalStateException e) {
            return null;
        }
        long aligned = (address + HUGE_PAGE - 1) & -HUGE_PAGE;
        try {
            Posix.adviseHugePages(aligned, bytes - bytes % HUGE_PAGE);
        } catch (Posix.ErrnoException e) {
            // huge pages turned off ("never"): 4 KiB pages, still not cleared twice
        }
        MemorySegment mapping = MemorySegment.ofAddress(address)
                .reinterpret(length, Arena.ofAuto(), segment -> unmap(address, length));
        return new BufferSlab(mapping.asSlice(aligned - address, bytes));
    }

    /** The buffer of {@code length} bytes at {@code offset} in the slab. */
    ByteBuffer buffer(long offset, int length) {
        return memory.asSlice(offset, length).asByteBuffer();
    }

    private static void unmap(long address, long length) {
        try {
            Posix.unmap(address, length);
        } catch (Posix.ErrnoException e) {
            // only with a wrong address or length, which this class never passes
            throw new IllegalStateException(e);
        }
    }
}
