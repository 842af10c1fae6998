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

/**
 * The few Linux system calls the JDK does not offer, made through the FFM API: sparse-file queries
 * ({@code lseek} SEEK_DATA/SEEK_HOLE), {@code fallocate}, {@code fdatasync} and page-cache control
 * ({@code sync_file_range}, {@code posix_fadvise}) on a file descriptor we own, and in-kernel copies
 * between two files ({@code copy_file_range}). Every file call
 * blocks: call those only from {@link BlockingIo#scheduler()}, except {@link #readCached}, which never
 * waits for the disk. The memory calls ({@link #mapAnonymous},
 * {@link #adviseHugePages}, {@link #unmap}) do not wait for I/O and may be made from any thread.
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

    /** preadv2(2) flag: fail with EAGAIN rather than wait for the disk (Linux 4.14). */
    private static final int RWF_NOWAIT = 0x08;

    /** mmap(2) and madvise(2) values; the same on x86-64, aarch64 and riscv64. */
    private static final int PROT_READ = 0x1;
    private static final int PROT_READ_WRITE = PROT_READ | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;

    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EXDEV = 18;
    public static final int ENXIO = 6;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ESPIPE = 29;
    public static final int EAGAIN = 11;
    public static final int ENOSYS = 38;
    public static final int EOPNOTSUPP = 95;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final java.lang.foreign.AddressLayout ADDRESS = ValueLayout.ADDRESS;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    /** Where errno sits in the call state (read by offset: a VarHandle costs generated classes at start-up). */
    private static final long ERRNO = CALL_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    /** statx(2): its struct has one layout on every architecture; stx_blocks (u64) is at offset 48. */
    private static final int AT_FDCWD = -100;
    private static final int STATX_BLOCKS = 0x400;
    private static final long STATX_SIZE = 256;
    private static final long STX_BLOCKS = 48;

    private Posix() {
    }

    /**
     * Every call goes through the C library's {@code syscall(2)} with the kernel's call number: one
     * downcall shape, linked once. Each distinct shape costs the JVM generated classes and some
     * 10 ms of start-up, and a copy used six of them (open, close, lseek, ftruncate, fallocate,
     * sync_file_range) before it moved a byte.
     */
    private static final class Kernel {
        static final MethodHandle SYSCALL = downcall("syscall", FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG,
                LONG, LONG, LONG), CAPTURE, Linker.Option.firstVariadicArg(1));
        /** Call numbers, in the order of {@link Call}: they differ between x86-64 and the generic table. */
        static final long[] NUMBERS = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> new long[] {257, 3, 8, 285, 77, 75, 332, 277, 221, 9, 11, 28, 326, 327};
            case "aarch64", "riscv64" -> new long[] {56, 57, 62, 47, 46, 83, 291, 84, 223, 222, 215, 233, 285, 286};
            default -> null;
        };
    }

    /** The system calls used, indexing {@link Kernel#NUMBERS}. */
    private enum Call {
        OPENAT, CLOSE, LSEEK, FALLOCATE, FTRUNCATE, FDATASYNC, STATX, SYNC_FILE_RANGE, FADVISE64, MMAP, MUNMAP, MADVISE,
        COPY_FILE_RANGE, PREADV2
    }

    private static final class Strerror {
        static final MethodHandle H = downcall("strerror", FunctionDescriptor.of(ADDRESS, INT));
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /**
     * Makes system call {@code call} with up to five arguments (pointers as addresses); returns the
     * kernel's result, or -1 with errno in {@code state}.
     */
    private static long kernel(MemorySegment state, Call call, long a, long b, long c, long d, long e)
            throws Throwable {
        return kernel(state, call, a, b, c, d, e, 0);
    }

    /** {@link #kernel(MemorySegment, Call, long, long, long, long, long)} with a sixth argument (mmap's). */
    private static long kernel(MemorySegment state, Call call, long a, long b, long c, long d, long e, long f)
            throws Throwable {
        long[] numbers = Kernel.NUMBERS;
        if (numbers == null) {
            throw new UnsupportedOperationException("file system calls are implemented for Linux on x86-64, "
                    + "aarch64 and riscv64, not on " + System.getProperty("os.arch"));
        }
        return (long) Kernel.SYSCALL.invokeExact(state, numbers[call.ordinal()], a, b, c, d, e, f);
    }

    /** One system call; returns its result, negative on failure with errno in {@code state}. */
    @FunctionalInterface
    private interface Downcall {
        long invoke(MemorySegment state) throws Throwable;
    }

    /**
     * Where each thread's calls leave errno: allocated once per thread, not per call. A confined
     * arena per call made {@link #syscall} the largest method C1 compiled in a copy (54 KB of code,
     * 43 ms of compile time) and cost an allocation and a free around every write.
     */
    private static final ThreadLocal<MemorySegment> CALL_STATE_OF_THREAD =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CALL_STATE));

    /**
     * Runs a system call with errno captured, retrying on EINTR; a negative result becomes an
     * {@link ErrnoException} unless {@code tolerated} errno says otherwise (then -1 is returned).
     */
    private static long syscall(String name, int tolerated, Downcall call) throws ErrnoException {
        MemorySegment state = CALL_STATE_OF_THREAD.get();
        try {
            while (true) {
                long r = call.invoke(state);
                if (r >= 0) {
                    return r;
                }
                int errno = state.get(ValueLayout.JAVA_INT, ERRNO);
                if (errno == EINTR) {
                    continue;
                }
                if (errno == tolerated) {
                    return -1;
                }
                throw new ErrnoException(name, errno, strerror(errno));
            }
        } catch (ErrnoException | UnsupportedOperationException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + " system call failed", t);
        }
    }

    /** Opens {@code path}, returning a file descriptor the caller must {@link #close(int)}. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            long name = arena.allocateFrom(path).address();
            return (int) syscall("open", 0, state -> kernel(state, Call.OPENAT, AT_FDCWD, name, flags | O_CLOEXEC,
                    mode, 0));
        }
    }

    /** Closes {@code fd}. */
    public static void close(int fd) throws ErrnoException {
        syscall("close", 0, state -> kernel(state, Call.CLOSE, fd, 0, 0, 0, 0));
    }

    /**
     * {@code lseek(fd, offset, whence)}. For SEEK_DATA/SEEK_HOLE, ENXIO (no more data past
     * {@code offset}) is returned as -1 instead of thrown.
     */
    public static long lseek(int fd, long offset, int whence) throws ErrnoException {
        int tolerated = whence == SEEK_DATA || whence == SEEK_HOLE ? ENXIO : 0;
        return syscall("lseek", tolerated, state -> kernel(state, Call.LSEEK, fd, offset, whence, 0, 0));
    }

    /** {@code fallocate(fd, mode, offset, length)}. */
    public static void fallocate(int fd, int mode, long offset, long length) throws ErrnoException {
        syscall("fallocate", 0, state -> kernel(state, Call.FALLOCATE, fd, mode, offset, length, 0));
    }

    /** {@code ftruncate(fd, length)}: sets the file size; growing leaves a hole. */
    public static void ftruncate(int fd, long length) throws ErrnoException {
        syscall("ftruncate", 0, state -> kernel(state, Call.FTRUNCATE, fd, length, 0, 0, 0));
    }

    /**
     * Bytes allocated on disk for {@code path}, following links ({@code st_blocks * 512}, what
     * {@code du -B1} shows), which {@code java.nio.file} does not expose.
     */
    public static long allocatedBytes(java.nio.file.Path path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(STATX_SIZE, 8);
            long name = arena.allocateFrom(path.toString()).address();
            syscall("statx", 0, state -> kernel(state, Call.STATX, AT_FDCWD, name, 0, STATX_BLOCKS, buf.address()));
            return buf.get(ValueLayout.JAVA_LONG, STX_BLOCKS) * 512;
        }
    }

    /** {@code fdatasync(fd)}. */
    public static void fdatasync(int fd) throws ErrnoException {
        syscall("fdatasync", 0, state -> kernel(state, Call.FDATASYNC, fd, 0, 0, 0, 0));
    }

    /** {@code sync_file_range(fd, offset, length, flags)}: starts and/or waits for writeback of a range. */
    public static void syncFileRange(int fd, long offset, long length, int flags) throws ErrnoException {
        syscall("sync_file_range", 0, state ->
                kernel(state, Call.SYNC_FILE_RANGE, fd, offset, length, flags, 0));
    }

    /** {@code posix_fadvise(fd, offset, length, advice)}. */
    public static void fadvise(int fd, long offset, long length, int advice) throws ErrnoException {
        syscall("fadvise64", 0, state -> kernel(state, Call.FADVISE64, fd, offset, length, advice, 0));
    }

    /**
     * Where each thread's {@link #copyFileRange} passes its two offsets ({@code loff_t *}): allocated
     * once per thread, as the errno state is.
     */
    private static final ThreadLocal<MemorySegment> OFFSETS_OF_THREAD =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16, 8));

    /**
     * {@code copy_file_range(in, &inOffset, out, &outOffset, length, 0)}: copies up to {@code length}
     * bytes between two files inside the kernel, sharing blocks where the file system can (a reflink
     * on XFS or btrfs). Returns the bytes copied, which may be fewer than asked (0 at the end of
     * {@code in}); the callers' file offsets are left alone. Blocking.
     */
    public static long copyFileRange(int in, long inOffset, int out, long outOffset, long length)
            throws ErrnoException {
        MemorySegment offsets = OFFSETS_OF_THREAD.get();
        offsets.set(ValueLayout.JAVA_LONG, 0, inOffset);
        offsets.set(ValueLayout.JAVA_LONG, 8, outOffset);
        long in64 = offsets.address();
        long out64 = in64 + 8;
        return syscall("copy_file_range", 0, state -> kernel(state, Call.COPY_FILE_RANGE, in, in64, out, out64,
                length, 0));
    }

    /** Where each thread's {@link #readCached} passes its one {@code struct iovec}: allocated once per thread. */
    private static final ThreadLocal<MemorySegment> IOVEC_OF_THREAD =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(16, 8));

    /**
     * {@code preadv2(fd, {address, length}, 1, offset, RWF_NOWAIT)}: copies what of
     * {@code [offset, offset + length)} is in the page cache, from the start, into memory at
     * {@code address}, and never waits for the disk. Returns the bytes read: fewer than asked when the
     * rest is not cached, 0 at the end of the file, and -1 when the first page is not cached (EAGAIN).
     * It never waits for a read from the disk, so any thread may call it; for a page not cached it may
     * submit the kernel's read-ahead before it returns (as io_uring's non-blocking attempt does). A
     * file system or kernel without RWF_NOWAIT fails with EOPNOTSUPP (or EINVAL, ENOSYS).
     */
    public static long readCached(int fd, long address, long length, long offset) throws ErrnoException {
        MemorySegment iovec = IOVEC_OF_THREAD.get();
        iovec.set(ValueLayout.JAVA_LONG, 0, address);
        iovec.set(ValueLayout.JAVA_LONG, 8, length);
        long vector = iovec.address();
        // pos_l, pos_h: a 64-bit kernel takes the whole offset in pos_l
        return syscall("preadv2", EAGAIN, state -> kernel(state, Call.PREADV2, fd, vector, 1, offset, 0,
                RWF_NOWAIT));
    }

    /**
     * Maps {@code length} bytes of private anonymous memory, readable and writable; returns its
     * address. The kernel supplies zero-filled pages on first touch, so nothing needs clearing.
     */
    public static long mapAnonymous(long length) throws ErrnoException {
        return syscall("mmap", 0, state -> kernel(state, Call.MMAP, 0, length, PROT_READ_WRITE,
                MAP_PRIVATE_ANONYMOUS, -1, 0));
    }

    /**
     * Maps {@code length} bytes of private anonymous memory that can only be read; returns its address.
     * Every page of it reads as the kernel's one shared zero page, which is not counted as the
     * process's resident memory.
     */
    public static long mapZeros(long length) throws ErrnoException {
        return syscall("mmap", 0, state -> kernel(state, Call.MMAP, 0, length, PROT_READ,
                MAP_PRIVATE_ANONYMOUS, -1, 0));
    }

    /**
     * Asks for transparent huge pages in {@code [address, address + length)} ({@code madvise
     * MADV_HUGEPAGE}): one fault then brings in 2 MiB instead of 4 KiB. Only advice: a kernel
     * without them refuses (EINVAL), which callers may ignore.
     */
    public static void adviseHugePages(long address, long length) throws ErrnoException {
        syscall("madvise", 0, state -> kernel(state, Call.MADVISE, address, length, MADV_HUGEPAGE, 0, 0));
    }

    /** Unmaps memory from {@link #mapAnonymous(long)}. */
    public static void unmap(long address, long length) throws ErrnoException {
        syscall("munmap", 0, state -> kernel(state, Call.MUNMAP, address, length, 0, 0, 0));
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
