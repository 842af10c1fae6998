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
 * ({@code lseek} SEEK_DATA/SEEK_HOLE), {@code fallocate} and {@code fdatasync} on a file descriptor
 * we own. Every call blocks: call only from {@link BlockingIo#scheduler()}.
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

    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int ENXIO = 6;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOPNOTSUPP = 95;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT), CAPTURE, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), CAPTURE);
    private static final MethodHandle LSEEK = downcall("lseek",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT), CAPTURE);
    private static final MethodHandle FALLOCATE = downcall("fallocate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), CAPTURE);
    private static final MethodHandle FTRUNCATE = downcall("ftruncate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), CAPTURE);
    private static final MethodHandle FDATASYNC = downcall("fdatasync",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), CAPTURE);
    private static final MethodHandle STRERROR = downcall("strerror",
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private Posix() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** Opens {@code path}, returning a file descriptor the caller must {@link #close(int)}. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment cpath = arena.allocateFrom(path);
            int fd = (int) OPEN.invokeExact(state, cpath, flags | O_CLOEXEC, mode);
            if (fd < 0) {
                throw error("open", state);
            }
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("open downcall failed", t);
        }
    }

    /** Closes {@code fd}. */
    public static void close(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) CLOSE.invokeExact(state, fd);
            if (r < 0) {
                throw error("close", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("close downcall failed", t);
        }
    }

    /**
     * {@code lseek(fd, offset, whence)}. For SEEK_DATA/SEEK_HOLE, ENXIO (no more data past
     * {@code offset}) is returned as -1 instead of thrown.
     */
    public static long lseek(int fd, long offset, int whence) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            long r = (long) LSEEK.invokeExact(state, fd, offset, whence);
            if (r < 0) {
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == ENXIO && (whence == SEEK_DATA || whence == SEEK_HOLE)) {
                    return -1;
                }
                throw new ErrnoException("lseek", errno, strerror(errno));
            }
            return r;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("lseek downcall failed", t);
        }
    }

    /** {@code fallocate(fd, mode, offset, length)}. */
    public static void fallocate(int fd, int mode, long offset, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r;
            do {
                r = (int) FALLOCATE.invokeExact(state, fd, mode, offset, length);
            } while (r < 0 && (int) ERRNO.get(state, 0L) == EINTR);
            if (r < 0) {
                throw error("fallocate", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fallocate downcall failed", t);
        }
    }

    /** {@code ftruncate(fd, length)}: sets the file size; growing leaves a hole. */
    public static void ftruncate(int fd, long length) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) FTRUNCATE.invokeExact(state, fd, length);
            if (r < 0) {
                throw error("ftruncate", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("ftruncate downcall failed", t);
        }
    }

    /** {@code fdatasync(fd)}. */
    public static void fdatasync(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = (int) FDATASYNC.invokeExact(state, fd);
            if (r < 0) {
                throw error("fdatasync", state);
            }
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("fdatasync downcall failed", t);
        }
    }

    /** The C library's text for {@code errno}. */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static ErrnoException error(String call, MemorySegment state) {
        int errno = (int) ERRNO.get(state, 0L);
        return new ErrnoException(call, errno, strerror(errno));
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
