package io.extentflow.sinks.qcow2;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.capability.SinkCapability;
import io.extentflow.engine.capability.Unflushed;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.io.Posix;
import io.extentflow.engine.qcow2.Qcow2Format;
import io.extentflow.sinks.file.DirectWriter;
import io.extentflow.sinks.file.TargetPath;
import io.extentflow.sinks.file.WritebackWindow;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/**
 * Writes a qcow2 image (version 3, 16-bit refcounts) into a new local file, from requests that
 * arrive concurrently and in any order.
 *
 * <p>What goes where:
 * <ul>
 *   <li>Data: each guest cluster that receives data gets a host cluster at the end of the file when
 *       its first piece arrives (concurrent pieces agree through {@link GuestTable}'s lock), and
 *       every piece is written straight to its place: direct from 1 MiB up, smaller ones through the
 *       page cache (with a writeback window unless the copy will not flush). Parts of the
 *       cluster that no request writes read as zeros, as new file space does. With compression, a
 *       cluster's pieces are gathered ({@link PartialClusters}) and the whole cluster is compressed
 *       on the writing thread (the copy's file I/O threads, so clusters compress in parallel); a
 *       cluster that does not shrink is stored plain, as qemu does. Compressed clusters are packed
 *       back to back at byte offsets and may run on into the next host cluster.</li>
 *   <li>Zeros: without a backing file, nothing (an unallocated cluster reads as zeros); over a
 *       backing file, a whole zero cluster becomes an L2 zero cluster (it hides the backing data),
 *       a part of a written cluster stays zero in its host cluster.</li>
 *   <li>Skipped ranges (holes left to the backing chain) stay unallocated. A cluster that the copy
 *       writes in part and leaves to the backing file in part cannot be written without reading
 *       the backing file; it fails the copy with a message naming the cluster.</li>
 * </ul>
 *
 * <p>Metadata is built in memory and written by {@link #finish()}: the L2 tables (together, after the
 * data), the L1 table (right after the header), then the refcount blocks and table at the end of the
 * file, counting every cluster once (compressed host clusters once per compressed cluster in them).
 * The image is thus consistent by construction: no leaks, COPIED set exactly on refcount-1 clusters.
 *
 * <p>Crash safety: until {@link #finish()} the first cluster is all zeros, so a copy that is killed
 * leaves a file without the qcow2 magic, which qemu does not open as qcow2. {@code finish} writes all
 * metadata and the header except its magic, makes them durable, and only then writes the four magic
 * bytes: whatever a crash interrupts, no file carries the magic before its metadata is on disk. A
 * copy that flushes makes its data durable there too ({@code fdatasync}), so the magic also means
 * complete data; a copy with {@code --no-flush} ({@link Unflushed}) writes the metadata synchronously
 * ({@code O_DSYNC}, in a few large writes now that the L2 tables lie together at the end) and leaves
 * the data in the page cache to the kernel, as the raw sink does: waiting for 82 MiB of an
 * incremental overlay's data was most of the difference to the same copy into a raw file. A copy that fails removes the file it
 * created ({@link #close()}).
 */
public final class Qcow2FileSink implements ImageSink {

    /** Largest single write; larger copies are split by the copy operator. */
    static final int MAX_WRITE = 64 << 20;
    /** Largest zero request. */
    static final long MAX_ZERO = 1L << 30;

    private final OpenFile file;
    private final String endpoint;
    private final long size;
    private final Qcow2SinkOptions options;
    private final BackingFile backing;
    private final int clusterBits;
    private final int clusterSize;
    private final GuestTable table;
    private final ClusterCompressor compressor;
    private final PartialClusters partials;
    /**
     * Aligned data writes of at least {@link DirectWriter#MIN_DIRECT} bytes from direct memory bypass
     * the page cache through this, as the raw sink's do; null if refused.
     */
    private final DirectWriter direct;
    /**
     * Smaller data writes go through the page cache and are written back as the copy goes. Why not
     * direct: each direct write waits for the disk, and a write past the end of the file (every new
     * host cluster is one) is serialised by the file system, so an overlay of 1,310 scattered 64 KiB
     * clusters spent 0.25-0.5 ms per write, against 0.02 ms into the cache (strace -T; the overlay
     * case of perf/compare-incremental.sh without a flush, 7 alternated runs on the busy VM: median
     * 0.50 -> 0.39 s).
     */
    private final WritebackWindow window;
    /**
     * Set when the copy will not flush ({@link Unflushed}, {@code copy --no-flush}): the caller asked
     * for the fastest return, not for durable data. Small data writes then stay in the page cache
     * (no writeback window), and {@link #finish()} makes only the metadata durable before the magic,
     * not the data. Writes of 1 MiB and more still go direct, unlike the raw sink's with
     * {@code --no-flush}: sparse-8g.raw (2 GiB of data in 4 MiB requests) into a new qcow2 took
     * 1.5-2.3 s direct and 2.7-4.9 s through the cache (3 alternated runs on the busy VM).
     */
    private volatile boolean noFlush;
    private final Unflushed unflushed = () -> noFlush = true;
    /** Over a backing file without compression: clusters with a part left to the backing file. */
    private final Queue<Long> partlySkipped = new ConcurrentLinkedQueue<>();
    /** True if the sink created the file (else it was empty): a failed copy removes what it created. */
    private final boolean created;
    private final AtomicBoolean finished = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Qcow2FileSink(OpenFile file, boolean created, long size, Qcow2SinkOptions options, BackingFile backing,
                          DirectWriter direct, WritebackWindow window) {
        this.file = file;
        this.direct = direct;
        this.window = window;
        this.created = created;
        this.endpoint = "file:" + file.path();
        this.size = size;
        this.options = options;
        this.backing = backing;
        this.clusterBits = options.clusterBits();
        this.clusterSize = options.clusterSize();
        int l1Size = l1Size(size, clusterBits);
        this.table = new GuestTable(clusterBits, l1Size, (long) (1 + l1Clusters(l1Size)) << clusterBits);
        this.compressor = options.compression() == Qcow2Compression.NONE ? null : ClusterCompressor.of(options.compression());
        this.partials = compressor == null ? null : new PartialClusters(clusterSize);
    }

    /**
     * Creates {@code path} as a qcow2 image of {@code size} bytes, on the file I/O scheduler. The
     * file must not exist or be empty; a backing file must exist and have {@code size} bytes.
     */
    public static Mono<Qcow2FileSink> open(Path path, long size, Qcow2SinkOptions options) {
        return BlockingIo.call(() -> openNow(path, size, options));
    }

    static Qcow2FileSink openNow(Path path, long size, Qcow2SinkOptions options) throws IOException {
        if (size == ImageSource.UNKNOWN_SIZE) {
            throw new IOException(path + ": a qcow2 image needs its size before the first byte, and a stream tells "
                    + "its size only at its end; copy the stream to a raw file first");
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative image size " + size);
        }
        int clusterBits = options.clusterBits();
        long l1Entries = l1Entries(size, clusterBits);
        if (l1Entries * 8 > Qcow2Format.MAX_L1_BYTES) {
            throw new IOException(path + ": an image of " + size + " bytes with " + options.clusterSize()
                    + "-byte clusters needs an L1 table of " + l1Entries * 8 + " bytes, more than the "
                    + Qcow2Format.MAX_L1_BYTES + " qemu opens; give a larger cluster size");
        }
        TargetPath.check(path);
        boolean existed = Files.exists(path);
        if (existed && (!Files.isRegularFile(path) || Files.size(path) != 0)) {
            throw new IOException(path + ": exists; a qcow2 image is written into a new (or empty) file, "
                    + "remove it or give a new target");
        }
        BackingFile backing = options.backingFile() == null ? null
                : BackingFile.probe(path, options.backingFile(), options.backingFormat(), size);
        if (options.compression() != Qcow2Compression.NONE) {
            ClusterCompressor.of(options.compression()).prepare();
        }
        OpenFile file = OpenFile.readWrite(path, !existed);
        WritebackWindow window = new WritebackWindow(file.fd(), WritebackWindow.DEFAULT_LIMIT);
        return new Qcow2FileSink(file, !existed, size, options, backing, DirectWriter.open(path, file.fd()), window);
    }

    /**
     * Removes {@code path} if it is what a killed copy leaves: a regular file without the qcow2 magic
     * at its start (the sink writes the magic last, once the metadata is durable). A finished image,
     * a file of another kind (qemu's images start with their magic) or a missing one are left as they are.
     *
     * @return true if a file was removed
     */
    static boolean removeUnfinished(Path path) throws IOException {
        if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        ByteBuffer head = ByteBuffer.allocate(4);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            while (head.hasRemaining() && ch.read(head, head.position()) > 0) {
                // a short file reads fewer than four bytes
            }
        }
        // until finish() the first cluster is all zeros: anything else is not ours to remove
        for (int i = 0; i < head.position(); i++) {
            if (head.get(i) != 0) {
                return false;
            }
        }
        return Files.deleteIfExists(path);
    }

    /** Entries of the L1 table of an image of {@code size} bytes. */
    static long l1Entries(long size, int clusterBits) {
        int l1Shift = clusterBits + clusterBits - 3; // guest bytes one L2 table maps, log2
        return (size >>> l1Shift) + ((size & ((1L << l1Shift) - 1)) != 0 ? 1 : 0);
    }

    private static int l1Size(long size, int clusterBits) {
        return (int) l1Entries(size, clusterBits);
    }

    /** Clusters reserved for the L1 table: at least one, so even an empty image has one. */
    private int l1Clusters(int l1Size) {
        return Math.max(1, (int) (((long) l1Size * 8 + clusterSize - 1) >>> clusterBits));
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    @Override
    public long size() {
        return size;
    }

    /** The options the image is written with. */
    public Qcow2SinkOptions options() {
        return options;
    }

    /**
     * A new image reads as zeros where nothing is written, unless a backing file lies below: then
     * zero extents must be written (as zero clusters) to hide the backing data.
     */
    @Override
    public SinkCapabilities capabilities() {
        return new SinkCapabilities(backing == null, MAX_WRITE, MAX_ZERO, 4);
    }

    private long clusterStart(long cluster) {
        return cluster << clusterBits;
    }

    /** Bytes of guest cluster {@code cluster} inside the image: the last one may be short. */
    private int span(long cluster) {
        return (int) Math.min(clusterSize, size - clusterStart(cluster));
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        int length = data.remaining();
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(outside("write", offset, length));
        }
        if (length == 0) {
            return Mono.empty();
        }
        return BlockingIo.runHere(() -> {
            if (compressor == null) {
                writePlain(offset, data);
            } else {
                writeCompressed(offset, data);
            }
        });
    }

    private void writePlain(long offset, ByteBuffer data) throws IOException {
        long end = offset + data.remaining();
        long first = offset >>> clusterBits;
        long last = (end - 1) >>> clusterBits;
        long[] hosts = table.allocate(first, (int) (last - first + 1));
        long hostEnd = 0;
        for (long h : hosts) {
            hostEnd = Math.max(hostEnd, h + clusterSize);
        }
        reserve(hostEnd);
        ByteBuffer view = data.duplicate();
        long pos = offset;
        while (pos < end) {
            long cluster = pos >>> clusterBits;
            long host = hosts[(int) (cluster - first)] + (pos - clusterStart(cluster));
            // extend over following clusters that lie right after this one in the file
            long runEnd = Math.min(end, clusterStart(cluster + 1));
            while (runEnd < end && hosts[(int) ((runEnd >>> clusterBits) - first)] == host + (runEnd - pos)) {
                runEnd = Math.min(end, runEnd + clusterSize);
            }
            int n = (int) (runEnd - pos);
            int at = (int) (pos - offset) + data.position();
            ByteBuffer run = view.limit(at + n).position(at);
            if (direct != null && n >= DirectWriter.MIN_DIRECT && direct.accepts(run, host)) {
                direct.write(run, host);
            } else {
                writeFully(run, host);
                if (!noFlush) {
                    window.written(host, n);
                }
            }
            pos = runEnd;
        }
    }

    private void writeCompressed(long offset, ByteBuffer data) throws IOException {
        long end = offset + data.remaining();
        long pos = offset;
        while (pos < end) {
            long cluster = pos >>> clusterBits;
            long start = clusterStart(cluster);
            int span = span(cluster);
            int n = (int) (Math.min(end, start + span) - pos);
            ByteBuffer piece = data.slice(data.position() + (int) (pos - offset), n);
            if (pos == start && n == span) {
                byte[] bytes = SOURCE_BUFFERS.get();
                if (bytes.length < clusterSize) {
                    bytes = new byte[clusterSize];
                    SOURCE_BUFFERS.set(bytes);
                }
                piece.get(0, bytes, 0, span);
                Arrays.fill(bytes, span, clusterSize, (byte) 0); // the end of the last cluster
                storeCompressed(cluster, bytes);
            } else {
                complete(cluster, partials.add(cluster, span, (int) (pos - start), n, PartialClusters.Piece.DATA, piece));
            }
            pos += n;
        }
    }

    /** Bytes by which {@link #reserve} grows the file ahead of the clusters being written. */
    static final long RESERVE_STEP = 256L << 20;
    /** The file's size as {@link #reserve} set it; finish sets the real one. */
    private volatile long reserved;

    /**
     * Makes the file at least {@code end} bytes long, in steps of {@link #RESERVE_STEP} (sparse: no
     * blocks). Why: a write past the end of the file changes its size, which the file system does
     * under the file's lock with a journal entry per write; the copy's writers, appending one new
     * host cluster each, then waited on each other: a third of an incremental overlay's CPU time went
     * to spinning on that lock and to the copies made under it (perf record: rwsem_spin_on_owner).
     */
    private void reserve(long end) throws IOException {
        if (end <= reserved) {
            return;
        }
        synchronized (this) {
            if (end > reserved) {
                long to = Math.max(end, reserved + RESERVE_STEP);
                Posix.ftruncate(file.fd(), to);
                reserved = to;
            }
        }
    }

    /** Per thread: the cluster being compressed and its compressed form (the file I/O threads are few). */
    private static final ThreadLocal<byte[]> SOURCE_BUFFERS = ThreadLocal.withInitial(() -> new byte[0]);
    private static final ThreadLocal<byte[]> COMPRESSED_BUFFERS = ThreadLocal.withInitial(() -> new byte[0]);

    /** Stores one whole cluster ({@code bytes[0, clusterSize)}) compressed, or plain if it does not shrink. */
    private void storeCompressed(long cluster, byte[] bytes) throws IOException {
        byte[] out = COMPRESSED_BUFFERS.get();
        if (out.length < clusterSize) {
            out = new byte[clusterSize];
            COMPRESSED_BUFFERS.set(out);
        }
        int n = compressor.compress(bytes, clusterSize, out, clusterSize - 1);
        if (n < 0) {
            long host = table.allocate(cluster, 1)[0];
            reserve(host + clusterSize);
            writeFully(ByteBuffer.wrap(bytes, 0, span(cluster)), host);
        } else {
            long host = table.allocateCompressed(cluster, n);
            reserve(host + n);
            writeFully(ByteBuffer.wrap(out, 0, n), host);
        }
    }

    /** Stores a cluster whose last piece just arrived; does nothing while {@code gathered} is null. */
    private void complete(long cluster, PartialClusters.Gathered gathered) throws IOException {
        if (gathered == null) {
            return;
        }
        if (gathered.hole && (gathered.data || gathered.zero) && backing != null) {
            throw mixedWithBacking(cluster);
        }
        if (gathered.data) {
            storeCompressed(cluster, gathered.bytes);
        } else if (gathered.zero && backing != null) {
            table.markZero(cluster);
        }
    }

    private IOException mixedWithBacking(long cluster) {
        return new IOException(endpoint + ": guest cluster at offset " + clusterStart(cluster) + " (" + clusterSize
                + "-byte clusters) is written in part and left to the backing file in part; the source's holes are "
                + "finer than the clusters: give a cluster size no larger than the source's");
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(outside("zero", offset, length));
        }
        if (length == 0 || (backing == null && compressor == null)) {
            return Mono.empty(); // unallocated clusters and new host clusters read as zeros
        }
        return BlockingIo.runHere(() -> cover(offset, length, PartialClusters.Piece.ZERO));
    }

    @Override
    public Mono<Void> skip(long offset, long length) {
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(outside("skip", offset, length));
        }
        if (length == 0 || (backing == null && compressor == null)) {
            return Mono.empty();
        }
        if (compressor == null) {
            // No I/O and no scheduler hop: whole clusters left to the backing file need nothing, and
            // only the clusters at the two ends can be skipped in part (noted, checked by finish).
            // An incremental copy sends one skip per clean range, over a thousand of them.
            return Mono.fromRunnable(() -> skipEnds(offset, offset + length));
        }
        return BlockingIo.runHere(() -> cover(offset, length, PartialClusters.Piece.HOLE));
    }

    /** The first and last clusters of a skipped range {@code [offset, end)}, without compression. */
    private void skipEnds(long offset, long end) {
        long first = offset >>> clusterBits;
        long last = (end - 1) >>> clusterBits;
        if (!wholeCluster(first, offset, end)) {
            partlySkipped.add(first);
        }
        if (last != first && !wholeCluster(last, offset, end)) {
            partlySkipped.add(last);
        }
    }

    /** True if {@code [offset, end)} covers all of guest cluster {@code cluster}. */
    private boolean wholeCluster(long cluster, long offset, long end) {
        long start = clusterStart(cluster);
        return offset <= start && end >= start + span(cluster);
    }

    /** Accounts for a range that is zeroed or left to the backing file, cluster by cluster. */
    private void cover(long offset, long length, PartialClusters.Piece piece) throws IOException {
        long end = offset + length;
        long pos = offset;
        while (pos < end) {
            long cluster = pos >>> clusterBits;
            long start = clusterStart(cluster);
            int span = span(cluster);
            long pieceEnd = Math.min(end, start + span);
            boolean whole = pos == start && pieceEnd == start + span;
            if (whole) {
                if (piece == PartialClusters.Piece.ZERO && backing != null) {
                    table.markZero(cluster);
                }
                // whole holes stay unallocated; whole zeros without backing file too
            } else if (compressor != null) {
                complete(cluster, partials.add(cluster, span, (int) (pos - start), (int) (pieceEnd - pos), piece, null));
            } else if (piece == PartialClusters.Piece.ZERO) {
                table.allocate(cluster, 1); // the zero part stays zero in the new host cluster
            } else {
                partlySkipped.add(cluster);
            }
            pos = pieceEnd;
        }
    }

    /** Writes the metadata, then the header, then its magic (see the class comment). */
    @Override
    public Mono<Void> finish() {
        return BlockingIo.run(this::finishNow);
    }

    private void finishNow() throws IOException {
        if (finished.get()) {
            return;
        }
        if (partials != null && partials.pending() != 0) {
            throw new IOException(endpoint + ": " + partials.pending() + " clusters were written only in part");
        }
        for (Long cluster : partlySkipped) {
            if (table.hasData(cluster)) {
                throw mixedWithBacking(cluster);
            }
        }
        ByteBuffer header;
        FileChannel synchronous = noFlush ? synchronousChannel() : null;
        if (synchronous != null) {
            // each metadata write is durable when it returns (O_DSYNC: that range and what locates
            // it, not the data written before it): a few large writes, each one sync
            try (synchronous) {
                header = writeMetadata(new MetadataWriter(synchronous, clusterBits));
            }
        } else {
            header = writeMetadata(new MetadataWriter(file.channel(), clusterBits));
            Posix.fdatasync(file.fd());
            window.dropAll();
        }
        new MetadataWriter(file.channel(), clusterBits).writeFully(header.duplicate().limit(4), 0);
        finished.set(true);
    }

    /**
     * Writes the L2 tables, the L1 table, the refcounts and the header except its magic through
     * {@code metadata}, and returns the whole header.
     */
    private ByteBuffer writeMetadata(MetadataWriter metadata) throws IOException {
        long l1Offset = clusterSize;
        metadata.writeTables(table, l1Offset);
        MetadataWriter.RefcountTable refcounts = metadata.writeRefcounts(table.space());
        long fileEnd = table.space().end();
        if (file.size() != fileEnd) {
            // the size reserved ahead of the data (reserve), or a last data cluster written in part;
            // made durable with the header written next
            Posix.ftruncate(file.fd(), fileEnd);
        }
        int compressionType = options.compression() == Qcow2Compression.ZSTD
                ? Qcow2Format.COMPRESSION_ZSTD : Qcow2Format.COMPRESSION_DEFLATE;
        ByteBuffer header = HeaderBytes.build(clusterBits, size, table.l1Size(), l1Offset, refcounts, compressionType,
                backing == null ? null : backing.name(), backing == null ? null : backing.format());
        metadata.writeFully(header.duplicate().position(4), 4);
        return header;
    }

    /** A second handle on the file whose writes are synchronous ({@code O_DSYNC}), or null where none opens. */
    private FileChannel synchronousChannel() {
        try {
            return FileChannel.open(Path.of("/proc/self/fd/" + file.fd()), StandardOpenOption.WRITE,
                    StandardOpenOption.DSYNC);
        } catch (IOException | UnsupportedOperationException e) {
            return null; // no /proc: the metadata is synced with the data (fdatasync), as with a flush
        }
    }

    /** {@link Unflushed}: a copy with {@code --no-flush} leaves its data to the kernel. */
    @Override
    public <C extends SinkCapability> Optional<C> sinkCapability(Class<C> type) {
        return type == Unflushed.class ? Optional.of(type.cast(unflushed)) : Optional.empty();
    }

    @Override
    public Mono<Void> flush() {
        return BlockingIo.run(() -> {
            Posix.fdatasync(file.fd());
            window.dropAll();
        });
    }

    private void writeFully(ByteBuffer data, long offset) throws IOException {
        long pos = offset;
        while (data.hasRemaining()) {
            pos += file.channel().write(data, pos);
        }
    }

    private ImageIoException outside(String op, long offset, long length) {
        return ImageIoException.outside(op, endpoint, offset, length, size);
    }

    /**
     * Closes the file. An image that was not finished is removed: it has no magic and no metadata,
     * so nothing could read it anyway, and a failed copy leaves no half-made file behind.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (!finished.get()) {
                if (created) {
                    Files.deleteIfExists(file.path());
                } else {
                    Posix.ftruncate(file.fd(), 0); // it was empty before the copy
                }
            }
        } catch (IOException ignored) {
            // the file has no magic: qemu does not read it as qcow2
        } finally {
            if (direct != null) {
                direct.close();
            }
            file.close();
        }
    }
}
