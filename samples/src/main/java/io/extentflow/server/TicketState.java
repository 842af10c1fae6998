package io.extentflow.server;

import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.sources.DirtyOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.FormatOptions;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.imageio.Ticket;
import io.extentflow.sinks.ZeroOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A ticket in the store with everything that changes: expiry, operations in flight, cancellation and
 * the lazily opened backend.
 *
 * <p>Expiry follows ovirt-imageio: {@code expires = now + timeout}, refreshed by client activity:
 * OPTIONS, the start and end of every operation, and (our addition) every buffer a transfer moves, so
 * a transfer that makes progress keeps its ticket alive however long it runs. Unlike ovirt-imageio,
 * which only checks expiry when a request arrives, a timer expires the ticket when the time comes:
 * like a DELETE, it cuts the transfers still in flight (they made no progress for the whole timeout)
 * and closes the backend once they stopped. An expired ticket stays listed until deleted, answers 403
 * "expired", and cannot be revived by extending it: add it again.
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
    /** Operations in flight over all tickets of the server (a meter). */
    private final AtomicInteger serverOps;
    private final AtomicInteger readers = new AtomicInteger();
    private final AtomicInteger writers = new AtomicInteger();
    private final AtomicLong transferred = new AtomicLong();
    private volatile boolean canceled;
    private volatile boolean expiredForGood;
    /** The pending expiry check; replaced when it fires early or the expiry moves. */
    private final AtomicReference<Disposable> expiryTimer = new AtomicReference<>();
    private final Sinks.Empty<Void> canceledSignal = Sinks.empty();
    private final Sinks.Empty<Void> drained = Sinks.empty();
    private final AtomicReference<Mono<Backend>> backend = new AtomicReference<>();
    private final AtomicBoolean backendClosed = new AtomicBoolean();

    TicketState(Ticket ticket, ServerConfig config, AtomicInteger serverOps) {
        this.ticket = ticket;
        this.config = config;
        this.serverOps = serverOps;
        this.expires = after(created, ticket.timeout());
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
            // "sparse": false (the default) keeps zeroed ranges allocated, as in ovirt-imageio. The image
            // takes the bytes it is sent, as ovirt-imageio's file backend does, whatever its name: a file
            // named *.qcow2 receives a qcow2 image's bytes (copy --output-format qcow2 to the ticket), it is
            // not made a new, empty qcow2 image.
            EndpointOptions options = EndpointOptions.defaults().with(ZeroOptions.ALLOCATE_ZEROES, !ticket.sparse())
                    .with(FormatOptions.OUTPUT_FORMAT, "raw");
            return Endpoints.sink(url, ticket.size(), options).flatMap(sink -> Endpoints.source(url, sourceOptions())
                    .flatMap(source -> {
                        if (!source.format().equals("raw")) {
                            // reads would give its disk, writes would go to its file's bytes
                            source.close();
                            return Mono.<Backend>error(new IllegalArgumentException("it holds a " + source.format()
                                    + " image, which a ticket serves read-only"));
                        }
                        return Mono.just(new Backend(source, sink));
                    })
                    .doOnError(e -> sink.close()));
        }
        return Endpoints.source(url, sourceOptions()).map(source -> new Backend(source, null));
    }

    /**
     * A dirty ticket's image opens with its bitmap: the one {@code dirty_bitmap} names, or else the
     * only one the image (or NBD export) has.
     */
    private EndpointOptions sourceOptions() {
        if (!ticket.dirty()) {
            return EndpointOptions.defaults();
        }
        return EndpointOptions.defaults().with(DirtyOptions.DIRTY_BITMAP,
                ticket.dirtyBitmap() != null ? ticket.dirtyBitmap() : DirtyOptions.ONLY_BITMAP);
    }

    boolean canceled() {
        return canceled;
    }

    /** {@code seconds} after {@code now} on the nanosecond clock; a century at most, so it cannot overflow. */
    private static long after(long now, long seconds) {
        return now + Math.min(TimeUnit.SECONDS.toNanos(seconds), TimeUnit.DAYS.toNanos(36_500));
    }

    /** True once the ticket expired; final (see the class comment). */
    boolean expired() {
        return expiredForGood || System.nanoTime() - expires > 0;
    }

    /** Starts watching the expiry; called once the ticket is in the store. */
    void watchExpiry() {
        long delay = Math.max(0, expires - System.nanoTime());
        Disposable next = Mono.delay(Duration.ofNanos(delay)).subscribe(x -> checkExpiry());
        Disposable old = expiryTimer.getAndSet(next);
        if (old != null) {
            old.dispose();
        }
        if (canceled) {
            next.dispose();
        }
    }

    /** Expires the ticket when its time has come; otherwise (activity moved it) checks again later. */
    private void checkExpiry() {
        if (canceled) {
            return;
        }
        if (System.nanoTime() - expires >= 0) {
            expiredForGood = true;
            cancel().subscribe();
        } else {
            watchExpiry();
        }
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
        serverOps.incrementAndGet();
        if (counter.incrementAndGet() > max) {
            end(kind, 0);
            throw new ApiError(503, "Transfer " + ticket.transferId() + " already serves " + max + " "
                    + (kind == Kind.READ ? "readers (max_readers)" : "writers (max_writers)") + "; retry later",
                    null, false);
        }
        if (canceled) {
            end(kind, 0);
            throw ApiError.forbidden(expiredForGood ? "Transfer=" + ticket.transferId() + " expired"
                    : "Transfer " + ticket.transferId() + " was canceled");
        }
        touch();
    }

    /** Ends an operation that moved {@code bytes}; re-arms the expiry. */
    void end(Kind kind, long bytes) {
        (kind == Kind.READ ? readers : writers).decrementAndGet();
        serverOps.decrementAndGet();
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
        expires = after(now, ticket.timeout());
    }

    /** {@code PATCH /tickets/<id> {"timeout": n}}: expires = now + n, the stored timeout is kept. */
    void extend(long seconds) {
        expires = after(System.nanoTime(), seconds);
        watchExpiry(); // the new time may come before the pending check
    }

    /**
     * Cancels the ticket: new requests get 403, running ones stop at their next buffer. Completes when
     * no operation runs any more; the backend is then closed.
     */
    Mono<Void> cancel() {
        canceled = true;
        Disposable timer = expiryTimer.get();
        if (timer != null) {
            timer.dispose();
        }
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
        m.put("canceled", canceled && !expiredForGood);
        m.put("connections", ops.get());
        m.put("expires", System.currentTimeMillis() / 1000 + TimeUnit.NANOSECONDS.toSeconds(expires - now));
        m.put("idle_time", TimeUnit.NANOSECONDS.toSeconds(now - lastActivity));
        m.put("inactivity_timeout", ticket.inactivityTimeout());
        m.put("ops", ticket.ops().stream().sorted().toList());
        m.put("size", ticket.size());
        m.put("sparse", ticket.sparse());
        m.put("dirty", ticket.dirty());
        if (ticket.dirtyBitmap() != null) {
            m.put("dirty_bitmap", ticket.dirtyBitmap());
        }
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
