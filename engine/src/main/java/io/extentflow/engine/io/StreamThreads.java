package io.extentflow.engine.io;

import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Threads for sequential streams (sparse streams on pipes, standard input and output, HTTP bodies):
 * a bounded, named scheduler ({@code extentflow-stream-N}) separate from {@link BlockingIo}.
 *
 * <p>A stream's reader or writer may wait a long time for its peer (a slow client, an idle pipe).
 * Those waits must never hold a file I/O thread: with a handful of file threads, a few slow streams
 * would otherwise starve every file read and write in the process, including the very writes the
 * streams are waiting for.
 */
public final class StreamThreads {

    /** At most this many streams move at once in one process; more wait their turn. */
    static final int THREADS = 64;

    private static final Scheduler SCHEDULER =
            Schedulers.newBoundedElastic(THREADS, 100_000, new StreamThreadFactory(), 60);

    private StreamThreads() {
    }

    /** The scheduler for stream pumps and their blocking waits. */
    public static Scheduler scheduler() {
        return SCHEDULER;
    }

    /** True on one of this scheduler's threads. */
    static boolean isCurrent() {
        return Thread.currentThread() instanceof StreamThread;
    }

    /** Marks the scheduler's threads, for {@link #isCurrent()}. */
    private static final class StreamThread extends Thread {
        StreamThread(Runnable r, String name) {
            super(r, name);
            setDaemon(true);
        }
    }

    private static final class StreamThreadFactory implements java.util.concurrent.ThreadFactory {
        private final java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            return new StreamThread(r, "extentflow-stream-" + count.incrementAndGet());
        }
    }
}
