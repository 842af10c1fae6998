package io.extentflow.sinks.file;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.LocalFileBytes;
import io.extentflow.engine.capability.OffloadedCopy;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.io.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * A file target's {@link OffloadedCopy}: data from a source that is a local file at the same offsets
 * ({@link LocalFileBytes}, a raw file) is copied by the kernel with {@code copy_file_range(2)}, as
 * {@code qemu-img convert -C} does. On XFS ({@code reflink=1}) and btrfs the target then shares the
 * source's blocks and nothing is read or written; elsewhere the kernel copies through the page cache
 * without the bytes ever reaching the JVM.
 *
 * <p>The calls block, so they run on {@link BlockingIo#scheduler()}. A file system or kernel that
 * cannot copy between these two files (EXDEV across file systems on kernels before 5.3 and again
 * since 5.19 when the file systems differ, ENOSYS, EOPNOTSUPP, EINVAL for files it does not handle)
 * turns the offload off for the rest of the copy: the request and every later one are answered
 * {@code false} and go through the copy's own reads and writes. Any other failure is an error naming
 * the source file and offset.
 */
final class KernelCopy implements OffloadedCopy {

    /**
     * Largest single call. Where the kernel copies through the page cache (ext4), each call's range
     * is handed to the writeback window after it, so this bounds the dirty pages a call leaves (times
     * the file I/O threads); where it shares blocks, fewer calls cost less.
     */
    static final long MAX_CALL = 16L << 20;

    private final OpenFile target;
    private final WritebackWindow window;
    private volatile boolean refused;

    /**
     * File systems where the kernel's copy costs next to nothing: they share blocks (XFS with
     * {@code reflink=1}, the default of mkfs.xfs since 5.1; btrfs; bcachefs; OCFS2) or copy on the
     * server (NFS 4.2, SMB3). Elsewhere (ext4, tmpfs) the kernel copies the bytes through the page
     * cache: measured on ext4 no faster than the copy's own direct writes, with 4-5x the system CPU,
     * and it copies written zeros that zero detection would leave out.
     */
    private static final Set<String> CHEAP_COPY = Set.of("xfs", "btrfs", "bcachefs", "ocfs2", "nfs", "nfs4",
            "cifs", "smb3");

    KernelCopy(OpenFile target, WritebackWindow window) {
        this.target = target;
        this.window = window;
    }

    /**
     * Whether a copy into {@code target} offloads its data: never with {@link FileSinkOptions#NO_OFFLOAD},
     * always with {@link FileSinkOptions#OFFLOAD}, else where the target's file system makes it cheap.
     * Blocks (reads the mount table): call it on {@link BlockingIo#scheduler()}.
     */
    static boolean wanted(Path target, EndpointOptions options) throws IOException {
        checkFlags(options);
        if (options.get(FileSinkOptions.NO_OFFLOAD)) {
            return false;
        }
        return options.get(FileSinkOptions.OFFLOAD) || CHEAP_COPY.contains(Files.getFileStore(target).type());
    }

    /** Refuses {@link FileSinkOptions#OFFLOAD} and {@link FileSinkOptions#NO_OFFLOAD} given together. */
    static void checkFlags(EndpointOptions options) {
        if (options.get(FileSinkOptions.NO_OFFLOAD) && options.get(FileSinkOptions.OFFLOAD)) {
            throw new IllegalArgumentException("--offload and --no-offload contradict each other; give one");
        }
    }

    @Override
    public boolean accepts(ImageSource source) {
        return !refused && source.capability(LocalFileBytes.class).isPresent();
    }

    @Override
    public Mono<Boolean> copyFrom(ImageSource source, long offset, long length) {
        if (refused) {
            return Mono.just(false);
        }
        Optional<LocalFileBytes> from = source.capability(LocalFileBytes.class);
        if (from.isEmpty()) {
            return Mono.just(false);
        }
        OpenFile in = from.get().file();
        return BlockingIo.call(() -> copyNow(in, offset, length));
    }

    /** True once {@code [offset, offset + length)} is copied; false if this pair of files cannot be. */
    private boolean copyNow(OpenFile in, long offset, long length) throws IOException {
        if (refused) {
            return false;
        }
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long callEnd = Math.min(end, pos + MAX_CALL);
            if (!copyCall(in, pos, callEnd)) {
                return false;
            }
            // the kernel copied through the target's page cache (unless it shared blocks): write it
            // back and drop it as the copy goes, as for buffered writes
            window.written(pos, callEnd - pos);
            pos = callEnd;
        }
        return true;
    }

    /**
     * Copies {@code [pos, end)} with as many calls as the kernel needs (it may copy less than asked);
     * false if the kernel cannot copy between these files.
     */
    private boolean copyCall(OpenFile in, long pos, long end) throws IOException {
        while (pos < end) {
            long n;
            try {
                n = Posix.copyFileRange(in.fd(), pos, target.fd(), pos, end - pos);
            } catch (Posix.ErrnoException e) {
                if (fallsBack(e.errno())) {
                    // what was copied already is written again, with the same bytes, by the fallback
                    refused = true;
                    return false;
                }
                throw new IOException("cannot copy " + in.path() + " at offset " + pos + " to " + target.path()
                        + ": " + e.getMessage(), e);
            }
            if (n == 0) {
                throw new IOException("file " + in.path() + " ended at " + pos + " (was it truncated?)");
            }
            pos += n;
        }
        return true;
    }

    /** The errors that mean "not between these files": the copy then reads and writes itself. */
    static boolean fallsBack(int errno) {
        return errno == Posix.EXDEV || errno == Posix.ENOSYS || errno == Posix.EOPNOTSUPP || errno == Posix.EINVAL;
    }

    /** For tests: whether the offload was turned off by a file system that refused it. */
    boolean refused() {
        return refused;
    }
}
