package io.extentflow.engine.testing;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition that another thread makes true (e.g. a buffer released by a cancelled
 * request finishing on an I/O thread), failing after a deadline. A condition wait, not a sleep:
 * it returns as soon as the condition holds.
 */
public final class Await {

    private Await() {
    }

    /** Returns when {@code condition} is true; fails with {@code what} after {@code timeout}. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            }
            LockSupport.parkNanos(100_000);
        }
    }
}
