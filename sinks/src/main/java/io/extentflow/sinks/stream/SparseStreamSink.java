package io.extentflow.sinks.stream;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.io.StreamThreads;
import io.extentflow.engine.sparse.SparseFrame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Writes an image as a sparse stream (see {@link SparseFrame}) to a pipe, standard output or a file.
 *
 * <p>The copy operator completes requests in any order, but a stream is written front to back, so
 * requests wait here, keyed by offset, until everything before them is written; a write's buffer is
 * only released when its frame is out. Memory is therefore bounded by the copy's bytes in flight.
 * The sink says it is known to be zero, so zero extents arrive as {@link #skip} calls, and runs of
 * zeros, however they arrive, are written as one zero frame. The stop frame follows the frame that
 * reaches the image size (or, for a streamed source of unknown size, {@link #finish()}).
 */
public final class SparseStreamSink implements ImageSink {

    /** Largest data frame: the copy's requests are cut to this. */
    static final int MAX_DATA_FRAME = 64 << 20;
    private static final ByteBuffer TERMINATOR = ByteBuffer.wrap(new byte[] {'\r', '\n'}).asReadOnlyBuffer();

    private final WritableByteChannel out;
    /** A regular file, made durable by the flush; pipes and terminals have nothing to sync. */
    private final boolean durable;
    private final String endpoint;
    private final long size;

    private final TreeMap<Long, Pending> pending = new TreeMap<>();
    private long frontier;
    private long zeroStart;
    private long zeroLength;
    private boolean draining;
    private boolean stopped;
    private IOException failure;

    private record Pending(long offset, long length, ByteBuffer data, MonoSink<Void> done) {
    }

    /**
     * @param out      where frames go; written from {@link StreamThreads} only
     * @param durable  {@code out} is a regular {@link FileChannel} to sync at the flush (not a pipe,
     *                 terminal or {@code /dev/null})
     * @param endpoint the address, for messages
     * @param size     image size, or {@link io.extentflow.engine.ImageSource#UNKNOWN_SIZE} when the
     *                 source is itself a stream
     */
    public SparseStreamSink(WritableByteChannel out, boolean durable, String endpoint, long size) {
        this.out = out;
        this.durable = durable;
        this.endpoint = endpoint;
        this.size = size;
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
        return new SinkCapabilities(true, MAX_DATA_FRAME, Long.MAX_VALUE, 1);
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        return enqueue(offset, data.remaining(), data);
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        return enqueue(offset, length, null);
    }

    @Override
    public Mono<Void> skip(long offset, long length) {
        return enqueue(offset, length, null);
    }

    private Mono<Void> enqueue(long offset, long length, ByteBuffer data) {
        return Mono.create(done -> {
            boolean start;
            IOException failed;
            synchronized (this) {
                failed = failure;
                if (failed == null) {
                    if (size >= 0 && !ImageIoException.fits(offset, length, size)) {
                        done.error(ImageIoException.outside("write", endpoint, offset, length, size));
                        return;
                    }
                    if (offset < frontier) {
                        done.error(new ImageIoException("write", endpoint, offset, length,
                                "range was already written to the stream", null));
                        return;
                    }
                    pending.put(offset, new Pending(offset, length, data, done));
                }
                start = failed == null && !draining;
                draining |= start;
            }
            if (failed != null) {
                done.error(failed);
            } else if (start) {
                StreamThreads.scheduler().schedule(this::drain);
            }
        });
    }

    /** Writes every pending request that continues the stream, on a stream thread (it may wait for the reader). */
    private void drain() {
        while (true) {
            Pending p;
            synchronized (this) {
                p = pending.remove(frontier);
            }
            if (p == null) {
                // nothing more to write for now: send what the output has gathered, then stop
                try {
                    synchronized (out) {
                        if (out instanceof java.io.Flushable f) {
                            f.flush();
                        }
                    }
                } catch (IOException e) {
                    fail(e);
                    return;
                }
                synchronized (this) {
                    p = pending.remove(frontier);
                    if (p == null) {
                        draining = false;
                        return;
                    }
                }
            }
            try {
                synchronized (out) { // frames are written by one thread at a time: the drain, or the flush
                    emit(p);
                }
                p.done.success();
            } catch (IOException e) {
                fail(e);
                p.done.error(e);
                return;
            }
        }
    }

    private void emit(Pending p) throws IOException {
        if (p.data == null) {
            if (zeroLength > 0 && zeroStart + zeroLength == p.offset) {
                zeroLength += p.length;
            } else {
                writeZeroRun();
                zeroStart = p.offset;
                zeroLength = p.length;
            }
        } else {
            writeZeroRun();
            writeFully(new SparseFrame(SparseFrame.Kind.DATA, p.offset, p.length).header());
            writeFully(p.data);
            writeFully(TERMINATOR.duplicate());
        }
        synchronized (this) {
            frontier = p.offset + p.length;
        }
        if (frontier == size) {
            writeStop();
        }
    }

    private void writeZeroRun() throws IOException {
        if (zeroLength > 0) {
            writeFully(new SparseFrame(SparseFrame.Kind.ZERO, zeroStart, zeroLength).header());
            zeroLength = 0;
        }
    }

    private void writeStop() throws IOException {
        if (!stopped) {
            writeZeroRun();
            writeFully(SparseFrame.STOP.header());
            stopped = true;
        }
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    private void fail(IOException e) {
        List<Pending> dropped;
        synchronized (this) {
            failure = e;
            dropped = new ArrayList<>(pending.values());
            pending.clear();
            draining = false;
        }
        dropped.forEach(d -> d.done.error(e));
    }

    /**
     * Ends the stream with the stop frame once everything is written. Called by the copy once, after
     * every request has completed, whether or not it flushes.
     */
    @Override
    public Mono<Void> finish() {
        return Mono.<Void>fromCallable(() -> {
            writeEnd();
            return null;
        }).subscribeOn(StreamThreads.scheduler());
    }

    /** Ends the stream like {@link #finish()} (if not ended yet), and makes a file durable. */
    @Override
    public Mono<Void> flush() {
        return Mono.<Void>fromCallable(() -> {
            writeEnd();
            if (durable) {
                ((FileChannel) out).force(false);
            }
            return null;
        }).subscribeOn(StreamThreads.scheduler());
    }

    /** Writes the stop frame (once), failing if the stream failed or requests are still outstanding. */
    private void writeEnd() throws IOException {
        synchronized (this) {
            if (failure != null) {
                throw failure;
            }
            if (!pending.isEmpty()) {
                throw new IOException("stream ended with requests outstanding from offset " + frontier);
            }
        }
        synchronized (out) {
            writeStop();
        }
    }

    /** Closes the output; a stream that was not finished gets no stop frame, so a reader sees it is cut. */
    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException ignored) {
            // nothing more can be written anyway
        }
    }
}
