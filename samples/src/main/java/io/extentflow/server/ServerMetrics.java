package io.extentflow.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The server's meters: requests by operation, bytes moved, extents requests by form, and the data
 * buffers in use.
 */
final class ServerMetrics {

    private final MeterRegistry registry;
    final Counter bytesRead;
    final Counter bytesWritten;
    final Counter bytesZeroed;
    final Counter extentsWhole;
    final Counter extentsRange;

    ServerMetrics(MeterRegistry registry, ServerBuffers buffers) {
        this.registry = registry;
        bytesRead = Counter.builder("extentflow.server.bytes").tag("op", "read").baseUnit("bytes").register(registry);
        bytesWritten = Counter.builder("extentflow.server.bytes").tag("op", "write").baseUnit("bytes")
                .register(registry);
        bytesZeroed = Counter.builder("extentflow.server.bytes").tag("op", "zero").baseUnit("bytes")
                .register(registry);
        extentsWhole = Counter.builder("extentflow.server.extents.requests").tag("form", "whole")
                .description("extents requests for the whole image").register(registry);
        extentsRange = Counter.builder("extentflow.server.extents.requests").tag("form", "range")
                .description("extents requests with start/length").register(registry);
        Gauge.builder("extentflow.server.buffers.in.use", buffers, ServerBuffers::outstanding)
                .description("data buffers held by requests").register(registry);
    }

    /** Counts one request by method and resource. */
    void request(String op, int status) {
        registry.counter("extentflow.server.requests", "op", op, "status", Integer.toString(status)).increment();
    }
}
