package io.extentflow.server;

import io.extentflow.engine.imageio.Ticket;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The tickets the server knows, by uuid. Not persisted: a restart forgets them, as in ovirt-imageio. */
public final class TicketStore {

    private final ConcurrentHashMap<String, TicketState> tickets = new ConcurrentHashMap<>();
    private final ServerConfig config;

    TicketStore(ServerConfig config) {
        this.config = config;
    }

    /** Adds or replaces a ticket; a replaced ticket is canceled. */
    public void put(Ticket ticket) {
        TicketState old = tickets.put(ticket.uuid(), new TicketState(ticket, config));
        if (old != null) {
            old.cancel().subscribe();
        }
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

    /** The ticket for a request needing {@code op}, or a 403 naming why not. */
    TicketState authorize(String id, String op) {
        TicketState s = tickets.get(id);
        if (s == null) {
            throw ApiError.forbidden("No such ticket '" + id + "'");
        }
        if (s.canceled()) {
            throw ApiError.forbidden("Transfer " + s.ticket.transferId() + " was canceled");
        }
        if (s.expired()) {
            throw ApiError.forbidden("Transfer=" + s.ticket.transferId() + " expired");
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
