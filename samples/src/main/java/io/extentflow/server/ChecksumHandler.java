package io.extentflow.server;

import io.extentflow.engine.checksum.BlockHash;
import io.extentflow.engine.checksum.ImageChecksum;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code GET /images/<id>/checksum[?algorithm=A][&block_size=N]} (ovirt-imageio's blkhash, computed
 * without reading zero blocks) and {@code GET /images/<id>/checksum/algorithms} (no ticket needed).
 */
final class ChecksumHandler {

    private final TicketStore tickets;
    private final ServerBuffers buffers;

    ChecksumHandler(TicketStore tickets, ServerBuffers buffers) {
        this.tickets = tickets;
        this.buffers = buffers;
    }

    Mono<Void> algorithms(HttpServerResponse resp) {
        return Replies.json(resp, Map.of("algorithms", BlockHash.algorithms()));
    }

    Mono<Void> checksum(HttpServerResponse resp, String id, Map<String, List<String>> query) {
        String algorithm = ImagesHandler.enumParam(query, "algorithm", BlockHash.algorithms(),
                BlockHash.DEFAULT_ALGORITHM);
        int blockSize = blockSize(query);
        TicketState state = tickets.authorize(id, "read");
        return state.backend().flatMap(b -> {
            state.begin(TicketState.Kind.READ);
            return ImageChecksum.compute(b.source(), ImagesHandler.available(state, b), algorithm, blockSize,
                            buffers.chunkSize())
                    .takeUntilOther(state.canceledSignal())
                    .switchIfEmpty(Mono.error(() -> ApiError.forbidden("Transfer " + state.ticket.transferId()
                            + " was canceled")))
                    .flatMap(result -> Replies.json(resp, result))
                    .doFinally(s -> state.end(TicketState.Kind.READ, 0));
        });
    }

    private static int blockSize(Map<String, List<String>> query) {
        List<String> v = query.get("block_size");
        if (v == null || v.isEmpty()) {
            return BlockHash.DEFAULT_BLOCK_SIZE;
        }
        long n;
        try {
            n = Long.parseLong(v.get(0));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("Invalid block size: '" + v.get(0) + "'");
        }
        if (n < ImageChecksum.MIN_BLOCK_SIZE || n > ImageChecksum.MAX_BLOCK_SIZE) {
            throw ApiError.badRequest("Block size out of allowed range: " + ImageChecksum.MIN_BLOCK_SIZE + "-"
                    + ImageChecksum.MAX_BLOCK_SIZE);
        }
        if (n % 4096 != 0) {
            throw ApiError.badRequest("Block size is not aligned to 4096");
        }
        return (int) n;
    }
}
