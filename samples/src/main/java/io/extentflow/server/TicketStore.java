package io.extentflow.server;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.imageio.Ticket;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The tickets the server knows, by uuid. Not persisted: a restart forgets them, as in ovirt-imageio. */
public final class TicketStore {

    private final ConcurrentHashMap<String, TicketState> tickets = new ConcurrentHashMap<>();
    private final ServerConfig config;
    /** Operations in flight over all tickets. */
    private final AtomicInteger operations = new AtomicInteger();
    /** Set when the server stops: requests are then turned away with a 503 that clients retry. */
    private volatile boolean stopping;

    TicketStore(ServerConfig config) {
        this.config = config;
    }

    /**
     * Adds or replaces a ticket; a replaced ticket is canceled. Unlike {@link #add}, a target that
     * cannot be opened is only found by the first request (a 500). An id that could never be served
     * ({@link TicketIds}) is refused.
     */
    public void put(Ticket ticket) {
        TicketIds.require(ticket.uuid());
        store(new TicketState(ticket, config, operations));
    }

    /**
     * Adds or replaces a ticket, as {@code PUT /tickets/<id>}. A write ticket on a local file opens
     * its file first, so a target that cannot be written (an existing file of another size, a missing
     * directory) is refused with a one-line 400 here rather than failing every request later, and
     * so is an id that no request could reach ({@link TicketIds}).
     */
    public Mono<Void> add(Ticket ticket) {
        return Mono.defer(() -> {
            TicketIds.require(ticket.uuid());
            TicketState state = new TicketState(ticket, config, operations);
            if (!ticket.may("write") || !FileAddress.isFile(ticket.url())) {
                store(state);
                return Mono.empty();
            }
            return state.backend()
                    .onErrorMap(e -> ApiError.badRequest("Invalid ticket: cannot write " + ticket.url() + ": "
                            + ImageIoException.reason(e)))
                    .doOnSuccess(b -> store(state))
                    .then();
        });
    }

    private void store(TicketState state) {
        TicketState old = tickets.put(state.ticket.uuid(), state);
        state.watchExpiry();
        if (old != null) {
            old.cancel().subscribe();
        }
    }

    /** Operations (transfers, zero, flush, extents, checksums) in flight over all tickets. */
    int operations() {
        return operations.get();
    }

    ServerConfig config() {
        return config;
    }

    /** Number of tickets. */
    public int size() {
        return tickets.size();
    }

    TicketState get(String id) {
        return tickets.get(id);
    }

    /** The server is stopping: from now on requests get {@link #stoppingError()}. */
    void stopServing() {
        stopping = true;
    }

    boolean stopping() {
        return stopping;
    }

    /**
     * What a request gets while the server stops: a 503, which clients retry, so a copy survives a
     * restart of the server; a 403 would end it (its ticket is gone only because the server is).
     */
    static ApiError stoppingError() {
        return new ApiError(503, "The server is shutting down; retry later", null, true);
    }

    /** The ticket for a request needing {@code op}, or a 403 naming why not (503 while the server stops). */
    TicketState authorize(String id, String op) {
        if (stopping) {
            throw stoppingError();
        }
        TicketState s = tickets.get(id);
        if (s == null) {
            throw ApiError.forbidden("No such ticket '" + id + "'");
        }
        if (s.expired()) {
            throw ApiError.forbidden("Transfer=" + s.ticket.transferId() + " expired");
        }
        if (s.canceled()) {
            throw ApiError.forbidden("Transfer " + s.ticket.transferId() + " was canceled");
        }
        if (!s.ticket.may(op)) {
            throw ApiError.forbidden("Transfer=" + s.ticket.transferId() + " forbids " + op);
        }
        return s;
    }

    /** Removes and cancels a ticket; completes when its operations stopped (at once for an unknown id). */
    Mono<Void> remove(String id) {
        TicketState s = tickets.remove(id);
        return s == null ? Mono.empty() : s.cancel();
    }

    /** Removes and cancels every ticket. */
    Mono<Void> removeAll() {
        List<String> ids = List.copyOf(tickets.keySet());
        return Flux.fromIterable(ids).flatMap(this::remove).then();
    }
}
