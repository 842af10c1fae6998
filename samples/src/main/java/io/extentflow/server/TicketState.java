package io.extentflow.server;

import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.imageio.Ticket;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A ticket in the store with everything that changes: expiry, operations in flight, cancellation and
 * the lazily opened backend.
 *
 * <p>Expiry follows ovirt-imageio: {@code expires = now + timeout}, refreshed after every completed
 * operation and on OPTIONS. We are a little more lenient: a ticket with operations in flight never
 * counts as expired.
 */
final class TicketState {

    /** What an operation does, for the {@code max_readers}/{@code max_writers} limits. */
    enum Kind { READ, WRITE }

    final Ticket ticket;
    private final ServerConfig config;
    private final long created = System.nanoTime();
    private volatile long expires;
    private volatile long lastActivity = System.nanoTime();
    private final AtomicInteger ops = new AtomicInteger();
    private final AtomicInteger readers = new AtomicInteger();
    private final AtomicInteger writers = new AtomicInteger();
    private final AtomicLong transferred = new AtomicLong();
    private volatile boolean canceled;
    private final Sinks.Empty<Void> canceledSignal = Sinks.empty();
    private final Sinks.Empty<Void> drained = Sinks.empty();
    private final AtomicReference<Mono<Backend>> backend = new AtomicReference<>();
    private final AtomicBoolean backendClosed = new AtomicBoolean();

    TicketState(Ticket ticket, ServerConfig config) {
        this.ticket = ticket;
        this.config = config;
        this.expires = created + TimeUnit.SECONDS.toNanos(ticket.timeout());
    }

    /** The backend, opened on first use; a failed open is retried by the next request. */
    Mono<Backend> backend() {
        Mono<Backend> m = backend.get();
        if (m == null) {
            // Opened on the file I/O scheduler: provider lookup (ServiceLoader reads jar files) and
            // some providers' open paths block, and this runs on an event loop.
            Mono<Backend> opening = Mono.defer(this::open).subscribeOn(BlockingIo.scheduler()).cache();
            if (backend.compareAndSet(null, opening)) {
                m = opening.doOnError(e -> backend.compareAndSet(opening, null));
            } else {
                m = backend.get();
            }
        }
        return m;
    }

    private Mono<Backend> open() {
        String url = ticket.url();
        if (ticket.may("write")) {
            return Endpoints.sink(url, ticket.size()).flatMap(sink -> Endpoints.source(url)
                    .map(source -> new Backend(source, sink))
                    .doOnError(e -> sink.close()));
        }
        return Endpoints.source(url).map(source -> new Backend(source, null));
    }

    boolean canceled() {
        return canceled;
    }

    boolean expired() {
        return ops.get() == 0 && System.nanoTime() - expires > 0;
    }

    /** Completes when the ticket is canceled. */
    Mono<Void> canceledSignal() {
        return canceledSignal.asMono();
    }

    /**
     * Starts an operation, or fails with 503 when the ticket already serves its limit of them, or
     * with 403 when it was canceled meanwhile. Every successful call must be paired with {@link #end}.
     */
    void begin(Kind kind) {
        AtomicInteger counter = kind == Kind.READ ? readers : writers;
        int max = kind == Kind.READ ? config.maxReaders() : config.maxWriters();
        ops.incrementAndGet();
        if (counter.incrementAndGet() > max) {
            end(kind, 0);
            throw new ApiError(503, "Transfer " + ticket.transferId() + " already serves " + max + " "
                    + (kind == Kind.READ ? "readers (max_readers)" : "writers (max_writers)") + "; retry later",
                    null, false);
        }
        if (canceled) {
            end(kind, 0);
            throw ApiError.forbidden("Transfer " + ticket.transferId() + " was canceled");
        }
        lastActivity = System.nanoTime();
    }

    /** Ends an operation that moved {@code bytes}; re-arms the expiry. */
    void end(Kind kind, long bytes) {
        (kind == Kind.READ ? readers : writers).decrementAndGet();
        transferred.addAndGet(bytes);
        touch();
        if (ops.decrementAndGet() == 0 && canceled) {
            drained.tryEmitEmpty();
            closeBackend();
        }
    }

    /** Client activity: expires = now + timeout. */
    void touch() {
        long now = System.nanoTime();
        lastActivity = now;
        expires = now + TimeUnit.SECONDS.toNanos(ticket.timeout());
    }

    /** {@code PATCH /tickets/<id> {"timeout": n}}: expires = now + n, the stored timeout is kept. */
    void extend(long seconds) {
        expires = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    }

    /**
     * Cancels the ticket: new requests get 403, running ones stop at their next buffer. Completes when
     * no operation runs any more; the backend is then closed.
     */
    Mono<Void> cancel() {
        canceled = true;
        canceledSignal.tryEmitEmpty();
        if (ops.get() == 0) {
            drained.tryEmitEmpty();
            closeBackend();
        }
        return drained.asMono();
    }

    private void closeBackend() {
        Mono<Backend> m = backend.get();
        if (m != null && backendClosed.compareAndSet(false, true)) {
            m.subscribe(Backend::close, e -> { });
        }
    }

    /** {@code GET /tickets/<id>}: the fields ovirt-imageio reports. */
    Map<String, Object> info() {
        long now = System.nanoTime();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("active", ops.get() > 0);
        m.put("canceled", canceled);
        m.put("connections", ops.get());
        m.put("expires", System.currentTimeMillis() / 1000 + TimeUnit.NANOSECONDS.toSeconds(expires - now));
        m.put("idle_time", TimeUnit.NANOSECONDS.toSeconds(now - lastActivity));
        m.put("inactivity_timeout", ticket.inactivityTimeout());
        m.put("ops", ticket.ops().stream().sorted().toList());
        m.put("size", ticket.size());
        m.put("sparse", ticket.sparse());
        m.put("dirty", false);
        m.put("timeout", ticket.timeout());
        m.put("url", ticket.url());
        m.put("uuid", ticket.uuid());
        m.put("transfer_id", ticket.transferId());
        if (ticket.filename() != null) {
            m.put("filename", ticket.filename());
        }
        if (ticket.ops().size() == 1) {
            m.put("transferred", transferred.get());
        }
        return m;
    }
}
