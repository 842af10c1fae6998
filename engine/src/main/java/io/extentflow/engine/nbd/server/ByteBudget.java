package io.extentflow.engine.nbd.server;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * The server's bound on bytes in flight, shared by all its connections: a request takes its cost
 * (payload or reply data) before it runs and gives it back once its reply is written. Waiters are
 * served in order, so a large request is not starved by small ones.
 *
 * <p>A wait ends exactly once, either granted or cancelled ({@link Wait#cancel()} says which), so no
 * grant is ever lost to a cancel racing with it: the one that loses the race knows it owns the bytes.
 */
final class ByteBudget {

    private static final int WAITING = 0;
    private static final int GRANTED = 1;
    private static final int CANCELLED = 2;

    private final long capacity;
    private long available;
    private final ArrayDeque<Wait> waiters = new ArrayDeque<>();

    /** A request waiting for its bytes. */
    final class Wait {
        private final long bytes;
        private final LongConsumer onGrant;
        private final AtomicInteger state = new AtomicInteger(WAITING);

        private Wait(long bytes, LongConsumer onGrant) {
            this.bytes = bytes;
            this.onGrant = onGrant;
        }

        /**
         * Stops waiting. True when the bytes were not granted (nothing is held); false when they were
         * or are being handed to the grant callback, whose owner must release them.
         */
        boolean cancel() {
            if (!state.compareAndSet(WAITING, CANCELLED)) {
                return false;
            }
            synchronized (ByteBudget.this) {
                waiters.remove(this);
            }
            wakeWaiters();
            return true;
        }
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
     * they are free and nobody waits, else returns null.
     */
    synchronized Long tryAcquire(long bytes) {
        long n = Math.min(bytes, capacity);
        if (waiters.isEmpty() && available >= n) {
            available -= n;
            return n;
        }
        return null;
    }

    /**
     * Waits for {@code bytes} (at most the whole budget); {@code onGrant} gets what was taken, on the
     * thread that freed it, to be given back to {@link #release}.
     */
    Wait acquire(long bytes, LongConsumer onGrant) {
        Wait w = new Wait(Math.min(bytes, capacity), onGrant);
        synchronized (this) {
            waiters.add(w);
        }
        wakeWaiters();
        return w;
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
            Wait w;
            synchronized (this) {
                w = waiters.peek();
                if (w == null || available < w.bytes) {
                    return;
                }
                waiters.poll();
                available -= w.bytes;
            }
            if (w.state.compareAndSet(WAITING, GRANTED)) {
                w.onGrant.accept(w.bytes);
            } else {
                synchronized (this) {
                    available += w.bytes; // cancelled meanwhile: the bytes go back
                }
            }
        }
    }

    /** Bytes currently taken. */
    synchronized long inUse() {
        return capacity - available;
    }
}
