package io.extentflow.engine.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * How much disk a file really uses ({@code st_blocks * 512}, what {@code du -B1} prints), which
 * {@code java.nio.file} does not expose. Uses {@code statx(2)} through the FFM API because its
 * struct layout is the same on every architecture. Blocking: call on {@link BlockingIo#scheduler()}
 * or at the edge of a program.
 */
public final class FileStat {

    private static final int AT_FDCWD = -100;
    private static final int STATX_BLOCKS = 0x400;
    /** {@code struct statx} is 256 bytes; {@code stx_blocks} (u64) is at offset 48. */
    private static final int STATX_SIZE = 256;
    private static final long STX_BLOCKS_OFFSET = 48;

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle STATX = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("statx")
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no statx")),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS),
            Linker.Option.captureCallState("errno"));

    private FileStat() {
    }

    /** Bytes allocated on disk for {@code path} (following symbolic links). */
    public static long allocatedBytes(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            int r = (int) STATX.invokeExact(state, AT_FDCWD, arena.allocateFrom(path.toString()), 0, STATX_BLOCKS,
                    buf);
            if (r < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new IOException(path + ": " + Posix.strerror(errno) + " (statx, errno " + errno + ")");
            }
            return buf.get(ValueLayout.JAVA_LONG, STX_BLOCKS_OFFSET) * 512;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("statx downcall failed", t);
        }
    }
}
