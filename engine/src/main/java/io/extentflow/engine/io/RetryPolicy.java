package io.extentflow.engine.io;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * How the project's clients (NBD and imageio HTTP) try a request again after a failure that may
 * pass: up to {@code retries} more attempts, the first after {@code firstBackoff}, each wait doubled
 * up to {@code maxBackoff}, with up to 50 % jitter so that the requests of a copy that all failed at
 * once do not all come back at once.
 *
 * <p>Attempts are chained only on failure ({@code onErrorResume}). Reactor's {@code retryWhen}
 * builds a companion flux and subscriber for every subscription, and a copy sends thousands of
 * requests that nearly all succeed the first time: there, paying for retries only when one happens
 * matters.
 *
 * @param retries      attempts after the first; 0 tries once
 * @param firstBackoff wait before the first retry
 * @param maxBackoff   longest wait between two attempts
 */
public record RetryPolicy(int retries, Duration firstBackoff, Duration maxBackoff) {

    /** Most immediate re-sends ({@link Verdict#RESEND}) between two counted attempts. */
    public static final int MAX_RESENDS = 8;

    /** What to do after a failure. */
    public enum Verdict {
        /** Not worth another try: fail with it. */
        FAIL,
        /** Try again after the backoff, counting an attempt. */
        RETRY,
        /** Send again at once, without counting an attempt: the request never reached the peer. */
        RESEND
    }

    /** Told before each counted retry: the failure and the retry's number (1 for the first). */
    @FunctionalInterface
    public interface Listener {
        void beforeRetry(Throwable failure, int retry);
    }

    /** Builds the error a request fails with once retries are used up, from the last failure and the attempts made. */
    @FunctionalInterface
    public interface GiveUp {
        Throwable error(Throwable last, int attempts);
    }

    public RetryPolicy {
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative, got " + retries);
        }
        if (firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0) {
            throw new IllegalArgumentException("backoff must be 0 <= first <= max, got " + firstBackoff + ", "
                    + maxBackoff);
        }
    }

    /**
     * Subscribes to {@code attempt}'s {@code Mono} and, while {@code verdict} says so, to a new one
     * after a failure. A failure judged {@link Verdict#FAIL} is the result as it is; when retries run
     * out, the result is {@code giveUp}'s error (only when there was a retry: a request tried once
     * fails with its own error).
     */
    public <T> Mono<T> run(Supplier<Mono<T>> attempt, Function<Throwable, Verdict> verdict, Listener listener,
                           GiveUp giveUp) {
        return attempt(attempt, verdict, listener, giveUp, 1, 0);
    }

    private <T> Mono<T> attempt(Supplier<Mono<T>> attempt, Function<Throwable, Verdict> verdict, Listener listener,
                                GiveUp giveUp, int number, int resends) {
        return Mono.defer(attempt).onErrorResume(e -> {
            Verdict v = verdict.apply(e);
            if (v == Verdict.FAIL) {
                return Mono.error(e);
            }
            if (v == Verdict.RESEND && resends < MAX_RESENDS) {
                return attempt(attempt, verdict, listener, giveUp, number, resends + 1);
            }
            if (number > retries) {
                return Mono.error(number > 1 ? giveUp.error(e, number) : e);
            }
            listener.beforeRetry(e, number);
            return Mono.delay(backoff(number)).then(attempt(attempt, verdict, listener, giveUp, number + 1, 0));
        });
    }

    /** The wait before retry {@code retry} (1 for the first): the first backoff doubled, capped, plus jitter. */
    Duration backoff(int retry) {
        long first = firstBackoff.toNanos();
        long base = Math.min(maxBackoff.toNanos(), first << Math.min(retry - 1, 30));
        if (base < 0) {
            base = maxBackoff.toNanos(); // shifted past the sign bit
        }
        return Duration.ofNanos(base + (long) (base * 0.5 * ThreadLocalRandom.current().nextDouble()));
    }
}
