package io.extentflow.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * The server's meters: requests by route, method and status with their latency, bytes in and out,
 * operations in flight, extents requests by form, and the data buffers in use.
 *
 * <p>In Prometheus text: {@code extentflow_server_requests_seconds_count|sum|max{route,op,status}},
 * {@code extentflow_server_bytes_total{op=read|write|zero}} (read is out, write is in, zero moves no
 * bytes), {@code extentflow_server_operations_active}, {@code extentflow_server_extents_requests_total{form}},
 * {@code extentflow_server_buffers_in_use}. Routes are patterns ({@code /images/{ticket}/extents}),
 * never ticket ids: those are secrets, and one series per ticket would grow without bound.
 */
final class ServerMetrics {

    private final MeterRegistry registry;
    final Counter bytesRead;
    final Counter bytesWritten;
    final Counter bytesZeroed;
    final Counter extentsWhole;
    final Counter extentsRange;

    ServerMetrics(MeterRegistry registry, ServerBuffers buffers, TicketStore tickets) {
        this.registry = registry;
        bytesRead = Counter.builder("extentflow.server.bytes").tag("op", "read").baseUnit("bytes")
                .description("image bytes sent to clients (out)").register(registry);
        bytesWritten = Counter.builder("extentflow.server.bytes").tag("op", "write").baseUnit("bytes")
                .description("image bytes received from clients (in)").register(registry);
        bytesZeroed = Counter.builder("extentflow.server.bytes").tag("op", "zero").baseUnit("bytes")
                .description("image bytes zeroed without moving data").register(registry);
        extentsWhole = Counter.builder("extentflow.server.extents.requests").tag("form", "whole")
                .description("extents requests for the whole image").register(registry);
        extentsRange = Counter.builder("extentflow.server.extents.requests").tag("form", "range")
                .description("extents requests with start/length").register(registry);
        Gauge.builder("extentflow.server.buffers.in.use", buffers, ServerBuffers::outstanding)
                .description("data buffers held by requests").register(registry);
        Gauge.builder("extentflow.server.operations.active", tickets, TicketStore::operations)
                .description("transfers and other image operations in flight").register(registry);
    }

    /** Counts one finished request and its duration. */
    void request(String route, String op, int status, long nanos) {
        Timer.builder("extentflow.server.requests")
                .description("data API requests by route, method and status")
                .tags("route", route, "op", op, "status", Integer.toString(status))
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The route pattern of a data API path: a bounded set of values, without ticket ids. */
    static String route(String path) {
        if (path.startsWith("/images/")) {
            String rest = path.substring("/images/".length());
            int slash = rest.indexOf('/');
            String sub = slash < 0 ? "" : rest.substring(slash + 1);
            return switch (sub) {
                case "" -> "/images/{ticket}";
                case "extents", "checksum", "checksum/algorithms" -> "/images/{ticket}/" + sub;
                default -> "other";
            };
        }
        return switch (path) {
            case "/info", "/info/" -> "/info";
            case "/metrics" -> "/metrics";
            default -> "other";
        };
    }
}
