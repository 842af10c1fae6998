package io.extentflow.engine.io;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;

/**
 * A network body ({@code Publisher<ByteBuf>}, e.g. an HTTP request or response body) read as a
 * blocking {@link ReadableByteChannel}, so stream readers written for pipes (such as
 * {@link io.extentflow.engine.sparse.SparseStreamReader}) read it too. At most {@value #PREFETCH}
 * chunks wait for the reader (asking for one at a time would cost a round trip through the event
 * loop per network read); a new one is asked for as each is used up, so backpressure reaches the
 * socket and memory stays at a few network buffers. Reads block: call them on {@link StreamThreads} only.
 */
public final class ByteBufInputChannel implements ReadableByteChannel {

    private static final Object END = new Object();
    /** Put in the queue by {@link #close()} to wake a reader waiting for the next chunk. */
    private static final Object CLOSED = new Object();
    /** Chunks requested ahead of the reader. */
    static final int PREFETCH = 16;
    /**
     * Chunks asked for at a time as the reader uses them up: a request from the reader's thread is
     * a wake-up of the event loop, too costly to make once per chunk.
     */
    static final int REFILL = PREFETCH / 4;

    /**
     * Chunks handed over from the network thread. Offering must never block (it runs on an event
     * loop), so the queue is lock-free; it holds at most {@link #PREFETCH} chunks by the request
     * protocol. The reader parks when it is empty and the offer unparks it (a blocking queue's take
     * spun on the CPU the event loop needed to fill it).
     */
    private final Queue<Object> queue = new ConcurrentLinkedQueue<>();
    /** The reader while it is parked waiting for the queue. */
    private volatile Thread waiting;
    private final Receiver receiver = new Receiver();
    private ByteBuf current;
    private boolean ended;
    private volatile boolean closed;

    /** Starts reading {@code body}; its chunks are released as they are consumed or on close. */
    public ByteBufInputChannel(Publisher<ByteBuf> body) {
        Flux.from(body).subscribe(receiver);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        while (true) {
            synchronized (this) { // against close() on another thread, which releases the current chunk
                if (closed) {
                    throw new ClosedChannelException();
                }
                if (current != null && current.isReadable()) {
                    int n = Math.min(dst.remaining(), current.readableBytes());
                    int limit = dst.limit();
                    dst.limit(dst.position() + n);
                    current.readBytes(dst);
                    dst.limit(limit);
                    return n;
                }
                if (current != null) {
                    current.release();
                    current = null;
                }
                if (ended) {
                    return -1;
                }
            }
            Object next = take();
            synchronized (this) {
                if (closed) {
                    release(next);
                    throw new AsynchronousCloseException();
                }
                if (next == END) {
                    ended = true;
                    return -1;
                }
                if (next instanceof Throwable t) {
                    ended = true;
                    throw t instanceof IOException io ? io : new IOException(t.getMessage(), t);
                }
                current = (ByteBuf) next;
            }
            receiver.more();
        }
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    /** Stops the body (cancels it), releases every chunk held and wakes a reader waiting for one. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (current != null) {
                current.release();
                current = null;
            }
        }
        receiver.cancel();
        releaseQueued();
        offer(CLOSED);
    }

    /** The next item of the queue, waiting for it. */
    private Object take() throws java.io.InterruptedIOException {
        Object next;
        while ((next = queue.poll()) == null) {
            waiting = Thread.currentThread();
            next = queue.poll(); // again: an offer that came before `waiting` was set did not unpark us
            if (next != null) {
                waiting = null;
                return next;
            }
            LockSupport.park(this);
            waiting = null;
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for the body");
            }
        }
        return next;
    }

    /** Hands an item to the reader; never blocks. */
    private void offer(Object item) {
        queue.offer(item);
        Thread reader = waiting;
        if (reader != null) {
            LockSupport.unpark(reader);
        }
    }

    private void releaseQueued() {
        for (Object o = queue.poll(); o != null; o = queue.poll()) {
            release(o);
        }
    }

    private static void release(Object o) {
        if (o instanceof ByteBuf b) {
            b.release();
        }
    }

    /** Takes the body's chunks into the queue, {@link #PREFETCH} ahead of the reader. */
    private final class Receiver extends BaseSubscriber<ByteBuf> {
        @Override
        protected void hookOnSubscribe(Subscription s) {
            s.request(PREFETCH);
        }

        @Override
        protected void hookOnNext(ByteBuf chunk) {
            if (closed) {
                return;
            }
            offer(chunk.retain());
            if (closed) { // closed meanwhile: close() may have emptied the queue before this chunk arrived
                releaseQueued();
                offer(CLOSED);
            }
        }

        @Override
        protected void hookOnComplete() {
            offer(END);
        }

        @Override
        protected void hookOnError(Throwable t) {
            offer(t);
        }

        private int used;

        /** One more chunk used up by the reader (called from the reading thread only). */
        void more() {
            if (++used == REFILL) {
                used = 0;
                request(REFILL);
            }
        }
    }
}
