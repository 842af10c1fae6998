package io.extentflow.server;

import java.util.ArrayDeque;
import java.util.Deque;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A counting semaphore that waits without blocking a thread: {@link #acquire()} completes when a
 * permit is free. Bounds how many buffers one download holds while the socket drains them.
 */
final class AsyncPermits {

    private final Deque<Waiter> waiters = new ArrayDeque<>();
    private int available;

    AsyncPermits(int permits) {
        this.available = permits;
    }

    /** Completes once a permit is held; cancelling a pending acquire takes nothing. */
    Mono<Void> acquire() {
        return Mono.create(sink -> {
            Waiter w;
            synchronized (this) {
                if (available > 0) {
                    available--;
                    w = null;
                } else {
                    w = new Waiter(sink);
                    waiters.add(w);
                }
            }
            if (w == null) {
                sink.success();
            } else {
                sink.onCancel(() -> cancelled(w));
            }
        });
    }

    /** Returns a permit to the longest waiter, or to the free count. */
    void release() {
        Waiter next;
        synchronized (this) {
            next = waiters.poll();
            if (next == null) {
                available++;
                return;
            }
            next.granted = true;
        }
        next.sink.success();
    }

    /** A waiter that was granted a permit in the same instant it was cancelled gives it back. */
    private void cancelled(Waiter w) {
        boolean giveBack;
        synchronized (this) {
            waiters.remove(w);
            giveBack = w.granted;
            w.granted = false;
        }
        if (giveBack) {
            release();
        }
    }

    private static final class Waiter {
        final MonoSink<Void> sink;
        boolean granted;

        Waiter(MonoSink<Void> sink) {
            this.sink = sink;
        }
    }
}
