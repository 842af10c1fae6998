package io.extentflow.sinks.file;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.capability.OffloadedCopy;
import io.extentflow.engine.capability.SinkCapability;
import io.extentflow.engine.capability.Unflushed;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.FileProbe;
import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.io.Posix;
import io.extentflow.engine.io.ZeroBuffer;
import io.extentflow.sinks.ZeroOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import reactor.core.publisher.Mono;

/**
 * Writes a raw image to a local file or block device.
 *
 * <p>Zeroing, per kind of target:
 * <ul>
 *   <li>Regular file: {@code fallocate(PUNCH_HOLE|KEEP_SIZE)} frees the blocks; if the file system
 *       refuses, {@code fallocate(ZERO_RANGE)}; if that is refused too, zeros are written. The
 *       fallback found is remembered for the rest of the copy.</li>
 *   <li>Block device (detected by {@code S_IFBLK} in the file mode): zeros are always written. A
 *       punched range of a device may be discarded by thin storage, and discarded blocks are not
 *       guaranteed to read back as zeros, so we never punch a device.</li>
 * </ul>
 * A new file (or an empty one) is sized to the image up front and is known to be zero, so the copy
 * sends no zero requests at all and the target stays sparse.
 *
 * <p>What it writes stays out of the page cache: an image copy never reads its target back, so caching
 * it would only push out what the machine was using. Aligned writes of at least {@link #MIN_DIRECT}
 * bytes from direct memory (the copy's pooled buffers) bypass the cache ({@link DirectWriter}); the
 * others are written back to disk as the copy goes and then dropped from the cache
 * ({@link WritebackWindow}).
 * {@link FileSinkOptions#KEEP_CACHE} writes everything through the cache and leaves it there; so
 * does a copy that will not flush ({@link Unflushed}, {@code copy --no-flush}): its caller asked for
 * the fastest return, and the kernel writes the bytes back later, as after qemu-img convert or cp.
 *
 * <p>Opened to allocate zeroes (ovirt-imageio's {@code "sparse": false} tickets), a regular file keeps
 * zeroed ranges allocated instead: {@code fallocate(ZERO_RANGE)}; if refused, punch a hole and
 * allocate it again ({@code fallocate(0)}, what qemu does); if that is refused too, zeros are written.
 *
 * <p>From a local raw file, a regular file target copies data in the kernel ({@link KernelCopy},
 * {@code copy_file_range}), offered to the copy as an {@link OffloadedCopy}, where the target's file
 * system makes that cheap, or always with {@link FileSinkOptions#OFFLOAD}, never with
 * {@link FileSinkOptions#NO_OFFLOAD} ({@link KernelCopy#wanted}).
 */
public final class RawFileSink implements ImageSink {

    /** Largest single write; larger copies are split by the copy operator. */
    static final int MAX_WRITE = 64 << 20;
    /** Largest zero request: big enough to be cheap, small enough for steady progress. */
    static final long MAX_ZERO = 1L << 30;
    private static final ByteBuffer ZEROS = ZeroBuffer.of(1 << 20);

    /** The ways to zero a range, each falling back to the next when the file system refuses it. */
    private enum ZeroMethod { PUNCH_HOLE, ZERO_RANGE, PUNCH_AND_ALLOCATE, WRITE }

    private final OpenFile file;
    private final String endpoint;
    private final long size;
    private final boolean knownZero;
    private final boolean device;
    private volatile ZeroMethod zeroMethod;
    /**
     * One write or zero request at a time: the kernel serialises writers of a file on its inode lock
     * anyway, and writers waiting for it spin on the CPU ({@code rwsem_spin_on_owner}: a tenth of the
     * CPU time of an 8 GiB HTTP download). Threads waiting here sleep instead; serialising cut that
     * download's system time from 3.2-3.6 s to 2.3-2.8 s (perf/README.md).
     */
    private final ReentrantLock writeLock = new ReentrantLock();
    /** For a growable file: the end of the furthest range written, zeroed or skipped. */
    private final AtomicLong end = new AtomicLong();

    private final boolean allocateZeroes;
    private final WritebackWindow window;
    /** Aligned writes bypass the page cache through this; null to write everything through the cache. */
    private final DirectWriter direct;
    /** The kernel's copy from a local file, or null (turned off, or a device). */
    private final KernelCopy kernelCopy;
    /**
     * Set when the copy will not flush ({@link Unflushed}): every write then goes through the page
     * cache and stays there, with no direct I/O and no writeback window, so the copy returns as soon
     * as the kernel has the bytes, as qemu-img convert and cp do. Direct writes wait for the disk one
     * at a time: sparse-8g.raw without a flush took 2.74 s direct against qemu-img's 1.12 s through
     * the cache (perf/README.md, "Two modes").
     */
    private volatile boolean cacheOnly;
    private final Unflushed unflushed;

    private RawFileSink(OpenFile file, long size, boolean knownZero, boolean device,
                        boolean allocateZeroes, WritebackWindow window, DirectWriter direct, boolean offload,
                        boolean alwaysDirect) {
        this.file = file;
        this.endpoint = "file:" + file.path();
        this.size = size;
        this.knownZero = knownZero;
        this.device = device;
        this.allocateZeroes = allocateZeroes;
        this.window = window;
        this.direct = direct;
        // --direct: the caller measured direct writes faster than the page cache even without a flush
        this.unflushed = () -> cacheOnly = !alwaysDirect;
        // a device is never offloaded: copy_file_range takes regular files only
        this.kernelCopy = offload && !device ? new KernelCopy(file, window) : null;
        this.zeroMethod = this.device ? ZeroMethod.WRITE
                : allocateZeroes ? ZeroMethod.ZERO_RANGE : ZeroMethod.PUNCH_HOLE;
    }

    /**
     * Opens or creates {@code path} for an image of {@code size} bytes, on the file I/O scheduler.
     * A missing or empty file is created at {@code size}; an existing file must have exactly
     * {@code size} bytes; a block device must hold at least {@code size} bytes.
     *
     * <p>With {@link io.extentflow.engine.ImageSource#UNKNOWN_SIZE} (the source is a stream that
     * tells its size at its end) a file is rewritten from empty and grows as the copy goes; its
     * final size is set by {@link #flush()}.
     */
    public static Mono<RawFileSink> open(Path path, long size) {
        return open(path, size, EndpointOptions.defaults());
    }

    /**
     * As {@link #open(Path, long)}, with the file settings of {@code options}:
     * {@link ZeroOptions#ALLOCATE_ZEROES} (zero requests leave the range allocated instead of
     * punching a hole) and {@link FileSinkOptions#KEEP_CACHE}.
     */
    public static Mono<RawFileSink> open(Path path, long size, EndpointOptions options) {
        return open(path, size, options, WritebackWindow.DEFAULT_LIMIT);
    }

    /**
     * As {@link #open(Path, long, EndpointOptions)}, holding at most {@code cacheLimit} written bytes
     * in the page cache.
     */
    static Mono<RawFileSink> open(Path path, long size, EndpointOptions options, long cacheLimit) {
        return BlockingIo.call(() -> openNow(path, size, options, cacheLimit));
    }

    // package-private for BlockHoundTest, which shows the open blocks where it must not run
    static RawFileSink openNow(Path path, long size, EndpointOptions options, long cacheLimit)
            throws IOException {
        boolean allocateZeroes = options.get(ZeroOptions.ALLOCATE_ZEROES);
        KernelCopy.checkFlags(options); // before anything is created
        if (options.get(FileSinkOptions.KEEP_CACHE) && options.get(FileSinkOptions.DIRECT)) {
            throw new IllegalArgumentException("--keep-cache and --direct contradict each other; give one");
        }
        boolean growable = size == ImageSource.UNKNOWN_SIZE;
        if (size < 0 && !growable) {
            throw new IllegalArgumentException("negative image size " + size);
        }
        TargetPath.check(path);
        boolean existed = Files.exists(path);
        if (existed && FileProbe.isCharacterDevice(path)) {
            // /dev/null is opened as null: by its own provider; a terminal or /dev/zero is no image
            throw new IOException(path + ": is a character device, not a disk image (give null: to discard the image)");
        }
        OpenFile file = OpenFile.readWrite(path, !existed);
        try {
            int fd = file.fd();
            boolean device = FileProbe.isBlockDevice(path);
            long current = file.size();
            boolean knownZero = false;
            if (growable) {
                if (device) {
                    throw new IOException(path + ": a stream of unknown size cannot be written to a device");
                }
                if (current > 0) {
                    // The rule for every source: an existing target keeps its size. A stream tells its
                    // size only at its end, so an existing file with content cannot be checked first.
                    throw new IOException(path + ": existing target has " + current + " bytes, and the size "
                            + "of a stream is known only at its end; remove it or give a new target");
                }
                knownZero = true;
            } else if (device) {
                if (current < size) {
                    throw new IOException(path + ": device holds " + current + " bytes, the image needs " + size);
                }
            } else if (!existed || current == 0) {
                // ftruncate extends without allocating blocks: the new file is sparse and reads as zeros.
                // (Never truncate an empty file to 0 first: ext4 takes "truncate to 0, then write" for
                // a file being replaced and starts writeback of all of it on close (auto_da_alloc),
                // which made every copy wait seconds for the disk at the end.)
                Posix.ftruncate(fd, size);
                knownZero = true;
            } else if (current != size) {
                throw new IOException(path + ": existing target has " + current + " bytes but the image has "
                        + size + "; remove it or give a target of the same size");
            }
            boolean cached = options.get(FileSinkOptions.KEEP_CACHE);
            boolean alwaysDirect = options.get(FileSinkOptions.DIRECT);
            WritebackWindow window = cached ? WritebackWindow.disabled() : new WritebackWindow(fd, cacheLimit);
            DirectWriter direct = cached ? null : DirectWriter.open(path, fd);
            boolean offload = KernelCopy.wanted(path, options);
            return new RawFileSink(file, size, knownZero, device, allocateZeroes, window, direct, offload,
                    alwaysDirect);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public SinkCapabilities capabilities() {
        return new SinkCapabilities(knownZero, MAX_WRITE, MAX_ZERO, 4);
    }

    @Override
    public <C extends SinkCapability> Optional<C> sinkCapability(Class<C> type) {
        if (type == OffloadedCopy.class && kernelCopy != null) {
            return Optional.of(type.cast(kernelCopy));
        }
        return type == Unflushed.class ? Optional.of(type.cast(unflushed)) : Optional.empty();
    }

    /** True if {@code [offset, offset + length)} fits the image; a growable file records its new end. */
    private boolean fits(long offset, long length) {
        if (offset < 0 || length < 0) {
            return false;
        }
        if (size >= 0) {
            return ImageIoException.fits(offset, length, size);
        }
        if (length > Long.MAX_VALUE - offset) {
            return false; // the end would not fit in 63 bits
        }
        end.accumulateAndGet(offset + length, Math::max);
        return true;
    }

    @Override
    public Mono<Void> skip(long offset, long length) {
        return fits(offset, length) ? Mono.empty() : Mono.error(outside("skip", offset, length));
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        int length = data.remaining();
        if (!fits(offset, length)) {
            return Mono.error(outside("write", offset, length));
        }
        // a write usually follows a read that completed on a file I/O thread: write right there
        return BlockingIo.runHere(() -> writeNow(data, offset));
    }

    /**
     * All pieces in one task on the file I/O scheduler, one after the other: from an NBD source the
     * copy runs on the connection's event loop, and a task per piece cost a thread hand-off each
     * (nbdkit sparse-random runlength=1000: 393,216 pieces of 4 KiB). The pieces written through the
     * cache go to the writeback window as one range, from the first to the end of the last (holes
     * between them have nothing to write back): a {@code sync_file_range} per 4 KiB piece doubled
     * the system time of that copy with its flush.
     */
    @Override
    public Mono<Void> writePieces(long offset, ByteBuffer data, List<Extent> pieces) {
        for (Extent p : pieces) {
            if (!fits(p.start(), p.length())) {
                return Mono.error(outside("write", p.start(), p.length()));
            }
        }
        int base = data.position();
        return BlockingIo.runHere(() -> {
            long cachedFrom = -1;
            long cachedTo = -1;
            for (Extent p : pieces) {
                ByteBuffer piece = data.slice(base + (int) (p.start() - offset), (int) p.length());
                if (writeOne(piece, p.start())) {
                    cachedFrom = cachedFrom < 0 ? p.start() : cachedFrom;
                    cachedTo = p.end();
                }
            }
            if (cachedFrom >= 0) {
                window.written(cachedFrom, cachedTo - cachedFrom);
            }
        });
    }

    private void writeNow(ByteBuffer data, long offset) throws IOException {
        int length = data.remaining();
        if (writeOne(data, offset)) {
            window.written(offset, length);
        }
    }

    /**
     * Writes {@code data} at {@code offset} the way this sink writes: through the cache alone
     * (--no-flush), direct when large and aligned, else through the cache; true when the bytes went
     * through the cache of a flushed copy and the writeback window must hear of them.
     */
    private boolean writeOne(ByteBuffer data, long offset) throws IOException {
        if (cacheOnly) {
            writeFully(data, offset);
            return false;
        }
        if (direct != null && data.remaining() >= MIN_DIRECT && direct.accepts(data, offset)) {
            writeDirect(data, offset);
            return false;
        }
        writeFully(data, offset);
        return true;
    }

    /**
     * Largest single {@code pwrite}. The kernel sizes the page-cache folios of a buffered write by
     * the length of the call (ext4 has large folios since Linux 6.x), and on the measured VM
     * allocating 1-4 MiB folios for a new file cost two to three times the system time of the
     * copy itself: {@code sparse-8g.qcow2} to a new file took 3.0 s with 1 MiB writes and 1.1 s with the
     * same 1 MiB requests written in 256 KiB pieces (perf/README.md, "Request size").
     */
    static final int MAX_PWRITE = 256 << 10;

    /** Smallest write that goes direct in a flushed copy ({@link DirectWriter#MIN_DIRECT}). */
    static final int MIN_DIRECT = DirectWriter.MIN_DIRECT;

    private void writeDirect(ByteBuffer data, long offset) throws IOException {
        writeLock.lock();
        try {
            direct.write(data, offset);
        } finally {
            writeLock.unlock();
        }
    }

    private void writeFully(ByteBuffer data, long offset) throws IOException {
        writeLock.lock();
        try {
            long pos = offset;
            int limit = data.limit();
            while (data.hasRemaining()) {
                data.limit(Math.min(limit, data.position() + MAX_PWRITE));
                while (data.hasRemaining()) {
                    pos += file.channel().write(data, pos);
                }
                data.limit(limit);
            }
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        if (!fits(offset, length)) {
            return Mono.error(outside("zero", offset, length));
        }
        return BlockingIo.runHere(() -> zeroNow(offset, length));
    }

    private void zeroNow(long offset, long length) throws IOException {
        writeLock.lock();
        try {
            zeroLocked(offset, length);
        } finally {
            writeLock.unlock();
        }
    }

    private void zeroLocked(long offset, long length) throws IOException {
        while (true) {
            ZeroMethod method = zeroMethod;
            try {
                switch (method) {
                    case PUNCH_HOLE -> Posix.fallocate(file.fd(), Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE,
                            offset, length);
                    case ZERO_RANGE -> Posix.fallocate(file.fd(), Posix.FALLOC_FL_ZERO_RANGE | Posix.FALLOC_FL_KEEP_SIZE,
                            offset, length);
                    case PUNCH_AND_ALLOCATE -> {
                        Posix.fallocate(file.fd(), Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE, offset,
                                length);
                        Posix.fallocate(file.fd(), Posix.FALLOC_FL_KEEP_SIZE, offset, length);
                    }
                    case WRITE -> writeZeros(offset, length);
                }
                return;
            } catch (Posix.ErrnoException e) {
                if (e.errno() != Posix.EOPNOTSUPP || method == ZeroMethod.WRITE) {
                    throw e;
                }
                zeroMethod = next(method);
            }
        }
    }

    /** The fallback after {@code method}: deallocating sinks never allocate, allocating ones never leave holes. */
    private ZeroMethod next(ZeroMethod method) {
        return switch (method) {
            case PUNCH_HOLE -> ZeroMethod.ZERO_RANGE;
            case ZERO_RANGE -> allocateZeroes ? ZeroMethod.PUNCH_AND_ALLOCATE : ZeroMethod.WRITE;
            case PUNCH_AND_ALLOCATE, WRITE -> ZeroMethod.WRITE;
        };
    }

    private void writeZeros(long offset, long length) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            ByteBuffer z = ZEROS.duplicate();
            int n = (int) Math.min(z.capacity(), end - pos);
            z.limit(n);
            writeFully(z, pos);
            if (!cacheOnly) {
                window.written(pos, n);
            }
            pos += n;
        }
    }

    /**
     * A growable file gets its final size here, so a copy without flush fails if that fails (the
     * close, which does it too, has nobody to tell).
     */
    @Override
    public Mono<Void> finish() {
        return size < 0 && !device ? BlockingIo.run(this::setGrownSize) : Mono.empty();
    }

    @Override
    public Mono<Void> flush() {
        return BlockingIo.run(() -> {
            setGrownSize();
            Posix.fdatasync(file.fd());
            window.dropAll();
        });
    }

    /** A growable file ends where the last range ended, even if that range was zeros. */
    private void setGrownSize() throws IOException {
        if (size < 0 && !device && file.size() < end.get()) {
            Posix.ftruncate(file.fd(), end.get());
        }
    }

    private ImageIoException outside(String op, long offset, long length) {
        return ImageIoException.outside(op, endpoint, offset, length, size);
    }

    /** Closes the file; a growable one gets its final size first (close runs at the edge, where blocking is allowed). */
    @Override
    public void close() {
        try {
            setGrownSize();
        } catch (IOException ignored) {
            // the copy has failed or was flushed already; nothing better to do
        }
        if (direct != null) {
            direct.close();
        }
        file.close();
    }
}
