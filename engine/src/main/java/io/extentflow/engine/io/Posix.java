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

/**
 * The few Linux system calls the JDK does not offer, through the FFM API: sparse-file queries
 * ({@code lseek} SEEK_DATA/SEEK_HOLE), {@code fallocate}, {@code fdatasync} and page-cache control
 * ({@code sync_file_range}, {@code posix_fadvise}) on a file descriptor we own. Every call blocks:
 * call only from {@link BlockingIo#scheduler()}.
 *
 * <p>Errors come back as {@link ErrnoException} carrying errno, so callers can fall back (e.g.
 * EOPNOTSUPP from a punch-hole).
 */
public final class Posix {

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_CLOEXEC = 02000000;

    public static final int SEEK_SET = 0;
    public static final int SEEK_END = 2;
    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    public static final int SYNC_FILE_RANGE_WAIT_BEFORE = 1;
    public static final int SYNC_FILE_RANGE_WRITE = 2;
    public static final int SYNC_FILE_RANGE_WAIT_AFTER = 4;

    public static final int POSIX_FADV_DONTNEED = 4;

    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int ENXIO = 6;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final java.lang.foreign.AddressLayout ADDRESS = ValueLayout.ADDRESS;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    /** statx(2): its struct has one layout on every architecture; stx_blocks (u64) is at offset 48. */
    private static final int AT_FDCWD = -100;
    private static final int STATX_BLOCKS = 0x400;
    private static final long STATX_SIZE = 256;
    private static final long STX_BLOCKS = 48;

    private Posix() {
    }

    // Each downcall handle is linked on first use: linking costs milliseconds, and a short
    // command (a copy of an empty image) should pay only for the calls it makes.
    private static final class Open {
        static final MethodHandle H = downcall("open", FunctionDescriptor.of(INT, ADDRESS, INT, INT),
                CAPTURE, Linker.Option.firstVariadicArg(2));
    }

    private static final class Close {
        static final MethodHandle H = downcall("close", FunctionDescriptor.of(INT, INT), CAPTURE);
    }

    private static final class Lseek {
        static final MethodHandle H = downcall("lseek", FunctionDescriptor.of(LONG, INT, LONG, INT), CAPTURE);
    }

    private static final class Fallocate {
        static final MethodHandle H = downcall("fallocate", FunctionDescriptor.of(INT, INT, INT, LONG, LONG),
                CAPTURE);
    }

    private static final class Ftruncate {
        static final MethodHandle H = downcall("ftruncate", FunctionDescriptor.of(INT, INT, LONG), CAPTURE);
    }

    private static final class Statx {
        static final MethodHandle H = downcall("statx", FunctionDescriptor.of(INT, INT, ADDRESS, INT, INT, ADDRESS),
                CAPTURE);
    }

    private static final class Fdatasync {
        static final MethodHandle H = downcall("fdatasync", FunctionDescriptor.of(INT, INT), CAPTURE);
    }

    // sync_file_range and posix_fadvise have the same shape: they share one linked stub.
    private static final class SyncFileRange {
        static final MethodHandle H = downcall("sync_file_range", FunctionDescriptor.of(INT, INT, LONG, LONG, INT),
                CAPTURE);
    }

    private static final class Fadvise {
        static final MethodHandle H = downcall("posix_fadvise", FunctionDescriptor.of(INT, INT, LONG, LONG, INT),
                CAPTURE);
    }

    private static final class Strerror {
        static final MethodHandle H = downcall("strerror", FunctionDescriptor.of(ADDRESS, INT));
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** One downcall; returns the C function's result, negative on failure with errno in {@code state}. */
    @FunctionalInterface
    private interface Downcall {
        long invoke(Arena arena, MemorySegment state) throws Throwable;
    }

    /**
     * Runs a downcall with errno captured, retrying on EINTR; a negative result becomes an
     * {@link ErrnoException} unless {@code tolerated} errno says otherwise (then -1 is returned).
     */
    private static long syscall(String name, int tolerated, Downcall call) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            while (true) {
                long r = call.invoke(arena, state);
                if (r >= 0) {
                    return r;
                }
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == EINTR) {
                    continue;
                }
                if (errno == tolerated) {
                    return -1;
                }
                throw new ErrnoException(name, errno, strerror(errno));
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + " downcall failed", t);
        }
    }

    /** Opens {@code path}, returning a file descriptor the caller must {@link #close(int)}. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        return (int) syscall("open", 0, (arena, state) ->
                (int) Open.H.invokeExact(state, arena.allocateFrom(path), flags | O_CLOEXEC, mode));
    }

    /** Closes {@code fd}. */
    public static void close(int fd) throws ErrnoException {
        syscall("close", 0, (arena, state) -> (int) Close.H.invokeExact(state, fd));
    }

    /**
     * {@code lseek(fd, offset, whence)}. For SEEK_DATA/SEEK_HOLE, ENXIO (no more data past
     * {@code offset}) is returned as -1 instead of thrown.
     */
    public static long lseek(int fd, long offset, int whence) throws ErrnoException {
        int tolerated = whence == SEEK_DATA || whence == SEEK_HOLE ? ENXIO : 0;
        return syscall("lseek", tolerated, (arena, state) -> (long) Lseek.H.invokeExact(state, fd, offset, whence));
    }

    /** {@code fallocate(fd, mode, offset, length)}. */
    public static void fallocate(int fd, int mode, long offset, long length) throws ErrnoException {
        syscall("fallocate", 0, (arena, state) -> (int) Fallocate.H.invokeExact(state, fd, mode, offset, length));
    }

    /** {@code ftruncate(fd, length)}: sets the file size; growing leaves a hole. */
    public static void ftruncate(int fd, long length) throws ErrnoException {
        syscall("ftruncate", 0, (arena, state) -> (int) Ftruncate.H.invokeExact(state, fd, length));
    }

    /**
     * Bytes allocated on disk for {@code path}, following links ({@code st_blocks * 512}, what
     * {@code du -B1} shows), which {@code java.nio.file} does not expose.
     */
    public static long allocatedBytes(java.nio.file.Path path) throws ErrnoException {
        return syscall("statx", 0, (arena, state) -> {
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            int r = (int) Statx.H.invokeExact(state, AT_FDCWD, arena.allocateFrom(path.toString()), 0, STATX_BLOCKS,
                    buf);
            return r < 0 ? r : buf.get(ValueLayout.JAVA_LONG, STX_BLOCKS) * 512;
        });
    }

    /** {@code fdatasync(fd)}. */
    public static void fdatasync(int fd) throws ErrnoException {
        syscall("fdatasync", 0, (arena, state) -> (int) Fdatasync.H.invokeExact(state, fd));
    }

    /** {@code sync_file_range(fd, offset, length, flags)}: starts and/or waits for writeback of a range. */
    public static void syncFileRange(int fd, long offset, long length, int flags) throws ErrnoException {
        syscall("sync_file_range", 0, (arena, state) ->
                (int) SyncFileRange.H.invokeExact(state, fd, offset, length, flags));
    }

    /** {@code posix_fadvise(fd, offset, length, advice)}, which returns its error instead of setting errno. */
    public static void fadvise(int fd, long offset, long length, int advice) throws ErrnoException {
        int error;
        try (Arena arena = Arena.ofConfined()) {
            error = (int) Fadvise.H.invokeExact(arena.allocate(CALL_STATE), fd, offset, length, advice);
        } catch (Throwable t) {
            throw new IllegalStateException("posix_fadvise downcall failed", t);
        }
        if (error != 0) {
            throw new ErrnoException("posix_fadvise", error, strerror(error));
        }
    }

    /** The C library's text for {@code errno}. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Strerror.H.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** A failed system call with its errno. */
    public static final class ErrnoException extends IOException {
        private final int errno;

        ErrnoException(String call, int errno, String text) {
            super(text + " (" + call + ", errno " + errno + ")");
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }
}
