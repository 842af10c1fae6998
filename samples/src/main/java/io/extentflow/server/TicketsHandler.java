package io.extentflow.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.imageio.Ticket;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The control API, {@code /tickets/<id>}: PUT adds or replaces, GET describes, PATCH extends,
 * DELETE cancels (waiting for running operations to stop) and removes.
 */
final class TicketsHandler {

    private static final int MAX_JSON = 64 << 10;

    private final TicketStore tickets;
    private final Duration removeTimeout;

    TicketsHandler(TicketStore tickets, Duration removeTimeout) {
        this.tickets = tickets;
        this.removeTimeout = removeTimeout;
    }

    /** Dispatches {@code /tickets/...}; {@code id} is the path after {@code /tickets/}. */
    Mono<Void> handle(HttpServerRequest req, HttpServerResponse resp, String path, String id) {
        HttpMethod m = req.method();
        if (m.equals(HttpMethod.DELETE)) {
            return delete(resp, id);
        }
        if (!m.equals(HttpMethod.PUT) && !m.equals(HttpMethod.GET) && !m.equals(HttpMethod.PATCH)) {
            throw ApiError.methodNotAllowed(m.name(), path);
        }
        if (id.isEmpty()) {
            throw ApiError.badRequest("Ticket id is required");
        }
        if (m.equals(HttpMethod.GET)) {
            TicketState s = tickets.get(id);
            if (s == null) {
                throw ApiError.notFound("No such ticket '" + id + "'");
            }
            return Replies.json(resp, s.info());
        }
        if (req.requestHeaders().getInt(HttpHeaderNames.CONTENT_LENGTH, 0) > MAX_JSON) {
            throw new ApiError(413, "Request body too large", null, true);
        }
        return req.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0]).flatMap(body -> {
            if (m.equals(HttpMethod.PUT)) {
                Ticket t;
                try {
                    t = Ticket.parse(body);
                } catch (IllegalArgumentException e) {
                    throw ApiError.badRequest(e.getMessage());
                }
                return tickets.add(t).then(Mono.defer(() -> Replies.empty(resp, 200)));
            }
            return extend(resp, id, body);
        });
    }

    private Mono<Void> extend(HttpServerResponse resp, String id, byte[] body) {
        JsonNode msg;
        try {
            msg = ImageioJson.MAPPER.readTree(body);
        } catch (IOException e) {
            throw ApiError.badRequest("Invalid patch: not JSON");
        }
        if (msg == null || !msg.isObject() || !msg.has("timeout")) {
            throw ApiError.badRequest("Invalid patch");
        }
        long timeout = Params.integer(msg, "timeout", null);
        TicketState s = tickets.get(id);
        if (s == null) {
            throw ApiError.notFound("No such ticket: " + id);
        }
        s.extend(timeout);
        return Replies.empty(resp, 200);
    }

    private Mono<Void> delete(HttpServerResponse resp, String id) {
        TicketState s = id.isEmpty() ? null : tickets.get(id);
        Mono<Void> removed = id.isEmpty() ? tickets.removeAll() : tickets.remove(id);
        return removed
                .timeout(removeTimeout)
                .onErrorMap(TimeoutException.class, e -> new ApiError(409, "Timeout cancelling transfer "
                        + (s == null ? "(all tickets)" : s.ticket.transferId()), null, false))
                .then(Mono.defer(() -> Replies.empty(resp, 204)));
    }
}
