package io.extentflow.daemon;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * The daemon's meters: {@code extentflow.daemon.jobs{state}} (jobs in each state) and
 * {@code extentflow.daemon.job.bytes.per.second{job}} (throughput of each running job; removed when
 * the job stops, so finished jobs do not pile up as time series).
 */
final class DaemonMetrics {

    private final MeterRegistry registry;
    private final List<Gauge> states = new ArrayList<>();
    private final Map<String, Gauge> throughput = new ConcurrentHashMap<>();

    /** {@code count} gives the number of jobs in a state (in fleet mode: of the whole fleet). */
    DaemonMetrics(MeterRegistry registry, ToLongFunction<JobState> count) {
        this.registry = registry;
        for (JobState s : JobState.values()) {
            // held strongly: a gauge keeps only a weak reference by default, and nothing else holds
            // the caller's function (the gauges read NaN after the first garbage collection)
            states.add(Gauge.builder("extentflow.daemon.jobs", count, c -> c.applyAsLong(s)).strongReference(true)
                    .description("Copy jobs by state").tag("state", s.wire()).register(registry));
        }
    }

    void started(Job job) {
        throughput.computeIfAbsent(job.id, id -> Gauge.builder("extentflow.daemon.job.bytes.per.second", job,
                        Job::throughput)
                .description("Bytes per second a running copy job moves")
                .tag("job", id).register(registry));
    }

    void stopped(Job job) {
        Gauge g = throughput.remove(job.id);
        if (g != null) {
            registry.remove(g);
        }
    }

    void close() {
        throughput.values().forEach(registry::remove);
        throughput.clear();
        states.forEach(registry::remove);
    }
}
