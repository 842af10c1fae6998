package io.extentflow.server;

import io.extentflow.engine.checksum.BlockHash;
import io.extentflow.engine.checksum.ImageChecksum;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSource;
import java.nio.ByteBuffer;
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
            return ImageChecksum.compute(new DetachedReads(b.source(), state::touch), ImagesHandler.available(state, b),
                            algorithm,
                            blockSize,
                            // a few requests in flight: a checksum keeps a client waiting, but one client
                            // must not take the server's memory
                            CopyOptions.defaults().withRequestSize(buffers.chunkSize())
                                    .withMaxInFlight(4L * buffers.chunkSize()))
                    .takeUntilOther(state.canceledSignal())
                    .switchIfEmpty(Mono.error(() -> ApiError.forbidden("Transfer " + state.ticket.transferId()
                            + " was canceled")))
                    .flatMap(result -> Replies.json(resp, result))
                    .doFinally(s -> state.end(TicketState.Kind.READ, 0));
        });
    }

    /**
     * The ticket's source with reads that finish even when the checksum is abandoned (the client
     * went away): cancelling a file read interrupts its thread, which would close the file for
     * every other request of the ticket. Each read done counts as activity on the ticket.
     */
    private record DetachedReads(ImageSource delegate, Runnable activity) implements ForwardingImageSource {
        @Override
        public Mono<Void> read(long offset, ByteBuffer target) {
            return Transfers.detached(delegate.read(offset, target), () -> { }).doOnSuccess(v -> activity.run());
        }

        @Override
        public void close() {
            // the ticket owns the source
        }
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
