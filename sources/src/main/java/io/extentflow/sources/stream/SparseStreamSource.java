package io.extentflow.sources.stream;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.io.StreamThreads;
import io.extentflow.engine.sparse.SparseFrame;
import io.extentflow.engine.sparse.SparseStreamReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A sparse stream read once, front to back, from a pipe or standard input. Its size is known only
 * at the stop frame ({@link #size()} is {@link ImageSource#UNKNOWN_SIZE}).
 *
 * <p>Headers and payloads share one byte stream, so extents and reads are served by one pump that
 * runs on a {@link StreamThreads} thread (it may wait for the writer at the other end): it reads the next header when the copy asks for another extent and
 * the previous payload is consumed, and it reads payload bytes into the read request waiting at the
 * stream's current offset. Nothing is read ahead of demand, so a slow target slows the reader and
 * no buffer grows. Extents are one per frame (they cannot be merged: merging would need the next
 * header, which comes after a payload that nobody has read yet).
 */
public final class SparseStreamSource implements ImageSource {

    private final SparseStreamReader reader;
    private final ReadableByteChannel in;
    private final String endpoint;
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final long size;
    private final Runnable onClose;

    private FluxSink<Extent> extents;
    private long demand;
    private long imageEnd;
    private final TreeMap<Long, PendingRead> reads = new TreeMap<>();
    private boolean pumping;
    private boolean done;
    private Throwable failure;

    private record PendingRead(long offset, ByteBuffer target, MonoSink<Void> done) {
    }

    /**
     * @param in       the stream; read from {@link StreamThreads} only
     * @param endpoint the address, for messages (e.g. {@code stdin})
     */
    public SparseStreamSource(ReadableByteChannel in, String endpoint) {
        this(in, endpoint, UNKNOWN_SIZE, () -> { });
    }

    /**
     * A stream whose image size is known in advance (e.g. an HTTP server said it): extents then
     * cover exactly {@code size} bytes, a frame past it is an error, and what the frames leave out
     * at the end reads as zeros.
     *
     * @param onClose what else to release on {@link #close()} (e.g. the HTTP client)
     */
    public SparseStreamSource(ReadableByteChannel in, String endpoint, long size, Runnable onClose) {
        this.in = in;
        this.reader = new SparseStreamReader(in);
        this.endpoint = endpoint;
        this.size = size;
        this.onClose = onClose;
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    @Override
    public String format() {
        return "sparse-stream";
    }

    /** Always: the next header comes after a payload that must be read first, even when the size is known. */
    @Override
    public boolean sequential() {
        return true;
    }

    @Override
    public long size() {
        return size;
    }

    /** The extents of the whole stream, as its frames arrive; {@code start} must be 0 and {@code length} is ignored. */
    @Override
    public Flux<Extent> extents(long start, long length) {
        if (start != 0) {
            return Flux.error(new IllegalArgumentException(endpoint + ": a stream is read from its start"));
        }
        return Flux.create(sink -> {
            if (!subscribed.compareAndSet(false, true)) {
                sink.error(new IllegalStateException(endpoint + ": a stream can be read only once"));
                return;
            }
            synchronized (this) {
                extents = sink;
            }
            sink.onRequest(n -> {
                synchronized (this) {
                    demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                }
                pump();
            });
        });
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        return Mono.create(sink -> {
            Throwable failed;
            synchronized (this) {
                failed = failure;
                if (failed == null) {
                    reads.put(offset, new PendingRead(offset, target, sink));
                }
            }
            if (failed != null) {
                sink.error(failed);
            } else {
                pump();
            }
        });
    }

    /** Starts the pump unless it is running; it stops when it has nothing it can do. */
    private void pump() {
        synchronized (this) {
            if (pumping || done) {
                return;
            }
            pumping = true;
        }
        StreamThreads.scheduler().schedule(this::runPump);
    }

    private void runPump() {
        try {
            while (step()) {
                // keep going while there is work that can be done now
            }
        } catch (IOException | RuntimeException e) {
            fail(e);
        }
    }

    /** Does one thing the stream allows now; false (and the pump stops) when there is nothing. */
    private boolean step() throws IOException {
        PendingRead read = null;
        boolean wantHeader = false;
        synchronized (this) {
            if (done) {
                pumping = false;
                return false;
            }
            if (reader.payloadLeft() > 0) {
                read = reads.remove(reader.payloadOffset());
            } else if (demand > 0) {
                demand--;
                wantHeader = true;
            }
            if (read == null && !wantHeader) {
                pumping = false;
                return false;
            }
        }
        if (read != null) {
            if (read.target.remaining() > reader.payloadLeft()) {
                throw new ImageIoException("read", endpoint, read.offset, read.target.remaining(),
                        "read crosses the end of the data frame", null);
            }
            reader.readPayload(read.target);
            read.done.success();
            return true;
        }
        SparseFrame f = reader.next();
        if (f.kind() == SparseFrame.Kind.STOP) {
            if (size >= 0 && imageEnd < size) {
                extents.next(Extent.hole(imageEnd, size - imageEnd));
            }
            finish();
            return false;
        }
        if (size >= 0 && f.end() > size) {
            throw new io.extentflow.engine.sparse.SparseStreamException(reader.streamOffset()
                    - io.extentflow.engine.sparse.SparseFrame.HEADER_SIZE, null,
                    "frame ends at image offset " + f.end() + ", past the image size " + size);
        }
        if (f.start() > imageEnd) {
            extents.next(Extent.hole(imageEnd, f.start() - imageEnd));
        }
        imageEnd = f.end();
        extents.next(f.kind() == SparseFrame.Kind.DATA ? Extent.data(f.start(), f.length())
                : Extent.zero(f.start(), f.length()));
        return true;
    }

    private void finish() {
        List<PendingRead> stray;
        synchronized (this) {
            done = true;
            pumping = false;
            stray = new ArrayList<>(reads.values());
            reads.clear();
        }
        extents.complete();
        stray.forEach(r -> r.done.error(new ImageIoException("read", endpoint, r.offset, r.target.remaining(),
                "no data frame at this offset", null)));
    }

    private void fail(Throwable e) {
        List<PendingRead> dropped;
        FluxSink<Extent> sink;
        synchronized (this) {
            failure = e;
            done = true;
            pumping = false;
            dropped = new ArrayList<>(reads.values());
            reads.clear();
            sink = extents;
        }
        if (sink != null) {
            sink.error(e);
        }
        dropped.forEach(r -> r.done.error(e));
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // read-only
        }
        onClose.run();
    }
}
