package io.extentflow.engine.copy;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A fixed number of equal direct buffers: the copy's whole data memory. {@link #acquire()} waits
 * (without blocking a thread) until a buffer is free, so bytes in flight never exceed
 * {@code bufferSize * count}. Buffers are allocated on first use and reused.
 */
public final class BufferPool {

    private final int bufferSize;
    private final int count;
    private final Deque<ByteBuffer> free = new ArrayDeque<>();
    private final Deque<Waiter> waiters = new ArrayDeque<>();
    private int allocated;
    private int outstanding;
    private int peakOutstanding;

    /**
     * @param bufferSize bytes per buffer
     * @param count      buffers at most
     */
    public BufferPool(int bufferSize, int count) {
        if (bufferSize <= 0 || count <= 0) {
            throw new IllegalArgumentException("buffer size and count must be positive");
        }
        this.bufferSize = bufferSize;
        this.count = count;
    }

    /** A pool of {@code bufferSize} buffers holding at most {@code maxBytes} (at least one buffer). */
    public static BufferPool ofBytes(int bufferSize, long maxBytes) {
        return new BufferPool(bufferSize, (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxBytes / bufferSize)));
    }

    /** Bytes per buffer. */
    public int bufferSize() {
        return bufferSize;
    }

    /** A cleared buffer as soon as one is free. Cancelling a pending acquire gives nothing away. */
    public Mono<ByteBuffer> acquire() {
        return Mono.create(sink -> {
            ByteBuffer now;
            Waiter waiter = null;
            synchronized (this) {
                now = take();
                if (now == null) {
                    waiter = new Waiter(sink);
                    waiters.add(waiter);
                }
            }
            if (now != null) {
                sink.success(now.clear());
                return;
            }
            Waiter w = waiter;
            sink.onCancel(() -> cancelled(w));
        });
    }

    /** Gives a buffer back; it goes to the longest waiting acquirer or back to the free list. */
    public void release(ByteBuffer buffer) {
        Waiter next;
        synchronized (this) {
            outstanding--;
            next = waiters.poll();
            if (next == null) {
                free.push(buffer);
                return;
            }
            outstanding++;
            peakOutstanding = Math.max(peakOutstanding, outstanding);
            next.handedOver = buffer;
        }
        next.sink.success(buffer.clear());
    }

    /** Buffers currently handed out. */
    public synchronized int outstanding() {
        return outstanding;
    }

    /** The most buffers handed out at once. */
    public synchronized int peakOutstanding() {
        return peakOutstanding;
    }

    /** Bytes of buffers currently handed out. */
    public long bytesInFlight() {
        return (long) outstanding() * bufferSize;
    }

    private ByteBuffer take() {
        ByteBuffer b = free.poll();
        if (b == null && allocated < count) {
            allocated++;
            b = ByteBuffer.allocateDirect(bufferSize);
        }
        if (b != null) {
            outstanding++;
            peakOutstanding = Math.max(peakOutstanding, outstanding);
        }
        return b;
    }

    /**
     * A waiter cancelled. If a buffer was handed to it in the same instant, the hand-over lost the
     * race (Reactor drops the value of a cancelled sink), so the buffer is released again here.
     */
    private void cancelled(Waiter w) {
        ByteBuffer lost;
        synchronized (this) {
            waiters.remove(w);
            lost = w.handedOver;
            w.handedOver = null;
        }
        if (lost != null) {
            release(lost);
        }
    }

    private static final class Waiter {
        final MonoSink<ByteBuffer> sink;
        ByteBuffer handedOver;

        Waiter(MonoSink<ByteBuffer> sink) {
            this.sink = sink;
        }
    }
}
