package io.extentflow.engine.io;

import java.io.IOException;
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
