package io.extentflow.engine.io;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The one place where blocking file system calls run: a bounded, named scheduler
 * ({@code extentflow-file-io-N} threads). Event loops and parallel threads hand their file work here.
 */
public final class BlockingIo {

    /** Threads: enough to keep a few requests per disk queue busy, bounded whatever the load. */
    static final int THREADS = Math.max(4, Runtime.getRuntime().availableProcessors() * 2);

    private static final NamedThreadFactory THREAD_FACTORY = new NamedThreadFactory("extentflow-file-io");
    private static final Scheduler SCHEDULER = Schedulers.newBoundedElastic(THREADS, 100_000, THREAD_FACTORY, 60);

    private BlockingIo() {
    }

    /** The shared scheduler for blocking file I/O. */
    public static Scheduler scheduler() {
        return SCHEDULER;
    }

    /**
     * Runs {@code call} on the file I/O scheduler.
     *
     * <p>Cancelling the returned {@code Mono} skips the call if it has not started, but never
     * interrupts it once running: an interrupted {@code FileChannel} operation closes the channel for
     * every other user of the file ({@code ClosedByInterruptException}), which would turn one
     * cancelled request into a broken image handle. File calls are short; letting one finish is cheap.
     */
    public static <T> Mono<T> call(Callable<T> call) {
        return Mono.create(sink -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onCancel(() -> cancelled.set(true));
            SCHEDULER.schedule(() -> {
                if (cancelled.get()) {
                    return;
                }
                try {
                    sink.success(call.call());
                } catch (Throwable t) {
                    sink.error(t);
                }
            });
        });
    }

    /**
     * Runs {@code action} right here when the caller is already on a thread that may block: a file
     * I/O thread (e.g. a write that follows the read that completed on it) or a
     * {@link StreamThreads} thread (a stream is copied in order anyway), else on the scheduler.
     * Saves a hand-off per request, which counts for images made of many small extents: for a
     * stream of 64 KiB frames the hand-offs cost more than the writes. Only for work that follows
     * other blocking work: starting new requests this way would run them one after the other.
     */
    public static Mono<Void> runHere(IoAction action) {
        return Mono.defer(() -> THREAD_FACTORY.isCurrent() || StreamThreads.isCurrent()
                ? Mono.<Void>fromCallable(() -> {
                    action.run();
                    return null;
                })
                : run(action));
    }

    /** Runs {@code action} on the file I/O scheduler; cancelling behaves as for {@link #call}. */
    public static Mono<Void> run(IoAction action) {
        return call(() -> {
            action.run();
            return null;
        }).then();
    }

    /** A blocking action that may throw. */
    @FunctionalInterface
    public interface IoAction {
        void run() throws Exception;
    }
}
