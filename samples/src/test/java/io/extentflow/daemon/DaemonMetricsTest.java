package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The daemon's job gauges keep reading after garbage collections. */
class DaemonMetricsTest {

    @Test
    void jobCountsSurviveGarbageCollection() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicLong done = new AtomicLong(7);
        // a capturing lambda: a new object that only the metrics hold, as the job managers' are
        DaemonMetrics metrics = new DaemonMetrics(registry, s -> s == JobState.DONE ? done.get() : 0);
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        assertEquals(7.0, registry.get("extentflow.daemon.jobs").tag("state", "done").gauge().value());
        assertEquals(0.0, registry.get("extentflow.daemon.jobs").tag("state", "queued").gauge().value());
        metrics.close();
    }
}
