package io.extentflow.engine.nbd;

import io.extentflow.engine.io.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How an {@link NbdClient} talks to its server. Immutable; start from {@link #defaults()}.
 *
 * @param connections           connections to open when the server allows several (CAN_MULTI_CONN);
 *                              one otherwise
 * @param requestsPerConnection requests in flight per connection; more wait their turn
 * @param timeout               longest wait for a connection, the handshake, or the reply to a request;
 *                              a request that gets no reply in time fails and closes its connection
 * @param retries               times a read, write or zero request that failed transiently (connection
 *                              lost, EIO, ESHUTDOWN) is sent again, on a fresh connection if its own died
 * @param retryBackoff          first delay before a retry; doubles each time
 * @param allocationDepth       ask for {@code qemu:allocation-depth} too (used only when offered)
 * @param extendedHeaders       ask for extended headers (NBD_OPT_EXTENDED_HEADERS; used only when offered)
 * @param metaContexts          more metadata contexts to select, which the server must offer (e.g.
 *                              {@code qemu:dirty-bitmap:NAME}); the connection fails naming the ones it lists
 */
public record NbdClientOptions(int connections, int requestsPerConnection, Duration timeout, int retries,
                               Duration retryBackoff, boolean allocationDepth, boolean extendedHeaders,
                               List<String> metaContexts) {

    /**
     * One connection per CPU, at most 4 (as nbdcopy chooses). Each connection costs the client an event
     * loop thread and the server a pool of workers with their own request buffers; past one per CPU
     * they only take turns on the CPUs and give the server more memory to fault in. On 2 CPUs, alternated
     * rounds of an 8 GiB image into a fresh nbdkit memory export: four connections 1.032 × nbdcopy's
     * time, two 1.008 × (server CPU 8.09 → 7.75 s, page faults 542,101 → 533,827); from nbdkit
     * sparse-random two were faster too (perf/README.md, "Connections per CPU").
     */
    public static final int DEFAULT_CONNECTIONS = Math.min(4, Runtime.getRuntime().availableProcessors());
    public static final int DEFAULT_REQUESTS_PER_CONNECTION = 64;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /**
     * A request fails only when every try does: with a server failing a fraction {@code p} of requests
     * at random, {@code p^(retries + 1)} of them. A copy of 1 GiB of sparse-random data sends about a
     * thousand requests; at p = 5 % (perf/soak-nbd-faults.sh), 3 retries lost one request in about 160
     * copies, 5 lose one in about 60,000. A server that is gone is given up on after the backoffs,
     * 0.1 + 0.2 + ... + 1.6 = 3.1 s (up to 4.7 s with jitter).
     */
    public static final int DEFAULT_RETRIES = 5;
    public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofMillis(100);
    /** Longest wait between two attempts, as for imageio HTTP requests. */
    public static final Duration MAX_RETRY_BACKOFF = Duration.ofSeconds(2);

    public NbdClientOptions {
        metaContexts = List.copyOf(metaContexts);
        if (connections <= 0 || requestsPerConnection <= 0 || retries < 0) {
            throw new IllegalArgumentException("connections and requests per connection must be positive, "
                    + "retries not negative");
        }
        if (timeout.isNegative() || timeout.isZero() || retryBackoff.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive and backoff not negative");
        }
    }

    /**
     * {@link #DEFAULT_CONNECTIONS} connections (one per CPU, up to 4), 64 requests each, 60 s timeout,
     * 5 retries from 100 ms, allocation depth and extended headers asked for.
     */
    public static NbdClientOptions defaults() {
        return new NbdClientOptions(DEFAULT_CONNECTIONS, DEFAULT_REQUESTS_PER_CONNECTION, DEFAULT_TIMEOUT,
                DEFAULT_RETRIES, DEFAULT_RETRY_BACKOFF, true, true, List.of());
    }

    public NbdClientOptions withConnections(int value) {
        return new NbdClientOptions(value, requestsPerConnection, timeout, retries, retryBackoff,
                allocationDepth, extendedHeaders, metaContexts);
    }

    public NbdClientOptions withRequestsPerConnection(int value) {
        return new NbdClientOptions(connections, value, timeout, retries, retryBackoff,
                allocationDepth, extendedHeaders, metaContexts);
    }

    public NbdClientOptions withTimeout(Duration value) {
        return new NbdClientOptions(connections, requestsPerConnection, value, retries, retryBackoff,
                allocationDepth, extendedHeaders, metaContexts);
    }

    public NbdClientOptions withRetries(int value) {
        return new NbdClientOptions(connections, requestsPerConnection, timeout, value, retryBackoff,
                allocationDepth, extendedHeaders, metaContexts);
    }

    public NbdClientOptions withRetryBackoff(Duration value) {
        return new NbdClientOptions(connections, requestsPerConnection, timeout, retries, value,
                allocationDepth, extendedHeaders, metaContexts);
    }

    public NbdClientOptions withAllocationDepth(boolean value) {
        return new NbdClientOptions(connections, requestsPerConnection, timeout, retries, retryBackoff, value, extendedHeaders,
                metaContexts);
    }

    public NbdClientOptions withExtendedHeaders(boolean value) {
        return new NbdClientOptions(connections, requestsPerConnection, timeout, retries, retryBackoff, allocationDepth,
                value, metaContexts);
    }

    /** These options, also selecting {@code context} (which the server must offer). */
    public NbdClientOptions withMetaContext(String context) {
        List<String> more = new ArrayList<>(metaContexts);
        more.add(context);
        return new NbdClientOptions(connections, requestsPerConnection, timeout, retries, retryBackoff, allocationDepth,
                extendedHeaders, more);
    }

    /**
     * {@link #retries()} retries, waiting {@link #retryBackoff()} doubled each time, at most
     * {@link #MAX_RETRY_BACKOFF} (or the first backoff, when that is longer).
     */
    public RetryPolicy retryPolicy() {
        return new RetryPolicy(retries, retryBackoff,
                retryBackoff.compareTo(MAX_RETRY_BACKOFF) > 0 ? retryBackoff : MAX_RETRY_BACKOFF);
    }
}
