package io.extentflow.engine.copy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * The copy's Micrometer meters, tagged by source and sink endpoint kind (file, nbd, http, ...).
 *
 * <ul>
 *   <li>{@code extentflow.copy.bytes} (counter) by {@code kind}: read, written, zeroed, skipped,
 *       offloaded (data the sink's offloaded copy moved, also counted as read and written)</li>
 *   <li>{@code extentflow.copy.requests} (timer) by {@code op}: read, write, zero, flush, offload, with the
 *       latency of each request</li>
 *   <li>{@code extentflow.copy.inflight.bytes} (gauge): buffer bytes held</li>
 *   <li>{@code extentflow.copy.duration} (timer): whole copies</li>
 * </ul>
 */
final class CopyMetrics {

    final Counter read;
    final Counter written;
    final Counter zeroed;
    final Counter skipped;
    final Counter offloaded;
    private final Timer readTimer;
    private final Timer writeTimer;
    private final Timer zeroTimer;
    private final Timer offloadTimer;
    private final Timer flushTimer;
    final Timer duration;
    private final Gauge inFlight;
    private final MeterRegistry registry;

    CopyMetrics(MeterRegistry registry, String sourceKind, String sinkKind, BufferPool pool) {
        this.registry = registry;
        String[] tags = {"source", sourceKind, "sink", sinkKind};
        read = counter(registry, "read", tags);
        written = counter(registry, "written", tags);
        zeroed = counter(registry, "zeroed", tags);
        skipped = counter(registry, "skipped", tags);
        offloaded = counter(registry, "offloaded", tags);
        readTimer = timer(registry, "read", tags);
        writeTimer = timer(registry, "write", tags);
        zeroTimer = timer(registry, "zero", tags);
        offloadTimer = timer(registry, "offload", tags);
        flushTimer = timer(registry, "flush", tags);
        duration = Timer.builder("extentflow.copy.duration").tags(tags)
                .description("wall time of whole copies").register(registry);
        inFlight = Gauge.builder("extentflow.copy.inflight.bytes", pool, BufferPool::bytesInFlight)
                .tags(tags).description("data buffer bytes in flight").strongReference(true).register(registry);
    }

    private static Counter counter(MeterRegistry r, String kind, String[] tags) {
        return Counter.builder("extentflow.copy.bytes").tags(tags).tag("kind", kind).baseUnit("bytes")
                .description("bytes by what the copy did with them").register(r);
    }

    private static Timer timer(MeterRegistry r, String op, String[] tags) {
        return Timer.builder("extentflow.copy.requests").tags(tags).tag("op", op)
                .description("requests to the source and sink, with their latency").register(r);
    }

    Mono<Void> timeRead(Supplier<Mono<Void>> call) {
        return timed(readTimer, call);
    }

    Mono<Void> timeWrite(Supplier<Mono<Void>> call) {
        return timed(writeTimer, call);
    }

    Mono<Void> timeZero(Supplier<Mono<Void>> call) {
        return timed(zeroTimer, call);
    }

    <T> Mono<T> timeOffload(Supplier<Mono<T>> call) {
        return timed(offloadTimer, call);
    }

    Mono<Void> timeFlush(Supplier<Mono<Void>> call) {
        return timed(flushTimer, call);
    }

    private static <T> Mono<T> timed(Timer timer, Supplier<Mono<T>> call) {
        return Mono.defer(() -> {
            long t0 = System.nanoTime();
            return call.get().doOnSuccess(v -> timer.record(System.nanoTime() - t0,
                    java.util.concurrent.TimeUnit.NANOSECONDS));
        });
    }

    /** Removes the per-copy gauge so a finished copy leaves no reference behind. */
    void close() {
        registry.remove(inFlight);
    }
}
