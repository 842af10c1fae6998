package io.extentflow.engine.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A file opened twice over one open file description: a raw descriptor for the system calls the JDK
 * lacks ({@code lseek} SEEK_DATA, {@code fallocate}, {@code fdatasync}) and a {@link FileChannel}
 * for the data path (as fast as {@code pread}/{@code pwrite} into direct buffers). The channel is
 * opened through {@code /proc/self/fd}, so both see the same inode even if the path is replaced.
 */
public final class OpenFile implements AutoCloseable {

    private final Path path;
    private final int fd;
    private final FileChannel channel;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** False once the kernel or file system refused RWF_NOWAIT: cached reads are not tried again. */
    private volatile boolean nowait = true;

    private OpenFile(Path path, int fd, FileChannel channel) {
        this.path = path;
        this.fd = fd;
        this.channel = channel;
    }

    /** Opens {@code path} read-only. Blocking. */
    public static OpenFile readOnly(Path path) throws IOException {
        return open(path, Posix.O_RDONLY, StandardOpenOption.READ);
    }

    /** Opens {@code path} read-write, creating it if {@code create}. Blocking. */
    public static OpenFile readWrite(Path path, boolean create) throws IOException {
        return open(path, Posix.O_RDWR | (create ? Posix.O_CREAT : 0), StandardOpenOption.READ,
                StandardOpenOption.WRITE);
    }

    private static OpenFile open(Path path, int flags, StandardOpenOption... options) throws IOException {
        int fd = Posix.open(path.toString(), flags, 0644);
        try {
            return new OpenFile(path, fd, FileChannel.open(Path.of("/proc/self/fd/" + fd), options));
        } catch (IOException | RuntimeException e) {
            Posix.close(fd);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The raw descriptor, for {@link Posix} calls. Valid until {@link #close()}. */
    public int fd() {
        return fd;
    }

    /** The channel for positional reads and writes. */
    public FileChannel channel() {
        return channel;
    }

    /**
     * Copies what of the file from {@code offset} is in the page cache into {@code target}, from its
     * position, and advances the position by as many bytes; returns that count. {@code
     * preadv2(RWF_NOWAIT)} ({@link Posix#readCached}) until {@code target} is full, the kernel says
     * the next page is not cached (it may start reading it ahead, which the blocking read that
     * follows then finds under way) or the file ends. Never waits for the disk, so any thread may
     * call it. Direct buffers only (a heap buffer reads as 0). An error reads as 0 more bytes: the
     * ordinary read that follows reports it; a kernel or file system without RWF_NOWAIT is not asked
     * again.
     */
    public int readCached(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (!nowait || !target.isDirect() || length == 0) {
            return 0;
        }
        MemorySegment memory = MemorySegment.ofBuffer(target); // from the position, remaining() long
        int done = 0;
        try {
            while (done < length) {
                long n = Posix.readCached(fd, memory.address() + done, length - done, offset + done);
                if (n <= 0) {
                    break; // not cached (-1), or the end of the file (0)
                }
                done += (int) n;
            }
        } catch (Posix.ErrnoException e) {
            if (e.errno() == Posix.EOPNOTSUPP || e.errno() == Posix.EINVAL || e.errno() == Posix.ENOSYS) {
                nowait = false; // this kernel or file system cannot: stop asking
            } // else (EIO...): the ordinary read that follows reports it
        }
        target.position(target.position() + done);
        return done;
    }

    /** The file's size (or a device's), by {@code lseek(SEEK_END)}. Blocking. */
    public long size() throws IOException {
        return Posix.lseek(fd, 0, Posix.SEEK_END);
    }

    /** Closes both handles; safe to call twice. Errors are dropped: nothing useful can follow them. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // see above
            }
            try {
                Posix.close(fd);
            } catch (Posix.ErrnoException ignored) {
                // see above
            }
        }
    }
}
