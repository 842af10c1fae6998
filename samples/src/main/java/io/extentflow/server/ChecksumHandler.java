package io.extentflow.server;

import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

/** {@code GET /images/<id>/checksum} and {@code .../checksum/algorithms}. */
final class ChecksumHandler {

    private final TicketStore tickets;

    ChecksumHandler(TicketStore tickets) {
        this.tickets = tickets;
    }

    Mono<Void> algorithms(HttpServerResponse resp) {
        return Replies.json(resp, Map.of("algorithms", List.of()));
    }

    Mono<Void> checksum(HttpServerResponse resp, String id, Map<String, List<String>> query) {
        tickets.authorize(id, "read");
        throw ApiError.notFound("Checksums are not supported yet");
    }
}
