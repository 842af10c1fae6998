package io.extentflow.engine.copy;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A fixed number of equal direct buffers: the copy's whole data memory. {@link #acquire()} waits
 * (without blocking a thread) until a buffer is free, so bytes in flight never exceed
 * {@code bufferSize * count}. Buffers are cut from one {@link BufferSlab} (memory the kernel fills
 * with zeros page by page as it is first touched) on first use and reused.
 */
public final class BufferPool {

    private final int bufferSize;
    private final int count;
    private final Deque<ByteBuffer> free = new ArrayDeque<>();
    private final Deque<MonoSink<ByteBuffer>> waiters = new ArrayDeque<>();
    /** Where buffers come from; null where no slab can be mapped (then each is allocated directly). */
    private final BufferSlab slab;
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
        this.slab = BufferSlab.map((long) bufferSize * count);
    }

    /** A pool of {@code bufferSize} buffers holding at most {@code maxBytes} (at least one buffer). */
    public static BufferPool ofBytes(int bufferSize, long maxBytes) {
        return new BufferPool(bufferSize, (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxBytes / bufferSize)));
    }

    /** Bytes per buffer. */
    public int bufferSize() {
        return bufferSize;
    }

    /**
     * A cleared buffer as soon as one is free. Cancelling a pending acquire gives nothing away: a
     * buffer that reaches a cancelled acquirer is discarded by Reactor, and the discard hook here
     * puts it back.
     */
    public Mono<ByteBuffer> acquire() {
        return Mono.<ByteBuffer>create(sink -> {
            ByteBuffer now;
            synchronized (this) {
                now = take();
                if (now == null) {
                    waiters.add(sink);
                }
            }
            if (now != null) {
                sink.success(now.clear());
            } else {
                sink.onCancel(() -> {
                    synchronized (this) {
                        waiters.remove(sink);
                    }
                });
            }
        }).doOnDiscard(ByteBuffer.class, this::release);
    }

    /**
     * A free buffer now (cleared), or null when none is free or others wait for one: for callers that
     * know the pool has one (a budget admits them) and may not wait, such as an event loop.
     */
    public ByteBuffer poll() {
        ByteBuffer now;
        synchronized (this) {
            now = waiters.isEmpty() ? take() : null;
        }
        return now == null ? null : now.clear();
    }

    /** Gives a buffer back; it goes to the longest waiting acquirer or back to the free list. */
    public void release(ByteBuffer buffer) {
        MonoSink<ByteBuffer> next;
        synchronized (this) {
            outstanding--;
            next = waiters.poll();
            if (next == null) {
                free.push(buffer);
                return;
            }
            outstanding++;
            peakOutstanding = Math.max(peakOutstanding, outstanding);
        }
        next.success(buffer.clear());
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
            b = slab != null ? slab.buffer((long) allocated * bufferSize, bufferSize)
                    : ByteBuffer.allocateDirect(bufferSize);
            allocated++;
        }
        if (b != null) {
            outstanding++;
            peakOutstanding = Math.max(peakOutstanding, outstanding);
        }
        return b;
    }
}
