package io.extentflow.daemon;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.List;

/**
 * A fleet daemon's own meters, beside {@link DaemonMetrics}:
 * <ul>
 *   <li>{@code extentflow.daemon.fleet.claims}: jobs this daemon claimed;</li>
 *   <li>{@code extentflow.daemon.fleet.takeovers}: of those, jobs another daemon ran until its
 *       lease expired (resumed here from its checkpoint);</li>
 *   <li>{@code extentflow.daemon.fleet.lease.renew.failures}: renewals that did not reach the
 *       database (the lease held on until it expired);</li>
 *   <li>{@code extentflow.daemon.fleet.lease.lost}: jobs this daemon stopped without recording
 *       anything because its lease was gone (fenced writes);</li>
 *   <li>{@code extentflow.daemon.fleet.exchange}: the time of each exchange with the queue (final
 *       states written and jobs claimed in one statement), from sending it to its answer: how long
 *       a freed slot waits for its next job;</li>
 *   <li>{@code extentflow.daemon.fleet.db.round.trips}: statements this daemon sent to the jobs
 *       database, each a round trip (what a job costs the queue: perf/fleet.sh divides by jobs).</li>
 * </ul>
 */
final class FleetMetrics {

    private final MeterRegistry registry;
    final Counter claims;
    final Counter takeovers;
    final Counter renewFailures;
    final Counter leaseLost;
    final Timer exchanges;
    private final FunctionCounter roundTrips;

    FleetMetrics(MeterRegistry registry, Database db) {
        this.registry = registry;
        claims = Counter.builder("extentflow.daemon.fleet.claims")
                .description("Jobs this daemon claimed from the fleet's queue").register(registry);
        takeovers = Counter.builder("extentflow.daemon.fleet.takeovers")
                .description("Jobs claimed after another daemon's lease on them expired").register(registry);
        renewFailures = Counter.builder("extentflow.daemon.fleet.lease.renew.failures")
                .description("Lease renewals that failed to reach the database").register(registry);
        leaseLost = Counter.builder("extentflow.daemon.fleet.lease.lost")
                .description("Jobs stopped without a write because this daemon's lease was gone").register(registry);
        exchanges = Timer.builder("extentflow.daemon.fleet.exchange")
                .description("Exchanges with the queue: final states written and jobs claimed, in one statement")
                .register(registry);
        roundTrips = FunctionCounter.builder("extentflow.daemon.fleet.db.round.trips", db, Database::roundTrips)
                .description("Statements this daemon sent to the jobs database, one round trip each").register(registry);
    }

    void close() {
        List.of(claims, takeovers, renewFailures, leaseLost, exchanges, roundTrips).forEach(registry::remove);
    }
}
