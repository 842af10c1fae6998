package io.extentflow.engine.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Checks each module's {@code BlockHoundTest} makes, so every test JVM proves that BlockHound is
 * installed there and that the module's own blocking calls are seen (and kept off non-blocking
 * threads).
 */
public final class BlockHoundChecks {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private BlockHoundChecks() {
    }

    /** {@code blocking}, run on a Reactor parallel thread, fails with BlockHound's error. */
    public static void caughtOnParallel(Callable<?> blocking) {
        caughtOn(Schedulers.parallel(), blocking);
    }

    /** {@code blocking}, run on a thread of {@code scheduler} (a non-blocking one), fails with BlockHound's error. */
    public static void caughtOn(Scheduler scheduler, Callable<?> blocking) {
        StepVerifier.create(Mono.fromCallable(blocking).subscribeOn(scheduler))
                .expectError(BlockingOperationError.class)
                .verify(WAIT);
    }

    /** {@code operation}, subscribed on a Reactor parallel thread, completes without BlockHound's error. */
    public static <T> T allowedFromParallel(Mono<T> operation) {
        return operation.subscribeOn(Schedulers.parallel()).block(WAIT);
    }
}
