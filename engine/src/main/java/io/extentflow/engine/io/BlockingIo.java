package io.extentflow.engine.io;

import java.util.concurrent.Callable;
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

    private static final Scheduler SCHEDULER =
            Schedulers.newBoundedElastic(THREADS, 100_000, "extentflow-file-io", 60, true);

    private BlockingIo() {
    }

    /** The shared scheduler for blocking file I/O. */
    public static Scheduler scheduler() {
        return SCHEDULER;
    }

    /** Runs {@code call} on the file I/O scheduler. */
    public static <T> Mono<T> call(Callable<T> call) {
        return Mono.fromCallable(call).subscribeOn(SCHEDULER);
    }

    /** Runs {@code action} on the file I/O scheduler. */
    public static Mono<Void> run(IoAction action) {
        return Mono.<Void>fromCallable(() -> {
            action.run();
            return null;
        }).subscribeOn(SCHEDULER);
    }

    /** A blocking action that may throw. */
    @FunctionalInterface
    public interface IoAction {
        void run() throws Exception;
    }
}
