package io.extentflow.sinks.stream;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.io.StreamThreads;
import io.extentflow.engine.sparse.SparseFrame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import reactor.core.publisher.Mono;

/**
 * Writes an image as a sparse stream (see {@link SparseFrame}) to a pipe, standard output or a file.
 *
 * <p>The copy operator completes requests in any order, but a stream is written front to back, so
 * requests wait, keyed by offset, until everything before them is written ({@link InOrderWrites});
 * a write's buffer is only released when its frame is out. Memory is therefore bounded by the
 * copy's bytes in flight. The sink says it is known to be zero, so zero extents arrive as
 * {@link #skip} calls, and runs of zeros, however they arrive, are written as one zero frame. The
 * stop frame follows the frame that reaches the image size (or, for a streamed source of unknown
 * size, {@link #finish()}).
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
    /** Puts the requests in offset order and hands them to {@link #emit}. */
    private final InOrderWrites writes;

    /** Frame state, under {@code out}: the run of zeros not written yet, and whether the stop frame is out. */
    private long zeroStart;
    private long zeroLength;
    private boolean stopped;

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
        this.writes = new InOrderWrites(endpoint, size, new InOrderWrites.Output() {
            @Override
            public void write(long offset, long length, ByteBuffer data) throws IOException {
                emit(offset, length, data);
            }

            @Override
            public void caughtUp() throws IOException {
                SparseStreamSink.this.caughtUp();
            }
        });
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

    /** Nothing more to write for now: sends what the output has gathered. */
    private void caughtUp() throws IOException {
        synchronized (out) {
            if (out instanceof java.io.Flushable f) {
                f.flush();
            }
        }
    }

    /** Writes one request, in order; frames are written by one thread at a time: the writes, or the flush. */
    private void emit(long offset, long length, ByteBuffer data) throws IOException {
        synchronized (out) {
            if (data == null) {
                if (zeroLength > 0 && zeroStart + zeroLength == offset) {
                    zeroLength += length;
                } else {
                    writeZeroRun();
                    zeroStart = offset;
                    zeroLength = length;
                }
            } else {
                ByteBuffer zeros = zeroLength > 0
                        ? new SparseFrame(SparseFrame.Kind.ZERO, zeroStart, zeroLength).header() : null;
                zeroLength = 0;
                ByteBuffer header = new SparseFrame(SparseFrame.Kind.DATA, offset, length).header();
                ByteBuffer end = TERMINATOR.duplicate();
                writeFully(zeros == null ? new ByteBuffer[] {header, data, end}
                        : new ByteBuffer[] {zeros, header, data, end});
            }
            if (offset + length == size) {
                writeStop();
            }
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

    /**
     * Writes the buffers in order, in one system call where the output gathers ({@code writev} on
     * a file, pipe or standard output): a fragmented image's 64 KiB frames each came as four writes
     * (the zero frame before it, its header, its data, its terminator), 131,000 calls for frag-4g.raw
     * to standard output (perf/README.md, "Fragmented images").
     */
    private void writeFully(ByteBuffer[] bs) throws IOException {
        if (!(out instanceof GatheringByteChannel g)) {
            for (ByteBuffer b : bs) {
                writeFully(b);
            }
            return;
        }
        int first = 0;
        while (first < bs.length) {
            g.write(bs, first, bs.length - first);
            while (first < bs.length && !bs[first].hasRemaining()) {
                first++;
            }
        }
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
        InOrderWrites.Reached reached = writes.reached();
        if (reached.outstanding()) {
            throw new IOException("stream ended with requests outstanding from offset " + reached.frontier());
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
