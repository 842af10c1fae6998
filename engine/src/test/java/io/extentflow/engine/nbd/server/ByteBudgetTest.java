package io.extentflow.engine.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** The server's bound on bytes in flight: order, the cap at the whole budget, and cancels that lose nothing. */
class ByteBudgetTest {

    @Test
    void waitersAreServedInOrderAndALargeRequestTakesAtMostTheWholeBudget() {
        ByteBudget budget = new ByteBudget(100);
        assertEquals(60L, budget.tryAcquire(60));
        assertNull(budget.tryAcquire(50));
        List<Long> granted = new ArrayList<>();
        budget.acquire(1000, granted::add); // capped at 100: waits for everything
        budget.acquire(10, granted::add);   // behind it, though 40 are free
        assertNull(budget.tryAcquire(10), "nobody passes the waiters");
        assertEquals(List.of(), granted);
        budget.release(60);
        assertEquals(List.of(100L), granted);
        budget.release(100);
        assertEquals(List.of(100L, 10L), granted);
        budget.release(10);
        assertEquals(0, budget.inUse());
    }

    @Test
    void cancelledWaitersRacingWithReleasesLeaveTheBudgetWhole() {
        ByteBudget budget = new ByteBudget(1000);
        for (int round = 0; round < 500; round++) {
            long first = budget.tryAcquire(1000);
            List<Long> held = Collections.synchronizedList(new ArrayList<>());
            List<ByteBudget.Wait> waits = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                waits.add(budget.acquire(100, held::add));
            }
            // release and cancel at the same time, on two threads
            Flux.merge(Mono.fromRunnable(() -> budget.release(first)).subscribeOn(Schedulers.parallel()),
                            Mono.fromRunnable(() -> waits.forEach(ByteBudget.Wait::cancel))
                                    .subscribeOn(Schedulers.parallel()))
                    .blockLast(Duration.ofSeconds(10));
            synchronized (held) {
                held.forEach(budget::release);
            }
            assertEquals(0, budget.inUse(), "round " + round);
        }
    }
}
