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

    private static final NamedThreadFactory THREAD_FACTORY = new NamedThreadFactory("extentflow-stream");
    private static final Scheduler SCHEDULER = Schedulers.newBoundedElastic(THREADS, 100_000, THREAD_FACTORY, 60);

    private StreamThreads() {
    }

    /** The scheduler for stream pumps and their blocking waits. */
    public static Scheduler scheduler() {
        return SCHEDULER;
    }

    /** True on one of this scheduler's threads. */
    static boolean isCurrent() {
        return THREAD_FACTORY.isCurrent();
    }
}
