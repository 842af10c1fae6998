package io.extentflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The one way the project's clients try again: counted retries, free re-sends, the give-up error. */
class RetryPolicyTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final RetryPolicy THREE = new RetryPolicy(3, Duration.ZERO, Duration.ZERO);

    /** A request that fails {@code failures} times with {@code error}, then answers its attempt count. */
    private static Mono<Integer> failing(AtomicInteger attempts, int failures, Throwable error) {
        return Mono.defer(() -> attempts.incrementAndGet() <= failures ? Mono.error(error)
                : Mono.just(attempts.get()));
    }

    @Test
    void transientFailuresAreRetriedUntilOneSucceeds() {
        AtomicInteger attempts = new AtomicInteger();
        List<Integer> told = new ArrayList<>();
        StepVerifier.create(THREE.run(() -> failing(attempts, 2, new IOException("reset")),
                        e -> RetryPolicy.Verdict.RETRY, (e, n) -> told.add(n), (e, n) -> new AssertionError()))
                .expectNext(3)
                .verifyComplete();
        assertEquals(List.of(1, 2), told, "the listener hears of each retry before it");
    }

    @Test
    void retriesRunOutIntoTheGiveUpErrorWithTheAttemptsMade() {
        AtomicInteger attempts = new AtomicInteger();
        StepVerifier.create(THREE.run(() -> failing(attempts, 100, new IOException("reset")),
                        e -> RetryPolicy.Verdict.RETRY, (e, n) -> { },
                        (e, n) -> new IllegalStateException(e.getMessage() + " (after " + n + " attempts)")))
                .expectErrorMessage("reset (after 4 attempts)")
                .verify(WAIT);
        assertEquals(4, attempts.get());
    }

    @Test
    void aFinalFailureIsPassedOnAsItIs() {
        AtomicInteger attempts = new AtomicInteger();
        IOException denied = new IOException("denied");
        StepVerifier.create(THREE.run(() -> failing(attempts, 100, denied), e -> RetryPolicy.Verdict.FAIL,
                        (e, n) -> { }, (e, n) -> new AssertionError()))
                .expectErrorSatisfies(e -> assertSame(denied, e))
                .verify(WAIT);
        assertEquals(1, attempts.get());
    }

    @Test
    void noRetriesTriesOnceAndKeepsTheError() {
        AtomicInteger attempts = new AtomicInteger();
        IOException reset = new IOException("reset");
        StepVerifier.create(new RetryPolicy(0, Duration.ZERO, Duration.ZERO).run(() -> failing(attempts, 100, reset),
                        e -> RetryPolicy.Verdict.RETRY, (e, n) -> { }, (e, n) -> new AssertionError()))
                .expectErrorSatisfies(e -> assertSame(reset, e))
                .verify(WAIT);
        assertEquals(1, attempts.get());
    }

    @Test
    void resendsAreFreeUpToTheirBoundThenCountAsAttempts() {
        AtomicInteger attempts = new AtomicInteger();
        // one retry; every failure asks for a re-send: 1 + MAX_RESENDS free sends, then a counted retry
        // with its own re-sends, then the give-up
        StepVerifier.create(new RetryPolicy(1, Duration.ZERO, Duration.ZERO).run(
                        () -> failing(attempts, 1000, new IOException("unsent")), e -> RetryPolicy.Verdict.RESEND,
                        (e, n) -> { }, (e, n) -> new IllegalStateException("after " + n)))
                .expectErrorMessage("after 2")
                .verify(WAIT);
        assertEquals(2 * (1 + RetryPolicy.MAX_RESENDS), attempts.get());
    }

    @Test
    void backoffDoublesUpToItsMaximumWithAtMostHalfAgainOfJitter() {
        RetryPolicy p = new RetryPolicy(40, Duration.ofMillis(100), Duration.ofSeconds(2));
        for (int retry = 1; retry <= 40; retry++) {
            long base = Math.min(2000, 100L << Math.min(retry - 1, 30));
            long ms = p.backoff(retry).toMillis();
            assertTrue(ms >= base && ms <= base * 3 / 2, "retry " + retry + " waited " + ms + " ms");
        }
    }
}
