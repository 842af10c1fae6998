package io.extentflow.sinks.stream;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.io.StreamThreads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Puts a sink's requests in offset order for an output that takes bytes only front to back (a
 * pipe, standard output, a request body): the sparse stream sink and the one-pass qcow2 sink.
 *
 * <p>The copy completes requests in any order. Here a request waits, keyed by its offset, until
 * everything before it is written; then a stream thread hands it to the {@link Output}, one request
 * at a time, and only then completes it, so a write's buffer is released only once its bytes are
 * out. Memory is therefore bounded by the copy's bytes in flight. The first failed write fails it
 * and every request waiting or still to come.
 */
public final class InOrderWrites {

    /** Where the requests go, in order; called from {@link StreamThreads} only, one call at a time. */
    public interface Output {

        /**
         * Writes one request, which continues everything written before it.
         *
         * @param data the bytes of a write, or null for a range of zeros or a skipped range
         */
        void write(long offset, long length, ByteBuffer data) throws IOException;

        /** Every request that continues the output is written and the next has not come yet. Nothing by default. */
        default void caughtUp() throws IOException {
        }

        /** Why no request can be taken yet, checked after the bounds; null (the default) when they can. */
        default RuntimeException notReady() {
            return null;
        }
    }

    /** Where the writes stand: everything before {@code frontier} is written; {@code outstanding}, requests still wait. */
    public record Reached(long frontier, boolean outstanding) {
    }

    private record Pending(long offset, long length, ByteBuffer data, MonoSink<Void> done) {
    }

    private final String endpoint;
    private final long size;
    private final Output output;

    private final TreeMap<Long, Pending> pending = new TreeMap<>();
    private long frontier;
    private boolean draining;
    private IOException failure;

    /**
     * @param endpoint the address, for messages
     * @param size     the image size, or {@link io.extentflow.engine.ImageSource#UNKNOWN_SIZE}: then
     *                 requests are not checked against it
     * @param output   where the requests go
     */
    public InOrderWrites(String endpoint, long size, Output output) {
        this.endpoint = endpoint;
        this.size = size;
        this.output = output;
    }

    /**
     * Queues a request; completes once it is written, or fails with the output's failure.
     *
     * @param data the bytes to write, or null for zeros or a skipped range
     */
    public Mono<Void> enqueue(long offset, long length, ByteBuffer data) {
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
                    RuntimeException notReady = output.notReady();
                    if (notReady != null) {
                        done.error(notReady);
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

    /** Writes every pending request that continues the output, on a stream thread (it may wait for the reader). */
    private void drain() {
        while (true) {
            Pending p;
            synchronized (this) {
                p = pending.remove(frontier);
            }
            if (p == null) {
                try {
                    output.caughtUp();
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
                output.write(p.offset, p.length, p.data);
                synchronized (this) {
                    frontier = p.offset + p.length;
                }
                p.done.success();
            } catch (IOException e) {
                fail(e);
                p.done.error(e);
                return;
            }
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
     * Where the writes stand, for the end of the output.
     *
     * @throws IOException the failure that stopped the writes, if one did
     */
    public synchronized Reached reached() throws IOException {
        if (failure != null) {
            throw failure;
        }
        return new Reached(frontier, !pending.isEmpty());
    }
}
