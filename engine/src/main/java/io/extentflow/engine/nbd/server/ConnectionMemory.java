package io.extentflow.engine.nbd.server;

import io.netty.buffer.PooledByteBufAllocator;

/**
 * The Netty buffers of the server's connections, pooled: what the sockets are read into (WRITE
 * payloads among it, 256 KiB each from nbdcopy, held only until {@link RequestHandler} has copied
 * them into {@link DataBuffers}) and the reply headers.
 *
 * <p>Why not Netty's default allocator: under the server's 128 MiB heap it runs in its low-memory
 * mode ({@code io.netty.allocator.lowMemory} follows a heap of at most 512 MiB) and pools nothing
 * beyond small sizes, so every 64 KiB receive buffer was a fresh {@code allocateDirect}, zeroed and
 * later freed: a fifth of a writable server's Java samples and about 0.1 s of CPU per 2 GiB
 * written (perf/README.md, "extentflow as an NBD server"). Here they come from one direct arena of
 * 4 MiB chunks with no thread caches: a chunk whose buffers are all released is freed again, so
 * what the pool holds follows the bytes received and not yet copied, which the server bounds.
 */
final class ConnectionMemory {

    /** 8 KiB pages, 2^9 of them per chunk: 4 MiB chunks, so 64 KiB receive buffers are pooled. */
    private static final int PAGE_SIZE = 8192;
    private static final int MAX_ORDER = 9;

    private ConnectionMemory() {
    }

    /** A new pool (one per server). */
    static PooledByteBufAllocator allocator() {
        return new PooledByteBufAllocator(true, 0, 1, PAGE_SIZE, MAX_ORDER, 0, 0, false);
    }
}
