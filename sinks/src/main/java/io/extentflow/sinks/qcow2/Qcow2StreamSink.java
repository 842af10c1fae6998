package io.extentflow.sinks.qcow2;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.capability.ExtentPlan;
import io.extentflow.engine.capability.SinkCapability;
import io.extentflow.engine.io.StreamThreads;
import io.extentflow.engine.io.ZeroBuffer;
import io.extentflow.sinks.file.DirectWriter;
import io.extentflow.sinks.stream.InOrderWrites;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * Writes a qcow2 image front to back in one pass, without a seek: to a pipe, standard output or
 * anything else that only takes bytes in order.
 *
 * <p>The sink asks the copy for the source's whole extent list first ({@link ExtentPlan}); from it
 * {@link StreamLayout} places every cluster, and {@link #plan} writes the header, refcount blocks, L1
 * and L2 tables before any data. Then requests arrive concurrently and in any order, but the data
 * clusters must go out in guest order: as in the sparse stream sink, a request waits, keyed by its
 * offset, until everything before it is written ({@link InOrderWrites}), and its buffer is released
 * only once its bytes are out. Memory is therefore bounded by the copy's bytes in flight, plus the
 * layout (bounded by the number of extents). Zero and skipped ranges inside a cluster that holds
 * data are written as zeros; elsewhere they cost nothing.
 *
 * <p>On a regular file (standard output redirected to a new file) the same bytes go out in the same
 * order, but by positioned writes at the place the stream has reached, so that aligned data can
 * bypass the page cache ({@link DirectWriter}) as the random-access writer's does.
 *
 * <p>Not offered: compression (compressed sizes, hence every offset after the first compressed
 * cluster, are known only after compressing, which a layout fixed before the first byte cannot wait
 * for) and backing files; both are refused when the sink opens, in one line.
 *
 * <p>A copy that is killed or fails must not leave something that reads as a whole image:
 * <ul>
 *   <li>On a regular file (standard output redirected to a new file), the header goes out without its
 *       magic; {@link #finish()} writes everything else, makes it durable, and only then writes the
 *       four magic bytes at offset 0 (a positioned write, which does not move the stream). A copy that
 *       stops before has written no qcow2 image at all, and {@link #close()} empties the file.</li>
 *   <li>On a pipe nothing written can be taken back: the magic goes first. The refcount table goes
 *       last, and every refcount block counts every cluster up to the image's end, so any image cut
 *       short fails {@code qemu-img check} (its clusters have refcount 0, or lie past the end of the
 *       file), and the copy itself fails with a non-zero exit.</li>
 * </ul>
 */
public final class Qcow2StreamSink implements ImageSink, ExtentPlan {

    /**
     * Told the image's exact length in bytes once it is laid out, before its first byte is written:
     * an HTTP upload starts its request with that {@code Content-Length} here, and refuses a target too
     * small for it by throwing (the copy then fails before anything is sent). Called once, on a stream
     * thread, so it may block briefly.
     */
    @FunctionalInterface
    public interface BeforeFirstByte {
        void start(long imageLength) throws IOException;
    }

    /** Largest data request. */
    static final int MAX_WRITE = 64 << 20;
    private static final ByteBuffer ZEROS = ZeroBuffer.of(1 << 20);

    private final WritableByteChannel out;
    /**
     * A regular file that receives the magic last and is synced; null for a pipe. Everything goes to
     * it by positioned writes at the place the stream has reached (the same bytes in the same order,
     * but aligned data may then bypass the page cache through {@link #direct}).
     */
    private final FileChannel file;
    /** Aligned data writes from direct memory into {@link #file} bypass the page cache through this; null if none. */
    private final DirectWriter direct;
    /** Bytes of the image written so far: the place of the next byte. */
    private long written;
    private final String endpoint;
    private final long size;
    private final int clusterBits;
    private final Object emitting = new Object();
    private final BeforeFirstByte start;
    /** Puts the requests in guest order and hands them to {@link #emit}. */
    private final InOrderWrites writes;
    private volatile StreamLayout layout;

    /** Emission state, under {@link #emitting}: the run of data clusters being written and the host offset reached. */
    private int run;
    private long host;
    private volatile boolean finished;

    /**
     * @param out      where the image goes, front to back; written from {@link StreamThreads} only
     * @param file     {@code out} as a regular, empty file positioned at 0 that takes positioned writes
     *                 (not opened for appending), or null for a pipe or anything else
     * @param direct   a direct handle on {@code file} ({@link DirectWriter#open}), or null to write
     *                 everything through the page cache
     * @param endpoint the address, for messages
     * @param size     the image size
     * @param options  the layout; compression and backing files are refused
     * @throws IllegalArgumentException for a stream source of unknown size, compression or a backing
     *                                  file, saying why
     */
    public Qcow2StreamSink(WritableByteChannel out, FileChannel file, DirectWriter direct, String endpoint, long size,
                           Qcow2SinkOptions options) {
        this(out, file, direct, endpoint, size, options, length -> { });
    }

    /**
     * A sink that writes the image into {@code out}, which only takes bytes in order (a pipe, an HTTP
     * request's body), after telling {@code start} its exact length.
     *
     * @throws IllegalArgumentException as {@link #Qcow2StreamSink(WritableByteChannel, FileChannel,
     *                                  DirectWriter, String, long, Qcow2SinkOptions)}
     */
    public static Qcow2StreamSink toChannel(WritableByteChannel out, String endpoint, long size,
                                            Qcow2SinkOptions options, BeforeFirstByte start) {
        return new Qcow2StreamSink(out, null, null, endpoint, size, options, start);
    }

    private Qcow2StreamSink(WritableByteChannel out, FileChannel file, DirectWriter direct, String endpoint, long size,
                            Qcow2SinkOptions options, BeforeFirstByte start) {
        refuseUnsupported(endpoint, size, options);
        this.start = start;
        this.out = out;
        this.file = file;
        this.direct = file == null ? null : direct;
        this.endpoint = endpoint;
        this.size = size;
        this.clusterBits = options.clusterBits();
        this.writes = new InOrderWrites(endpoint, size, new InOrderWrites.Output() {
            @Override
            public void write(long offset, long length, ByteBuffer data) throws IOException {
                synchronized (emitting) {
                    emit(offset, length, data);
                }
            }

            @Override
            public RuntimeException notReady() {
                return layout != null ? null : new IllegalStateException(endpoint + ": a request came before the "
                        + "image was laid out; the copy must hand this sink its extent plan first");
            }
        });
    }

    /**
     * Refuses what a qcow2 image written in one pass cannot be: of unknown size, compressed, or an
     * overlay on a backing file.
     *
     * @throws IllegalArgumentException one line naming {@code endpoint} and why
     */
    public static void refuseUnsupported(String endpoint, long size, Qcow2SinkOptions options) {
        if (size == ImageSource.UNKNOWN_SIZE) {
            throw new IllegalArgumentException(endpoint + ": a qcow2 image needs its size before the first byte, "
                    + "and a stream tells its size only at its end; copy the stream to a raw file first");
        }
        if (options.compression() != Qcow2Compression.NONE) {
            throw new IllegalArgumentException(endpoint + ": a compressed qcow2 image cannot be streamed in one pass "
                    + "(the place of each cluster depends on the compressed sizes before it); write it to a file "
                    + "instead, or stream it uncompressed");
        }
        if (options.backingFile() != null) {
            throw new IllegalArgumentException(endpoint + ": a qcow2 overlay on a backing file is written to a file, "
                    + "not streamed");
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

    /** A new image reads as zeros: zero extents arrive as skips, and cost nothing outside data clusters. */
    @Override
    public SinkCapabilities capabilities() {
        return new SinkCapabilities(true, MAX_WRITE, Long.MAX_VALUE, 1);
    }

    /** This sink needs the extent plan. */
    @Override
    public <C extends SinkCapability> Optional<C> sinkCapability(Class<C> type) {
        return type == ExtentPlan.class ? Optional.of(type.cast(this)) : Optional.empty();
    }

    /** Lays the image out and writes everything that precedes the data. */
    @Override
    public Mono<Void> plan(List<Extent> extents) {
        return Mono.<Void>fromCallable(() -> {
            StreamLayout l = StreamLayout.of(endpoint, size, clusterBits, extents);
            synchronized (emitting) {
                if (layout != null) {
                    throw new IllegalStateException(endpoint + ": the image was planned already");
                }
                start.start(l.end());
                l.writeMetadata(this::writeFully, file == null);
                host = l.dataAt();
                layout = l;
            }
            return null;
        }).subscribeOn(StreamThreads.scheduler());
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        return writes.enqueue(offset, data.remaining(), data);
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        return writes.enqueue(offset, length, null);
    }

    @Override
    public Mono<Void> skip(long offset, long length) {
        return writes.enqueue(offset, length, null);
    }

    /** Writes the part of a request that falls in data clusters: its bytes ({@code data}), or zeros (null). */
    private void emit(long offset, long length, ByteBuffer data) throws IOException {
        StreamLayout l = layout;
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            while (run < l.runs() && l.runEnd(run) <= pos) {
                run++;
            }
            long runStart = run < l.runs() ? l.runStart(run) : Long.MAX_VALUE;
            if (data != null && runStart > pos) {
                throw new IOException(endpoint + ": data at offset " + pos + " where the source's extents said the "
                        + "image reads as zeros; the source changed during the copy");
            }
            if (runStart >= end) {
                break;
            }
            long from = Math.max(pos, runStart);
            long to = Math.min(end, l.runEnd(run));
            long n = to - from;
            if (data != null) {
                int at = data.position() + (int) (from - offset);
                writeFully(data.duplicate().limit(at + (int) n).position(at));
            } else {
                writeZeros(n);
            }
            host += n;
            pos = to;
        }
    }

    private void writeZeros(long n) throws IOException {
        long left = n;
        while (left > 0) {
            ByteBuffer z = ZEROS.duplicate();
            z.limit((int) Math.min(z.capacity(), left));
            left -= z.remaining();
            writeFully(z);
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        if (file == null) {
            while (b.hasRemaining()) {
                out.write(b);
            }
            return;
        }
        int n = b.remaining();
        if (direct != null && direct.accepts(b, written)) {
            direct.write(b, written);
        } else {
            long pos = written;
            while (b.hasRemaining()) {
                pos += file.write(b, pos);
            }
        }
        written += n;
    }

    /**
     * Ends the image once every request is written: the end of the last cluster, the refcount table,
     * and on a regular file a sync and then the magic. Called by the copy once, flush or not.
     */
    @Override
    public Mono<Void> finish() {
        return Mono.<Void>fromCallable(() -> {
            finishNow();
            return null;
        }).subscribeOn(StreamThreads.scheduler());
    }

    private void finishNow() throws IOException {
        InOrderWrites.Reached reached = writes.reached();
        if (reached.outstanding() || reached.frontier() != size) {
            throw new IOException(endpoint + ": the image ended at offset " + reached.frontier() + " of " + size
                    + (reached.outstanding() ? ", with requests outstanding" : ""));
        }
        synchronized (emitting) {
            if (finished) {
                return;
            }
            StreamLayout l = layout;
            if (l == null) {
                throw new IllegalStateException(endpoint + ": finished before it was laid out");
            }
            long padding = l.refcountTableAt() - host;
            if (padding < 0 || padding >= l.clusterSize()) {
                throw new IllegalStateException(endpoint + ": wrote " + host + " bytes of image where "
                        + l.refcountTableAt() + " were laid out");
            }
            writeZeros(padding); // the rest of a last, short guest cluster
            l.writeRefcountTable(this::writeFully);
            if (file != null) {
                file.force(false);
                ByteBuffer magic = l.header().limit(4);
                while (magic.hasRemaining()) {
                    file.write(magic, magic.position());
                }
            }
            finished = true;
        }
    }

    /** Makes a regular file durable; a pipe has nothing to sync. */
    @Override
    public Mono<Void> flush() {
        return Mono.<Void>fromCallable(() -> {
            if (file != null) {
                file.force(false);
            }
            return null;
        }).subscribeOn(StreamThreads.scheduler());
    }

    /**
     * Closes the output. A regular file whose image was not finished is emptied (it was empty before
     * the copy, and holds no magic anyway); a pipe's reader sees the stream end early.
     */
    @Override
    public void close() {
        try {
            if (file != null && !finished) {
                file.truncate(0);
            }
        } catch (IOException ignored) {
            // without its magic the file is not a qcow2 image anyway
        }
        if (direct != null) {
            direct.close();
        }
        try {
            out.close();
        } catch (IOException ignored) {
            // nothing more can be written anyway
        }
    }
}
