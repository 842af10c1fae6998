package io.extentflow.cli;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Ctrl-C (SIGINT) or SIGTERM while a command runs. The JVM answers either signal by running its
 * shutdown hooks and then exiting with 128 + the signal number (130, 143); the hook registered here
 * tells the command, which stops its work where it waits ({@link #await}), releases what it holds,
 * prints its one line, and then lets the hook return: the JVM exits only after that cleanup.
 */
final class Interruption implements AutoCloseable {

    /** How long the exit waits for the command's cleanup: a stuck close must not make Ctrl-C useless. */
    private static final Duration CLEANUP_LIMIT = Duration.ofSeconds(10);

    private static volatile boolean exiting;

    private final Sinks.Empty<Void> signalled = Sinks.empty();
    private final CountDownLatch cleanedUp = new CountDownLatch(1);
    private final Thread hook = new Thread(this::onSignal, "extentflow-interrupt");
    private volatile boolean happened;

    private Interruption() {
    }

    /** Watches for the signals until {@link #close()}. */
    static Interruption watch() {
        Interruption i = new Interruption();
        Runtime.getRuntime().addShutdownHook(i.hook);
        return i;
    }

    /**
     * True once a signal stopped a command in this JVM: the JVM is exiting with the signal's
     * code, and {@code main} must not call {@code System.exit} over it.
     */
    static boolean exiting() {
        return exiting;
    }

    private void onSignal() {
        exiting = true;
        happened = true;
        signalled.tryEmitEmpty();
        try {
            cleanedUp.await(CLEANUP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** True if a signal came. */
    boolean happened() {
        return happened;
    }

    /**
     * Blocks for {@code work}'s value, or throws {@link Interrupted} as soon as a signal comes; the
     * work is then cancelled.
     */
    <T> Optional<T> await(Mono<T> work) {
        Optional<T> value = work.takeUntilOther(signalled.asMono()).blockOptional();
        if (happened) {
            throw new Interrupted();
        }
        return value;
    }

    /** The command finished its cleanup: the JVM may exit now. */
    void cleanedUp() {
        cleanedUp.countDown();
    }

    /** Stops watching (a command that ended normally); after a signal, lets the exit go on. */
    @Override
    public void close() {
        cleanedUp.countDown();
        if (!happened) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException exitingAlready) {
                // a signal came just now: the hook runs and finds the cleanup done
            }
        }
    }

    /** Thrown by {@link #await} on the command's thread when a signal stopped its work. */
    static final class Interrupted extends RuntimeException {
        Interrupted() {
            super("interrupted", null, false, false);
        }
    }
}
