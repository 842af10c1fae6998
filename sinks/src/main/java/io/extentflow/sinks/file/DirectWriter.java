package io.extentflow.sinks.file;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes that bypass the page cache ({@code O_DIRECT}): a second handle on a target file, used for
 * every write whose memory, offset and length are aligned to the file system's block size (the
 * pool's buffers and the extents of real images nearly always are); the rest go through the page
 * cache as before.
 *
 * <p>Why: an image copy writes each byte once and never reads it back. Through the page cache the
 * kernel copies every byte into fresh pages, writes them back, and frees them again (the
 * {@link WritebackWindow}), and on a virtual machine fresh pages are dear. A direct write moves the
 * bytes from our buffer to the device and costs almost no CPU: 836 MiB in 256-1024 KiB writes took
 * 0.07-0.12 s of CPU and 0.53-0.56 s direct, against 0.3-2.7 s of CPU buffered without writeback on
 * the measured VM (perf/README.md, "Direct writes").
 *
 * <p>Only whole 4 KiB pages are written this way (the block size, if larger, is the unit), so a page
 * is written either directly or through the cache, never both: the kernel keeps the two coherent
 * for disjoint pages. Where the file system refuses {@code O_DIRECT}, {@link #open} returns
 * {@code null} and every write goes through the cache. Thread-safe as {@link FileChannel} is.
 */
public final class DirectWriter implements AutoCloseable {

    private static final int PAGE = 4096;

    /**
     * Smallest write worth sending direct (raw and qcow2 file targets alike); smaller ones go through
     * the page cache and a {@link WritebackWindow}. Each direct write waits for the disk, one at a
     * time, so a fragmented image's small pieces (64 KiB in frag-4g.raw, 4 KiB from nbdkit
     * sparse-random runlength=1000) made 32,768 to 150,000 synchronous writes; through the page cache
     * the writeback window overlaps them. frag-4g.raw → new file, with its flush, alternated on the
     * busy VM (load 9-16): 3.1-5.6 s with smaller writes cached against 5.8-10.6 s all direct
     * (perf/README.md, "Two modes"). Requests of the default 4 MiB, and the data runs of ordinary
     * images, stay direct.
     */
    public static final int MIN_DIRECT = 1 << 20;

    private final FileChannel channel;
    private final int alignment;

    private DirectWriter(FileChannel channel, int alignment) {
        this.channel = channel;
        this.alignment = alignment;
    }

    /**
     * A direct handle on the file open as descriptor {@code fd} (found at {@code path}), or
     * {@code null} when its file system does not do direct I/O. Blocking.
     */
    public static DirectWriter open(Path path, int fd) {
        try {
            long blockSize = Files.getFileStore(path).getBlockSize();
            if (blockSize <= 0 || blockSize > (1 << 20) || Long.bitCount(blockSize) != 1) {
                return null;
            }
            FileChannel channel = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.WRITE,
                    ExtendedOpenOption.DIRECT);
            return new DirectWriter(channel, (int) Math.max(PAGE, blockSize));
        } catch (IOException | UnsupportedOperationException e) {
            // EINVAL from open(O_DIRECT) (e.g. an old tmpfs), no /proc, or no block size: use the cache
            return null;
        }
    }

    /** True if {@code data} can be written at {@code offset} directly: direct memory, all aligned. */
    public boolean accepts(ByteBuffer data, long offset) {
        return data.isDirect() && offset % alignment == 0 && data.remaining() % alignment == 0
                && data.alignmentOffset(data.position(), alignment) == 0;
    }

    /** Writes all of {@code data} at {@code offset}; only for what {@link #accepts} accepts. Blocking. */
    public void write(ByteBuffer data, long offset) throws IOException {
        long pos = offset;
        while (data.hasRemaining()) {
            pos += channel.write(data, pos);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was buffered in this handle: every write either completed or failed already
        }
    }
}
