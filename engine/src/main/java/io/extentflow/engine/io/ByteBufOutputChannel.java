package io.extentflow.engine.io;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * A blocking {@link WritableByteChannel} whose bytes come out as a {@code Flux<ByteBuf>}, to send
 * what a stream writer (such as a sparse-stream sink) produces as an HTTP body. Writes are gathered
 * into chunks of up to 1 MiB (a sparse stream writes 40-byte headers and 2-byte terminators between
 * payloads; one network write each would cost more than the data); {@link #flush()} sends a partial
 * chunk. Handing over a chunk waits until the body's subscriber asks for one, so a slow peer slows
 * the writer and at most one chunk per request is buffered. Writes block: call them on {@link StreamThreads} only.
 *
 * <p>{@link #write}, {@link #flush} and {@link #close} hold the channel's lock, so a close from another
 * thread (a copy's completion) waits for a chunk that a writer is still handing over, and the body
 * never ends with that chunk missing (a sparse-stream download once ended cleanly inside a frame's
 * payload in CI). {@link #abort} does not wait.
 *
 * <p>The body ends exactly once: by {@link #close} (complete) or {@link #abort} (error), whichever
 * comes first; later calls of either change nothing, so a close after a completed body does not
 * turn it into a failed one, and repeated aborts are harmless.
 */
public final class ByteBufOutputChannel implements WritableByteChannel, java.io.Flushable {

    /** Largest chunk handed to the network. */
    private static final int MAX_CHUNK = 1 << 20;

    private final Flux<ByteBuf> body;
    private volatile FluxSink<ByteBuf> sink;
    /** Set once the body has ended, completed by {@link #close} or failed by {@link #abort}. */
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile boolean cancelled;
    /** Why {@link #abort} ended the body, for the writer it stops (e.g. the server's refusal). */
    private volatile Throwable abortCause;
    /**
     * Chunks the subscriber asked for and has not been handed yet; guarded by itself. A counter
     * with a monitor rather than a semaphore: a semaphore woken "for good" by releasing many permits
     * overflowed ({@code Error: Maximum permit count exceeded}) when the wake-up came twice.
     */
    private final long[] requested = {0};
    /** Bytes written and not yet handed over; guarded by the channel's lock. */
    private ByteBuf pending;

    public ByteBufOutputChannel() {
        body = Flux.<ByteBuf>create(s -> {
            sink = s;
            s.onRequest(n -> {
                synchronized (requested) {
                    requested[0] = requested[0] + n < 0 ? Long.MAX_VALUE : requested[0] + n;
                    requested.notifyAll();
                }
            });
            s.onCancel(() -> {
                cancelled = true;
                wakeWriter();
            });
        }, FluxSink.OverflowStrategy.ERROR).doOnDiscard(ByteBuf.class, ByteBuf::release);
    }

    /** The bytes written, as chunks; subscribe once, before the first write returns. */
    public Flux<ByteBuf> body() {
        return body;
    }

    @Override
    public synchronized int write(ByteBuffer src) throws IOException {
        if (ended.get()) {
            releasePending();
            throw abortCause != null ? aborted() : new ClosedChannelException();
        }
        int total = src.remaining();
        while (src.hasRemaining()) {
            if (pending == null) {
                pending = ByteBufAllocator.DEFAULT.directBuffer(MAX_CHUNK, MAX_CHUNK);
            }
            int n = Math.min(pending.writableBytes(), src.remaining());
            int limit = src.limit();
            src.limit(src.position() + n);
            pending.writeBytes(src);
            src.limit(limit);
            if (!pending.isWritable()) {
                handOver();
            }
        }
        return total;
    }

    /** Sends the bytes gathered so far, waiting for the subscriber to ask for them. */
    @Override
    public synchronized void flush() throws IOException {
        if (pending != null && pending.isReadable()) {
            handOver();
        }
    }

    private void releasePending() {
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }

    private void handOver() throws IOException {
        ByteBuf chunk = pending;
        pending = null;
        try {
            awaitDemand();
        } catch (InterruptedException e) {
            chunk.release();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the peer");
        }
        if (cancelled || ended.get()) { // ended here only by abort: close() ends it after its last hand-over
            chunk.release();
            throw cancelled ? new IOException("the receiving side went away") : aborted();
        }
        sink.next(chunk);
    }

    private IOException aborted() {
        Throwable why = abortCause;
        return new IOException("the body was aborted" + (why == null ? "" : ": " + why.getMessage()), why);
    }

    /** Waits until the subscriber asks for a chunk (and takes that request), or the body is over. */
    private void awaitDemand() throws InterruptedException {
        synchronized (requested) {
            while (requested[0] == 0 && !cancelled && !ended.get()) {
                requested.wait();
            }
            if (requested[0] > 0 && !cancelled && !ended.get()) {
                requested[0]--;
            }
        }
    }

    /** Wakes a writer waiting for demand, to see that the body is over. */
    private void wakeWriter() {
        synchronized (requested) {
            requested.notifyAll();
        }
    }

    @Override
    public boolean isOpen() {
        return !ended.get();
    }

    /** Sends what is gathered and ends the body (after an {@link #abort}, only frees what is gathered). */
    @Override
    public synchronized void close() {
        if (ended.get()) {
            releasePending();
            return;
        }
        try {
            flush();
        } catch (IOException e) {
            abort(e);
            releasePending();
            return;
        }
        if (ended.compareAndSet(false, true)) {
            FluxSink<ByteBuf> s = sink;
            if (s != null) {
                s.complete();
            }
        }
    }

    /**
     * Ends the body with an error, so the peer sees a cut transfer rather than a complete one; does
     * nothing once the body has ended (completed by {@link #close}, or aborted before).
     */
    public void abort(Throwable error) {
        if (abortCause == null && !ended.get()) {
            abortCause = error; // before the body ends, so a writer that sees the end sees why
        }
        if (ended.compareAndSet(false, true)) { // the writer frees what it gathered when it next writes or closes
            FluxSink<ByteBuf> s = sink;
            if (s != null) {
                s.error(error);
            }
        }
        wakeWriter(); // a writer waiting to hand over holds the channel's lock
    }
}
