package io.extentflow.server;

import io.extentflow.engine.copy.BufferPool;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/**
 * All the data memory of the server: a fixed pool of direct buffers shared by every download and
 * upload. A request waits for a buffer rather than allocate past the bound.
 */
final class ServerBuffers {

    private final BufferPool pool;

    ServerBuffers(ServerConfig config) {
        this.pool = BufferPool.ofBytes(config.chunkSize(), config.bufferMemory());
    }

    Mono<ByteBuffer> acquire() {
        return pool.acquire();
    }

    void release(ByteBuffer b) {
        pool.release(b);
    }

    int chunkSize() {
        return pool.bufferSize();
    }

    /** Buffers held right now. */
    int outstanding() {
        return pool.outstanding();
    }
}
