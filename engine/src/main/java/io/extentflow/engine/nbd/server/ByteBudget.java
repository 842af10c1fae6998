package io.extentflow.engine.nbd.server;

import java.util.ArrayDeque;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The server's bound on bytes in flight, shared by all its connections: a request takes its cost
 * (payload or reply data) before it runs and gives it back once its reply is written. Waiters are
 * served in order, so a large request is not starved by small ones.
 */
final class ByteBudget {

    private final long capacity;
    private long available;
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();

    private record Waiter(long bytes, MonoSink<Long> sink) {
    }

    ByteBudget(long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("byte budget must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.available = capacity;
    }

    /**
     * Takes {@code bytes} (at most the whole budget, so one large request can always run alone) now if
     * they are free, else returns null.
     */
    synchronized Long tryAcquire(long bytes) {
        long n = Math.min(bytes, capacity);
        if (waiters.isEmpty() && available >= n) {
            available -= n;
            return n;
        }
        return null;
    }

    /** Takes {@code bytes} when they are free; emits what was taken, to be given to {@link #release}. */
    Mono<Long> acquire(long bytes) {
        long n = Math.min(bytes, capacity);
        return Mono.<Long>create(sink -> {
            Waiter w = new Waiter(n, sink);
            boolean now;
            synchronized (this) {
                now = waiters.isEmpty() && available >= n;
                if (now) {
                    available -= n;
                } else {
                    waiters.add(w);
                }
            }
            if (now) {
                sink.success(n);
            } else {
                sink.onCancel(() -> cancel(w));
            }
        // a grant that meets a cancel on its way (wakeWaiters has taken the bytes, the subscriber is
        // gone) is discarded by Reactor: it goes back here instead of being lost
        }).doOnDiscard(Long.class, this::release);
    }

    private void cancel(Waiter w) {
        synchronized (this) {
            if (!waiters.remove(w)) {
                return; // granted meanwhile: the grant is released by whoever holds it
            }
        }
        wakeWaiters();
    }

    /** Gives back what {@link #acquire} or {@link #tryAcquire} took. */
    void release(long bytes) {
        synchronized (this) {
            available += bytes;
        }
        wakeWaiters();
    }

    private void wakeWaiters() {
        while (true) {
            Waiter w;
            synchronized (this) {
                w = waiters.peek();
                if (w == null || available < w.bytes) {
                    return;
                }
                waiters.poll();
                available -= w.bytes;
            }
            w.sink.success(w.bytes);
        }
    }

    /** Bytes currently taken. */
    synchronized long inUse() {
        return capacity - available;
    }
}
